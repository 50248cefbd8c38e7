//! Workflow runs: their state, the changes a client may make, and `execute`'s request and answer.

use crate::errors::ValidationErrors;
use crate::fields::{BodyReader, Field, contains_nul, expect_object, json_type_name};
use crate::ids::{RunId, WorkflowId};
use crate::status::{InvalidMove, RunStatus};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};
use serde_json::{Map, Value};

/// One execution of a workflow.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowRun {
    /// Its id.
    pub id: RunId,
    /// The workflow it runs.
    pub workflow_id: WorkflowId,
    /// Where it stands.
    pub status: RunStatus,
    /// When it was created.
    pub started_at: DateTime<Utc>,
    /// When it entered a terminal status.
    pub completed_at: Option<DateTime<Utc>>,
    /// Why it failed, if it did.
    pub error_message: Option<String>,
    /// What it produced (an object).
    pub result_data: Value,
    /// The `inputs` given to `execute`, if any.
    pub inputs: Option<Value>,
    /// The workflow's version when `execute` made the run: the revision the run executes (none for
    /// runs the old Django app made).
    pub workflow_version: Option<i32>,
}

/// The name the original Django app used for runs, kept for code written against it.
pub type WorkflowExecution = WorkflowRun;

/// Why a run change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunChangeError {
    /// The status move is not allowed.
    #[error(transparent)]
    InvalidMove(#[from] InvalidMove),
    /// `completed_at` would come before the run's `started_at`: the change conflicts with when the
    /// run started, which the caller may not know.
    #[error("completed_at cannot be before the run's started_at ({started_at}).")]
    CompletedBeforeStart {
        /// When the run started.
        started_at: DateTime<Utc>,
    },
}

/// A cancel of a run that has already finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("run is already '{0}' and cannot be cancelled")]
pub struct AlreadyFinished(pub RunStatus);

impl WorkflowRun {
    /// `completed_at - started_at` in seconds, or none while either is missing.
    pub fn duration_seconds(&self) -> Option<f64> {
        let completed = self.completed_at?;
        let micros = (completed - self.started_at).num_microseconds()?;
        Some(micros as f64 / 1_000_000.0)
    }

    /// The run after `changes`, or why not. Entering a terminal status sets `completed_at` to
    /// `now` unless the changes give one; a run cannot complete before it started.
    pub fn apply(
        &self,
        changes: &RunChanges,
        now: DateTime<Utc>,
    ) -> Result<WorkflowRun, RunChangeError> {
        let mut next = self.clone();
        if let Some(to) = changes.status {
            self.status.check_move(to)?;
            next.status = to;
            if to.is_terminal() && !self.status.is_terminal() {
                next.completed_at = Some(now);
            }
        }
        if let Some(completed_at) = changes.completed_at {
            next.completed_at = completed_at;
        }
        if let Some(result_data) = &changes.result_data {
            next.result_data = Value::Object(result_data.clone());
        }
        if let Some(error_message) = &changes.error_message {
            next.error_message = error_message.clone();
        }
        if next.completed_at.is_some_and(|done| done < next.started_at) {
            return Err(RunChangeError::CompletedBeforeStart {
                started_at: next.started_at,
            });
        }
        Ok(next)
    }

    /// The run, cancelled now; a run already in a terminal status (`cancelled` included) refuses.
    pub fn cancel(&self, now: DateTime<Utc>) -> Result<WorkflowRun, AlreadyFinished> {
        if self.status.is_terminal() {
            return Err(AlreadyFinished(self.status));
        }
        Ok(WorkflowRun {
            status: RunStatus::Cancelled,
            completed_at: Some(now),
            ..self.clone()
        })
    }
}

impl Serialize for WorkflowRun {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("WorkflowRun", 10)?;
        s.serialize_field("id", &self.id)?;
        s.serialize_field("workflow_id", &self.workflow_id)?;
        s.serialize_field("status", &self.status)?;
        s.serialize_field("started_at", &self.started_at)?;
        s.serialize_field("completed_at", &self.completed_at)?;
        s.serialize_field("duration_seconds", &self.duration_seconds())?;
        s.serialize_field("error_message", &self.error_message)?;
        s.serialize_field("result_data", &self.result_data)?;
        s.serialize_field("inputs", &self.inputs)?;
        s.serialize_field("workflow_version", &self.workflow_version)?;
        s.end()
    }
}

