//! The HTTP API and command line of the workflows service: a thin layer that parses requests,
//! calls one store function, and maps the answer.

pub mod admin;
pub mod auth;
pub mod body;
pub mod cli;
pub mod engine;
pub mod error;
pub mod metrics;
pub mod openapi;
pub mod query;
pub mod request_id;
pub mod routes;
pub mod schema;
pub mod session;
pub mod settings;
pub mod sliced;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod trailing_slash;
pub mod usage_fold;
