//! What can go wrong in the store, with meaning the API maps to answers once.

use sea_orm::{DbErr, RuntimeErr};
use workflows_domain::{AlreadyFinished, InvalidMove, ValidationErrors};

/// A store operation that did not happen.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such object, or the caller may not see it (the two are never told apart).
    #[error("Not found.")]
    NotFound,
    /// The `If-Match` version is not the stored one; nothing changed.
    #[error("The workflow is at version {current}, not the version given in If-Match.")]
    StaleVersion {
        /// The version the workflow has.
        current: i32,
    },
    /// The status move is not allowed; nothing changed.
    #[error(transparent)]
    InvalidMove(#[from] InvalidMove),
    /// A cancel of a finished run; nothing changed.
    #[error(transparent)]
    AlreadyFinished(#[from] AlreadyFinished),
    /// `execute` of an inactive workflow; no run was made.
    #[error("The workflow is inactive and cannot be executed.")]
    WorkflowInactive,
    /// Another request with the same `Idempotency-Key` is still creating its run.
    #[error("A request with this Idempotency-Key is still being processed.")]
    IdempotencyKeyInUse,
    /// A run change that conflicts with the stored run (e.g. completing before it started).
    #[error("{0}")]
    RunConflict(String),
    /// A user with that username exists already.
    #[error("A user named '{0}' already exists.")]
    DuplicateUsername(String),
    /// Input the domain rules refuse.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// A page past the end of the list.
    #[error("Invalid page.")]
    InvalidPage,
    /// The database cannot be reached (no connection within the acquire timeout).
    #[error("The database is unavailable.")]
    Unavailable(#[source] DbErr),
    /// Anything else the database said.
    #[error("The database failed.")]
    Db(#[source] DbErr),
}

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        if is_unavailable(&err) {
            return StoreError::Unavailable(err);
        }
        match err {
            DbErr::RecordNotFound(_) => StoreError::NotFound,
            other => StoreError::Db(other),
        }
    }
}

/// Whether the database could not serve the request at all (down, restarting, out of
/// connections, too slow), as opposed to refusing this statement: such errors answer "try again".
pub(crate) fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    let source = match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    match &**source {
        Sqlx::Io(_)
        | Sqlx::PoolTimedOut
        | Sqlx::PoolClosed
        | Sqlx::WorkerCrashed
        | Sqlx::Protocol(_)
        | Sqlx::Tls(_) => true,
        Sqlx::Database(db) => db.code().is_some_and(|code| {
            // PostgreSQL: connection exceptions (08…), shutting down or starting (57P0…),
            // statement timeout (57014), too many connections (53300). SQLite: busy or locked.
            code.starts_with("08")
                || code.starts_with("57P")
                || matches!(code.as_ref(), "57014" | "53300" | "5" | "6" | "261" | "517")
        }),
        _ => false,
    }
}

impl From<workflows_domain::RunChangeError> for StoreError {
    fn from(err: workflows_domain::RunChangeError) -> Self {
        match err {
            workflows_domain::RunChangeError::InvalidMove(m) => StoreError::InvalidMove(m),
            e @ workflows_domain::RunChangeError::CompletedBeforeStart { .. } => {
                StoreError::RunConflict(e.to_string())
            }
        }
    }
}

/// Results of the store.
pub type StoreResult<T> = Result<T, StoreError>;

/// Whether a database error is a unique-key violation.
pub(crate) fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
