//! QUIC endpoints of the SOC link: TLS 1.3 with mutual authentication, the SOC's CA pinned on
//! both sides, and AES-256-GCM as the only traffic cipher (003 §25.3). QUIC's Initial packets
//! use AES-128-GCM with keys derived from public values by the QUIC spec (RFC 9001 §5.2); they
//! carry only the start of the handshake, never events.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use rustls::crypto::CryptoProvider;
use rustls::crypto::ring as ring_provider;

use crate::pki::{self, PkiError};

pub const ALPN: &[u8] = b"edgeward-soc/1";

/// The ring provider restricted to TLS13_AES_256_GCM_SHA384.
fn provider() -> Arc<CryptoProvider> {
    let mut p = ring_provider::default_provider();
    p.cipher_suites = vec![ring_provider::cipher_suite::TLS13_AES_256_GCM_SHA384];
    Arc::new(p)
}

fn initial_suite() -> Result<rustls::quic::Suite, PkiError> {
    ring_provider::cipher_suite::TLS13_AES_128_GCM_SHA256
        .tls13()
        .and_then(rustls::Tls13CipherSuite::quic_suite)
        .ok_or_else(|| PkiError::Other("no QUIC initial suite in the ring provider".into()))
}

fn roots(ca: &Path) -> Result<rustls::RootCertStore, PkiError> {
    let mut roots = rustls::RootCertStore::empty();
    for c in pki::load_certs(ca)? {
        roots
            .add(c)
            .map_err(|e| PkiError::Pem(ca.into(), e.to_string()))?;
    }
    Ok(roots)
}

fn transport() -> Arc<quinn::TransportConfig> {
    let mut t = quinn::TransportConfig::default();
    t.keep_alive_interval(Some(Duration::from_secs(5)));
    t.max_idle_timeout(Some(
        Duration::from_secs(20)
            .try_into()
            .unwrap_or(quinn::IdleTimeout::from(quinn::VarInt::from_u32(20_000))),
    ));
    Arc::new(t)
}

/// A client endpoint presenting the gateway's certificate and trusting only the SOC's CA.
pub fn client_endpoint(soc_dir: &Path) -> Result<(quinn::Endpoint, quinn::ClientConfig), PkiError> {
    let tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| PkiError::Other(e.to_string()))?
        .with_root_certificates(roots(&soc_dir.join("ca.pem"))?)
        .with_client_auth_cert(
            pki::load_certs(&soc_dir.join("gateway.pem"))?,
            pki::load_key(&soc_dir.join("gateway.key"))?,
        )
        .map_err(|e| PkiError::Other(e.to_string()))?;
    let mut tls = tls;
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let quic = QuicClientConfig::with_initial(Arc::new(tls), initial_suite()?)
        .map_err(|e| PkiError::Other(e.to_string()))?;
    let mut cfg = quinn::ClientConfig::new(Arc::new(quic));
    cfg.transport_config(transport());
    let bind: SocketAddr = "[::]:0"
        .parse()
        .map_err(|_| PkiError::Other("bind".into()))?;
    let endpoint = quinn::Endpoint::client(bind)
        .or_else(|_| quinn::Endpoint::client("0.0.0.0:0".parse().unwrap_or(bind)))
        .map_err(|e| PkiError::Io("udp socket".into(), e))?;
    Ok((endpoint, cfg))
}

/// The hub's endpoint: requires a client certificate issued by the SOC's CA.
pub fn server_endpoint(soc_dir: &Path, listen: SocketAddr) -> Result<quinn::Endpoint, PkiError> {
    let files = pki::SocFiles {
        dir: soc_dir.to_path_buf(),
    };
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots(&files.ca_cert())?),
        provider(),
    )
    .build()
    .map_err(|e| PkiError::Other(e.to_string()))?;
    let mut tls = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| PkiError::Other(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            pki::load_certs(&files.hub_cert())?,
            pki::load_key(&files.hub_key())?,
        )
        .map_err(|e| PkiError::Other(e.to_string()))?;
    tls.alpn_protocols = vec![ALPN.to_vec()];
    tls.max_early_data_size = 0;
    let quic = QuicServerConfig::with_initial(Arc::new(tls), initial_suite()?)
        .map_err(|e| PkiError::Other(e.to_string()))?;
    let mut cfg = quinn::ServerConfig::with_crypto(Arc::new(quic));
    cfg.transport_config(transport());
    let socket = std::net::UdpSocket::bind(listen)
        .map_err(|e| PkiError::Io(format!("udp {listen}").into(), e))?;
    let runtime = quinn::default_runtime()
        .ok_or_else(|| PkiError::Other("no async runtime for the hub's endpoint".into()))?;
    quinn::Endpoint::new(
        reset_config(
            &std::fs::read(files.hub_key()).map_err(|e| PkiError::Io(files.hub_key(), e))?,
        ),
        Some(cfg),
        socket,
        runtime,
    )
    .map_err(|e| PkiError::Io(format!("udp {listen}").into(), e))
}

/// The endpoint's stateless-reset key, derived from the hub's private key rather than drawn at
/// random: a restarted hub then answers packets of the connections its previous run held with a
/// reset the gateways accept, and they reconnect at once instead of after the idle timeout.
///
/// The connection-ID generator's key is derived the same way: the endpoint answers only packets
/// whose connection ID it could have issued, so a random key would make it drop the previous
/// run's packets before resetting them.
fn reset_config(hub_key: &[u8]) -> quinn::EndpointConfig {
    let derive = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, hub_key);
    let secret = ring::hmac::sign(&derive, b"edgeward hub stateless reset v1");
    let cid_secret = ring::hmac::sign(&derive, b"edgeward hub connection ids v1");
    let mut cid_key = [0u8; 8];
    cid_key.copy_from_slice(&cid_secret.as_ref()[..8]);
    let cid_key = u64::from_le_bytes(cid_key);
    let mut config = quinn::EndpointConfig::new(Arc::new(ring::hmac::Key::new(
        ring::hmac::HMAC_SHA256,
        secret.as_ref(),
    )));
    config.cid_generator(move || {
        Box::new(quinn_proto::HashedConnectionIdGenerator::from_key(cid_key))
    });
    config
}
