//! Store stories, each run on SQLite and on PostgreSQL.

mod accounts;
mod analytics;
mod connections;
mod executions;
mod fixtures;
mod ownership;
mod retention;
mod runs;
mod schema;
mod workflows;
