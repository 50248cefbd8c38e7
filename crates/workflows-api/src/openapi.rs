//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use crate::routes::{health, runs, workflows};
use crate::schema;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The base path the annotations are written against.
pub const DOCUMENTED_BASE: &str = "/api/workflows";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "workflows",
        description = "Workflow definitions (DAGs of molecules, each a list of atoms) and their runs.\n\n\
            Authenticate with `Authorization: Bearer <token>` (or `Token <token>`). Regular users see and \
            change only their own workflows and those workflows' runs; someone else's object answers 404. \
            Every route works with and without its trailing slash. A run status may move to itself as a \
            no-op; other moves follow the published rule.",
    ),
    paths(
        workflows::list, workflows::create, workflows::retrieve, workflows::replace, workflows::patch,
        workflows::delete, workflows::execute, workflows::runs,
        runs::list, runs::retrieve, runs::patch, runs::cancel,
        health::healthz, health::readyz,
    ),
    components(schemas(
        schema::Workflow, schema::WorkflowWrite, schema::WorkflowRun, schema::RunStatus, schema::RunWrite,
        schema::ExecuteRequest, schema::ExecutionReceipt, schema::WorkflowPage, schema::RunPage,
        schema::ErrorDetail, schema::ValidationError, schema::BadRequest, schema::StatusConflict,
        schema::PreconditionFailed, schema::Health, schema::Readiness,
    )),
    modifiers(&TokenAuth),
    tags(
        (name = "workflows", description = "Workflow definitions and their execution"),
        (name = "runs", description = "Workflow runs"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
struct ApiDoc;

struct TokenAuth;

impl Modify for TokenAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token; `Token <token>` is accepted as well."))
                    .build(),
            ),
        );
    }
}

/// The document, with paths moved under the configured base path.
pub fn document(base_path: &str) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    if base_path != DOCUMENTED_BASE {
        let paths = std::mem::take(&mut doc.paths.paths);
        doc.paths.paths = paths
            .into_iter()
            .map(|(path, item)| match path.strip_prefix(DOCUMENTED_BASE) {
                Some(rest) => (format!("{base_path}{rest}"), item),
                None => (path, item),
            })
            .collect();
    }
    doc
}
