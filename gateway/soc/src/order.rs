//! Orders the SOC gives a gateway about one device (001 §7.8, 004 §15.8: an infected machine is
//! cut off): `quarantine` or `release` a MAC or an address, with the analyst's name and reason,
//! signed with the SOC's Ed25519 key like a rule bundle — over a domain-separated text, so no
//! bundle signature can pass for an order — and carrying a serial above every order the
//! gateway accepted (no replay) and its creation time (an order older than [`MAX_AGE_HOURS`]
//! is refused: an analyst's decision about a host is not valid forever). The gateway verifies
//! it, then the NAC acts on it as a recorded configuration change; the outcome goes back.

use std::net::IpAddr;
use std::path::Path;

use chrono::{DateTime, Utc};
use ring::signature::{ED25519, Ed25519KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};

use crate::bundle::{BundleError, read_hex};

/// Orders older than this are refused.
pub const MAX_AGE_HOURS: i64 = 24;

/// What the SOC orders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderMeta {
    /// Strictly increasing per SOC signing key.
    pub serial: u64,
    pub created: DateTime<Utc>,
    /// The gateways it is for (host ids), or `["all"]`.
    pub targets: Vec<String>,
    /// `quarantine` or `release`.
    pub action: String,
    /// The device, by MAC …
    #[serde(default)]
    pub mac: Option<String>,
    /// … or by address.
    #[serde(default)]
    pub ip: Option<IpAddr>,
    /// Why (recorded in the gateway's configuration history).
    pub reason: String,
    /// Who at the SOC decided.
    pub analyst: String,
}

/// A signed order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub meta: OrderMeta,
    /// Ed25519 signature (hex) over [`signed_text`].
    pub signature: String,
}

/// Why an order was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("{0}")]
    Io(String),
    #[error("signature does not verify with the SOC's signing key")]
    BadSignature,
    #[error("the order is for {0:?}, not for this gateway ({1})")]
    NotForThisGateway(Vec<String>, String),
    #[error("serial {got} is not above {highest}, the highest order accepted here (a replay)")]
    Replayed { got: u64, highest: u64 },
    #[error("the order was created {0}, more than {MAX_AGE_HOURS} h ago (or in the future)")]
    Stale(DateTime<Utc>),
    #[error("action `{0}` is not quarantine or release")]
    BadAction(String),
    #[error("the order names neither a MAC nor an address")]
    NoDevice,
    #[error("`{0}` is not a MAC address")]
    BadMac(String),
}

impl From<BundleError> for OrderError {
    fn from(e: BundleError) -> Self {
        OrderError::Io(e.to_string())
    }
}

/// The bytes signed: a fixed prefix, then the metadata's JSON.
fn signed_text(meta: &OrderMeta) -> Vec<u8> {
    let mut out = b"edgeward SOC order v1\n".to_vec();
    out.extend(serde_json::to_vec(meta).unwrap_or_default());
    out
}

/// Sign an order with the SOC's key in `soc_dir`, with the next serial.
#[allow(clippy::too_many_arguments)]
pub fn create(
    soc_dir: &Path,
    targets: &[String],
    action: &str,
    mac: Option<String>,
    ip: Option<IpAddr>,
    reason: &str,
    analyst: &str,
    now: DateTime<Utc>,
) -> Result<Order, OrderError> {
    let meta = OrderMeta {
        serial: crate::bundle::next_serial(soc_dir)?,
        created: now,
        targets: targets.to_vec(),
        action: action.to_string(),
        mac,
        ip,
        reason: reason.to_string(),
        analyst: analyst.to_string(),
    };
    check_content(&meta)?;
    let pkcs8 = read_hex(&soc_dir.join("bundle-signing.key"))?;
    let pair =
        Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(|_| OrderError::Io("bad signing key".into()))?;
    let signature = hex::encode(pair.sign(&signed_text(&meta)).as_ref());
    Ok(Order { meta, signature })
}

fn check_content(meta: &OrderMeta) -> Result<(), OrderError> {
    if !matches!(meta.action.as_str(), "quarantine" | "release") {
        return Err(OrderError::BadAction(meta.action.clone()));
    }
    match (&meta.mac, meta.ip) {
        (None, None) => Err(OrderError::NoDevice),
        (Some(m), _) if edgeward_config::validate::normalize_mac(m).is_none() => {
            Err(OrderError::BadMac(m.clone()))
        }
        _ => Ok(()),
    }
}

