//! What a run executes: the molecules of a workflow in dependency order, each with its atoms.

use crate::dag::DagSpec;
use crate::workflow::WorkflowDefinition;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// One molecule to run.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedMolecule {
    /// The molecule id (the DAG node's `id`).
    pub id: String,
    /// Its atoms, run in this order.
    pub atoms: Vec<String>,
    /// Molecules that must succeed first.
    pub upstream: Vec<String>,
    /// The node's `data` object, handed to every atom as `params` (`{}` when absent).
    pub params: Value,
}

/// The molecules of a workflow, in an order where each comes after its upstream molecules.
///
/// The molecules are the nodes of `dag_spec` and its edges the dependencies; a workflow whose
/// `dag_spec` has no nodes runs `molecules_used` one after another in the listed order.
///
/// ```
/// use serde_json::json;
/// use workflows_domain::{ExecutionPlan, NewWorkflow};
///
/// let workflow = NewWorkflow::from_json(&json!({
///     "project_id": 1, "project_name": "P", "name": "n",
///     "molecules_used": ["load", "clean"],
///     "atoms_in_molecules": {"load": ["csv-reader"], "clean": ["dedupe", "trim"]}
/// })).unwrap();
/// let plan = ExecutionPlan::from_definition(workflow.definition());
/// assert_eq!(plan.molecules()[1].id, "clean");
/// assert_eq!(plan.molecules()[1].upstream, vec!["load"]);
/// assert_eq!(plan.molecules()[1].atoms, vec!["dedupe", "trim"]);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExecutionPlan {
    molecules: Vec<PlannedMolecule>,
}

impl ExecutionPlan {
    /// The plan of a workflow as defined now.
    pub fn from_definition(definition: &WorkflowDefinition) -> Self {
        Self::from_parts(
            definition.molecules_used(),
            definition.atoms_in_molecules(),
            definition.dag_spec(),
        )
    }

    fn from_parts(
        molecules_used: &[String],
        atoms: &BTreeMap<String, Vec<String>>,
        dag: &DagSpec,
    ) -> Self {
        let atoms_of = |id: &str| atoms.get(id).cloned().unwrap_or_default();
        let molecules = if dag.nodes().is_empty() {
            let mut seen = std::collections::HashSet::new();
            let mut previous: Option<String> = None;
            molecules_used
                .iter()
                .filter(|id| seen.insert(id.as_str()))
                .map(|id| {
                    let molecule = PlannedMolecule {
                        id: id.clone(),
                        atoms: atoms_of(id),
                        upstream: previous.iter().cloned().collect(),
                        params: Value::Object(Map::new()),
                    };
                    previous = Some(id.clone());
                    molecule
                })
                .collect()
        } else {
            dag.topological_order()
                .into_iter()
                .map(|id| {
                    let data = dag
                        .nodes()
                        .iter()
                        .find(|n| n.id == id)
                        .and_then(|n| n.data.clone());
                    PlannedMolecule {
                        id: id.to_owned(),
                        atoms: atoms_of(id),
                        upstream: dag.upstream_of(id).into_iter().map(str::to_owned).collect(),
                        params: data
                            .filter(Value::is_object)
                            .unwrap_or_else(|| Value::Object(Map::new())),
                    }
                })
                .collect()
        };
        Self { molecules }
    }

    /// The parts of a definition a run keeps, so that it executes the workflow as it was when the
    /// run was created, whatever happens to the workflow afterwards.
    pub fn snapshot(definition: &WorkflowDefinition) -> Value {
        json!({
            "molecules_used": definition.molecules_used(),
            "atoms_in_molecules": definition.atoms_in_molecules(),
            "dag_spec": definition.dag_spec().raw(),
        })
    }

    /// The plan of a [`ExecutionPlan::snapshot`].
    pub fn from_snapshot(snapshot: &Value) -> Self {
        let molecules_used: Vec<String> = snapshot
            .get("molecules_used")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        let atoms: BTreeMap<String, Vec<String>> = snapshot
            .get("atoms_in_molecules")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        let dag = snapshot
            .get("dag_spec")
            .cloned()
            .map(DagSpec::from_stored)
            .unwrap_or_default();
        Self::from_parts(&molecules_used, &atoms, &dag)
    }

    /// The molecules, upstream ones first.
    pub fn molecules(&self) -> &[PlannedMolecule] {
        &self.molecules
    }

    /// The molecule ids in stages: everything within a stage may run at once, once the stages
    /// before it are done.
    pub fn stages(&self) -> Vec<Vec<&str>> {
        let mut level: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for molecule in &self.molecules {
            let stage = molecule
                .upstream
                .iter()
                .filter_map(|u| level.get(u.as_str()).map(|l| l + 1))
                .max()
                .unwrap_or(0);
            level.insert(molecule.id.as_str(), stage);
        }
        let depth = level.values().copied().max().map_or(0, |d| d + 1);
        let mut stages = vec![Vec::new(); depth];
        for molecule in &self.molecules {
            stages[level[molecule.id.as_str()]].push(molecule.id.as_str());
        }
        stages
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NewWorkflow;

    #[test]
    fn dag_nodes_are_the_molecules_and_edges_their_dependencies() {
        let workflow = NewWorkflow::from_json(&json!({
            "project_id": 1, "project_name": "P", "name": "n",
            "molecules_used": ["ignored-when-nodes-exist"],
            "atoms_in_molecules": {"a": ["x"], "c": ["y", "z"]},
            "dag_spec": {"nodes": [{"id": "c", "data": {"k": 1}}, {"id": "a"}, {"id": "b"}],
                         "edges": [{"source": "a", "target": "c"}, {"source": "b", "target": "c"}]}
        }))
        .expect("valid");
        let plan = ExecutionPlan::from_definition(workflow.definition());
        let ids: Vec<_> = plan.molecules().iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, vec!["a", "b", "c"]);
        assert_eq!(plan.stages(), vec![vec!["a", "b"], vec!["c"]]);
        assert_eq!(plan.molecules()[2].upstream, vec!["a", "b"]);
        assert_eq!(plan.molecules()[2].params, json!({"k": 1}));
        assert!(plan.molecules()[1].atoms.is_empty());
        let from_snapshot =
            ExecutionPlan::from_snapshot(&ExecutionPlan::snapshot(workflow.definition()));
        assert_eq!(from_snapshot, plan);
    }

    #[test]
    fn without_nodes_molecules_run_in_listed_order() {
        let workflow = NewWorkflow::from_json(&json!({
            "project_id": 1, "project_name": "P", "name": "n",
            "molecules_used": ["m2", "m1", "m2"]
        }))
        .expect("valid");
        let plan = ExecutionPlan::from_definition(workflow.definition());
        let ids: Vec<_> = plan
            .molecules()
            .iter()
            .map(|m| (m.id.as_str(), m.upstream.clone()))
            .collect();
        assert_eq!(ids, vec![("m2", vec![]), ("m1", vec!["m2".to_owned()])]);
        assert_eq!(plan.stages(), vec![vec!["m2"], vec!["m1"]]);
    }
}