/// The writable fields of a run (PATCH): `status`, `result_data` (replaces), `error_message`,
/// `completed_at`. `None` leaves a field alone; `Some(None)` clears a nullable one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunChanges {
    /// The status to move to.
    pub status: Option<RunStatus>,
    /// The new `result_data` object.
    pub result_data: Option<Map<String, Value>>,
    /// The new error message, or null.
    pub error_message: Option<Option<String>>,
    /// The new completion time, or null.
    pub completed_at: Option<Option<DateTime<Utc>>>,
}

impl RunChanges {
    /// Parses a PATCH body; every offending field is reported.
    ///
    /// ```
    /// use serde_json::json;
    /// use workflows_domain::{RunChanges, RunStatus};
    /// let changes = RunChanges::from_json(&json!({"status": "success", "result_data": {"rows": 3}})).unwrap();
    /// assert_eq!(changes.status, Some(RunStatus::Success));
    /// assert!(RunChanges::from_json(&json!({"status": "Done"})).is_err());
    /// ```
    pub fn from_json(body: &Value) -> Result<Self, ValidationErrors> {
        let body = expect_object(body)?;
        let mut r = BodyReader::new(body);
        let status = r.optional("status", |r, name, v| match v.as_str() {
            Some(s) => match s.parse::<RunStatus>() {
                Ok(status) => Some(status),
                Err(e) => {
                    r.errors.add(name, e.to_string());
                    None
                }
            },
            None => {
                r.errors
                    .add(name, format!("\"{}\" is not a valid choice.", v));
                None
            }
        });
        let result_data = r.optional("result_data", BodyReader::object);
        let error_message = r.nullable("error_message", BodyReader::raw_text);
        let completed_at = r.nullable("completed_at", |r, name, v| {
            match v.as_str().map(DateTime::parse_from_rfc3339) {
                Some(Ok(at)) => Some(at.with_timezone(&Utc)),
                _ => {
                    r.errors.add(
                        name,
                        "Datetime has wrong format. Use RFC 3339, e.g. 2026-11-26T10:00:00Z.",
                    );
                    None
                }
            }
        });
        let changes = RunChanges {
            status,
            result_data,
            error_message,
            completed_at,
        };
        r.errors.into_result(changes)
    }
}

/// The body of `execute`: optional `inputs`, an object kept on the run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExecutionRequest {
    /// The run's inputs.
    pub inputs: Option<Map<String, Value>>,
}

impl ExecutionRequest {
    /// Parses `execute`'s body; an absent or empty body means no inputs.
    pub fn from_json(body: Option<&Value>) -> Result<Self, ValidationErrors> {
        let Some(body) = body else {
            return Ok(Self::default());
        };
        let body = expect_object(body)?;
        let r = BodyReader::new(body);
        let inputs = match r.field("inputs") {
            Field::Absent | Field::Null => None,
            Field::Present(Value::Object(map)) if contains_nul(&Value::Object(map.clone())) => {
                return Err(ValidationErrors::single(
                    "inputs",
                    "Null characters are not allowed.",
                ));
            }
            Field::Present(Value::Object(map)) => Some(map.clone()),
            Field::Present(other) => {
                return Err(ValidationErrors::single(
                    "inputs",
                    format!(
                        "Expected a dictionary of items but got type \"{}\".",
                        json_type_name(other)
                    ),
                ));
            }
        };
        Ok(Self { inputs })
    }
}

/// What `execute` answers; a repeat with the same `Idempotency-Key` answers the first one again.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ExecutionReceipt {
    /// The new run.
    pub run_id: RunId,
    /// The executed workflow.
    pub workflow_id: WorkflowId,
    /// The new run's status (`pending`).
    pub status: RunStatus,
    /// Always [`ExecutionReceipt::MESSAGE`], which the original front end shows.
    pub message: String,
}

impl ExecutionReceipt {
    /// The message the original API answered.
    pub const MESSAGE: &'static str = "Workflow execution started";

