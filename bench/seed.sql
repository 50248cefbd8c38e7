-- Seeds a migrated, empty PostgreSQL database for the benchmarks, deterministically:
--   psql "$URL" -v workflows=1000000 -v runs=5000000 -f bench/seed.sql
-- 1,000 users, 100 projects, 5 apps; each workflow a chain-with-skips DAG of 2 to 30 molecules
-- drawn from 500 molecule ids, each molecule with one or two atoms of its own (3,000 atom ids in
-- use: a-N for N < 4,000, all eight of an even molecule's and four of an odd one's, so the atom
-- scenarios pick 16k..16k+7; as on the canvas, where a molecule type has its set of atoms), through the real
-- triggers, so the atom index is kept as in production (the use rows of the list filters are
-- filled in one statement, as migration 17 fills them); runs spread over the last 90 days, 5 %
-- failed, 5 % cancelled, the rest success but for the last hour's, 10 % of which are pending or
-- running. The analytics rollups' triggers are
-- off during the bulk load and the rollups computed once at the end, as an operator would after
-- a bulk import (`SELECT workflows_analytics_rebuild()`).
\set ON_ERROR_STOP on
\timing on

INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
SELECT '', false, 'user' || u, '', '', '', false, true, now()
FROM generate_series(1, 1000) u;
INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
VALUES ('', true, 'bench-staff', '', '', '', true, true, now());

CREATE TEMP TABLE first_user AS SELECT min(id) AS id FROM accounts_user;

-- Secondary indexes are built once after the bulk load instead of row by row (the GIN indexes
-- above all): their definitions are kept as the migrations made them, dropped, and re-created
-- below from those same definitions.
CREATE TEMP TABLE seed_indexes AS
SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
WHERE t.relname IN ('workflows_workflow', 'workflows_workflowrun', 'workflows_workflowatom',
                    'workflows_workflowuse')
  AND NOT i.indisprimary AND NOT i.indisunique;
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT name FROM seed_indexes LOOP
        EXECUTE 'DROP INDEX ' || r.name;
    END LOOP;
END
$$;

ALTER TABLE workflows_workflow DISABLE TRIGGER workflows_usage_insert;
ALTER TABLE workflows_workflow DISABLE TRIGGER workflows_usage_update;
ALTER TABLE workflows_workflowrun DISABLE TRIGGER workflows_run_rollup_insert;
ALTER TABLE workflows_workflow DISABLE TRIGGER workflows_workflowuse_insert;

INSERT INTO workflows_workflow (project_id, project_name, name, slug, description, app_name,
    molecules_used, atoms_in_molecules, dag_spec, user_id, created_at, updated_at, is_active,
    version, execution_count, last_executed_at)
SELECT 1 + (i * 7) % 100,
       'Project ' || (1 + (i * 7) % 100),
       'Workflow ' || i || ' report',
       'workflow-' || i,
       CASE WHEN i % 3 = 0 THEN 'Nightly figures for team ' || (i % 50) END,
       (ARRAY['Trinity Analytics', 'Sales Console', 'Ops Board', 'Finance Hub', 'Lab'])[1 + i % 5],
       g.molecules, g.atoms, g.dag,
       (SELECT id FROM first_user) + (i * 13) % 1000,
       now() - make_interval(secs => (i * 37) % (180 * 86400)),
       now() - make_interval(secs => (i * 37) % (180 * 86400)),
       i % 10 <> 0, 1, 0, NULL
