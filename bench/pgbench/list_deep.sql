-- The statements the service sends for this scenario (from PostgreSQL's log_statement=all),
-- with the parameters drawn as bench/wrk/scenario.lua draws them. Run by bench/src/http.rs.
-- A page in the second half is found from the end (crates/workflows-store/src/paging.rs, Window),
-- unless it lies 500 or more from both ends (DAY_ANCHORED_FROM): then the service starts it from
-- its day (crates/workflows-store/src/day_pages.rs), which only happens at 1,000,000 workflows,
-- where a project holds 10,000.
\set project random(1, 100)
\set total :workflows / 100
\set last_page greatest(1, :total / 20)
\set page random(greatest(1, :last_page / 2), :last_page)
\set before (:page - 1) * 20
\set after greatest(0, :total - :before - 20)
\set take least(20, :total - :before)
SELECT CAST(COALESCE(SUM(workflows), 0) AS bigint) AS "n" FROM "workflows_usage_total" WHERE "project_id" = :project;
\if :after >= 500 and :before >= 500
WITH days AS (SELECT day, SUM(workflows) AS n FROM workflows_usage_day_total WHERE project_id = :project GROUP BY day) SELECT CAST(day + 1 AS timestamp) AT TIME ZONE 'UTC' AS bound, CAST(before AS bigint) AS before FROM (SELECT day, SUM(n) OVER (ORDER BY day DESC) - n AS before FROM days) AS walked WHERE before <= :before ORDER BY day ASC LIMIT 1 \gset day_
\set day_skip :before - :day_before
SELECT "workflows_workflow"."id", "workflows_workflow"."user_id", "workflows_workflow"."project_id", "workflows_workflow"."project_name", "workflows_workflow"."name", "workflows_workflow"."slug", "workflows_workflow"."description", "workflows_workflow"."app_name", "workflows_workflow"."is_active", "workflows_workflow"."created_at", "workflows_workflow"."updated_at", "workflows_workflow"."version", "workflows_workflow"."execution_count", "workflows_workflow"."last_executed_at", "workflows_workflow"."molecules_used_text" AS "molecules_used", "workflows_workflow"."atoms_in_molecules_text" AS "atoms_in_molecules", "workflows_workflow"."dag_spec_text" AS "dag_spec" FROM "workflows_workflow" WHERE "workflows_workflow"."id" IN (SELECT "workflows_workflow"."id" FROM "workflows_workflow" WHERE "workflows_workflow"."project_id" = :project AND "workflows_workflow"."created_at" < :day_bound ORDER BY "workflows_workflow"."created_at" DESC NULLS LAST, "workflows_workflow"."id" DESC LIMIT :take OFFSET :day_skip) ORDER BY "workflows_workflow"."created_at" DESC NULLS LAST, "workflows_workflow"."id" DESC;
\elif :after < :before
SELECT "workflows_workflow"."id", "workflows_workflow"."user_id", "workflows_workflow"."project_id", "workflows_workflow"."project_name", "workflows_workflow"."name", "workflows_workflow"."slug", "workflows_workflow"."description", "workflows_workflow"."app_name", "workflows_workflow"."is_active", "workflows_workflow"."created_at", "workflows_workflow"."updated_at", "workflows_workflow"."version", "workflows_workflow"."execution_count", "workflows_workflow"."last_executed_at", "workflows_workflow"."molecules_used_text" AS "molecules_used", "workflows_workflow"."atoms_in_molecules_text" AS "atoms_in_molecules", "workflows_workflow"."dag_spec_text" AS "dag_spec" FROM "workflows_workflow" WHERE "workflows_workflow"."id" IN (SELECT "workflows_workflow"."id" FROM "workflows_workflow" WHERE "workflows_workflow"."project_id" = :project ORDER BY "workflows_workflow"."created_at" ASC NULLS FIRST, "workflows_workflow"."id" ASC LIMIT :take OFFSET :after) ORDER BY "workflows_workflow"."created_at" DESC NULLS LAST, "workflows_workflow"."id" DESC;
\else
SELECT "workflows_workflow"."id", "workflows_workflow"."user_id", "workflows_workflow"."project_id", "workflows_workflow"."project_name", "workflows_workflow"."name", "workflows_workflow"."slug", "workflows_workflow"."description", "workflows_workflow"."app_name", "workflows_workflow"."is_active", "workflows_workflow"."created_at", "workflows_workflow"."updated_at", "workflows_workflow"."version", "workflows_workflow"."execution_count", "workflows_workflow"."last_executed_at", "workflows_workflow"."molecules_used_text" AS "molecules_used", "workflows_workflow"."atoms_in_molecules_text" AS "atoms_in_molecules", "workflows_workflow"."dag_spec_text" AS "dag_spec" FROM "workflows_workflow" WHERE "workflows_workflow"."id" IN (SELECT "workflows_workflow"."id" FROM "workflows_workflow" WHERE "workflows_workflow"."project_id" = :project ORDER BY "workflows_workflow"."created_at" DESC NULLS LAST, "workflows_workflow"."id" DESC LIMIT 20 OFFSET :before) ORDER BY "workflows_workflow"."created_at" DESC NULLS LAST, "workflows_workflow"."id" DESC;
\endif