    /// The receipt of a newly created run.
    pub fn new(run_id: RunId, workflow_id: WorkflowId) -> Self {
        Self {
            run_id,
            workflow_id,
            status: RunStatus::Pending,
            message: Self::MESSAGE.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn at(second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, second)
            .single()
            .expect("valid time")
    }

    fn pending_run() -> WorkflowRun {
        WorkflowRun {
            id: RunId(1),
            workflow_id: WorkflowId(2),
            status: RunStatus::Pending,
            started_at: at(0),
            completed_at: None,
            error_message: None,
            result_data: json!({}),
            inputs: None,
            workflow_version: Some(1),
        }
    }

    #[test]
    fn entering_a_terminal_status_sets_completed_at_and_duration() {
        let changes = RunChanges::from_json(&json!({"status": "success"})).expect("valid");
        let done = pending_run().apply(&changes, at(3)).expect("allowed");
        assert_eq!(done.completed_at, Some(at(3)));
        assert_eq!(done.duration_seconds(), Some(3.0));
    }

    #[test]
    fn a_given_completed_at_wins_over_now() {
        let changes = RunChanges::from_json(
            &json!({"status": "failed", "completed_at": "2026-11-26T10:00:01Z"}),
        )
        .expect("valid");
        let done = pending_run().apply(&changes, at(9)).expect("allowed");
        assert_eq!(done.completed_at, Some(at(1)));
    }

    #[test]
    fn a_run_cannot_complete_before_it_started() {
        let changes = RunChanges::from_json(
            &json!({"status": "success", "completed_at": "2026-11-26T09:59:59Z"}),
        )
        .expect("valid");
        match pending_run().apply(&changes, at(5)) {
            Err(RunChangeError::CompletedBeforeStart { started_at }) => {
                assert_eq!(started_at, at(0))
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn terminal_runs_refuse_other_statuses_and_cancel() {
        let success = pending_run()
            .apply(
                &RunChanges {
                    status: Some(RunStatus::Success),
                    ..Default::default()
                },
                at(1),
            )
            .expect("allowed");
        let refused = success
            .apply(
                &RunChanges {
                    status: Some(RunStatus::Running),
                    ..Default::default()
                },
                at(2),
            )
            .unwrap_err();
        assert_eq!(
            refused.to_string(),
            "cannot move a run from 'success' to 'running'"
        );
        assert_eq!(
            success.cancel(at(2)),
            Err(AlreadyFinished(RunStatus::Success))
        );
        let same = success
            .apply(
                &RunChanges {
                    status: Some(RunStatus::Success),
                    ..Default::default()
                },
                at(5),
            )
            .expect("no-op");
        assert_eq!(same.completed_at, Some(at(1)));
    }

    #[test]
    fn patch_bodies_are_checked_field_by_field() {
        let errors = RunChanges::from_json(
            &json!({"status": "Running", "result_data": null, "completed_at": "yesterday"}),
        )
        .unwrap_err();
        assert_eq!(
            errors.field("status"),
            ["\"Running\" is not a valid choice."]
        );
        assert_eq!(errors.field("result_data"), ["This field may not be null."]);
        assert_eq!(errors.field("completed_at").len(), 1);
    }

    #[test]
    fn execution_inputs_must_be_an_object() {
        assert_eq!(
            ExecutionRequest::from_json(None),
            Ok(ExecutionRequest::default())
        );
        let errors = ExecutionRequest::from_json(Some(&json!({"inputs": [1]}))).unwrap_err();
        assert_eq!(
            errors.field("inputs"),
            ["Expected a dictionary of items but got type \"list\"."]
        );
        let ok = ExecutionRequest::from_json(Some(&json!({"inputs": {"a": 1}}))).expect("valid");
        assert_eq!(ok.inputs.map(Value::Object), Some(json!({"a": 1})));
    }

    #[test]
    fn serialised_runs_carry_their_duration() {
        let value = serde_json::to_value(pending_run()).expect("serialisable");
        assert_eq!(value["duration_seconds"], Value::Null);
        assert_eq!(value["status"], "pending");
        assert_eq!(value["started_at"], "2026-11-26T10:00:00Z");
    }
}
