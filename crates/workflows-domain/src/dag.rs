//! `dag_spec`: the canvas graph, checked and ordered, with the client's JSON kept untouched.

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// The most nodes a graph may have: far beyond any canvas a person draws, and small enough that
/// checking, storing and planning a graph stays cheap.
pub const MAX_DAG_NODES: usize = 10_000;
/// The most edges a graph may have.
pub const MAX_DAG_EDGES: usize = 50_000;
/// The most problems reported for one graph; a summary line counts the rest.
const MAX_REPORTED_ERRORS: usize = 20;

/// One node of the graph: a molecule on the canvas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DagNode {
    /// The node's `id` (a molecule id).
    pub id: String,
    /// The node's `data` object, if it has one (the engine passes it to atoms as `params`).
    pub data: Option<Value>,
}

/// One edge: `target` depends on `source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DagEdge {
    /// The edge's own `id`, when the client gave one.
    pub id: Option<String>,
    /// Index of the upstream node in [`DagSpec::nodes`].
    pub source: usize,
    /// Index of the downstream node in [`DagSpec::nodes`].
    pub target: usize,
}

/// A parsed, checked view of a `dag_spec` object that keeps the original JSON as sent.
///
/// `nodes` and `edges` are optional; every other key (positions, metadata, keys this service does
/// not know) is kept and never interpreted.
///
/// ```
/// use serde_json::json;
/// use workflows_domain::DagSpec;
///
/// let spec = DagSpec::parse(json!({
///     "nodes": [{"id": "load"}, {"id": "clean"}, {"id": "report"}],
///     "edges": [{"source": "load", "target": "clean"}, {"source": "clean", "target": "report"}],
///     "metadata": {"zoom": 1.5}
/// })).expect("a valid graph");
/// assert_eq!(spec.topological_order(), vec!["load", "clean", "report"]);
///
/// let cyclic = DagSpec::parse(json!({
///     "nodes": [{"id": "a"}, {"id": "b"}],
///     "edges": [{"source": "a", "target": "b"}, {"source": "b", "target": "a"}]
/// }));
/// assert!(cyclic.is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DagSpec {
    raw: Value,
    nodes: Vec<DagNode>,
    edges: Vec<DagEdge>,
    /// For each node, the nodes it depends on (deduplicated, by index).
    upstream: Vec<Vec<usize>>,
    order: Vec<usize>,
}

impl Default for DagSpec {
    fn default() -> Self {
        Self::empty()
    }
}

impl Serialize for DagSpec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(serializer)
    }
}

impl DagSpec {
    /// The default `{}`: no nodes, no edges.
    pub fn empty() -> Self {
        Self {
            raw: Value::Object(Map::new()),
            nodes: Vec::new(),
            edges: Vec::new(),
            upstream: Vec::new(),
            order: Vec::new(),
        }
    }

    /// Checks a `dag_spec` value: an object; `nodes`, when present, an array of objects each with a
    /// unique non-empty string `id`; `edges`, when present, an array of objects whose `source` and
    /// `target` name existing nodes; no cycle. Every message names the offending node or edge.
    pub fn parse(raw: Value) -> Result<Self, Vec<String>> {
        Ok(Graph::of(&raw)?.with_raw(raw))
    }

    /// Reads a stored `dag_spec`, which an older writer may have left invalid: such a spec keeps its
    /// JSON and has no graph.
    pub fn from_stored(raw: Value) -> Self {
        match Graph::of(&raw) {
            Ok(graph) => graph.with_raw(raw),
            Err(_) => Self {
                raw,
                ..Self::empty()
            },
        }
    }

    /// The JSON exactly as the client sent it.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// Consumes the spec into the JSON the client sent.
    pub fn into_raw(self) -> Value {
        self.raw
    }

    /// The nodes, in the order the client listed them.
    pub fn nodes(&self) -> &[DagNode] {
        &self.nodes
    }

    /// The edges, in the order the client listed them.
    pub fn edges(&self) -> &[DagEdge] {
        &self.edges
    }

