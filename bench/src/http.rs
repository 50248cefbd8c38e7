//! The service under HTTP load next to the database's own ceiling for the same SQL.
//!
//! Makes a fresh PostgreSQL database, seeds it with `bench/seed.sql`, starts the release binary
//! and, scenario by scenario, drives it with `wrk` (bench/wrk/scenario.lua) at 32 and 256
//! connections, then alternates rounds of `wrk` at 32 connections with rounds of `pgbench` on the
//! statements the service sends for that scenario (bench/pgbench/<scenario>.sql) at 32 clients.
//! Writes a Markdown report and a JSON file that `bench-check` compares with the targets.
//!
//! Usage: http-bench [--admin-url URL] [--workflows N] [--runs N] [--seconds S] [--out DIR]
//!                   [--reuse yes]
#![allow(clippy::print_stdout, clippy::print_stderr)]

use anyhow::{Context, bail};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use workflows_bench::{
    Args, P99_TARGETED, database_url, errors, explain_statements, floor_ratio, fresh_database,
    median_of, number, percentile, psql, psql_value, ratio, requests_per_second, round_median,
    round_ratios, run_captured,
};

/// A scenario: its name (bench/wrk/scenario.lua's SCENARIO, bench/pgbench/<name>.sql), what it
/// measures, and whether it writes (writes get no EXPLAIN ANALYZE, which would run them).
struct Scenario {
    name: &'static str,
    what: &'static str,
    writes: bool,
}

const fn reads(name: &'static str, what: &'static str) -> Scenario {
    Scenario {
        name,
        what,
        writes: false,
    }
}

const fn writes(name: &'static str, what: &'static str) -> Scenario {
    Scenario {
        name,
        what,
        writes: true,
    }
}

/// Every scenario, in the report's order.
const SCENARIOS: [Scenario; 15] = [
    reads("get", "GET one workflow"),
    reads("list_project", "one project's workflows, first page of 20"),
    reads(
        "list_deep",
        "one project's workflows, a page in its second half",
    ),
    reads("list_molecule", "workflows using a molecule"),
    reads("list_atom", "workflows using an atom"),
    reads("search", "search in name, slug, description, project"),
    reads(
        "list_runs",
        "everyone's runs, a page in the list's middle half",
    ),
    writes("create", "POST a 3-molecule workflow"),
    writes("patch", "PATCH a workflow's description"),
    writes("execute", "POST execute (run + counter)"),
    writes("patch_run", "PATCH a run's result_data"),
    reads("analytics_summary", "analytics summary, one project"),
    reads("analytics_molecules", "analytics molecules, one project"),
    reads("analytics_atoms", "analytics atoms, one project"),
    reads("analytics_runs", "analytics runs per day, one project"),
];

/// Reads every table and index of the database through PostgreSQL's buffers (`pg_prewarm`'s
/// `buffer` mode), the largest first and `workflows_workflow` with its TOAST table and indexes
/// last: every read scenario goes through those, and where the database is larger than
/// shared_buffers (12 GB at 1M against 6 GB) they are what a database in service keeps there,
/// while the rest stays in the OS page cache the reads went through (finding 27).
const PREWARM: &str = "CREATE EXTENSION IF NOT EXISTS pg_prewarm; \
    WITH workflow AS (SELECT oid, reltoastrelid AS toast FROM pg_class \
        WHERE oid = 'workflows_workflow'::regclass), \
    hot AS (SELECT oid FROM workflow UNION ALL SELECT toast FROM workflow UNION ALL \
        SELECT indexrelid FROM pg_index \
        WHERE indrelid IN (SELECT oid FROM workflow UNION ALL SELECT toast FROM workflow)) \
    SELECT sum(pg_prewarm(c.oid, 'buffer')) FROM ( \
        SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
        WHERE c.relkind IN ('r', 'i', 't') AND n.nspname IN ('public', 'pg_toast') \
        ORDER BY c.oid IN (SELECT oid FROM hot), pg_relation_size(c.oid) DESC) AS c";

/// Seconds of load before each scenario's measurements.
const WARM_UP_SECONDS: u64 = 3;

