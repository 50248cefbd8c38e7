//! Definition history: every revision of a workflow, written in the transaction of the change that
//! made it; read back, compared and restored within the caller's scope.

use crate::Store;
use crate::entity::workflow_version;
use crate::error::{StoreError, StoreResult};
use crate::paging::{count_of, offset_page};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Select,
};
use workflows_domain::{
    Actor, Page, PageRequest, UserId, Workflow, WorkflowChanges, WorkflowDefinition, WorkflowId,
    WorkflowRevision,
};

/// One revision as it is about to be stored.
pub(crate) struct Revision<'a> {
    pub workflow: WorkflowId,
    pub version: i32,
    pub at: DateTime<Utc>,
    pub user: Option<UserId>,
    pub definition: &'a WorkflowDefinition,
}

impl Revision<'_> {
    pub(crate) async fn insert<C: ConnectionTrait>(&self, conn: &C) -> StoreResult<()> {
        let d = self.definition;
        workflow_version::ActiveModel {
            workflow_id: Set(self.workflow.0),
            version: Set(self.version),
            created_at: Set(self.at),
            user_id: Set(self.user.map(|u| u.0)),
            project_id: Set(d.project_id()),
            project_name: Set(d.project_name().to_owned()),
            name: Set(d.name().to_owned()),
            slug: Set(d.slug().as_str().to_owned()),
            description: Set(d.description().map(str::to_owned)),
            app_name: Set(d.app_name().map(str::to_owned)),
            molecules_used: Set(d.molecules_used_json()),
            atoms_in_molecules: Set(d.atoms_in_molecules_json()),
            dag_spec: Set(d.dag_spec().raw().clone()),
            is_active: Set(d.is_active()),
        }
        .insert(conn)
        .await?;
        Ok(())
    }

    /// Stores the revision unless one with its version is there already: a workflow written by
    /// another program (the old Django app) has no history for the state it was left in, and that
    /// state is recorded as found before it is changed, so a diff against it stays possible.
    pub(crate) async fn insert_if_missing<C: ConnectionTrait>(&self, conn: &C) -> StoreResult<()> {
        let present = workflow_version::Entity::find_by_id((self.workflow.0, self.version))
            .select_only()
            .column(workflow_version::Column::Version)
            .into_tuple::<i32>()
            .one(conn)
            .await?;
        match present {
            Some(_) => Ok(()),
            None => self.insert(conn).await,
        }
    }
}

impl Store {
    /// The revisions of a workflow the actor may see, newest first.
    pub async fn list_revisions(
        &self,
        actor: &Actor,
        id: WorkflowId,
        page: PageRequest,
    ) -> StoreResult<Page<WorkflowRevision>> {
        self.get_workflow(actor, id).await?;
        let query =
            workflow_version::Entity::find().filter(workflow_version::Column::WorkflowId.eq(id.0));
        let newest_first = |q: Select<workflow_version::Entity>| {
            q.order_by_desc(workflow_version::Column::Version)
        };
        let count = count_of(query.clone().into_query());
        let (rows, count) = self
            // A workflow's revisions are few, so they are walked from the start.
            .page_rows(query, count, page, newest_first, |q, _| {
                offset_page(q, newest_first, page)
            })
            .await?;
        Ok(Page {
            items: rows.into_iter().map(WorkflowRevision::from).collect(),
            count,
            request: page,
        })
    }

    /// One revision of a workflow the actor may see.
    pub async fn get_revision(
        &self,
        actor: &Actor,
        id: WorkflowId,
        version: i32,
    ) -> StoreResult<WorkflowRevision> {
        let [revision] = self.get_revisions(actor, id, [version]).await?;
        Ok(revision)
    }

    /// Several revisions of one workflow in one read, in the order asked; any missing one is
    /// [`StoreError::NotFound`].
    pub async fn get_revisions<const N: usize>(
        &self,
        actor: &Actor,
        id: WorkflowId,
        versions: [i32; N],
    ) -> StoreResult<[WorkflowRevision; N]> {
        self.get_workflow(actor, id).await?;
        let rows = workflow_version::Entity::find()
            .filter(workflow_version::Column::WorkflowId.eq(id.0))
            .filter(workflow_version::Column::Version.is_in(versions))
            .all(&self.db)
            .await?;
        let mut found = Vec::with_capacity(N);
        for version in versions {
            let row = rows
                .iter()
                .find(|r| r.version == version)
                .ok_or(StoreError::NotFound)?;
            found.push(WorkflowRevision::from(row.clone()));
        }
        found.try_into().map_err(|_| StoreError::NotFound)
    }

    /// Makes a new revision whose definition equals `version`'s; history is never rewritten.
    /// `if_match` guards the workflow's current version as a PUT's does.
    pub async fn restore_revision(
        &self,
        actor: &Actor,
        id: WorkflowId,
        version: i32,
        if_match: Option<i32>,
    ) -> StoreResult<Workflow> {
        let revision = self.get_revision(actor, id, version).await?;
        let changes = WorkflowChanges::Replace(Box::new(revision.definition));
        self.update_workflow(actor, id, &changes, if_match).await
    }
}
