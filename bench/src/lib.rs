//! What the benchmark programs share: flags, running the PostgreSQL client tools, and reading
//! plans of the pgbench scripts.

use anyhow::{Context, bail};
use std::collections::HashMap;
use std::process::Command;

/// `--name value` flags.
pub struct Args(HashMap<String, String>);

impl Args {
    /// Reads `--name value` pairs; anything else is an error.
    pub fn parse(args: impl Iterator<Item = String>) -> anyhow::Result<Self> {
        let mut map = HashMap::new();
        let mut args = args.peekable();
        while let Some(flag) = args.next() {
            let Some(name) = flag.strip_prefix("--") else {
                bail!("expected --name value, got '{flag}'");
            };
            let value = args
                .next()
                .with_context(|| format!("--{name} needs a value"))?;
            map.insert(name.to_owned(), value);
        }
        Ok(Self(map))
    }

    /// A text flag, or its default.
    pub fn text(&self, name: &str, default: &str) -> String {
        self.0
            .get(name)
            .cloned()
            .unwrap_or_else(|| default.to_owned())
    }

    /// A number flag, or its default.
    pub fn number<T: std::str::FromStr>(&self, name: &str, default: T) -> anyhow::Result<T> {
        match self.0.get(name) {
            None => Ok(default),
            Some(text) => text
                .parse()
                .map_err(|_| anyhow::anyhow!("--{name}: '{text}' is not a number")),
        }
    }
}

/// The number at `path` in a JSON report; NaN when absent, which fails every comparison.
pub fn number(value: &serde_json::Value, path: &[&str]) -> f64 {
    path.iter()
        .try_fold(value, |v, key| v.get(key))
        .and_then(serde_json::Value::as_f64)
        .unwrap_or(f64::NAN)
}

/// Requests per second of one `wrk` load in an HTTP report.
pub fn requests_per_second(load: &serde_json::Value) -> f64 {
    number(load, &["requests"]) / number(load, &["seconds"])
}

/// Failed requests of one `wrk` load: socket errors, non-2xx/3xx answers and timeouts.
pub fn errors(load: &serde_json::Value) -> f64 {
    number(load, &["socket_errors"])
        + number(load, &["status_errors"])
        + number(load, &["timeouts"])
}

/// A scenario's requests per second at 32 connections over its pgbench transactions per second:
/// the median of the alternated rounds' ratios (bench/README finding 33), or, in a report from
/// before the rounds, its one measurement of each.
pub fn ratio(result: &serde_json::Value) -> f64 {
    round_ratio(result, "service").unwrap_or_else(|| {
        requests_per_second(&result["load"]["32"]) / number(result, &["pgbench_tps"])
    })
}

/// The floor server's requests per second over the same pgbench ceiling, where it was measured
/// (GET; bench/README finding 22), as [`ratio`] takes the service's.
pub fn floor_ratio(result: &serde_json::Value) -> Option<f64> {
    let floor = &result["http_floor"];
    if floor.is_null() {
        return None;
    }
    Some(
        round_ratio(result, "floor")
            .unwrap_or_else(|| requests_per_second(floor) / number(result, &["pgbench_tps"])),
    )
}

/// Each of a result's `rounds`, in the order measured: `server`'s requests per second over the
/// same round's pgbench transactions per second; None without rounds.
pub fn round_ratios(result: &serde_json::Value, server: &str) -> Option<Vec<f64>> {
    Some(
        rounds(result)?
            .iter()
            .map(|round| number(round, &[server]) / number(round, &["pgbench"]))
            .collect(),
    )
}

/// The median of [`round_ratios`].
fn round_ratio(result: &serde_json::Value, server: &str) -> Option<f64> {
    round_ratios(result, server).map(median)
}

/// The median over a result's `rounds` of one measurement (`service`, `pgbench`, `floor`).
pub fn round_median(result: &serde_json::Value, key: &str) -> Option<f64> {
    Some(median_of(rounds(result)?, key))
}

/// The median over `rounds` of one measurement.
pub fn median_of(rounds: &[serde_json::Value], key: &str) -> f64 {
    median(rounds.iter().map(|round| number(round, &[key])).collect())
}

fn rounds(result: &serde_json::Value) -> Option<&Vec<serde_json::Value>> {
    result["rounds"].as_array().filter(|r| !r.is_empty())
}

/// The middle value (the mean of the two middle ones for an even count); NaN when empty.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// The scenarios with a p99 target (at 32 connections), whose pgbench run also records latencies.
pub const P99_TARGETED: [&str; 7] = [
    "get",
    "list_project",
    "list_deep",
    "list_molecule",
    "list_atom",
    "search",
    "list_runs",
];

/// The `p`-th percentile of ascending `sorted` by wrk's rule (the first value whose running count
/// reaches p % of all), so pgbench's and wrk's figures mean the same; 0 when empty.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    let rank = (p / 100.0 * sorted.len() as f64 + 1.0).floor() as usize;
    sorted
        .get(rank.clamp(1, sorted.len().max(1)) - 1)
        .copied()
        .unwrap_or(0)
}

