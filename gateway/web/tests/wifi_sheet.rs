//! The Wi-Fi page as the noticeboard's source (004 §7.2): a printable sheet per network with
//! its name, passphrase and a QR code phones scan to join — for those who manage Wi-Fi only,
//! every print audited — and the connected clients of each served SSID with a way to block one.

mod common;

use axum::http::StatusCode;
use common::{call, fixture_with};
use edgeward_event::EventBody;
use edgeward_web::roles::Role;

/// Add a network through the API as `session`; it must be accepted.
async fn add_network(f: &common::Fixture, session: &(String, String), body: serde_json::Value) {
    let (s, _, text) = call(f, "POST", "/api/v1/wifi", session, Some(body)).await;
    assert!(s.is_success(), "{s} {text}");
}

fn profile_with_radio() -> String {
    edgeward_config::AGENCY_DEFAULT_PROFILE.replacen(
        "name = \"guest0\"",
        "name = \"guest0\"\nports = [\"guest-port\"]",
        1,
    ) + "\n[[radios]]\nname = \"radio0\"\ninterface = \"wlan0\"\n"
}

/// 004 §7.2: the sheet carries the passphrase in words and in a WIFI: QR code that decodes to
/// this network; a viewer cannot print it; printing is audited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_printable_sheet_has_the_passphrase_and_a_qr_code_for_managers_only() {
    let f = fixture_with(profile_with_radio()).await;
    let operator = f.session(Role::Operator);
    let viewer = f.session(Role::Viewer);
    add_network(&f, &operator, serde_json::json!({ "ssid": "Khach;SoVD", "zone": "guest", "security": "wpa2-wpa3", "passphrase": "Hoa-Sen:Vang-2026" })).await;
    let mut events = f.bus.subscribe();
    let (s, _, page) = call(&f, "GET", "/wifi/Khach%3BSoVD/sheet", &operator, None).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(
        page.contains("Hoa-Sen:Vang-2026"),
        "the passphrase in words"
    );
    assert!(
        page.contains("data-text=\"WIFI:T:WPA;S:Khach\\;SoVD;P:Hoa-Sen\\:Vang-2026;;\""),
        "the QR text, escaped as phones expect: {page}"
    );
    assert!(page.contains("<svg"), "the QR code itself");
    let (kind, ssid, pass) =
        edgeward_wifi::qr::parse("WIFI:T:WPA;S:Khach\\;SoVD;P:Hoa-Sen\\:Vang-2026;;").unwrap();
    assert_eq!(
        (kind.as_str(), ssid.as_str(), pass.as_str()),
        ("WPA", "Khach;SoVD", "Hoa-Sen:Vang-2026")
    );
    let audited = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            let ev = events.recv().await.unwrap();
            if let EventBody::Audit(a) = &ev.body
                && a.detail.contains("printable sheet")
            {
                return a.clone();
            }
        }
    })
    .await
    .expect("the print is audited");
    assert!(
        !audited.detail.contains("Hoa-Sen"),
        "no secret in the audit log"
    );
    let (s, _, _) = call(&f, "GET", "/wifi/Khach%3BSoVD/sheet", &viewer, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

/// The clients hostapd lists are on the page under their SSID, with a block button for those
/// who manage devices; a network on no radio says it is not served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connected_clients_are_listed_per_ssid() {
    let f = fixture_with(profile_with_radio()).await;
    let operator = f.session(Role::Operator);
    for (ssid, zone) in [("Khach-SoVD", "guest")] {
        add_network(
            &f,
            &operator,
            serde_json::json!({ "ssid": ssid, "zone": zone, "security": "wpa2" }),
        )
        .await;
    }
    std::fs::write(
        f.ctx.state_dir.join("wifi-stations.json"),
        r#"{"Khach-SoVD":[{"mac":"02:00:00:00:01:00","signal_dbm":-41,"connected_seconds":620,"rx_bytes":100,"tx_bytes":50}]}"#,
    )
    .unwrap();
    let (_, _, page) = call(&f, "GET", "/wifi", &operator, None).await;
    let clients = page
        .split("id=\"wifi-clients\"")
        .nth(1)
        .expect("clients table");
    assert!(
        clients.contains("02:00:00:00:01:00") && clients.contains("-41 dBm"),
        "{clients}"
    );
    assert!(clients.contains("/devices/02%3A00%3A00%3A00%3A01%3A00/block-unknown"));
    assert!(page.contains("radio0 (wlan0)"), "served on the radio");
    let (_, api, _) = call(&f, "GET", "/api/v1/wifi", &operator, None).await;
    assert_eq!(api[0]["stations"][0]["mac"], "02:00:00:00:01:00");
    assert_eq!(api[0]["served_on"], "radio0 (wlan0)");
}

/// 004 §7.2: whether a network stops when its passphrase is overdue is the admin's choice, set
/// on the page or through the API by those who manage Wi-Fi, kept in the configuration, and
/// shown on the page; a viewer cannot change it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_an_overdue_network_is_set_by_managers_and_kept_in_the_model() {
    let f = fixture_with(profile_with_radio()).await;
    let operator = f.session(Role::Operator);
    let viewer = f.session(Role::Viewer);
    add_network(
        &f,
        &operator,
        serde_json::json!({ "ssid": "Khach-SoVD", "zone": "guest", "security": "wpa2" }),
    )
    .await;
    let (s, _, _) = call(
        &f,
        "PUT",
        "/api/v1/wifi/Khach-SoVD/overdue",
        &viewer,
        Some(serde_json::json!({ "block": true })),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, body, text) = call(
        &f,
        "PUT",
        "/api/v1/wifi/Khach-SoVD/overdue",
        &operator,
        Some(serde_json::json!({ "block": true })),
    )
    .await;
    assert!(s.is_success(), "{s} {text}");
    assert_eq!(body["block_when_overdue"], true);
    let running = f.ctx.live.load().text.clone();
    assert!(
        running.contains("block_when_overdue = true"),
        "kept in the configuration: {running}"
    );
    let (_, api, _) = call(&f, "GET", "/api/v1/wifi", &operator, None).await;
    assert_eq!(api[0]["block_when_overdue"], true);
    assert_eq!(api[0]["withheld"], false, "not overdue: still served");
    let (_, _, page) = call(&f, "GET", "/wifi", &operator, None).await;
    assert!(
        page.contains("action=\"/wifi/Khach-SoVD/overdue\""),
        "the switch is on the page"
    );
    assert!(
        page.contains("name=\"block\" value=\"0\""),
        "now it offers to undo"
    );
    let (s, _, _) = call(
        &f,
        "PUT",
        "/api/v1/wifi/Nope/overdue",
        &operator,
        Some(serde_json::json!({ "block": true })),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
