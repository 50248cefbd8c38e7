//! Typed identifiers, so that a run id can never be passed where a workflow id belongs.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }
    };
}

typed_id!(
    /// Primary key of a workflow (`workflows_workflow.id`).
    WorkflowId
);
typed_id!(
    /// Primary key of a workflow run (`workflows_workflowrun.id`).
    RunId
);
typed_id!(
    /// Primary key of a user (`accounts_user.id`, shared with the Django app).
    UserId
);
typed_id!(
    /// Primary key of an API token.
    TokenId
);
