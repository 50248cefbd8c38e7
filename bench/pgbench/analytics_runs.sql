-- The statements the service sends for this scenario (from PostgreSQL's log_statement=all),
-- with the parameters drawn as bench/wrk/scenario.lua draws them. Run by bench/src/http.rs.
-- pgbench reads :name as a variable even inside a literal, so the colons of the format are chr(58).
\set project random(1, 100)
WITH runs_in AS (SELECT to_char(date_trunc('day', r.started_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD"T"HH24' || chr(58) || 'MI' || chr(58) || 'SS"+00' || chr(58) || '00"') AS bucket, COALESCE(r.status, 'pending') AS status FROM workflows_workflowrun r JOIN workflows_workflow w ON w.id = r.workflow_id WHERE 1 = 1 AND w.project_id = :project), recent AS (SELECT DISTINCT bucket FROM runs_in ORDER BY bucket DESC LIMIT 30) SELECT bucket, status, COUNT(*) AS n FROM runs_in WHERE bucket IN (SELECT bucket FROM recent) GROUP BY bucket, status ORDER BY bucket;
