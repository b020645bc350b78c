//! Keys and certificates of a SOC and its gateways: `edgeward-hub init` makes the SOC's CA and the
//! hub's certificate; `edgeward-hub enroll GATEWAY` issues a gateway's client certificate and
//! records the gateway as enrolled. Everything is PEM files in directories.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("certificate generation: {0}")]
    Gen(#[from] rcgen::Error),
    #[error("{0}: not a usable PEM file: {1}")]
    Pem(PathBuf, String),
    #[error("{0}")]
    Other(String),
}

fn write(path: &Path, text: &str, mode: u32) -> Result<(), PkiError> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(|e| PkiError::Io(d.into(), e))?;
    }
    edgeward_config::history::write_atomic_mode(path, text.as_bytes(), mode)
        .map_err(|e| PkiError::Io(path.into(), e))
}

fn read(path: &Path) -> Result<String, PkiError> {
    std::fs::read_to_string(path).map_err(|e| PkiError::Io(path.into(), e))
}

/// Files of a SOC directory.
pub struct SocFiles {
    pub dir: PathBuf,
}

impl SocFiles {
    pub fn ca_cert(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }
    fn ca_key(&self) -> PathBuf {
        self.dir.join("ca.key")
    }
    pub fn hub_cert(&self) -> PathBuf {
        self.dir.join("hub.pem")
    }
    pub fn hub_key(&self) -> PathBuf {
        self.dir.join("hub.key")
    }
    pub fn enrolled(&self) -> PathBuf {
        self.dir.join("enrolled.json")
    }
}

fn ca_params() -> CertificateParams {
    let mut ca = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "edgeward SOC CA");
    dn.push(DnType::OrganizationName, "Provincial SOC");
    ca.distinguished_name = dn;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca
}

/// Create the SOC's CA and hub certificate for `server_name` (refuses to overwrite).
pub fn init(dir: &Path, server_name: &str) -> Result<(), PkiError> {
    let f = SocFiles {
        dir: dir.to_path_buf(),
    };
    if f.ca_key().exists() {
        return Err(PkiError::Other(format!(
            "{} already holds a SOC CA; refusing to overwrite it",
            dir.display()
        )));
    }
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca_params().self_signed(&ca_key)?;
    let hub_key = KeyPair::generate()?;
    let mut hub = CertificateParams::new(vec![server_name.to_string()])?;
    hub.distinguished_name.push(DnType::CommonName, server_name);
    hub.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let hub_cert = hub.signed_by(&hub_key, &ca_cert, &ca_key)?;
    write(&f.ca_cert(), &ca_cert.pem(), 0o644)?;
    write(&f.ca_key(), &ca_key.serialize_pem(), 0o600)?;
    write(&f.hub_cert(), &hub_cert.pem(), 0o644)?;
    write(&f.hub_key(), &hub_key.serialize_pem(), 0o600)?;
    write(&f.enrolled(), "[]\n", 0o644)?;
    crate::bundle::make_signing_key(dir).map_err(|e| PkiError::Other(e.to_string()))?;
    Ok(())
}

/// Issue the client certificate of `gateway` (its host_id) into `out`: `gateway.pem`,
/// `gateway.key` and the SOC's `ca.pem`, and add it to the enrolled list.
pub fn enroll(dir: &Path, gateway: &str, out: &Path) -> Result<(), PkiError> {
    let f = SocFiles {
        dir: dir.to_path_buf(),
    };
    let ca_key = KeyPair::from_pem(&read(&f.ca_key())?)
        .map_err(|e| PkiError::Pem(f.ca_key(), e.to_string()))?;
    let ca_pem = read(&f.ca_cert())?;
    // The issuer is identified by its name and key: rebuilding the CA from the same parameters and
    // key signs exactly as the original.
    let ca_cert = ca_params().self_signed(&ca_key)?;
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(vec![gateway.to_string()])?;
    params.distinguished_name.push(DnType::CommonName, gateway);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.signed_by(&key, &ca_cert, &ca_key)?;
    write(&out.join("gateway.pem"), &cert.pem(), 0o644)?;
    write(&out.join("gateway.key"), &key.serialize_pem(), 0o600)?;
    write(&out.join("ca.pem"), &ca_pem, 0o644)?;
    // The gateway checks pushed rule bundles against the SOC's signing key.
    write(
        &out.join("bundle-signing.pub"),
        &read(&dir.join("bundle-signing.pub"))?,
        0o644,
    )?;
    let mut list = enrolled(dir)?;
    if !list.iter().any(|g| g == gateway) {
        list.push(gateway.to_string());
    }
    write(
        &f.enrolled(),
        &serde_json::to_string_pretty(&list).unwrap_or_default(),
        0o644,
    )?;
    Ok(())
}

/// Gateways enrolled at this SOC.
pub fn enrolled(dir: &Path) -> Result<Vec<String>, PkiError> {
    let path = SocFiles {
        dir: dir.to_path_buf(),
    }
    .enrolled();
    let raw = read(&path)?;
    serde_json::from_str(&raw).map_err(|e| PkiError::Pem(path, e.to_string()))
}

pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, PkiError> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_file_iter(path)
        .map_err(|e| PkiError::Pem(path.into(), e.to_string()))?
        .collect();
    let certs = certs.map_err(|e| PkiError::Pem(path.into(), e.to_string()))?;
    if certs.is_empty() {
        return Err(PkiError::Pem(path.into(), "no certificate".into()));
    }
    Ok(certs)
}

pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, PkiError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| PkiError::Pem(path.into(), e.to_string()))
}

/// The common name of a certificate's subject.
pub fn common_name(cert: &CertificateDer<'_>) -> Option<String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    let cn = parsed
        .subject()
        .iter_common_name()
        .next()?
        .as_str()
        .ok()?
        .to_string();
    Some(cn)
}
