//! Migration 13's index on `workflowrun (started_at)` replaced by one on `(started_at, id)`
//! (PostgreSQL only): the order everyone's run list pages in. A deep page of that list starts
//! from its UTC day and skips the rest of the day's runs (up to 55,000 at 5,000,000 runs); on the
//! old index each skipped run was fetched from the table to read its id and sort a day's ties,
//! on this one the skip is an index-only scan (bench/README.md, finding 37). Every query the old
//! index served (the latest hours with runs, windows over every run) reads this one's first
//! column as it read the old one.
//!
//! The build takes a lock that holds back writes to the runs for its length (about 3 s at
//! 5,000,000 runs on a 2-core machine); an operator with a larger table can build
//! `workflows_workflowrun_started_at_id_idx` `CONCURRENTLY` by hand first, which this migration
//! then keeps.

use crate::execute_on_postgres;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_on_postgres(
            manager,
            "CREATE INDEX IF NOT EXISTS workflows_workflowrun_started_at_id_idx \
                     ON workflows_workflowrun (started_at, id); \
                     DROP INDEX IF EXISTS workflows_workflowrun_started_at_idx",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_on_postgres(
            manager,
            "CREATE INDEX IF NOT EXISTS workflows_workflowrun_started_at_idx \
                     ON workflows_workflowrun (started_at); \
                     DROP INDEX IF EXISTS workflows_workflowrun_started_at_id_idx",
        )
        .await
    }
}
