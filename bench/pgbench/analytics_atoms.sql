-- The statements the service sends for this scenario (from PostgreSQL's log_statement=all),
-- with the parameters drawn as bench/wrk/scenario.lua draws them. Run by bench/src/http.rs.
\set project random(1, 100)
SELECT u.atom, COUNT(*) AS workflows, COUNT(DISTINCT u.project_id) AS projects, SUM(u.executions) AS executions FROM (SELECT DISTINCT w.id, w.project_id, COALESCE(w.execution_count, 0) AS executions, a.atom FROM workflows_workflowatom a JOIN workflows_workflow w ON w.id = a.workflow_id WHERE 1 = 1 AND w.project_id = :project) u GROUP BY u.atom ORDER BY workflows DESC, executions DESC, u.atom LIMIT 10;
SELECT a.molecule, a.atom, COUNT(*) AS workflows, COUNT(DISTINCT w.project_id) AS projects, SUM(COALESCE(w.execution_count, 0)) AS executions FROM workflows_workflowatom a JOIN workflows_workflow w ON w.id = a.workflow_id WHERE 1 = 1 AND w.project_id = :project GROUP BY a.molecule, a.atom ORDER BY workflows DESC, executions DESC, a.molecule, a.atom LIMIT 10;
