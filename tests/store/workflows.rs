use crate::fixtures::{
    all_pages, body, create, create_from, inserted_workflow, new_workflow, people,
};
use serde_json::json;
use workflows_domain::{
    ExecutionRequest, Ordering, PageRequest, WorkflowChanges, WorkflowFilter, WorkflowSortKey,
};
use workflows_tests::workflows_store::StoreError;
use workflows_tests::{TestDb, on_both_backends};

on_both_backends!(
    created_workflows_read_back_as_sent,
    unknown_dag_keys_round_trip_unchanged,
    extreme_numbers_round_trip,
    every_filter_narrows_the_list,
    search_treats_like_metacharacters_literally,
    ordering_puts_nulls_last_and_breaks_ties_by_id,
    pages_past_the_end_are_invalid,
    stale_if_match_changes_nothing,
    put_replaces_and_patch_keeps,
    delete_takes_the_runs_with_it,
    documents_answer_what_parsed_workflows_answer,
    a_molecule_or_atom_lists_the_same_with_or_without_other_filters,
    a_list_by_project_app_and_active_counts_what_it_lists,
    a_first_page_without_rows_answers_the_total_the_later_pages_do,
    pages_read_from_the_end_match_the_order_read_from_the_start,
    deep_pages_started_from_their_day_match_the_pages_walked_to,
);

async fn created_workflows_read_back_as_sent(db: TestDb) {
    let p = people(&db.store).await;
    let created = create(
        &db.store,
        &p.alice,
        "Data Analysis - Q4 Report - 10/13/2025, 3:45:00 PM",
    )
    .await;
    assert_eq!(created.version, 1);
    assert_eq!(created.execution_count, 0);
    assert_eq!(created.last_executed_at, None);
    assert_eq!(created.user_id, Some(p.alice.user_id));
    assert_eq!(created.created_at, created.updated_at);
    assert_eq!(
        created.definition.slug().as_str(),
        "data-analysis-q4-report-10-13-2025-3-45-00-pm"
    );
    let read = db
        .store
        .get_workflow(&p.alice, created.id)
        .await
        .expect("get");
    assert_eq!(read, created);
}

async fn unknown_dag_keys_round_trip_unchanged(db: TestDb) {
    let p = people(&db.store).await;
    // Repeated keys keep the last value, as JSONB does; serde_json resolves them before storage.
    let text = r#"{"project_id": 1, "project_name": "P", "name": "n",
        "dag_spec": {"zeta": 1, "alpha": {"b": [1, {"deep": null}], "a": "x"}, "alpha2": true, "zeta": 2,
                     "nodes": [{"id": "m", "custom": {"k": "v"}}], "edges": []}}"#;
    let body: serde_json::Value = serde_json::from_str(text).expect("json");
    let created = create_from(&db.store, &p.alice, &body).await;
    let read = db
        .store
        .get_workflow(&p.alice, created.id)
        .await
        .expect("get");
    let expected = json!({"zeta": 2, "alpha": {"b": [1, {"deep": null}], "a": "x"}, "alpha2": true,
        "nodes": [{"id": "m", "custom": {"k": "v"}}], "edges": []});
    assert_eq!(read.definition.dag_spec().raw(), &expected);
}

