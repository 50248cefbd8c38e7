//! Definition history: the revisions of a workflow, and what changed between two of them in the
//! terms a canvas user thinks in (nodes, edges, molecules, atoms, fields) rather than as a text diff.

use crate::ids::{UserId, WorkflowId};
use crate::workflow::WorkflowDefinition;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// One stored revision of a workflow's definition. Version 1 is the create; each successful
/// PUT/PATCH (a restore included) adds the next.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkflowRevision {
    /// The workflow it belongs to.
    pub workflow_id: WorkflowId,
    /// The workflow's `version` right after the change.
    pub version: i32,
    /// When the change was made.
    pub created_at: DateTime<Utc>,
    /// Who made the change; none when that user was since deleted, or the revision was recorded
    /// from a row another writer (the old Django app) changed.
    pub user_id: Option<UserId>,
    /// The definition as it stood at this version.
    #[serde(flatten)]
    pub definition: WorkflowDefinition,
}

/// A scalar field's old and new value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// The value in the older revision.
    pub from: Value,
    /// The value in the newer revision.
    pub to: Value,
}

/// A node present in both revisions whose JSON differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedNode {
    /// The node's id.
    pub id: String,
    /// The keys of the node object that were added, removed or given another value, sorted.
    pub keys: Vec<String>,
}

/// Node changes, matched by node id.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct NodeChanges {
    /// Ids only in the newer revision, in its order.
    pub added: Vec<String>,
    /// Ids only in the older revision, in its order.
    pub removed: Vec<String>,
    /// Nodes in both whose objects differ.
    pub changed: Vec<ChangedNode>,
}

/// An edge, identified by the nodes it joins (its own `id`, if any, is presentation).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct EdgeRef {
    /// The upstream node's id.
    pub source: String,
    /// The downstream node's id.
    pub target: String,
}

/// Edge changes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct EdgeChanges {
    /// Edges only in the newer revision.
    pub added: Vec<EdgeRef>,
    /// Edges only in the older revision.
    pub removed: Vec<EdgeRef>,
}

/// Changes to `molecules_used`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct MoleculeChanges {
    /// Molecules only in the newer revision.
    pub added: Vec<String>,
    /// Molecules only in the older revision.
    pub removed: Vec<String>,
    /// Whether the molecules kept by both appear in another order.
    pub reordered: bool,
}

/// One atom of one molecule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct AtomRef {
    /// The molecule the atom belongs to.
    pub molecule: String,
    /// The atom's id.
    pub atom: String,
}

/// Changes to `atoms_in_molecules`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct AtomChanges {
    /// Atoms only in the newer revision.
    pub added: Vec<AtomRef>,
    /// Atoms only in the older revision.
    pub removed: Vec<AtomRef>,
    /// Molecules whose shared atoms appear in another order.
    pub reordered: Vec<String>,
}

/// What changed from one revision to another.
///
/// ```
/// use serde_json::json;
/// use workflows_domain::{DefinitionDiff, NewWorkflow};
///
/// let before = NewWorkflow::from_json(&json!({
///     "project_id": 1, "project_name": "P", "name": "Sales",
///     "molecules_used": ["load", "clean"],
///     "dag_spec": {"nodes": [{"id": "load"}, {"id": "clean"}],
///                  "edges": [{"source": "load", "target": "clean"}]}
/// })).unwrap().into_definition();
/// let after = NewWorkflow::from_json(&json!({
///     "project_id": 1, "project_name": "P", "name": "Sales v2",
///     "molecules_used": ["load", "report"],
///     "dag_spec": {"nodes": [{"id": "load", "position": {"x": 5}}, {"id": "report"}],
///                  "edges": [{"source": "load", "target": "report"}]}
/// })).unwrap().into_definition();
///
/// let diff = DefinitionDiff::between(&before, &after);
/// assert_eq!(diff.nodes.added, ["report"]);
/// assert_eq!(diff.nodes.removed, ["clean"]);
/// assert_eq!(diff.nodes.changed[0].keys, ["position"]);
/// assert_eq!(diff.molecules.removed, ["clean"]);
/// assert_eq!(diff.fields["name"].to, json!("Sales v2"));
/// assert!(!DefinitionDiff::between(&before, &before).changed);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DefinitionDiff {
    /// Whether anything differs at all.
    pub changed: bool,
    /// Scalar fields that differ, by field name.
    pub fields: BTreeMap<&'static str, FieldChange>,
    /// The graph's nodes.
    pub nodes: NodeChanges,
    /// The graph's edges.
    pub edges: EdgeChanges,
    /// `molecules_used`.
    pub molecules: MoleculeChanges,
    /// `atoms_in_molecules`.
    pub atoms: AtomChanges,
    /// Other top-level keys of `dag_spec` (layout, metadata) that differ, sorted.
    pub dag_spec_keys: Vec<String>,
}

