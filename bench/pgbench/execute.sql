-- The statements the service sends for this scenario (from PostgreSQL's log_statement=all),
-- with the parameters drawn as bench/wrk/scenario.lua draws them. Run by bench/src/http.rs.
\set id 10 * random(0, :workflows / 10 - 1) + random(1, 9)
BEGIN;
UPDATE "workflows_workflow" SET "execution_count" = COALESCE("workflows_workflow"."execution_count", 0) + 1, "last_executed_at" = now() WHERE "workflows_workflow"."id" = :id AND COALESCE("workflows_workflow"."is_active", TRUE) = TRUE RETURNING "id", "project_id", "project_name", "name", "slug", "description", "app_name", "molecules_used", "atoms_in_molecules", "dag_spec", "user_id", "created_at", "updated_at", "is_active", "version", "execution_count", "last_executed_at" \gset
INSERT INTO "workflows_workflowrun" ("workflow_id", "started_at", "completed_at", "status", "error_message", "result_data", "inputs", "plan", "lease_owner", "lease_expires_at", "claims", "workflow_version") VALUES (:id, now(), NULL, 'pending', NULL, '{}', NULL, jsonb_build_object('molecules_used', CAST(:molecules_used AS jsonb), 'atoms_in_molecules', CAST(:atoms_in_molecules AS jsonb), 'dag_spec', CAST(:dag_spec AS jsonb)), NULL, NULL, 0, :version) RETURNING "id", "workflow_id", "started_at", "completed_at", "status", "error_message", "result_data", "inputs", "plan", "lease_owner", "lease_expires_at", "claims", "workflow_version";
COMMIT;
