//! SeaORM entities of the tables; crate-private, so nothing outside speaks rows.

pub(crate) mod api_token;
pub(crate) mod idempotency_key;
pub(crate) mod run;
pub(crate) mod user;
pub(crate) mod workflow;
pub(crate) mod workflow_version;
