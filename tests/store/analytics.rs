//! Analytics against figures worked out by hand on a small seeded data set, on both backends.

use crate::fixtures::{moved_run, people};
use chrono::{DateTime, Datelike, TimeDelta, Timelike, Utc};
use serde_json::{Value, json};
use workflows_domain::{
    Actor, AnalyticsFilter, NewWorkflow, RunId, RunStatus, TimeBucket, Usage, Workflow,
    WorkflowChanges, WorkflowId,
};
use workflows_tests::workflows_store::Store;
use workflows_tests::{TestDb, on_both_backends};

on_both_backends!(
    summary_matches_the_hand_computed_figures,
    molecule_and_atom_usage_match_by_hand,
    runs_fall_into_aligned_buckets,
    rollups_agree_with_the_tables_after_every_kind_of_write,
    the_hourly_chart_keeps_the_latest_hours_that_have_runs,
    a_fold_moves_more_workflows_than_one_statement_takes,
);

async fn workflow(store: &Store, actor: &Actor, project: i32, app: &str, extra: Value) -> Workflow {
    let mut body =
        json!({"project_id": project, "project_name": "P", "name": "w", "app_name": app});
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    store
        .create_workflow(actor, NewWorkflow::from_json(&body).expect("valid"))
        .await
        .expect("create")
}

/// A run of `w` moved to `status`; finished ones take `seconds`.
async fn run(store: &Store, actor: &Actor, w: &Workflow, status: &str, seconds: i64) {
    moved_run(store, actor, w.id, status, |started| {
        started + TimeDelta::seconds(seconds)
    })
    .await;
}

struct Seeded {
    alice: Actor,
    root: Actor,
    w1: Workflow,
    w2: Workflow,
    w3: Workflow,
}

/// W1 (Alice, project 1, app A): m1[x, y], m2[y]; runs success 10 s, failed 20 s, pending.
/// W2 (Alice, project 1, app B): m1[x]; a success of 30 s, then deactivated.
/// W3 (Bob, project 2, app A): molecules m2, m3, m2 again; m3[z]; cancelled 40 s, running.
async fn seed(store: &Store) -> Seeded {
    let p = people(store).await;
    let w1 = workflow(store, &p.alice, 1, "A", json!({"molecules_used": ["m1", "m2"], "atoms_in_molecules": {"m1": ["x", "y"], "m2": ["y"]}})).await;
    let w2 = workflow(
        store,
        &p.alice,
        1,
        "B",
        json!({"molecules_used": ["m1"], "atoms_in_molecules": {"m1": ["x"]}}),
    )
    .await;
    let w3 = workflow(
        store,
        &p.bob,
        2,
        "A",
        json!({"molecules_used": ["m2", "m3", "m2"], "atoms_in_molecules": {"m3": ["z"]}}),
    )
    .await;
    run(store, &p.alice, &w1, "success", 10).await;
    run(store, &p.alice, &w1, "failed", 20).await;
    run(store, &p.alice, &w1, "pending", 0).await;
    run(store, &p.alice, &w2, "success", 30).await;
    run(store, &p.bob, &w3, "cancelled", 40).await;
    run(store, &p.bob, &w3, "running", 0).await;
    let off = WorkflowChanges::patch_from_json(&json!({"is_active": false})).expect("valid");
    store
        .update_workflow(&p.alice, w2.id, &off, None)
        .await
        .expect("deactivate");
    Seeded {
        alice: p.alice,
        root: p.root,
        w1,
        w2,
        w3,
    }
}

