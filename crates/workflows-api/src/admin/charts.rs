//! Charts as SVG drawn on the server: no script, no library, readable by screen readers (each
//! chart has a text alternative, and each bar a title with its figures).

use maud::{Markup, html};
use workflows_domain::{RunBucket, RunStatus};

/// Run statuses in the order they stack, with their colours (the legend names them too).
const STACK: [(RunStatus, &str); 7] = [
    (RunStatus::Success, "#2e7d32"),
    (RunStatus::Completed, "#66bb6a"),
    (RunStatus::Failed, "#c62828"),
    (RunStatus::Failure, "#ef5350"),
    (RunStatus::Cancelled, "#757575"),
    (RunStatus::Running, "#1565c0"),
    (RunStatus::Pending, "#f9a825"),
];

struct Segment {
    x: f64,
    y: f64,
    height: f64,
    colour: &'static str,
    title: String,
}

/// Runs per bucket, stacked by status.
pub(crate) fn stacked_runs(series: &[RunBucket], label: &str) -> Markup {
    let (width, height, left, bottom) = (720.0_f64, 240.0_f64, 40.0_f64, 24.0_f64);
    let top = 10.0;
    let max = series.iter().map(|b| b.total).max().unwrap_or(0).max(1) as f64;
    let slot = (width - left) / series.len().max(1) as f64;
    let bar = (slot * 0.7).clamp(2.0, 36.0);
    let scale = (height - bottom - top) / max;
    let total: u64 = series.iter().map(|b| b.total).sum();
    let mut segments = Vec::new();
    let mut ticks = Vec::new();
    for (i, bucket) in series.iter().enumerate() {
        let x = left + slot * i as f64 + (slot - bar) / 2.0;
        let mut y = height - bottom;
        for (status, colour) in STACK {
            let n = bucket.counts.get(&status).copied().unwrap_or(0);
            if n == 0 {
                continue;
            }
            let h = n as f64 * scale;
            y -= h;
            segments.push(Segment {
                x,
                y,
                height: h,
                colour,
                title: format!("{}: {n} {status}", bucket.start.format("%Y-%m-%d %H:%M")),
            });
        }
        if series.len() <= 16 || i % (series.len() / 8).max(1) == 0 {
            ticks.push((x + bar / 2.0, bucket.start.format("%m-%d").to_string()));
        }
    }
    html! {
        figure.chart {
            svg viewBox={ "0 0 " (width) " " (height) } role="img" aria-labelledby="runs-chart-title" class="chart-svg" {
                title #runs-chart-title { (label) ": " (total) " runs in " (series.len()) " buckets" }
                line x1=(left) y1=(height - bottom) x2=(width) y2=(height - bottom) stroke="#999" {}
                text x="4" y=(top + 8.0) class="axis" { (max as u64) }
                text x="4" y=(height - bottom) class="axis" { "0" }
                @for segment in &segments {
                    rect x=(format!("{:.1}", segment.x)) y=(format!("{:.1}", segment.y)) width=(format!("{bar:.1}")) height=(format!("{:.1}", segment.height)) fill=(segment.colour) {
                        title { (segment.title) }
                    }
                }
                @for (x, text) in &ticks {
                    text x=(format!("{x:.1}")) y=(height - 6.0) class="axis" text-anchor="middle" { (text) }
                }
            }
            figcaption {
                ul.legend {
                    @for (status, colour) in STACK {
                        li { svg.swatch viewBox="0 0 10 10" aria-hidden="true" { rect width="10" height="10" fill=(colour) {} } (status) }
                    }
                }
            }
        }
    }
}

/// Horizontal bars for a top list: label, value.
pub(crate) fn bars(rows: &[(String, u64)], label: &str, unit: &str) -> Markup {
    let (width, row_height, label_width) = (480.0_f64, 26.0_f64, 170.0_f64);
    let height = row_height * rows.len().max(1) as f64;
    let max = rows.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1) as f64;
    let span = width - label_width - 50.0;
    html! {
        @if rows.is_empty() {
            p.empty { "Nothing yet." }
        } @else {
            svg viewBox={ "0 0 " (width) " " (height) } role="img" aria-label=(label) class="chart-svg bars" {
                @for (i, (name, value)) in rows.iter().enumerate() {
                    @let y = row_height * i as f64;
                    @let w = (*value as f64 / max * span).max(1.0);
                    text x=(label_width - 6.0) y=(y + 17.0) text-anchor="end" class="bar-label" {
                        (truncate(name, 24))
                    }
                    rect x=(label_width) y=(y + 4.0) width=(format!("{w:.1}")) height=(row_height - 8.0) fill="#3949ab" {
                        title { (name) ": " (value) " " (unit) }
                    }
                    text x=(format!("{:.1}", label_width + w + 6.0)) y=(y + 17.0) class="bar-value" { (value) }
                }
            }
        }
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(max - 1).collect();
        cut.push('…');
        cut
    }
}
