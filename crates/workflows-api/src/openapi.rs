//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use crate::routes::{analytics, health, runs, versions, workflows};
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
        workflows::delete, workflows::execute, workflows::runs, workflows::validate, workflows::cancel_runs, workflows::delete_runs,
        analytics::summary, analytics::molecules, analytics::atoms, analytics::runs,
        versions::list, versions::retrieve, versions::diff, versions::restore,
        runs::list, runs::retrieve, runs::patch, runs::cancel, runs::states,
        health::healthz, health::readyz, crate::metrics::scrape,
    ),
    components(schemas(
        schema::Workflow, schema::WorkflowWrite, schema::WorkflowPatch, schema::WorkflowRun, schema::RunStatus, schema::RunWrite,
        schema::ExecuteRequest, schema::ExecutionReceipt, schema::WorkflowPage, schema::RunPage,
        schema::ErrorDetail, schema::ValidationError, schema::BadRequest, schema::StatusConflict,
        schema::PreconditionFailed, schema::Health, schema::Readiness, schema::StateMachine, schema::Validation, schema::BulkCancelled, schema::BulkDeleted,
        schema::WorkflowCounts, schema::RunCounts, schema::DurationStats, schema::TopWorkflow,
        schema::AnalyticsSummary, schema::Usage, schema::MoleculeUsage, schema::AtomUsage,
        schema::RunBucket, schema::RunSeries,
        schema::WorkflowRevision, schema::RevisionPage, schema::RevisionDiff,
    )),
    modifiers(&TokenAuth),
    tags(
        (name = "workflows", description = "Workflow definitions and their execution"),
        (name = "runs", description = "Workflow runs"),
        (name = "analytics", description = "Usage of apps, molecules and atoms, and how runs go"),
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

/// The document as served: paths under the configured base path, and optional request bodies
/// stated as such. (utoipa writes an optional body as `oneOf [body, null]`, which would promise that
/// a JSON `null` body is accepted; the contract answers it with 400.)
pub fn document_json(base_path: &str) -> serde_json::Value {
    let mut doc = serde_json::to_value(document(base_path)).unwrap_or_default();
    if let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) {
        for operation in paths
            .values_mut()
            .filter_map(|item| item.as_object_mut())
            .flat_map(|item| item.values_mut())
        {
            let Some(body) = operation.get_mut("requestBody") else {
                continue;
            };
            let mut optional = false;
            if let Some(content) = body.get_mut("content").and_then(|c| c.as_object_mut()) {
                for media in content.values_mut() {
                    let Some(schema) = media.get_mut("schema") else {
                        continue;
                    };
                    let inner = schema
                        .get("oneOf")
                        .and_then(|o| o.as_array())
                        .filter(|items| {
                            items.len() == 2 && items[1] == serde_json::json!({"type": "null"})
                        })
                        .map(|items| items[0].clone());
                    if let Some(inner) = inner {
                        *schema = inner;
                        optional = true;
                    }
                }
            }
            if optional {
                body["required"] = serde_json::Value::Bool(false);
            }
        }
    }
    doc
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
