//! SSH transport (russh): TCP connect, key exchange with modern algorithms first and legacy ones
//! after them (so old gear still connects), host-key check (trust on first use), password,
//! keyboard-interactive or public-key authentication, then a wide PTY with an interactive shell.

use std::borrow::Cow;
use std::io::ErrorKind;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use russh::client::{self, AuthResult, Handle, KeyboardInteractiveAuthResponse};
use russh::keys::{HashAlg, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};
use russh::{Channel, ChannelMsg, Disconnect, MethodKind, Preferred, cipher, kex, mac};
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::{Closed, Transport};
use crate::device::error::DeviceError;

/// PTY geometry: wide so that long configuration lines are never wrapped.
const PTY_COLUMNS: u32 = 511;
const PTY_ROWS: u32 = 64;

/// A host key as NetRaven records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKey {
    /// OpenSSH public-key line (`ssh-ed25519 AAAA...`), stored per device.
    pub openssh: String,
    /// `SHA256:...` as `ssh-keygen -l` prints it.
    pub fingerprint: String,
}

impl HostKey {
    pub fn from_public(key: &PublicKey) -> HostKey {
        let mut key = key.clone();
        key.set_comment("");
        HostKey {
            openssh: key
                .to_openssh()
                .unwrap_or_else(|_| key.algorithm().to_string()),
            fingerprint: key.fingerprint(HashAlg::Sha256).to_string(),
        }
    }

    /// Parse a stored OpenSSH public-key line.
    pub fn parse(openssh: &str) -> Result<PublicKey, DeviceError> {
        PublicKey::from_openssh(openssh.trim()).map_err(|e| {
            DeviceError::Configuration(format!("the recorded SSH host key cannot be read: {e}"))
        })
    }
}

/// The login of one credential, as the SSH layer needs it.
pub struct SshLogin<'a> {
    pub credential: &'a str,
    pub username: String,
    /// Whether error messages may name the username (not for a private credential).
    pub username_shown: bool,
    pub password: Option<&'a str>,
    pub private_key: Option<&'a str>,
}

static CLIENT_CONFIG: LazyLock<Arc<client::Config>> = LazyLock::new(|| {
    let default = Preferred::DEFAULT;
    let mut kexes: Vec<kex::Name> = default.kex.to_vec();
    kexes.extend([kex::DH_G14_SHA1, kex::DH_GEX_SHA1, kex::DH_G1_SHA1]);
    let mut ciphers: Vec<cipher::Name> = default.cipher.to_vec();
    ciphers.extend([
        cipher::AES_128_CBC,
        cipher::AES_192_CBC,
        cipher::AES_256_CBC,
        cipher::TRIPLE_DES_CBC,
    ]);
    let mut macs: Vec<mac::Name> = default.mac.to_vec();
    macs.extend([mac::HMAC_SHA1_ETM, mac::HMAC_SHA1]);
    Arc::new(client::Config {
        preferred: Preferred {
            kex: Cow::Owned(kexes),
            cipher: Cow::Owned(ciphers),
            mac: Cow::Owned(macs),
            ..default
        },
        nodelay: true,
        inactivity_timeout: None,
        ..Default::default()
    })
});

/// Checks the server's host key against the recorded one and remembers what was presented.
struct KeyCheck {
    expected: Option<PublicKey>,
    presented: Arc<Mutex<Option<PublicKey>>>,
}

impl client::Handler for KeyCheck {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let key = match server_key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            PublicKeyOrCertificate::Certificate(cert) => PublicKey::from(cert.public_key().clone()),
        };
        let accepted = self
            .expected
            .as_ref()
            .is_none_or(|known| known.key_data() == key.key_data());
        if let Ok(mut slot) = self.presented.lock() {
            *slot = Some(key);
        }
        Ok(accepted)
    }
}

/// An authenticated SSH connection, not yet with a shell.
pub struct SshConnection {
    handle: Handle<KeyCheck>,
    pub host_key: HostKey,
}

