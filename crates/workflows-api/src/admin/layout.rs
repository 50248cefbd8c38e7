//! The page shell: head, navigation, sign-out, and the headers every admin page carries.

use super::Signed;
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use maud::{DOCTYPE, Markup, html};

/// Which navigation entry is current.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    Dashboard,
    Workflows,
    Runs,
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · workflows admin" }
            link rel="stylesheet" href="/admin/static/admin.css";
            script src="/admin/static/admin.js" defer {}
        }
    }
}

/// A page for a signed-in person.
pub(crate) fn page(title: &str, signed: &Signed, current: Nav, body: Markup) -> Markup {
    let link = |nav: Nav, href: &str, label: &str| {
        html! {
            li { a href=(href) aria-current=[(nav == current).then_some("page")] { (label) } }
        }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/admin/" { "workflows" }
                    nav aria-label="Main" {
                        ul {
                            (link(Nav::Dashboard, "/admin/", "Dashboard"))
                            (link(Nav::Workflows, "/admin/workflows/", "Workflows"))
                            (link(Nav::Runs, "/admin/runs/", "Runs"))
                            li { a href="/api/workflows/docs/" { "API" } }
                        }
                    }
                    form.signout method="post" action="/admin/logout/" {
                        input type="hidden" name="csrf" value=(signed.csrf);
                        span.who {
                            (signed.user.username)
                            @if signed.user.is_staff { " (staff)" }
                        }
                        button type="submit" { "Sign out" }
                    }
                }
                main #main { (body) }
            }
        }
    }
}

/// A page without navigation (sign-in, errors).
pub(crate) fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body { main #main.narrow { (body) } }
        }
    }
}

/// An HTML answer with the headers every admin page carries: no framing, no inline script, and
/// nothing cached (pages hold the signed-in person's data).
pub(crate) fn html(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "same-origin"))
        .insert_header(("Cache-Control", "no-store"))
        .body(markup.into_string())
}

/// 200 with a page.
pub(crate) fn ok(markup: Markup) -> HttpResponse {
    html(StatusCode::OK, markup)
}

/// A local date-time, shortened for tables.
pub(crate) fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A status as a labelled badge (colour is never the only cue: the word is there).
pub(crate) fn badge(status: &str) -> Markup {
    html! { span class={ "badge badge-" (status) } { (status) } }
}

/// Previous/next links of a paged list, keeping the other parameters.
pub(crate) fn pager(base: &str, params: &[(String, String)], page: u64, has_next: bool) -> Markup {
    let link = |number: u64| {
        let mut pairs: Vec<(String, String)> = params
            .iter()
            .filter(|(k, v)| k != "page" && !v.is_empty())
            .cloned()
            .collect();
        pairs.push(("page".to_owned(), number.to_string()));
        format!(
            "{base}?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    };
    html! {
        nav.pager aria-label="Pages" {
            @if page > 1 { a rel="prev" href=(link(page - 1)) { "← Previous" } }
            span { "Page " (page) }
            @if has_next { a rel="next" href=(link(page + 1)) { "Next →" } }
        }
    }
}
