//! System updates in the admin plane: a system administrator uploads a signed bundle (page form
//! or API). The upload is streamed to the data partition, its signed manifest is checked at once
//! (signature, version), and it is queued for the installer unit, which checks every part again
//! before writing the inactive slot and reboots into it. A refused bundle is audited and never
//! queued; nothing here writes a slot.

use edgeward_config::say;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use edgeward_event::Outcome;
use edgeward_update::UpdateError;
use edgeward_update::install::{self, Progress, Status};
use edgeward_update::log::{self, Record};
use edgeward_update::queue::{INCOMING, PROGRESS, QUEUED, Queued, check_and_queue};
use edgeward_update::slots::System;
use serde::Serialize;
use tokio::io::AsyncWriteExt;

use crate::AdminContext;
use crate::guard::Caller;

/// The largest bundle accepted (root filesystem, kernel and initrd).
pub const MAX_BUNDLE: usize = 3 << 30;

/// What the system page and `GET /api/v1/system/update` show.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateView {
    #[serde(flatten)]
    pub status: Status,
    /// A bundle is queued for the installer.
    pub queued: bool,
    /// The installer's progress while it runs.
    pub progress: Option<ProgressView>,
    /// The latest update records, newest first.
    pub recent: Vec<Record>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ProgressView {
    pub phase: String,
    pub done: u64,
    pub total: u64,
}

pub fn view(system: &System) -> UpdateView {
    let (mut records, _) = log::read_from(&system.state, 0);
    records.reverse();
    records.truncate(10);
    UpdateView {
        status: install::status(system),
        queued: system.state.join(QUEUED).exists(),
        progress: std::fs::read(system.state.join(PROGRESS))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok()),
        recent: records,
    }
}

#[derive(Debug)]
pub enum UploadError {
    /// The request itself (no file, broken stream, disk full).
    Request(String),
    /// The bundle was refused.
    Refused(UpdateError),
}

impl UploadError {
    fn status(&self) -> StatusCode {
        match self {
            UploadError::Request(_) => StatusCode::BAD_REQUEST,
            UploadError::Refused(UpdateError::Busy(_)) => StatusCode::CONFLICT,
            UploadError::Refused(_) => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

impl std::fmt::Display for UploadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UploadError::Request(e) => f.write_str(e),
            UploadError::Refused(e) => write!(f, "{e}"),
        }
    }
}

/// Stream the multipart field `bundle` (or the first file) to `incoming.ewu` (0600).
async fn receive(mut mp: Multipart, dir: &Path) -> Result<(PathBuf, u64), UploadError> {
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| UploadError::Request(format!("{}: {e}", dir.display())))?;
    let path = dir.join(INCOMING);
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => return Err(UploadError::Request("no bundle file in the form".into())),
            Err(e) => return Err(UploadError::Request(e.to_string())),
        };
        if field.name() != Some("bundle") && field.file_name().is_none() {
            continue;
        }
        let mut field = field;
        let mut out = tokio::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .await
            .map_err(|e| UploadError::Request(format!("{}: {e}", path.display())))?;
        let mut total = 0u64;
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    total += chunk.len() as u64;
                    out.write_all(&chunk)
                        .await
                        .map_err(|e| UploadError::Request(format!("storing the upload: {e}")))?;
                }
                Ok(None) => break,
                Err(e) => return Err(UploadError::Request(format!("the upload broke off: {e}"))),
            }
        }
        out.sync_all()
            .await
            .map_err(|e| UploadError::Request(format!("storing the upload: {e}")))?;
        return Ok((path, total));
    }
}

/// Receive, check and queue an uploaded bundle, audited either way.
pub async fn upload(
    ctx: &AdminContext,
    caller: &Caller,
    mp: Multipart,
) -> Result<Queued, UploadError> {
    let system = ctx.update.clone();
    let result = match receive(mp, &system.state).await {
        Err(e) => {
            // A broken-off upload leaves nothing behind on the data partition.
            let _ = tokio::fs::remove_file(system.state.join(INCOMING)).await;
            Err(e)
        }
        Ok((incoming, _)) => {
            let (by, source) = (caller.username.clone(), caller.source_str());
            let sys = system.clone();
            let checked =
                tokio::task::spawn_blocking(move || check_and_queue(&sys, &incoming, &by, &source))
                    .await
                    .map_err(|e| UploadError::Request(e.to_string()))?;
            checked.map_err(UploadError::Refused)
        }
    };
    let detail = match &result {
        Ok(q) => say!(
            "update bundle edgeward {}{} ({} bytes) accepted and queued for installation",
            "gói cập nhật edgeward {}{} ({} byte) đã được nhận và chờ cài đặt",
            q.version,
            if q.rollback { " (signed rollback)" } else { "" },
            q.bytes
        ),
        Err(e) => {
            let code = match e {
                UploadError::Refused(r) => r.code(),
                _ => "request",
            };
            edgeward_config::Text::new(
                format!("update bundle refused: {e}"),
                format!(
                    "gói cập nhật bị từ chối: {} `{}`",
                    crate::i18n::Lang::Vi
                        .lookup(&format!("update_code.{code}"))
                        .unwrap_or(""),
                    e.to_string().replace('`', "'")
                ),
            )
        }
    };
    if let Err(UploadError::Refused(e)) = &result {
        let _ = log::append(
            &system.state,
            &Record {
                at: ctx.now(),
                action: "refuse".into(),
                version: None,
                slot: None,
                by: caller.username.clone(),
                reason: e.to_string(),
                code: e.code().into(),
                audited: true,
            },
        );
    }
    ctx.audit(
        &caller.username,
        &caller.source_str(),
        "system.update.upload",
        Outcome::of(result.is_ok()),
        detail,
        None,
    )
    .await;
    result
}

/// `POST /api/v1/system/update` (multipart field `bundle`).
pub async fn api_upload(
    State(ctx): State<Arc<AdminContext>>,
    Extension(caller): Extension<Caller>,
    mp: Multipart,
) -> Response {
    match upload(&ctx, &caller, mp).await {
        Ok(q) => (StatusCode::ACCEPTED, Json(q)).into_response(),
        Err(e) => {
            let code = match &e {
                UploadError::Refused(r) => r.code(),
                UploadError::Request(_) => "request",
            };
            (
                e.status(),
                Json(serde_json::json!({ "error": e.to_string(), "code": code })),
            )
                .into_response()
        }
    }
}

/// `GET /api/v1/system/update`.
pub async fn api_status(State(ctx): State<Arc<AdminContext>>) -> Json<UpdateView> {
    let system = ctx.update.clone();
    let view = tokio::task::spawn_blocking(move || view(&system)).await;
    Json(view.unwrap_or_else(|_| UpdateView {
        status: Status {
            running_version: None,
            running_slot: None,
            problem: Some("status unavailable".into()),
            entries: Vec::new(),
        },
        queued: false,
        progress: None,
        recent: Vec::new(),
    }))
}

impl From<Progress> for ProgressView {
    fn from(p: Progress) -> Self {
        ProgressView {
            phase: p.phase.into(),
            done: p.done,
            total: p.total,
        }
    }
}
