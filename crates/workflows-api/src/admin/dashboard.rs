//! The dashboard: the summary figures, runs per day stacked by status, top molecules and atoms.

use super::layout::{Nav, ok, page};
use super::{AdminResult, Signed, charts};
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use maud::html;
use workflows_domain::{AnalyticsFilter, TimeBucket};

fn figure(value: Option<f64>, unit: &str) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{v:.1}{unit}"))
}

pub(crate) async fn show(state: web::Data<AppState>, signed: Signed) -> AdminResult<HttpResponse> {
    let store = &state.store;
    let all = AnalyticsFilter::default();
    let summary = store.analytics_summary(&signed.actor, &all, 5).await?;
    let since = AnalyticsFilter {
        since: Some(chrono::Utc::now() - chrono::TimeDelta::days(30)),
        ..Default::default()
    };
    let per_day = store
        .analytics_runs(&signed.actor, &since, TimeBucket::Day, 30)
        .await?;
    let molecules = store.analytics_molecules(&signed.actor, &all, 8).await?;
    let atoms = store.analytics_atoms(&signed.actor, &all, 8).await?;
    let usage = |rows: &[workflows_domain::Usage], atom: bool| -> Vec<(String, u64)> {
        rows.iter()
            .map(|u| {
                let name = if atom { &u.atom } else { &u.molecule };
                (name.clone().unwrap_or_default(), u.workflows)
            })
            .collect()
    };
    let d = summary.duration_seconds;
    let body = html! {
        h1 { "Dashboard" }
        p.scope {
            @if signed.user.is_staff { "Everyone's workflows and runs." } @else { "Your workflows and runs." }
        }
        section aria-labelledby="figures" {
            h2 #figures { "At a glance" }
            dl.cards data-testid="summary" {
                div { dt { "Workflows" } dd data-figure="workflows" { (summary.workflows.total) } }
                div { dt { "Active" } dd { (summary.workflows.active) } }
                div { dt { "Runs" } dd data-figure="runs" { (summary.runs.total) } }
                div { dt { "Success rate" } dd { (figure(summary.runs.success_rate.map(|r| r * 100.0), " %")) } }
                div { dt { "Executions" } dd { (summary.executions) } }
                div { dt { "Median run" } dd { (figure(d.p50, " s")) } }
                div { dt { "95th percentile run" } dd { (figure(d.p95, " s")) } }
            }
        }
        section aria-labelledby="per-day" {
            h2 #per-day { "Runs per day (last 30 days)" }
            @if per_day.series.is_empty() {
                p.empty { "No runs in the last 30 days." }
            } @else {
                (charts::stacked_runs(&per_day.series, "Runs per day, stacked by status"))
            }
        }
        div.columns {
            section aria-labelledby="top-molecules" {
                h2 #top-molecules { "Top molecules" }
                (charts::bars(&usage(&molecules, false), "Molecules by the number of workflows using them", "workflows"))
            }
            section aria-labelledby="top-atoms" {
                h2 #top-atoms { "Top atoms" }
                (charts::bars(&usage(&atoms.atoms, true), "Atoms by the number of workflows using them", "workflows"))
            }
        }
        section aria-labelledby="most-executed" {
            h2 #most-executed { "Most executed workflows" }
            @if summary.most_executed.is_empty() {
                p.empty { "Nothing has been executed yet." }
            } @else {
                table {
                    thead { tr { th scope="col" { "Workflow" } th scope="col" { "Project" } th scope="col" { "App" } th scope="col" { "Executions" } } }
                    tbody {
                        @for w in &summary.most_executed {
                            tr {
                                td { a href={ "/admin/workflows/" (w.id) "/" } { (w.name) } }
                                td { (w.project_id) }
                                td { (w.app_name.as_deref().unwrap_or("—")) }
                                td { (w.execution_count) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(ok(page("Dashboard", &signed, Nav::Dashboard, body)))
}
