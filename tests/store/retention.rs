//! Retention: finished runs past the policy's bounds go, in batches; pending and running never do,
//! and a dry run counts exactly what the real prune then deletes.

use crate::fixtures::{create, moved_run, people};
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::BTreeSet;
use workflows_domain::{
    Actor, Ordering, PageRequest, RetentionPolicy, RunFilter, RunId, WorkflowId,
};
use workflows_tests::workflows_store::Store;
use workflows_tests::{TestDb, on_both_backends};

on_both_backends!(prune_keeps_live_runs_and_the_dry_run_counts_true);

/// A run of `workflow`, moved to `status`; finished ones complete `hours` after `t0`.
async fn run(
    store: &Store,
    actor: &Actor,
    workflow: WorkflowId,
    status: &str,
    t0: DateTime<Utc>,
    hours: i64,
) -> RunId {
    moved_run(store, actor, workflow, status, |_| {
        t0 + TimeDelta::hours(hours)
    })
    .await
}

async fn remaining(store: &Store, actor: &Actor) -> BTreeSet<RunId> {
    store
        .list_runs(
            actor,
            &RunFilter::default(),
            Ordering::default(),
            PageRequest::new(1, 100).expect("page"),
        )
        .await
        .expect("list")
        .items
        .into_iter()
        .map(|r| r.id)
        .collect()
}

/// Counts, prunes in batches of `batch`, and checks both figures and what is left.
async fn prune_step(
    store: &Store,
    actor: &Actor,
    policy: RetentionPolicy,
    now: DateTime<Utc>,
    batch: u64,
    expect_gone: &[RunId],
) {
    let before = remaining(store, actor).await;
    let counted = store
        .count_prunable_runs(&policy, now)
        .await
        .expect("count");
    let deleted = store.prune_runs(&policy, now, batch).await.expect("prune");
    assert_eq!(counted, expect_gone.len() as u64, "{policy:?}: dry run");
    assert_eq!(
        deleted, counted,
        "{policy:?}: the prune deletes what the dry run counted"
    );
    let gone: BTreeSet<RunId> = before
        .difference(&remaining(store, actor).await)
        .copied()
        .collect();
    assert_eq!(gone, expect_gone.iter().copied().collect(), "{policy:?}");
}

async fn prune_keeps_live_runs_and_the_dry_run_counts_true(db: TestDb) {
    let s = &db.store;
    let p = people(s).await;
    let (a, b) = (
        create(s, &p.alice, "a").await.id,
        create(s, &p.bob, "b").await.id,
    );
    let t0 = Utc::now();
    let r1 = run(s, &p.alice, a, "success", t0, 1).await;
    let r2 = run(s, &p.alice, a, "failed", t0, 2).await;
    let r3 = run(s, &p.alice, a, "cancelled", t0, 20).await;
    let r4 = run(s, &p.alice, a, "pending", t0, 0).await;
    let r5 = run(s, &p.alice, a, "running", t0, 0).await;
    let r6 = run(s, &p.alice, a, "success", t0, 30).await;
    let s1 = run(s, &p.bob, b, "success", t0, 1).await;
    let s2 = run(s, &p.bob, b, "pending", t0, 0).await;
    let s3 = run(s, &p.bob, b, "failure", t0, 40).await;
    let now = t0 + TimeDelta::days(10);
    let age_until = |hours: i64| Some(TimeDelta::days(10) - TimeDelta::hours(hours));

    prune_step(s, &p.root, RetentionPolicy::default(), now, 10, &[]).await;
    // Keep the two newest finished runs of each workflow: a loses r1 and r2, b keeps both.
    let newest_two = RetentionPolicy {
        max_age: None,
        max_runs_per_workflow: Some(2),
    };
    prune_step(s, &p.root, newest_two, now, 1, &[r1, r2]).await;
    // Finished before t0+25h: r3 and s1.
    let by_age = RetentionPolicy {
        max_age: age_until(25),
        max_runs_per_workflow: None,
    };
    prune_step(s, &p.root, by_age, now, 10, &[r3, s1]).await;
    // Either bound: only r6 ended before t0+35h; each workflow has one finished run left.
    let either = RetentionPolicy {
        max_age: age_until(35),
        max_runs_per_workflow: Some(1),
    };
    prune_step(s, &p.root, either, now, 10, &[r6]).await;
    // Everything finished is past a zero age; the pending and running runs stay.
    let everything = RetentionPolicy {
        max_age: Some(TimeDelta::zero()),
        max_runs_per_workflow: Some(0),
    };
    prune_step(s, &p.root, everything, now, 1, &[s3]).await;
    assert_eq!(remaining(s, &p.root).await, BTreeSet::from([r4, r5, s2]));
}
