//! Server-rendered pages of the admin UI, one module per area.

pub mod accounts;
pub mod auth;
pub mod config;
pub mod devices;
pub mod status;
pub mod system;
pub mod wifi;

use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::i18n::known_key;

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

/// Redirect after a successful POST, with a message key.
pub fn done(path: &str, msg: &'static str) -> Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{sep}msg={msg}")).into_response()
}
