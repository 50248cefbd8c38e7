//! `workflows_runqueue`: the hot queue of pending runs, one narrow row each, apart from the wide run
//! rows and their JSON. Triggers keep it in step with `workflows_workflowrun.status` whoever writes
//! (this service, the old Django app, an orchestrator's PATCH): a run entering `pending` is queued,
//! a run leaving it is not. On PostgreSQL the trigger also sends `NOTIFY workflows_runs`, which
//! wakes idle workers at once.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const POSTGRES_UP: &str = r#"
CREATE TABLE workflows_runqueue (
    run_id bigint PRIMARY KEY REFERENCES workflows_workflowrun (id) ON DELETE CASCADE
);

CREATE OR REPLACE FUNCTION workflows_runqueue_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'pending' THEN
        INSERT INTO workflows_runqueue (run_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
        PERFORM pg_notify('workflows_runs', '');
    ELSIF TG_OP = 'UPDATE' AND OLD.status = 'pending' THEN
        DELETE FROM workflows_runqueue WHERE run_id = NEW.id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER workflows_runqueue_insert AFTER INSERT ON workflows_workflowrun
    FOR EACH ROW EXECUTE FUNCTION workflows_runqueue_sync();
CREATE TRIGGER workflows_runqueue_update AFTER UPDATE OF status ON workflows_workflowrun
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION workflows_runqueue_sync();

INSERT INTO workflows_runqueue (run_id)
    SELECT id FROM workflows_workflowrun WHERE status = 'pending' ON CONFLICT DO NOTHING;
"#;

const POSTGRES_DOWN: &str = r#"
DROP TRIGGER IF EXISTS workflows_runqueue_insert ON workflows_workflowrun;
DROP TRIGGER IF EXISTS workflows_runqueue_update ON workflows_workflowrun;
DROP FUNCTION IF EXISTS workflows_runqueue_sync();
DROP TABLE IF EXISTS workflows_runqueue;
"#;

const SQLITE_UP: &str = r#"
CREATE TABLE workflows_runqueue (
    run_id integer PRIMARY KEY REFERENCES workflows_workflowrun (id) ON DELETE CASCADE
);
CREATE TRIGGER workflows_runqueue_insert AFTER INSERT ON workflows_workflowrun
    WHEN NEW.status = 'pending'
    BEGIN INSERT OR IGNORE INTO workflows_runqueue (run_id) VALUES (NEW.id); END;
CREATE TRIGGER workflows_runqueue_update AFTER UPDATE OF status ON workflows_workflowrun
    WHEN OLD.status IS NOT NEW.status
    BEGIN
        DELETE FROM workflows_runqueue WHERE run_id = NEW.id AND NEW.status IS NOT 'pending';
        INSERT OR IGNORE INTO workflows_runqueue (run_id) SELECT NEW.id WHERE NEW.status = 'pending';
    END;
INSERT OR IGNORE INTO workflows_runqueue (run_id)
    SELECT id FROM workflows_workflowrun WHERE status = 'pending';
"#;

const SQLITE_DOWN: &str = r#"
DROP TRIGGER IF EXISTS workflows_runqueue_insert;
DROP TRIGGER IF EXISTS workflows_runqueue_update;
DROP TABLE IF EXISTS workflows_runqueue;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = match manager.get_database_backend() {
            DbBackend::Postgres => POSTGRES_UP,
            _ => SQLITE_UP,
        };
        manager
            .get_connection()
            .execute_unprepared(sql)
            .await
            .map(drop)
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = match manager.get_database_backend() {
            DbBackend::Postgres => POSTGRES_DOWN,
            _ => SQLITE_DOWN,
        };
        manager
            .get_connection()
            .execute_unprepared(sql)
            .await
            .map(drop)
    }
}
