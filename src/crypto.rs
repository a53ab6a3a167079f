//! Secret material: the Fernet keys that encrypt stored secrets, and the session-cookie key.
//! Both come from the environment or from files in the data dir that are created on first start
//! with mode 0600.

use std::io::Write;
use std::path::{Path, PathBuf};

use actix_web::cookie::Key;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use fernet::{Fernet, MultiFernet};

use crate::config::Settings;

pub const FERNET_KEY_FILE: &str = "fernet.keys";
pub const SESSION_KEY_FILE: &str = "session.key";

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error(
        "{source_name} holds no usable Fernet key: each key must be 32 bytes, url-safe base64, as in a key file NetRaven generates"
    )]
    BadFernetKey { source_name: String },
    #[error(
        "encrypted data exists in the database but {missing} is missing: restore that file from your backup or set NETRAVEN_FERNET_KEYS; refusing to start, so no encrypted value is lost"
    )]
    MissingFernetKey { missing: String },
    #[error(
        "the Fernet keys from {source_name} cannot decrypt the data already stored ({what}): restore the right key file or set NETRAVEN_FERNET_KEYS to the keys in use; refusing to start, so no encrypted value is lost"
    )]
    WrongFernetKey { source_name: String, what: String },
    #[error(
        "{source_name} holds no usable session key: it must be base64 of at least 64 random bytes"
    )]
    BadSessionKey { source_name: String },
    #[error("cannot decrypt a stored value: it was encrypted with a key that is not configured")]
    Decrypt,
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Encrypts with the first key and decrypts with any (MultiFernet), so keys can be rotated.
pub struct Vault {
    fernet: MultiFernet,
    source_name: String,
    keys: Vec<String>,
}

impl Vault {
    pub fn from_keys(keys: &[String], source_name: &str) -> Result<Self, CryptoError> {
        let parsed: Option<Vec<Fernet>> = keys.iter().map(|k| Fernet::new(k.trim())).collect();
        match parsed {
            Some(list) if !list.is_empty() => Ok(Self {
                fernet: MultiFernet::new(list),
                source_name: source_name.to_string(),
                keys: keys.iter().map(|k| k.trim().to_string()).collect(),
            }),
            _ => Err(CryptoError::BadFernetKey {
                source_name: source_name.to_string(),
            }),
        }
    }

    pub fn encrypt(&self, plain: &str) -> String {
        self.fernet.encrypt(plain.as_bytes())
    }

    pub fn decrypt(&self, token: &str) -> Result<String, CryptoError> {
        let bytes = self
            .fernet
            .decrypt(token)
            .map_err(|_| CryptoError::Decrypt)?;
        String::from_utf8(bytes).map_err(|_| CryptoError::Decrypt)
    }

    /// The keys, first (encrypting) one first. For key rotation only.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// Where the keys came from, for error messages that tell the operator what to fix.
    pub fn source_name(&self) -> &str {
        &self.source_name
    }
}

/// Loads the Fernet keys. A key file is generated only when `encrypted_data_exists` is false:
/// generating a fresh key next to data encrypted with a lost one would silently orphan it.
pub fn load_vault(settings: &Settings, encrypted_data_exists: bool) -> Result<Vault, CryptoError> {
    if let Some(list) = &settings.fernet_keys {
        let keys: Vec<String> = list
            .split(',')
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty())
            .collect();
        return Vault::from_keys(&keys, "NETRAVEN_FERNET_KEYS");
    }
    let path = settings.data_dir.join(FERNET_KEY_FILE);
    let name = path.display().to_string();
    if !path.exists() {
        if encrypted_data_exists {
            return Err(CryptoError::MissingFernetKey { missing: name });
        }
        write_secret_file(&path, &format!("{}\n", Fernet::generate_key()))?;
        tracing::info!(path = %name, "generated a new Fernet key file");
    }
    let text = read_secret_file(&path)?;
    let keys: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    Vault::from_keys(&keys, &name)
}

/// Loads (or creates on first start) the key that signs and encrypts session cookies.
pub fn load_session_key(settings: &Settings) -> Result<Key, CryptoError> {
    let (encoded, source_name) = match &settings.session_key {
        Some(v) => (v.clone(), "NETRAVEN_SESSION_KEY".to_string()),
        None => {
            let path = settings.data_dir.join(SESSION_KEY_FILE);
            if !path.exists() {
                write_secret_file(&path, &format!("{}\n", STANDARD.encode(random_bytes(64))))?;
                tracing::info!(path = %path.display(), "generated a new session key file");
            }
            (read_secret_file(&path)?, path.display().to_string())
        }
    };
    let bytes = STANDARD
        .decode(encoded.trim())
        .map_err(|_| CryptoError::BadSessionKey {
            source_name: source_name.clone(),
        })?;
    Key::try_from(bytes.as_slice()).map_err(|_| CryptoError::BadSessionKey { source_name })
}

/// Where the Fernet keys live when they are not given in the environment.
pub fn fernet_key_path(settings: &Settings) -> Option<PathBuf> {
    settings
        .fernet_keys
        .is_none()
        .then(|| settings.data_dir.join(FERNET_KEY_FILE))
}

pub fn generate_fernet_key() -> String {
    Fernet::generate_key()
}

/// Replaces the key file atomically (temporary file with mode 0600, then rename), so a crash
/// leaves either the old or the new list, never a torn file.
pub fn write_key_file(path: &Path, keys: &[String]) -> Result<(), CryptoError> {
    let tmp = path.with_extension("keys.new");
    let _ = std::fs::remove_file(&tmp);
    write_secret_file(&tmp, &format!("{}\n", keys.join("\n")))?;
    std::fs::rename(&tmp, path).map_err(|source| CryptoError::Io {
        action: "replace",
        path: path.to_path_buf(),
        source,
    })
}

pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    // The OS random source failing is not recoverable: nothing secure can be made without it.
    getrandom::fill(&mut buf).expect("the operating system's random number source failed");
    buf
}

/// A random token that is safe in URLs, cookies and form fields.
pub fn random_token(bytes: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes(bytes))
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Comparison whose time does not depend on where the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn write_secret_file(path: &Path, contents: &str) -> Result<(), CryptoError> {
    let io_err = |action, source| CryptoError::Io {
        action,
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        crate::data_dir::ensure_private_dir(dir).map_err(|e| io_err("create the folder of", e))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| io_err("create", e))?;
    file.write_all(contents.as_bytes())
        .and_then(|_| file.sync_all())
        .map_err(|e| io_err("write", e))
}

fn read_secret_file(path: &Path) -> Result<String, CryptoError> {
    std::fs::read_to_string(path).map_err(|source| CryptoError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_key_encrypts_and_all_decrypt() {
        let old = Fernet::generate_key();
        let new = Fernet::generate_key();
        let before = Vault::from_keys(std::slice::from_ref(&old), "test").unwrap();
        let token = before.encrypt("s3cret");
        let rotated = Vault::from_keys(&[new.clone(), old], "test").unwrap();
        assert_eq!(rotated.decrypt(&token).unwrap(), "s3cret");
        let only_new = Vault::from_keys(&[new], "test").unwrap();
        assert!(only_new.decrypt(&token).is_err());
    }

    #[test]
    fn bad_keys_are_rejected() {
        assert!(Vault::from_keys(&["not-a-key".into()], "test").is_err());
        assert!(Vault::from_keys(&[], "test").is_err());
    }
}
