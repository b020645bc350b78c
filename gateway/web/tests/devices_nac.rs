//! The devices page as NAC's console (000 §5.4, 003 §23.3, 001 §7.5, 004 §9.3, 001 §7.8): the
//! machines waiting for approval with what the gateway learned, approval with the checklist and
//! the head of unit's consent, quarantine and release in one step with their reasons on the
//! page and the dashboard, each device's history, and Phụ lục I as an Excel workbook.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{call, fixture, request};
use edgeward_web::roles::Role;

const VISITOR: &str = "00:00:0c:12:34:56";

/// What the daemon's DHCP listener and dnsmasq leave in the state directory.
fn learned(state_dir: &std::path::Path) {
    let dir = state_dir.join("dhcp");
    std::fs::create_dir_all(&dir).unwrap();
    let seen = serde_json::json!({ "devices": { VISITOR: {
        "mac": VISITOR, "ip": null, "hostname": "laptop-khach", "params": "1,3,6,15,119,252",
        "vendor_class": "MSFT 5.0", "vendor": "Cisco Systems, Inc", "random_mac": false,
        "interface": "lan-staff", "zone": "staff", "first_seen": 1_790_000_000, "last_seen": 1_790_000_300
    }, "da:a1:19:00:00:01": {
        "mac": "da:a1:19:00:00:01", "ip": null, "hostname": null, "params": "1,121,3,6",
        "vendor_class": "android-dhcp-14", "vendor": null, "random_mac": true,
        "interface": "lan-staff", "zone": "staff", "first_seen": 1_790_000_100, "last_seen": 1_790_000_200
    }}});
    std::fs::write(dir.join("seen.json"), seen.to_string()).unwrap();
    std::fs::write(
        dir.join("leases"),
        format!("1790003600 {VISITOR} 10.10.0.150 laptop-khach *\n"),
    )
    .unwrap();
}

async fn form(
    f: &common::Fixture,
    session: &(String, String),
    path: &str,
    body: &str,
) -> (StatusCode, String) {
    let req = Request::builder()
        .method("POST")
        .uri(path)
        .header(header::HOST, "10.10.99.1")
        .header(header::COOKIE, format!("ew_session={}", session.0))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("_csrf={}&{body}", session.1)))
        .unwrap();
    let resp = f.send(req).await;
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 4 << 20)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn page(f: &common::Fixture, session: &(String, String), path: &str) -> String {
    let (status, _, text) = call(f, "GET", path, session, None).await;
    assert_eq!(status, StatusCode::OK, "{path}: {text}");
    text
}

fn device(f: &common::Fixture, mac: &str) -> Option<edgeward_config::Device> {
    f.ctx.live.load().config.as_ref().and_then(|c| {
        c.devices
            .iter()
            .find(|d| d.mac.eq_ignore_ascii_case(mac))
            .cloned()
    })
}

/// 000 §5.4, 003 §23.3: a machine heard on the LAN and not in the inventory is listed as
/// waiting with its learned facts (maker, hostname, DHCP fingerprint, address, interface, a
/// randomised MAC labelled), on the page and the dashboard; the approve link fills the form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_machines_are_listed_with_what_the_gateway_learned() {
    let f = fixture().await;
    learned(&f.ctx.state_dir);
    let s = f.session(Role::Operator);
    let text = page(&f, &s, "/devices").await;
    let waiting = text
        .split("id=\"waiting\"")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .expect("the waiting table");
    for needle in [
        VISITOR,
        "Cisco Systems, Inc",
        "laptop-khach",
        "1,3,6,15,119,252",
        "MSFT 5.0",
        "10.10.0.150",
        "lan-staff",
        "android-dhcp-14",
        "MAC ngẫu nhiên",
    ] {
        assert!(
            waiting.contains(needle),
            "{needle} missing from the waiting list"
        );
    }
    let dash = page(&f, &s, "/dashboard").await;
    assert!(
        dash.contains(VISITOR),
        "the dashboard lists the waiting machine"
    );
    let (_, status, _) = call(&f, "GET", "/api/v1/status", &s, None).await;
    assert_eq!(status["devices_pending"], 2);
    let filled = page(&f, &s, &format!("/devices?approve={VISITOR}")).await;
    assert!(
        filled.contains(&format!("value=\"{VISITOR}\"")),
        "the form carries the MAC"
    );
    assert!(
        filled.contains("value=\"Cisco Systems, Inc\""),
        "and the maker"
    );
}

