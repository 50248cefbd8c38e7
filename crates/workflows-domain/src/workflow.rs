//! Workflow definitions: what a client may write, and a stored workflow.

use crate::dag::DagSpec;
use crate::errors::ValidationErrors;
use crate::fields::{BodyReader, expect_object};
use crate::ids::{UserId, WorkflowId};
use crate::slug::Slug;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use validator::Validate;

/// The writable fields of a workflow, checked: this value cannot be invalid.
///
/// Built from a request body with [`NewWorkflow::from_json`] or [`WorkflowChanges`], or read back
/// from storage with [`WorkflowDefinition::from_stored`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkflowDefinition {
    project_id: i32,
    project_name: String,
    name: String,
    slug: Slug,
    description: Option<String>,
    app_name: Option<String>,
    molecules_used: Vec<String>,
    atoms_in_molecules: BTreeMap<String, Vec<String>>,
    dag_spec: DagSpec,
    is_active: bool,
}

/// The field rules that `validator` expresses; the rest are checked while reading.
#[derive(Validate)]
struct LengthRules<'a> {
    #[validate(length(
        max = 255,
        message = "Ensure this field has no more than 255 characters."
    ))]
    project_name: Option<&'a str>,
    #[validate(length(
        max = 255,
        message = "Ensure this field has no more than 255 characters."
    ))]
    name: Option<&'a str>,
    #[validate(length(
        max = 255,
        message = "Ensure this field has no more than 255 characters."
    ))]
    app_name: Option<&'a str>,
}

/// Every writable field as read from a body; `None` where the body left it out.
#[derive(Debug, Default)]
struct DefinitionFields {
    project_id: Option<i32>,
    project_name: Option<String>,
    name: Option<String>,
    /// `Some(None)`: given as `""` or null, so derive it from the name.
    slug: Option<Option<Slug>>,
    description: Option<Option<String>>,
    app_name: Option<Option<String>>,
    molecules_used: Option<Vec<String>>,
    atoms_in_molecules: Option<BTreeMap<String, Vec<String>>>,
    dag_spec: Option<DagSpec>,
    is_active: Option<bool>,
}

impl DefinitionFields {
    /// Reads and checks every field the body has. `required` lists those it must have.
    fn read(body: &Value, required: bool) -> Result<Self, ValidationErrors> {
        let body = expect_object(body)?;
        let mut r = BodyReader::new(body);
        let mut fields = DefinitionFields::default();
        if required {
            fields.project_id = r
                .required("project_id")
                .and_then(|v| r.int32("project_id", v));
            fields.project_name = r
                .required("project_name")
                .and_then(|v| r.text("project_name", v));
            fields.name = r.required("name").and_then(|v| r.text("name", v));
        } else {
            fields.project_id = r.optional("project_id", BodyReader::int32);
            fields.project_name = r.optional("project_name", BodyReader::text);
            fields.name = r.optional("name", BodyReader::text);
        }
        fields.slug = r
            .nullable("slug", BodyReader::raw_text)
            .map(|slug| slug.filter(|s| !s.is_empty()))
            .and_then(|slug| match slug.map(|s| Slug::parse(&s)).transpose() {
                Ok(slug) => Some(slug),
                Err(e) => {
                    r.errors.add("slug", e.to_string());
                    None
                }
            });
        fields.description = r.nullable("description", BodyReader::raw_text);
        fields.app_name = r.nullable("app_name", |r, name, v| {
            let text = r.raw_text(name, v)?;
            Some(crate::fields::trim_white_space(&text).to_owned())
        });
        fields.molecules_used = r.optional("molecules_used", BodyReader::string_list);
        fields.atoms_in_molecules = r.optional("atoms_in_molecules", BodyReader::string_list_map);
        fields.dag_spec = r.optional("dag_spec", |r, name, v| match DagSpec::parse(v.clone()) {
            Ok(spec) => Some(spec),
            Err(messages) => {
                for message in messages {
                    r.errors.add(name, message);
                }
                None
            }
        });
        fields.is_active = r.optional("is_active", BodyReader::boolean);

        let rules = LengthRules {
            project_name: fields.project_name.as_deref(),
            name: fields.name.as_deref(),
            app_name: fields.app_name.as_ref().and_then(|a| a.as_deref()),
        };
        if let Err(e) = rules.validate() {
            r.errors.merge(e.into());
        }
        r.errors.into_result(fields)
    }
}