async fn every_filter_narrows_the_list(db: TestDb) {
    let p = people(&db.store).await;
    let s = &db.store;
    let mut other = body("Other Flow");
    other["project_id"] = json!(7);
    other["app_name"] = json!("Other App");
    other["molecules_used"] = json!(["solo"]);
    other["atoms_in_molecules"] = json!({"solo": ["lonely-atom"]});
    other["dag_spec"] = json!({});
    other["is_active"] = json!(false);
    let a = create(s, &p.alice, "Main Flow").await;
    let b = create_from(s, &p.alice, &other).await;
    let c = create(s, &p.bob, "Bob Flow").await;
    let ids = |filter: WorkflowFilter, actor| async move {
        s.list_workflows(&actor, &filter, Ordering::default(), PageRequest::default())
            .await
            .expect("list")
            .items
            .into_iter()
            .map(|w| w.id)
            .collect::<Vec<_>>()
    };
    let f = WorkflowFilter::default;
    assert_eq!(ids(f(), p.alice).await, vec![b.id, a.id]);
    assert_eq!(
        ids(
            WorkflowFilter {
                project_id: Some(7),
                ..f()
            },
            p.alice
        )
        .await,
        vec![b.id]
    );
    assert_eq!(
        ids(
            WorkflowFilter {
                app_name: Some("Trinity Analytics".into()),
                ..f()
            },
            p.alice
        )
        .await,
        vec![a.id]
    );
    assert_eq!(
        ids(
            WorkflowFilter {
                slug: Some("other-flow".into()),
                ..f()
            },
            p.alice
        )
        .await,
        vec![b.id]
    );
    assert_eq!(
        ids(
            WorkflowFilter {
                is_active: Some(false),
                ..f()
            },
            p.alice
        )
        .await,
        vec![b.id]
    );
    assert_eq!(
        ids(
            WorkflowFilter {
                is_active: Some(true),
                ..f()
            },
            p.alice
        )
        .await,
        vec![a.id]
    );
    assert_eq!(
        ids(
            WorkflowFilter {
                molecule: Some("solo".into()),
                ..f()
            },
            p.alice
        )
        .await,
        vec![b.id]
    );
    assert_eq!(
        ids(
            WorkflowFilter {
                molecule: Some("data-loader".into()),
                ..f()
            },
            p.root
        )
        .await,
        vec![c.id, a.id]
    );
    assert_eq!(
        ids(
            WorkflowFilter {
                atom: Some("aggregate".into()),
                ..f()
            },
            p.alice
        )
        .await,
        vec![a.id]
    );
    assert_eq!(
        ids(
            WorkflowFilter {
                atom: Some("lonely-atom".into()),
                ..f()
            },
            p.root
        )
        .await,
        vec![b.id]
    );
    assert_eq!(
        ids(
            WorkflowFilter {
                atom: Some("data-loader".into()),
                ..f()
            },
            p.root
        )
        .await,
        vec![]
    );
    assert_eq!(
        ids(
            WorkflowFilter {
                search: Some("mAiN".into()),
                ..f()
            },
            p.alice
        )
        .await,
        vec![a.id]
    );
    assert_eq!(
        ids(
            WorkflowFilter {
                search: Some("sales dash".into()),
                ..f()
            },
            p.root
        )
        .await,
        vec![c.id, b.id, a.id]
    );
    // user_id is a staff filter; a regular user's lists are always their own.
    assert_eq!(
        ids(
            WorkflowFilter {
                user_id: Some(p.bob.user_id),
                ..f()
            },
            p.root
        )
        .await,
        vec![c.id]
    );
    assert_eq!(
        ids(
            WorkflowFilter {
                user_id: Some(p.bob.user_id),
                ..f()
            },
            p.alice
        )
        .await,
        vec![b.id, a.id]
    );
    // Atoms follow edits of atoms_in_molecules.
    let patch = WorkflowChanges::patch_from_json(
        &json!({"atoms_in_molecules": {"data-loader": ["fresh-atom"]}}),
    )
    .expect("valid");
    s.update_workflow(&p.alice, a.id, &patch, None)
        .await
        .expect("patch");
    assert_eq!(
        ids(
            WorkflowFilter {
                atom: Some("aggregate".into()),
                ..f()
            },
            p.alice
        )
        .await,
        vec![]
    );
    assert_eq!(
        ids(
            WorkflowFilter {
                atom: Some("fresh-atom".into()),
                ..f()
            },
            p.alice
        )
        .await,
        vec![a.id]
    );
}

async fn search_treats_like_metacharacters_literally(db: TestDb) {
    let p = people(&db.store).await;
    let plain = create(&db.store, &p.alice, "growth 100 percent").await;
    let percent = create(&db.store, &p.alice, "growth 100% real_value").await;
    for (needle, expected) in [
        ("100%", vec![percent.id]),
        ("l%v", vec![]),
        ("_", vec![percent.id]),
        ("real_value", vec![percent.id]),
        ("100", vec![percent.id, plain.id]),
        ("' OR 1=1 --", vec![]),
    ] {
        let filter = WorkflowFilter {
            search: Some(needle.into()),
            ..Default::default()
        };
        let page = db
            .store
            .list_workflows(
                &p.alice,
                &filter,
                Ordering::default(),
                PageRequest::default(),
            )
            .await
            .expect("list");
        assert_eq!(
            page.items.iter().map(|w| w.id).collect::<Vec<_>>(),
            expected,
            "search {needle:?}"
        );
    }
}

async fn ordering_puts_nulls_last_and_breaks_ties_by_id(db: TestDb) {
    let p = people(&db.store).await;
    let s = &db.store;
    let first = create(s, &p.alice, "same").await;
    let second = create(s, &p.alice, "same").await;
    let third = create(s, &p.alice, "same").await;
    s.execute_workflow(&p.alice, second.id, ExecutionRequest::default(), None)
        .await
        .expect("execute");
    let order = |spec: &str| {
        let ordering: Ordering<WorkflowSortKey> = spec.parse().expect("ordering");
        async move {
            s.list_workflows(
                &p.alice,
                &WorkflowFilter::default(),
                ordering,
                PageRequest::default(),
            )
            .await
            .expect("list")
            .items
            .into_iter()
            .map(|w| w.id)
            .collect::<Vec<_>>()
        }
    };
    assert_eq!(order("name").await, vec![first.id, second.id, third.id]);
    assert_eq!(order("-name").await, vec![third.id, second.id, first.id]);
    assert_eq!(
        order("last_executed_at").await,
        vec![second.id, first.id, third.id]
    );
    assert_eq!(
        order("-last_executed_at").await,
        vec![second.id, third.id, first.id]
    );
    assert_eq!(
        order("-execution_count").await,
        vec![second.id, third.id, first.id]
    );
    assert_eq!(order("id").await, vec![first.id, second.id, third.id]);
}

