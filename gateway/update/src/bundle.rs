//! The bundle file: writing one (the vendor's signing tool) and opening one (the gateway), which
//! checks the signature, the manifest's shape and every part's size and hash before it returns.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::UpdateError;
use crate::manifest::{self, ImageVersion, MAX_MANIFEST, Manifest, PARTS, Part};

/// A bundle whose signature and parts were checked, and the file it was read from.
#[derive(Debug, Clone)]
pub struct Verified {
    pub manifest: Manifest,
    pub path: PathBuf,
}

/// What the vendor signs: the version, the flag and the files that go into the bundle.
pub struct Contents<'a> {
    pub version: ImageVersion,
    pub rollback: bool,
    pub cmdline: String,
    pub created: DateTime<Utc>,
    pub root: &'a Path,
    pub kernel: &'a Path,
    pub initrd: &'a Path,
}

/// Write a signed bundle to `out`.
pub fn write(
    contents: &Contents<'_>,
    key_file: &Path,
    out: &Path,
) -> Result<Manifest, UpdateError> {
    let files = [contents.root, contents.kernel, contents.initrd];
    let mut parts = Vec::new();
    for (name, path) in PARTS.iter().zip(files) {
        let (size, sha256) = hash_file(path)?;
        parts.push(Part {
            name: (*name).to_string(),
            size,
            sha256,
        });
    }
    let manifest = Manifest {
        format: 1,
        version: contents.version.clone(),
        created: contents.created,
        rollback: contents.rollback,
        cmdline: contents.cmdline.clone(),
        parts,
    };
    manifest.check_shape()?;
    let manifest_bytes = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| UpdateError::Io(format!("manifest: {e}")))?;
    let signature = manifest::sign(key_file, &manifest_bytes)?;
    let file = File::create(out).map_err(|e| UpdateError::io(out, &e))?;
    let mut tar = tar::Builder::new(std::io::BufWriter::new(file));
    let mtime = u64::try_from(contents.created.timestamp()).unwrap_or(0);
    let mut add = |name: &str, size: u64, reader: &mut dyn Read| -> Result<(), UpdateError> {
        let mut header = tar::Header::new_ustar();
        header.set_size(size);
        header.set_mode(0o644);
        header.set_mtime(mtime);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, name, reader)
            .map_err(|e| UpdateError::io(out, &e))
    };
    add(
        "manifest.json",
        manifest_bytes.len() as u64,
        &mut &manifest_bytes[..],
    )?;
    add(
        "manifest.sig",
        signature.len() as u64,
        &mut signature.as_bytes(),
    )?;
    for (part, path) in manifest.parts.iter().zip(files) {
        let mut f = File::open(path).map_err(|e| UpdateError::io(path, &e))?;
        add(&part.name, part.size, &mut f)?;
    }
    tar.into_inner()
        .and_then(|mut w| w.flush())
        .map_err(|e| UpdateError::io(out, &e))?;
    Ok(manifest)
}

fn hash_file(path: &Path) -> Result<(u64, String), UpdateError> {
    let file = File::open(path).map_err(|e| UpdateError::io(path, &e))?;
    hash_reader(&mut BufReader::new(file)).map_err(|e| UpdateError::io(path, &e))
}

/// Size and SHA-256 (hex) of everything `reader` yields.
pub(crate) fn hash_reader(reader: &mut dyn Read) -> std::io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((total, hex::encode(hasher.finalize())))
}

/// Read the next tar entry's header and check it is the regular file `name`.
fn expect_entry<'a, R: Read>(
    entries: &mut tar::Entries<'a, R>,
    name: &str,
) -> Result<tar::Entry<'a, R>, UpdateError> {
    let entry = match entries.next() {
        Some(Ok(e)) => e,
        Some(Err(e)) => {
            return Err(UpdateError::Malformed(format!("reading `{name}`: {e}")));
        }
        None => {
            return Err(UpdateError::Malformed(format!(
                "the bundle ends before `{name}`"
            )));
        }
    };
    let found = entry.path_bytes().into_owned();
    if found != name.as_bytes() || entry.header().entry_type() != tar::EntryType::Regular {
        return Err(UpdateError::Malformed(format!(
            "expected `{name}`, found `{}`",
            String::from_utf8_lossy(&found)
        )));
    }
    Ok(entry)
}

