//! A stored workflow answered as JSON with its JSON columns passed through, not parsed.

use crate::ids::{UserId, WorkflowId};
use crate::json_shape::{is_list_of_strings, is_object_of_lists_of_strings};
use crate::rfc3339;
use chrono::{DateTime, Utc};
use serde::de::IgnoredAny;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

/// A stored workflow ready to be answered: it serialises to the same JSON as the [`Workflow`]
/// read from the same row, but its `molecules_used`, `atoms_in_molecules` and `dag_spec` go out
/// as the database holds them.
///
/// Reading a page of workflows into [`Workflow`]s parses every JSON column into a tree (and the
/// DAG into a graph) only to write it out again; that was most of a list page's cost. Use this
/// where a stored workflow is only answered, and [`Workflow`] where it is read or changed.
///
/// The two agree value for value (object keys may come in another order, and numbers keep the
/// stored text): stored JSON that [`WorkflowDefinition::from_stored`] would replace with a
/// default is replaced with the same default here.
///
/// [`Workflow`]: crate::Workflow
/// [`WorkflowDefinition::from_stored`]: crate::WorkflowDefinition::from_stored
#[derive(Debug, Clone, Serialize)]
pub struct WorkflowDocument {
    /// Its id.
    pub id: WorkflowId,
    /// The owner; none when the owning user was deleted.
    pub user_id: Option<UserId>,
    /// The project (a 32-bit id, as in the original schema).
    pub project_id: i32,
    /// The project's display name.
    pub project_name: String,
    /// The workflow's name.
    pub name: String,
    /// Its slug, as stored.
    pub slug: String,
    /// Free text, or none.
    pub description: Option<String>,
    /// The app it was drawn in, or none.
    pub app_name: Option<String>,
    /// A list of molecule ids.
    pub molecules_used: StoredJson,
    /// Molecule id to its atom ids.
    pub atoms_in_molecules: StoredJson,
    /// The canvas graph, as the client sent it.
    pub dag_spec: StoredJson,
    /// Whether it may be executed.
    pub is_active: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its definition last changed.
    pub updated_at: DateTime<Utc>,
    /// The `ETag`.
    pub version: i32,
    /// How many runs `execute` has created.
    pub execution_count: i32,
    /// When `execute` last created a run.
    pub last_executed_at: Option<DateTime<Utc>>,
}

/// One stored JSON column, checked to have the column's shape: written out verbatim, or as the
/// column's default when it does not.
#[derive(Debug, Clone)]
pub struct StoredJson(Stored);

#[derive(Debug, Clone)]
enum Stored {
    /// JSON of the column's shape.
    Text(String),
    EmptyList,
    EmptyObject,
}

impl StoredJson {
    /// `molecules_used`: a list of strings; anything else (missing, not JSON, another shape)
    /// reads as `[]`.
    pub fn molecules_used(stored: Option<String>) -> Self {
        Self::shaped(stored, is_list_of_strings, Stored::EmptyList)
    }

    /// `atoms_in_molecules`: an object whose values are lists of strings; anything else reads
    /// as `{}`.
    pub fn atoms_in_molecules(stored: Option<String>) -> Self {
        Self::shaped(stored, is_object_of_lists_of_strings, Stored::EmptyObject)
    }

    /// `dag_spec`: any JSON is kept (a graph an older writer left invalid is still shown);
    /// missing or not JSON reads as `{}`.
    pub fn dag_spec(stored: Option<String>) -> Self {
        Self::shaped(stored, is_json, Stored::EmptyObject)
    }

    /// `dag_spec` as PostgreSQL writes a `jsonb` value out as text, kept without
    /// [`StoredJson::dag_spec`]'s check: that text is always JSON, and checking it again was
    /// about a tenth of a list page's CPU (bench/README finding 24). Text from anywhere else
    /// must go through [`StoredJson::dag_spec`]; text that is not JSON given here makes
    /// [`WorkflowDocument::write_json`] write something that is not JSON either.
    pub fn dag_spec_from_jsonb(stored: Option<String>) -> Self {
        Self(stored.map_or(Stored::EmptyObject, Stored::Text))
    }

    /// The JSON text that will be written.
    pub fn get(&self) -> &str {
        match &self.0 {
            Stored::Text(text) => text,
            Stored::EmptyList => "[]",
            Stored::EmptyObject => "{}",
        }
    }

    fn shaped(stored: Option<String>, has_shape: fn(&str) -> bool, default: Stored) -> Self {
        let checked = stored.filter(|text| has_shape(text));
        Self(checked.map_or(default, Stored::Text))
    }
}

impl Serialize for StoredJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeMap, SerializeSeq};
        match &self.0 {
            // serde can write text out as it is only through a raw value, which checks it once
            // more; `WorkflowDocument::write_json` does without.
            Stored::Text(text) => serde_json::from_str::<&RawValue>(text)
                .map_err(|e| S::Error::custom(format!("stored JSON that is not JSON: {e}")))?
                .serialize(serializer),
            Stored::EmptyList => serializer.serialize_seq(Some(0))?.end(),
            Stored::EmptyObject => serializer.serialize_map(Some(0))?.end(),
        }
    }
}

