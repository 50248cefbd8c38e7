//! Workflow pages: the filtered list, the detail page with its graph and runs, and the actions
//! (execute, activate/deactivate, edit, delete).

use super::layout::{Nav, badge, html as respond, ok, page, pager, when};
use super::{AdminError, AdminResult, Signed, dag, see_other};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use workflows_domain::{
    ExecutionRequest, Ordering, PageRequest, UserId, ValidationErrors, Workflow, WorkflowChanges,
    WorkflowFilter, WorkflowId,
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

fn pairs(req: &HttpRequest) -> Vec<(String, String)> {
    serde_urlencoded::from_str(req.query_string()).unwrap_or_default()
}

fn param<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub(crate) async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    signed: Signed,
) -> AdminResult<HttpResponse> {
    let params = pairs(&req);
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
    let params = pairs(&req);
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

/// The edit form's fields, as typed.
#[derive(Deserialize, Default)]
pub(crate) struct EditForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    project_id: String,
    #[serde(default)]
    project_name: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    app_name: String,
    #[serde(default)]
    molecules_used: String,
    #[serde(default)]
    atoms_in_molecules: String,
    #[serde(default)]
    dag_spec: String,
    is_active: Option<String>,
}

impl EditForm {
    fn of(w: &Workflow) -> Self {
        let d = &w.definition;
        let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
        Self {
            csrf: String::new(),
            version: w.version.to_string(),
            project_id: d.project_id().to_string(),
            project_name: d.project_name().to_owned(),
            name: d.name().to_owned(),
            slug: d.slug().as_str().to_owned(),
            description: d.description().unwrap_or("").to_owned(),
            app_name: d.app_name().unwrap_or("").to_owned(),
            molecules_used: pretty(&d.molecules_used_json()),
            atoms_in_molecules: pretty(&d.atoms_in_molecules_json()),
            dag_spec: pretty(d.dag_spec().raw()),
            is_active: d.is_active().then(|| "on".to_owned()),
        }
    }

    /// The PUT body the form describes, or the fields that are not even JSON.
    fn body(&self) -> (Value, BTreeMap<String, Vec<String>>) {
        let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut body = Map::new();
        match self.project_id.trim().parse::<i64>() {
            Ok(id) => {
                body.insert("project_id".into(), Value::from(id));
            }
            Err(_) => {
                errors
                    .entry("project_id".into())
                    .or_default()
                    .push("A valid integer is required.".into());
            }
        }
        for (key, text) in [
            ("project_name", &self.project_name),
            ("name", &self.name),
            ("slug", &self.slug),
        ] {
            body.insert(key.into(), Value::from(text.as_str()));
        }
        for (key, text) in [
            ("description", &self.description),
            ("app_name", &self.app_name),
        ] {
            let value = if text.is_empty() {
                Value::Null
            } else {
                Value::from(text.as_str())
            };
            body.insert(key.into(), value);
        }
        for (key, text) in [
            ("molecules_used", &self.molecules_used),
            ("atoms_in_molecules", &self.atoms_in_molecules),
            ("dag_spec", &self.dag_spec),
        ] {
            match serde_json::from_str::<Value>(if text.trim().is_empty() { "null" } else { text })
            {
                Ok(Value::Null) => {}
                Ok(value) => {
                    body.insert(key.into(), value);
                }
                Err(e) => errors
                    .entry(key.into())
                    .or_default()
                    .push(format!("Enter valid JSON: {e}.")),
            }
        }
        body.insert("is_active".into(), Value::Bool(self.is_active.is_some()));
        (Value::Object(body), errors)
    }
}

