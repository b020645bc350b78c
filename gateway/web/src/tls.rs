//! HTTPS for the admin plane: a self-signed certificate made at first start (rcgen), replaceable
//! by an uploaded one without a restart; TLS 1.2 and 1.3 only (ring provider); and a listener
//! that finishes handshakes off the accept path, each bounded in time.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use rustls::crypto::ring as ring_provider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("{0}")]
    Pem(String),
    #[error("the private key does not belong to the certificate")]
    KeyMismatch,
    #[error("{path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("cannot generate a certificate: {0}")]
    Generate(String),
}

/// What the system page shows about the serving certificate.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub not_before: String,
    pub not_after: String,
    pub self_signed: bool,
    pub sha256: String,
    pub names: Vec<String>,
}

/// The serving certificate, swappable while connections are served.
pub struct CertStore {
    dir: PathBuf,
    current: ArcSwap<CertifiedKey>,
}

impl std::fmt::Debug for CertStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertStore")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

fn certified(cert_pem: &[u8], key_pem: &[u8]) -> Result<CertifiedKey, CertError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| CertError::Pem(format!("certificate: {e}")))?;
    if certs.is_empty() {
        return Err(CertError::Pem(
            "certificate: no CERTIFICATE block found".into(),
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| CertError::Pem(format!("private key: {e}")))?;
    let signing = ring_provider::sign::any_supported_type(&key)
        .map_err(|e| CertError::Pem(format!("private key: {e}")))?;
    let ck = CertifiedKey::new(certs, signing);
    ck.keys_match().map_err(|_| CertError::KeyMismatch)?;
    Ok(ck)
}

impl CertStore {
    /// Load `DIR/cert.pem` + `DIR/key.pem`, generating a self-signed pair for `names` if absent.
    pub fn open_or_generate(dir: &Path, names: &[String]) -> Result<CertStore, CertError> {
        let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
        if !cert_path.exists() || !key_path.exists() {
            let (cert, key) = self_signed(names)?;
            write_private(dir, &cert_path, cert.as_bytes(), 0o644)?;
            write_private(dir, &key_path, key.as_bytes(), 0o600)?;
        }
        let read = |p: &Path| {
            std::fs::read(p).map_err(|e| CertError::File {
                path: p.to_path_buf(),
                reason: e.to_string(),
            })
        };
        let ck = certified(&read(&cert_path)?, &read(&key_path)?)?;
        Ok(CertStore {
            dir: dir.to_path_buf(),
            current: ArcSwap::from_pointee(ck),
        })
    }

    /// Check an uploaded pair and, if it is good, serve and keep it. Nothing changes otherwise.
    pub fn replace(&self, cert_pem: &[u8], key_pem: &[u8]) -> Result<CertInfo, CertError> {
        let ck = certified(cert_pem, key_pem)?;
        let info = describe(
            ck.cert
                .first()
                .map(std::convert::AsRef::as_ref)
                .unwrap_or_default(),
        )?;
        write_private(&self.dir, &self.dir.join("cert.pem"), cert_pem, 0o644)?;
        write_private(&self.dir, &self.dir.join("key.pem"), key_pem, 0o600)?;
        self.current.store(Arc::new(ck));
        Ok(info)
    }

    pub fn info(&self) -> Result<CertInfo, CertError> {
        let ck = self.current.load();
        describe(
            ck.cert
                .first()
                .map(std::convert::AsRef::as_ref)
                .unwrap_or_default(),
        )
    }

    /// The rustls configuration: TLS 1.2+ only, HTTP/1.1.
    pub fn server_config(self: &Arc<Self>) -> Result<Arc<rustls::ServerConfig>, CertError> {
        let provider = Arc::new(ring_provider::default_provider());
        let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| CertError::Generate(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(Resolver(self.clone())));
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(cfg))
    }
}

#[derive(Debug)]
struct Resolver(Arc<CertStore>);

impl ResolvesServerCert for Resolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.current.load_full())
    }
}

