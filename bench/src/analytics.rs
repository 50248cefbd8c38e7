//! Analytics response times on a seeded PostgreSQL database (see bench/seed.sql): each endpoint's
//! store call for staff over everything (from the rollups), staff narrowed to one project or one
//! app, staff over the last seven days (everything and one app) and thirty days (usage from the
//! daily rollups and the tables, runs from the tables) and a regular user (from the tables,
//! through the owner's indexes), five times each; prints the median and the slowest in
//! milliseconds as a Markdown table.
//!
//! Usage: analytics-bench <database-url> [repeats, default 5]
#![allow(clippy::print_stdout)]

use std::time::Instant;
use workflows_domain::{Actor, AnalyticsFilter, TimeBucket};
use workflows_store::{ConnectSettings, Store};

async fn time<F, Fut, T>(repeats: usize, mut call: F) -> anyhow::Result<(f64, f64)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, workflows_store::StoreError>>,
{
    let mut times = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let started = Instant::now();
        call().await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok((times[repeats / 2], times[repeats - 1]))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: analytics-bench <database-url> [repeats]"))?;
    let repeats: usize = std::env::args()
        .nth(2)
        .map(|r| r.parse())
        .transpose()?
        .unwrap_or(5)
        .max(1);
    let store = Store::connect_with(&ConnectSettings {
        max_connections: 4,
        ..ConnectSettings::new(url)
    })
    .await?;
    let staff: Actor = store.find_user("bench-staff").await?.actor();
    let user: Actor = store.find_user("user1").await?.actor();
    let everything = AnalyticsFilter::default();
    let project = AnalyticsFilter {
        project_id: Some(1),
        ..Default::default()
    };
    let app = AnalyticsFilter {
        app_name: Some("Lab".into()),
        ..Default::default()
    };
    let last_week = AnalyticsFilter {
        since: Some(chrono::Utc::now() - chrono::TimeDelta::days(7)),
        ..Default::default()
    };
    let app_last_week = AnalyticsFilter {
        app_name: Some("Lab".into()),
        ..last_week.clone()
    };
    let last_month = AnalyticsFilter {
        since: Some(chrono::Utc::now() - chrono::TimeDelta::days(30)),
        ..Default::default()
    };
    let cases = [
        ("staff, everything", &staff, &everything),
        ("staff, one project", &staff, &project),
        ("staff, one app", &staff, &app),
        ("staff, last 7 days", &staff, &last_week),
        ("staff, one app, last 7 days", &staff, &app_last_week),
        ("staff, last 30 days", &staff, &last_month),
        ("one regular user", &user, &everything),
    ];
    println!("| endpoint | caller | median ms | slowest ms |");
    println!("|---|---|---:|---:|");
    for (label, actor, filter) in cases {
        let rows = [
            (
                "summary",
                time(repeats, || store.analytics_summary(actor, filter, 10)).await?,
            ),
            (
                "molecules",
                time(repeats, || store.analytics_molecules(actor, filter, 10)).await?,
            ),
            (
                "atoms",
                time(repeats, || store.analytics_atoms(actor, filter, 10)).await?,
            ),
            (
                "runs (day)",
                time(repeats, || {
                    store.analytics_runs(actor, filter, TimeBucket::Day, 30)
                })
                .await?,
            ),
            (
                "runs (hour)",
                time(repeats, || {
                    store.analytics_runs(actor, filter, TimeBucket::Hour, 24)
                })
                .await?,
            ),
        ];
        for (endpoint, (median, slowest)) in rows {
            println!("| {endpoint} | {label} | {median:.0} | {slowest:.0} |");
        }
    }
    Ok(())
}
