//! Update uploads in the admin plane: only a system administrator may upload; a bundle signed
//! by the vendor and newer than the running version is queued for the installer; a foreign-
//! signed or older bundle is refused, never queued, and audited (003 §20.2.b; 000 §8.1.đ).

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{Fixture, fixture};
use edgeward_event::model::EventBody;
use edgeward_update::bundle::{self, Contents};
use edgeward_web::roles::Role;

/// The fixture's state directory (the fake appliance lives there).
fn home(f: &Fixture) -> std::path::PathBuf {
    f.ctx.state_dir.clone()
}

fn make_bundle(f: &Fixture, version: &str, key: &std::path::Path) -> Vec<u8> {
    let dir = home(f).join(format!("parts-{version}"));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in [
        ("root", "root fs"),
        ("kernel", "kernel"),
        ("initrd", "initrd"),
    ] {
        std::fs::write(dir.join(name), format!("{text} {version}")).unwrap();
    }
    let out = dir.join("bundle.ewu");
    bundle::write(
        &Contents {
            version: version.parse().unwrap(),
            rollback: false,
            cmdline: "ro".into(),
            created: chrono::Utc::now(),
            root: &dir.join("root"),
            kernel: &dir.join("kernel"),
            initrd: &dir.join("initrd"),
        },
        key,
        &out,
    )
    .unwrap();
    std::fs::read(out).unwrap()
}

fn vendor_key(f: &Fixture) -> std::path::PathBuf {
    home(f).join("vendor/update-signing.key")
}

async fn upload(f: &Fixture, role: Role, bytes: Vec<u8>) -> (StatusCode, serde_json::Value) {
    let session = f.session(role);
    let boundary = "----edgewardupdate";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"bundle\"; filename=\"u.ewu\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let resp = f
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/api/v1/system/update")
                .header(header::HOST, "10.10.99.1")
                .header(header::COOKIE, format!("ew_session={}", session.0))
                .header("x-csrf-token", &session.1)
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

async fn next_update_audit(
    events: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<edgeward_event::model::Event>>,
) -> edgeward_event::model::AuditEvent {
    loop {
        let ev = tokio::time::timeout(std::time::Duration::from_secs(2), events.recv())
            .await
            .expect("an audit event within 2 s")
            .unwrap();
        if let EventBody::Audit(a) = &ev.body {
            if a.action == "system.update.upload" {
                return a.clone();
            }
        }
    }
}

/// A vendor-signed newer bundle is queued for the installer, and the upload is audited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_newer_bundle_is_queued() {
    let f = fixture().await;
    let mut events = f.bus.subscribe();
    let bytes = make_bundle(&f, "0.1.2", &vendor_key(&f));
    let (status, body) = upload(&f, Role::SystemAdmin, bytes.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["version"], "0.1.2");
    let queued = f.ctx.update.state.join(edgeward_update::queue::QUEUED);
    assert_eq!(std::fs::read(&queued).unwrap(), bytes);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&queued).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let audit = next_update_audit(&mut events).await;
    assert_eq!(audit.outcome, edgeward_event::model::Outcome::Success);
    assert!(audit.detail.contains("0.1.2"), "{}", audit.detail);
}

/// A bundle signed by another key is refused with its reason and never queued; the refusal is
/// audited and in the update history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_signed_bundle_is_refused_and_audited() {
    let f = fixture().await;
    let mut events = f.bus.subscribe();
    let other = home(&f).join("other-vendor");
    edgeward_update::manifest::make_signing_key(&other).unwrap();
    let bytes = make_bundle(&f, "0.1.2", &other.join("update-signing.key"));
    let (status, body) = upload(&f, Role::SystemAdmin, bytes).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "bad-signature");
    assert!(
        !f.ctx
            .update
            .state
            .join(edgeward_update::queue::QUEUED)
            .exists()
    );
    assert!(
        !f.ctx
            .update
            .state
            .join(edgeward_update::queue::INCOMING)
            .exists()
    );
    let audit = next_update_audit(&mut events).await;
    assert_eq!(audit.outcome, edgeward_event::model::Outcome::Failure);
    assert!(audit.detail.contains("signature"), "{}", audit.detail);
    let view = edgeward_web::update::view(&f.ctx.update);
    assert_eq!(view.recent[0].code, "bad-signature");
}

/// The running version and older ones are refused (no downgrade without a signed rollback).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_bundle_is_refused() {
    let f = fixture().await;
    let bytes = make_bundle(&f, "0.1.1", &vendor_key(&f));
    let (status, body) = upload(&f, Role::SystemAdmin, bytes).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "not-newer");
}

/// Roles other than the system administrator cannot upload an update.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_system_admin_may_upload() {
    let f = fixture().await;
    for role in [Role::Viewer, Role::Operator, Role::SecurityAdmin] {
        let bytes = make_bundle(&f, "0.1.2", &vendor_key(&f));
        let (status, _) = upload(&f, role, bytes).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role:?}");
    }
    assert!(
        !f.ctx
            .update
            .state
            .join(edgeward_update::queue::QUEUED)
            .exists()
    );
}

/// While a bundle waits for the installer, a second upload is refused and the first stays
/// queued (the installer removes the queued file when done: replacing it would lose one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_bundle_waits_until_the_first_is_installed() {
    let f = fixture().await;
    let first = make_bundle(&f, "0.1.2", &vendor_key(&f));
    let (status, _) = upload(&f, Role::SystemAdmin, first.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, body) = upload(
        &f,
        Role::SystemAdmin,
        make_bundle(&f, "0.1.3", &vendor_key(&f)),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "busy");
    assert!(
        body["error"].as_str().unwrap_or("").contains("0.1.2"),
        "{body}"
    );
    let queued = f.ctx.update.state.join(edgeward_update::queue::QUEUED);
    assert_eq!(std::fs::read(&queued).unwrap(), first);
}