async fn summary_matches_the_hand_computed_figures(db: TestDb) {
    let s = seed(&db.store).await;
    let all = db
        .store
        .analytics_summary(&s.root, &AnalyticsFilter::default(), 10)
        .await
        .expect("summary");
    assert_eq!((all.workflows.total, all.workflows.active), (3, 2));
    assert_eq!(all.runs.total, 6);
    let by = |status| all.runs.by_status[&status];
    assert_eq!(
        [
            RunStatus::Pending,
            RunStatus::Running,
            RunStatus::Success,
            RunStatus::Failed,
            RunStatus::Cancelled
        ]
        .map(by),
        [1, 1, 2, 1, 1]
    );
    assert_eq!(by(RunStatus::Completed) + by(RunStatus::Failure), 0);
    let rate = all.runs.success_rate.expect("a rate");
    assert!((rate - 2.0 / 3.0).abs() < 1e-9, "{rate}");
    assert_eq!(all.executions, 6);
    let d = all.duration_seconds;
    assert_eq!(
        (d.count, d.mean, d.p50, d.p95),
        (4, Some(25.0), Some(20.0), Some(40.0))
    );
    let order: Vec<_> = all
        .most_executed
        .iter()
        .map(|w| (w.id, w.execution_count))
        .collect();
    assert_eq!(order, [(s.w1.id, 3), (s.w3.id, 2), (s.w2.id, 1)]);

    // A regular user's numbers are their own; staff narrowing to project 1 see the same.
    for (actor, filter) in [
        (&s.alice, AnalyticsFilter::default()),
        (
            &s.root,
            AnalyticsFilter {
                project_id: Some(1),
                ..Default::default()
            },
        ),
    ] {
        let mine = db
            .store
            .analytics_summary(actor, &filter, 10)
            .await
            .expect("summary");
        assert_eq!(
            (
                mine.workflows.total,
                mine.workflows.active,
                mine.runs.total,
                mine.executions
            ),
            (2, 1, 4, 4)
        );
        let d = mine.duration_seconds;
        assert_eq!(
            (d.count, d.mean, d.p50, d.p95),
            (3, Some(20.0), Some(20.0), Some(30.0))
        );
        assert_eq!(mine.most_executed.len(), 2);
    }
    let app_a = AnalyticsFilter {
        app_name: Some("A".into()),
        ..Default::default()
    };
    let a = db
        .store
        .analytics_summary(&s.root, &app_a, 1)
        .await
        .expect("summary");
    assert_eq!((a.workflows.total, a.runs.total, a.executions), (2, 5, 5));
    assert_eq!(a.most_executed.len(), 1, "limit");

    // The window: nothing started or was created after an hour from now, or before the seed.
    let later = AnalyticsFilter {
        since: Some(Utc::now() + TimeDelta::hours(1)),
        ..Default::default()
    };
    let earlier = AnalyticsFilter {
        until: Some(s.w1.created_at),
        ..Default::default()
    };
    for window in [later, earlier] {
        let none = db
            .store
            .analytics_summary(&s.root, &window, 10)
            .await
            .expect("summary");
        assert_eq!(
            (none.workflows.total, none.runs.total, none.executions),
            (0, 0, 0)
        );
        assert_eq!(
            (
                none.duration_seconds.count,
                none.duration_seconds.p50,
                none.runs.success_rate
            ),
            (0, None, None)
        );
        assert!(none.most_executed.is_empty());
    }
}

/// (molecule, atom, workflows, projects, executions)
type UsageRow<'a> = (Option<&'a str>, Option<&'a str>, u64, u64, i64);

fn rows(usage: &[Usage]) -> Vec<UsageRow<'_>> {
    usage
        .iter()
        .map(|u| {
            (
                u.molecule.as_deref(),
                u.atom.as_deref(),
                u.workflows,
                u.projects,
                u.executions,
            )
        })
        .collect()
}

async fn molecule_and_atom_usage_match_by_hand(db: TestDb) {
    let s = seed(&db.store).await;
    let all = AnalyticsFilter::default();
    let molecules = db
        .store
        .analytics_molecules(&s.root, &all, 10)
        .await
        .expect("molecules");
    assert_eq!(
        rows(&molecules),
        [
            (Some("m2"), None, 2, 2, 5),
            (Some("m1"), None, 2, 1, 4),
            (Some("m3"), None, 1, 1, 2)
        ]
    );
    let top = db
        .store
        .analytics_molecules(&s.root, &all, 1)
        .await
        .expect("molecules");
    assert_eq!(rows(&top), [(Some("m2"), None, 2, 2, 5)]);
    let alices = db
        .store
        .analytics_molecules(&s.alice, &all, 10)
        .await
        .expect("molecules");
    assert_eq!(
        rows(&alices),
        [(Some("m1"), None, 2, 1, 4), (Some("m2"), None, 1, 1, 3)]
    );

    let atoms = db
        .store
        .analytics_atoms(&s.root, &all, 10)
        .await
        .expect("atoms");
    assert_eq!(
        rows(&atoms.atoms),
        [
            (None, Some("x"), 2, 1, 4),
            (None, Some("y"), 1, 1, 3),
            (None, Some("z"), 1, 1, 2)
        ]
    );
    assert_eq!(
        rows(&atoms.pairs),
        [
            (Some("m1"), Some("x"), 2, 1, 4),
            (Some("m1"), Some("y"), 1, 1, 3),
            (Some("m2"), Some("y"), 1, 1, 3),
            (Some("m3"), Some("z"), 1, 1, 2),
        ]
    );
    let m1 = AnalyticsFilter {
        molecule: Some("m1".into()),
        ..Default::default()
    };
    let of_m1 = db
        .store
        .analytics_atoms(&s.root, &m1, 10)
        .await
        .expect("atoms");
    assert_eq!(
        rows(&of_m1.atoms),
        [(None, Some("x"), 2, 1, 4), (None, Some("y"), 1, 1, 3)]
    );
    assert_eq!(rows(&of_m1.pairs).len(), 2);
    let project_2 = AnalyticsFilter {
        project_id: Some(2),
        ..Default::default()
    };
    let bobs = db
        .store
        .analytics_atoms(&s.root, &project_2, 10)
        .await
        .expect("atoms");
    assert_eq!(rows(&bobs.atoms), [(None, Some("z"), 1, 1, 2)]);
}

