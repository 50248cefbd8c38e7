//! Shapes for the OpenAPI document. Handlers answer with the domain types' own serialisation; these
//! describe it field for field (the contract tests compare the two).

#![allow(dead_code)] // read by utoipa's derive only

use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A string with at least one character (molecule and atom ids).
#[derive(ToSchema)]
#[schema(min_length = 1)]
pub struct NonEmptyString(String);

/// A stored workflow.
#[derive(ToSchema)]
pub struct Workflow {
    #[schema(format = Int64)]
    id: i64,
    #[schema(format = Int32)]
    project_id: i32,
    project_name: String,
    name: String,
    slug: String,
    description: Option<String>,
    app_name: Option<String>,
    molecules_used: Vec<String>,
    atoms_in_molecules: BTreeMap<String, Vec<String>>,
    /// Stored as sent; `nodes`/`edges` checked when present.
    #[schema(value_type = Object)]
    dag_spec: Value,
    #[schema(format = Int64)]
    user_id: Option<i64>,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
    is_active: bool,
    #[schema(format = Int32)]
    version: i32,
    #[schema(format = Int32)]
    execution_count: i32,
    last_executed_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The writable fields of a workflow. POST and PUT need `project_id`, `project_name` and `name`;
/// PATCH takes any subset. Unknown fields are ignored.
#[derive(ToSchema)]
pub struct WorkflowWrite {
    #[schema(minimum = -2147483648, maximum = 2147483647, format = Int32)]
    project_id: i32,
    #[schema(min_length = 1, max_length = 255, pattern = r"\S")]
    project_name: String,
    #[schema(min_length = 1, max_length = 255, pattern = r"\S")]
    name: String,
    /// `[-a-zA-Z0-9_]+`; absent or empty: derived from `name`.
    #[schema(max_length = 255, pattern = "^[-a-zA-Z0-9_]*$")]
    slug: Option<String>,
    description: Option<String>,
    #[schema(max_length = 255)]
    app_name: Option<String>,
    #[schema(nullable = false, required = false)]
    molecules_used: Option<Vec<NonEmptyString>>,
    #[schema(nullable = false, required = false)]
    atoms_in_molecules: Option<BTreeMap<String, Vec<NonEmptyString>>>,
    #[schema(value_type = Object, nullable = false, required = false)]
    dag_spec: Option<Value>,
    #[schema(nullable = false, required = false)]
    is_active: Option<bool>,
}

/// PATCH: any subset of the writable fields.
#[derive(ToSchema)]
pub struct WorkflowPatch {
    #[schema(minimum = -2147483648, maximum = 2147483647, format = Int32, nullable = false, required = false)]
    project_id: Option<i32>,
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = r"\S",
        nullable = false,
        required = false
    )]
    project_name: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = r"\S",
        nullable = false,
        required = false
    )]
    name: Option<String>,
    /// `[-a-zA-Z0-9_]+`; empty or null: derived again from `name`.
    #[schema(max_length = 255, pattern = "^[-a-zA-Z0-9_]*$")]
    slug: Option<String>,
    description: Option<String>,
    #[schema(max_length = 255)]
    app_name: Option<String>,
    #[schema(nullable = false, required = false)]
    molecules_used: Option<Vec<NonEmptyString>>,
    #[schema(nullable = false, required = false)]
    atoms_in_molecules: Option<BTreeMap<String, Vec<NonEmptyString>>>,
    #[schema(value_type = Object, nullable = false, required = false)]
    dag_spec: Option<Value>,
    #[schema(nullable = false, required = false)]
    is_active: Option<bool>,
}

/// A workflow run.
#[derive(ToSchema)]
pub struct WorkflowRun {
    #[schema(format = Int64)]
    id: i64,
    #[schema(format = Int64)]
    workflow_id: i64,
    status: RunStatus,
    started_at: chrono::DateTime<chrono::Utc>,
    completed_at: Option<chrono::DateTime<chrono::Utc>>,
    duration_seconds: Option<f64>,
    error_message: Option<String>,
    #[schema(value_type = Object)]
    result_data: Value,
    /// The `inputs` given to `execute`.
    #[schema(value_type = Option<Object>)]
    inputs: Option<Value>,
    /// The workflow's version the run was created from, and executes; null for runs made by the
    /// original Django app.
    workflow_version: Option<i32>,
}

/// Run statuses; the last five are terminal.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum RunStatus {
    Pending,
    Running,
    Completed,
    Success,
    Failed,
    Failure,
    Cancelled,
}