impl WorkflowDocument {
    /// Appends the JSON that its `Serialize` writes, byte for byte, copying the stored JSON as
    /// it is instead of checking it once more on the way out (serde can only write unchecked
    /// text through a raw value, which checks it).
    pub fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        fn next_key(out: &mut Vec<u8>, key: &str) -> serde_json::Result<()> {
            out.push(b',');
            serde_json::to_writer(&mut *out, key)?;
            out.push(b':');
            Ok(())
        }
        fn field(out: &mut Vec<u8>, key: &str, value: &impl Serialize) -> serde_json::Result<()> {
            next_key(out, key)?;
            serde_json::to_writer(&mut *out, value)
        }
        fn stored(out: &mut Vec<u8>, key: &str, value: &StoredJson) -> serde_json::Result<()> {
            next_key(out, key)?;
            out.extend_from_slice(value.get().as_bytes());
            Ok(())
        }
        // chrono's `Serialize` writes this same RFC 3339 text through serde's string escaper, a
        // character at a time: about 5 % of a GET's instructions for three timestamps
        // (bench/README.md finding 39). Its characters never need escaping.
        fn timestamp(out: &mut Vec<u8>, key: &str, at: &DateTime<Utc>) -> serde_json::Result<()> {
            next_key(out, key)?;
            out.push(b'"');
            rfc3339::write_utc(out, at);
            out.push(b'"');
            Ok(())
        }
        // The order of the fields as declared, which is the order `Serialize` writes them in.
        out.extend_from_slice(b"{\"id\":");
        serde_json::to_writer(&mut *out, &self.id)?;
        field(out, "user_id", &self.user_id)?;
        field(out, "project_id", &self.project_id)?;
        field(out, "project_name", &self.project_name)?;
        field(out, "name", &self.name)?;
        field(out, "slug", &self.slug)?;
        field(out, "description", &self.description)?;
        field(out, "app_name", &self.app_name)?;
        stored(out, "molecules_used", &self.molecules_used)?;
        stored(out, "atoms_in_molecules", &self.atoms_in_molecules)?;
        stored(out, "dag_spec", &self.dag_spec)?;
        field(out, "is_active", &self.is_active)?;
        timestamp(out, "created_at", &self.created_at)?;
        timestamp(out, "updated_at", &self.updated_at)?;
        field(out, "version", &self.version)?;
        field(out, "execution_count", &self.execution_count)?;
        match &self.last_executed_at {
            Some(at) => timestamp(out, "last_executed_at", at)?,
            None => field(out, "last_executed_at", &None::<()>)?,
        }
        out.push(b'}');
        Ok(())
    }
}

