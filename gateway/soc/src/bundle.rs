//! Rule bundles pushed by the SOC: rules files plus metadata (version, created, target mode, the
//! gateways it is for, a signing serial), signed with the SOC's Ed25519 key. The gateway
//! verifies the signature, that the bundle names it (or all gateways), that its serial is above
//! every serial it has accepted (no bundle is accepted twice, so no replay even after a signed
//! rollback) and the version (no downgrade unless the SOC signed a rollback), checks every rule
//! file, stages it and switches to it atomically; anything wrong leaves the running rules as
//! they are and the exact reason goes back to the SOC. The IDS engine compiles what is applied
//! (its compile-and-swap arrives with the IDS issue; until then the bundle is stored and reported).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleMeta {
    pub version: u64,
    pub created: DateTime<Utc>,
    /// `ids` (alert) or `ips` (inline drop).
    pub mode: String,
    /// A signed rollback may go to an older version.
    #[serde(default)]
    pub rollback: bool,
    /// The gateways (host ids) this bundle is for, or `["all"]`.
    #[serde(default)]
    pub targets: Vec<String>,
    /// Strictly increasing per SOC signing key: a gateway accepts each serial at most once,
    /// in increasing order.
    #[serde(default)]
    pub serial: u64,
    /// Canary period: for this many minutes after it is applied, every rule of the bundle only
    /// alerts; then its drop rules enforce.
    #[serde(default)]
    pub canary_minutes: u32,
}

impl BundleMeta {
    /// Whether the bundle is meant for gateway `host`.
    pub fn targets_host(&self, host: &str) -> bool {
        self.targets.iter().any(|t| t == "all" || t == host)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    pub meta: BundleMeta,
    /// File name → rules text.
    pub files: BTreeMap<String, String>,
    /// Ed25519 signature (hex) over the canonical JSON of `(meta, files)`.
    pub signature: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{0}")]
    Io(String),
    #[error(
        "signature does not verify with the SOC's signing key (tampered or signed by another key)"
    )]
    BadSignature,
    #[error(
        "version {got} is not newer than the running version {running} (replayed or downgraded; only a signed rollback may go back)"
    )]
    NotNewer { got: u64, running: u64 },
    #[error("file name `{0}` is not allowed (plain `*.rules` names only)")]
    BadFileName(String),
    #[error("rules do not parse: {0}")]
    Rules(String),
    #[error("mode `{0}` is not ids or ips")]
    BadMode(String),
    #[error("the bundle is for {0:?}, not for this gateway ({1})")]
    NotForThisGateway(Vec<String>, String),
    #[error(
        "serial {got} is not above {highest}, the highest this gateway accepted (a replayed bundle)"
    )]
    Replayed { got: u64, highest: u64 },
}

fn canonical(meta: &BundleMeta, files: &BTreeMap<String, String>) -> Vec<u8> {
    serde_json::to_vec(&(meta, files)).unwrap_or_default()
}

/// Make a signing key pair in `dir`: `bundle-signing.key` (PKCS#8) and `bundle-signing.pub`.
pub fn make_signing_key(dir: &Path) -> Result<(), BundleError> {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng)
        .map_err(|_| BundleError::Io("cannot generate a key".into()))?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
        .map_err(|_| BundleError::Io("bad key".into()))?;
    write(
        &dir.join("bundle-signing.key"),
        &hex::encode(pkcs8.as_ref()),
        0o600,
    )?;
    write(
        &dir.join("bundle-signing.pub"),
        &hex::encode(pair.public_key().as_ref()),
        0o644,
    )
}

fn write(path: &Path, text: &str, mode: u32) -> Result<(), BundleError> {
    edgeward_config::history::write_atomic_mode(path, text.as_bytes(), mode)
        .map_err(|e| BundleError::Io(format!("{}: {e}", path.display())))
}

pub(crate) fn read_hex(path: &Path) -> Result<Vec<u8>, BundleError> {
    let t = std::fs::read_to_string(path)
        .map_err(|e| BundleError::Io(format!("{}: {e}", path.display())))?;
    hex::decode(t.trim()).map_err(|e| BundleError::Io(format!("{}: {e}", path.display())))
}