async fn runs_fall_into_aligned_buckets(db: TestDb) {
    let s = seed(&db.store).await;
    let all = AnalyticsFilter::default();
    for bucket in [TimeBucket::Hour, TimeBucket::Day, TimeBucket::Week] {
        let series = db
            .store
            .analytics_runs(&s.root, &all, bucket, 100)
            .await
            .expect("series");
        assert_eq!(series.bucket, bucket);
        // The seed may straddle a boundary, so at most two buckets, holding every run.
        assert!(
            (1..=2).contains(&series.series.len()),
            "{bucket:?}: {series:?}"
        );
        assert_eq!(series.series.iter().map(|b| b.total).sum::<u64>(), 6);
        let success: u64 = series
            .series
            .iter()
            .map(|b| b.counts[&RunStatus::Success])
            .sum();
        assert_eq!(success, 2);
        for b in &series.series {
            assert_eq!((b.start.minute(), b.start.second()), (0, 0));
            if bucket != TimeBucket::Hour {
                assert_eq!(b.start.hour(), 0);
            }
            if bucket == TimeBucket::Week {
                assert_eq!(b.start.weekday(), chrono::Weekday::Mon);
            }
            assert!(b.start <= Utc::now());
        }
    }
    let mine = db
        .store
        .analytics_runs(&s.alice, &all, TimeBucket::Day, 1)
        .await
        .expect("series");
    assert_eq!(mine.series.len(), 1, "limit keeps the latest bucket");
    assert!(mine.series[0].total <= 4);
    let later = AnalyticsFilter {
        since: Some(Utc::now() + TimeDelta::hours(1)),
        ..Default::default()
    };
    let none = db
        .store
        .analytics_runs(&s.root, &later, TimeBucket::Day, 10)
        .await
        .expect("series");
    assert!(none.series.is_empty());
}

/// `since` and `until`.
type Window = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

fn midnight_today() -> DateTime<Utc> {
    Utc::now()
        .with_hour(0)
        .and_then(|t| t.with_minute(0))
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .expect("midnight")
}

/// `hours` past the midnight `days` before today's.
fn hours_into(days: i64, hours: i64) -> DateTime<Utc> {
    midnight_today() - TimeDelta::days(days) + TimeDelta::hours(hours)
}

/// Windows around the seeded workflows (all created today): cut mid-day with an open end, so today
/// is a whole day of the daily rollups; cut mid-day before now, so today is a ragged end read from
/// the tables; aligned to midnights on both sides; open at the start. And cut at fixed hours
/// whatever the time of day: ends longer than half a day, whose day is counted whole and the
/// hours outside the window taken away (2:00 to an open end, 2:00 to 14:00), and one of 2 hours.
fn windows() -> Vec<Window> {
    let now = Utc::now();
    let midnight = midnight_today();
    vec![
        (None, None),
        (Some(now - TimeDelta::days(3)), None),
        (
            Some(now - TimeDelta::days(3)),
            Some(now + TimeDelta::minutes(1)),
        ),
        (
            Some(midnight - TimeDelta::days(1)),
            Some(midnight + TimeDelta::days(1)),
        ),
        (None, Some(now + TimeDelta::minutes(1))),
        (Some(hours_into(3, 2)), None),
        (Some(hours_into(3, 2)), Some(hours_into(1, 14))),
        (Some(hours_into(3, 22)), None),
    ]
}

