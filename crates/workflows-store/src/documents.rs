//! Workflows read only to be answered: the JSON columns come back as text and go out unparsed
//! (see [`WorkflowDocument`]).

use crate::Store;
use crate::connection::query_error;
use crate::entity::workflow;
use crate::error::{StoreError, StoreResult};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::sqlx::{self, Postgres, postgres::PgRow};
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, FromQueryResult, QueryResult, QuerySelect, Select,
    Statement, TryGetable,
};
use workflows_domain::{
    Actor, Ordering, Page, PageRequest, StoredJson, UserId, WorkflowDocument, WorkflowFilter,
    WorkflowId, WorkflowSortKey,
};

/// A workflow row with its JSON columns as text, read by position in the order of
/// [`document_columns`] and [`select_document!`].
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

impl DocumentRow {
    fn into_document(self, backend: DbBackend) -> WorkflowDocument {
        // PostgreSQL's text for `dag_spec` is a `jsonb` value written out, always JSON; SQLite's
        // is whatever a writer left.
        let dag_spec = if backend == DbBackend::Postgres {
            StoredJson::dag_spec_from_jsonb(self.dag_spec)
        } else {
            StoredJson::dag_spec(self.dag_spec)
        };
        WorkflowDocument {
            id: WorkflowId(self.id),
            user_id: self.user_id.map(UserId),
            project_id: self.project_id,
            project_name: self.project_name,
            name: self.name,
            slug: self.slug,
            description: self.description,
            app_name: self.app_name,
            molecules_used: StoredJson::molecules_used(self.molecules_used),
            atoms_in_molecules: StoredJson::atoms_in_molecules(self.atoms_in_molecules),
            dag_spec,
            // The same defaults as for a `Workflow` read from a row the old app wrote.
            is_active: self.is_active.unwrap_or(true),
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version.unwrap_or(1),
            execution_count: self.execution_count.unwrap_or(0),
            last_executed_at: self.last_executed_at,
        }
    }
}

impl FromQueryResult for DocumentRow {
    fn from_query_result(row: &QueryResult, _prefix: &str) -> Result<Self, DbErr> {
        // PostgreSQL's rows are read through sqlx itself: SeaORM's wrapper around each value,
        // and the message it formats for every NULL it then reads as `None`, were about 8 % of
        // a list page's instructions (bench/README.md finding 39). sqlx still checks each
        // column's type.
        match row.try_as_pg_row() {
            Some(pg) => Self::read(pg),
            None => Self::read(row),
        }
    }
}

impl DocumentRow {
    // By position: looking 17 columns up by name cost about 4 % of GET's CPU (bench/README
    // finding 22).
    fn read(row: &impl Cells) -> Result<Self, DbErr> {
        Ok(Self {
            id: row.cell(0)?,
            user_id: row.cell(1)?,
            project_id: row.cell(2)?,
            project_name: row.cell(3)?,
            name: row.cell(4)?,
            slug: row.cell(5)?,
            description: row.cell(6)?,
            app_name: row.cell(7)?,
            is_active: row.cell(8)?,
            created_at: row.cell(9)?,
            updated_at: row.cell(10)?,
            version: row.cell(11)?,
            execution_count: row.cell(12)?,
            last_executed_at: row.cell(13)?,
            molecules_used: row.cell(14)?,
            atoms_in_molecules: row.cell(15)?,
            dag_spec: row.cell(16)?,
        })
    }
}

/// A value SeaORM and sqlx's PostgreSQL driver both read.
trait Cell: TryGetable + for<'r> sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres> {}

impl<T: TryGetable + for<'r> sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>> Cell for T {}

/// A row's values by position.
trait Cells {
    fn cell<T: Cell>(&self, index: usize) -> Result<T, DbErr>;
}

impl Cells for QueryResult {
    fn cell<T: Cell>(&self, index: usize) -> Result<T, DbErr> {
        self.try_get_by_index(index)
    }
}