fn edit_page(
    status: StatusCode,
    signed: &Signed,
    w: &Workflow,
    form: &EditForm,
    errors: &BTreeMap<String, Vec<String>>,
    general: Option<&str>,
) -> HttpResponse {
    let field_errors = |name: &str| {
        html! {
            @if let Some(messages) = errors.get(name) {
                ul.error id={ (name) "-error" } role="alert" { @for m in messages { li { (m) } } }
            }
        }
    };
    let described = |name: &str| errors.contains_key(name).then(|| format!("{name}-error"));
    let input = |name: &str, label: &str, value: &str| {
        html! {
            div.field {
                label for=(name) { (label) }
                input id=(name) name=(name) type="text" value=(value)
                    aria-invalid=[errors.contains_key(name).then_some("true")] aria-describedby=[described(name)];
                (field_errors(name))
            }
        }
    };
    let area = |name: &str, label: &str, value: &str, rows: u32| {
        html! {
            div.field {
                label for=(name) { (label) }
                textarea id=(name) name=(name) rows=(rows) spellcheck="false"
                    aria-invalid=[errors.contains_key(name).then_some("true")] aria-describedby=[described(name)] { (value) }
                (field_errors(name))
            }
        }
    };
    let others: Vec<&String> = errors
        .iter()
        .filter(|(k, _)| {
            ![
                "project_id",
                "project_name",
                "name",
                "slug",
                "description",
                "app_name",
                "molecules_used",
                "atoms_in_molecules",
                "dag_spec",
                "is_active",
            ]
            .contains(&k.as_str())
        })
        .flat_map(|(_, v)| v)
        .collect();
    let body = html! {
        p.crumbs { a href="/admin/workflows/" { "Workflows" } " / " a href={ "/admin/workflows/" (w.id) "/" } { (w.definition.name()) } " / edit" }
        h1 { "Edit " (w.definition.name()) }
        @if let Some(general) = general { p.error role="alert" { (general) } }
        @if !errors.is_empty() { p.error role="alert" #form-errors { "Please correct the fields marked below." } }
        @for message in others { p.error role="alert" { (message) } }
        form.edit method="post" action={ "/admin/workflows/" (w.id) "/edit/" } novalidate {
            input type="hidden" name="csrf" value=(signed.csrf);
            input type="hidden" name="version" value=(form.version);
            (input("project_id", "Project id", &form.project_id))
            (input("project_name", "Project name", &form.project_name))
            (input("name", "Name", &form.name))
            (input("slug", "Slug (empty: derived from the name)", &form.slug))
            (area("description", "Description", &form.description, 3))
            (input("app_name", "App", &form.app_name))
            (area("molecules_used", "Molecules used (JSON list)", &form.molecules_used, 4))
            (area("atoms_in_molecules", "Atoms in molecules (JSON object)", &form.atoms_in_molecules, 6))
            (area("dag_spec", "DAG spec (JSON object)", &form.dag_spec, 12))
            div.field.check {
                input #is_active type="checkbox" name="is_active" checked[form.is_active.is_some()];
                label for="is_active" { "Active (may be executed)" }
                (field_errors("is_active"))
            }
            div.actions {
                button type="submit" { "Save" }
                a.button href={ "/admin/workflows/" (w.id) "/" } { "Cancel" }
            }
        }
    };
    respond(status, page("Edit workflow", signed, Nav::Workflows, body))
}

pub(crate) async fn edit_form(
    state: web::Data<AppState>,
    signed: Signed,
    id: web::Path<i64>,
) -> AdminResult<HttpResponse> {
    let w = state
        .store
        .get_workflow(&signed.actor, WorkflowId(*id))
        .await?;
    Ok(edit_page(
        StatusCode::OK,
        &signed,
        &w,
        &EditForm::of(&w),
        &BTreeMap::new(),
        None,
    ))
}

pub(crate) async fn edit(
    state: web::Data<AppState>,
    signed: Signed,
    id: web::Path<i64>,
    form: web::Form<EditForm>,
) -> AdminResult<HttpResponse> {
    signed.check_csrf(&form.csrf)?;
    let id = WorkflowId(*id);
    let w = state.store.get_workflow(&signed.actor, id).await?;
    let (body, mut errors) = form.body();
    let changes = match WorkflowChanges::replace_from_json(&body) {
        Ok(changes) => Some(changes),
        Err(refused) => {
            merge(&mut errors, &refused);
            None
        }
    };
    let (Some(changes), true) = (changes, errors.is_empty()) else {
        return Ok(edit_page(
            StatusCode::BAD_REQUEST,
            &signed,
            &w,
            &form,
            &errors,
            None,
        ));
    };
    let version = form.version.parse::<i32>().ok();
    match state
        .store
        .update_workflow(&signed.actor, id, &changes, version)
        .await
    {
        Ok(_) => Ok(see_other(&format!("/admin/workflows/{id}/?notice=saved"))),
        Err(StoreError::StaleVersion { current }) => Ok(edit_page(
            StatusCode::CONFLICT,
            &signed,
            &w,
            &form,
            &errors,
            Some(&format!(
                "Someone else changed this workflow meanwhile (it is now at version {current}). \
                 Open it again to see their change before saving yours."
            )),
        )),
        Err(other) => Err(other.into()),
    }
}

fn merge(into: &mut BTreeMap<String, Vec<String>>, refused: &ValidationErrors) {
    if let Ok(Value::Object(fields)) = serde_json::to_value(refused) {
        for (field, messages) in fields {
            let list = into.entry(field).or_default();
            for m in messages.as_array().into_iter().flatten() {
                if let Some(m) = m.as_str() {
                    list.push(m.to_owned());
                }
            }
        }
    }
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
