//! Server-rendered pages of the admin UI, one module per area.

pub mod accounts;
pub mod auth;
pub mod config;
pub mod devices;
pub mod ids;
pub mod status;
pub mod system;
pub mod wifi;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::changes::CheckReport;
use super::i18n::{Lang, known_key, problem_kind, show};

/// `?msg=key` after a redirect: a known text key, nothing else.
#[derive(Debug, Default, Deserialize)]
pub struct Msg {
    pub msg: Option<String>,
}

impl Msg {
    pub fn key(&self) -> Option<&'static str> {
        self.msg.as_deref().and_then(known_key)
    }
}

/// A refused action as a page in the reader's language.
pub fn refused_page(lang: Lang, status: StatusCode, text: &edgeward_config::Text) -> Response {
    (
        status,
        crate::layout::bare_page_markup(lang, lang.t("common.error"), show(lang, text)),
    )
        .into_response()
}

/// An action that failed below the UI (a file, the daemon, a parser): a sentence in the
/// reader's language with the technical detail quoted as it came.
pub fn failed_page(lang: Lang, status: StatusCode, detail: &str) -> Response {
    let detail = detail.replace('`', "'");
    refused_page(
        lang,
        status,
        &edgeward_config::say!(
            "Not done: {detail}",
            "Không thực hiện được thao tác. Chi tiết kỹ thuật: `{detail}`"
        ),
    )
}

/// Redirect after a successful POST, with a message key.
pub fn done(path: &str, msg: &'static str) -> Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{sep}msg={msg}")).into_response()
}

/// The problems of a refused form change as (field, message): the field of item `index` of the
/// list `section` a problem concerns, or "" when it concerns something else.
pub fn field_problems(
    report: &CheckReport,
    section: &str,
    index: usize,
    lang: Lang,
) -> Vec<(String, String)> {
    let prefix = format!("{section}[{index}]");
    report
        .problems
        .iter()
        .map(|p| {
            let field = p
                .path
                .strip_prefix(&prefix)
                .and_then(|r| r.strip_prefix('.'))
                .unwrap_or("")
                .to_string();
            (
                field,
                format!(
                    "{} — {}",
                    problem_kind(lang, p.code),
                    p.text.get(lang.cfg())
                ),
            )
        })
        .collect()
}
