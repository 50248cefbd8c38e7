//! Atoms as HTTP endpoints: the worker POSTs the call as JSON and a 2xx JSON answer is the output.
//! A timeout, a connection error or a 5xx is worth retrying; a 4xx is not.

use crate::executor::{AtomCall, AtomError, AtomExecutor};
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

/// Where atoms live: explicit URLs per atom, else `{base_url}/{atom}`.
#[derive(Debug, Clone, Default)]
pub struct HttpAtoms {
    /// Base URL for atoms without their own, e.g. `http://atoms.internal:9000`.
    pub base_url: Option<String>,
    /// Atom name → URL.
    pub urls: HashMap<String, String>,
    /// How long one call may take…
    pub timeout: Duration,
    /// …unless the atom has a timeout of its own.
    pub timeouts: HashMap<String, Duration>,
}

/// Executes atoms over HTTP (plain `http://`; put a TLS-terminating proxy in front of HTTPS atoms).
pub struct HttpExecutor {
    atoms: HttpAtoms,
    client: reqwest::Client,
}

impl HttpExecutor {
    /// An executor for these atoms.
    pub fn new(atoms: HttpAtoms) -> Result<Self, reqwest::Error> {
        // Timeouts are set per call: each atom may have its own.
        let client = reqwest::Client::builder().build()?;
        Ok(Self { atoms, client })
    }

    fn url(&self, atom: &str) -> Option<String> {
        self.atoms.urls.get(atom).cloned().or_else(|| {
            self.atoms
                .base_url
                .as_ref()
                .map(|base| format!("{}/{atom}", base.trim_end_matches('/')))
        })
    }
}

#[async_trait::async_trait]
impl AtomExecutor for HttpExecutor {
    async fn execute(&self, call: &AtomCall) -> Result<Value, AtomError> {
        let Some(url) = self.url(&call.atom) else {
            return Err(AtomError::Fatal(format!(
                "no URL is configured for atom '{}'",
                call.atom
            )));
        };
        let timeout = self
            .atoms
            .timeouts
            .get(&call.atom)
            .copied()
            .unwrap_or(self.atoms.timeout);
        let response = self
            .client
            .post(&url)
            .timeout(timeout)
            .json(call)
            .send()
            .await
            .map_err(|e| {
                let kind = if e.is_timeout() {
                    "timed out"
                } else {
                    "could not be reached"
                };
                AtomError::Retryable(format!("{url} {kind}: {e}"))
            })?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| AtomError::Retryable(format!("{url} answer was cut short: {e}")))?;
        let excerpt = || String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        if status.is_server_error() {
            return Err(AtomError::Retryable(format!(
                "{url} answered {status}: {}",
                excerpt()
            )));
        }
        if !status.is_success() {
            return Err(AtomError::Fatal(format!(
                "{url} answered {status}: {}",
                excerpt()
            )));
        }
        if body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&body)
            .map_err(|e| AtomError::Fatal(format!("{url} answered non-JSON: {e}")))
    }
}