fn write_private(dir: &Path, path: &Path, data: &[u8], mode: u32) -> Result<(), CertError> {
    let err = |e: std::io::Error| CertError::File {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    edgeward_config::history::write_atomic_mode(path, data, mode).map_err(err)
}

/// A self-signed certificate (ECDSA P-256) for the appliance's names and addresses, 2 years.
pub fn self_signed(names: &[String]) -> Result<(String, String), CertError> {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
        .map_err(|e| CertError::Generate(e.to_string()))?;
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(
        rcgen::DnType::CommonName,
        names.first().cloned().unwrap_or_else(|| "edgeward".into()),
    );
    dn.push(
        rcgen::DnType::OrganizationName,
        "edgeward appliance (self-signed)",
    );
    params.distinguished_name = dn;
    for n in names {
        let san = match n.parse::<IpAddr>() {
            Ok(ip) => rcgen::SanType::IpAddress(ip),
            Err(_) => rcgen::SanType::DnsName(
                n.clone()
                    .try_into()
                    .map_err(|e: rcgen::Error| CertError::Generate(e.to_string()))?,
            ),
        };
        params.subject_alt_names.push(san);
    }
    use chrono::Datelike;
    let from = Utc::now().date_naive() - chrono::Duration::days(1);
    let ymd = |d: chrono::NaiveDate| rcgen::date_time_ymd(d.year(), d.month() as u8, d.day() as u8);
    params.not_before = ymd(from);
    params.not_after = ymd(from + chrono::Duration::days(2 * 365));
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|e| CertError::Generate(e.to_string()))?;
    let cert = params
        .self_signed(&key)
        .map_err(|e| CertError::Generate(e.to_string()))?;
    Ok((cert.pem(), key.serialize_pem()))
}

fn describe(der: &[u8]) -> Result<CertInfo, CertError> {
    use sha2::Digest;
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| CertError::Pem(format!("certificate: {e}")))?;
    let ts = |t: x509_parser::time::ASN1Time| {
        DateTime::<Utc>::from_timestamp(t.timestamp(), 0)
            .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default()
    };
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                x509_parser::extensions::GeneralName::DNSName(d) => names.push(d.to_string()),
                x509_parser::extensions::GeneralName::IPAddress(raw) => match raw.len() {
                    4 => names.push(
                        IpAddr::from(<[u8; 4]>::try_from(*raw).unwrap_or_default()).to_string(),
                    ),
                    16 => names.push(
                        IpAddr::from(<[u8; 16]>::try_from(*raw).unwrap_or_default()).to_string(),
                    ),
                    _ => {}
                },
                _ => {}
            }
        }
    }
    Ok(CertInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_before: ts(cert.validity().not_before),
        not_after: ts(cert.validity().not_after),
        self_signed: cert.subject() == cert.issuer(),
        sha256: hex::encode(sha2::Sha256::digest(der)),
        names,
    })
}

/// Connection limits of the HTTPS server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The request head must arrive within this (slow-header clients are cut off).
    pub header_read: Duration,
    /// The TLS handshake must finish within this.
    pub handshake: Duration,
    /// No connection stays open longer than this, busy or idle.
    pub lifetime: Duration,
    /// Open connections at most, handshakes included; past it new connections are closed at once.
    pub connections: usize,
    /// Open connections at most from one source address.
    pub per_source: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read: Duration::from_secs(10),
            handshake: Duration::from_secs(10),
            lifetime: Duration::from_secs(600),
            connections: 256,
            per_source: 32,
        }
    }
}

/// Open connections per source address; a [`SourceSlot`] gives its place back when dropped.
#[derive(Default)]
struct PerSource(std::sync::Mutex<std::collections::HashMap<IpAddr, usize>>);

struct SourceSlot {
    table: Arc<PerSource>,
    source: IpAddr,
}