/// Staff's answers from the rollups and from the tables alone ([`Store::without_rollups`]),
/// compared for a few filters, each without and within a few windows.
async fn assert_rollups_agree(store: &Store, staff: &Actor, step: &str) {
    let tables = store.without_rollups();
    let narrowing = [
        AnalyticsFilter::default(),
        AnalyticsFilter {
            project_id: Some(1),
            ..Default::default()
        },
        AnalyticsFilter {
            app_name: Some("A".into()),
            ..Default::default()
        },
        AnalyticsFilter {
            molecule: Some("m2".into()),
            ..Default::default()
        },
    ];
    let filters = narrowing.iter().flat_map(|filter| {
        windows()
            .into_iter()
            .map(move |(since, until)| AnalyticsFilter {
                since,
                until,
                ..filter.clone()
            })
    });
    for filter in filters {
        let filter = &filter;
        let rolled = store
            .analytics_summary(staff, filter, 10)
            .await
            .expect("summary");
        let counted = tables
            .analytics_summary(staff, filter, 10)
            .await
            .expect("summary");
        assert_eq!(
            (
                rolled.workflows,
                &rolled.runs,
                rolled.executions,
                &rolled.most_executed
            ),
            (
                counted.workflows,
                &counted.runs,
                counted.executions,
                &counted.most_executed
            ),
            "{step}: summary of {filter:?}"
        );
        let (r, c) = (rolled.duration_seconds, counted.duration_seconds);
        assert_eq!(r.count, c.count, "{step}: durations of {filter:?}");
        // The histogram keeps three significant digits.
        for (rolled, counted) in [(r.mean, c.mean), (r.p50, c.p50), (r.p95, c.p95)] {
            match (rolled, counted) {
                (Some(r), Some(c)) => assert!(
                    (r - c).abs() <= c.abs() * 0.005 + 0.001,
                    "{step}: {r} vs {c} for {filter:?}"
                ),
                (r, c) => assert_eq!(r, c, "{step}: durations of {filter:?}"),
            }
        }
        // A limit below the number of keys cuts the ranking where projects are not counted.
        for limit in [2, 10] {
            assert_eq!(
                store
                    .analytics_molecules(staff, filter, limit)
                    .await
                    .expect("molecules"),
                tables
                    .analytics_molecules(staff, filter, limit)
                    .await
                    .expect("molecules"),
                "{step}: {limit} molecules of {filter:?}"
            );
            assert_eq!(
                store
                    .analytics_atoms(staff, filter, limit)
                    .await
                    .expect("atoms"),
                tables
                    .analytics_atoms(staff, filter, limit)
                    .await
                    .expect("atoms"),
                "{step}: {limit} atoms of {filter:?}"
            );
        }
        // One bucket: the hourly counters' step back must stop at the latest hour with runs.
        for bucket in [TimeBucket::Hour, TimeBucket::Day, TimeBucket::Week] {
            for limit in [1, 10] {
                assert_eq!(
                    store
                        .analytics_runs(staff, filter, bucket, limit)
                        .await
                        .expect("runs"),
                    tables
                        .analytics_runs(staff, filter, bucket, limit)
                        .await
                        .expect("runs"),
                    "{step}: {limit} {bucket:?} runs of {filter:?}"
                );
            }
        }
    }
}

/// The fold moves pending executions a few dozen workflows per statement (so an `execute` never
/// waits long behind one); more than that must all move, over several statements.
async fn a_fold_moves_more_workflows_than_one_statement_takes(db: TestDb) {
    let store = &db.store;
    let p = people(store).await;
    let executed = 120;
    for n in 0..executed {
        let app = if n % 2 == 0 { "A" } else { "B" };
        let w = workflow(store, &p.alice, 1 + n % 3, app, json!({"molecules_used": ["m1", "m2"], "atoms_in_molecules": {"m1": ["x"], "m2": ["y"]}})).await;
        run(store, &p.alice, &w, "success", 5).await;
    }
    assert_rollups_agree(store, &p.root, "executed, nothing folded").await;
    let folded = store.fold_usage().await.expect("fold");
    let expected = if db.backend == workflows_tests::Backend::Postgres {
        u64::try_from(executed).expect("positive")
    } else {
        0
    };
    assert_eq!(
        folded, expected,
        "every executed workflow's executions moved"
    );
    assert_eq!(store.fold_usage().await.expect("fold"), 0, "nothing left");
    assert_rollups_agree(store, &p.root, "folded").await;
}