impl DefinitionDiff {
    /// The changes that turn `from` into `to`.
    pub fn between(from: &WorkflowDefinition, to: &WorkflowDefinition) -> Self {
        let fields = scalar_changes(from, to);
        let (from_graph, to_graph) = (from.dag_spec().raw(), to.dag_spec().raw());
        let nodes = node_changes(from_graph, to_graph);
        let edges = edge_changes(from_graph, to_graph);
        let molecules = molecule_changes(from.molecules_used(), to.molecules_used());
        let atoms = atom_changes(from.atoms_in_molecules(), to.atoms_in_molecules());
        let dag_spec_keys = changed_keys(
            &object_without(from_graph, &["nodes", "edges"]),
            &object_without(to_graph, &["nodes", "edges"]),
        );
        let changed = !fields.is_empty()
            || nodes != NodeChanges::default()
            || edges != EdgeChanges::default()
            || molecules != MoleculeChanges::default()
            || atoms != AtomChanges::default()
            || !dag_spec_keys.is_empty();
        Self {
            changed,
            fields,
            nodes,
            edges,
            molecules,
            atoms,
            dag_spec_keys,
        }
    }
}

/// The answer of a diff between two stored revisions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RevisionDiff {
    /// The older side's version (as asked; it may be the larger number).
    pub from_version: i32,
    /// The newer side's version.
    pub to_version: i32,
    /// What changed.
    #[serde(flatten)]
    pub diff: DefinitionDiff,
}

impl RevisionDiff {
    /// The changes that turn revision `from` into revision `to`.
    pub fn between(from: &WorkflowRevision, to: &WorkflowRevision) -> Self {
        Self {
            from_version: from.version,
            to_version: to.version,
            diff: DefinitionDiff::between(&from.definition, &to.definition),
        }
    }
}

fn scalar_changes(
    from: &WorkflowDefinition,
    to: &WorkflowDefinition,
) -> BTreeMap<&'static str, FieldChange> {
    let pairs: [(&'static str, Value, Value); 7] = [
        (
            "project_id",
            from.project_id().into(),
            to.project_id().into(),
        ),
        (
            "project_name",
            from.project_name().into(),
            to.project_name().into(),
        ),
        ("name", from.name().into(), to.name().into()),
        (
            "slug",
            from.slug().as_str().into(),
            to.slug().as_str().into(),
        ),
        (
            "description",
            from.description().into(),
            to.description().into(),
        ),
        ("app_name", from.app_name().into(), to.app_name().into()),
        ("is_active", from.is_active().into(), to.is_active().into()),
    ];
    pairs
        .into_iter()
        .filter(|(_, a, b)| a != b)
        .map(|(name, from, to)| (name, FieldChange { from, to }))
        .collect()
}

