//! Multipart uploads (backup import, certificate upload, CSV import): any body under any
//! boundary, posted by the roles that may upload.
#![no_main]

#[path = "harness.rs"]
mod harness;

use axum::body::Body;
use axum::http::{Method, Request, header};
use libfuzzer_sys::fuzz_target;

const PATHS: [&str; 3] = [
    "/system/backup/import",
    "/system/certificate",
    "/devices/import",
];

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let h = harness::harness();
    let path = PATHS[data[0] as usize % PATHS.len()];
    let (session, may_see) = harness::pick_session(h, data[1]);
    let Some((id, csrf)) = session else {
        return;
    };
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("{path}?_csrf={csrf}"))
        .header(header::HOST, "10.10.99.1")
        .header(header::COOKIE, format!("ew_session={id}"))
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XfuzzX")
        .body(Body::from(data[2..].to_vec()))
        .unwrap();
    harness::send(h, req, may_see);
});
