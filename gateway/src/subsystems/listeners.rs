//! The management-plane listeners — `/metrics` and the HTTPS admin UI — bound to the addresses of
//! the admin zones' interfaces and rebound when those change. An address that cannot be bound is
//! reported; the change stands.

use std::net::SocketAddr;

use edgeward_config::Config;
use edgeward_event::model::Level;

use crate::admin::AdminServer;
use crate::metrics::MetricsServer;
use crate::reconcile::{Desired, Report, Step, Subsystem};

fn report(failed: Vec<(SocketAddr, String)>) -> Report {
    failed.into_iter().fold(Report::quiet(), |r, (addr, why)| {
        r.note(Level::Warning, format!("cannot listen on {addr}: {why}"))
    })
}

/// `/metrics` on the admin zones, port `management.metrics_port`.
pub struct Metrics(pub MetricsServer);

/// `/metrics` listens on the addresses of the admin zones' interfaces.
pub fn metrics_addrs(config: &Config) -> Vec<SocketAddr> {
    crate::admin::admin_zone_addrs(config, config.management.metrics_port)
}

impl Subsystem for Metrics {
    fn name(&self) -> &'static str {
        "metrics"
    }

    fn apply<'a>(&'a mut self, desired: &'a Desired<'a>) -> Step<'a> {
        Box::pin(async move { Ok(report(self.0.ensure(metrics_addrs(desired.config)).await)) })
    }
}

/// The admin UI on the admin zones, port `management.ui_port`.
pub struct AdminUi(pub AdminServer);

impl Subsystem for AdminUi {
    fn name(&self) -> &'static str {
        "admin-ui"
    }

    fn apply<'a>(&'a mut self, desired: &'a Desired<'a>) -> Step<'a> {
        Box::pin(async move {
            Ok(report(
                self.0
                    .ensure(crate::admin::listen_addrs(desired.config))
                    .await,
            ))
        })
    }
}
