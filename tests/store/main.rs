//! Store stories, each run on SQLite and on PostgreSQL.

mod accounts;
mod executions;
mod fixtures;
mod ownership;
mod runs;
mod schema;
mod workflows;