/// Connect, exchange keys and check the host key. `known` is the recorded host key, if any.
pub async fn connect(
    host: &str,
    port: u16,
    known: Option<&PublicKey>,
    step: Duration,
) -> Result<SshConnection, DeviceError> {
    let addr = format!("{host}:{port}");
    let socket = match timeout(step, TcpStream::connect((host, port))).await {
        Err(_) => {
            return Err(DeviceError::Timeout {
                addr,
                stage: "connecting",
                after: step,
            });
        }
        Ok(Err(e)) => return Err(io_error(&addr, &e)),
        Ok(Ok(s)) => s,
    };
    let _ = socket.set_nodelay(true);
    let presented = Arc::new(Mutex::new(None));
    let handler = KeyCheck {
        expected: known.cloned(),
        presented: presented.clone(),
    };
    let result = timeout(
        step,
        client::connect_stream(CLIENT_CONFIG.clone(), socket, handler),
    )
    .await;
    let seen = presented.lock().ok().and_then(|s| s.clone());
    let handle = match result {
        Err(_) => {
            return Err(DeviceError::Timeout {
                addr,
                stage: "exchanging SSH keys",
                after: step,
            });
        }
        Ok(Err(russh::Error::UnknownKey)) => {
            return Err(match (known, seen) {
                (Some(k), Some(s)) => {
                    let presented = HostKey::from_public(&s);
                    DeviceError::HostKeyChanged {
                        addr,
                        expected: HostKey::from_public(k).fingerprint,
                        presented: presented.fingerprint,
                        presented_key: presented.openssh,
                    }
                }
                _ => DeviceError::Protocol {
                    addr,
                    detail: "the server's host key was not accepted".into(),
                },
            });
        }
        Ok(Err(e)) => return Err(ssh_error(&addr, "exchanging SSH keys", e)),
        Ok(Ok(h)) => h,
    };
    let host_key =
        seen.as_ref()
            .map(HostKey::from_public)
            .ok_or_else(|| DeviceError::Protocol {
                addr: addr.clone(),
                detail: "the server presented no host key".into(),
            })?;
    Ok(SshConnection { handle, host_key })
}

impl SshConnection {
    /// Authenticate with one credential: public key if it has one, else password, then
    /// keyboard-interactive (TACACS+ setups) when the server offers it.
    pub async fn authenticate(
        &mut self,
        login: &SshLogin<'_>,
        step: Duration,
    ) -> Result<(), DeviceError> {
        let failed = |detail: &str| DeviceError::AuthFailed {
            credential: login.credential.to_string(),
            username: login.username_shown.then(|| login.username.clone()),
            detail: detail.to_string(),
        };
        let timed_out = || DeviceError::Timeout {
            addr: "the device".into(),
            stage: "authenticating",
            after: step,
        };
        let mut remaining: Vec<MethodKind> = Vec::new();
        if let Some(pem) = login.private_key {
            let key = russh::keys::decode_secret_key(pem, None).map_err(|e| {
                DeviceError::Configuration(format!(
                    "the private key of credential {:?} cannot be read: {e}",
                    login.credential
                ))
            })?;
            let hash = if key.algorithm().is_rsa() {
                timeout(step, self.handle.best_supported_rsa_hash())
                    .await
                    .map_err(|_| timed_out())?
                    .ok()
                    .flatten()
                    .flatten()
            } else {
                None
            };
            let key = PrivateKeyWithHashAlg::new(Arc::new(key), hash);
            let tried = self
                .handle
                .authenticate_publickey(login.username.clone(), key);
            match attempt(timeout(step, tried).await.map_err(|_| timed_out())?)? {
                None => return Ok(()),
                Some(methods) => remaining = methods,
            }
            if login.password.is_none() {
                return Err(failed("the device did not accept the public key"));
            }
        }
        let Some(password) = login.password else {
            return Err(failed("the credential has neither a password nor a key"));
        };
        if remaining.is_empty() || remaining.contains(&MethodKind::Password) {
            let tried = self
                .handle
                .authenticate_password(login.username.clone(), password);
            match attempt(timeout(step, tried).await.map_err(|_| timed_out())?)? {
                None => return Ok(()),
                Some(methods) => remaining = methods,
            }
        }
        if !remaining.contains(&MethodKind::KeyboardInteractive) {
            return Err(failed("the device rejected the password"));
        }
        let mut reply = timeout(
            step,
            self.handle
                .authenticate_keyboard_interactive_start(login.username.clone(), None),
        )
        .await
        .map_err(|_| timed_out())?
        .map_err(|e| ssh_error("the device", "authenticating", e))?;
        // A server may ask several rounds of questions; each prompt gets the password.
        for _ in 0..5 {
            match reply {
                KeyboardInteractiveAuthResponse::Success => return Ok(()),
                KeyboardInteractiveAuthResponse::Failure { .. } => break,
                KeyboardInteractiveAuthResponse::InfoRequest { prompts, .. } => {
                    let answers = prompts.iter().map(|_| password.to_string()).collect();
                    reply = timeout(
                        step,
                        self.handle
                            .authenticate_keyboard_interactive_respond(answers),
                    )
                    .await
                    .map_err(|_| timed_out())?
                    .map_err(|e| ssh_error("the device", "authenticating", e))?;
                }
            }
        }
        Err(failed(
            "the device rejected the password (keyboard-interactive)",
        ))
    }

