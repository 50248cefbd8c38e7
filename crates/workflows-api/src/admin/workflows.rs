//! Workflow pages: the filtered list, the detail page with its graph and runs, and the actions
//! (execute, activate/deactivate, edit, delete).

use super::layout::{Nav, badge, ok, page, pager, when};
use super::{AdminError, AdminResult, CsrfForm, Signed, dag, param, query_pairs, see_other};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Map, Value};
use workflows_domain::{
    ExecutionRequest, Ordering, PageRequest, UserId, Workflow, WorkflowChanges, WorkflowFilter,
    WorkflowId,
};
use workflows_store::{Execution, StoreError};

const PAGE_SIZE: u64 = 20;

/// Short confirmations shown after an action; only these fixed texts, never request input.
fn notice(code: Option<&str>) -> Option<&'static str> {
    match code? {
        "saved" => Some("Saved."),
        "activated" => Some("The workflow is active: it may be executed."),
        "deactivated" => Some("The workflow is inactive: it cannot be executed until activated."),
        "inactive" => Some("An inactive workflow cannot be executed; activate it first."),
        "deleted" => Some("The workflow and its runs were deleted."),
        _ => None,
    }
}

pub(crate) async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    signed: Signed,
) -> AdminResult<HttpResponse> {
    let params = query_pairs(&req);
    let text = |key: &str| Some(param(&params, key).trim().to_owned()).filter(|v| !v.is_empty());
    let mut problems = Vec::new();
    let project_id = match text("project_id").map(|v| v.parse::<i32>()) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => {
            problems.push("Project must be a whole number; that filter was left out.");
            None
        }
    };
    let is_active = match param(&params, "is_active") {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    };
    let filter = WorkflowFilter {
        project_id,
        app_name: text("app_name"),
        molecule: text("molecule"),
        atom: text("atom"),
        search: text("search"),
        is_active,
        ..Default::default()
    };
    let page_number = param(&params, "page").parse::<u64>().unwrap_or(1).max(1);
    let request = PageRequest::new(page_number, PAGE_SIZE).map_err(|_| AdminError::NotFound)?;
    let found = match state
        .store
        .list_workflows(&signed.actor, &filter, Ordering::default(), request)
        .await
    {
        Err(StoreError::InvalidPage) => None,
        other => Some(other?),
    };
    let field = |name: &str, label: &str| {
        html! {
            div.field {
                label for=(name) { (label) }
                input id=(name) name=(name) type="text" value=(param(&params, name));
            }
        }
    };
    let body = html! {
        h1 { "Workflows" }
        @if let Some(text) = notice(text("notice").as_deref()) { p.notice role="status" { (text) } }
        form.filters method="get" action="/admin/workflows/" role="search" aria-label="Filter workflows" {
            (field("search", "Search"))
            (field("project_id", "Project"))
            (field("app_name", "App"))
            (field("molecule", "Molecule"))
            (field("atom", "Atom"))
            div.field {
                label for="is_active" { "Active" }
                select #is_active name="is_active" {
                    option value="" selected[is_active.is_none()] { "Any" }
                    option value="true" selected[is_active == Some(true)] { "Active" }
                    option value="false" selected[is_active == Some(false)] { "Inactive" }
                }
            }
            button type="submit" { "Filter" }
        }
        @for problem in &problems { p.error role="alert" { (problem) } }
        @match &found {
            None => p.empty { "No such page." },
            Some(found) if found.items.is_empty() => p.empty { "No workflows match." },
            Some(found) => {
                p.count { (found.count) " workflows" }
                div.table-wrap {
                    table data-testid="workflows" {
                        thead { tr {
                            th scope="col" { "Name" } th scope="col" { "Project" } th scope="col" { "App" }
                            th scope="col" { "Molecules" } th scope="col" { "Active" } th scope="col" { "Executions" } th scope="col" { "Updated" }
                        } }
                        tbody {
                            @for w in &found.items {
                                tr {
                                    td { a href={ "/admin/workflows/" (w.id) "/" } { (w.definition.name()) } }
                                    td { (w.definition.project_name()) " (" (w.definition.project_id()) ")" }
                                    td { (w.definition.app_name().unwrap_or("—")) }
                                    td { (w.definition.molecules_used().len()) }
                                    td { @if w.definition.is_active() { "yes" } @else { "no" } }
                                    td { (w.execution_count) }
                                    td { (when(w.updated_at)) }
                                }
                            }
                        }
                    }
                }
                (pager("/admin/workflows/", &params, page_number, found.has_next()))
            }
        }
    };
    Ok(ok(page("Workflows", &signed, Nav::Workflows, body)))
}

