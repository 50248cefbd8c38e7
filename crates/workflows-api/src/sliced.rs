//! Large JSON answers (list pages) sent in slices.
//!
//! actix copies an answer's body into its connection's write buffer and keeps that buffer, up to
//! 128 KiB, for the connection's next answer. A whole page copied at once left every keep-alive
//! connection holding a page-sized buffer: about 20 MiB of the server's peak at 256 connections
//! of 60 KiB molecule pages (bench/README.md, finding 12). Slices of [`BODY_SLICE`], with the
//! server's write buffer limit set to the same size, keep each buffer near one slice.

use actix_web::HttpResponse;
use actix_web::body::SizedStream;
use actix_web::http::header::ContentType;
use actix_web::web::Bytes;
use std::convert::Infallible;

/// The size of one slice of a body, and the server's write buffer limit.
pub const BODY_SLICE: usize = 16 * 1024;

/// A 200 answer with `body` as JSON, its `Content-Length` set, written a slice at a time.
pub fn json_in_slices(body: &impl serde::Serialize) -> HttpResponse {
    written_json_in_slices(serde_json::to_vec(body))
}

/// [`json_in_slices`] for JSON already written; an error writing it answers 500.
pub fn written_json_in_slices(written: serde_json::Result<Vec<u8>>) -> HttpResponse {
    let bytes = match written {
        Ok(bytes) => Bytes::from(bytes),
        Err(e) => {
            tracing::error!(error = %e, "an answer could not be written as JSON");
            return HttpResponse::InternalServerError().finish();
        }
    };
    let length = bytes.len();
    let slices = (0..length).step_by(BODY_SLICE).map(move |start| {
        Ok::<_, Infallible>(bytes.slice(start..(start + BODY_SLICE).min(length)))
    });
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(SizedStream::new(
            length as u64,
            futures_util::stream::iter(slices),
        ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::{BodySize, MessageBody};

    #[actix_web::test]
    async fn a_body_longer_than_a_slice_arrives_whole_in_slices_with_its_length() {
        let items: Vec<String> = (0..3 * BODY_SLICE / 10)
            .map(|i| format!("{i:08}"))
            .collect();
        let expected = serde_json::to_vec(&items).expect("json");
        assert!(expected.len() > 2 * BODY_SLICE);
        let response = json_in_slices(&items);
        assert_eq!(
            response.headers().get("content-type").map(|v| v.as_bytes()),
            Some(&b"application/json"[..])
        );
        let body = response.into_body();
        assert_eq!(body.size(), BodySize::Sized(expected.len() as u64));
        let mut body = std::pin::pin!(body);
        let mut slices = Vec::new();
        while let Some(slice) = std::future::poll_fn(|cx| body.as_mut().poll_next(cx)).await {
            slices.push(slice.expect("no error"));
        }
        assert!(slices.len() >= 3, "{} slices", slices.len());
        assert!(slices.iter().all(|slice| slice.len() <= BODY_SLICE));
        assert_eq!(slices.concat(), expected);
    }
}