impl PerSource {
    fn take(table: &Arc<PerSource>, source: IpAddr, max: usize) -> Option<SourceSlot> {
        let mut open = table
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = open.entry(source).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(SourceSlot {
            table: table.clone(),
            source,
        })
    }
}

impl Drop for SourceSlot {
    fn drop(&mut self) {
        let mut open = self
            .table
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.source) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.source);
            }
        }
    }
}

/// Accept on `tcp` and serve `app` over TLS (HTTP/1.1 with keep-alive) until aborted. A
/// connection takes its slot (of all connections and of its source address) before the
/// handshake, and a connection that finds no slot is closed at once: a flood of half-open
/// connections can hold at most `limits.connections` sockets, never the daemon's file
/// descriptors. Handlers see the client's address as `ConnectInfo<Peer>`.
pub async fn serve(
    tcp: TcpListener,
    config: Arc<rustls::ServerConfig>,
    app: axum::Router,
    limits: Limits,
) {
    use tower::ServiceExt as _;
    let acceptor = TlsAcceptor::from(config);
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.connections.max(1)));
    let per_source = Arc::new(PerSource::default());
    loop {
        let (stream, peer) = match tcp.accept().await {
            Ok(x) => x,
            Err(e) => {
                // Out of descriptors or similar: back off instead of spinning.
                tracing::warn!(error = %e, "admin UI accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "admin UI connection refused: all slots in use");
            continue;
        };
        let Some(source_slot) = PerSource::take(&per_source, peer.ip(), limits.per_source.max(1))
        else {
            tracing::debug!(%peer, "admin UI connection refused: too many from this source");
            continue;
        };
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            let _held = (permit, source_slot);
            let tls = match tokio::time::timeout(limits.handshake, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake refused");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            let service = hyper::service::service_fn(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    req.extensions_mut()
                        .insert(axum::extract::ConnectInfo(Peer(peer)));
                    app.clone().oneshot(req.map(axum::body::Body::new))
                },
            );
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(limits.header_read)
                .keep_alive(true)
                .serve_connection(hyper_util::rt::TokioIo::new(tls), service);
            match tokio::time::timeout(limits.lifetime, conn).await {
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "admin UI connection ended with an error");
                }
                Err(_) => tracing::debug!(%peer, "admin UI connection closed at its lifetime"),
                Ok(Ok(())) => {}
            }
        });
    }
}

