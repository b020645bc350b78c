//! Login sessions: random opaque ids in a `Secure; HttpOnly; SameSite=Strict` cookie, a CSRF
//! token per session, idle timeout and absolute lifetime from the account policy; and the
//! per-source-address limit on login attempts.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use ring::rand::SecureRandom;

use super::accounts::Stage;

pub const COOKIE: &str = "ew_session";
/// The pre-login cookie that carries the login form's CSRF token (double submit).
pub const PRELOGIN_COOKIE: &str = "ew_pre";

/// A random token of 32 bytes, hex.
pub fn random_token() -> String {
    let mut raw = [0u8; 32];
    // SystemRandom only fails when the OS has no randomness; then no session can be safe.
    assert!(
        ring::rand::SystemRandom::new().fill(&mut raw).is_ok(),
        "the operating system gives no randomness"
    );
    hex::encode(raw)
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub username: String,
    pub stage: Stage,
    pub csrf: String,
    pub source: IpAddr,
    pub created: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// A TOTP secret shown for enrolment, kept until the user proves it with a code.
    pub pending_totp: Option<String>,
}

/// Why a session is not valid any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expired {
    Idle,
    Lifetime,
    Unknown,
}

#[derive(Default)]
pub struct SessionTable {
    sessions: HashMap<String, Session>,
}

impl SessionTable {
    pub fn create(
        &mut self,
        username: &str,
        stage: Stage,
        source: IpAddr,
        now: DateTime<Utc>,
    ) -> Session {
        let s = Session {
            id: random_token(),
            username: username.to_string(),
            stage,
            csrf: random_token(),
            source,
            created: now,
            last_seen: now,
            pending_totp: None,
        };
        self.sessions.insert(s.id.clone(), s.clone());
        s
    }

    /// The session `id` if it is still valid; touches its idle timer.
    pub fn touch(
        &mut self,
        id: &str,
        idle: Duration,
        lifetime: Duration,
        now: DateTime<Utc>,
    ) -> Result<Session, Expired> {
        let Some(s) = self.sessions.get_mut(id) else {
            return Err(Expired::Unknown);
        };
        let why = if now - s.created >= lifetime {
            Some(Expired::Lifetime)
        } else if now - s.last_seen >= idle {
            Some(Expired::Idle)
        } else {
            None
        };
        if let Some(why) = why {
            self.sessions.remove(id);
            return Err(why);
        }
        s.last_seen = now;
        Ok(s.clone())
    }

    pub fn update(&mut self, id: &str, f: impl FnOnce(&mut Session)) {
        if let Some(s) = self.sessions.get_mut(id) {
            f(s);
        }
    }

    /// Replace the session id (after a stage change), keeping the rest: no session fixation.
    pub fn rotate(&mut self, id: &str) -> Option<Session> {
        let mut s = self.sessions.remove(id)?;
        s.id = random_token();
        s.csrf = random_token();
        self.sessions.insert(s.id.clone(), s.clone());
        Some(s)
    }

    pub fn remove(&mut self, id: &str) -> Option<Session> {
        self.sessions.remove(id)
    }

    /// End every session of `username` (role changed, password reset, account disabled).
    pub fn end_all_of(&mut self, username: &str) -> usize {
        let before = self.sessions.len();
        self.sessions.retain(|_, s| s.username != username);
        before - self.sessions.len()
    }

    /// End every other session of `username` (its password or second factor changed).
    pub fn end_others_of(&mut self, username: &str, keep: &str) -> usize {
        let before = self.sessions.len();
        self.sessions
            .retain(|id, s| s.username != username || id == keep);
        before - self.sessions.len()
    }

    pub fn active(&self) -> impl Iterator<Item = &Session> {
        self.sessions.values()
    }

    /// Forget sessions past their limits.
    pub fn sweep(&mut self, idle: Duration, lifetime: Duration, now: DateTime<Utc>) {
        self.sessions
            .retain(|_, s| now - s.created < lifetime && now - s.last_seen < idle);
    }
}