/// On PostgreSQL triggers keep the rollups; every kind of write must leave them equal to what the
/// tables say.
async fn rollups_agree_with_the_tables_after_every_kind_of_write(db: TestDb) {
    let s = seed(&db.store).await;
    let store = &db.store;
    assert_rollups_agree(store, &s.root, "seeded").await;

    let moved = WorkflowChanges::patch_from_json(&json!({
        "project_id": 2, "app_name": "A",
        "molecules_used": ["m2", "m4"], "atoms_in_molecules": {"m2": ["y", "w"], "m4": ["x"]}
    }))
    .expect("valid");
    store
        .update_workflow(&s.alice, s.w1.id, &moved, None)
        .await
        .expect("move");
    assert_rollups_agree(store, &s.root, "a workflow moved to another project").await;

    // Another writer dates workflows back (the API never does): W3 into a whole day of the
    // windows, W2 into their ragged start.
    let now = Utc::now();
    set_created_at(&db, s.w3.id, now - TimeDelta::days(2)).await;
    set_created_at(
        &db,
        s.w2.id,
        now - TimeDelta::days(3) + TimeDelta::minutes(1),
    )
    .await;
    assert_rollups_agree(store, &s.root, "workflows dated back").await;
    // And runs: one into a whole day of the windows, one into their ragged start.
    for (ago, seconds) in [
        (TimeDelta::days(2), 12),
        (TimeDelta::days(3) - TimeDelta::minutes(1), 700),
    ] {
        let id = moved_run(store, &s.root, s.w3.id, "success", |at| at).await;
        set_run_times(&db, id, now - ago, now - ago + TimeDelta::seconds(seconds)).await;
    }
    assert_rollups_agree(store, &s.root, "runs dated back").await;
    // And into the hours that the windows cut at fixed hours take away from their first and last
    // whole days: W1 before 2:00 three days ago, W2 after 14:00 yesterday.
    set_created_at(&db, s.w1.id, hours_into(3, 1)).await;
    set_created_at(&db, s.w2.id, hours_into(1, 20)).await;
    assert_rollups_agree(
        store,
        &s.root,
        "workflows dated into the hours windows take away",
    )
    .await;
    // And runs: one before 2:00 three days ago, one after 14:00 yesterday, and one within the
    // windows between, so that their charts of one bucket have a latest hour inside them.
    for (at, seconds) in [
        (hours_into(3, 1), 5),
        (hours_into(1, 20), 900),
        (hours_into(1, 10), 60),
    ] {
        let id = moved_run(store, &s.root, s.w3.id, "failed", |at| at).await;
        set_run_times(&db, id, at, at + TimeDelta::seconds(seconds)).await;
    }
    assert_rollups_agree(
        store,
        &s.root,
        "runs dated into the hours windows take away",
    )
    .await;

    let on = WorkflowChanges::patch_from_json(&json!({"is_active": true})).expect("valid");
    store
        .update_workflow(&s.alice, s.w2.id, &on, None)
        .await
        .expect("activate");
    run(store, &s.alice, &s.w2, "failed", 7).await;
    run(store, &s.alice, &s.w2, "running", 0).await;
    assert_rollups_agree(store, &s.root, "activated and run").await;
    let folded = store.fold_usage().await.expect("fold");
    if db.backend == workflows_tests::Backend::Postgres {
        assert!(
            folded >= 2,
            "the executions of W1 and W2 were pending: {folded}"
        );
    }
    assert_eq!(store.fold_usage().await.expect("fold"), 0, "nothing left");
    if db.backend == workflows_tests::Backend::Postgres {
        use sea_orm::{ConnectionTrait, Statement};
        let raw = db.raw().await;
        for table in ["molecule", "atom", "pair"] {
            let sql =
                format!("SELECT COUNT(*) AS n FROM workflows_usage_day_{table}_overall_pending");
            let row = raw
                .query_one_raw(Statement::from_string(raw.get_database_backend(), sql))
                .await
                .expect("count")
                .expect("a row");
            let pending: i64 = row.try_get("", "n").expect("n");
            assert_eq!(pending, 0, "the fold moved the {table} sums' changes");
        }
    }
    assert_rollups_agree(store, &s.root, "executions folded").await;
    run(store, &s.root, &s.w3, "success", 3).await;
    assert_rollups_agree(store, &s.root, "executed after a fold").await;

    store
        .cancel_workflow_runs(&s.root, s.w3.id)
        .await
        .expect("cancel");
    assert_rollups_agree(store, &s.root, "unfinished runs cancelled").await;

    store
        .delete_workflow_runs(&s.alice, s.w1.id, &[RunStatus::Failed], None)
        .await
        .expect("delete runs");
    assert_rollups_agree(store, &s.root, "finished runs deleted").await;

    store
        .delete_workflow(&s.alice, s.w2.id, None)
        .await
        .expect("delete workflow");
    assert_rollups_agree(store, &s.root, "a workflow and its runs deleted").await;
}