/// The client's address, as handlers see it.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpStream;

    async fn tls_client(
        cert_pem: &[u8],
        addr: SocketAddr,
    ) -> tokio_rustls::client::TlsStream<TcpStream> {
        tls_client_over(cert_pem, addr, TcpStream::connect(addr).await.unwrap()).await
    }

    async fn tls_client_over(
        cert_pem: &[u8],
        addr: SocketAddr,
        tcp: TcpStream,
    ) -> tokio_rustls::client::TlsStream<TcpStream> {
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(cert_pem) {
            roots.add(c.unwrap()).unwrap();
        }
        let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
            ring_provider::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let name = rustls_pki_types::ServerName::IpAddress(addr.ip().into());
        tokio_rustls::TlsConnector::from(Arc::new(cfg))
            .connect(name, tcp)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn serves_over_tls_with_the_peer_address_and_cuts_off_slow_headers() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let d = tempfile::tempdir().unwrap();
        let store = Arc::new(CertStore::open_or_generate(d.path(), &["127.0.0.1".into()]).unwrap());
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let config = store.server_config().unwrap();
        let app = axum::Router::new().route(
            "/who",
            axum::routing::get(
                |axum::extract::ConnectInfo(p): axum::extract::ConnectInfo<Peer>| async move {
                    p.0.ip().to_string()
                },
            ),
        );
        let limits = Limits {
            header_read: Duration::from_secs(1),
            connections: 4,
            ..Limits::default()
        };
        let server = tokio::spawn(serve(tcp, config, app, limits));
        let cert = std::fs::read(d.path().join("cert.pem")).unwrap();

        let mut c = tls_client(&cert, addr).await;
        c.write_all(b"GET /who HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        c.read_to_string(&mut out).await.unwrap();
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");
        assert!(out.ends_with("127.0.0.1"), "{out}");

        // A client that never finishes its request head is disconnected.
        let mut slow = tls_client(&cert, addr).await;
        slow.write_all(b"GET /who HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        let started = std::time::Instant::now();
        let mut buf = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut buf)).await;
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "cut off after the header timeout"
        );
        assert!(
            !String::from_utf8_lossy(&buf).contains("200"),
            "no answer to a half request"
        );
        server.abort();
    }

    /// A flood of connections that never finish their handshake, from one source, neither
    /// exhausts the server's descriptors nor keeps another source out; the flooder's extra
    /// connections are closed at once.
    #[tokio::test]
    async fn a_handshake_flood_is_capped_per_source_and_others_still_get_in() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let d = tempfile::tempdir().unwrap();
        let store = Arc::new(CertStore::open_or_generate(d.path(), &["127.0.0.1".into()]).unwrap());
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
        let limits = Limits {
            connections: 64,
            per_source: 8,
            handshake: Duration::from_secs(30),
            ..Limits::default()
        };
        let server = tokio::spawn(serve(tcp, store.server_config().unwrap(), app, limits));
        // 300 idle TCP connections from 127.0.0.1 (no ClientHello ever).
        let mut flood = Vec::new();
        for _ in 0..300 {
            flood.push(TcpStream::connect(addr).await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        // All but the first 8 were closed by the server.
        let mut closed = 0;
        for s in &mut flood {
            let mut b = [0u8; 1];
            if let Ok(Ok(0)) = tokio::time::timeout(Duration::from_millis(20), s.read(&mut b)).await
            {
                closed += 1;
            }
        }
        assert!(
            closed >= 290,
            "only {closed} of 300 flood connections closed"
        );
        // Another source is served at once.
        let sock = tokio::net::TcpSocket::new_v4().unwrap();
        sock.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        let tcp = sock.connect(addr).await.unwrap();
        let cert = std::fs::read(d.path().join("cert.pem")).unwrap();
        let mut c = tokio::time::timeout(Duration::from_secs(5), tls_client_over(&cert, addr, tcp))
            .await
            .expect("handshake in time");
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        c.read_to_string(&mut out).await.unwrap();
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");
        drop(flood);
        server.abort();
    }

    #[test]
    fn generated_certificate_names_the_appliance_and_can_be_replaced() {
        let d = tempfile::tempdir().unwrap();
        let store =
            CertStore::open_or_generate(d.path(), &["gw1.local".into(), "10.10.99.1".into()])
                .unwrap();
        let info = store.info().unwrap();
        assert!(info.self_signed);
        assert!(info.names.contains(&"10.10.99.1".to_string()), "{info:?}");
        // Reopen: the same certificate, not a new one.
        let again = CertStore::open_or_generate(d.path(), &[]).unwrap();
        assert_eq!(again.info().unwrap().sha256, info.sha256);
        // A mismatched pair is refused and nothing changes.
        let (cert_a, _) = self_signed(&["a.example".into()]).unwrap();
        let (_, key_b) = self_signed(&["b.example".into()]).unwrap();
        assert!(matches!(
            store.replace(cert_a.as_bytes(), key_b.as_bytes()),
            Err(CertError::KeyMismatch)
        ));
        assert!(store.replace(b"garbage", b"garbage").is_err());
        assert_eq!(store.info().unwrap().sha256, info.sha256);
        let (cert_c, key_c) = self_signed(&["c.example".into()]).unwrap();
        let new = store.replace(cert_c.as_bytes(), key_c.as_bytes()).unwrap();
        assert_ne!(new.sha256, info.sha256);
        assert_eq!(store.info().unwrap().sha256, new.sha256);
        let key_mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(d.path().join("key.pem"))
                .unwrap()
                .permissions(),
        );
        assert_eq!(key_mode & 0o777, 0o600);
    }
}