/// At most `max` login attempts per source address in a sliding `window`.
pub struct SourceLimiter {
    max: usize,
    window: Duration,
    seen: HashMap<IpAddr, VecDeque<DateTime<Utc>>>,
}

impl SourceLimiter {
    pub fn new(max: usize, window: Duration) -> Self {
        SourceLimiter {
            max,
            window,
            seen: HashMap::new(),
        }
    }

    /// Count an attempt; false when the source is over its limit (the attempt is not made).
    pub fn allow(&mut self, source: IpAddr, now: DateTime<Utc>) -> bool {
        if self.seen.len() > 10_000 {
            let window = self.window;
            self.seen
                .retain(|_, q| q.back().is_some_and(|t| now - *t < window));
        }
        let q = self.seen.entry(source).or_default();
        while q.front().is_some_and(|t| now - *t >= self.window) {
            q.pop_front();
        }
        if q.len() >= self.max {
            return false;
        }
        q.push_back(now);
        true
    }
}

pub use crate::ct::constant_time_eq;

/// Constant-time comparison of a presented CSRF token with the session's.
pub fn csrf_matches(expected: &str, presented: Option<&str>) -> bool {
    match presented {
        Some(p) if !expected.is_empty() => constant_time_eq(expected.as_bytes(), p.as_bytes()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }
    const SRC: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 10, 99, 10));

    #[test]
    fn idle_timeout_and_absolute_lifetime() {
        let mut t = SessionTable::default();
        let (idle, life) = (Duration::minutes(15), Duration::hours(8));
        let s = t.create("lan", Stage::Full, SRC, t0());
        // Active every 10 minutes: survives past the idle timeout...
        for i in 1..=47 {
            assert!(
                t.touch(&s.id, idle, life, t0() + Duration::minutes(10 * i))
                    .is_ok()
            );
        }
        // ...but not past the absolute lifetime.
        assert_eq!(
            t.touch(&s.id, idle, life, t0() + Duration::minutes(480))
                .unwrap_err(),
            Expired::Lifetime
        );
        let s = t.create("lan", Stage::Full, SRC, t0());
        assert_eq!(
            t.touch(&s.id, idle, life, t0() + Duration::minutes(15))
                .unwrap_err(),
            Expired::Idle
        );
        assert_eq!(
            t.touch(&s.id, idle, life, t0()).unwrap_err(),
            Expired::Unknown,
            "an expired session is gone"
        );
    }

    #[test]
    fn rotation_and_logout_everywhere() {
        let mut t = SessionTable::default();
        let a = t.create("lan", Stage::ChangePassword, SRC, t0());
        let b = t.rotate(&a.id).unwrap();
        assert_ne!(a.id, b.id);
        assert_ne!(a.csrf, b.csrf);
        assert!(
            t.touch(&a.id, Duration::hours(1), Duration::hours(1), t0())
                .is_err()
        );
        t.create("lan", Stage::Full, SRC, t0());
        t.create("minh", Stage::Full, SRC, t0());
        assert_eq!(t.end_all_of("lan"), 2);
        assert_eq!(t.active().count(), 1);
    }

    #[test]
    fn csrf_tokens_compare_exactly() {
        let tok = random_token();
        assert!(csrf_matches(&tok, Some(&tok)));
        assert!(!csrf_matches(&tok, Some(&tok[1..])));
        assert!(!csrf_matches(&tok, None));
        assert!(!csrf_matches("", Some("")));
    }

    #[test]
    fn per_source_limit_slides() {
        let mut l = SourceLimiter::new(3, Duration::minutes(1));
        let other: IpAddr = "10.10.99.11".parse().unwrap();
        assert!(l.allow(SRC, t0()));
        assert!(l.allow(SRC, t0()));
        assert!(l.allow(SRC, t0() + Duration::seconds(30)));
        assert!(!l.allow(SRC, t0() + Duration::seconds(40)));
        assert!(l.allow(other, t0() + Duration::seconds(40)), "per source");
        assert!(l.allow(SRC, t0() + Duration::seconds(61)));
    }
}
