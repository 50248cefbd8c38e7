//! Rows into domain values, at the edge of the store.

use crate::entity::{api_token, run, user, workflow, workflow_version};
use crate::error::StoreError;
use workflows_domain::{
    ApiToken, RunId, RunStatus, TokenId, User, UserId, Workflow, WorkflowDefinition, WorkflowId,
    WorkflowRevision, WorkflowRun,
};

impl From<workflow_version::Model> for WorkflowRevision {
    fn from(row: workflow_version::Model) -> Self {
        WorkflowRevision {
            workflow_id: WorkflowId(row.workflow_id),
            version: row.version,
            created_at: row.created_at,
            user_id: row.user_id.map(UserId),
            definition: WorkflowDefinition::from_stored(
                row.project_id,
                row.project_name,
                row.name,
                row.slug,
                row.description,
                row.app_name,
                Some(row.molecules_used),
                Some(row.atoms_in_molecules),
                Some(row.dag_spec),
                Some(row.is_active),
            ),
        }
    }
}

impl From<workflow::Model> for Workflow {
    fn from(row: workflow::Model) -> Self {
        Workflow {
            id: WorkflowId(row.id),
            user_id: row.user_id.map(UserId),
            definition: WorkflowDefinition::from_stored(
                row.project_id,
                row.project_name,
                row.name,
                row.slug,
                row.description,
                row.app_name,
                row.molecules_used,
                row.atoms_in_molecules,
                row.dag_spec,
                row.is_active,
            ),
            created_at: row.created_at,
            updated_at: row.updated_at,
            version: row.version.unwrap_or(1),
            execution_count: row.execution_count.unwrap_or(0),
            last_executed_at: row.last_executed_at,
        }
    }
}

impl TryFrom<run::Model> for WorkflowRun {
    type Error = StoreError;

    /// A NULL status is the column's default, `pending`; an unknown one is refused rather than
    /// guessed.
    fn try_from(row: run::Model) -> Result<Self, StoreError> {
        let status = match row.status.as_deref() {
            None => RunStatus::Pending,
            Some(s) => s.parse().map_err(|_| {
                StoreError::Db(sea_orm::DbErr::Type(format!(
                    "run {} has an unknown status",
                    row.id
                )))
            })?,
        };
        Ok(WorkflowRun {
            id: RunId(row.id),
            workflow_id: WorkflowId(row.workflow_id),
            status,
            started_at: row.started_at,
            completed_at: row.completed_at,
            error_message: row.error_message,
            result_data: row
                .result_data
                .unwrap_or_else(|| serde_json::Value::Object(Default::default())),
            inputs: row.inputs,
            workflow_version: row.workflow_version,
        })
    }
}

impl From<user::Model> for User {
    fn from(row: user::Model) -> Self {
        User {
            id: UserId(row.id),
            username: row.username,
            email: row.email,
            is_staff: row.is_staff,
            is_active: row.is_active,
            date_joined: row.date_joined,
        }
    }
}

impl From<api_token::Model> for ApiToken {
    fn from(row: api_token::Model) -> Self {
        ApiToken {
            id: TokenId(row.id),
            user_id: UserId(row.user_id),
            name: row.name,
            prefix: row.prefix,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
        }
    }
}
