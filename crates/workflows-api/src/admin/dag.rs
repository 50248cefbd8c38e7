//! The workflow's graph as SVG: nodes where the canvas put them (`position`), or in layers by
//! dependency when it did not, edges as arrows.

use maud::{Markup, html};
use workflows_domain::DagSpec;

const NODE_WIDTH: f64 = 150.0;
const NODE_HEIGHT: f64 = 40.0;
const COLUMN_GAP: f64 = 70.0;
const ROW_GAP: f64 = 30.0;
const MARGIN: f64 = 20.0;

/// Where each node's top-left corner goes, in node order.
fn layout(spec: &DagSpec) -> Vec<(f64, f64)> {
    let nodes = spec.nodes();
    let given: Vec<Option<(f64, f64)>> = spec
        .raw()
        .get("nodes")
        .and_then(|n| n.as_array())
        .map(|raw| {
            raw.iter()
                .map(|node| {
                    let position = node.get("position")?;
                    Some((position.get("x")?.as_f64()?, position.get("y")?.as_f64()?))
                })
                .collect()
        })
        .unwrap_or_default();
    if given.len() == nodes.len() && given.iter().all(Option::is_some) {
        return given.into_iter().flatten().collect();
    }
    let mut at = vec![(0.0, 0.0); nodes.len()];
    for (column, stage) in spec.stages().iter().enumerate() {
        for (row, id) in stage.iter().enumerate() {
            if let Some(i) = nodes.iter().position(|n| n.id == *id) {
                at[i] = (
                    column as f64 * (NODE_WIDTH + COLUMN_GAP),
                    row as f64 * (NODE_HEIGHT + ROW_GAP),
                );
            }
        }
    }
    at
}

fn label(id: &str) -> String {
    if id.chars().count() <= 18 {
        id.to_owned()
    } else {
        let mut cut: String = id.chars().take(17).collect();
        cut.push('…');
        cut
    }
}

/// The graph, or a note when there is none.
pub(crate) fn draw(spec: &DagSpec) -> Markup {
    let nodes = spec.nodes();
    if nodes.is_empty() {
        return html! { p.empty { "This workflow has no graph (dag_spec has no nodes)." } };
    }
    let at = layout(spec);
    let min_x = at.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let min_y = at.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let at: Vec<(f64, f64)> = at
        .iter()
        .map(|(x, y)| (x - min_x + MARGIN, y - min_y + MARGIN))
        .collect();
    let width = at.iter().map(|p| p.0).fold(0.0, f64::max) + NODE_WIDTH + MARGIN;
    let height = at.iter().map(|p| p.1).fold(0.0, f64::max) + NODE_HEIGHT + MARGIN;
    let edges: Vec<(f64, f64, f64, f64)> = spec
        .edges()
        .iter()
        .map(|e| {
            let (sx, sy) = at[e.source];
            let (tx, ty) = at[e.target];
            (
                sx + NODE_WIDTH,
                sy + NODE_HEIGHT / 2.0,
                tx,
                ty + NODE_HEIGHT / 2.0,
            )
        })
        .collect();
    let description = format!(
        "Graph of {} molecules and {} dependencies",
        nodes.len(),
        spec.edges().len()
    );
    html! {
        svg.dag viewBox={ "0 0 " (format!("{width:.0}")) " " (format!("{height:.0}")) } role="img" aria-label=(description) data-testid="dag" {
            defs {
                marker #arrow viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse" {
                    path d="M 0 0 L 10 5 L 0 10 z" fill="#555" {}
                }
            }
            @for (x1, y1, x2, y2) in &edges {
                path.edge d=(format!("M {x1:.1} {y1:.1} C {:.1} {y1:.1}, {:.1} {y2:.1}, {x2:.1} {y2:.1}", (x1 + x2) / 2.0, (x1 + x2) / 2.0))
                    fill="none" stroke="#555" stroke-width="1.5" marker-end="url(#arrow)" {}
            }
            @for (node, (x, y)) in nodes.iter().zip(&at) {
                g.node data-node=(node.id) {
                    title { (node.id) }
                    rect x=(format!("{x:.1}")) y=(format!("{y:.1}")) width=(NODE_WIDTH) height=(NODE_HEIGHT) rx="6" fill="#e8eaf6" stroke="#3949ab" {}
                    text x=(format!("{:.1}", x + NODE_WIDTH / 2.0)) y=(format!("{:.1}", y + NODE_HEIGHT / 2.0 + 5.0)) text-anchor="middle" { (label(&node.id)) }
                }
            }
        }
    }
}
