//! URL-encoded forms as browsers post them: the login form (with its pre-login cookie), and the
//! forms behind a session (password, TOTP, devices, Wi-Fi, accounts, configuration editor),
//! the CSRF token included so the handlers parse the body.
#![no_main]

#[path = "harness.rs"]
mod harness;

use axum::body::Body;
use axum::http::{Method, Request, header};
use libfuzzer_sys::fuzz_target;

const PATHS: [&str; 14] = [
    "/login",
    "/password",
    "/totp/enrol",
    "/totp/verify",
    "/devices",
    "/devices/02:ed:00:00:00:11/status",
    "/wifi",
    "/wifi/Khach/passphrase",
    "/accounts",
    "/accounts/fuzzviewer/reset",
    "/config/edit",
    "/config/history/1/rollback",
    "/system/backup/export",
    "/lang",
];

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let h = harness::harness();
    let path = PATHS[data[0] as usize % PATHS.len()];
    let (session, may_see) = harness::pick_session(h, data[1]);
    let body = data[2..].to_vec();
    let mut b = Request::builder()
        .method(if path == "/lang" {
            Method::GET
        } else {
            Method::POST
        })
        .header(header::HOST, "10.10.99.1")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    let uri = if path == "/lang" {
        format!(
            "/lang?{}",
            String::from_utf8_lossy(&body).replace(['#', ' '], "")
        )
    } else {
        path.to_string()
    };
    match &session {
        Some((id, csrf)) => {
            b = b
                .header(header::COOKIE, format!("ew_session={id}"))
                .header("x-csrf-token", csrf.as_str());
        }
        None => b = b.header(header::COOKIE, "ew_pre=fuzz"),
    }
    let Ok(req) = b.uri(uri.as_str()).body(Body::from(body)) else {
        return;
    };
    harness::send(h, req, may_see);
});
