//! The admin's stylesheet and script, compiled into the binary.

use actix_web::HttpResponse;

const CSS: &str = include_str!("assets/admin.css");
const JS: &str = include_str!("assets/admin.js");

fn asset(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(body)
}

pub(crate) async fn css() -> HttpResponse {
    asset("text/css; charset=utf-8", CSS)
}

pub(crate) async fn js() -> HttpResponse {
    asset("text/javascript; charset=utf-8", JS)
}