/// 001 §7.5, 004 §15.5, 004 §9.3: a laptop is approved only with every check ticked, a
/// personal device only with the head of unit named; the approver is recorded and the machine
/// leaves the waiting list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_needs_the_checklist_and_for_a_personal_device_the_head_of_unit() {
    let f = fixture().await;
    learned(&f.ctx.state_dir);
    let s = f.session(Role::Operator);
    let base = format!(
        "user=Nguy%E1%BB%85n+V%C4%83n+Kh%C3%A1ch&type=laptop&mac={VISITOR}&zone=staff&status=approved"
    );
    let (status, body) = form(&f, &s, "/devices", &format!("{base}&chk_antivirus=on")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("err-checklist"),
        "the checklist is named: {body}"
    );
    assert!(device(&f, VISITOR).is_none());
    let all = "chk_antivirus=on&chk_os_updates=on&chk_licensed_software=on&chk_screen_lock=on";
    let (status, body) = form(&f, &s, "/devices", &format!("{base}&{all}&personal=on")).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "personal without the head of unit"
    );
    assert!(
        body.contains("head_of_unit") || body.contains("thủ trưởng") || body.contains("Thủ trưởng"),
        "{body}"
    );
    let (status, body) = form(
        &f,
        &s,
        "/devices",
        &format!("{base}&{all}&personal=on&head_of_unit=Tr%E1%BA%A7n+V%C4%83n+Tr%C6%B0%E1%BB%9Fng"),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let d = device(&f, VISITOR).expect("in the inventory");
    assert_eq!(d.status, edgeward_config::DeviceStatus::Approved);
    assert_eq!(d.approved_by, f.account(Role::Operator));
    assert_eq!(d.head_of_unit, "Trần Văn Trưởng");
    assert!(d.personal);
    assert_eq!(d.checklist.len(), 4);
    let text = page(&f, &s, "/devices").await;
    let waiting = text
        .split("id=\"waiting\"")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .unwrap_or("");
    assert!(!waiting.contains(VISITOR), "approved: no longer waiting");
}

/// 001 §7.8, 004 §15.8: quarantine from the page in one step, pinned to the address the
/// machine was seen with, its reason on the devices page and the dashboard; release is a
/// recorded decision too; both show in the device's history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quarantine_and_release_from_the_page_with_reasons_and_history() {
    let f = fixture().await;
    learned(&f.ctx.state_dir);
    let s = f.session(Role::Operator);
    let all = "chk_antivirus=on&chk_os_updates=on&chk_licensed_software=on&chk_screen_lock=on";
    let (status, _) = form(
        &f,
        &s,
        "/devices",
        &format!("user=Kh%C3%A1ch&type=laptop&mac={VISITOR}&zone=staff&status=approved&{all}"),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, body) = form(
        &f,
        &s,
        &format!("/devices/{VISITOR}/quarantine"),
        "reason=SOC+b%C3%A1o+m%C3%A3+%C4%91%E1%BB%99c",
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let d = device(&f, VISITOR).unwrap();
    assert_eq!(d.move_to.as_deref(), Some("quarantine"));
    assert_eq!(
        d.ip,
        Some("10.10.0.150".parse().unwrap()),
        "pinned to its leased address"
    );
    assert!(
        d.quarantine_reason.contains("SOC báo mã độc"),
        "{}",
        d.quarantine_reason
    );
    for path in ["/devices", "/dashboard"] {
        let text = page(&f, &s, path).await;
        assert!(text.contains("SOC báo mã độc"), "{path} shows the reason");
    }
    let (status, _) = form(&f, &s, &format!("/devices/{VISITOR}/release"), "reason=").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(device(&f, VISITOR).unwrap().move_to, None);
    let history = page(&f, &s, &format!("/devices/{VISITOR}")).await;
    let table = history
        .split("id=\"device-history\"")
        .nth(1)
        .expect("history");
    assert!(
        table.contains("thêm vào danh mục (đã phê duyệt, vùng staff)"),
        "{table}"
    );
    assert!(table.contains("cách ly: - → quarantine"), "{table}");
    assert!(table.contains("cách ly: quarantine → -"), "{table}");
    // A viewer may look but not decide.
    let v = f.session(Role::Viewer);
    let (status, _) = form(
        &f,
        &v,
        &format!("/devices/{VISITOR}/quarantine"),
        "reason=x",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// A waiting machine refused from the page stays cut off, in the inventory as blocked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_machine_can_be_blocked() {
    let f = fixture().await;
    learned(&f.ctx.state_dir);
    let s = f.session(Role::Operator);
    let (status, body) = form(&f, &s, "/devices/da:a1:19:00:00:01/block-unknown", "").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let d = device(&f, "da:a1:19:00:00:01").unwrap();
    assert_eq!(d.status, edgeward_config::DeviceStatus::Blocked);
    assert_eq!(d.zone, "staff");
}

/// 000 Phụ lục I: the inventory downloads as an Excel workbook.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_annex_downloads_as_a_workbook() {
    let f = fixture().await;
    let s = f.session(Role::Viewer);
    let resp = f
        .send(request(
            &axum::http::Method::GET,
            "/devices/annex.xlsx",
            Some((&s.0, &s.1)),
            None,
        ))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    let bytes = axum::body::to_bytes(resp.into_body(), 4 << 20)
        .await
        .unwrap();
    assert_eq!(&bytes[..2], b"PK");
}