impl WorkflowDefinition {
    /// Assembles a full definition: what the fields give, defaults for the rest.
    fn from_complete(
        fields: DefinitionFields,
        project_id: i32,
        project_name: String,
        name: String,
    ) -> Self {
        let slug = fields
            .slug
            .flatten()
            .unwrap_or_else(|| Slug::derive_from(&name));
        Self {
            project_id,
            project_name,
            slug,
            name,
            description: fields.description.flatten(),
            app_name: fields.app_name.flatten().filter(|a| !a.is_empty()),
            molecules_used: fields.molecules_used.unwrap_or_default(),
            atoms_in_molecules: fields.atoms_in_molecules.unwrap_or_default(),
            dag_spec: fields.dag_spec.unwrap_or_default(),
            is_active: fields.is_active.unwrap_or(true),
        }
    }

    /// Reads a full definition (create and PUT): required fields must be there, the others take
    /// their defaults when left out.
    fn from_body(body: &Value) -> Result<Self, ValidationErrors> {
        let mut fields = DefinitionFields::read(body, true)?;
        // `read` with `required` has recorded an error for each of these if missing.
        match (
            fields.project_id.take(),
            fields.project_name.take(),
            fields.name.take(),
        ) {
            (Some(id), Some(project_name), Some(name)) => {
                Ok(Self::from_complete(fields, id, project_name, name))
            }
            _ => Err(ValidationErrors::single(
                crate::errors::NON_FIELD_ERRORS,
                "project_id, project_name and name are required.",
            )),
        }
    }

    /// Rebuilds a definition from stored columns, which the old Django app may also have written:
    /// missing JSON becomes its default and a `dag_spec` that does not parse keeps its JSON with no
    /// graph, instead of hiding the whole workflow.
    #[allow(clippy::too_many_arguments)]
    pub fn from_stored(
        project_id: i32,
        project_name: String,
        name: String,
        slug: String,
        description: Option<String>,
        app_name: Option<String>,
        molecules_used: Option<Value>,
        atoms_in_molecules: Option<Value>,
        dag_spec: Option<Value>,
        is_active: Option<bool>,
    ) -> Self {
        let molecules_used = molecules_used
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        let atoms_in_molecules = atoms_in_molecules
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        let dag_spec = dag_spec.map(DagSpec::from_stored).unwrap_or_default();
        Self {
            project_id,
            project_name,
            name,
            slug: Slug::from_stored(slug),
            description,
            app_name,
            molecules_used,
            atoms_in_molecules,
            dag_spec,
            is_active: is_active.unwrap_or(true),
        }
    }

    /// The project the workflow belongs to (a 32-bit id, as in the original schema).
    pub fn project_id(&self) -> i32 {
        self.project_id
    }
    /// The project's display name.
    pub fn project_name(&self) -> &str {
        &self.project_name
    }
    /// The workflow's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The workflow's slug.
    pub fn slug(&self) -> &Slug {
        &self.slug
    }
    /// Free text, or none.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    /// The app the workflow was drawn in, or none.
    pub fn app_name(&self) -> Option<&str> {
        self.app_name.as_deref()
    }
    /// Molecule ids, in the order the client gave them.
    pub fn molecules_used(&self) -> &[String] {
        &self.molecules_used
    }
    /// Each molecule's atoms, in order.
    pub fn atoms_in_molecules(&self) -> &BTreeMap<String, Vec<String>> {
        &self.atoms_in_molecules
    }
    /// The canvas graph.
    pub fn dag_spec(&self) -> &DagSpec {
        &self.dag_spec
    }
    /// Whether the workflow may be executed.
    pub fn is_active(&self) -> bool {
        self.is_active
    }
    /// `molecules_used` as the JSON stored in its column.
    pub fn molecules_used_json(&self) -> Value {
        Value::from(self.molecules_used.clone())
    }
    /// `atoms_in_molecules` as the JSON stored in its column.
    pub fn atoms_in_molecules_json(&self) -> Value {
        serde_json::to_value(&self.atoms_in_molecules).unwrap_or_default()
    }
}

