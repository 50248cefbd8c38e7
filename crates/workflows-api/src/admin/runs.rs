//! Run pages: the list by status and workflow, and a run's progress per molecule and atom, which
//! refreshes itself while the run is under way.

use super::layout::{Nav, badge, ok, page, pager, when};
use super::{AdminError, AdminResult, CsrfForm, Signed, param, query_pairs, see_other};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;
use serde_json::Value;
use workflows_domain::{Ordering, PageRequest, RunFilter, RunId, RunStatus, WorkflowId};
use workflows_store::StoreError;

const PAGE_SIZE: u64 = 25;

pub(crate) async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    signed: Signed,
) -> AdminResult<HttpResponse> {
    let params = query_pairs(&req);
    let value = |key: &str| param(&params, key).trim();
    let status = value("status").parse::<RunStatus>().ok();
    let workflow_id = value("workflow_id").parse::<i64>().ok().map(WorkflowId);
    let filter = RunFilter {
        workflow_id,
        statuses: status.into_iter().collect(),
    };
    let page_number = value("page").parse::<u64>().unwrap_or(1).max(1);
    let request = PageRequest::new(page_number, PAGE_SIZE).map_err(|_| AdminError::NotFound)?;
    let found = match state
        .store
        .list_runs(&signed.actor, &filter, Ordering::default(), request)
        .await
    {
        Err(StoreError::InvalidPage) => None,
        other => Some(other?),
    };
    let body = html! {
        h1 { "Runs" }
        form.filters method="get" action="/admin/runs/" role="search" aria-label="Filter runs" {
            div.field {
                label for="status" { "Status" }
                select #status name="status" {
                    option value="" selected[status.is_none()] { "Any" }
                    @for s in RunStatus::ALL {
                        option value=(s.as_str()) selected[status == Some(s)] { (s.as_str()) }
                    }
                }
            }
            div.field {
                label for="workflow_id" { "Workflow id" }
                input #workflow_id name="workflow_id" type="text" inputmode="numeric" value=(value("workflow_id"));
            }
            button type="submit" { "Filter" }
        }
        @match &found {
            None => p.empty { "No such page." },
            Some(found) if found.items.is_empty() => p.empty { "No runs match." },
            Some(found) => {
                p.count { (found.count) " runs" }
                div.table-wrap {
                    table data-testid="runs" {
                        thead { tr {
                            th scope="col" { "Run" } th scope="col" { "Workflow" } th scope="col" { "Status" }
                            th scope="col" { "Started" } th scope="col" { "Duration" }
                        } }
                        tbody {
                            @for run in &found.items {
                                tr {
                                    td { a href={ "/admin/runs/" (run.id) "/" } { "#" (run.id) } }
                                    td { a href={ "/admin/workflows/" (run.workflow_id) "/" } { "workflow " (run.workflow_id) } }
                                    td { (badge(run.status.as_str())) }
                                    td { (when(run.started_at)) }
                                    td { (run.duration_seconds().map_or("—".to_owned(), |s| format!("{s:.1} s"))) }
                                }
                            }
                        }
                    }
                }
                (pager("/admin/runs/", &params, page_number, found.has_next()))
            }
        }
    };
    Ok(ok(page("Runs", &signed, Nav::Runs, body)))
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

pub(crate) async fn detail(
    state: web::Data<AppState>,
    signed: Signed,
    id: web::Path<i64>,
) -> AdminResult<HttpResponse> {
    let run = state.store.get_run(&signed.actor, RunId(*id)).await?;
    let workflow = state
        .store
        .get_workflow(&signed.actor, run.workflow_id)
        .await?;
    let molecules = run
        .result_data
        .get("molecules")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    // Molecules in the order the workflow runs them, then any the plan no longer lists.
    let mut order: Vec<String> = workflow
        .definition
        .dag_spec()
        .topological_order()
        .iter()
        .map(|s| (*s).to_owned())
        .filter(|id| molecules.contains_key(id))
        .collect();
    let unplanned: Vec<String> = molecules
        .keys()
        .filter(|k| !order.contains(k))
        .cloned()
        .collect();
    order.extend(unplanned);
    let active = !run.status.is_terminal();
    let api = format!("{}/runs/{}/", state.base_path, run.id);
    let body = html! {
        p.crumbs { a href="/admin/runs/" { "Runs" } " / #" (run.id) }
        h1 { "Run #" (run.id) " of " a href={ "/admin/workflows/" (workflow.id) "/" } { (workflow.definition.name()) } }
        div #run-status data-run-api=(api) data-active=(if active { "true" } else { "false" }) {
            p { "Status: " span data-testid="run-status" { (badge(run.status.as_str())) }
                @if active { " " span.live role="status" { "updating while it runs…" } }
            }
        }
        @if active {
            form method="post" action={ "/admin/runs/" (run.id) "/cancel/" } {
                input type="hidden" name="csrf" value=(signed.csrf);
                button.danger type="submit" { "Cancel run" }
            }
        }
        dl.facts {
            div { dt { "Started" } dd { (when(run.started_at)) } }
            div { dt { "Completed" } dd { (run.completed_at.map_or("—".to_owned(), when)) } }
            div { dt { "Duration" } dd { (run.duration_seconds().map_or("—".to_owned(), |s| format!("{s:.3} s"))) } }
            div { dt { "Workflow version" } dd { (run.workflow_version.map_or("—".to_owned(), |v| v.to_string())) } }
        }
        @if let Some(error) = &run.error_message { p.error role="alert" { (error) } }
        section aria-labelledby="progress" {
            h2 #progress { "Progress" }
            @if order.is_empty() {
                p.empty { "No progress recorded (a worker has not taken this run up, or it ran elsewhere)." }
            } @else {
                table data-testid="progress" {
                    thead { tr { th scope="col" { "Molecule / atom" } th scope="col" { "Status" } th scope="col" { "Attempts" } th scope="col" { "Error" } } }
                    tbody {
                        @for id in &order {
                            @let molecule = &molecules[id];
                            tr.molecule {
                                th scope="row" { code { (id) } }
                                td { (badge(text(molecule, "status"))) }
                                td {}
                                td { (text(molecule, "error")) }
                            }
                            @for atom in molecule.get("atoms").and_then(Value::as_array).into_iter().flatten() {
                                tr.atom {
                                    td { span.indent { "↳ " } code { (text(atom, "atom")) } }
                                    td { (badge(text(atom, "status"))) }
                                    td { (atom.get("attempts").and_then(Value::as_u64).unwrap_or(0)) }
                                    td { (text(atom, "error")) }
                                }
                            }
                        }
                    }
                }
            }
        }
        details {
            summary { "result_data (JSON)" }
            pre { (serde_json::to_string_pretty(&run.result_data).unwrap_or_default()) }
        }
    };
    Ok(ok(page(
        &format!("Run #{}", run.id),
        &signed,
        Nav::Runs,
        body,
    )))
}

pub(crate) async fn cancel(
    state: web::Data<AppState>,
    signed: Signed,
    id: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> AdminResult<HttpResponse> {
    signed.check_csrf(&form.csrf)?;
    let id = RunId(*id);
    match state.store.cancel_run(&signed.actor, id).await {
        // Finished meanwhile: the page shows how it ended.
        Ok(_) | Err(StoreError::AlreadyFinished(_)) => Ok(see_other(&format!("/admin/runs/{id}/"))),
        Err(other) => Err(other.into()),
    }
}
