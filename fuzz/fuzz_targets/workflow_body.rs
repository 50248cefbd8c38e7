//! Any JSON body of create, PUT or PATCH: no panic, and an accepted definition is valid.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workflows_domain::{DagSpec, NewWorkflow, Slug, WorkflowChanges};

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Ok(new) = NewWorkflow::from_json(&body) {
        let d = new.definition();
        assert!(Slug::parse(d.slug().as_str()).is_ok());
        assert!(DagSpec::parse(d.dag_spec().raw().clone()).is_ok());
        assert!(!d.name().trim().is_empty() && d.name().chars().count() <= 255);
    }
    let _ = WorkflowChanges::patch_from_json(&body);
});