/// Build and sign a bundle of every `*.rules` file in `rules_dir`.
pub fn create(
    soc_dir: &Path,
    rules_dir: &Path,
    version: u64,
    mode: &str,
    rollback: bool,
    targets: &[String],
) -> Result<Bundle, BundleError> {
    create_with_canary(soc_dir, rules_dir, version, mode, rollback, targets, 0, &[])
}

/// As [`create`], with a canary period in minutes (0: none) and generated files (`name`,
/// rules text) added to the rules directory's (the C2 indicators' `indicators.rules`).
#[allow(clippy::too_many_arguments)]
pub fn create_with_canary(
    soc_dir: &Path,
    rules_dir: &Path,
    version: u64,
    mode: &str,
    rollback: bool,
    targets: &[String],
    canary_minutes: u32,
    extra_files: &[(String, String)],
) -> Result<Bundle, BundleError> {
    if targets.is_empty() {
        return Err(BundleError::Io("name the target gateways, or all".into()));
    }
    let mut files = BTreeMap::new();
    let entries = std::fs::read_dir(rules_dir)
        .map_err(|e| BundleError::Io(format!("{}: {e}", rules_dir.display())))?;
    for e in entries.flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "rules") {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(&p)
                .map_err(|e| BundleError::Io(format!("{}: {e}", p.display())))?;
            files.insert(name, text);
        }
    }
    for (name, text) in extra_files {
        files.insert(name.clone(), text.clone());
    }
    let meta = BundleMeta {
        version,
        created: Utc::now(),
        mode: mode.to_string(),
        rollback,
        targets: targets.to_vec(),
        serial: next_serial(soc_dir)?,
        canary_minutes,
    };
    let pkcs8 = read_hex(&soc_dir.join("bundle-signing.key"))?;
    let pair = Ed25519KeyPair::from_pkcs8(&pkcs8)
        .map_err(|_| BundleError::Io("the signing key is damaged".into()))?;
    let signature = hex::encode(pair.sign(&canonical(&meta, &files)).as_ref());
    Ok(Bundle {
        meta,
        files,
        signature,
    })
}

/// The next signing serial: above the last one issued (kept in `bundle-serial`) and above the
/// clock in microseconds, so a SOC directory restored from a backup still moves forward.
pub(crate) fn next_serial(soc_dir: &Path) -> Result<u64, BundleError> {
    let path = soc_dir.join("bundle-serial");
    let last: u64 = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0);
    let serial = (last + 1).max(Utc::now().timestamp_micros().max(0) as u64);
    edgeward_config::history::write_atomic(&path, serial.to_string().as_bytes())
        .map_err(|e| BundleError::Io(format!("{}: {e}", path.display())))?;
    Ok(serial)
}

/// What is applied on this gateway.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Applied {
    pub version: Option<u64>,
    pub mode: Option<String>,
    pub applied_at: Option<DateTime<Utc>>,
    pub rules: usize,
    /// The highest bundle serial ever accepted here (kept across rollbacks).
    #[serde(default)]
    pub highest_serial: u64,
    /// The version in force before this one (what an automatic revert goes back to).
    #[serde(default)]
    pub previous: Option<u64>,
    /// Until then every rule of the bundle only alerts (its canary period).
    #[serde(default)]
    pub canary_until: Option<DateTime<Utc>>,
    /// The last bundle this gateway reverted by itself, and why.
    #[serde(default)]
    pub reverted: Option<Reverted>,
}

/// A bundle taken back by the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reverted {
    pub version: u64,
    pub at: DateTime<Utc>,
    pub reason: String,
}

impl Applied {
    /// Whether the bundle in force is still in its canary period at `now`.
    pub fn in_canary(&self, now: DateTime<Utc>) -> bool {
        self.canary_until.is_some_and(|t| now < t)
    }
}

