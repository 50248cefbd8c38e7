//! Built-in atoms, for trying the service out and for tests, under the reserved `builtin.` prefix:
//!
//! - `builtin.echo`: answers `{"atom", "molecule_id", "inputs", "params"}`.
//! - `builtin.noop`: answers `null` at once.
//! - `builtin.sleep`: waits `params.sleep_ms` (default 100) milliseconds.
//! - `builtin.fail`: fails for good; with `params.fail_times: n` it fails retryably on the first
//!   `n` attempts and then succeeds.

use crate::executor::{AtomCall, AtomError, AtomExecutor};
use serde_json::{Value, json};
use std::time::Duration;

/// The prefix built-in atoms live under.
pub const BUILTIN_PREFIX: &str = "builtin.";

/// Executes the built-in atoms.
pub struct BuiltinExecutor;

#[async_trait::async_trait]
impl AtomExecutor for BuiltinExecutor {
    async fn execute(&self, call: &AtomCall) -> Result<Value, AtomError> {
        let param = |key: &str| call.params.get(key).and_then(Value::as_u64);
        match call.atom.strip_prefix(BUILTIN_PREFIX).unwrap_or("") {
            "echo" => Ok(json!({
                "atom": call.atom,
                "molecule_id": call.molecule_id,
                "inputs": call.inputs,
                "params": call.params,
            })),
            "noop" => Ok(Value::Null),
            "sleep" => {
                let ms = param("sleep_ms").unwrap_or(100);
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok(json!({"slept_ms": ms}))
            }
            "fail" => match param("fail_times") {
                Some(times) if u64::from(call.attempt) > times => {
                    Ok(json!({"succeeded_on_attempt": call.attempt}))
                }
                Some(_) => Err(AtomError::Retryable(format!(
                    "builtin.fail failed attempt {} on purpose",
                    call.attempt
                ))),
                None => Err(AtomError::Fatal(
                    "builtin.fail failed on purpose".to_owned(),
                )),
            },
            other => Err(AtomError::Fatal(format!(
                "there is no built-in atom '{BUILTIN_PREFIX}{other}'"
            ))),
        }
    }
}
