//! Compares the last `make bench` results (bench/results/*.json) with the targets of the
//! benchmark issue and prints one line per target; exits non-zero when any is missed. Never part
//! of `make test`: these are timings of a shared machine.
//!
//! Usage: bench-check [--results DIR] [--quick N] [--scale N]
#![allow(clippy::print_stdout)]

use anyhow::Context;
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;
use workflows_bench::{Args, P99_TARGETED, errors, floor_ratio, number, ratio};

struct Verdicts {
    missed: usize,
}

impl Verdicts {
    fn check(&mut self, target: &str, measured: String, met: bool) {
        if !met {
            self.missed += 1;
        }
        println!(
            "{:<4} {target:<62} {measured}",
            if met { "ok" } else { "MISS" }
        );
    }
}

fn load(path: &Path) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(serde_json::from_str(&text)?)
}

fn scenario<'a>(report: &'a Value, name: &str) -> Option<&'a Value> {
    report["scenarios"]
        .as_array()?
        .iter()
        .find(|s| s["scenario"] == name)
}

/// Each wrk connection has one request in flight at a time, so the latencies it recorded add up
/// to at most its share of the run. A saturated run sums to about connections × seconds; a
/// quarter more is allowed for requests finishing after the clock stops. wrk's own figures break
/// this, as they add made-up samples against coordinated omission; scenario.lua reports the
/// recorded ones (finding 21), and this check keeps any report from going back to wrk's.
fn overlong_latencies(verdicts: &mut Verdicts, report: &Value) {
    let mut overlong = Vec::new();
    for result in report["scenarios"].as_array().into_iter().flatten() {
        let Some(loads) = result["load"].as_object() else {
            continue;
        };
        for (connections, load) in loads {
            let busy = number(load, &["mean"]) * number(load, &["requests"]) / 1e6;
            let available = connections.parse::<f64>().unwrap_or(0.0) * number(load, &["seconds"]);
            if busy > 1.25 * available {
                overlong.push(format!(
                    "{}@{connections} {busy:.0}s/{available:.0}s",
                    result["scenario"].as_str().unwrap_or("?")
                ));
            }
        }
    }
    verdicts.check(
        "recorded latencies fit in the connections' time (every run)",
        if overlong.is_empty() {
            "all".to_owned()
        } else {
            overlong.join(", ")
        },
        overlong.is_empty(),
    );
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse(std::env::args().skip(1))?;
    let dir = std::path::PathBuf::from(args.text("results", "bench/results"));
    let quick: u64 = args.number("quick", 10_000)?;
    let scale: u64 = args.number("scale", 1_000_000)?;
    let report = load(&dir.join(format!("http-{quick}.json")))?;
    let mut verdicts = Verdicts { missed: 0 };

    for (name, floor) in [
        ("get", 0.5),
        ("create", 0.5),
        ("execute", 0.5),
        ("list_project", 0.4),
        ("list_deep", 0.4),
        ("list_molecule", 0.4),
        ("list_atom", 0.4),
        ("search", 0.4),
        ("list_runs", 0.4),
    ] {
        if let Some(result) = scenario(&report, name) {
            let r = ratio(result);
            let mut measured = format!("{:.0}%", r * 100.0);
            if let Some(floor_ratio) = floor_ratio(result) {
                let _ = write!(
                    measured,
                    " (the floor server {:.0}%: finding 22)",
                    100.0 * floor_ratio
                );
            }
            verdicts.check(
                &format!("{name}: >= {:.0}% of its pgbench ceiling", floor * 100.0),
                measured,
                r >= floor,
            );
        }
    }
    for name in P99_TARGETED {
        if let Some(result) = scenario(&report, name) {
            let p99 = number(&result["load"]["32"], &["p99"]) / 1000.0;
            let corrected = number(&result["load"]["32"], &["wrk_p99"]) / 1000.0;
            let floor = number(result, &["pgbench_latency", "p99"]) / 1000.0;
            verdicts.check(
                &format!("{name}: p99 <= 10 ms at 32 connections"),
                format!(
                    "{p99:.1} ms (wrk's corrected p99 {corrected:.1}; the SQL alone under pgbench {floor:.1})"
                ),
                p99 <= 10.0,
            );
        }
    }
    let mut failed = 0.0;
    let mut peak: f64 = 0.0;
    for result in report["scenarios"].as_array().into_iter().flatten() {
        failed += errors(&result["load"]["256"]);
        peak = peak.max(number(result, &["peak_rss_mib"]));
    }
    verdicts.check(
        "no errors at 256 connections (every scenario)",
        format!("{failed}"),
        failed == 0.0,
    );
    verdicts.check(
        "server RSS <= 64 MiB under load",
        format!("{peak:.0} MiB"),
        peak <= 64.0,
    );
    overlong_latencies(&mut verdicts, &report);

    match load(&dir.join(format!("http-{scale}.json"))) {
        Ok(big) => {
            for name in P99_TARGETED {
                if let (Some(small), Some(large)) = (scenario(&report, name), scenario(&big, name))
                {
                    let before = number(&small["load"]["32"], &["p50"]);
                    let after = number(&large["load"]["32"], &["p50"]);
                    verdicts.check(
                        &format!("{name}: p50 at {scale} within 2x of {quick}"),
                        format!("{:.1} ms vs {:.1} ms", after / 1000.0, before / 1000.0),
                        after <= 2.0 * before,
                    );
                }
            }
        }
        Err(_) => println!("--   no scale results (http-{scale}.json): run `make bench-scale`"),
    }

    match load(&dir.join("engine.json")) {
        Ok(engine) => {
            for row in engine["workers"].as_array().into_iter().flatten() {
                if row["workers"] == 4 {
                    let rate = number(row, &["runs_per_second"]);
                    verdicts.check(
                        "engine: >= 1000 runs/s with 4 workers",
                        format!("{rate:.0} runs/s"),
                        rate >= 1000.0,
                    );
                }
                let p50 = number(row, &["execute_to_running_p50_ms"]);
                verdicts.check(
                    &format!(
                        "engine: execute->running p50 <= 50 ms ({} workers)",
                        row["workers"]
                    ),
                    format!("{p50:.1} ms"),
                    p50 <= 50.0,
                );
            }
        }
        Err(_) => println!("--   no engine results (engine.json): run `make bench-engine`"),
    }

    if verdicts.missed > 0 {
        println!("{} target(s) missed", verdicts.missed);
        std::process::exit(1);
    }
    println!("every target met");
    Ok(())
}
