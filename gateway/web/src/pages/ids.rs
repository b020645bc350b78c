//! The IDS page's actions: downloading an alert's evidence pcap (audited; the SHA-256 in the
//! response matches the one the alert event carries) and turning a rule into a drop, an
//! alert-only rule, disabling it or clearing that override — each a configuration change of the
//! `[ids]` section with history and commit-confirm, like any other.

use edgeward_config::say;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use edgeward_event::Outcome;
use serde::Deserialize;

use crate::AdminContext;
use crate::changes;
use crate::guard::Caller;
use crate::{ApplyOutcome, pages};

/// A rule override the IDS page offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Override {
    /// Drop in IPS mode (`ids.drop_sids`).
    Drop,
    /// Alert only, even if the rule says drop (`ids.alert_only_sids`).
    AlertOnly,
    /// Not loaded at all (`ids.disabled_sids`).
    Disable,
    /// None of the above.
    Clear,
}

impl Override {
    /// From the form's `action` field.
    pub fn parse(text: &str) -> Option<Override> {
        match text {
            "drop" => Some(Override::Drop),
            "alert" => Some(Override::AlertOnly),
            "disable" => Some(Override::Disable),
            "clear" => Some(Override::Clear),
            _ => None,
        }
    }

    fn key(self) -> Option<&'static str> {
        match self {
            Override::Drop => Some("drop_sids"),
            Override::AlertOnly => Some("alert_only_sids"),
            Override::Disable => Some("disabled_sids"),
            Override::Clear => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Override::Drop => "drop",
            Override::AlertOnly => "alert only",
            Override::Disable => "disabled",
            Override::Clear => "no override",
        }
    }
}

const LISTS: [&str; 3] = ["drop_sids", "alert_only_sids", "disabled_sids"];

/// The configuration text with `sid` in exactly the override list `what` names (removed from
/// the others), everything else kept as written.
pub fn with_override(text: &str, sid: u32, what: Override) -> Result<String, String> {
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| format!("{e}"))?;
    let ids = doc
        .entry("ids")
        .or_insert(toml_edit::table())
        .as_table_mut()
        .ok_or("`ids` is not a table")?;
    for key in LISTS {
        let wanted = what.key() == Some(key);
        let array = ids
            .entry(key)
            .or_insert(toml_edit::value(toml_edit::Array::new()))
            .as_array_mut()
            .ok_or_else(|| format!("`ids.{key}` is not a list"))?;
        array.retain(|v| v.as_integer() != Some(i64::from(sid)));
        if wanted {
            array.push(i64::from(sid));
        }
    }
    Ok(doc.to_string())
}

#[derive(Debug, Deserialize)]
pub struct OverrideForm {
    pub action: String,
}

/// POST `/ids/rules/{sid}`: apply an override as a configuration change awaiting confirmation.
pub async fn set_override(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Path(sid): Path<u32>,
    Form(f): Form<OverrideForm>,
) -> Response {
    let Some(what) = Override::parse(&f.action) else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "action: `{}` is not one of drop, alert, disable, clear",
                f.action
            ),
        )
            .into_response();
    };
    let live = ctx.live.load_full();
    if live.version != caller.seen_version {
        return (
            StatusCode::CONFLICT,
            changes::conflict(caller.seen_version, live.version),
        )
            .into_response();
    }
    let candidate = match with_override(&live.text, sid, what) {
        Ok(t) => t,
        Err(e) => return super::failed_page(caller.lang, StatusCode::UNPROCESSABLE_ENTITY, &e),
    };
    let report = changes::check(&live.text, &candidate, caller.role, None);
    if !report.valid || !report.forbidden_sections.is_empty() {
        let mut why = super::devices::problems_text(&report.problems);
        for s in &report.forbidden_sections {
            why.en.push_str(&format!("; {s}: not yours to change"));
            why.vi.push_str(&format!(
                "; `{s}`: vai trò của bạn không được thay đổi mục này"
            ));
        }
        return super::refused_page(caller.lang, StatusCode::UNPROCESSABLE_ENTITY, &why);
    }
    let reason = format!("IDS page: rule sid {sid} set to {}", what.name());
    match changes::submit(
        &ctx,
        &caller.username,
        &candidate,
        &reason,
        None,
        true,
        caller.seen_version,
    )
    .await
    {
        Ok(ApplyOutcome::Applied { .. } | ApplyOutcome::Unchanged) => {
            pages::done("/ids", "common.saved_confirm")
        }
        Ok(ApplyOutcome::Refused { stage, message }) => super::failed_page(
            caller.lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("[{stage}] {message}"),
        ),
        Err(e) => super::failed_page(caller.lang, StatusCode::CONFLICT, &e),
    }
}