impl Cells for PgRow {
    fn cell<T: Cell>(&self, index: usize) -> Result<T, DbErr> {
        sqlx::Row::try_get(self, index).map_err(query_error)
    }
}

/// [`DocumentRow`]'s columns, in its order, qualified by the table (list pages join others), the
/// JSON ones as text. PostgreSQL keeps a text copy of each (migration 19): writing `jsonb` out as
/// text was most of a list page's cost in the database (bench/README finding 23). SQLite keeps
/// JSON as text in the first place.
macro_rules! document_columns {
    (postgres) => {
        document_columns!(
            "workflows_workflow.molecules_used_text, workflows_workflow.atoms_in_molecules_text, ",
            "workflows_workflow.dag_spec_text"
        )
    };
    (sqlite) => {
        document_columns!(
            "CAST(workflows_workflow.molecules_used AS text), ",
            "CAST(workflows_workflow.atoms_in_molecules AS text), ",
            "CAST(workflows_workflow.dag_spec AS text)"
        )
    };
    ($($json:literal),+) => {
        concat!(
            "workflows_workflow.id, workflows_workflow.user_id, workflows_workflow.project_id, ",
            "workflows_workflow.project_name, workflows_workflow.name, workflows_workflow.slug, ",
            "workflows_workflow.description, workflows_workflow.app_name, ",
            "workflows_workflow.is_active, workflows_workflow.created_at, ",
            "workflows_workflow.updated_at, workflows_workflow.version, ",
            "workflows_workflow.execution_count, workflows_workflow.last_executed_at, ",
            $($json),+
        )
    };
}

/// GET's statement, written out: building it with the query builder on every request cost about
/// 8 % of GET's CPU (bench/README finding 22).
macro_rules! select_document {
    ($backend:ident, $where:literal) => {
        concat!(
            "SELECT ",
            document_columns!($backend),
            " FROM workflows_workflow WHERE ",
            $where
        )
    };
}

/// The statement reading one workflow as `actor` may see it.
fn document_by_id(backend: DbBackend, actor: &Actor, id: WorkflowId) -> Statement {
    let postgres = backend == DbBackend::Postgres;
    match actor.owner_scope() {
        None => Statement::from_sql_and_values(
            backend,
            if postgres {
                select_document!(postgres, "id = $1")
            } else {
                select_document!(sqlite, "id = ?")
            },
            [id.0.into()],
        ),
        Some(UserId(owner)) => Statement::from_sql_and_values(
            backend,
            if postgres {
                select_document!(postgres, "id = $1 AND user_id = $2")
            } else {
                select_document!(sqlite, "id = ? AND user_id = ?")
            },
            [id.0.into(), owner.into()],
        ),
    }
}

/// `select` reading [`DocumentRow`]'s columns, written out as one expression: SeaORM listing
/// them one by one (looking each column's type up for enum casts) and the query builder writing
/// 17 expressions were about 5 % of a list page's instructions (bench/README.md finding 39).
fn document_columns(
    select: Select<workflow::Entity>,
    backend: DbBackend,
) -> Select<workflow::Entity> {
    let columns = if backend == DbBackend::Postgres {
        document_columns!(postgres)
    } else {
        document_columns!(sqlite)
    };
    select.select_only().expr(Expr::cust(columns))
}

impl Store {
    /// [`Store::get_workflow`], for answering only.
    pub async fn get_workflow_document(
        &self,
        actor: &Actor,
        id: WorkflowId,
    ) -> StoreResult<WorkflowDocument> {
        let row = self
            .conn()
            .query_one_raw(document_by_id(self.backend(), actor, id))
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(DocumentRow::from_query_result(&row, "")?.into_document(self.backend()))
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
        let backend = self.backend();
        let (rows, count) = self
            .workflow_list_rows::<DocumentRow>(query, page, |select| {
                document_columns(select, backend)
            })
            .await?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(|row| row.into_document(backend))
                .collect(),
            count,
            request: page,
        })
    }
}