fn read_small<R: Read>(
    entry: tar::Entry<'_, R>,
    name: &str,
    limit: u64,
) -> Result<Vec<u8>, UpdateError> {
    let size = entry.header().size().unwrap_or(u64::MAX);
    if size > limit {
        return Err(UpdateError::Malformed(format!(
            "`{name}` is {size} bytes, more than {limit}"
        )));
    }
    let mut bytes = Vec::new();
    entry
        .take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| UpdateError::Malformed(format!("reading `{name}`: {e}")))?;
    Ok(bytes)
}

/// The manifest entries of an open bundle, authenticated: the signature verifies with one of
/// `keys` and the signed manifest has the expected shape. The entries iterator is left at the
/// first part.
pub(crate) fn read_manifest<R: Read>(
    entries: &mut tar::Entries<'_, R>,
    keys: &[Vec<u8>],
) -> Result<Manifest, UpdateError> {
    let manifest_entry = expect_entry(entries, "manifest.json")?;
    let manifest_bytes = read_small(manifest_entry, "manifest.json", MAX_MANIFEST)?;
    let sig_entry = expect_entry(entries, "manifest.sig")?;
    let signature = read_small(sig_entry, "manifest.sig", 1024)?;
    let signature = String::from_utf8_lossy(&signature);
    if !manifest::verify(keys, &manifest_bytes, &signature) {
        return Err(UpdateError::BadSignature);
    }
    // Only signed bytes are parsed.
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
        .map_err(|e| UpdateError::Malformed(format!("manifest.json: {e}")))?;
    manifest.check_shape()?;
    Ok(manifest)
}

/// Check the part's entry header against the manifest, for the installer and the verifier.
pub(crate) fn expect_part<'a, R: Read>(
    entries: &mut tar::Entries<'a, R>,
    part: &Part,
) -> Result<tar::Entry<'a, R>, UpdateError> {
    let entry = expect_entry(entries, &part.name)?;
    let size = entry.header().size().unwrap_or(u64::MAX);
    if size != part.size {
        return Err(UpdateError::PartMismatch {
            part: part.name.clone(),
            why: format!("{size} bytes, the manifest says {}", part.size),
        });
    }
    Ok(entry)
}

/// Open and check the bundle at `path` against the trusted `keys`: signature, manifest, every
/// part's size and SHA-256, nothing after the last part. Nothing is written anywhere.
pub fn open(path: &Path, keys: &[Vec<u8>]) -> Result<Verified, UpdateError> {
    let file = File::open(path).map_err(|e| UpdateError::io(path, &e))?;
    let mut archive = tar::Archive::new(BufReader::new(file));
    let mut entries = archive
        .entries()
        .map_err(|e| UpdateError::Malformed(e.to_string()))?;
    let manifest = read_manifest(&mut entries, keys)?;
    for part in &manifest.parts {
        let mut entry = expect_part(&mut entries, part)?;
        let (size, sha256) = hash_reader(&mut entry)
            .map_err(|e| UpdateError::Malformed(format!("reading `{}`: {e}", part.name)))?;
        if size != part.size || sha256 != part.sha256 {
            return Err(UpdateError::PartMismatch {
                part: part.name.clone(),
                why: "its SHA-256 differs from the signed manifest's".into(),
            });
        }
    }
    if let Some(extra) = entries.next() {
        let name = extra
            .map(|e| String::from_utf8_lossy(&e.path_bytes()).into_owned())
            .unwrap_or_else(|e| e.to_string());
        return Err(UpdateError::Malformed(format!(
            "`{name}` follows the last part"
        )));
    }
    Ok(Verified {
        manifest,
        path: path.to_path_buf(),
    })
}

/// The bundle's signed manifest, checked against `keys`, without reading the parts: a quick
/// first check (an upload is answered at once); [`open`] checks the parts before installing.
pub fn open_manifest(path: &Path, keys: &[Vec<u8>]) -> Result<Manifest, UpdateError> {
    let file = File::open(path).map_err(|e| UpdateError::io(path, &e))?;
    let mut archive = tar::Archive::new(BufReader::new(file));
    let mut entries = archive
        .entries()
        .map_err(|e| UpdateError::Malformed(e.to_string()))?;
    read_manifest(&mut entries, keys)
}

/// Whether the verified `manifest` may replace `running`: newer, or a signed rollback to another
/// version.
pub fn check_version(manifest: &Manifest, running: &ImageVersion) -> Result<(), UpdateError> {
    let newer = manifest.version > *running;
    let signed_rollback = manifest.rollback && manifest.version != *running;
    if newer || signed_rollback {
        Ok(())
    } else {
        Err(UpdateError::NotNewer {
            offered: manifest.version.clone(),
            running: running.clone(),
        })
    }
}
