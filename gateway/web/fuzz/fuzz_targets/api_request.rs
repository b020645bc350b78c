//! Any request to the admin plane: method, path and query, content type, extra cookies and
//! body from the input, with or without a session of each role (and its CSRF token). Nothing
//! may panic, answer with a server error, or show a passphrase to a role that may not see it.
#![no_main]

#[path = "harness.rs"]
mod harness;

use axum::body::Body;
use axum::http::{Method, Request, header};
use libfuzzer_sys::fuzz_target;

const METHODS: [Method; 4] = [Method::GET, Method::POST, Method::PUT, Method::DELETE];

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let h = harness::harness();
    let (selector, method, with_csrf) = (data[0], &METHODS[data[1] as usize % 4], data[2] & 1 == 1);
    let mut parts = data[3..].splitn(4, |b| *b == 0);
    let path = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let content_type = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let cookies = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let body = parts.next().unwrap_or_default().to_vec();
    let path = if path.starts_with('/') {
        path
    } else {
        format!("/{path}")
    };
    let (session, may_see) = harness::pick_session(h, selector);
    let mut cookie = cookies;
    let mut b = Request::builder()
        .method(method.clone())
        .header(header::HOST, "10.10.99.1");
    if let Some((id, csrf)) = &session {
        cookie = format!("ew_session={id}; {cookie}");
        if with_csrf {
            b = b.header("x-csrf-token", csrf.as_str());
        }
    }
    if let Ok(v) = header::HeaderValue::from_str(&cookie) {
        b = b.header(header::COOKIE, v);
    }
    if let Ok(v) = header::HeaderValue::from_str(&content_type) {
        b = b.header(header::CONTENT_TYPE, v);
    }
    let Ok(req) = b.uri(path.as_str()).body(Body::from(body)) else {
        return;
    };
    harness::send(h, req, may_see);
});
