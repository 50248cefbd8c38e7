//! The HTTP contract, through the real actix app, on SQLite and PostgreSQL.

mod authorization;
mod client;
mod conventions;
mod lists;
mod runs;
mod versions;
mod workflows;