    /// The ids of the nodes a node depends on.
    pub fn upstream_of(&self, node_id: &str) -> Vec<&str> {
        self.position(node_id)
            .map(|i| {
                self.upstream[i]
                    .iter()
                    .map(|&u| self.nodes[u].id.as_str())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Node ids in an order where every node comes after all its upstream nodes. Among nodes that
    /// are ready at the same time, the one listed first in `nodes` comes first, so the order is
    /// the same on every call and every machine.
    pub fn topological_order(&self) -> Vec<&str> {
        self.order
            .iter()
            .map(|&i| self.nodes[i].id.as_str())
            .collect()
    }

    /// The nodes grouped in stages: a node's stage is one past the latest stage of its upstream
    /// nodes, so everything within a stage may run in parallel once the stages before it are done.
    pub fn stages(&self) -> Vec<Vec<&str>> {
        let mut level = vec![0usize; self.nodes.len()];
        for &i in &self.order {
            level[i] = self.upstream[i]
                .iter()
                .map(|&u| level[u] + 1)
                .max()
                .unwrap_or(0);
        }
        let depth = level.iter().copied().max().map_or(0, |m| m + 1);
        let mut stages = vec![Vec::new(); depth];
        for (i, node) in self.nodes.iter().enumerate() {
            stages[level[i]].push(node.id.as_str());
        }
        stages
    }

    fn position(&self, node_id: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.id == node_id)
    }
}

/// A checked graph, before it is paired with the JSON it came from (so reading a stored spec
/// never copies that JSON).
struct Graph {
    nodes: Vec<DagNode>,
    edges: Vec<DagEdge>,
    upstream: Vec<Vec<usize>>,
    order: Vec<usize>,
}

impl Graph {
    fn of(raw: &Value) -> Result<Self, Vec<String>> {
        let Value::Object(object) = raw else {
            return Err(vec!["Expected an object.".to_owned()]);
        };
        for (key, limit) in [("nodes", MAX_DAG_NODES), ("edges", MAX_DAG_EDGES)] {
            if let Some(Value::Array(items)) = object.get(key)
                && items.len() > limit
            {
                return Err(vec![format!(
                    "a graph may have at most {limit} {key}; this one has {}.",
                    items.len()
                )]);
            }
        }
        let mut errors = Vec::new();
        let nodes = parse_nodes(object.get("nodes"), &mut errors);
        let index: HashMap<&str, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, node)| (node.id.as_str(), i))
            .collect();
        let edges = parse_edges(object.get("edges"), &index, &mut errors);
        if errors.len() > MAX_REPORTED_ERRORS {
            let more = errors.len() - MAX_REPORTED_ERRORS;
            errors.truncate(MAX_REPORTED_ERRORS);
            errors.push(format!("… and {more} more problems."));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut upstream = vec![Vec::new(); nodes.len()];
        for edge in &edges {
            if !upstream[edge.target].contains(&edge.source) {
                upstream[edge.target].push(edge.source);
            }
        }
        let order = topological_indices(&upstream).map_err(|node_on_cycle| {
            vec![format!(
                "the graph has a cycle through node '{}'",
                nodes[node_on_cycle].id
            )]
        })?;
        Ok(Self {
            nodes,
            edges,
            upstream,
            order,
        })
    }

    fn with_raw(self, raw: Value) -> DagSpec {
        DagSpec {
            raw,
            nodes: self.nodes,
            edges: self.edges,
            upstream: self.upstream,
            order: self.order,
        }
    }
}

fn parse_nodes(value: Option<&Value>, errors: &mut Vec<String>) -> Vec<DagNode> {
    let Some(value) = value else {
        return Vec::new();
    };
    let Value::Array(items) = value else {
        errors.push("'nodes' must be an array.".to_owned());
        return Vec::new();
    };
    let mut nodes: Vec<DagNode> = Vec::with_capacity(items.len());
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(items.len());
    for (position, item) in items.iter().enumerate() {
        let Value::Object(node) = item else {
            errors.push(format!("node at index {position} must be an object"));
            continue;
        };
        match node.get("id") {
            Some(Value::String(id)) if !id.is_empty() => {
                if seen.insert(id.as_str(), position).is_some() {
                    errors.push(format!("duplicate node id '{id}'"));
                    continue;
                }
                nodes.push(DagNode {
                    id: id.clone(),
                    data: node.get("data").cloned(),
                });
            }
            _ => errors.push(format!(
                "node at index {position} needs a non-empty string 'id'"
            )),
        }
    }
    nodes
}

fn parse_edges(
    value: Option<&Value>,
    index: &HashMap<&str, usize>,
    errors: &mut Vec<String>,
) -> Vec<DagEdge> {
    let Some(value) = value else {
        return Vec::new();
    };
    let Value::Array(items) = value else {
        errors.push("'edges' must be an array.".to_owned());
        return Vec::new();
    };
    let mut edges = Vec::with_capacity(items.len());
    for (position, item) in items.iter().enumerate() {
        let Value::Object(edge) = item else {
            errors.push(format!("edge at index {position} must be an object"));
            continue;
        };
        let id = edge.get("id").and_then(Value::as_str).map(str::to_owned);
        let label = id
            .as_ref()
            .map_or_else(|| format!("at index {position}"), |id| format!("'{id}'"));
        let mut endpoint = |key: &str, wording: &str| match edge.get(key) {
            Some(Value::String(node)) => match index.get(node.as_str()) {
                Some(&i) => Some(i),
                None => {
                    errors.push(format!("edge {label} {wording} unknown node '{node}'"));
                    None
                }
            },
            _ => {
                errors.push(format!("edge {label} needs a string '{key}'"));
                None
            }
        };
        let source = endpoint("source", "comes from");
        let target = endpoint("target", "points to");
        if let (Some(source), Some(target)) = (source, target) {
            edges.push(DagEdge { id, source, target });
        }
    }
    edges
}

/// Kahn's algorithm with a min-heap on the node's listed position, for a stable order.
/// On a cycle, answers the index of a node that lies on it.
fn topological_indices(upstream: &[Vec<usize>]) -> Result<Vec<usize>, usize> {
    let count = upstream.len();
    let mut downstream = vec![Vec::new(); count];
    let mut waiting_on: Vec<usize> = upstream.iter().map(Vec::len).collect();
    for (target, sources) in upstream.iter().enumerate() {
        for &source in sources {
            downstream[source].push(target);
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..count)
        .filter(|&i| waiting_on[i] == 0)
        .map(Reverse)
        .collect();
    let mut order = Vec::with_capacity(count);
    while let Some(Reverse(node)) = ready.pop() {
        order.push(node);
        for &next in &downstream[node] {
            waiting_on[next] -= 1;
            if waiting_on[next] == 0 {
                ready.push(Reverse(next));
            }
        }
    }
    if order.len() == count {
        return Ok(order);
    }
    // Every node left has an unfinished upstream node; walking upstream `count` times from any of
    // them must end up inside a cycle.
    let blocked = |i: usize| waiting_on[i] > 0;
    let mut node = (0..count).find(|&i| blocked(i)).unwrap_or(0);
    let previous = |node: usize| upstream[node].iter().copied().filter(|&u| blocked(u)).min();
    for _ in 0..count {
        node = previous(node).unwrap_or(node);
    }
    // Name the first-listed node of that cycle, so the message does not depend on the walk.
    let mut first_listed = node;
    let mut on_cycle = previous(node).unwrap_or(node);
    while on_cycle != node {
        first_listed = first_listed.min(on_cycle);
        on_cycle = previous(on_cycle).unwrap_or(node);
    }
    Err(first_listed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn graph(nodes: &[&str], edges: &[(&str, &str)]) -> Value {
        json!({
            "nodes": nodes.iter().map(|id| json!({"id": id})).collect::<Vec<_>>(),
            "edges": edges.iter().map(|(s, t)| json!({"source": s, "target": t})).collect::<Vec<_>>(),
        })
    }

    #[test]
    fn empty_object_is_an_empty_graph() {
        let spec = DagSpec::parse(json!({})).expect("valid");
        assert!(spec.nodes().is_empty());
        assert!(spec.topological_order().is_empty());
        assert!(spec.stages().is_empty());
    }

    #[test]
    fn unknown_keys_are_kept_as_sent() {
        let raw = json!({"nodes": [{"id": "a", "position": {"x": 1}, "zz": [1, "two"]}], "viewport": {"zoom": 2}});
        let spec = DagSpec::parse(raw.clone()).expect("valid");
        assert_eq!(spec.raw(), &raw);
        assert_eq!(serde_json::to_value(&spec).ok(), Some(raw));
    }

    #[test]
    fn non_objects_are_refused() {
        assert_eq!(
            DagSpec::parse(json!([])),
            Err(vec!["Expected an object.".to_owned()])
        );
        assert_eq!(
            DagSpec::parse(json!({"nodes": {}})),
            Err(vec!["'nodes' must be an array.".to_owned()])
        );
    }

    #[test]
    fn messages_name_the_offending_node_or_edge() {
        let errors = DagSpec::parse(json!({
            "nodes": [{"id": "a"}, {"id": "a"}, {"id": ""}, 5],
            "edges": [{"id": "e2", "source": "a", "target": "x"}, {"source": "y", "target": "a"}, {"target": "a"}]
        }))
        .expect_err("invalid");
        assert_eq!(
            errors,
            vec![
                "duplicate node id 'a'",
                "node at index 2 needs a non-empty string 'id'",
                "node at index 3 must be an object",
                "edge 'e2' points to unknown node 'x'",
                "edge at index 1 comes from unknown node 'y'",
                "edge at index 2 needs a string 'source'",
            ]
        );
    }

    #[test]
    fn cycles_and_self_loops_name_a_node_on_the_cycle() {
        let errors = DagSpec::parse(graph(
            &["s", "a", "b", "c"],
            &[("s", "a"), ("a", "b"), ("b", "c"), ("c", "a")],
        ))
        .expect_err("cyclic");
        assert_eq!(errors, vec!["the graph has a cycle through node 'a'"]);
        let errors = DagSpec::parse(graph(&["a", "b"], &[("b", "b")])).expect_err("self loop");
        assert_eq!(errors, vec!["the graph has a cycle through node 'b'"]);
    }

    #[test]
    fn order_breaks_ties_by_listed_position() {
        let spec =
            DagSpec::parse(graph(&["c", "b", "a", "d"], &[("a", "d"), ("c", "d")])).expect("valid");
        assert_eq!(spec.topological_order(), vec!["c", "b", "a", "d"]);
        assert_eq!(spec.stages(), vec![vec!["c", "b", "a"], vec!["d"]]);
        assert_eq!(spec.upstream_of("d"), vec!["a", "c"]);
    }

    #[test]
    fn diamond_has_three_stages() {
        let spec = DagSpec::parse(graph(
            &["top", "left", "right", "bottom"],
            &[
                ("top", "left"),
                ("top", "right"),
                ("left", "bottom"),
                ("right", "bottom"),
                ("top", "bottom"),
            ],
        ))
        .expect("valid");
        assert_eq!(
            spec.stages(),
            vec![vec!["top"], vec!["left", "right"], vec!["bottom"]]
        );
    }

    /// Random graphs: edges that only go from a lower to a higher position cannot form a cycle;
    /// one extra edge from the last node of a path back to its first always closes one.
    fn acyclic_edges(n: usize) -> impl Strategy<Value = Vec<(usize, usize)>> {
        proptest::collection::vec((0..n, 0..n), 0..n * 2).prop_map(|pairs| {
            pairs
                .into_iter()
                .filter(|(a, b)| a != b)
                .map(|(a, b)| (a.min(b), a.max(b)))
                .collect()
        })
    }

    fn spec_of(n: usize, edges: &[(usize, usize)]) -> Value {
        json!({
            "nodes": (0..n).map(|i| json!({"id": format!("n{i}")})).collect::<Vec<_>>(),
            "edges": edges.iter().map(|(s, t)| json!({"source": format!("n{s}"), "target": format!("n{t}")})).collect::<Vec<_>>(),
        })
    }

    proptest! {
        #[test]
        fn acyclic_graphs_order_every_node_after_its_upstream(
            (n, edges) in (1usize..40).prop_flat_map(|n| (Just(n), acyclic_edges(n)))
        ) {
            let spec = DagSpec::parse(spec_of(n, &edges)).expect("acyclic");
            let order = spec.topological_order();
            prop_assert_eq!(order.len(), n);
            let at = |id: String| order.iter().position(|o| *o == id);
            for (s, t) in &edges {
                let before = at(format!("n{}", s)) < at(format!("n{}", t));
                prop_assert!(before);
            }
            let staged: usize = spec.stages().iter().map(Vec::len).sum();
            prop_assert_eq!(staged, n);
            prop_assert_eq!(DagSpec::parse(spec_of(n, &edges)).map(|s| s.topological_order().iter().map(|s| s.to_string()).collect::<Vec<_>>()).ok(),
                Some(order.iter().map(|s| s.to_string()).collect::<Vec<_>>()));
        }

        #[test]
        fn closing_a_path_always_reports_a_node_on_the_cycle(
            (n, edges, path_len) in (2usize..30).prop_flat_map(|n| (Just(n), acyclic_edges(n), 2..=n))
        ) {
            let mut edges = edges;
            for i in 0..path_len - 1 {
                edges.push((i, i + 1));
            }
            edges.push((path_len - 1, 0));
            let errors = DagSpec::parse(spec_of(n, &edges)).expect_err("cyclic");
            prop_assert_eq!(errors.len(), 1);
            let named = errors[0].trim_start_matches("the graph has a cycle through node 'n").trim_end_matches('\'');
            let named: usize = named.parse().expect("a node index");
            // The named node must reach itself again.
            let mut frontier = vec![named];
            let mut seen = vec![false; n];
            let mut returns = false;
            while let Some(node) = frontier.pop() {
                for (s, t) in &edges {
                    if *s == node {
                        if *t == named { returns = true; }
                        if !seen[*t] { seen[*t] = true; frontier.push(*t); }
                    }
                }
            }
            prop_assert!(returns);
        }
    }
}
