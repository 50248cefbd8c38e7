-- The statements the service sends for this scenario (from PostgreSQL's log_statement=all),
-- with the parameters drawn as bench/wrk/scenario.lua draws them. Run by bench/src/http.rs.
\set project random(1, 100)
SELECT u.molecule, SUM(u.workflows)::bigint AS workflows, COUNT(DISTINCT u.project_id) AS projects, SUM(u.executions)::bigint AS executions FROM workflows_usage_molecule u WHERE u.workflows > 0 AND u.project_id = :project GROUP BY u.molecule ORDER BY workflows DESC, executions DESC, u.molecule LIMIT 10;