/// Concurrencies of the load; pgbench runs at the first (PostgreSQL's 100 connections rule out 256).
const CONNECTIONS: [u32; 2] = [32, 256];

/// Alternated rounds of the service and pgbench (a third of the scenario's seconds each) whose
/// median ratio is the scenario's ratio (finding 33).
const RATIO_ROUNDS: usize = 3;

/// The floor server's connections per HTTP worker: with one worker per core here, the service's
/// `max_connections` (10) in all.
const FLOOR_CONNECTIONS_PER_WORKER: u32 = 5;

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(binary: &Path, url: &str, log: &Path) -> anyhow::Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut command = Command::new(binary);
        command
            .arg("serve")
            .env("DATABASE_URL", url)
            .env("PORT", port.to_string())
            // A request log line per call would be part of what is measured; warnings still show.
            .env("RUST_LOG", "warn");
        Self::spawn(command, port, log)
    }

    /// bench/src/floor.rs with as many connections as the service has in all (finding 22).
    fn start_floor(url: &str, log: &Path) -> anyhow::Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut command = Command::new("target/release/floor-server");
        command.args([
            url,
            &port.to_string(),
            &FLOOR_CONNECTIONS_PER_WORKER.to_string(),
        ]);
        Self::spawn(command, port, log)
    }

    fn spawn(mut command: Command, port: u16, log: &Path) -> anyhow::Result<Self> {
        let child = command
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log)?)
            .spawn()
            .with_context(|| format!("starting {command:?}"))?;
        let server = Self { child, port };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("the server did not listen on port {port} within 30 s")
    }

    /// The process's peak resident set so far (VmHWM), in MiB.
    fn peak_rss_mib(&self) -> anyhow::Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmHWM in /proc/<pid>/status")?;
        Ok(kib / 1024.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wrk(
    port: u16,
    scenario: &str,
    connections: u32,
    seconds: u64,
    env: &[(&str, String)],
) -> anyhow::Result<Value> {
    let mut command = Command::new("wrk");
    command
        .args(["-t2", &format!("-c{connections}"), &format!("-d{seconds}s")])
        .args(["--timeout", "30s", "-s", "bench/wrk/scenario.lua"])
        .arg(format!("http://127.0.0.1:{port}"))
        .env("SCENARIO", scenario)
        // scenario.lua needs it to undo wrk's coordinated-omission correction (finding 21).
        .env("CONNECTIONS", connections.to_string());
    for (key, value) in env {
        command.env(key, value);
    }
    let out = run_captured(&mut command)?;
    let line = out
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .with_context(|| format!("no summary from wrk for {scenario}: {out}"))?;
    Ok(serde_json::from_str(line)?)
}

/// Autovacuum is off on this machine's PostgreSQL (its `conf.d/90-ci.conf`), so nothing cleans up
/// after a scenario's writes, and the next scenarios ran on tables of dead rows (after `create`,
/// 841,000 in the day counters' pending sums, whose fold then took most of a second; finding 21).
/// A database in service has autovacuum on: before each scenario, the tables its default rules
/// would have vacuumed (dead rows over 50 + 20 % of the live ones) are vacuumed and analyzed, and
/// those they would have analyzed (changes over 50 + 10 %) are analyzed.
fn catch_up_like_autovacuum(url: &str) -> anyhow::Result<()> {
    let due = psql(
        url,
        "SELECT CASE WHEN n_dead_tup > 50 + 0.2 * n_live_tup THEN 'VACUUM (ANALYZE) ' \
         ELSE 'ANALYZE ' END || quote_ident(relname) FROM pg_stat_user_tables \
         WHERE n_dead_tup > 50 + 0.2 * n_live_tup OR n_mod_since_analyze > 50 + 0.1 * n_live_tup",
    )?;
    for command in due.lines().map(str::trim).filter(|l| !l.is_empty()) {
        psql(url, command)?;
    }
    Ok(())
}

fn pgbench_command(url: &str, scenario: &str, seconds: u64, vars: &[(&str, String)]) -> Command {
    let mut command = Command::new("pgbench");
    command.args(["-n", "-M", "prepared", "-c", "32", "-j", "2"]);
    command.args(["-T", &seconds.to_string()]);
    for (key, value) in vars {
        command.args(["-D", &format!("{key}={value}")]);
    }
    command.args(["-f", &format!("bench/pgbench/{scenario}.sql"), url]);
    command
}

fn pgbench(
    url: &str,
    scenario: &str,
    seconds: u64,
    vars: &[(&str, String)],
) -> anyhow::Result<f64> {
    let out = run_captured(&mut pgbench_command(url, scenario, seconds, vars))?;
    out.lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .with_context(|| format!("no tps from pgbench for {scenario}: {out}"))
}

/// The latencies of the scenario's SQL alone at 32 clients: the floor under the service's p99
/// (finding 21). A run of its own, as writing a log line per transaction would lower the
/// throughput ceiling a little.
fn pgbench_latencies(
    url: &str,
    scenario: &str,
    seconds: u64,
    vars: &[(&str, String)],
) -> anyhow::Result<Value> {
    let dir = std::env::temp_dir().join(format!("wf-pgbench-{}-{scenario}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut command = pgbench_command(url, scenario, seconds, vars);
    command
        .arg("-l")
        .arg(format!("--log-prefix={}", dir.join("log").display()));
    run_captured(&mut command)?;
    // One line per transaction: client, transaction, latency in microseconds, script, epoch, us.
    let mut latencies = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let text = std::fs::read_to_string(entry?.path())?;
        for line in text.lines() {
            let micros = line
                .split_whitespace()
                .nth(2)
                .and_then(|field| field.parse::<u64>().ok())
                .with_context(|| format!("a pgbench log line without a latency: {line}"))?;
            latencies.push(micros);
        }
    }
    std::fs::remove_dir_all(&dir)?;
    latencies.sort_unstable();
    Ok(json!({
        "transactions": latencies.len(),
        "p50": percentile(&latencies, 50.0),
        "p99": percentile(&latencies, 99.0),
        "p999": percentile(&latencies, 99.9),
    }))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse(std::env::args().skip(1))?;
    let admin = args.text("admin-url", "postgres://postgres@127.0.0.1:5432/postgres");
    let workflows: u64 = args.number("workflows", 10_000)?;
    let runs: u64 = args.number("runs", workflows * 5)?;
    let seconds: u64 = args.number("seconds", 10)?;
    let out_dir = PathBuf::from(args.text("out", "bench/results"));
    let binary = PathBuf::from("target/release/workflows-api");
    std::fs::create_dir_all(&out_dir)?;

    // --reuse yes: measure again on the database a previous run seeded (and its writes grew),
    // after applying any new migration; saves the scale run's seeding.
    let reuse = args.text("reuse", "no") == "yes";
    let name = format!("wf_bench_http_{workflows}");
    let seeding = Instant::now();
    let url = if reuse {
        database_url(&admin, &name)
    } else {
        fresh_database(&admin, &name)?
    };
    run_captured(
        Command::new(&binary)
            .args(["migrate", "up"])
            .env("DATABASE_URL", &url),
    )?;
    if reuse {
        // The earlier run's writes left pages that index-only scans must visit again; a database
        // in service has autovacuum catching up, a reused bench database has had no time to.
        psql(&url, "VACUUM ANALYZE")?;
    } else {
        run_captured(
            Command::new("psql")
                .args([&url, "-q", "-v", &format!("workflows={workflows}")])
                .args(["-v", &format!("runs={runs}"), "-f", "bench/seed.sql"]),
        )?;
    }
    let seed_seconds = seeding.elapsed().as_secs_f64();
    eprintln!("seeded {workflows} workflows, {runs} runs in {seed_seconds:.0} s (reused: {reuse})");
    // The seed (or the last run's writes) leaves gigabytes of dirty pages; a database in service
    // is not in the middle of writing a bulk load out, so the first scenario should not be either
    // (GET's p99 at 10,000 was 688 ms in one run and 7 ms in others, finding 20).
    psql(&url, "CHECKPOINT")?;
    // A database in service has its working set in memory. At 1M the seed writes about twice the
    // database (17 GB with its WAL) through the page cache, which keeps only the last of it, so
    // the first scenarios would measure the disk (finding 17): every relation is read once first.
    psql(&url, PREWARM)?;
    let staff = psql_value(
        &url,
        "SELECT id FROM accounts_user WHERE username = 'bench-staff'",
    )?;
    let token = run_captured(
        Command::new(&binary)
            .args(["tokens", "create", "bench-staff"])
            .env("DATABASE_URL", &url),
    )?
    .trim()
    .to_owned();

    let server = Server::start(
        &binary,
        &url,
        &out_dir.join(format!("server-{workflows}.log")),
    )?;
    let env = [
        ("TOKEN", token),
        ("WORKFLOWS", workflows.to_string()),
        ("RUNS", runs.to_string()),
    ];
    let vars = [
        ("workflows", workflows.to_string()),
        ("runs", runs.to_string()),
        ("staff", staff),
    ];
    let round_seconds = (seconds / RATIO_ROUNDS as u64).max(3);
    let mut results = Vec::new();
    for Scenario { name, what, .. } in SCENARIOS {
        catch_up_like_autovacuum(&url)?;
        // Not measured: what the database or the server was doing before (settling after the
        // seed, finishing the last scenario's requests) is not this scenario's cost. Without it
        // GET, the first, showed a p99 of 0.7-2 s in some quick runs on a fresh seed and 6-7 ms
        // in the others (finding 20).
        wrk(server.port, name, CONNECTIONS[0], WARM_UP_SECONDS, &env)?;
        let mut loads = serde_json::Map::new();
        for connections in CONNECTIONS {
            let measured = wrk(server.port, name, connections, seconds, &env)?;
            loads.insert(connections.to_string(), measured);
            // wrk stops sending, but requests it left queued in the server still run; the next
            // measurement (pgbench writing the same rows, above all) waits for them.
            std::thread::sleep(Duration::from_secs(3));
        }
        let floor_server = if name == "get" {
            let floor_server =
                Server::start_floor(&url, &out_dir.join(format!("server-floor-{workflows}.log")))?;
            wrk(
                floor_server.port,
                name,
                CONNECTIONS[0],
                WARM_UP_SECONDS,
                &env,
            )?;
            Some(floor_server)
        } else {
            None
        };
        let mut rounds = Vec::new();
        let mut http_floor = Value::Null;
        for round in 0..RATIO_ROUNDS {
            // Each side goes first in every other round, so a machine speeding up or slowing
            // down over a round favours neither.
            let service = || -> anyhow::Result<f64> {
                let load = wrk(server.port, name, CONNECTIONS[0], round_seconds, &env)?;
                std::thread::sleep(Duration::from_secs(1));
                Ok(requests_per_second(&load))
            };
            let (service, ceiling) = if round % 2 == 0 {
                let service = service()?;
                (service, pgbench(&url, name, round_seconds, &vars)?)
            } else {
                let ceiling = pgbench(&url, name, round_seconds, &vars)?;
                (service()?, ceiling)
            };
            let mut measured = json!({ "service": service, "pgbench": ceiling });
            if let Some(floor_server) = &floor_server {
                http_floor = wrk(floor_server.port, name, CONNECTIONS[0], round_seconds, &env)?;
                measured["floor"] = json!(requests_per_second(&http_floor));
            }
            rounds.push(measured);
        }
        drop(floor_server);
        let ceiling = median_of(&rounds, "pgbench");
        let rss = server.peak_rss_mib()?;
        let floor = if P99_TARGETED.contains(&name) {
            pgbench_latencies(&url, name, seconds, &vars)?
        } else {
            Value::Null
        };
        let result = json!({
            "scenario": name, "what": what, "load": loads,
            "pgbench_tps": ceiling, "rounds": rounds, "pgbench_latency": floor,
            "peak_rss_mib": rss, "http_floor": http_floor,
        });
        eprintln!("{}", summary_line(&result));
        results.push(result);
    }
    drop(server);

    let middle_skip = ((workflows / 100 / 20).max(1) / 2).saturating_sub(1) * 20;
    let run_middle_skip = ((runs / 20).max(1) / 2).saturating_sub(1) * 20;
    let explain_values = [
        ("id", (workflows / 2).to_string()),
        ("project", "8".to_owned()),
        ("m", "17".to_owned()),
        ("a", "17".to_owned()),
        ("team", "12".to_owned()),
        // The worst page of a project either way: the middle one, walked forward, and the one
        // after it, walked back from the end (list_deep.sql shows both statements).
        ("before", middle_skip.to_string()),
        ("after", middle_skip.saturating_sub(20).to_string()),
        ("take", "20".to_owned()),
        // The run list's middle page, started from its day.
        ("run_before", run_middle_skip.to_string()),
    ];
    let mut plans = String::new();
    for Scenario { name: scenario, .. } in SCENARIOS.iter().filter(|s| !s.writes) {
        let script = std::fs::read_to_string(format!("bench/pgbench/{scenario}.sql"))?;
        for (sql, plan) in explain_statements(&url, &script, &explain_values)? {
            let _ = writeln!(
                plans,
                "### {scenario}\n\n```sql\n{sql}\n```\n\n```\n{plan}\n```\n"
            );
        }
    }

    let report = json!({
        "workflows": workflows, "runs": runs, "seconds": seconds, "round_seconds": round_seconds,
        "seed_seconds": seed_seconds, "reused": reuse, "scenarios": results,
        "shared_buffers": psql_value(&url, "SHOW shared_buffers")?,
        "database_size": psql_value(&url, "SELECT pg_size_pretty(pg_database_size(current_database()))")?,
    });
    let stem = out_dir.join(format!("http-{workflows}"));
    std::fs::write(
        stem.with_extension("json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    std::fs::write(
        stem.with_extension("md"),
        markdown(&report, &results, &plans),
    )?;
    for result in &results {
        println!("{}", summary_line(result));
    }
    Ok(())
}

/// pgbench's p50 / p99 on the scenario's SQL, where it was measured.
fn pgbench_latency(result: &Value) -> String {
    let latency = &result["pgbench_latency"];
    if latency.is_null() {
        return "–".to_owned();
    }
    format!(
        "{:.1} / {:.1}",
        ms(number(latency, &["p50"])),
        ms(number(latency, &["p99"]))
    )
}

fn ms(micros: f64) -> f64 {
    micros / 1000.0
}

/// The service's requests/s at 32 connections in the ratio's rounds (their median).
fn service_rps(result: &Value) -> f64 {
    round_median(result, "service").unwrap_or_else(|| requests_per_second(&result["load"]["32"]))
}

/// Each round's ratio, in the order measured.
fn round_ratios_text(result: &Value) -> String {
    round_ratios(result, "service").map_or_else(
        || "–".to_owned(),
        |ratios| {
            ratios
                .iter()
                .map(|r| format!("{:.0}", 100.0 * r))
                .collect::<Vec<_>>()
                .join(" / ")
        },
    )
}

/// The floor server's requests/s on the scenario, against pgbench and against the service,
/// where it was measured (GET).
fn http_floor(result: &Value) -> Option<String> {
    let of_pgbench = floor_ratio(result)?;
    Some(format!(
        "floor {:.0} req/s = {:.0}% of pgbench, the service {:.0}% of it",
        round_median(result, "floor").unwrap_or_else(|| requests_per_second(&result["http_floor"])),
        100.0 * of_pgbench,
        100.0 * ratio(result) / of_pgbench,
    ))
}

/// One line a reader takes in at a glance.
fn summary_line(result: &Value) -> String {
    let at32 = &result["load"]["32"];
    let at256 = &result["load"]["256"];
    let rps = service_rps(result);
    let floor = http_floor(result).map_or_else(String::new, |f| format!(" | {f}"));
    format!(
        "{:<20} {:>8.0} req/s = {:>3.0}% ({}) of pgbench {:>8.0} | p50 {:.1} p99 {:.1} p99.9 {:.1} ms @32 | {:>6.0} req/s, {} errors @256 | peak RSS {:.0} MiB{floor}",
        result["scenario"].as_str().unwrap_or("?"),
        rps,
        100.0 * ratio(result),
        round_ratios_text(result),
        number(result, &["pgbench_tps"]),
        ms(number(at32, &["p50"])),
        ms(number(at32, &["p99"])),
        ms(number(at32, &["p999"])),
        requests_per_second(at256),
        errors(at32) + errors(at256),
        number(result, &["peak_rss_mib"]),
    )
}

fn markdown(report: &Value, results: &[Value], plans: &str) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "## HTTP scenarios at {} workflows / {} runs (`make bench`)\n",
        report["workflows"], report["runs"]
    );
    let _ = writeln!(
        md,
        "{} s of `wrk -t2` per scenario and concurrency for the latencies and errors; then {} alternated rounds of {} s of `wrk` at 32 connections and of \
         `pgbench -M prepared -c 32 -j 2` on the same statements (bench/pgbench/), each side first in every other round; seeding took {:.0} s{}. \
         PostgreSQL's shared_buffers {} against a database of {} (finding 27). Ratio = the median of the rounds' ratios of the service's requests/s over pgbench's \
         transactions/s (finding 33); req/s @32 and pgbench tps are the rounds' medians. \
         Latencies are those wrk recorded; wrk's own p99 adds samples against coordinated omission (finding 21). \
         For the scenarios with a p99 target, pgbench runs as long again logging each transaction: its p50 / p99 are the SQL's alone.\n",
        report["seconds"],
        RATIO_ROUNDS,
        report["round_seconds"],
        number(report, &["seed_seconds"]),
        if report["reused"] == true {
            " (this run measured again on a database an earlier run seeded and wrote to)"
        } else {
            ""
        },
        report["shared_buffers"].as_str().unwrap_or("?"),
        report["database_size"].as_str().unwrap_or("?"),
    );
    md.push_str("| scenario | req/s @32 | pgbench tps | ratio | rounds' ratios % | p50 ms | p99 ms | p99.9 ms | max ms | wrk's p99 ms | pgbench p50 / p99 ms | req/s @256 | p99 ms @256 | errors | peak RSS MiB |\n");
    md.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for result in results {
        let at32 = &result["load"]["32"];
        let at256 = &result["load"]["256"];
        let _ = writeln!(
            md,
            "| {} | {:.0} | {:.0} | {:.0}% | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {:.0} | {:.1} | {} | {:.0} |",
            result["what"].as_str().unwrap_or("?"),
            service_rps(result),
            number(result, &["pgbench_tps"]),
            100.0 * ratio(result),
            round_ratios_text(result),
            ms(number(at32, &["p50"])),
            ms(number(at32, &["p99"])),
            ms(number(at32, &["p999"])),
            ms(number(at32, &["max"])),
            ms(number(at32, &["wrk_p99"])),
            pgbench_latency(result),
            requests_per_second(at256),
            ms(number(at256, &["p99"])),
            errors(at32) + errors(at256),
            number(result, &["peak_rss_mib"]),
        );
    }
    for result in results {
        if let Some(floor) = http_floor(result) {
            let _ = writeln!(
                md,
                "\n{}: bench/src/floor.rs (actix-web and sqlx, the service's stack, answering GET's \
                 statement with nothing else: no token, no middleware, no store) made the {floor} \
                 (medians of its rounds at 32 connections, beside the service's and pgbench's; finding 22).",
                result["what"].as_str().unwrap_or("?")
            );
        }
    }
    md.push_str("\nAt a glance:\n\n```\n");
    for result in results {
        md.push_str(&summary_line(result));
        md.push('\n');
    }
    let _ = writeln!(
        md,
        "```\n\n### Plans at {} workflows\n\n`EXPLAIN (ANALYZE, COSTS OFF)` of each read statement, with the values shown.\n",
        report["workflows"]
    );
    md.push_str(plans);
    md
}
