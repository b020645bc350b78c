//! Who is asking: the [`Visitor`] every handler sees, the logged-in [`Caller`] behind a session,
//! and what a route needs ([`Access`]). Plain data, shared by the guard, the pages, the API and
//! the change checks.

use std::net::IpAddr;

use super::accounts::Stage;
use super::i18n::Lang;
use super::roles::{Permission, Role};

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (login page, static files).
    Public,
    /// A session at any stage of the first login (logout, session info).
    Session,
    /// A session at one of these stages only (each first-login step at its own stage).
    Stages(&'static [Stage]),
    /// A completed login whose role has the permission.
    Perm(Permission),
    /// A completed login allowed to change at least one configuration section; the handler
    /// checks the sections the change touches.
    AnyChange,
}

pub const CHANGE_PERMISSIONS: [Permission; 4] = [
    Permission::ManageNetwork,
    Permission::ManageDevices,
    Permission::ManageWifi,
    Permission::ManageSystem,
];

impl Access {
    pub fn allows(self, role: Role) -> bool {
        match self {
            Access::Public | Access::Session | Access::Stages(_) => true,
            Access::Perm(p) => role.can(p),
            Access::AnyChange => CHANGE_PERMISSIONS.iter().any(|p| role.can(*p)),
        }
    }
}

/// Who is asking, for every handler (also before login).
#[derive(Debug, Clone)]
pub struct Visitor {
    pub lang: Lang,
    pub source: IpAddr,
    pub api: bool,
}

/// A logged-in caller, for handlers behind `Session`, `Perm` and `AnyChange`.
#[derive(Debug, Clone)]
pub struct Caller {
    pub session_id: String,
    pub username: String,
    pub role: Role,
    pub stage: Stage,
    pub csrf: String,
    pub lang: Lang,
    pub source: IpAddr,
    /// The running configuration version when the request came in: a form change (devices,
    /// Wi-Fi) made from it is applied only if nothing else was applied since.
    pub seen_version: u64,
}

impl Caller {
    pub fn can(&self, p: Permission) -> bool {
        self.role.can(p)
    }
    pub fn source_str(&self) -> String {
        self.source.to_string()
    }
}