/// For a plain list and for a search, whose total comes with its rows (a page past the end, or
/// of no matches, has none to carry it).
async fn pages_past_the_end_are_invalid(db: TestDb) {
    let p = people(&db.store).await;
    let s = &db.store;
    let everything = WorkflowFilter::default();
    let search = |needle: &str| WorkflowFilter {
        search: Some(needle.into()),
        ..Default::default()
    };
    let page = |n| PageRequest::new(n, 2).expect("page");
    for filter in [&everything, &search("W")] {
        let empty = s
            .list_workflows(&p.alice, filter, Ordering::default(), page(1))
            .await
            .expect("first page");
        assert_eq!((empty.count, empty.items.len()), (0, 0), "{filter:?}");
        let past = s
            .list_workflows(&p.alice, filter, Ordering::default(), page(2))
            .await;
        assert!(matches!(past, Err(StoreError::InvalidPage)), "{past:?}");
    }
    for i in 0..5 {
        create(s, &p.alice, &format!("w{i}")).await;
    }
    create(s, &p.alice, "other").await;
    for filter in [&everything, &search("W")] {
        let last = s
            .list_workflows(&p.alice, filter, Ordering::default(), page(3))
            .await
            .expect("last page");
        let expected_count = if filter.search.is_some() { 5 } else { 6 };
        assert_eq!(
            (
                last.count,
                last.items.len(),
                last.has_next(),
                last.has_previous()
            ),
            (expected_count, expected_count as usize - 4, false, true),
            "{filter:?}"
        );
        let documents = s
            .list_workflow_documents(&p.alice, filter, Ordering::default(), page(3))
            .await
            .expect("last page of documents");
        assert_eq!(
            (documents.count, documents.items.len()),
            (last.count, last.items.len()),
            "{filter:?}"
        );
        let past = s
            .list_workflows(&p.alice, filter, Ordering::default(), page(4))
            .await;
        assert!(matches!(past, Err(StoreError::InvalidPage)), "{past:?}");
        let past = s
            .list_workflow_documents(&p.alice, filter, Ordering::default(), page(4))
            .await;
        assert!(matches!(past, Err(StoreError::InvalidPage)), "{filter:?}");
    }
    // Nothing matches: an empty first page, with a total of 0.
    let none = s
        .list_workflows(&p.alice, &search("nowhere"), Ordering::default(), page(1))
        .await
        .expect("first page of nothing");
    assert_eq!((none.count, none.items.len()), (0, 0));
}

async fn stale_if_match_changes_nothing(db: TestDb) {
    let p = people(&db.store).await;
    let w = create(&db.store, &p.alice, "versioned").await;
    let rename =
        |name: &str| WorkflowChanges::patch_from_json(&json!({"name": name})).expect("valid");
    let v2 = db
        .store
        .update_workflow(&p.alice, w.id, &rename("second"), Some(1))
        .await
        .expect("fresh If-Match");
    assert_eq!(v2.version, 2);
    assert!(v2.updated_at >= w.updated_at);
    let stale = db
        .store
        .update_workflow(&p.alice, w.id, &rename("third"), Some(1))
        .await;
    assert!(
        matches!(stale, Err(StoreError::StaleVersion { current: 2 })),
        "{stale:?}"
    );
    let stale_delete = db.store.delete_workflow(&p.alice, w.id, Some(1)).await;
    assert!(
        matches!(stale_delete, Err(StoreError::StaleVersion { current: 2 })),
        "{stale_delete:?}"
    );
    let stored = db
        .store
        .get_workflow(&p.alice, w.id)
        .await
        .expect("still there");
    assert_eq!((stored.definition.name(), stored.version), ("second", 2));
    assert_eq!(stored, v2);
}

async fn put_replaces_and_patch_keeps(db: TestDb) {
    let p = people(&db.store).await;
    let w = create(&db.store, &p.alice, "Original Name").await;
    let patch = WorkflowChanges::patch_from_json(&json!({"name": "Renamed"})).expect("valid");
    let patched = db
        .store
        .update_workflow(&p.alice, w.id, &patch, None)
        .await
        .expect("patch");
    assert_eq!(patched.definition.slug().as_str(), "original-name");
    assert_eq!(
        patched.definition.molecules_used(),
        w.definition.molecules_used()
    );
    let put = WorkflowChanges::replace_from_json(
        &json!({"project_id": 5, "project_name": "P", "name": "Replaced"}),
    )
    .expect("valid");
    let replaced = db
        .store
        .update_workflow(&p.alice, w.id, &put, None)
        .await
        .expect("put");
    let stored = db.store.get_workflow(&p.alice, w.id).await.expect("get");
    assert_eq!(stored, replaced);
    assert_eq!(stored.version, 3);
    assert_eq!(stored.definition.slug().as_str(), "replaced");
    assert!(stored.definition.molecules_used().is_empty());
    assert_eq!(stored.definition.app_name(), None);
    assert_eq!(stored.created_at, w.created_at);
}

async fn delete_takes_the_runs_with_it(db: TestDb) {
    let p = people(&db.store).await;
    let w = create(&db.store, &p.alice, "doomed").await;
    let keep = create(&db.store, &p.alice, "kept").await;
    for id in [w.id, w.id, keep.id] {
        db.store
            .execute_workflow(&p.alice, id, ExecutionRequest::default(), None)
            .await
            .expect("execute");
    }
    db.store
        .delete_workflow(&p.alice, w.id, Some(1))
        .await
        .expect("delete");
    assert!(matches!(
        db.store.get_workflow(&p.alice, w.id).await,
        Err(StoreError::NotFound)
    ));
    let runs = db
        .store
        .list_runs(
            &p.root,
            &Default::default(),
            Ordering::default(),
            PageRequest::default(),
        )
        .await
        .expect("runs");
    assert_eq!(runs.count, 1);
    assert_eq!(runs.items[0].workflow_id, keep.id);
    assert!(matches!(
        db.store.delete_workflow(&p.alice, w.id, None).await,
        Err(StoreError::NotFound)
    ));
}