/// A workflow to create (POST): a checked definition; the owner and timestamps come from the
/// caller and the store.
///
/// ```
/// use serde_json::json;
/// use workflows_domain::NewWorkflow;
///
/// let new = NewWorkflow::from_json(&json!({
///     "project_id": 123, "project_name": "Sales", "name": "Q4 Sales Analysis"
/// })).expect("valid");
/// assert_eq!(new.definition().slug().as_str(), "q4-sales-analysis");
///
/// let errors = NewWorkflow::from_json(&json!({"project_id": "abc"})).unwrap_err();
/// assert_eq!(errors.field("project_id"), ["A valid integer is required."]);
/// assert_eq!(errors.field("name"), ["This field is required."]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NewWorkflow(WorkflowDefinition);

impl NewWorkflow {
    /// Parses a create body; every offending field is reported.
    pub fn from_json(body: &Value) -> Result<Self, ValidationErrors> {
        WorkflowDefinition::from_body(body).map(Self)
    }

    /// The checked definition.
    pub fn definition(&self) -> &WorkflowDefinition {
        &self.0
    }

    /// Consumes it into the definition.
    pub fn into_definition(self) -> WorkflowDefinition {
        self.0
    }
}

/// A change to a stored workflow: PUT replaces every writable field, PATCH only those it names.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkflowChanges {
    /// PUT: a full definition; fields left out return to their defaults and an absent slug is
    /// derived from the new name.
    Replace(Box<WorkflowDefinition>),
    /// PATCH: only the named fields change; `"slug": ""` derives the slug again from the name.
    Patch(Box<WorkflowPatch>),
}

/// The fields a PATCH names.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WorkflowPatch {
    fields: PatchFields,
}

#[derive(Debug, Clone, PartialEq, Default)]
struct PatchFields {
    project_id: Option<i32>,
    project_name: Option<String>,
    name: Option<String>,
    slug: Option<Option<Slug>>,
    description: Option<Option<String>>,
    app_name: Option<Option<String>>,
    molecules_used: Option<Vec<String>>,
    atoms_in_molecules: Option<BTreeMap<String, Vec<String>>>,
    dag_spec: Option<DagSpec>,
    is_active: Option<bool>,
}

impl WorkflowChanges {
    /// Parses a PUT body.
    pub fn replace_from_json(body: &Value) -> Result<Self, ValidationErrors> {
        WorkflowDefinition::from_body(body).map(|d| Self::Replace(Box::new(d)))
    }

    /// Parses a PATCH body.
    pub fn patch_from_json(body: &Value) -> Result<Self, ValidationErrors> {
        let f = DefinitionFields::read(body, false)?;
        Ok(Self::Patch(Box::new(WorkflowPatch {
            fields: PatchFields {
                project_id: f.project_id,
                project_name: f.project_name,
                name: f.name,
                slug: f.slug,
                description: f.description,
                app_name: f.app_name,
                molecules_used: f.molecules_used,
                atoms_in_molecules: f.atoms_in_molecules,
                dag_spec: f.dag_spec,
                is_active: f.is_active,
            },
        })))
    }

    /// The definition after this change is applied to `current`.
    pub fn apply_to(&self, current: &WorkflowDefinition) -> WorkflowDefinition {
        match self {
            WorkflowChanges::Replace(definition) => (**definition).clone(),
            WorkflowChanges::Patch(patch) => patch.apply_to(current),
        }
    }
}