    /// Open a session channel with a wide PTY and start the shell.
    pub async fn shell(self, step: Duration) -> Result<SshShell, DeviceError> {
        let dropped = |e: russh::Error| DeviceError::ConnectionDropped {
            stage: format!("opening the shell ({e})"),
            bytes: 0,
        };
        let channel = timeout(step, self.handle.channel_open_session())
            .await
            .map_err(|_| DeviceError::Timeout {
                addr: "the device".into(),
                stage: "opening a session channel",
                after: step,
            })?
            .map_err(dropped)?;
        channel
            .request_pty(false, "xterm", PTY_COLUMNS, PTY_ROWS, 0, 0, &[])
            .await
            .map_err(dropped)?;
        channel.request_shell(false).await.map_err(dropped)?;
        Ok(SshShell {
            handle: self.handle,
            channel,
        })
    }

    pub async fn disconnect(self) {
        let _ = self
            .handle
            .disconnect(Disconnect::ByApplication, "", "en")
            .await;
    }
}

/// The outcome of one authentication request: `None` when it succeeded, else the methods the
/// server still offers.
fn attempt(
    result: Result<AuthResult, russh::Error>,
) -> Result<Option<Vec<MethodKind>>, DeviceError> {
    match result {
        Ok(AuthResult::Success) => Ok(None),
        Ok(AuthResult::Failure {
            remaining_methods, ..
        }) => Ok(Some(remaining_methods.to_vec())),
        Err(e) => Err(ssh_error("the device", "authenticating", e)),
    }
}

/// An interactive shell on an SSH connection.
pub struct SshShell {
    handle: Handle<KeyCheck>,
    channel: Channel<client::Msg>,
}

impl Transport for SshShell {
    async fn send(&mut self, data: &[u8]) -> Result<(), Closed> {
        self.channel.data(data).await.map_err(|_| Closed)
    }

    async fn recv(&mut self) -> Option<Vec<u8>> {
        loop {
            match self.channel.wait().await? {
                ChannelMsg::Data { data } => return Some(data.to_vec()),
                ChannelMsg::ExtendedData { data, .. } => return Some(data.to_vec()),
                ChannelMsg::Eof | ChannelMsg::Close => return None,
                _ => {}
            }
        }
    }

    async fn close(self) {
        let _ = self.channel.close().await;
        let _ = self
            .handle
            .disconnect(Disconnect::ByApplication, "", "en")
            .await;
    }
}

fn io_error(addr: &str, e: &std::io::Error) -> DeviceError {
    match e.kind() {
        ErrorKind::ConnectionRefused => DeviceError::ConnectionRefused {
            addr: addr.to_string(),
        },
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::UnexpectedEof => {
            DeviceError::ConnectionDropped {
                stage: format!("connecting to {addr}"),
                bytes: 0,
            }
        }
        _ => DeviceError::NoRoute {
            addr: addr.to_string(),
            detail: e.to_string(),
        },
    }
}

fn ssh_error(addr: &str, stage: &str, e: russh::Error) -> DeviceError {
    match e {
        russh::Error::IO(io) => io_error(addr, &io),
        russh::Error::NoCommonAlgo { kind, theirs, .. } => DeviceError::Protocol {
            addr: addr.to_string(),
            detail: format!(
                "no {kind:?} algorithm in common; the device offers {}",
                theirs.join(", ")
            ),
        },
        russh::Error::Disconnect | russh::Error::HUP | russh::Error::SendError => {
            DeviceError::ConnectionDropped {
                stage: stage.to_string(),
                bytes: 0,
            }
        }
        other => DeviceError::Protocol {
            addr: addr.to_string(),
            detail: other.to_string(),
        },
    }
}