fn actions(w: &Workflow, signed: &Signed) -> Markup {
    html! {
        div.actions {
            form method="post" action={ "/admin/workflows/" (w.id) "/execute/" } {
                input type="hidden" name="csrf" value=(signed.csrf);
                button type="submit" disabled[!w.definition.is_active()] { "Execute" }
            }
            form method="post" action={ "/admin/workflows/" (w.id) "/active/" } {
                input type="hidden" name="csrf" value=(signed.csrf);
                input type="hidden" name="active" value=(if w.definition.is_active() { "false" } else { "true" });
                button type="submit" { @if w.definition.is_active() { "Deactivate" } @else { "Activate" } }
            }
            a.button href={ "/admin/workflows/" (w.id) "/edit/" } { "Edit" }
            a.button.danger href={ "/admin/workflows/" (w.id) "/delete/" } { "Delete" }
        }
    }
}

pub(crate) async fn detail(
    req: HttpRequest,
    state: web::Data<AppState>,
    signed: Signed,
    id: web::Path<i64>,
) -> AdminResult<HttpResponse> {
    let id = WorkflowId(*id);
    let w = state.store.get_workflow(&signed.actor, id).await?;
    let runs = state
        .store
        .list_workflow_runs(
            &signed.actor,
            id,
            Ordering::default(),
            PageRequest::default(),
        )
        .await?;
    let params = query_pairs(&req);
    let d = &w.definition;
    let body = html! {
        p.crumbs { a href="/admin/workflows/" { "Workflows" } " / " (d.name()) }
        h1 { (d.name()) }
        @if let Some(text) = notice(Some(param(&params, "notice"))) { p.notice role="status" { (text) } }
        (actions(&w, &signed))
        dl.facts {
            div { dt { "Slug" } dd { code { (d.slug().as_str()) } } }
            div { dt { "Project" } dd { (d.project_name()) " (" (d.project_id()) ")" } }
            div { dt { "App" } dd { (d.app_name().unwrap_or("—")) } }
            div { dt { "Active" } dd { @if d.is_active() { "yes" } @else { "no" } } }
            div { dt { "Version" } dd { (w.version) } }
            div { dt { "Executions" } dd data-figure="executions" { (w.execution_count) } }
            div { dt { "Last executed" } dd { (w.last_executed_at.map_or("never".to_owned(), when)) } }
            div { dt { "Owner" } dd { (w.user_id.map_or("—".to_owned(), |UserId(u)| u.to_string())) } }
            div { dt { "Created" } dd { (when(w.created_at)) } }
            div { dt { "Updated" } dd { (when(w.updated_at)) } }
        }
        @if let Some(description) = d.description() { p.description { (description) } }
        section aria-labelledby="graph" {
            h2 #graph { "Graph" }
            div.dag-wrap { (dag::draw(d.dag_spec())) }
        }
        section aria-labelledby="molecules" {
            h2 #molecules { "Molecules and atoms" }
            @if d.molecules_used().is_empty() { p.empty { "No molecules." } }
            @else {
                table {
                    thead { tr { th scope="col" { "Molecule" } th scope="col" { "Atoms, in order" } } }
                    tbody {
                        @for molecule in d.molecules_used() {
                            tr {
                                td { code { (molecule) } }
                                td {
                                    @match d.atoms_in_molecules().get(molecule) {
                                        Some(atoms) if !atoms.is_empty() => {
                                            ol.atoms { @for atom in atoms { li { code { (atom) } } } }
                                        }
                                        _ => "—",
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="recent-runs" {
            h2 #recent-runs { "Recent runs" }
            @if runs.items.is_empty() { p.empty { "No runs yet." } }
            @else {
                table data-testid="runs" {
                    thead { tr { th scope="col" { "Run" } th scope="col" { "Status" } th scope="col" { "Started" } th scope="col" { "Duration" } } }
                    tbody {
                        @for run in &runs.items {
                            tr {
                                td { a href={ "/admin/runs/" (run.id) "/" } { "#" (run.id) } }
                                td { (badge(run.status.as_str())) }
                                td { (when(run.started_at)) }
                                td { (run.duration_seconds().map_or("—".to_owned(), |s| format!("{s:.1} s"))) }
                            }
                        }
                    }
                }
                @if runs.count > runs.items.len() as u64 {
                    p { a href={ "/admin/runs/?workflow_id=" (w.id) } { "All " (runs.count) " runs" } }
                }
            }
        }
    };
    Ok(ok(page(d.name(), &signed, Nav::Workflows, body)))
}

pub(crate) async fn execute(
    state: web::Data<AppState>,
    signed: Signed,
    id: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> AdminResult<HttpResponse> {
    signed.check_csrf(&form.csrf)?;
    let id = WorkflowId(*id);
    match state
        .store
        .execute_workflow(&signed.actor, id, ExecutionRequest::default(), None)
        .await
    {
        Ok(Execution::Created(receipt) | Execution::Replayed(receipt)) => {
            if let Some(engine) = &state.engine {
                engine.wake.notify_one();
            }
            Ok(see_other(&format!("/admin/runs/{}/", receipt.run_id)))
        }
        Err(StoreError::WorkflowInactive) => Ok(see_other(&format!(
            "/admin/workflows/{id}/?notice=inactive"
        ))),
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub(crate) struct ActiveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    active: String,
}

pub(crate) async fn set_active(
    state: web::Data<AppState>,
    signed: Signed,
    id: web::Path<i64>,
    form: web::Form<ActiveForm>,
) -> AdminResult<HttpResponse> {
    signed.check_csrf(&form.csrf)?;
    let active = form.active == "true";
    let mut body = Map::new();
    body.insert("is_active".to_owned(), Value::Bool(active));
    let changes =
        WorkflowChanges::patch_from_json(&Value::Object(body)).map_err(|_| AdminError::Internal)?;
    let id = WorkflowId(*id);
    state
        .store
        .update_workflow(&signed.actor, id, &changes, None)
        .await?;
    let notice = if active { "activated" } else { "deactivated" };
    Ok(see_other(&format!(
        "/admin/workflows/{id}/?notice={notice}"
    )))
}

pub(crate) async fn delete_form(
    state: web::Data<AppState>,
    signed: Signed,
    id: web::Path<i64>,
) -> AdminResult<HttpResponse> {
    let id = WorkflowId(*id);
    let w = state.store.get_workflow(&signed.actor, id).await?;
    let runs = state
        .store
        .list_workflow_runs(
            &signed.actor,
            id,
            Ordering::default(),
            PageRequest::default(),
        )
        .await?;
    let body = html! {
        h1 { "Delete " (w.definition.name()) "?" }
        p { "This deletes the workflow, its history and its " strong { (runs.count) " runs" } ". It cannot be undone." }
        form method="post" action={ "/admin/workflows/" (w.id) "/delete/" } {
            input type="hidden" name="csrf" value=(signed.csrf);
            div.actions {
                button.danger type="submit" { "Yes, delete it" }
                a.button href={ "/admin/workflows/" (w.id) "/" } { "No, keep it" }
            }
        }
    };
    Ok(ok(page("Delete workflow", &signed, Nav::Workflows, body)))
}

pub(crate) async fn delete(
    state: web::Data<AppState>,
    signed: Signed,
    id: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> AdminResult<HttpResponse> {
    signed.check_csrf(&form.csrf)?;
    state
        .store
        .delete_workflow(&signed.actor, WorkflowId(*id), None)
        .await?;
    Ok(see_other("/admin/workflows/?notice=deleted"))
}
