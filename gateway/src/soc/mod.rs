//! The SOC link: the gateway's outbound QUIC stream of events to the provincial SOC, the hub
//! that receives them, and the PKI that ties both together.

pub mod bundle;
pub mod hub;
pub mod link;
pub mod pki;
pub mod proto;
pub mod tls;
