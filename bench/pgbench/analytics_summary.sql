-- The statements the service sends for this scenario (from PostgreSQL's log_statement=all),
-- with the parameters drawn as bench/wrk/scenario.lua draws them. Run by bench/src/http.rs.
\set project random(1, 100)
SELECT COUNT(*) AS total, SUM(CASE WHEN COALESCE(w.is_active, TRUE) THEN 1 ELSE 0 END) AS active, SUM(COALESCE(w.execution_count, 0)) AS executions FROM workflows_workflow w WHERE 1 = 1 AND w.project_id = :project;
SELECT COALESCE(r.status, 'pending') AS status, COUNT(*) AS n FROM workflows_workflowrun r JOIN workflows_workflow w ON w.id = r.workflow_id WHERE 1 = 1 AND w.project_id = :project GROUP BY COALESCE(r.status, 'pending');
SELECT w.id, w.name, w.slug, w.project_id, w.app_name, COALESCE(w.execution_count, 0) AS execution_count FROM workflows_workflow w WHERE COALESCE(w.execution_count, 0) > 0 AND w.project_id = :project ORDER BY COALESCE(w.execution_count, 0) DESC, w.id LIMIT 10;
SELECT COUNT(*) AS n, AVG(d) AS mean, percentile_disc(0.5) WITHIN GROUP (ORDER BY d) AS p50, percentile_disc(0.95) WITHIN GROUP (ORDER BY d) AS p95 FROM (SELECT EXTRACT(EPOCH FROM (r.completed_at - r.started_at))::float8 AS d FROM workflows_workflowrun r JOIN workflows_workflow w ON w.id = r.workflow_id WHERE r.completed_at IS NOT NULL AND w.project_id = :project) finished;
