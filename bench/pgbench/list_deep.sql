-- The statements the service sends for this scenario (from PostgreSQL's log_statement=all),
-- with the parameters drawn as bench/wrk/scenario.lua draws them. Run by bench/src/http.rs.
-- A page in the second half is found from the end (crates/workflows-store/src/paging.rs, Window);
-- a project holds workflows / 100 of them, so no page is 5,000 from both ends, where the service
-- would start it from its day instead (crates/workflows-store/src/day_pages.rs).
\set project random(1, 100)
\set total :workflows / 100
\set last_page greatest(1, :total / 20)
\set page random(greatest(1, :last_page / 2), :last_page)
\set before (:page - 1) * 20
\set after greatest(0, :total - :before - 20)
\set take least(20, :total - :before)
SELECT CAST(COALESCE(SUM(workflows), 0) AS bigint) AS "n" FROM "workflows_usage_total" WHERE "project_id" = :project;
\if :after < :before
SELECT "workflows_workflow"."id", "workflows_workflow"."user_id", "workflows_workflow"."project_id", "workflows_workflow"."project_name", "workflows_workflow"."name", "workflows_workflow"."slug", "workflows_workflow"."description", "workflows_workflow"."app_name", "workflows_workflow"."is_active", "workflows_workflow"."created_at", "workflows_workflow"."updated_at", "workflows_workflow"."version", "workflows_workflow"."execution_count", "workflows_workflow"."last_executed_at", "workflows_workflow"."molecules_used_text" AS "molecules_used", "workflows_workflow"."atoms_in_molecules_text" AS "atoms_in_molecules", "workflows_workflow"."dag_spec_text" AS "dag_spec" FROM "workflows_workflow" WHERE "workflows_workflow"."id" IN (SELECT "workflows_workflow"."id" FROM "workflows_workflow" WHERE "workflows_workflow"."project_id" = :project ORDER BY "workflows_workflow"."created_at" ASC NULLS FIRST, "workflows_workflow"."id" ASC LIMIT :take OFFSET :after) ORDER BY "workflows_workflow"."created_at" DESC NULLS LAST, "workflows_workflow"."id" DESC;
\else
SELECT "workflows_workflow"."id", "workflows_workflow"."user_id", "workflows_workflow"."project_id", "workflows_workflow"."project_name", "workflows_workflow"."name", "workflows_workflow"."slug", "workflows_workflow"."description", "workflows_workflow"."app_name", "workflows_workflow"."is_active", "workflows_workflow"."created_at", "workflows_workflow"."updated_at", "workflows_workflow"."version", "workflows_workflow"."execution_count", "workflows_workflow"."last_executed_at", "workflows_workflow"."molecules_used_text" AS "molecules_used", "workflows_workflow"."atoms_in_molecules_text" AS "atoms_in_molecules", "workflows_workflow"."dag_spec_text" AS "dag_spec" FROM "workflows_workflow" WHERE "workflows_workflow"."id" IN (SELECT "workflows_workflow"."id" FROM "workflows_workflow" WHERE "workflows_workflow"."project_id" = :project ORDER BY "workflows_workflow"."created_at" DESC NULLS LAST, "workflows_workflow"."id" DESC LIMIT 20 OFFSET :before) ORDER BY "workflows_workflow"."created_at" DESC NULLS LAST, "workflows_workflow"."id" DESC;
\endif