/// Runs `sql` as another writer would (the API never changes these columns), on either backend:
/// its placeholders are `$1`, `$2`… in order, each used once.
async fn write_raw(db: &TestDb, sql: &str, values: Vec<sea_orm::Value>) {
    use sea_orm::{ConnectionTrait, Statement};
    let raw = db.raw().await;
    let sql = match db.backend {
        workflows_tests::Backend::Postgres => sql.to_owned(),
        workflows_tests::Backend::Sqlite => (1..=values.len())
            .rev()
            .fold(sql.to_owned(), |sql, n| sql.replace(&format!("${n}"), "?")),
    };
    raw.execute_raw(Statement::from_sql_and_values(
        raw.get_database_backend(),
        sql.as_str(),
        values,
    ))
    .await
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn set_created_at(db: &TestDb, id: WorkflowId, at: DateTime<Utc>) {
    write_raw(
        db,
        "UPDATE workflows_workflow SET created_at = $1 WHERE id = $2",
        vec![at.into(), id.0.into()],
    )
    .await;
}

async fn set_run_times(db: &TestDb, id: RunId, started: DateTime<Utc>, completed: DateTime<Utc>) {
    write_raw(
        db,
        "UPDATE workflows_workflowrun SET started_at = $1, completed_at = $2 WHERE id = $3",
        vec![started.into(), completed.into(), id.0.into()],
    )
    .await;
}

/// Runs spread over hours (moved back with SQL: the API never changes `started_at`); the hourly
/// chart's latest `limit` hours are the latest that have runs, however far apart. An hour whose
/// runs all moved to another project and app (its counters summing to zero) is not one of them.
async fn the_hourly_chart_keeps_the_latest_hours_that_have_runs(db: TestDb) {
    let s = seed(&db.store).await;
    let w9 = workflow(&db.store, &s.alice, 9, "hourly", json!({})).await;
    let now = Utc::now();
    let ago = [0, 2, 5, 30].map(|h| now - TimeDelta::hours(h));
    for started in ago {
        let id = moved_run(&db.store, &s.alice, w9.id, "success", |at| at).await;
        set_run_times(&db, id, started, started).await;
    }
    let leaving = workflow(&db.store, &s.alice, 9, "hourly", json!({})).await;
    for hours in [1, 3] {
        let started = now - TimeDelta::hours(hours);
        let id = moved_run(&db.store, &s.alice, leaving.id, "failed", |at| at).await;
        set_run_times(&db, id, started, started).await;
    }
    let away = WorkflowChanges::patch_from_json(&json!({"project_id": 10, "app_name": "away"}))
        .expect("valid");
    db.store
        .update_workflow(&s.alice, leaving.id, &away, None)
        .await
        .expect("move");
    let hour = |at: DateTime<Utc>| {
        at.with_minute(0)
            .and_then(|t| t.with_second(0))
            .and_then(|t| t.with_nanosecond(0))
            .expect("an hour")
    };
    // Staff step back through the hours (the counters on PostgreSQL); an owner reads their runs
    // whole.
    let app = AnalyticsFilter {
        app_name: Some("hourly".into()),
        ..Default::default()
    };
    let project = AnalyticsFilter {
        project_id: Some(9),
        ..Default::default()
    };
    let both = AnalyticsFilter {
        project_id: Some(9),
        ..app.clone()
    };
    for (actor, filter) in [(&s.root, &app), (&s.root, &project), (&s.root, &both)]
        .into_iter()
        .chain([(&s.alice, &app), (&s.alice, &project)])
    {
        for limit in [1_u64, 2, 3, 4, 10] {
            let series = db
                .store
                .analytics_runs(actor, filter, TimeBucket::Hour, limit)
                .await
                .expect("series");
            let starts: Vec<_> = series.series.iter().map(|b| b.start).collect();
            let mut expected: Vec<_> = ago.iter().map(|at| hour(*at)).collect();
            expected.truncate(limit as usize);
            expected.reverse();
            assert_eq!(starts, expected, "limit {limit} of {filter:?}");
            assert!(series.series.iter().all(|b| b.total == 1), "{series:?}");
        }
    }
}
