//! The login as the network sends it: any body to `POST /api/v1/login` (JSON or not), each from
//! a fresh source address so the per-source limit does not hide the paths behind it.
#![no_main]

#[path = "harness.rs"]
mod harness;

use axum::body::Body;
use axum::http::{Method, Request, header};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let h = harness::harness();
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/login")
        .header(header::HOST, "10.10.99.1")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(data.to_vec()))
        .unwrap();
    harness::send(h, req, false);
});
