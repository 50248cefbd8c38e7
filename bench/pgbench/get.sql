-- The statements the service sends for this scenario (from PostgreSQL's log_statement=all),
-- with the parameters drawn as bench/wrk/scenario.lua draws them. Run by bench/src/http.rs.
\set id random(1, :workflows)
SELECT id, user_id, project_id, project_name, name, slug, description, app_name, is_active, created_at, updated_at, version, execution_count, last_executed_at, molecules_used_text, atoms_in_molecules_text, dag_spec_text FROM workflows_workflow WHERE id = :id;