/// GET `/ids/evidence/{id}`: the evidence pcap, decrypted, with its SHA-256 in
/// `X-Evidence-SHA256`; every download is audited.
pub async fn evidence(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    use edgeward_store::evidence::{EvidenceStore, valid_id};
    if !valid_id(&id) {
        return (StatusCode::NOT_FOUND, "no such evidence").into_response();
    }
    let (store_dir, key_dir, wanted) = (ctx.store_dir.clone(), ctx.key_dir.clone(), id.clone());
    let read = tokio::task::spawn_blocking(move || {
        let keys = edgeward_store::store::Keyring::open(&key_dir).map_err(|e| e.to_string())?;
        EvidenceStore::new(&edgeward_store::evidence::dir(&store_dir), keys)
            .get(&wanted)
            .map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    let (outcome, detail) = match &read {
        Ok(pcap) => (
            Outcome::Success,
            say!(
                "evidence {id} downloaded ({} bytes, sha256 {})",
                "đã tải bằng chứng {id} ({} byte, sha256 {})",
                pcap.len(),
                EvidenceStore::digest(pcap)
            ),
        ),
        Err(e) => (
            Outcome::Failure,
            say!(
                "evidence {id} not available: {e}",
                "không có bằng chứng {id}: `{e}`"
            ),
        ),
    };
    ctx.audit(
        &caller.username,
        &caller.source_str(),
        "ids.evidence",
        outcome,
        detail,
        None,
    )
    .await;
    match read {
        Ok(pcap) => {
            let sha = EvidenceStore::digest(&pcap);
            (
                [
                    (
                        header::CONTENT_TYPE,
                        "application/vnd.tcpdump.pcap".to_string(),
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{id}.pcap\""),
                    ),
                    (header::HeaderName::from_static("x-evidence-sha256"), sha),
                ],
                pcap,
            )
                .into_response()
        }
        Err(_) => (StatusCode::NOT_FOUND, "no such evidence").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_override_moves_the_sid_between_lists_and_keeps_the_rest_of_the_text() {
        let text = "# agency\n[gateway]\nhost_id = \"x\"\n\n[ids]\nmode = \"ips\" # inline\ndrop_sids = [1, 2]\n";
        let t = with_override(text, 2, Override::AlertOnly).unwrap();
        assert!(t.contains("mode = \"ips\" # inline"), "{t}");
        assert!(t.contains("# agency"));
        let c: toml::Value = toml::from_str(&t).unwrap();
        assert_eq!(c["ids"]["drop_sids"].as_array().unwrap().len(), 1);
        assert_eq!(
            c["ids"]["alert_only_sids"].as_array().unwrap()[0].as_integer(),
            Some(2)
        );
        let t = with_override(&t, 2, Override::Clear).unwrap();
        let c: toml::Value = toml::from_str(&t).unwrap();
        for k in LISTS {
            assert!(
                !c["ids"][k]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|v| v.as_integer() == Some(2)),
                "{k}"
            );
        }
        // No [ids] section yet: one is made.
        let t = with_override("[gateway]\nhost_id = \"x\"\n", 7, Override::Drop).unwrap();
        let c: toml::Value = toml::from_str(&t).unwrap();
        assert_eq!(
            c["ids"]["drop_sids"].as_array().unwrap()[0].as_integer(),
            Some(7)
        );
        assert_eq!(Override::parse("explode"), None);
    }
}
