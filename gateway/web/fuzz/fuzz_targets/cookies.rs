//! Cookie headers as a client sends them (session, language, pre-login token, junk), on pages
//! and the API, with Origin and Referer variations on a state-changing request.
#![no_main]

#[path = "harness.rs"]
mod harness;

use axum::body::Body;
use axum::http::{Method, Request, header};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let h = harness::harness();
    let (session, may_see) = harness::pick_session(h, data[0]);
    let mut parts = data[1..].splitn(2, |b| *b == 0);
    let raw = parts.next().unwrap_or_default();
    let origin = parts.next().unwrap_or_default();
    let mut cookie = String::from_utf8_lossy(raw).into_owned();
    if let Some((id, _)) = &session {
        cookie = cookie.replace("SESSION", id);
    }
    for (method, path) in [
        (Method::GET, "/dashboard"),
        (Method::GET, "/api/v1/session"),
        (Method::POST, "/api/v1/logout"),
    ] {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "10.10.99.1");
        if let Ok(v) = header::HeaderValue::from_str(&cookie) {
            b = b.header(header::COOKIE, v);
        }
        if let Ok(v) = header::HeaderValue::from_bytes(origin) {
            b = b.header(header::ORIGIN, v);
        }
        harness::send(h, b.body(Body::empty()).unwrap(), may_see);
    }
});
