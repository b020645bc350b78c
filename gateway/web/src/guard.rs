//! The checks in front of every route: session (idle timeout, absolute lifetime), first-login
//! stage, role permission, CSRF token and Origin on state-changing requests; and the response
//! headers every page gets (HSTS, CSP without inline scripts, frame-ancestors none).

use edgeward_config::say;
use edgeward_event::Outcome;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Duration;

use super::accounts::Stage;
pub use super::caller::{Access, CHANGE_PERMISSIONS, Caller, Visitor};
use super::i18n::Lang;
use super::session::{self, COOKIE};
use super::tls::Peer;
use super::{AdminContext, lock};

/// Largest request body (certificate and backup uploads, CSV imports, configuration texts).
pub const BODY_LIMIT: usize = 2 << 20;

/// The value of cookie `name`.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

pub fn lang_of(headers: &HeaderMap) -> Lang {
    cookie(headers, "ew_lang")
        .and_then(|l| Lang::parse(&l))
        .unwrap_or_default()
}

/// `Set-Cookie` for a session (or its removal with `None`).
pub fn session_cookie(id: Option<&str>) -> HeaderValue {
    let v = match id {
        Some(id) => format!("{COOKIE}={id}; Path=/; Secure; HttpOnly; SameSite=Strict"),
        None => format!("{COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"),
    };
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn source_of(req: &Request) -> IpAddr {
    req.extensions()
        .get::<ConnectInfo<Peer>>()
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0.0.ip())
}

/// A JSON or HTML error, as fits the request.
pub fn deny(api: bool, lang: Lang, status: StatusCode, key: &'static str) -> Response {
    if api {
        (
            status,
            axum::Json(serde_json::json!({ "error": Lang::En.t(key), "code": key })),
        )
            .into_response()
    } else {
        (
            status,
            super::layout::bare_page(lang, lang.t("common.error"), lang.t(key)),
        )
            .into_response()
    }
}

fn stage_page(stage: Stage) -> &'static str {
    match stage {
        Stage::ChangePassword => "/password",
        Stage::EnrolTotp => "/totp/enrol",
        Stage::VerifyTotp => "/totp/verify",
        Stage::Full => "/dashboard",
    }
}

/// The CSRF token presented with a request: header, query `_csrf`, or url-encoded form field.
/// Returns the (re-assembled) request so the handler can still read the body.
async fn presented_csrf(req: Request) -> Result<(Option<String>, Request), Response> {
    if let Some(v) = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
    {
        let v = v.to_string();
        return Ok((Some(v), req));
    }
    if let Some(q) = req.uri().query() {
        if let Some(v) = form_urlencoded_value(q.as_bytes(), "_csrf") {
            return Ok((Some(v), req));
        }
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok((None, req));
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE.into_response())?;
    let token = form_urlencoded_value(&bytes, "_csrf");
    Ok((token, Request::from_parts(parts, Body::from(bytes))))
}

fn form_urlencoded_value(raw: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(raw)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// A browser's cross-site POST carries a foreign Origin (or Referer): refuse it.
fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|o| o.to_str().ok());
    match (origin, host) {
        (None, _) => true, // not a browser form post (API clients): the token decides
        (Some("null"), _) => false,
        (Some(o), Some(h)) => {
            let rest = o
                .strip_prefix("https://")
                .or_else(|| o.strip_prefix("http://"))
                .unwrap_or("");
            let authority = rest.split('/').next().unwrap_or("");
            authority.eq_ignore_ascii_case(h)
        }
        (Some(_), None) => false,
    }
}

