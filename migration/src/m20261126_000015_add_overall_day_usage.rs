//! Daily usage over all projects and apps (PostgreSQL only), so that ranking molecules, atoms and
//! pairs over a window of everything reads one row per day and key instead of one per day, key,
//! project and app. At 1,000,000 workflows thirty days of pairs were 1.2 million counter rows and
//! 1.6 s to sum; the same days here are 90,000 rows (bench/README.md, finding 10).
//!
//! `workflows_usage_day_molecule_overall`, `…_atom_overall`, `…_pair_overall` hold, per UTC day and
//! key, the sums of migration 14's day counters. Statement-level triggers on those counters record
//! every statement's net change per day and key (the usage triggers, the fold, the rebuild: none
//! needed restating) in `…_overall_pending`, in the same transaction; `workflows_usage_overall_fold()`
//! moves them into the sums, called with the usage fold, and reads add what is still pending.
//! Appending rather than adding in place matters: every workflow created today touches today's
//! rows of its atoms, whatever its project, and adding in place made concurrent creates wait on
//! one another (23 creates/s under pgbench at 32 connections). A truncated counter table
//! truncates its sums and pending changes. Each counter table also gets an index led by its key,
//! so that the projects of the few keys a ranking keeps are counted without reading the window's
//! other rows.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The day counter tables of migration 14 and their keys.
const COUNTERS: [(&str, &str); 3] = [
    ("workflows_usage_day_molecule", "molecule"),
    ("workflows_usage_day_atom", "atom"),
    ("workflows_usage_day_pair", "molecule, atom"),
];

/// The sums table of one counter table, its pending changes, their triggers and the key-led
/// index, filled from the counters as they stand.
fn up(counter: &str, keys: &str) -> String {
    let columns: String = keys
        .split(", ")
        .map(|key| format!("{key} text NOT NULL, "))
        .collect();
    let change = |rows: &str| {
        format!(
            "INSERT INTO {counter}_overall_pending (day, {keys}, workflows, executions) \
             SELECT day, {keys}, SUM(workflows), SUM(executions) FROM ({rows}) d \
             GROUP BY day, {keys} HAVING SUM(workflows) <> 0 OR SUM(executions) <> 0;"
        )
    };
    let inserted = format!("SELECT day, {keys}, workflows, executions FROM new_rows");
    let deleted = format!("SELECT day, {keys}, -workflows, -executions FROM old_rows");
    format!(
        r#"
CREATE TABLE {counter}_overall (
    day date NOT NULL,
    {columns}
    workflows bigint NOT NULL DEFAULT 0,
    executions bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, {keys})
);
INSERT INTO {counter}_overall (day, {keys}, workflows, executions)
SELECT day, {keys}, SUM(workflows), SUM(executions) FROM {counter}
GROUP BY day, {keys} ORDER BY day, {keys};

-- Changes not yet folded into the sums: appended, never updated, so concurrent writers of the
-- same day and key do not wait on one another.
CREATE TABLE {counter}_overall_pending (
    day date NOT NULL,
    {columns}
    workflows bigint NOT NULL,
    executions bigint NOT NULL
);
CREATE INDEX {counter}_overall_pending_day ON {counter}_overall_pending (day);

-- The statement's rows as a change: inserted rows add, deleted rows take away, an update both.
CREATE FUNCTION {counter}_overall_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {on_insert}
    ELSIF TG_OP = 'UPDATE' THEN
        {on_update}
    ELSE
        {on_delete}
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER {counter}_overall_insert AFTER INSERT ON {counter}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {counter}_overall_add();
CREATE TRIGGER {counter}_overall_update AFTER UPDATE ON {counter}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {counter}_overall_add();
CREATE TRIGGER {counter}_overall_delete AFTER DELETE ON {counter}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {counter}_overall_add();

CREATE FUNCTION {counter}_overall_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE {counter}_overall, {counter}_overall_pending;
    RETURN NULL;
END
$$;
CREATE TRIGGER {counter}_overall_truncate AFTER TRUNCATE ON {counter}
    FOR EACH STATEMENT EXECUTE FUNCTION {counter}_overall_truncate();

CREATE INDEX {counter}_by_key ON {counter} ({keys}, day);
"#,
        on_insert = change(&inserted),
        on_update = change(&format!("{inserted} UNION ALL {deleted}")),
        on_delete = change(&deleted),
    )
}

/// `workflows_usage_overall_fold()`: moves every counter table's pending changes into its sums,
/// all in one statement; answers how many pending rows moved.
fn fold() -> String {
    let moves: Vec<String> = COUNTERS
        .iter()
        .enumerate()
        .map(|(i, (counter, keys))| {
            format!(
                "moved_{i} AS (DELETE FROM {counter}_overall_pending RETURNING *), \
                 added_{i} AS (INSERT INTO {counter}_overall AS o (day, {keys}, workflows, executions) \
                 SELECT day, {keys}, SUM(workflows), SUM(executions) FROM moved_{i} \
                 GROUP BY day, {keys} ORDER BY day, {keys} \
                 ON CONFLICT (day, {keys}) DO UPDATE SET workflows = o.workflows + EXCLUDED.workflows, \
                 executions = o.executions + EXCLUDED.executions)"
            )
        })
        .collect();
    let counted: Vec<String> = (0..COUNTERS.len())
        .map(|i| format!("(SELECT COUNT(*) FROM moved_{i})"))
        .collect();
    format!(
        "CREATE FUNCTION workflows_usage_overall_fold() RETURNS bigint LANGUAGE sql AS $$ \
         WITH {} SELECT {} $$",
        moves.join(", "),
        counted.join(" + ")
    )
}

fn down(counter: &str) -> String {
    format!(
        r#"
DROP INDEX {counter}_by_key;
DROP TRIGGER {counter}_overall_truncate ON {counter};
DROP FUNCTION {counter}_overall_truncate();
DROP TRIGGER {counter}_overall_insert ON {counter};
DROP TRIGGER {counter}_overall_update ON {counter};
DROP TRIGGER {counter}_overall_delete ON {counter};
DROP FUNCTION {counter}_overall_add();
DROP TABLE {counter}_overall_pending;
DROP TABLE {counter}_overall;
"#
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            let db = manager.get_connection();
            for (counter, keys) in COUNTERS {
                db.execute_unprepared(&up(counter, keys)).await?;
            }
            db.execute_unprepared(&fold()).await?;
            db.execute_unprepared(&format!(
                "ANALYZE {}",
                COUNTERS
                    .iter()
                    .map(|(counter, _)| format!("{counter}_overall"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            let db = manager.get_connection();
            db.execute_unprepared("DROP FUNCTION workflows_usage_overall_fold()")
                .await?;
            for (counter, _) in COUNTERS {
                db.execute_unprepared(&down(counter)).await?;
            }
        }
        Ok(())
    }
}