/// Drops and creates database `name` on the server of `admin_url`; answers its URL.
pub fn fresh_database(admin_url: &str, name: &str) -> anyhow::Result<String> {
    psql(
        admin_url,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )?;
    psql(admin_url, &format!("CREATE DATABASE {name}"))?;
    Ok(database_url(admin_url, name))
}

/// Runs a command to its end and answers its standard output; a failure carries its stderr.
pub fn run_captured(command: &mut Command) -> anyhow::Result<String> {
    let out = command
        .output()
        .with_context(|| format!("running {command:?}"))?;
    if !out.status.success() {
        bail!(
            "{command:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs one SQL command with psql, stopping at the first error.
pub fn psql(url: &str, sql: &str) -> anyhow::Result<String> {
    run_captured(Command::new("psql").args([url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql]))
}

/// The single value a query answers.
pub fn psql_value(url: &str, sql: &str) -> anyhow::Result<String> {
    Ok(psql(url, sql)?.trim().to_owned())
}

/// The URL of database `name` on the server of `url`, keeping `url`'s options (`?sslmode=…`).
pub fn database_url(url: &str, name: &str) -> String {
    let (address, options) = url
        .split_once('?')
        .map_or((url, None), |(a, o)| (a, Some(o)));
    let root = address.rsplit_once('/').map_or(address, |(root, _)| root);
    match options {
        Some(options) => format!("{root}/{name}?{options}"),
        None => format!("{root}/{name}"),
    }
}

/// Replaces pgbench's `:name` variables with the given values, leaving `::casts` and unknown names.
pub fn substitute<N: AsRef<str>>(sql: &str, values: &[(N, String)]) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find(':') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(cast) = after.strip_prefix(':') {
            out.push_str("::");
            rest = cast;
            continue;
        }
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        match values
            .iter()
            .find(|(name, _)| name.as_ref() == &after[..name_len])
        {
            Some((_, value)) => out.push_str(value),
            None => {
                out.push(':');
                out.push_str(&after[..name_len]);
            }
        }
        rest = &after[name_len..];
    }
    out.push_str(rest);
    out
}

/// `EXPLAIN (ANALYZE, COSTS OFF)` of every statement of a pgbench script, every `\if` branch's
/// included (meta-commands and comments dropped, variables replaced by `values`): the statement
/// and its plan. A statement ending in `\gset [prefix]` also runs, and its first row's columns
/// become variables of the statements after it, as in pgbench.
pub fn explain_statements(
    url: &str,
    script: &str,
    values: &[(&str, String)],
) -> anyhow::Result<Vec<(String, String)>> {
    let mut values: Vec<(String, String)> = values
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.clone()))
        .collect();
    let mut plans = Vec::new();
    for step in script_steps(script) {
        match step {
            Step::Set(name, expression) => {
                if !values.iter().any(|(known, _)| *known == name)
                    && let Some(value) = difference(&substitute(&expression, &values))
                {
                    values.push((name, value.to_string()));
                }
            }
            Step::Sql(statement, gset) => {
                let sql = substitute(&statement, &values);
                let plan = psql(url, &format!("EXPLAIN (ANALYZE, COSTS OFF) {sql}"))?;
                if let Some(prefix) = gset {
                    // pgbench binds them as parameters; as text in SQL they need quotes.
                    values.extend(named_row(url, &sql)?.into_iter().map(|(column, value)| {
                        (
                            format!("{prefix}{column}"),
                            format!("'{}'", value.replace('\'', "''")),
                        )
                    }));
                }
                plans.push((sql, plan.trim_end().to_owned()));
            }
        }
    }
    Ok(plans)
}