FROM generate_series(1, :workflows) i
CROSS JOIN LATERAL (SELECT 2 + ((i::bigint * 2654435761) % 29)::int AS n) size
CROSS JOIN LATERAL (
    SELECT jsonb_agg(to_jsonb(m) ORDER BY j) AS molecules,
           jsonb_object_agg(m, CASE WHEN (i + j) % 2 = 0
                THEN jsonb_build_array('a-' || (mi * 8 + (i + j) % 8), 'a-' || (mi * 8 + (i + j + 3) % 8))
                ELSE jsonb_build_array('a-' || (mi * 8 + (i + j) % 8)) END) AS atoms,
           jsonb_build_object(
               'nodes', jsonb_agg(jsonb_build_object('id', m, 'position',
                   jsonb_build_object('x', j * 180, 'y', (j % 3) * 80)) ORDER BY j),
               'edges', (SELECT coalesce(jsonb_agg(e), '[]'::jsonb) FROM (
                   SELECT jsonb_build_object('source', 'm-' || ((i * 31 + k * 17) % 500),
                                             'target', 'm-' || ((i * 31 + (k + 1) * 17) % 500)) AS e
                   FROM generate_series(1, size.n - 1) k
                   UNION ALL
                   SELECT jsonb_build_object('source', 'm-' || ((i * 31 + k * 17) % 500),
                                             'target', 'm-' || ((i * 31 + (k + 2) * 17) % 500))
                   FROM generate_series(1, size.n - 2) k WHERE k % 3 = 0) edges),
               'metadata', jsonb_build_object('zoom', 1)) AS dag
    FROM (SELECT j, (i * 31 + j * 17) % 500 AS mi, 'm-' || ((i * 31 + j * 17) % 500) AS m
          FROM generate_series(1, size.n) j) nodes
) g;

-- The list filters' use rows in one statement, as migration 17 fills them, instead of a trigger
-- call per workflow.
INSERT INTO workflows_workflowuse (workflow_id, kind, name, created_at)
SELECT u.* FROM workflows_workflow w
CROSS JOIN LATERAL workflows_workflowuse_rows(
    w.id, w.created_at, w.molecules_used, w.atoms_in_molecules) AS u;
ALTER TABLE workflows_workflow ENABLE TRIGGER workflows_workflowuse_insert;

CREATE TEMP TABLE workflow_ids AS
SELECT row_number() OVER (ORDER BY id) - 1 AS k, id FROM workflows_workflow;
CREATE UNIQUE INDEX ON workflow_ids (k);
ANALYZE workflow_ids;

INSERT INTO workflows_workflowrun (workflow_id, started_at, completed_at, status, error_message, result_data, workflow_version)
SELECT w.id,
       now() - make_interval(secs => t.age),
       CASE WHEN t.live THEN NULL
            ELSE now() - make_interval(secs => t.age) + make_interval(secs => 1 + r % 300) END,
       CASE WHEN r % 20 = 0 THEN 'failed' WHEN r % 20 = 1 THEN 'cancelled'
            WHEN t.live AND r % 20 = 2 THEN 'pending' WHEN t.live THEN 'running' ELSE 'success' END,
       CASE WHEN r % 20 = 0 THEN 'atom failed' END,
       '{}'::jsonb,
       1
FROM generate_series(1, :runs) r
-- Pending and running only among the last hour's runs, as a working system has them (its workers
-- finish or time out older ones): about 230 of 5,000,000 runs; older ones of those ids succeeded.
CROSS JOIN LATERAL (SELECT (r::bigint * 7919) % (90 * 86400) AS age) a
CROSS JOIN LATERAL (SELECT a.age, r % 20 IN (2, 3) AND a.age < 3600 AS live) t
JOIN workflow_ids w ON w.k = (r::bigint * 2654435761) % (SELECT count(*) FROM workflow_ids)
-- Run ids follow r, so the benchmarks know a run's status from its id (id % 20 of 4-19: success).
ORDER BY r;

UPDATE workflows_workflow w
SET execution_count = c.n, last_executed_at = c.last
FROM (SELECT workflow_id, count(*) AS n, max(started_at) AS last FROM workflows_workflowrun GROUP BY workflow_id) c
WHERE c.workflow_id = w.id;

SET maintenance_work_mem = '512MB';
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT definition FROM seed_indexes LOOP
        EXECUTE r.definition;
    END LOOP;
END
$$;

ALTER TABLE workflows_workflow ENABLE TRIGGER workflows_usage_insert;
ALTER TABLE workflows_workflow ENABLE TRIGGER workflows_usage_update;
ALTER TABLE workflows_workflowrun ENABLE TRIGGER workflows_run_rollup_insert;
SELECT workflows_analytics_rebuild();

VACUUM ANALYZE;
SELECT (SELECT count(*) FROM workflows_workflow) AS workflows,
       (SELECT count(*) FROM workflows_workflowrun) AS runs,
       (SELECT count(*) FROM workflows_workflowatom) AS atom_rows,
       (SELECT count(*) FROM workflows_workflowuse) AS use_rows;
