//! Workflows read only to be answered: the JSON columns come back as text and go out unparsed
//! (see [`WorkflowDocument`]).

use crate::Store;
use crate::entity::workflow;
use crate::error::{StoreError, StoreResult};
use crate::workflows::visible_to;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    EntityTrait, FromQueryResult, Iden, QueryFilter, QuerySelect, Select, SelectModel, Selector,
};
use workflows_domain::{
    Actor, Ordering, Page, PageRequest, StoredJson, UserId, WorkflowDocument, WorkflowFilter,
    WorkflowId, WorkflowSortKey,
};

/// A workflow row with its JSON columns as text.
#[derive(FromQueryResult)]
struct DocumentRow {
    id: i64,
    user_id: Option<i64>,
    project_id: i32,
    project_name: String,
    name: String,
    slug: String,
    description: Option<String>,
    app_name: Option<String>,
    molecules_used: Option<String>,
    atoms_in_molecules: Option<String>,
    dag_spec: Option<String>,
    is_active: Option<bool>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: Option<i32>,
    execution_count: Option<i32>,
    last_executed_at: Option<DateTime<Utc>>,
}

impl From<DocumentRow> for WorkflowDocument {
    fn from(row: DocumentRow) -> Self {
        WorkflowDocument {
            id: WorkflowId(row.id),
            user_id: row.user_id.map(UserId),
            project_id: row.project_id,
            project_name: row.project_name,
            name: row.name,
            slug: row.slug,
            description: row.description,
            app_name: row.app_name,
            molecules_used: StoredJson::molecules_used(row.molecules_used),
            atoms_in_molecules: StoredJson::atoms_in_molecules(row.atoms_in_molecules),
            dag_spec: StoredJson::dag_spec(row.dag_spec),
            // The same defaults as for a `Workflow` read from a row the old app wrote.
            is_active: row.is_active.unwrap_or(true),
            created_at: row.created_at,
            updated_at: row.updated_at,
            version: row.version.unwrap_or(1),
            execution_count: row.execution_count.unwrap_or(0),
            last_executed_at: row.last_executed_at,
        }
    }
}

/// `select`'s rows with the JSON columns cast to text: PostgreSQL writes `jsonb` out as text in
/// any case, and SQLite keeps it as text.
fn as_documents(select: Select<workflow::Entity>) -> Selector<SelectModel<DocumentRow>> {
    use workflow::Column as C;
    let mut select = select.select_only().columns([
        C::Id,
        C::UserId,
        C::ProjectId,
        C::ProjectName,
        C::Name,
        C::Slug,
        C::Description,
        C::AppName,
        C::IsActive,
        C::CreatedAt,
        C::UpdatedAt,
        C::Version,
        C::ExecutionCount,
        C::LastExecutedAt,
    ]);
    for json in [C::MoleculesUsed, C::AtomsInMolecules, C::DagSpec] {
        select = select.column_as(
            Expr::col((workflow::Entity, json)).cast_as("text"),
            json.to_string(),
        );
    }
    select.into_model()
}

impl Store {
    /// [`Store::get_workflow`], for answering only.
    pub async fn get_workflow_document(
        &self,
        actor: &Actor,
        id: WorkflowId,
    ) -> StoreResult<WorkflowDocument> {
        as_documents(workflow::Entity::find_by_id(id.0).filter(visible_to(actor)))
            .one(self.conn())
            .await?
            .map(WorkflowDocument::from)
            .ok_or(StoreError::NotFound)
    }

    /// [`Store::list_workflows`], for answering only.
    pub async fn list_workflow_documents(
        &self,
        actor: &Actor,
        filter: &WorkflowFilter,
        ordering: Ordering<WorkflowSortKey>,
        page: PageRequest,
    ) -> StoreResult<Page<WorkflowDocument>> {
        let query = self.workflow_list_query(actor, filter, ordering);
        let (rows, count) = self.workflow_list_rows(query, page, as_documents).await?;
        Ok(Page {
            items: rows.into_iter().map(WorkflowDocument::from).collect(),
            count,
            request: page,
        })
    }
}