/// The writable fields of a run.
#[derive(ToSchema)]
pub struct RunWrite {
    #[schema(nullable = false, required = false)]
    status: Option<RunStatus>,
    #[schema(value_type = Object, nullable = false, required = false)]
    result_data: Option<Value>,
    error_message: Option<String>,
    /// RFC 3339, e.g. `2026-11-26T10:00:00Z`.
    #[schema(value_type = Option<String>, format = DateTime,
        pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$")]
    completed_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The optional body of `execute`.
#[derive(ToSchema)]
pub struct ExecuteRequest {
    #[schema(value_type = Option<Object>)]
    inputs: Option<Value>,
}

/// The answer of `execute`.
#[derive(ToSchema)]
pub struct ExecutionReceipt {
    #[schema(format = Int64)]
    run_id: i64,
    #[schema(format = Int64)]
    workflow_id: i64,
    status: RunStatus,
    /// Always "Workflow execution started".
    message: String,
}

/// A page of workflows.
#[derive(ToSchema)]
pub struct WorkflowPage {
    #[schema(format = Int64)]
    count: u64,
    next: Option<String>,
    previous: Option<String>,
    results: Vec<Workflow>,
}

/// A page of runs.
#[derive(ToSchema)]
pub struct RunPage {
    #[schema(format = Int64)]
    count: u64,
    next: Option<String>,
    previous: Option<String>,
    results: Vec<WorkflowRun>,
}

/// A general error.
#[derive(ToSchema, serde::Serialize)]
pub struct ErrorDetail {
    detail: String,
    /// A stable name for the kind of error.
    code: Option<String>,
}

/// A validation error: messages keyed by field (`non_field_errors` for the body as a whole).
#[derive(ToSchema, serde::Serialize)]
#[schema(example = json!({"name": ["This field is required."]}))]
pub struct ValidationError(BTreeMap<String, Vec<String>>);

/// A 400: field-keyed messages, or a general detail (malformed JSON, bad headers).
#[derive(ToSchema, serde::Serialize)]
#[serde(untagged)]
pub enum BadRequest {
    Fields(ValidationError),
    Detail(ErrorDetail),
}

/// A refused status move.
#[derive(ToSchema)]
pub struct StatusConflict {
    detail: String,
    code: Option<String>,
    current_status: Option<RunStatus>,
    requested_status: Option<RunStatus>,
    /// The statuses the run may move to.
    allowed: Option<Vec<RunStatus>>,
}

/// A stale `If-Match`.
#[derive(ToSchema)]
pub struct PreconditionFailed {
    detail: String,
    code: Option<String>,
    #[schema(format = Int32)]
    current_version: i32,
}

/// Liveness.
#[derive(ToSchema)]
pub struct Health {
    status: String,
}

/// Readiness.
#[derive(ToSchema)]
pub struct Readiness {
    status: String,
    /// Why the service is not ready.
    reason: Option<String>,
}

/// The published run state machine.
#[derive(ToSchema)]
pub struct StateMachine {
    statuses: Vec<RunStatus>,
    terminal: Vec<RunStatus>,
    /// For each status, where it may move (itself included, as a no-op).
    moves: BTreeMap<String, Vec<RunStatus>>,
}

/// A valid workflow and its execution plan.
#[derive(ToSchema)]
pub struct Validation {
    valid: bool,
    /// Molecule ids in stages; everything in a stage may run at once.
    plan: Vec<Vec<String>>,
}

/// How many runs a bulk cancel cancelled.
#[derive(ToSchema)]
pub struct BulkCancelled {
    #[schema(format = Int64)]
    cancelled: u64,
}

/// How many runs a bulk delete deleted.
#[derive(ToSchema)]
pub struct BulkDeleted {
    #[schema(format = Int64)]
    deleted: u64,
}

/// One stored revision of a workflow's definition.
#[derive(ToSchema)]
pub struct WorkflowRevision {
    #[schema(format = Int64)]
    workflow_id: i64,
    #[schema(format = Int32)]
    version: i32,
    created_at: chrono::DateTime<chrono::Utc>,
    /// Who made the change; null when unknown (a state another program left) or the user is gone.
    #[schema(format = Int64)]
    user_id: Option<i64>,
    #[schema(format = Int32)]
    project_id: i32,
    project_name: String,
    name: String,
    slug: String,
    description: Option<String>,
    app_name: Option<String>,
    molecules_used: Vec<String>,
    atoms_in_molecules: BTreeMap<String, Vec<String>>,
    #[schema(value_type = Object)]
    dag_spec: Value,
    is_active: bool,
}

/// A page of revisions.
#[derive(ToSchema)]
pub struct RevisionPage {
    #[schema(format = Int64)]
    count: u64,
    next: Option<String>,
    previous: Option<String>,
    results: Vec<WorkflowRevision>,
}

/// A scalar field's two values.
#[derive(ToSchema)]
pub struct FieldChange {
    /// Any JSON value: a string, number, boolean or null.
    from: Value,
    to: Value,
}

/// A node in both revisions whose object differs.
#[derive(ToSchema)]
pub struct ChangedNode {
    id: String,
    /// The node's keys that were added, removed or changed.
    keys: Vec<String>,
}

/// Node changes, matched by id.
#[derive(ToSchema)]
pub struct NodeChanges {
    added: Vec<String>,
    removed: Vec<String>,
    changed: Vec<ChangedNode>,
}

/// An edge, by the nodes it joins.
#[derive(ToSchema)]
pub struct EdgeRef {
    source: String,
    target: String,
}

/// Edge changes.
#[derive(ToSchema)]
pub struct EdgeChanges {
    added: Vec<EdgeRef>,
    removed: Vec<EdgeRef>,
}

/// `molecules_used` changes.
#[derive(ToSchema)]
pub struct MoleculeChanges {
    added: Vec<String>,
    removed: Vec<String>,
    /// Whether the molecules kept by both moved.
    reordered: bool,
}

/// One atom of one molecule.
#[derive(ToSchema)]
pub struct AtomRef {
    molecule: String,
    atom: String,
}

/// `atoms_in_molecules` changes.
#[derive(ToSchema)]
pub struct AtomChanges {
    added: Vec<AtomRef>,
    removed: Vec<AtomRef>,
    /// Molecules whose shared atoms moved.
    reordered: Vec<String>,
}

/// What changed from one revision to another.
#[derive(ToSchema)]
pub struct RevisionDiff {
    #[schema(format = Int32)]
    from_version: i32,
    #[schema(format = Int32)]
    to_version: i32,
    /// Whether anything differs.
    changed: bool,
    /// Scalar fields that differ, by name.
    fields: BTreeMap<String, FieldChange>,
    nodes: NodeChanges,
    edges: EdgeChanges,
    molecules: MoleculeChanges,
    atoms: AtomChanges,
    /// Other top-level `dag_spec` keys (layout, metadata) that differ.
    dag_spec_keys: Vec<String>,
}

/// Workflow counts.
#[derive(ToSchema)]
pub struct WorkflowCounts {
    #[schema(format = Int64)]
    total: u64,
    #[schema(format = Int64)]
    active: u64,
}

/// Run counts by status.
#[derive(ToSchema)]
pub struct RunCounts {
    #[schema(format = Int64)]
    total: u64,
    /// Every status, zeros included.
    by_status: BTreeMap<String, u64>,
    /// (success + completed) / (success + completed + failed + failure); null before any finished.
    success_rate: Option<f64>,
}

/// Durations of finished runs, in seconds.
#[derive(ToSchema)]
pub struct DurationStats {
    #[schema(format = Int64)]
    count: u64,
    mean: Option<f64>,
    /// Nearest-rank median.
    p50: Option<f64>,
    /// Nearest-rank 95th percentile.
    p95: Option<f64>,
}

/// One of the most executed workflows.
#[derive(ToSchema)]
pub struct TopWorkflow {
    #[schema(format = Int64)]
    id: i64,
    name: String,
    slug: String,
    #[schema(format = Int32)]
    project_id: i32,
    app_name: Option<String>,
    #[schema(format = Int64)]
    execution_count: i64,
}

/// The summary figures.
#[derive(ToSchema)]
pub struct AnalyticsSummary {
    workflows: WorkflowCounts,
    runs: RunCounts,
    /// Lifetime executions of the workflows counted.
    #[schema(format = Int64)]
    executions: i64,
    duration_seconds: DurationStats,
    most_executed: Vec<TopWorkflow>,
}

/// How much a molecule, an atom or a molecule/atom pair is used.
#[derive(ToSchema)]
pub struct Usage {
    /// Absent in per-atom rows.
    molecule: Option<String>,
    /// Absent in per-molecule rows.
    atom: Option<String>,
    #[schema(format = Int64)]
    workflows: u64,
    #[schema(format = Int64)]
    projects: u64,
    #[schema(format = Int64)]
    executions: i64,
}

/// Molecule usage, most used first.
#[derive(ToSchema)]
pub struct MoleculeUsage {
    results: Vec<Usage>,
}

/// Atom usage, per atom and per molecule/atom pair, most used first.
#[derive(ToSchema)]
pub struct AtomUsage {
    atoms: Vec<Usage>,
    pairs: Vec<Usage>,
}

/// Runs started in one bucket.
#[derive(ToSchema)]
pub struct RunBucket {
    start: chrono::DateTime<chrono::Utc>,
    #[schema(format = Int64)]
    total: u64,
    /// Every status, zeros included.
    counts: BTreeMap<String, u64>,
}

/// The runs chart.
#[derive(ToSchema)]
pub struct RunSeries {
    /// hour, day or week.
    bucket: String,
    series: Vec<RunBucket>,
}