impl WorkflowPatch {
    fn apply_to(&self, current: &WorkflowDefinition) -> WorkflowDefinition {
        let f = &self.fields;
        let mut next = current.clone();
        if let Some(v) = f.project_id {
            next.project_id = v;
        }
        if let Some(v) = &f.project_name {
            next.project_name = v.clone();
        }
        if let Some(v) = &f.name {
            next.name = v.clone();
        }
        match &f.slug {
            Some(Some(slug)) => next.slug = slug.clone(),
            Some(None) => next.slug = Slug::derive_from(&next.name),
            None => {}
        }
        if let Some(v) = &f.description {
            next.description = v.clone();
        }
        if let Some(v) = &f.app_name {
            next.app_name = v.clone().filter(|a| !a.is_empty());
        }
        if let Some(v) = &f.molecules_used {
            next.molecules_used = v.clone();
        }
        if let Some(v) = &f.atoms_in_molecules {
            next.atoms_in_molecules = v.clone();
        }
        if let Some(v) = &f.dag_spec {
            next.dag_spec = v.clone();
        }
        if let Some(v) = f.is_active {
            next.is_active = v;
        }
        next
    }
}

/// A stored workflow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workflow {
    /// Its id.
    pub id: WorkflowId,
    /// The owner; none when the owning user was deleted (`ON DELETE SET NULL`).
    pub user_id: Option<UserId>,
    /// The writable fields.
    #[serde(flatten)]
    pub definition: WorkflowDefinition,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its definition last changed.
    pub updated_at: DateTime<Utc>,
    /// Starts at 1, rises by 1 on every successful PUT/PATCH; the `ETag`.
    pub version: i32,
    /// How many runs `execute` has created.
    pub execution_count: i32,
    /// When `execute` last created a run.
    pub last_executed_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn front_end_example() -> Value {
        json!({
            "project_id": 123,
            "project_name": "My Project",
            "name": "Data Analysis - Q4 Report - 10/13/2025, 3:45:00 PM",
            "slug": "data-analysis-q4-report-10-13-2025-3-45-00-pm",
            "app_name": "Trinity Analytics",
            "molecules_used": ["molecule-1", "molecule-2"],
            "atoms_in_molecules": {"molecule-1": ["atom-a", "atom-b"], "molecule-2": ["atom-c"]},
            "dag_spec": {"nodes": [{"id": "molecule-1"}, {"id": "molecule-2"}],
                          "edges": [{"source": "molecule-1", "target": "molecule-2"}], "metadata": {}}
        })
    }

    #[test]
    fn the_front_end_payload_is_accepted_as_sent() {
        let new = NewWorkflow::from_json(&front_end_example()).expect("valid");
        let d = new.definition();
        assert_eq!(d.project_id(), 123);
        assert_eq!(
            d.slug().as_str(),
            "data-analysis-q4-report-10-13-2025-3-45-00-pm"
        );
        assert_eq!(d.molecules_used(), ["molecule-1", "molecule-2"]);
        assert_eq!(d.atoms_in_molecules()["molecule-1"], ["atom-a", "atom-b"]);
        assert_eq!(d.dag_spec().raw(), &front_end_example()["dag_spec"]);
        assert!(d.is_active());
    }

    #[test]
    fn every_wrong_field_is_reported_at_once() {
        let errors = NewWorkflow::from_json(&json!({
            "project_id": 2147483648u64, "project_name": "  ", "name": "x".repeat(256),
            "slug": "no spaces", "is_active": "yes", "molecules_used": [1], "atoms_in_molecules": [],
            "dag_spec": {"edges": [{"id": "e2", "source": "a", "target": "x"}]}, "description": 5
        }))
        .unwrap_err();
        assert_eq!(
            errors.field("project_id"),
            ["Ensure this value is less than or equal to 2147483647."]
        );
        assert_eq!(
            errors.field("project_name"),
            ["This field may not be blank."]
        );
        assert_eq!(
            errors.field("name"),
            ["Ensure this field has no more than 255 characters."]
        );
        assert_eq!(errors.field("is_active"), ["Must be a valid boolean."]);
        assert_eq!(
            errors.field("molecules_used"),
            ["Item 0: Not a valid string."]
        );
        assert_eq!(
            errors.field("atoms_in_molecules"),
            ["Expected a dictionary of items but got type \"list\"."]
        );
        assert_eq!(
            errors.field("dag_spec"),
            [
                "edge 'e2' comes from unknown node 'a'",
                "edge 'e2' points to unknown node 'x'"
            ]
        );
        assert_eq!(errors.field("description"), ["Not a valid string."]);
        assert_eq!(errors.field("slug").len(), 1);
    }

    #[test]
    fn nul_characters_are_refused_in_every_field() {
        for (field, value) in [
            ("name", json!("a\u{0}b")),
            ("description", json!("\u{0}")),
            ("molecules_used", json!(["m\u{0}"])),
            ("atoms_in_molecules", json!({"m\u{0}": []})),
            ("dag_spec", json!({"metadata": {"note": "x\u{0}"}})),
        ] {
            let mut body = front_end_example();
            body[field] = value;
            let errors = NewWorkflow::from_json(&body).unwrap_err();
            assert_eq!(
                errors.field(field),
                ["Null characters are not allowed."],
                "{field}"
            );
        }
    }

    #[test]
    fn non_object_bodies_are_non_field_errors() {
        let errors = NewWorkflow::from_json(&json!([1])).unwrap_err();
        assert_eq!(
            errors.field("non_field_errors"),
            ["Invalid data. Expected a dictionary, but got list."]
        );
    }

    #[test]
    fn blank_means_what_the_schema_pattern_means() {
        let nel = NewWorkflow::from_json(
            &json!({"project_id": 1, "project_name": "p", "name": "\u{85}"}),
        )
        .expect("U+0085 is not \\s");
        assert_eq!(nel.definition().name(), "\u{85}");
        let errors = NewWorkflow::from_json(
            &json!({"project_id": 1, "project_name": "p", "name": "\u{feff}\u{3000} "}),
        )
        .unwrap_err();
        assert_eq!(errors.field("name"), ["This field may not be blank."]);
    }

    #[test]
    fn absent_or_empty_slug_is_derived_and_text_is_trimmed() {
        let new = NewWorkflow::from_json(
            &json!({"project_id": 1, "project_name": " P ", "name": "  Hello World ", "slug": ""}),
        )
        .expect("valid");
        assert_eq!(new.definition().slug().as_str(), "hello-world");
        assert_eq!(new.definition().name(), "Hello World");
        assert_eq!(new.definition().project_name(), "P");
    }

    #[test]
    fn patch_keeps_the_slug_unless_asked_to_derive_it() {
        let current = NewWorkflow::from_json(&front_end_example())
            .expect("valid")
            .into_definition();
        let renamed = WorkflowChanges::patch_from_json(&json!({"name": "New Name"}))
            .expect("valid")
            .apply_to(&current);
        assert_eq!(renamed.name(), "New Name");
        assert_eq!(renamed.slug(), current.slug());
        assert_eq!(renamed.molecules_used(), current.molecules_used());
        let rederived = WorkflowChanges::patch_from_json(&json!({"name": "New Name", "slug": ""}))
            .expect("valid")
            .apply_to(&current);
        assert_eq!(rederived.slug().as_str(), "new-name");
    }

    #[test]
    fn put_returns_left_out_fields_to_their_defaults() {
        let current = NewWorkflow::from_json(&front_end_example())
            .expect("valid")
            .into_definition();
        let replaced = WorkflowChanges::replace_from_json(
            &json!({"project_id": 9, "project_name": "P", "name": "Other"}),
        )
        .expect("valid")
        .apply_to(&current);
        assert_eq!(replaced.slug().as_str(), "other");
        assert!(replaced.molecules_used().is_empty());
        assert_eq!(replaced.app_name(), None);
        assert_eq!(replaced.dag_spec().raw(), &json!({}));
    }

    #[test]
    fn patch_refuses_null_for_required_fields() {
        let errors =
            WorkflowChanges::patch_from_json(&json!({"name": null, "is_active": 1})).unwrap_err();
        assert_eq!(errors.field("name"), ["This field may not be null."]);
        assert_eq!(errors.field("is_active"), ["Must be a valid boolean."]);
    }
}
