//! The edit form: every writable field (JSON fields in text areas), each validation error next to
//! its field, and a stale form (someone saved meanwhile) refused instead of written over.

use super::layout::{Nav, html as respond, page};
use super::{AdminResult, Signed, see_other};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::html;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use workflows_domain::{ValidationErrors, Workflow, WorkflowChanges, WorkflowId};
use workflows_store::StoreError;

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
