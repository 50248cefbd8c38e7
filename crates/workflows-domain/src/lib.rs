#![deny(missing_docs)]
//! The pure rules of the workflows service: workflow definitions, runs and their status moves,
//! DAG specs, slugs, and who may see what. No I/O: the store, the HTTP API and other Rust services
//! embed this crate and all enforce the same rules.
//!
//! # Validating a workflow before saving it
//!
//! ```
//! use serde_json::json;
//! use workflows_domain::{Actor, NewWorkflow, UserId};
//!
//! let body = json!({
//!     "project_id": 123,
//!     "project_name": "Sales Dashboard",
//!     "name": "Q4 Sales Analysis",
//!     "molecules_used": ["data-loader", "data-processor"],
//!     "atoms_in_molecules": {"data-loader": ["csv-reader"], "data-processor": ["clean-data", "aggregate"]},
//!     "dag_spec": {
//!         "nodes": [{"id": "data-loader"}, {"id": "data-processor"}],
//!         "edges": [{"id": "e1", "source": "data-loader", "target": "data-processor"}]
//!     }
//! });
//! let workflow = NewWorkflow::from_json(&body).expect("a valid workflow");
//! assert_eq!(workflow.definition().slug().as_str(), "q4-sales-analysis");
//! assert_eq!(workflow.definition().dag_spec().stages(), vec![vec!["data-loader"], vec!["data-processor"]]);
//!
//! // A dangling edge is refused with a message that names it, keyed by the field.
//! let mut broken = body.clone();
//! broken["dag_spec"]["edges"][0]["target"] = json!("x");
//! let errors = NewWorkflow::from_json(&broken).unwrap_err();
//! assert_eq!(errors.field("dag_spec"), ["edge 'e1' points to unknown node 'x'"]);
//!
//! // Visibility: regular users see their own workflows, staff see all.
//! assert!(!Actor::user(UserId(7)).can_see(Some(UserId(8))));
//! ```

mod actor;
mod analytics;
mod dag;
mod document;
mod errors;
mod fields;
mod history;
mod ids;
mod json_shape;
mod plan;
mod query;
mod retention;
mod rfc3339;
mod run;
mod slug;
mod status;
mod user;
mod workflow;

pub use actor::Actor;
pub use analytics::{
    AnalyticsFilter, AtomUsage, DurationStats, MAX_ANALYTICS_LIMIT, RunBucket, RunCounts,
    RunSeries, Summary, TimeBucket, TopWorkflow, UnknownBucket, Usage, WorkflowCounts,
    nearest_rank,
};
pub use dag::{DagEdge, DagNode, DagSpec, MAX_DAG_EDGES, MAX_DAG_NODES};
pub use document::{StoredJson, WorkflowDocument};
pub use errors::{NON_FIELD_ERRORS, ValidationErrors};
pub use history::{
    AtomChanges, AtomRef, ChangedNode, DefinitionDiff, EdgeChanges, EdgeRef, FieldChange,
    MoleculeChanges, NodeChanges, RevisionDiff, WorkflowRevision,
};
pub use ids::{RunId, TokenId, UserId, WorkflowId};
pub use plan::{ExecutionPlan, PlannedMolecule};
pub use query::{
    DEFAULT_PAGE_SIZE, InvalidOrdering, MAX_PAGE_SIZE, Ordering, Page, PageError, PageRequest,
    RunFilter, RunSortKey, SortKey, WorkflowFilter, WorkflowSortKey,
};
pub use retention::RetentionPolicy;
pub use run::{
    AlreadyFinished, ExecutionReceipt, ExecutionRequest, RunChangeError, RunChanges,
    WorkflowExecution, WorkflowRun,
};
pub use slug::{FALLBACK_SLUG, MAX_SLUG_CHARS, Slug, SlugError};
pub use status::{InvalidMove, RunStatus, StateMachine, UnknownStatus};
pub use user::{ApiToken, User};
pub use workflow::{NewWorkflow, Workflow, WorkflowChanges, WorkflowDefinition, WorkflowPatch};
