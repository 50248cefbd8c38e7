//! The HTTP contract, through the real actix app, on SQLite and PostgreSQL.

mod admin;
mod analytics;
mod authorization;
mod client;
mod concurrency;
mod conventions;
mod hostile;
mod lists;
mod runs;
mod versions;
mod workflows;
