-- The statements the service sends for this scenario (from PostgreSQL's log_statement=all),
-- with the parameters drawn as bench/wrk/scenario.lua draws them. Run by bench/src/http.rs.
\set project random(1, 100)
SELECT u.molecule, COUNT(*) AS workflows, COUNT(DISTINCT u.project_id) AS projects, SUM(u.executions) AS executions FROM (SELECT DISTINCT w.id, w.project_id, COALESCE(w.execution_count, 0) AS executions, j.elem #>> '{}' AS molecule FROM workflows_workflow w CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(w.molecules_used) = 'array' THEN w.molecules_used ELSE '[]'::jsonb END) AS j(elem) WHERE jsonb_typeof(j.elem) = 'string' AND w.project_id = :project) u GROUP BY u.molecule ORDER BY workflows DESC, executions DESC, u.molecule LIMIT 10;