async fn extreme_numbers_round_trip(db: TestDb) {
    let p = people(&db.store).await;
    // PostgreSQL prints JSONB numbers in full (309 digits for f64::MAX); they must read back as sent.
    let numbers = json!({"max": f64::MAX, "min": f64::MIN, "tiny": 5e-324, "third": 1.0 / 3.0,
        "u64": u64::MAX, "i64": i64::MIN, "zero": 0, "negative_zero": -0.0});
    let mut b = body("numbers");
    b["dag_spec"]["metadata"] = numbers.clone();
    let created = create_from(&db.store, &p.alice, &b).await;
    let read = db
        .store
        .get_workflow(&p.alice, created.id)
        .await
        .expect("get");
    assert_eq!(read.definition.dag_spec().raw()["metadata"], numbers);
}

/// Answering a workflow without parsing its JSON (`*_document`) must say what the parsed
/// `Workflow` says, for rows this service wrote and for odd rows another writer left.
async fn documents_answer_what_parsed_workflows_answer(db: TestDb) {
    use sea_orm::ConnectionTrait;
    let p = people(&db.store).await;
    let s = &db.store;
    create(s, &p.alice, "Written here").await;
    let raw = db.raw().await;
    let odd_rows = [
        "NULL, NULL, NULL, NULL, NULL, NULL",
        r#"'{"m": 1}', '[1]', 'null', true, 3, 9"#,
        r#"'["m", 2]', '{"m": "a"}', '[1, 2]', false, NULL, NULL"#,
        r#"'["m"]', '{"m": ["a"], "n": []}', '{"nodes": [{"id": "a"}, {"id": "a"}], "x": 1.50}', NULL, 2, 0"#,
        r#"'[]', '{"m": [null]}', '{"nodes": [{"id": "a"}], "edges": [{"source": "a", "target": "a"}]}', true, 1, 1"#,
    ];
    for (i, values) in odd_rows.iter().enumerate() {
        raw.execute_unprepared(&format!(
            "INSERT INTO workflows_workflow (project_id, project_name, name, slug, user_id, \
             molecules_used, atoms_in_molecules, dag_spec, is_active, version, execution_count) \
             VALUES (1, 'P', 'Odd {i}', 'odd-{i}', {}, {values})",
            p.alice.user_id.0
        ))
        .await
        .expect("insert");
    }
    // Another writer changing the JSON of a row this service wrote: on PostgreSQL the documents
    // come from text copies the database keeps (migration 19), which must follow.
    raw.execute_unprepared(
        r#"UPDATE workflows_workflow SET dag_spec = '{"changed": [1, "two"]}',
           molecules_used = '["m9"]', atoms_in_molecules = '{"m9": ["a9"]}'
           WHERE name = 'Written here'"#,
    )
    .await
    .expect("update");
    let page = PageRequest::default();
    let parsed = s
        .list_workflows(
            &p.alice,
            &WorkflowFilter::default(),
            Ordering::default(),
            page,
        )
        .await
        .expect("list");
    let documents = s
        .list_workflow_documents(
            &p.alice,
            &WorkflowFilter::default(),
            Ordering::default(),
            page,
        )
        .await
        .expect("list documents");
    assert_eq!(parsed.count, 1 + odd_rows.len() as u64);
    assert_eq!(documents.count, parsed.count);
    assert_eq!(
        documents.items.iter().map(as_json).collect::<Vec<_>>(),
        parsed.items.iter().map(as_json).collect::<Vec<_>>()
    );
    for workflow in &parsed.items {
        let document = s
            .get_workflow_document(&p.alice, workflow.id)
            .await
            .expect("get document");
        assert_eq!(as_json(&document), as_json(workflow), "{}", workflow.id);
    }
    let changed = parsed
        .items
        .iter()
        .find(|w| w.definition.name() == "Written here")
        .expect("the row written here");
    let document = as_json(
        &s.get_workflow_document(&p.alice, changed.id)
            .await
            .expect("get document"),
    );
    assert_eq!(document["dag_spec"], json!({"changed": [1, "two"]}));
    assert_eq!(document["molecules_used"], json!(["m9"]));
    assert_eq!(document["atoms_in_molecules"], json!({"m9": ["a9"]}));
    // The same rules of sight as the parsed read.
    let hidden = s.get_workflow_document(&p.bob, parsed.items[0].id).await;
    assert!(matches!(hidden, Err(StoreError::NotFound)), "{hidden:?}");
}

fn as_json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("serialises")
}