fn is_json(text: &str) -> bool {
    serde_json::from_str::<IgnoredAny>(text).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Workflow, WorkflowDefinition};
    use serde_json::{Value, json};

    fn document(molecules: Option<&str>, atoms: Option<&str>, dag: Option<&str>) -> Value {
        serde_json::to_value(stored_document(molecules, atoms, dag)).expect("serialises")
    }

    fn stored_document(
        molecules: Option<&str>,
        atoms: Option<&str>,
        dag: Option<&str>,
    ) -> WorkflowDocument {
        let at = DateTime::<Utc>::from_timestamp(1_700_000_000, 5_000).expect("a time");
        WorkflowDocument {
            id: WorkflowId(7),
            user_id: Some(UserId(3)),
            project_id: 12,
            project_name: "P".into(),
            name: "N".into(),
            slug: "n".into(),
            description: None,
            app_name: Some("Lab".into()),
            molecules_used: StoredJson::molecules_used(molecules.map(str::to_owned)),
            atoms_in_molecules: StoredJson::atoms_in_molecules(atoms.map(str::to_owned)),
            dag_spec: StoredJson::dag_spec(dag.map(str::to_owned)),
            is_active: true,
            created_at: at,
            updated_at: at,
            version: 2,
            execution_count: 4,
            last_executed_at: None,
        }
    }

    fn workflow(molecules: Option<&str>, atoms: Option<&str>, dag: Option<&str>) -> Value {
        let at = DateTime::<Utc>::from_timestamp(1_700_000_000, 5_000).expect("a time");
        let parse = |text: Option<&str>| text.map(|t| serde_json::from_str(t).expect("JSON"));
        serde_json::to_value(Workflow {
            id: WorkflowId(7),
            user_id: Some(UserId(3)),
            definition: WorkflowDefinition::from_stored(
                12,
                "P".into(),
                "N".into(),
                "n".into(),
                None,
                Some("Lab".into()),
                parse(molecules),
                parse(atoms),
                parse(dag),
                Some(true),
            ),
            created_at: at,
            updated_at: at,
            version: 2,
            execution_count: 4,
            last_executed_at: None,
        })
        .expect("serialises")
    }

    #[test]
    fn answers_what_the_parsed_workflow_answers_for_every_stored_shape() {
        let molecules = [
            None,
            Some(r#"["m-1", "m-2"]"#),
            Some("[]"),
            Some("null"),
            Some(r#"["m-1", 2]"#),
            Some(r#"{"m-1": []}"#),
            Some(r#""m-1""#),
            Some(r#"["caf\u00e9", "a\"b"]"#),
        ];
        let atoms = [
            None,
            Some(r#"{"m-1": ["a-1", "a-2"], "m-2": []}"#),
            Some("{}"),
            Some("null"),
            Some(r#"{"m-1": "a-1"}"#),
            Some(r#"{"m-1": [1]}"#),
            Some(r#"{"m-1": null}"#),
            Some(r#"[["a-1"]]"#),
        ];
        let dags = [
            None,
            Some(r#"{"nodes": [{"id": "a", "position": {"x": 1.5, "y": -2}}], "edges": []}"#),
            Some("{}"),
            Some("null"),
            Some("[1, 2]"),
            Some(r#"{"nodes": [{"id": "a"}, {"id": "a"}]}"#),
            Some(r#"{"nodes": [{"id": "a"}], "edges": [{"source": "a", "target": "a"}]}"#),
        ];
        for m in molecules {
            for a in atoms {
                for d in dags {
                    assert_eq!(document(m, a, d), workflow(m, a, d), "{m:?} {a:?} {d:?}");
                }
            }
        }
    }

    fn written(document: &WorkflowDocument) -> String {
        let mut out = Vec::new();
        document.write_json(&mut out).expect("writes");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn write_json_writes_what_serialize_writes() {
        let shapes = [
            None,
            Some(r#"["m-1", "a\"b"]"#),
            Some(r#"{"m-1": ["a-1"], "m-2": []}"#),
            Some("null"),
            Some("[1, 2]"),
            Some(r#"{"nodes": [{"id": "caf\u00e9", "x": 1.50}], "edges": []}"#),
        ];
        for m in shapes {
            for a in shapes {
                for d in shapes {
                    let document = stored_document(m, a, d);
                    let serialized = serde_json::to_string(&document).expect("serialises");
                    assert_eq!(written(&document), serialized, "{m:?} {a:?} {d:?}");
                }
            }
        }
        // Whole seconds, then milli-, micro- and nanoseconds, each written with its own digits.
        for nanos in [0, 5_000_000, 5_000, 5] {
            let mut document = stored_document(None, None, None);
            document.updated_at = DateTime::from_timestamp(1_700_000_000, nanos).expect("a time");
            document.last_executed_at =
                Some(DateTime::from_timestamp(-61_000_000_000, nanos).expect("year 37"));
            let serialized = serde_json::to_string(&document).expect("serialises");
            assert_eq!(written(&document), serialized, "{nanos}");
        }
        let mut document = stored_document(None, None, None);
        document.name = "quote \" backslash \\ newline \n nul \u{0} é".into();
        document.description = Some("\u{1f600}\t".into());
        document.app_name = None;
        document.user_id = None;
        document.last_executed_at = Some(document.created_at);
        document.dag_spec =
            StoredJson::dag_spec_from_jsonb(Some(r#"{"a": [1, {"b": null}]}"#.into()));
        let serialized = serde_json::to_string(&document).expect("serialises");
        assert_eq!(written(&document), serialized);
        let parsed: Value = serde_json::from_str(&serialized).expect("JSON");
        assert_eq!(
            parsed["name"],
            json!("quote \" backslash \\ newline \n nul \u{0} é")
        );
        assert_eq!(parsed["dag_spec"], json!({"a": [1, {"b": null}]}));
    }

    #[test]
    fn jsonb_text_is_kept_unchecked_and_serde_refuses_it_when_it_is_not_json() {
        assert_eq!(StoredJson::dag_spec_from_jsonb(None).get(), "{}");
        let kept = StoredJson::dag_spec_from_jsonb(Some("[1, 2]".into()));
        assert_eq!(kept.get(), "[1, 2]");
        let broken = StoredJson::dag_spec_from_jsonb(Some("{".into()));
        assert_eq!(broken.get(), "{");
        assert!(serde_json::to_string(&broken).is_err());
    }

    #[test]
    fn text_that_is_not_json_reads_as_the_default() {
        let answer = document(Some("[\"m-1\""), Some("{"), Some("nodes"));
        assert_eq!(answer["molecules_used"], json!([]));
        assert_eq!(answer["atoms_in_molecules"], json!({}));
        assert_eq!(answer["dag_spec"], json!({}));
        let written = serde_json::to_string(&StoredJson::molecules_used(None)).expect("writes");
        assert_eq!(written, "[]");
        assert_eq!(StoredJson::dag_spec(Some("x".into())).get(), "{}");
    }

    #[test]
    fn stored_text_goes_out_unchanged() {
        let stored = r#"{"nodes": [{"id": "a", "n": 12345678901234567890123}], "z": 1.10}"#;
        let spec = StoredJson::dag_spec(Some(stored.to_owned()));
        assert_eq!(spec.get(), stored);
        let written = serde_json::to_string(&spec).expect("serialises");
        assert_eq!(written, stored);
    }
}
