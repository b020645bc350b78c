//! Roles and what each may do (separation of duties, 000 §6.3.b): no role holds every security
//! function, and every route names the permission it needs.

use serde::{Deserialize, Serialize};

/// The role of an account. One account holds one role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads status, configuration and alerts; changes nothing.
    Viewer,
    /// Everyday work: devices, Wi-Fi passwords, acknowledging alerts.
    Operator,
    /// Firewall, zones and policies, IDS, uplinks, the SOC link; reads the audit log.
    SecurityAdmin,
    /// Accounts, certificates, updates, backups, the appliance's own settings; reads the audit log.
    SystemAdmin,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Viewer,
        Role::Operator,
        Role::SecurityAdmin,
        Role::SystemAdmin,
    ];

    /// Administrators: longer passwords, 60-day expiry, mandatory TOTP.
    pub fn is_admin(self) -> bool {
        matches!(self, Role::SecurityAdmin | Role::SystemAdmin)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::SecurityAdmin => "security_admin",
            Role::SystemAdmin => "system_admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn permissions(self) -> &'static [Permission] {
        use Permission::{
            AckAlerts, ManageAccounts, ManageBackups, ManageCertificates, ManageDevices,
            ManageNetwork, ManageSystem, ManageWifi, ViewAudit, ViewConfig, ViewStatus,
        };
        match self {
            Role::Viewer => &[ViewStatus, ViewConfig],
            Role::Operator => &[ViewStatus, ViewConfig, ManageDevices, ManageWifi, AckAlerts],
            Role::SecurityAdmin => &[
                ViewStatus,
                ViewConfig,
                ViewAudit,
                ManageNetwork,
                ManageDevices,
                AckAlerts,
            ],
            Role::SystemAdmin => &[
                ViewStatus,
                ViewConfig,
                ViewAudit,
                ManageAccounts,
                ManageCertificates,
                ManageBackups,
                ManageSystem,
            ],
        }
    }

    pub fn can(self, p: Permission) -> bool {
        self.permissions().contains(&p)
    }
}

/// One thing a route may need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    ViewStatus,
    ViewConfig,
    ViewAudit,
    AckAlerts,
    ManageDevices,
    ManageWifi,
    /// Interfaces, zones, services, address groups, policies, firewall, port forwards, uplinks,
    /// IDS, SOC link.
    ManageNetwork,
    ManageAccounts,
    ManageCertificates,
    ManageBackups,
    /// The appliance's identity, management ports, account policy, log retention.
    ManageSystem,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ViewStatus => "view_status",
            Permission::ViewConfig => "view_config",
            Permission::ViewAudit => "view_audit",
            Permission::AckAlerts => "ack_alerts",
            Permission::ManageDevices => "manage_devices",
            Permission::ManageWifi => "manage_wifi",
            Permission::ManageNetwork => "manage_network",
            Permission::ManageAccounts => "manage_accounts",
            Permission::ManageCertificates => "manage_certificates",
            Permission::ManageBackups => "manage_backups",
            Permission::ManageSystem => "manage_system",
        }
    }
}

/// The permission needed to change a top-level section of the configuration.
pub fn section_permission(section: &str) -> Permission {
    match section {
        "devices" => Permission::ManageDevices,
        "wifi" => Permission::ManageWifi,
        "gateway" | "management" | "admin" | "logs" => Permission::ManageSystem,
        // Where the admin UI answers opens the firewall: a network decision.
        "management.admin_zones" => Permission::ManageNetwork,
        // interfaces, zones, services, address_groups, policies, firewall, uplinks,
        // port_forwards, ids, soc — and anything unknown: the strictest owner.
        _ => Permission::ManageNetwork,
    }
}

/// Every top-level section of the model, in file order.
pub const SECTIONS: [&str; 16] = [
    "gateway",
    "interfaces",
    "zones",
    "services",
    "address_groups",
    "policies",
    "firewall",
    "uplinks",
    "port_forwards",
    "devices",
    "management",
    "admin",
    "logs",
    "soc",
    "ids",
    "wifi",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_role_holds_every_security_function() {
        let security = [
            Permission::ManageNetwork,
            Permission::ManageAccounts,
            Permission::ManageBackups,
            Permission::ViewAudit,
        ];
        for role in Role::ALL {
            assert!(
                !security.iter().all(|p| role.can(*p)),
                "{role:?} holds every security function"
            );
        }
        assert!(!Role::SecurityAdmin.can(Permission::ManageAccounts));
        assert!(!Role::SystemAdmin.can(Permission::ManageNetwork));
    }

    #[test]
    fn viewer_changes_nothing() {
        for p in Role::Viewer.permissions() {
            assert!(matches!(p, Permission::ViewStatus | Permission::ViewConfig));
        }
    }

    #[test]
    fn sections_have_owners_and_roles_parse() {
        assert_eq!(section_permission("devices"), Permission::ManageDevices);
        assert_eq!(section_permission("policies"), Permission::ManageNetwork);
        assert_eq!(section_permission("admin"), Permission::ManageSystem);
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
    }
}
