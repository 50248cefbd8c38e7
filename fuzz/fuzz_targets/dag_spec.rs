//! Any bytes that are JSON, read as a `dag_spec`: no panic, and an accepted graph is ordered.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use workflows_domain::DagSpec;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let Ok(spec) = DagSpec::parse(raw.clone()) else {
        return;
    };
    assert_eq!(spec.raw(), &raw, "the client's JSON is kept as sent");
    let order = spec.topological_order();
    assert_eq!(order.len(), spec.nodes().len());
    let position: HashMap<&str, usize> = order.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    for edge in spec.edges() {
        let (source, target) = (&spec.nodes()[edge.source].id, &spec.nodes()[edge.target].id);
        assert!(position[source.as_str()] < position[target.as_str()], "{source} before {target}");
    }
    let staged: usize = spec.stages().iter().map(Vec::len).sum();
    assert_eq!(staged, spec.nodes().len());
});
