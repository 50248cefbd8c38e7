//! Run statuses and the one rule for moving between them.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The status of a workflow run.
///
/// `completed`/`success` and `failed`/`failure` are distinct values kept as written, for clients of
/// the older task-run API. The last five are terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Created, waiting for a worker.
    Pending,
    /// A worker is executing it.
    Running,
    /// Finished well (older spelling of `success`).
    Completed,
    /// Finished well.
    Success,
    /// Finished badly.
    Failed,
    /// Finished badly (older spelling of `failed`).
    Failure,
    /// Stopped on request.
    Cancelled,
}

/// A refused status move; its message names both statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot move a run from '{from}' to '{to}'")]
pub struct InvalidMove {
    /// The status the run has.
    pub from: RunStatus,
    /// The status that was asked for.
    pub to: RunStatus,
}

impl InvalidMove {
    /// The statuses the run could have moved to instead.
    pub fn allowed(&self) -> Vec<RunStatus> {
        self.from.allowed_moves()
    }
}

/// A status name that is not one of [`RunStatus::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not a valid choice.")]
pub struct UnknownStatus(pub String);

impl RunStatus {
    /// Every status, in the order they are documented.
    pub const ALL: [RunStatus; 7] = [
        RunStatus::Pending,
        RunStatus::Running,
        RunStatus::Completed,
        RunStatus::Success,
        RunStatus::Failed,
        RunStatus::Failure,
        RunStatus::Cancelled,
    ];

    /// The lower-case name used on the wire and in the `status` column.
    pub const fn as_str(self) -> &'static str {
        match self {
            RunStatus::Pending => "pending",
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Success => "success",
            RunStatus::Failed => "failed",
            RunStatus::Failure => "failure",
            RunStatus::Cancelled => "cancelled",
        }
    }

    /// Whether the run is over: nothing moves it any more except a no-op to itself.
    pub const fn is_terminal(self) -> bool {
        !matches!(self, RunStatus::Pending | RunStatus::Running)
    }

    /// The move rule of the contract: `pending` → `running` or any terminal status; `running` → any
    /// terminal status or back to `pending`; and every status → itself, which changes nothing.
    ///
    /// ```
    /// use workflows_domain::RunStatus::*;
    /// assert!(Pending.can_move_to(Running));
    /// assert!(Running.can_move_to(Pending));
    /// assert!(Success.can_move_to(Success));
    /// assert!(!Success.can_move_to(Running));
    /// ```
    pub const fn can_move_to(self, to: RunStatus) -> bool {
        if self as u8 == to as u8 {
            return true;
        }
        // Only the two live statuses move anywhere else.
        !self.is_terminal()
    }

    /// [`RunStatus::can_move_to`] as a `Result`, for `?`.
    pub fn check_move(self, to: RunStatus) -> Result<(), InvalidMove> {
        if self.can_move_to(to) {
            Ok(())
        } else {
            Err(InvalidMove { from: self, to })
        }
    }

    /// Every status this one may move to, itself included.
    pub fn allowed_moves(self) -> Vec<RunStatus> {
        Self::ALL
            .into_iter()
            .filter(|to| self.can_move_to(*to))
            .collect()
    }
}

/// The published state machine: every status, which are terminal, and where each may move, as
/// data (from the same rule the server enforces).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateMachine {
    /// Every status.
    pub statuses: Vec<RunStatus>,
    /// The terminal ones.
    pub terminal: Vec<RunStatus>,
    /// For each status, the statuses it may move to (itself included, as a no-op).
    pub moves: std::collections::BTreeMap<RunStatus, Vec<RunStatus>>,
}

impl StateMachine {
    /// The machine [`RunStatus::can_move_to`] defines.
    pub fn published() -> Self {
        Self {
            statuses: RunStatus::ALL.to_vec(),
            terminal: RunStatus::ALL
                .into_iter()
                .filter(|s| s.is_terminal())
                .collect(),
            moves: RunStatus::ALL
                .into_iter()
                .map(|s| (s, s.allowed_moves()))
                .collect(),
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RunStatus {
    type Err = UnknownStatus;

    /// Case-sensitive, as the contract asks.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::RunStatus::*;
    use super::*;

    #[test]
    fn terminal_statuses_are_the_last_five() {
        let terminal: Vec<_> = RunStatus::ALL
            .into_iter()
            .filter(|s| s.is_terminal())
            .collect();
        assert_eq!(
            terminal,
            vec![Completed, Success, Failed, Failure, Cancelled]
        );
    }

    #[test]
    fn pending_moves_to_running_or_any_terminal() {
        for to in RunStatus::ALL {
            assert!(Pending.can_move_to(to), "pending -> {to}");
        }
    }

    #[test]
    fn running_moves_back_to_pending_or_forward() {
        for to in RunStatus::ALL {
            assert!(Running.can_move_to(to), "running -> {to}");
        }
    }

    #[test]
    fn terminal_statuses_only_stay_put() {
        for from in RunStatus::ALL.into_iter().filter(|s| s.is_terminal()) {
            assert_eq!(from.allowed_moves(), vec![from]);
            let err = from.check_move(Pending).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("cannot move a run from '{from}' to 'pending'")
            );
        }
    }

    #[test]
    fn names_round_trip_and_are_case_sensitive() {
        for status in RunStatus::ALL {
            assert_eq!(status.as_str().parse::<RunStatus>(), Ok(status));
            assert_eq!(
                serde_json::to_value(status).ok(),
                Some(serde_json::json!(status.as_str()))
            );
        }
        assert!("Running".parse::<RunStatus>().is_err());
        assert!("done".parse::<RunStatus>().is_err());
    }
}