/// Go back from the bundle in force to the one before it (kept as `v<N>/`), recording why;
/// the reverted version is never taken up again (its serial is spent). Returns the version now
/// in force (`None`: no bundle, the local rules).
pub fn revert(
    rules_root: &Path,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Option<u64>, BundleError> {
    let current = applied(rules_root);
    let Some(version) = current.version else {
        return Err(BundleError::Io("no bundle in force to revert".into()));
    };
    let back = current
        .previous
        .filter(|p| rules_root.join(format!("v{p}")).is_dir());
    let now_applied = Applied {
        version: back,
        mode: back.and_then(|p| previous_mode(rules_root, p)),
        applied_at: Some(now),
        rules: 0,
        highest_serial: current.highest_serial,
        previous: None,
        canary_until: None,
        reverted: Some(Reverted {
            version,
            at: now,
            reason: reason.to_string(),
        }),
    };
    edgeward_config::history::write_atomic(
        &rules_root.join("current.json"),
        &serde_json::to_vec_pretty(&now_applied).unwrap_or_default(),
    )
    .map_err(|e| BundleError::Io(e.to_string()))?;
    Ok(back)
}

/// The mode a kept version was applied with (`v<N>/mode`).
fn previous_mode(rules_root: &Path, version: u64) -> Option<String> {
    std::fs::read_to_string(rules_root.join(format!("v{version}")).join("mode"))
        .ok()
        .map(|m| m.trim().to_string())
}

pub fn applied(rules_root: &Path) -> Applied {
    std::fs::read(rules_root.join("current.json"))
        .ok()
        .and_then(|r| serde_json::from_slice(&r).ok())
        .unwrap_or_default()
}

/// Verify, check and apply `bundle` under `rules_root` (`v<N>/` directories, `current.json`).
/// Returns how many rules it holds.
pub fn apply(
    bundle: &Bundle,
    signing_pub: &Path,
    rules_root: &Path,
    host: &str,
) -> Result<usize, BundleError> {
    let key = read_hex(signing_pub)?;
    let sig = hex::decode(&bundle.signature).map_err(|_| BundleError::BadSignature)?;
    UnparsedPublicKey::new(&ED25519, key)
        .verify(&canonical(&bundle.meta, &bundle.files), &sig)
        .map_err(|_| BundleError::BadSignature)?;
    if !bundle.meta.targets_host(host) {
        return Err(BundleError::NotForThisGateway(
            bundle.meta.targets.clone(),
            host.to_string(),
        ));
    }
    let current = applied(rules_root);
    if bundle.meta.serial <= current.highest_serial {
        return Err(BundleError::Replayed {
            got: bundle.meta.serial,
            highest: current.highest_serial,
        });
    }
    if let Some(running) = current.version {
        let newer = bundle.meta.version > running;
        let signed_rollback = bundle.meta.rollback && bundle.meta.version < running;
        if !newer && !signed_rollback {
            return Err(BundleError::NotNewer {
                got: bundle.meta.version,
                running,
            });
        }
    }
    if !matches!(bundle.meta.mode.as_str(), "ids" | "ips") {
        return Err(BundleError::BadMode(bundle.meta.mode.clone()));
    }
    let mut rules = 0;
    for (name, text) in &bundle.files {
        #[allow(clippy::case_sensitive_file_extension_comparisons)] // exactly ".rules"
        let not_rules = !name.ends_with(".rules");
        if not_rules || name.contains('/') || name.contains("..") || name.starts_with('.') {
            return Err(BundleError::BadFileName(name.clone()));
        }
        rules += edgeward_ids::syntax::check_file(name, text)
            .map_err(|e| BundleError::Rules(e.to_string()))?;
    }
    // Then the engine's own parser: a bundle the IDS could not compile is refused, naming the
    // file, line, sid and option.
    let mut loaded = edgeward_ids::loader::LoadedRules::default();
    let mut seen = std::collections::HashSet::new();
    for (name, text) in &bundle.files {
        loaded.add_text(name, text, &edgeward_ids::vars::Vars::default(), &mut seen);
    }
    if let Some(e) = loaded.report.errors.first() {
        return Err(BundleError::Rules(e.to_string()));
    }
    // Stage, then switch: a crash midway leaves the running rules in place.
    let io = |e: std::io::Error| BundleError::Io(e.to_string());
    std::fs::create_dir_all(rules_root).map_err(io)?;
    let staging: PathBuf = rules_root.join(format!("staging-{}", bundle.meta.version));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(io)?;
    for (name, text) in &bundle.files {
        std::fs::write(staging.join(name), text).map_err(io)?;
    }
    std::fs::write(staging.join("mode"), &bundle.meta.mode).map_err(io)?;
    let target = rules_root.join(format!("v{}", bundle.meta.version));
    let _ = std::fs::remove_dir_all(&target);
    std::fs::rename(&staging, &target).map_err(io)?;
    let applied_at = Utc::now();
    let now = Applied {
        version: Some(bundle.meta.version),
        mode: Some(bundle.meta.mode.clone()),
        applied_at: Some(applied_at),
        rules,
        highest_serial: bundle.meta.serial,
        previous: current.version,
        canary_until: (bundle.meta.canary_minutes > 0)
            .then(|| applied_at + chrono::Duration::minutes(bundle.meta.canary_minutes.into())),
        reverted: None,
    };
    edgeward_config::history::write_atomic(
        &rules_root.join("current.json"),
        &serde_json::to_vec_pretty(&now).unwrap_or_default(),
    )
    .map_err(io)?;
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<String> {
        vec!["all".to_string()]
    }

    fn setup() -> (tempfile::TempDir, PathBuf, PathBuf, PathBuf) {
        let t = tempfile::tempdir().unwrap();
        let soc = t.path().join("soc");
        std::fs::create_dir_all(&soc).unwrap();
        make_signing_key(&soc).unwrap();
        let rules = t.path().join("rules-in");
        std::fs::create_dir_all(&rules).unwrap();
        std::fs::write(
            rules.join("local.rules"),
            "alert tcp any any -> any 445 (msg:\"SMB from outside\"; sid:9000001; rev:1;)\n",
        )
        .unwrap();
        let root = t.path().join("applied");
        (t, soc, rules, root)
    }

    #[test]
    fn a_canary_bundle_is_alert_only_until_its_time_and_a_revert_goes_back_to_the_previous_one() {
        let (_t, soc, rules, root) = setup();
        let pubkey = soc.join("bundle-signing.pub");
        apply(
            &create(&soc, &rules, 1, "ids", false, &all()).unwrap(),
            &pubkey,
            &root,
            "gw1",
        )
        .unwrap();
        let b2 = create_with_canary(&soc, &rules, 2, "ips", false, &all(), 30, &[]).unwrap();
        apply(&b2, &pubkey, &root, "gw1").unwrap();
        let a = applied(&root);
        assert_eq!((a.version, a.previous), (Some(2), Some(1)));
        let now = Utc::now();
        assert!(a.in_canary(now));
        assert!(!a.in_canary(now + chrono::Duration::minutes(31)));
        assert_eq!(revert(&root, "alerts jumped", now).unwrap(), Some(1));
        let a = applied(&root);
        assert_eq!(a.version, Some(1));
        assert_eq!(
            a.mode.as_deref(),
            Some("ids"),
            "the previous bundle's own mode"
        );
        let r = a.reverted.unwrap();
        assert_eq!((r.version, r.reason.as_str()), (2, "alerts jumped"));
        // The reverted bundle is not taken up again: its serial is spent.
        assert!(matches!(
            apply(&b2, &pubkey, &root, "gw1"),
            Err(BundleError::Replayed { .. })
        ));
        // The first bundle reverted: back to the local rules.
        assert_eq!(revert(&root, "again", now).unwrap(), None);
        assert_eq!(applied(&root).version, None);
        assert!(revert(&root, "nothing", now).is_err());
    }

    #[test]
    fn signed_bundles_apply_and_everything_else_is_refused() {
        let (t, soc, rules, root) = setup();
        let pubkey = soc.join("bundle-signing.pub");
        let b1 = create(&soc, &rules, 1, "ids", false, &all()).unwrap();
        assert_eq!(apply(&b1, &pubkey, &root, "gw1").unwrap(), 1);
        assert_eq!(applied(&root).version, Some(1));
        assert!(
            matches!(
                apply(&b1, &pubkey, &root, "gw1"),
                Err(BundleError::Replayed { .. })
            ),
            "replay"
        );
        let mut tampered = create(&soc, &rules, 2, "ids", false, &all()).unwrap();
        tampered.files.insert(
            "local.rules".into(),
            "alert tcp any any -> any any (msg:\"evil\"; sid:1;)\n".into(),
        );
        assert!(matches!(
            apply(&tampered, &pubkey, &root, "gw1"),
            Err(BundleError::BadSignature)
        ));
        let other = t.path().join("other");
        std::fs::create_dir_all(&other).unwrap();
        make_signing_key(&other).unwrap();
        assert!(matches!(
            apply(
                &create(&other, &rules, 3, "ids", false, &all()).unwrap(),
                &pubkey,
                &root,
                "gw1"
            ),
            Err(BundleError::BadSignature)
        ));
        std::fs::write(rules.join("broken.rules"), "alert tcp any any -> any any (msg:\"x\"; sid:1;)\nalert tcp any any any any (msg:\"y\"; sid:2;)\n").unwrap();
        let err = apply(
            &create(&soc, &rules, 4, "ids", false, &all()).unwrap(),
            &pubkey,
            &root,
            "gw1",
        )
        .unwrap_err();
        assert!(err.to_string().contains("broken.rules:2:"), "{err}");
        assert_eq!(applied(&root).version, Some(1), "the running rules stay");
        std::fs::remove_file(rules.join("broken.rules")).unwrap();
        assert!(
            apply(
                &create(&soc, &rules, 5, "ids", false, &all()).unwrap(),
                &pubkey,
                &root,
                "gw1"
            )
            .is_ok()
        );
        assert!(
            matches!(
                apply(
                    &create(&soc, &rules, 2, "ids", false, &all()).unwrap(),
                    &pubkey,
                    &root,
                    "gw1"
                ),
                Err(BundleError::NotNewer { .. })
            ),
            "downgrade"
        );
        assert!(
            apply(
                &create(&soc, &rules, 2, "ids", true, &all()).unwrap(),
                &pubkey,
                &root,
                "gw1"
            )
            .is_ok(),
            "signed rollback"
        );
        assert_eq!(applied(&root).version, Some(2));
    }

    /// A bundle signed before a rollback cannot be replayed after it, nor a rollback bundle
    /// twice; a bundle signed for another gateway is refused.
    #[test]
    fn no_bundle_is_accepted_twice_or_by_a_gateway_it_does_not_name() {
        let (_t, soc, rules, root) = setup();
        let pubkey = soc.join("bundle-signing.pub");
        let v1 = create(&soc, &rules, 1, "ids", false, &all()).unwrap();
        let v2 = create(&soc, &rules, 2, "ids", false, &all()).unwrap();
        let back_to_1 = create(&soc, &rules, 1, "ids", true, &all()).unwrap();
        apply(&v1, &pubkey, &root, "gw1").unwrap();
        apply(&v2, &pubkey, &root, "gw1").unwrap();
        apply(&back_to_1, &pubkey, &root, "gw1").unwrap();
        assert_eq!(applied(&root).version, Some(1));
        for (b, what) in [
            (&v2, "v2 after the rollback"),
            (&back_to_1, "the rollback again"),
        ] {
            assert!(
                matches!(
                    apply(b, &pubkey, &root, "gw1"),
                    Err(BundleError::Replayed { .. })
                ),
                "{what}"
            );
        }
        assert_eq!(applied(&root).version, Some(1));
        let for_gw2 = create(&soc, &rules, 3, "ids", false, &["gw2".to_string()]).unwrap();
        assert!(matches!(
            apply(&for_gw2, &pubkey, &root, "gw1"),
            Err(BundleError::NotForThisGateway(..))
        ));
        // The list of targets is signed: editing it breaks the signature.
        let mut widened = for_gw2.clone();
        widened.meta.targets.push("gw1".into());
        assert!(matches!(
            apply(&widened, &pubkey, &root, "gw1"),
            Err(BundleError::BadSignature)
        ));
        let v3 = create(&soc, &rules, 3, "ids", false, &["gw1".to_string()]).unwrap();
        apply(&v3, &pubkey, &root, "gw1").unwrap();
    }
}