/// The graph's nodes that carry a string id, in listed order. Stored specs written by an older
/// client may hold nodes without one; those cannot be matched and are left out.
fn nodes_by_id(graph: &Value) -> Vec<(&str, &Map<String, Value>)> {
    graph
        .get("nodes")
        .and_then(Value::as_array)
        .map(|nodes| {
            nodes
                .iter()
                .filter_map(|node| {
                    let object = node.as_object()?;
                    Some((object.get("id")?.as_str()?, object))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn node_changes(from: &Value, to: &Value) -> NodeChanges {
    let (old, new) = (nodes_by_id(from), nodes_by_id(to));
    let old_ids: HashSet<&str> = old.iter().map(|(id, _)| *id).collect();
    let new_by_id: BTreeMap<&str, &Map<String, Value>> = new.iter().copied().collect();
    NodeChanges {
        added: new
            .iter()
            .filter(|(id, _)| !old_ids.contains(id))
            .map(|(id, _)| (*id).to_owned())
            .collect(),
        removed: old
            .iter()
            .filter(|(id, _)| !new_by_id.contains_key(id))
            .map(|(id, _)| (*id).to_owned())
            .collect(),
        changed: old
            .iter()
            .filter_map(|(id, before)| {
                let keys = changed_keys(before, new_by_id.get(id)?);
                (!keys.is_empty()).then(|| ChangedNode {
                    id: (*id).to_owned(),
                    keys,
                })
            })
            .collect(),
    }
}

fn edges_of(graph: &Value) -> Vec<EdgeRef> {
    let mut seen = HashSet::new();
    graph
        .get("edges")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|edge| {
            Some(EdgeRef {
                source: edge.get("source")?.as_str()?.to_owned(),
                target: edge.get("target")?.as_str()?.to_owned(),
            })
        })
        .filter(|edge| seen.insert(edge.clone()))
        .collect()
}

fn edge_changes(from: &Value, to: &Value) -> EdgeChanges {
    let (old, new) = (edges_of(from), edges_of(to));
    let (old_set, new_set): (HashSet<_>, HashSet<_>) = (old.iter().collect(), new.iter().collect());
    EdgeChanges {
        added: new
            .iter()
            .filter(|e| !old_set.contains(e))
            .cloned()
            .collect(),
        removed: old
            .iter()
            .filter(|e| !new_set.contains(e))
            .cloned()
            .collect(),
    }
}

fn molecule_changes(from: &[String], to: &[String]) -> MoleculeChanges {
    let (added, removed, reordered) = list_changes(from, to);
    MoleculeChanges {
        added,
        removed,
        reordered,
    }
}

fn atom_changes(
    from: &BTreeMap<String, Vec<String>>,
    to: &BTreeMap<String, Vec<String>>,
) -> AtomChanges {
    let pairs = |map: &BTreeMap<String, Vec<String>>| -> BTreeSet<AtomRef> {
        map.iter()
            .flat_map(|(molecule, atoms)| {
                atoms.iter().map(|atom| AtomRef {
                    molecule: molecule.clone(),
                    atom: atom.clone(),
                })
            })
            .collect()
    };
    let (old, new) = (pairs(from), pairs(to));
    AtomChanges {
        added: new.difference(&old).cloned().collect(),
        removed: old.difference(&new).cloned().collect(),
        reordered: from
            .iter()
            .filter(|(molecule, atoms)| {
                to.get(*molecule)
                    .is_some_and(|other| list_changes(atoms, other).2)
            })
            .map(|(molecule, _)| molecule.clone())
            .collect(),
    }
}

/// Added (in `to`'s order), removed (in `from`'s order), and whether the shared items moved.
fn list_changes(from: &[String], to: &[String]) -> (Vec<String>, Vec<String>, bool) {
    let (old, new): (HashSet<&String>, HashSet<&String>) =
        (from.iter().collect(), to.iter().collect());
    let added = to.iter().filter(|m| !old.contains(m)).cloned().collect();
    let removed = from.iter().filter(|m| !new.contains(m)).cloned().collect();
    let kept_before = from.iter().filter(|m| new.contains(m));
    let kept_after = to.iter().filter(|m| old.contains(m));
    (added, removed, !kept_before.eq(kept_after))
}

fn object_without(value: &Value, skip: &[&str]) -> Map<String, Value> {
    value
        .as_object()
        .map(|object| {
            object
                .iter()
                .filter(|(key, _)| !skip.contains(&key.as_str()))
                .map(|(key, v)| (key.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// Keys added, removed or given another value, sorted.
fn changed_keys(from: &Map<String, Value>, to: &Map<String, Value>) -> Vec<String> {
    let keys: BTreeSet<&String> = from.keys().chain(to.keys()).collect();
    keys.into_iter()
        .filter(|key| from.get(*key) != to.get(*key))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::NewWorkflow;
    use serde_json::json;

    fn definition(body: Value) -> WorkflowDefinition {
        let mut full = json!({"project_id": 1, "project_name": "P", "name": "W"});
        if let (Some(target), Value::Object(extra)) = (full.as_object_mut(), body) {
            target.extend(extra);
        }
        NewWorkflow::from_json(&full)
            .expect("valid")
            .into_definition()
    }

    #[test]
    fn identical_definitions_have_no_changes() {
        let d = definition(json!({"molecules_used": ["a"], "dag_spec": {"nodes": [{"id": "a"}]}}));
        let diff = DefinitionDiff::between(&d, &d);
        assert!(!diff.changed);
        assert_eq!(
            serde_json::to_value(&diff).expect("serialises")["fields"],
            json!({})
        );
    }

    #[test]
    fn edges_are_matched_by_their_endpoints_not_their_ids() {
        let graph = |edge_id: &str, target: &str| {
            definition(json!({"dag_spec": {
                "nodes": [{"id": "a"}, {"id": "b"}, {"id": "c"}],
                "edges": [{"id": edge_id, "source": "a", "target": target}]
            }}))
        };
        let renamed = DefinitionDiff::between(&graph("e1", "b"), &graph("e9", "b"));
        assert_eq!(renamed.edges, EdgeChanges::default());
        let moved = DefinitionDiff::between(&graph("e1", "b"), &graph("e1", "c"));
        assert_eq!(
            moved.edges.added,
            [EdgeRef {
                source: "a".into(),
                target: "c".into()
            }]
        );
        assert_eq!(
            moved.edges.removed,
            [EdgeRef {
                source: "a".into(),
                target: "b".into()
            }]
        );
    }

    #[test]
    fn atoms_report_pairs_and_reordering() {
        let from = definition(json!({"atoms_in_molecules": {"m": ["x", "y"], "n": ["z"]}}));
        let to = definition(json!({"atoms_in_molecules": {"m": ["y", "x", "w"], "k": ["z"]}}));
        let diff = DefinitionDiff::between(&from, &to);
        let pair = |m: &str, a: &str| AtomRef {
            molecule: m.into(),
            atom: a.into(),
        };
        assert_eq!(diff.atoms.added, [pair("k", "z"), pair("m", "w")]);
        assert_eq!(diff.atoms.removed, [pair("n", "z")]);
        assert_eq!(diff.atoms.reordered, ["m"]);
    }

    #[test]
    fn layout_keys_and_scalars_are_reported() {
        let from = definition(json!({"dag_spec": {"metadata": {"zoom": 1}}, "is_active": true}));
        let to = definition(
            json!({"dag_spec": {"metadata": {"zoom": 2}, "viewport": {}}, "is_active": false, "description": "d"}),
        );
        let diff = DefinitionDiff::between(&from, &to);
        assert_eq!(diff.dag_spec_keys, ["metadata", "viewport"]);
        assert_eq!(
            diff.fields["is_active"],
            FieldChange {
                from: json!(true),
                to: json!(false)
            }
        );
        assert_eq!(diff.fields["description"].from, Value::Null);
        assert!(diff.changed);
    }

    #[test]
    fn a_reversed_diff_swaps_added_and_removed() {
        let a = definition(json!({"molecules_used": ["a", "b"]}));
        let b = definition(json!({"molecules_used": ["b", "c"]}));
        let forward = DefinitionDiff::between(&a, &b);
        let back = DefinitionDiff::between(&b, &a);
        assert_eq!(forward.molecules.added, back.molecules.removed);
        assert_eq!(forward.molecules.removed, back.molecules.added);
        assert!(!forward.molecules.reordered);
    }
}