/// A molecule or atom filter answers the same through the use rows alone (staff, nothing else
/// narrowing) as through the workflows (another filter, or a regular user's own list): the same
/// members, once each, in the same order and pages, after writes by another writer that insert
/// odd shapes, change the columns, move `created_at` and delete.
async fn a_molecule_or_atom_lists_the_same_with_or_without_other_filters(db: TestDb) {
    use sea_orm::ConnectionTrait;
    let p = people(&db.store).await;
    let s = &db.store;
    let with_uses = |name: &str, molecules: serde_json::Value, atoms: serde_json::Value| {
        let mut b = body(name);
        b["molecules_used"] = molecules;
        b["atoms_in_molecules"] = atoms;
        b["dag_spec"] = json!({});
        new_workflow(&b)
    };
    let unrelated = create(s, &p.alice, "Unrelated").await;
    let bobs = s
        .create_workflow(
            &p.bob,
            with_uses("Bob's", json!(["m"]), json!({"m": ["a"]})),
        )
        .await
        .expect("create");
    let twice = s
        .create_workflow(
            &p.alice,
            with_uses(
                "Atom twice",
                json!(["m", "n"]),
                json!({"m": ["a"], "n": ["a", "b"]}),
            ),
        )
        .await
        .expect("create");
    let raw = db.raw().await;
    let odd_rows = [
        // Repeats, a number and a nested list: `m` and `a` once each.
        (
            r#"'["m", "m", 2, ["x"]]'"#,
            r#"'{"x": ["a", "a", 3]}'"#,
            "NOW",
        ),
        // Wrong shapes use nothing.
        (r#"'{"m": 1}'"#, r#"'["a"]'"#, "NOW"),
        (r#"'"m"'"#, r#"'{"m": "a"}'"#, "NOW"),
        ("NULL", "NULL", "NOW"),
        // Two at the same instant, newer than the rest: ties go to the higher id.
        (
            r#"'["m"]'"#,
            r#"'{"m": ["a"]}'"#,
            "2030-01-01 00:00:00+00:00",
        ),
        (
            r#"'["m"]'"#,
            r#"'{"m": ["a"]}'"#,
            "2030-01-01 00:00:00+00:00",
        ),
        // Deleted below.
        (r#"'["m"]'"#, r#"'{"m": ["a"]}'"#, "NOW"),
    ];
    let mut ids = Vec::new();
    for (i, (molecules, atoms, created)) in odd_rows.iter().enumerate() {
        let created = if *created == "NOW" {
            "CURRENT_TIMESTAMP".to_owned()
        } else {
            format!("'{created}'")
        };
        let id = inserted_workflow(
            &raw,
            format!(
                "INSERT INTO workflows_workflow (project_id, project_name, name, slug, \
                     user_id, molecules_used, atoms_in_molecules, created_at, updated_at) \
                     VALUES (123, 'P', 'Odd {i}', 'odd-{i}', {}, {molecules}, {atoms}, \
                     {created}, {created}) RETURNING id",
                p.alice.user_id.0
            ),
        )
        .await;
        ids.push(id);
    }
    let [repeats, _, _, _, tie_low, tie_high, deleted] = ids[..] else {
        panic!("seven rows inserted")
    };
    for change in [
        // Bob's leaves `m` but keeps `a`; the repeats become the newest of all.
        format!(
            "UPDATE workflows_workflow SET molecules_used = '[\"n\"]' WHERE id = {}",
            bobs.id.0
        ),
        format!(
            "UPDATE workflows_workflow SET created_at = '2040-01-01 00:00:00+00:00' WHERE id = {}",
            repeats.0
        ),
        format!("DELETE FROM workflows_workflow WHERE id = {}", deleted.0),
    ] {
        raw.execute_unprepared(&change).await.expect("change");
    }
    let newest_first_m = vec![repeats, tie_high, tie_low, twice.id];
    let newest_first_a = vec![repeats, tie_high, tie_low, twice.id, bobs.id];

    let listed = |actor, filter: WorkflowFilter, ordering, page_size| async move {
        all_pages(s, &actor, &filter, ordering, page_size).await
    };
    let molecule = |m: &str| WorkflowFilter {
        molecule: Some(m.into()),
        ..Default::default()
    };
    let atom = |a: &str| WorkflowFilter {
        atom: Some(a.into()),
        ..Default::default()
    };
    let in_project = |f: WorkflowFilter| WorkflowFilter {
        project_id: Some(123),
        ..f
    };
    let newest = Ordering::default();
    let oldest = Ordering {
        key: WorkflowSortKey::CreatedAt,
        descending: false,
    };
    for (filter, expected) in [
        (molecule("m"), &newest_first_m),
        (atom("a"), &newest_first_a),
    ] {
        let total = vec![expected.len() as u64];
        for page_size in [1, 2, 20] {
            let alone = listed(p.root, filter.clone(), newest, page_size).await;
            assert_eq!(
                alone,
                (expected.clone(), total.clone()),
                "{filter:?} by {page_size}"
            );
            let narrowed = listed(p.root, in_project(filter.clone()), newest, page_size).await;
            assert_eq!(narrowed, alone, "{filter:?} by {page_size}");
        }
        let mut reversed = expected.clone();
        reversed.reverse();
        assert_eq!(
            listed(p.root, filter.clone(), oldest, 2).await,
            (reversed, total.clone())
        );
        // Another order: counted from the use rows, paged through the workflows.
        let by_name = Ordering {
            key: WorkflowSortKey::Name,
            descending: false,
        };
        let (mut named, counts) = listed(p.root, filter.clone(), by_name, 2).await;
        assert_eq!(counts, total);
        named.sort();
        let mut members = expected.clone();
        members.sort();
        assert_eq!(named, members);
        // Alice's own list goes through the workflows and leaves Bob's out.
        let alices: Vec<_> = expected
            .iter()
            .copied()
            .filter(|id| *id != bobs.id)
            .collect();
        assert_eq!(
            listed(p.alice, filter.clone(), newest, 2).await,
            (alices.clone(), vec![alices.len() as u64])
        );
        let documents = s
            .list_workflow_documents(&p.root, &filter, newest, PageRequest::default())
            .await
            .expect("documents");
        assert_eq!(documents.count, expected.len() as u64);
        assert_eq!(
            documents.items.iter().map(|d| d.id).collect::<Vec<_>>(),
            *expected
        );
    }
    assert_eq!(
        listed(p.root, molecule("b"), newest, 20).await,
        (vec![], vec![0])
    );
    assert_eq!(
        listed(p.root, atom("b"), newest, 20).await,
        (vec![twice.id], vec![1])
    );
    assert_eq!(
        listed(p.root, molecule("data-loader"), newest, 20).await,
        (vec![unrelated.id], vec![1])
    );
    let past_end = s
        .list_workflows(
            &p.root,
            &molecule("m"),
            newest,
            PageRequest::new(5, 1).expect("page"),
        )
        .await;
    assert!(
        matches!(past_end, Err(StoreError::InvalidPage)),
        "{past_end:?}"
    );
}

/// Staff's lists narrowed by nothing but project, app and active flag are counted from the
/// analytics rollups on PostgreSQL (crates/workflows-store/src/workflow_list.rs): every
/// combination counts exactly the workflows it lists, as the count over the rows does, after
/// writes by the service and by another writer (NULL app and flag, moves, a delete).
async fn a_list_by_project_app_and_active_counts_what_it_lists(db: TestDb) {
    use sea_orm::ConnectionTrait;
    let p = people(&db.store).await;
    let s = &db.store;
    let placed = |name: &str, project: i32, app: &str, active: bool| {
        let mut b = body(name);
        b["project_id"] = json!(project);
        b["app_name"] = json!(app);
        b["is_active"] = json!(active);
        new_workflow(&b)
    };
    for (actor, name, project, app, active) in [
        (p.alice, "one", 1, "A", true),
        (p.bob, "two", 1, "B", false),
        (p.alice, "three", 2, "A", true),
        (p.alice, "four", 1, "A", true),
        (p.bob, "five", 2, "B", true),
    ] {
        s.create_workflow(&actor, placed(name, project, app, active))
            .await
            .expect("create");
    }
    let raw = db.raw().await;
    for change in [
        // What the Django app may write: no app, no flag (read as active).
        "INSERT INTO workflows_workflow (project_id, project_name, name, slug, user_id, \
         app_name, is_active, created_at, updated_at) VALUES (1, 'P', 'six', 'six', NULL, NULL, \
         NULL, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        "INSERT INTO workflows_workflow (project_id, project_name, name, slug, user_id, \
         app_name, is_active, created_at, updated_at) VALUES (2, 'P', 'seven', 'seven', NULL, \
         'B', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        "UPDATE workflows_workflow SET project_id = 2 WHERE name = 'four'",
        "UPDATE workflows_workflow SET is_active = false WHERE name = 'three'",
        "UPDATE workflows_workflow SET app_name = NULL WHERE name = 'five'",
        "DELETE FROM workflows_workflow WHERE name = 'one'",
    ] {
        raw.execute_unprepared(change).await.expect("change");
    }

    let listed = |store: workflows_tests::workflows_store::Store, filter: WorkflowFilter| async move {
        all_pages(&store, &p.root, &filter, Ordering::default(), 2).await
    };
    let mut nonempty = 0;
    for project_id in [None, Some(1), Some(2), Some(3)] {
        for app_name in [None, Some("A"), Some("B")] {
            for is_active in [None, Some(true), Some(false)] {
                let filter = WorkflowFilter {
                    project_id,
                    app_name: app_name.map(str::to_owned),
                    is_active,
                    ..Default::default()
                };
                let (ids, counts) = listed(s.clone(), filter.clone()).await;
                let expected = if ids.is_empty() {
                    vec![0]
                } else {
                    vec![ids.len() as u64]
                };
                assert_eq!(counts, expected, "{filter:?}");
                assert_eq!(
                    listed(s.without_rollups(), filter.clone()).await,
                    (ids.clone(), expected),
                    "{filter:?}"
                );
                nonempty += usize::from(!ids.is_empty());
            }
        }
    }
    // Six workflows left, so most combinations list some and a wrong sum shows.
    assert_eq!(
        listed(s.clone(), WorkflowFilter::default()).await.1,
        vec![6]
    );
    assert!(nonempty >= 20, "{nonempty} combinations listed workflows");
}

/// A first page reads its total with its rows, in one statement, and on its own when there are
/// no rows to carry it: a project the rollups count before its rows are there (an import with the
/// triggers off, until `workflows_analytics_rebuild()`) answers the same count on its first page
/// as on the later ones, which read the total first. On SQLite the rows are the count.
async fn a_first_page_without_rows_answers_the_total_the_later_pages_do(db: TestDb) {
    use sea_orm::ConnectionTrait;
    let p = people(&db.store).await;
    let raw = db.raw().await;
    let on_postgres = raw.get_database_backend() == sea_orm::DbBackend::Postgres;
    if on_postgres {
        raw.execute_unprepared(
            "INSERT INTO workflows_usage_total (project_id, app_name, workflows, active) \
             VALUES (77, 'imported', 3, 3)",
        )
        .await
        .expect("rollup row");
    }
    let filter = WorkflowFilter {
        project_id: Some(77),
        ..Default::default()
    };
    let page = |n| PageRequest::new(n, 2).expect("page");
    let first = db
        .store
        .list_workflows(&p.root, &filter, Ordering::default(), page(1))
        .await
        .expect("first page");
    assert!(first.items.is_empty());
    let second = db
        .store
        .list_workflows(&p.root, &filter, Ordering::default(), page(2))
        .await;
    if on_postgres {
        assert_eq!(first.count, 3);
        assert_eq!(second.expect("second page").count, 3);
    } else {
        assert_eq!(first.count, 0);
        assert!(matches!(second, Err(StoreError::InvalidPage)), "{second:?}");
    }
}

/// Pages in the second half of a list are found by walking it backwards from its end
/// (crates/workflows-store/src/paging.rs, `Window`): for every order, with NULLs and ties in the
/// sort key, every page size gives the list a single page gives, and that list is the order
/// the contract names. For staff (counted from the rollups on PostgreSQL) and for the owner, and
/// for a search, whose total comes with its rows and whose pages are walked forward.
async fn pages_read_from_the_end_match_the_order_read_from_the_start(db: TestDb) {
    let p = people(&db.store).await;
    let s = &db.store;
    let raw = db.raw().await;
    // name, created_at and updated_at (ties), execution_count and last_executed_at (NULLs).
    let rows = [
        ("b", 1, 2, Some(3), Some(1)),
        ("a", 2, 1, None, None),
        ("b", 1, 1, Some(0), Some(2)),
        ("c", 2, 2, Some(3), None),
        ("a", 1, 2, None, Some(1)),
        ("c", 3, 1, Some(1), Some(3)),
        ("b", 2, 3, Some(0), None),
    ];
    let mut stored = Vec::new();
    for (name, created, updated, count, executed) in rows {
        let sql_number = |n: Option<i32>| n.map_or("NULL".to_owned(), |n| n.to_string());
        let sql_day = |day: Option<i32>| {
            day.map_or("NULL".to_owned(), |d| {
                format!("'2030-01-0{d} 00:00:00+00:00'")
            })
        };
        let id = inserted_workflow(
            &raw,
            format!(
                "INSERT INTO workflows_workflow (project_id, project_name, name, slug, \
                     user_id, created_at, updated_at, execution_count, last_executed_at) \
                     VALUES (321, 'P', '{name}', '{name}', {}, {}, {}, {}, {}) RETURNING id",
                p.alice.user_id.0,
                sql_day(Some(created)),
                sql_day(Some(updated)),
                sql_number(count),
                sql_day(executed),
            ),
        )
        .await;
        stored.push((id, (name, created, updated, count, executed)));
    }
    let in_project = WorkflowFilter {
        project_id: Some(321),
        ..Default::default()
    };
    let searched = WorkflowFilter {
        search: Some("p".into()),
        ..in_project.clone()
    };
    for spec in [
        "created_at",
        "-created_at",
        "updated_at",
        "-updated_at",
        "name",
        "-name",
        "execution_count",
        "-execution_count",
        "last_executed_at",
        "-last_executed_at",
        "id",
        "-id",
    ] {
        let ordering: Ordering<WorkflowSortKey> = spec.parse().expect("ordering");
        // The key as the list sorts it: NULLs last in both directions, ties by id the same way.
        let mut expected = stored.clone();
        expected.sort_by(|(a_id, a), (b_id, b)| {
            let key = |r: &(&'static str, i32, i32, Option<i32>, Option<i32>)| match ordering.key {
                WorkflowSortKey::CreatedAt => Some(("", r.1)),
                WorkflowSortKey::UpdatedAt => Some(("", r.2)),
                WorkflowSortKey::Name => Some((r.0, 0)),
                WorkflowSortKey::ExecutionCount => r.3.map(|n| ("", n)),
                WorkflowSortKey::LastExecutedAt => r.4.map(|day| ("", day)),
                WorkflowSortKey::Id => Some(("", 0)),
            };
            let (a_key, b_key) = (key(a), key(b));
            let nulls_last = a_key.is_none().cmp(&b_key.is_none());
            let by_key = if ordering.descending {
                b_key.cmp(&a_key)
            } else {
                a_key.cmp(&b_key)
            };
            let by_id = if ordering.descending {
                b_id.cmp(a_id)
            } else {
                a_id.cmp(b_id)
            };
            nulls_last.then(by_key).then(by_id)
        });
        let expected: Vec<_> = expected.into_iter().map(|(id, _)| id).collect();
        for actor in [p.root, p.alice] {
            // A search (every row's project name is "P") counts on its rows and walks forward.
            for listed in [&in_project, &searched] {
                for page_size in [1, 2, 3, 4, 100] {
                    assert_eq!(
                        all_pages(s, &actor, listed, ordering, page_size).await,
                        (expected.clone(), vec![expected.len() as u64]),
                        "{spec} by {page_size} for {:?} in {listed:?}",
                        actor.user_id
                    );
                }
            }
        }
    }
}

/// Staff's pages of a list narrowed by nothing but project, app and active flag, in `created_at`
/// order, far from both ends, start from the day they fall in on PostgreSQL (the day counters of
/// the rollups, crates/workflows-store/src/day_pages.rs; here from a skip of 1, where the default
/// waits for 500): with ties, rows at midnight, NULL apps and flags, and `created_at` moved by
/// another writer, every page holds what walking the list's index gives
/// (`Store::without_rollups`).
async fn deep_pages_started_from_their_day_match_the_pages_walked_to(db: TestDb) {
    use sea_orm::ConnectionTrait;
    let p = people(&db.store).await;
    let s = &db.store.with_day_anchored_from(1);
    let raw = db.raw().await;
    // Project 1 but every tenth, apps A, B and none, half inactive, a quarter with no flag; over
    // 25 days of four months at three hours of the day (midnight among them).
    let rows: Vec<String> = (0..1_000)
        .map(|i| {
            let project = if i % 10 == 0 { 2 } else { 1 };
            let app = ["'A'", "'B'", "NULL"][i % 3];
            let active = if i % 2 == 0 {
                "false"
            } else if i % 4 == 1 {
                "NULL"
            } else {
                "true"
            };
            let at = format!(
                "'2030-{:02}-{:02} {:02}:00:00+00:00'",
                1 + i / 3 % 4,
                1 + i % 25,
                (i * 7) % 3 * 8
            );
            format!(
                "({project}, 'P', 'w{i}', 'w{i}', {}, {app}, {active}, {at}, {at})",
                p.alice.user_id.0
            )
        })
        .collect();
    for batch in rows.chunks(250) {
        raw.execute_unprepared(&format!(
            "INSERT INTO workflows_workflow (project_id, project_name, name, slug, user_id, \
             app_name, is_active, created_at, updated_at) VALUES {}",
            batch.join(", ")
        ))
        .await
        .expect("insert");
    }
    raw.execute_unprepared(
        "UPDATE workflows_workflow SET created_at = '2030-02-15 00:00:00+00:00' \
         WHERE name IN ('w7', 'w77', 'w177', 'w777', 'w977')",
    )
    .await
    .expect("move");
    // Deleted and flipped workflows change their days' and months' counts in place.
    raw.execute_unprepared(
        "DELETE FROM workflows_workflow WHERE name IN ('w11', 'w311', 'w611'); \
         UPDATE workflows_workflow SET is_active = NOT COALESCE(is_active, true) \
         WHERE name IN ('w13', 'w413', 'w813')",
    )
    .await
    .expect("delete and flip");

    let newest = Ordering::default();
    let oldest = Ordering {
        key: WorkflowSortKey::CreatedAt,
        descending: false,
    };
    let filter = |project_id, app_name: Option<&str>, is_active| WorkflowFilter {
        project_id,
        app_name: app_name.map(str::to_owned),
        is_active,
        ..Default::default()
    };
    for listed in [
        filter(None, None, None),
        filter(Some(1), None, None),
        filter(Some(1), None, Some(true)),
        filter(Some(1), None, Some(false)),
        filter(None, Some("A"), None),
        filter(Some(1), Some("B"), Some(true)),
    ] {
        for ordering in [newest, oldest] {
            let (ids, counts) = all_pages(s, &p.root, &listed, ordering, 30).await;
            let walked = all_pages(&s.without_rollups(), &p.root, &listed, ordering, 30).await;
            assert_eq!(
                (&ids, &counts),
                (&walked.0, &walked.1),
                "{listed:?} {ordering:?}"
            );
            assert_eq!(counts, vec![ids.len() as u64], "{listed:?}");
            assert!(ids.len() > 100, "{listed:?} lists {}", ids.len());
        }
    }

    // On PostgreSQL such a page reads the project's index from its day's end on.
    let plan = s
        .explain_list_workflows(
            &p.root,
            &filter(Some(1), None, None),
            newest,
            PageRequest::new(10, 30).expect("page"),
            true,
        )
        .await
        .expect("explain")
        .join("\n");
    if raw.get_database_backend() == sea_orm::DbBackend::Postgres {
        assert!(plan.contains("created_at <"), "{plan}");
        // The month rows the page starts from are the day rows' sums, as the triggers keep them
        // and as a rebuild (which empties the day rows and fills them again) leaves them.
        assert_eq!(months_off_their_days(&raw).await, (0, 4));
        raw.execute_unprepared("SELECT workflows_analytics_rebuild()")
            .await
            .expect("rebuild");
        assert_eq!(months_off_their_days(&raw).await, (0, 4));
    }
}

/// How many month rows differ from the sums of their day rows, and how many months project 1's
/// workflows were created in.
async fn months_off_their_days(raw: &sea_orm::DatabaseConnection) -> (i64, i64) {
    use sea_orm::{ConnectionTrait, Statement};
    let sql = "SELECT \
        (SELECT COUNT(*) FROM (SELECT CAST(date_trunc('month', day) AS date) AS month, project_id, \
                COALESCE(app_name, '') AS app, SUM(workflows) AS workflows, SUM(active) AS active \
              FROM workflows_usage_day_total GROUP BY 1, 2, 3) AS d \
         FULL JOIN (SELECT month, project_id, COALESCE(app_name, '') AS app, workflows, active \
              FROM workflows_usage_month_total) AS m USING (month, project_id, app) \
         WHERE (COALESCE(d.workflows, 0), COALESCE(d.active, 0)) \
            <> (COALESCE(m.workflows, 0), COALESCE(m.active, 0))) AS off, \
        (SELECT COUNT(DISTINCT month) FROM workflows_usage_month_total \
         WHERE project_id = 1 AND workflows > 0) AS months";
    let row = raw
        .query_one_raw(Statement::from_string(raw.get_database_backend(), sql))
        .await
        .expect("month rows")
        .expect("a row");
    (
        row.try_get("", "off").expect("off"),
        row.try_get("", "months").expect("months"),
    )
}
