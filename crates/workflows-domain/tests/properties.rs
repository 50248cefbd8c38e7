//! Properties of the domain rules over generated input, through the public API only: whatever a
//! client sends, parsing never panics, what is accepted survives storage, run moves follow the
//! published rule, and diffs are consistent.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use workflows_domain::{
    DefinitionDiff, NewWorkflow, RunChanges, RunId, RunStatus, WorkflowChanges, WorkflowDefinition,
    WorkflowId, WorkflowRun,
};

/// Any JSON value, a few levels deep, with strings drawn to hit the interesting cases (empty,
/// white space, NUL, non-ASCII, field names).
fn any_json() -> impl Strategy<Value = Value> {
    let text = prop_oneof![
        Just(String::new()),
        Just(" ".to_owned()),
        Just("\u{0}".to_owned()),
        Just("name".to_owned()),
        Just("nodes".to_owned()),
        Just("edges".to_owned()),
        Just("id".to_owned()),
        "[a-c]{1,3}",
        any::<String>(),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        text.clone().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((text.clone(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A workflow body: the required fields usually present, every field sometimes wrong.
fn workflow_body() -> impl Strategy<Value = Value> {
    let field = |name: &'static str, good: BoxedStrategy<Value>| {
        prop_oneof![3 => good.prop_map(Some), 1 => any_json().prop_map(Some), 1 => Just(None)]
            .prop_map(move |v| (name, v))
    };
    let graph = (1usize..8, prop::collection::vec((0usize..8, 0usize..8), 0..10)).prop_map(|(n, edges)| {
        json!({
            "nodes": (0..n).map(|i| json!({"id": format!("m{i}")})).collect::<Vec<_>>(),
            "edges": edges.into_iter().filter(|(s, t)| s < t && *t < n)
                .map(|(s, t)| json!({"source": format!("m{s}"), "target": format!("m{t}")})).collect::<Vec<_>>(),
        })
    });
    (
        field("project_id", any::<i32>().prop_map(Value::from).boxed()),
        field(
            "project_name",
            "[A-Za-z ]{1,20}".prop_map(Value::from).boxed(),
        ),
        field("name", "[A-Za-z0-9 ]{1,40}".prop_map(Value::from).boxed()),
        field("slug", "[a-z0-9_-]{0,10}".prop_map(Value::from).boxed()),
        field(
            "molecules_used",
            prop::collection::vec("m[0-9]", 0..5)
                .prop_map(|v| json!(v))
                .boxed(),
        ),
        field(
            "atoms_in_molecules",
            prop::collection::btree_map("m[0-9]", prop::collection::vec("a[0-9]", 0..3), 0..4)
                .prop_map(|m| json!(m))
                .boxed(),
        ),
        field("dag_spec", graph.boxed()),
        field("is_active", any::<bool>().prop_map(Value::from).boxed()),
    )
        .prop_map(|fields| {
            let (a, b, c, d, e, f, g, h) = fields;
            Value::Object(
                [a, b, c, d, e, f, g, h]
                    .into_iter()
                    .filter_map(|(name, value)| value.map(|v| (name.to_owned(), v)))
                    .collect(),
            )
        })
}

/// What storage gives back for a definition: its columns read by `from_stored`.
fn stored(d: &WorkflowDefinition) -> WorkflowDefinition {
    WorkflowDefinition::from_stored(
        d.project_id(),
        d.project_name().to_owned(),
        d.name().to_owned(),
        d.slug().as_str().to_owned(),
        d.description().map(str::to_owned),
        d.app_name().map(str::to_owned),
        Some(d.molecules_used_json()),
        Some(d.atoms_in_molecules_json()),
        Some(d.dag_spec().raw().clone()),
        Some(d.is_active()),
    )
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
        .single()
        .expect("a time")
}

fn any_status() -> impl Strategy<Value = RunStatus> {
    prop::sample::select(RunStatus::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parsing_any_body_never_panics(body in any_json()) {
        let _ = NewWorkflow::from_json(&body);
        let _ = WorkflowChanges::patch_from_json(&body);
        let _ = WorkflowChanges::replace_from_json(&body);
        let _ = RunChanges::from_json(&body);
        let _ = workflows_domain::ExecutionRequest::from_json(Some(&body));
        let _ = workflows_domain::DagSpec::parse(body);
    }

    #[test]
    fn accepted_workflows_survive_storage_unchanged(body in workflow_body()) {
        if let Ok(new) = NewWorkflow::from_json(&body) {
            let d = new.definition();
            prop_assert_eq!(&stored(d), d);
            prop_assert!(!d.name().trim().is_empty());
            prop_assert!(workflows_domain::Slug::parse(d.slug().as_str()).is_ok());
            prop_assert!(!DefinitionDiff::between(d, &stored(d)).changed);
        } else {
            // A refusal always names at least one field.
            let errors = NewWorkflow::from_json(&body).expect_err("refused");
            prop_assert!(!errors.is_empty());
        }
    }

    #[test]
    fn diffs_are_symmetric(a in workflow_body(), b in workflow_body()) {
        if let (Ok(a), Ok(b)) = (NewWorkflow::from_json(&a), NewWorkflow::from_json(&b)) {
            let (a, b) = (a.definition(), b.definition());
            let forward = DefinitionDiff::between(a, b);
            let back = DefinitionDiff::between(b, a);
            prop_assert_eq!(forward.changed, back.changed);
            prop_assert_eq!(&forward.nodes.added, &back.nodes.removed);
            prop_assert_eq!(&forward.edges.added, &back.edges.removed);
            prop_assert_eq!(&forward.molecules.added, &back.molecules.removed);
            prop_assert_eq!(&forward.atoms.removed, &back.atoms.added);
            prop_assert_eq!(forward.fields.keys().collect::<Vec<_>>(), back.fields.keys().collect::<Vec<_>>());
            if a == b {
                prop_assert!(!forward.changed);
            }
        }
    }

    #[test]
    fn run_moves_follow_the_published_rule(moves in prop::collection::vec(any_status(), 1..12)) {
        let mut run = WorkflowRun {
            id: RunId(1),
            workflow_id: WorkflowId(1),
            status: RunStatus::Pending,
            started_at: start(),
            completed_at: None,
            error_message: None,
            result_data: json!({}),
            inputs: None,
            workflow_version: Some(1),
        };
        for (step, to) in moves.into_iter().enumerate() {
            let now = start() + TimeDelta::seconds(step as i64 + 1);
            let changes = RunChanges::from_json(&json!({"status": to.as_str()})).expect("a known status");
            let allowed = run.status.can_move_to(to);
            match run.apply(&changes, now) {
                Ok(next) => {
                    prop_assert!(allowed, "{} -> {} was let through", run.status, to);
                    prop_assert_eq!(next.status, to);
                    // completed_at is set exactly when the run is finished, and then never moves.
                    prop_assert_eq!(next.completed_at.is_some(), to.is_terminal());
                    if run.status.is_terminal() {
                        prop_assert_eq!(next.completed_at, run.completed_at);
                    }
                    run = next;
                }
                Err(_) => prop_assert!(!allowed, "{} -> {} was refused", run.status, to),
            }
        }
    }

    #[test]
    fn a_finished_run_never_leaves_its_status(finished in any_status(), to in any_status()) {
        prop_assume!(finished.is_terminal());
        prop_assert_eq!(finished.can_move_to(to), to == finished);
    }
}
