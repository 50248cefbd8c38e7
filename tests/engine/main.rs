//! The run engine, on SQLite and PostgreSQL.

mod harness;
mod http_atoms;
mod retention;
mod runs;
