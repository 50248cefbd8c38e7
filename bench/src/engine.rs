//! Engine throughput and wake-up latency on PostgreSQL: runs per second of a 3-molecule DAG of
//! built-in no-op atoms with 1, 2 and 4 workers (each its own pool, as separate processes would
//! have), and the time from `execute` to `running` with idle workers (measured from the run's own
//! record: its `started_at` to its first molecule's start).
//!
//! Usage: engine-bench [admin-url] [runs] [results-dir, default bench/results]
//! (writes engine.md and engine.json there for `bench-check`)
#![allow(clippy::print_stdout)]

use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use workflows_bench::fresh_database;
use workflows_domain::{Actor, ExecutionRequest, NewWorkflow, Workflow};
use workflows_engine::{BUILTIN_PREFIX, BuiltinExecutor, EngineConfig, ExecutorRegistry, Worker};
use workflows_store::{ConnectSettings, Store};

const LEASE: Duration = Duration::from_secs(30);

async fn setup(url: &str) -> anyhow::Result<(Store, Actor, Workflow)> {
    let store = Store::connect_with(&ConnectSettings {
        max_connections: 20,
        ..ConnectSettings::new(url)
    })
    .await?;
    store.migrate().await?;
    let actor = store.create_user("bench", "", true).await?.actor();
    let body = json!({
        "project_id": 1, "project_name": "bench", "name": "three no-op molecules",
        "molecules_used": ["a", "b", "c"],
        "atoms_in_molecules": {"a": ["builtin.noop"], "b": ["builtin.noop"], "c": ["builtin.noop"]},
        "dag_spec": {"nodes": [{"id": "a"}, {"id": "b"}, {"id": "c"}],
                     "edges": [{"source": "a", "target": "b"}, {"source": "b", "target": "c"}]}
    });
    let workflow = store
        .create_workflow(
            &actor,
            NewWorkflow::from_json(&body).map_err(|e| anyhow::anyhow!("{e}"))?,
        )
        .await?;
    Ok((store, actor, workflow))
}

fn workers(url: &str, count: usize) -> Vec<(tokio::task::JoinHandle<()>, CancellationToken)> {
    (0..count)
        .map(|_| {
            let url = url.to_owned();
            let stop = CancellationToken::new();
            let token = stop.clone();
            let handle = tokio::spawn(async move {
                let Ok(store) = Store::connect_with(&ConnectSettings {
                    max_connections: 20,
                    ..ConnectSettings::new(url)
                })
                .await
                else {
                    return;
                };
                let registry = ExecutorRegistry::new()
                    .register_prefix(BUILTIN_PREFIX, Arc::new(BuiltinExecutor));
                let config = EngineConfig {
                    concurrency: 16,
                    lease: LEASE,
                    poll_interval: Duration::from_millis(500),
                    ..EngineConfig::default()
                };
                let _ = Worker::new(store, registry, config).run(token).await;
            });
            (handle, stop)
        })
        .collect()
}

async fn scalar(db: &sea_orm::DatabaseConnection, sql: &str) -> anyhow::Result<f64> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    Ok(row
        .and_then(|r| r.try_get::<f64>("", "v").ok())
        .unwrap_or(0.0))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let admin = args
        .next()
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let runs: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let out_dir = std::path::PathBuf::from(args.next().unwrap_or_else(|| "bench/results".into()));
    let mut table = String::from(
        "| workers | runs | seconds | runs/s | execute→running p50 (ms) | p99 (ms) |\n|---:|---:|---:|---:|---:|---:|\n",
    );
    let mut rows = Vec::new();
    for worker_count in [1usize, 2, 4] {
        let url = fresh_database(&admin, &format!("wf_bench_engine_{worker_count}"))?;
        let (store, actor, workflow) = setup(&url).await?;
        // Throughput: a backlog of runs, then the workers drain it.
        for _ in 0..runs {
            store
                .execute_workflow(&actor, workflow.id, ExecutionRequest::default(), None)
                .await?;
        }
        let probe = Database::connect(&url).await?;
        let started = Instant::now();
        let pool = workers(&url, worker_count);
        loop {
            let done = scalar(
                &probe,
                "SELECT COUNT(*)::float8 AS v FROM workflows_workflowrun WHERE status = 'success'",
            )
            .await?;
            if done as usize >= runs || started.elapsed() > Duration::from_secs(600) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let seconds = started.elapsed().as_secs_f64();
        // Latency: idle workers, one run at a time; claimed at lease_expires_at - lease.
        let mut latencies = Vec::new();
        for _ in 0..200 {
            let receipt = store
                .execute_workflow(&actor, workflow.id, ExecutionRequest::default(), None)
                .await?;
            let id = match receipt {
                workflows_store::Execution::Created(r)
                | workflows_store::Execution::Replayed(r) => r.run_id,
            };
            // When the first molecule started, as the run's own record says (kept after it ends).
            let sql = format!(
                "SELECT (EXTRACT(EPOCH FROM ((result_data->'molecules'->'a'->>'started_at')::timestamptz - started_at)) \
                 * 1000)::float8 AS v FROM workflows_workflowrun WHERE id = {} AND status = 'success'",
                id.0
            );
            let waited = Instant::now();
            let mut latency = None;
            while latency.is_none() && waited.elapsed() < Duration::from_secs(5) {
                tokio::time::sleep(Duration::from_millis(5)).await;
                let row = probe
                    .query_one_raw(Statement::from_string(
                        probe.get_database_backend(),
                        sql.clone(),
                    ))
                    .await?;
                latency = row.and_then(|r| r.try_get::<f64>("", "v").ok());
            }
            latencies.extend(latency);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        latencies.sort_by(f64::total_cmp);
        let pick = |q: f64| {
            latencies
                .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
                .copied()
                .unwrap_or(f64::NAN)
        };
        for (_, stop) in &pool {
            stop.cancel();
        }
        for (handle, _) in pool {
            let _ = handle.await;
        }
        probe.close().await?;
        store.close().await?;
        let line = format!(
            "| {worker_count} | {runs} | {seconds:.2} | {:.0} | {:.1} | {:.1} |",
            runs as f64 / seconds,
            pick(0.5),
            pick(0.99)
        );
        println!("{line}");
        table.push_str(&line);
        table.push('\n');
        rows.push(json!({
            "workers": worker_count, "runs": runs, "seconds": seconds,
            "runs_per_second": runs as f64 / seconds,
            "execute_to_running_p50_ms": pick(0.5), "execute_to_running_p99_ms": pick(0.99),
        }));
    }
    std::fs::create_dir_all(&out_dir)?;
    std::fs::write(
        out_dir.join("engine.json"),
        serde_json::to_string_pretty(&json!({ "workers": rows }))?,
    )?;
    std::fs::write(
        out_dir.join("engine.md"),
        format!(
            "## Engine (`make bench-engine`)\n\nA backlog of {runs} runs of a 3-molecule chain of `builtin.noop` atoms, drained by 1, 2 and 4 \
             workers (each its own pool, concurrency 16, in one process); then 200 runs one at a time with idle workers, \
             `execute` → first molecule started, from the runs' own records.\n\n{table}"
        ),
    )?;
    Ok(())
}