/// The guard in front of each route (state: the context and what the route needs).
pub async fn check(
    State((ctx, access)): State<(Arc<AdminContext>, Access)>,
    mut req: Request,
    next: Next,
) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let lang = lang_of(req.headers());
    let source = source_of(&req);
    let changing = !matches!(*req.method(), Method::GET | Method::HEAD);
    req.extensions_mut().insert(Visitor { lang, source, api });
    if changing && !same_origin(req.headers()) {
        return deny(api, lang, StatusCode::FORBIDDEN, "err.csrf");
    }
    if access == Access::Public {
        return next.run(req).await;
    }
    let policy = ctx.policy();
    let Some(id) = cookie(req.headers(), COOKIE) else {
        return login_required(api, lang, false);
    };
    let now = ctx.now();
    let touched = lock(&ctx.sessions).touch(
        &id,
        Duration::minutes(policy.session_idle_minutes.max(1).into()),
        Duration::hours(policy.session_max_hours.max(1).into()),
        now,
    );
    let session = match touched {
        Ok(s) => s,
        Err(why) => {
            if why != session::Expired::Unknown {
                ctx.audit(
                    "-",
                    &source.to_string(),
                    "auth.session_expired",
                    Outcome::Success,
                    match why {
                        session::Expired::Idle => say!(
                            "Idle",
                            "phiên hết hạn do không thao tác quá thời gian cho phép"
                        ),
                        session::Expired::Lifetime | session::Expired::Unknown => {
                            say!("Lifetime", "phiên hết hạn do đã đạt thời gian tối đa")
                        }
                    },
                    None,
                )
                .await;
            }
            return login_required(api, lang, true);
        }
    };
    ctx.refresh_accounts().await;
    let role = {
        let accounts = lock(&ctx.accounts);
        match accounts.get(&session.username) {
            Some(a) if a.usable(now) => a.role,
            _ => {
                drop(accounts);
                lock(&ctx.sessions).remove(&id);
                return login_required(api, lang, true);
            }
        }
    };
    let caller = Caller {
        session_id: session.id.clone(),
        username: session.username.clone(),
        role,
        stage: session.stage,
        csrf: session.csrf.clone(),
        lang,
        source,
        seen_version: ctx.live.load().version,
    };
    let stage_allowed = match access {
        Access::Session => true,
        Access::Stages(stages) => stages.contains(&session.stage),
        _ => session.stage == Stage::Full,
    };
    if !stage_allowed {
        return if api {
            (
                StatusCode::FORBIDDEN,
                axum::Json(serde_json::json!({
                    "error": "finish the first login in the web UI first",
                    "code": "auth.stage",
                    "stage": session.stage,
                })),
            )
                .into_response()
        } else {
            Redirect::to(stage_page(session.stage)).into_response()
        };
    }
    if !access.allows(role) {
        ctx.audit(
            &caller.username,
            &caller.source_str(),
            "auth.forbidden",
            Outcome::Failure,
            edgeward_config::Text::new(
                format!(
                    "{} {} needs {access:?}; role {}",
                    req.method(),
                    req.uri().path(),
                    role.as_str()
                ),
                format!(
                    "`{} {}` cần quyền khác; vai trò hiện tại: {}",
                    req.method(),
                    req.uri().path(),
                    Lang::Vi.t(crate::layout::role_key(role))
                ),
            ),
            None,
        )
        .await;
        return deny(api, lang, StatusCode::FORBIDDEN, "err.forbidden");
    }
    if changing {
        let (token, rebuilt) = match presented_csrf(req).await {
            Ok(x) => x,
            Err(r) => return r,
        };
        req = rebuilt;
        if !session::csrf_matches(&session.csrf, token.as_deref()) {
            return deny(api, lang, StatusCode::FORBIDDEN, "err.csrf");
        }
    }
    req.extensions_mut().insert(caller);
    next.run(req).await
}

fn login_required(api: bool, lang: Lang, expired: bool) -> Response {
    if api {
        deny(true, lang, StatusCode::UNAUTHORIZED, "login.expired")
    } else if expired {
        Redirect::to("/login?expired=1").into_response()
    } else {
        Redirect::to("/login").into_response()
    }
}

/// Security headers on every response; `no-store` on everything but static files.
pub async fn headers(req: Request, next: Next) -> Response {
    let is_static = req.uri().path().starts_with("/static/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !is_static {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// Uploads that may take longer than a page: a system update bundle (hundreds of megabytes).
const LONG_UPLOADS: [&str; 2] = ["/system/update", "/api/v1/system/update"];

/// Every request is answered within 30 s (an update upload within 30 minutes).
pub async fn time_limit(req: Request, next: Next) -> Response {
    let long = req.method() == axum::http::Method::POST && LONG_UPLOADS.contains(&req.uri().path());
    let limit = std::time::Duration::from_secs(if long { 30 * 60 } else { 30 });
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "request took too long").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_must_match_host() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("10.10.99.1"));
        assert!(same_origin(&h), "no Origin: API client");
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://10.10.99.1"),
        );
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_origin(&h));
        h.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(!same_origin(&h));
    }

    #[test]
    fn cookies_parse() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; ew_session=abc; ew_lang=en"),
        );
        assert_eq!(cookie(&h, "ew_session").as_deref(), Some("abc"));
        assert_eq!(lang_of(&h), Lang::En);
        assert_eq!(cookie(&h, "missing"), None);
    }
}