/// A `\set` whose expression is an integer or the difference of two (after substitution), as
/// a deep page's skip within its day is; other expressions are left to the caller's values.
fn difference(expression: &str) -> Option<i64> {
    let number = |s: &str| s.trim().trim_matches('\'').parse::<i64>().ok();
    match expression.split_once(" - ") {
        Some((a, b)) => Some(number(a)? - number(b)?),
        None => number(expression),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// `\set name expression`.
    Set(String, String),
    /// A statement, with the prefix of its `\gset` if it has one.
    Sql(String, Option<String>),
}

/// A pgbench script's `\set`s and SQL statements, in order (a statement ends at `;` or at
/// `\gset`; other meta-commands and comments are left out).
fn script_steps(script: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut current = String::new();
    for line in script.lines() {
        if let Some(set) = line.strip_prefix("\\set ") {
            if let Some((name, expression)) = set.trim().split_once(' ') {
                steps.push(Step::Set(name.to_owned(), expression.trim().to_owned()));
            }
            continue;
        }
        if line.starts_with('\\') || line.starts_with("--") {
            continue;
        }
        if let Some(at) = line.find("\\gset") {
            current.push_str(&line[..at]);
            let prefix = line[at + "\\gset".len()..].trim().to_owned();
            steps.push(Step::Sql(current.trim().to_owned(), Some(prefix)));
            current.clear();
        } else if let Some(statement) = line.strip_suffix(';') {
            current.push_str(statement);
            steps.push(Step::Sql(current.trim().to_owned(), None));
            current.clear();
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    steps.retain(|step| !matches!(step, Step::Sql(sql, _) if sql.is_empty()));
    steps
}

/// The first row of a query, as (column, value) pairs.
fn named_row(url: &str, sql: &str) -> anyhow::Result<Vec<(String, String)>> {
    let out = run_captured(Command::new("psql").args([
        url,
        "-v",
        "ON_ERROR_STOP=1",
        "-qAF",
        "\t",
        "-c",
        sql,
    ]))?;
    let mut lines = out.lines();
    let (Some(header), Some(row)) = (lines.next(), lines.next()) else {
        anyhow::bail!("no row from {sql}");
    };
    Ok(header
        .split('\t')
        .map(str::to_owned)
        .zip(row.split('\t').map(str::to_owned))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_steps_end_statements_at_semicolons_and_gsets_and_keep_sets() {
        let script = "-- a comment\n\\set id random(1, 9)\nSELECT 1 AS a \\gset day_\n\\if :a > 0\nSELECT :day_a\n  FROM t;\n\\else\nSELECT 2 \\gset\n\\endif\n";
        assert_eq!(
            script_steps(script),
            vec![
                Step::Set("id".to_owned(), "random(1, 9)".to_owned()),
                Step::Sql("SELECT 1 AS a".to_owned(), Some("day_".to_owned())),
                Step::Sql("SELECT :day_a\n  FROM t".to_owned(), None),
                Step::Sql("SELECT 2".to_owned(), Some(String::new())),
            ]
        );
    }

    #[test]
    fn only_integer_differences_are_evaluated() {
        assert_eq!(difference("4980 - '4975'"), Some(5));
        assert_eq!(difference("12"), Some(12));
        assert_eq!(difference("random(1, 9)"), None);
        assert_eq!(difference("(:page - 1) * 20"), None);
    }

    #[test]
    fn substitutes_variables_but_not_casts_or_unknown_names() {
        let values = [("id", "42".to_owned())];
        assert_eq!(
            substitute(
                "SELECT :id::text, :other, x::float8 WHERE id = :id",
                &values
            ),
            "SELECT 42::text, :other, x::float8 WHERE id = 42"
        );
    }

    #[test]
    fn database_url_names_another_database_with_the_same_options() {
        assert_eq!(
            database_url("postgres://p@h:5432/postgres?sslmode=disable", "b"),
            "postgres://p@h:5432/b?sslmode=disable"
        );
        assert_eq!(
            database_url("postgres://p@h/postgres", "b"),
            "postgres://p@h/b"
        );
    }

    #[test]
    fn percentiles_follow_wrks_rank_rule() {
        let hundred: Vec<u64> = (1..=100).collect();
        // wrk: the first value whose running count reaches round(p / 100 * count + 0.5).
        assert_eq!(percentile(&hundred, 50.0), 51);
        assert_eq!(percentile(&hundred, 99.0), 100);
        assert_eq!(percentile(&hundred, 99.9), 100);
        assert_eq!(percentile(&[7, 9, 30], 50.0), 9);
        assert_eq!(percentile(&[], 99.0), 0);
    }

    #[test]
    fn a_ratio_is_the_median_of_its_rounds_ratios_not_of_their_medians() {
        let result = serde_json::json!({
            "load": { "32": { "requests": 1000.0, "seconds": 10.0 } },
            "pgbench_tps": 1000.0,
            "http_floor": { "requests": 1.0, "seconds": 1.0 },
            "rounds": [
                { "service": 40.0, "pgbench": 100.0, "floor": 50.0 },
                { "service": 90.0, "pgbench": 150.0, "floor": 120.0 },
                { "service": 30.0, "pgbench": 50.0, "floor": 10.0 },
            ],
        });
        // Ratios 0.4, 0.6, 0.6: the median is 0.6, where the medians' ratio would be 0.4.
        assert!((ratio(&result) - 0.6).abs() < 1e-9);
        // Floor ratios 0.5, 0.8, 0.2.
        assert_eq!(floor_ratio(&result), Some(0.5));
        assert_eq!(round_median(&result, "pgbench"), Some(100.0));
    }

    #[test]
    fn a_report_from_before_the_rounds_reads_as_it_did() {
        let result = serde_json::json!({
            "load": { "32": { "requests": 500.0, "seconds": 10.0 } },
            "pgbench_tps": 100.0,
            "http_floor": null,
        });
        assert!((ratio(&result) - 0.5).abs() < 1e-9);
        assert_eq!(floor_ratio(&result), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0, 10.0]), 2.5);
        assert!(median(Vec::new()).is_nan());
    }
}
