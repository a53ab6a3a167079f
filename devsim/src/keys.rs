//! Host keys: one ed25519 key per device, derived from its seed so a device keeps its key across
//! restarts of the simulator (NetRaven's known-host records stay valid in demos), and fixed
//! embedded RSA keys for legacy devices (generating RSA keys is slow, and `ssh-rsa` is the only
//! host-key algorithm those devices offer).

use std::sync::OnceLock;

use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::{HashAlg, PrivateKey, PublicKey};

use crate::rng::Rng;

/// Test-only RSA keys (generated once with `ssh-keygen -t rsa -b 2048`); a legacy device
/// rotating its host key moves to the next one.
const LEGACY_RSA_KEYS: [&str; 2] = [
    include_str!("../keys/legacy_rsa_1"),
    include_str!("../keys/legacy_rsa_2"),
];

/// The host key of a device after `generation` rotations.
pub(crate) fn host_key(
    seed: u64,
    hostname: &str,
    generation: u32,
    legacy: bool,
) -> Result<PrivateKey, russh::keys::ssh_key::Error> {
    if legacy {
        return legacy_rsa_key(generation as usize % LEGACY_RSA_KEYS.len());
    }
    let mut rng = Rng::from_parts(&[
        b"host-key",
        &seed.to_le_bytes(),
        hostname.as_bytes(),
        &generation.to_le_bytes(),
    ]);
    let mut secret = [0u8; 32];
    secret.copy_from_slice(&rng.bytes(32));
    Ok(PrivateKey::from(Ed25519Keypair::from_seed(&secret)))
}

/// Decodes each embedded RSA key once per process.
fn legacy_rsa_key(index: usize) -> Result<PrivateKey, russh::keys::ssh_key::Error> {
    static DECODED: [OnceLock<PrivateKey>; 2] = [OnceLock::new(), OnceLock::new()];
    if let Some(key) = DECODED[index].get() {
        return Ok(key.clone());
    }
    let key = PrivateKey::from_openssh(LEGACY_RSA_KEYS[index])?;
    Ok(DECODED[index].get_or_init(|| key).clone())
}

/// The SHA256 fingerprint as OpenSSH prints it: `SHA256:<base64 without padding>`.
pub(crate) fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_and_rotate() {
        let a = host_key(1, "r1", 0, false).map(|k| fingerprint(k.public_key()));
        let b = host_key(1, "r1", 0, false).map(|k| fingerprint(k.public_key()));
        let c = host_key(1, "r1", 1, false).map(|k| fingerprint(k.public_key()));
        assert_eq!(a.as_ref().ok(), b.as_ref().ok());
        assert_ne!(a.as_ref().ok(), c.as_ref().ok());
        assert!(a.is_ok_and(|f| f.starts_with("SHA256:")));
        let r0 = host_key(1, "r1", 0, true).map(|k| fingerprint(k.public_key()));
        let r1 = host_key(1, "r1", 1, true).map(|k| fingerprint(k.public_key()));
        assert!(r0.is_ok() && r1.is_ok());
        assert_ne!(r0.ok(), r1.ok());
    }
}