/// Verify `order` for gateway `host` at `now` with the SOC's public key, against the serial
/// kept in `state` (`orders-serial`), and record its serial: accepted once.
pub fn accept(
    order: &Order,
    signing_pub: &Path,
    state: &Path,
    host: &str,
    now: DateTime<Utc>,
) -> Result<(), OrderError> {
    let key = read_hex(signing_pub)?;
    let sig = hex::decode(&order.signature).map_err(|_| OrderError::BadSignature)?;
    UnparsedPublicKey::new(&ED25519, key)
        .verify(&signed_text(&order.meta), &sig)
        .map_err(|_| OrderError::BadSignature)?;
    let m = &order.meta;
    if !m.targets.iter().any(|t| t == "all" || t == host) {
        return Err(OrderError::NotForThisGateway(
            m.targets.clone(),
            host.to_string(),
        ));
    }
    let age = now - m.created;
    if age > chrono::Duration::hours(MAX_AGE_HOURS) || age < -chrono::Duration::minutes(5) {
        return Err(OrderError::Stale(m.created));
    }
    check_content(m)?;
    let path = state.join("orders-serial");
    let highest: u64 = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0);
    if m.serial <= highest {
        return Err(OrderError::Replayed {
            got: m.serial,
            highest,
        });
    }
    std::fs::create_dir_all(state).map_err(|e| OrderError::Io(e.to_string()))?;
    edgeward_config::history::write_atomic(&path, m.serial.to_string().as_bytes())
        .map_err(|e| OrderError::Io(format!("{}: {e}", path.display())))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn soc() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        crate::bundle::make_signing_key(d.path()).unwrap();
        d
    }

    fn order(dir: &Path, now: DateTime<Utc>) -> Order {
        create(
            dir,
            &["gw1".into()],
            "quarantine",
            None,
            Some("10.10.0.12".parse().unwrap()),
            "beaconing to a known C2",
            "analyst-3",
            now,
        )
        .unwrap()
    }

    /// Trust boundary SOC → gateway: only a signed, fresh, new order for this gateway is
    /// accepted, once.
    #[test]
    fn a_signed_order_is_accepted_once_and_tampering_replay_and_age_are_refused() {
        let s = soc();
        let state = tempfile::tempdir().unwrap();
        let pubkey = s.path().join("bundle-signing.pub");
        let now = Utc::now();
        let o = order(s.path(), now);
        assert_eq!(accept(&o, &pubkey, state.path(), "gw1", now), Ok(()));
        assert!(matches!(
            accept(&o, &pubkey, state.path(), "gw1", now),
            Err(OrderError::Replayed { .. })
        ));
        let mut tampered = order(s.path(), now);
        tampered.meta.ip = Some("10.10.0.11".parse().unwrap());
        assert_eq!(
            accept(&tampered, &pubkey, state.path(), "gw1", now),
            Err(OrderError::BadSignature)
        );
        let other = order(s.path(), now);
        assert!(matches!(
            accept(&other, &pubkey, state.path(), "gw2", now),
            Err(OrderError::NotForThisGateway(..))
        ));
        let old = order(s.path(), now - chrono::Duration::hours(30));
        assert!(matches!(
            accept(&old, &pubkey, state.path(), "gw1", now),
            Err(OrderError::Stale(_))
        ));
        // Another SOC's key.
        let stranger = soc();
        let forged = order(stranger.path(), now);
        assert_eq!(
            accept(&forged, &pubkey, state.path(), "gw1", now),
            Err(OrderError::BadSignature)
        );
    }

    #[test]
    fn orders_name_a_device_and_a_known_action() {
        let s = soc();
        let now = Utc::now();
        assert_eq!(
            create(
                s.path(),
                &["all".into()],
                "delete",
                None,
                Some("10.0.0.1".parse().unwrap()),
                "x",
                "a",
                now
            ),
            Err(OrderError::BadAction("delete".into()))
        );
        assert_eq!(
            create(
                s.path(),
                &["all".into()],
                "release",
                None,
                None,
                "x",
                "a",
                now
            ),
            Err(OrderError::NoDevice)
        );
        assert!(matches!(
            create(
                s.path(),
                &["all".into()],
                "release",
                Some("zz".into()),
                None,
                "x",
                "a",
                now
            ),
            Err(OrderError::BadMac(_))
        ));
    }
}
