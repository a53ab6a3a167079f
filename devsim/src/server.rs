//! The SSH side of a device: its listener, the per-connection russh handler (authentication,
//! channel set-up) and the means to drop a connection abruptly.

use std::borrow::Cow;
use std::net::Shutdown;
use std::sync::Arc;
use std::time::Duration;

use russh::keys::{Algorithm, PrivateKey};
use russh::server::{Auth, Msg, PublicKeyOffer, Response, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId, MethodKind, MethodSet, Preferred, SshId};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::device::Device;
use crate::platform::Platform;
use crate::session;
use crate::spec::{AuthMode, DeviceSpec, Fault};

/// Like an exec-timeout: a connection nobody talks to for this long is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(600);

/// The russh server configuration for a device with host key `key`.
pub(crate) fn ssh_config(spec: &DeviceSpec, key: PrivateKey) -> russh::server::Config {
    let preferred = if spec.legacy_only {
        Preferred {
            kex: Cow::Borrowed(&[russh::kex::DH_G14_SHA1, russh::kex::DH_G1_SHA1]),
            key: Cow::Borrowed(&[Algorithm::Rsa { hash: None }]),
            cipher: Cow::Borrowed(&[russh::cipher::AES_128_CBC, russh::cipher::TRIPLE_DES_CBC]),
            mac: Cow::Borrowed(&[russh::mac::HMAC_SHA1]),
            compression: Cow::Borrowed(&[russh::compression::NONE]),
            ..Preferred::DEFAULT
        }
    } else {
        // The platforms simulated here offer curve25519, ECDH and DH key exchanges, not
        // OpenSSH's post-quantum hybrid: a client measured against devsim does the work it
        // does against real network devices.
        Preferred {
            kex: Cow::Owned(
                Preferred::DEFAULT
                    .kex
                    .iter()
                    .filter(|name| **name != russh::kex::MLKEM768X25519_SHA256)
                    .cloned()
                    .collect(),
            ),
            ..Preferred::DEFAULT
        }
    };
    russh::server::Config {
        server_id: SshId::Standard(Cow::Borrowed(server_id(spec.platform))),
        methods: advertised_methods(spec.auth_mode),
        // Failed logins answer after a short constant delay (real devices take ~1-3 s; tests
        // that try wrong credentials should not).
        auth_rejection_time: Duration::from_millis(200),
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys: vec![key],
        preferred,
        inactivity_timeout: Some(IDLE_TIMEOUT),
        nodelay: true,
        ..Default::default()
    }
}

/// The SSH identification string each platform's SSH server sends.
fn server_id(platform: Platform) -> &'static str {
    match platform {
        Platform::CiscoIos | Platform::CiscoAsa => "SSH-2.0-Cisco-1.25",
        Platform::CiscoIosxr => "SSH-2.0-Cisco-2.0",
        Platform::CiscoNxos => "SSH-2.0-OpenSSH_8.3",
        Platform::AristaEos => "SSH-2.0-OpenSSH_7.8",
        Platform::JuniperJunos => "SSH-2.0-OpenSSH_7.5",
        Platform::HpProcurve => "SSH-2.0-Mocana SSH 6.3",
        Platform::ArubaAoscx => "SSH-2.0-OpenSSH_8.0",
        Platform::MikrotikRouteros => "SSH-2.0-ROSSSH",
        Platform::FortinetFortios => "SSH-2.0-FortiSSH_7.2",
        Platform::PaloaltoPanos => "SSH-2.0-OpenSSH_8.0",
        Platform::HuaweiVrp => "SSH-2.0-HUAWEI-1.5",
        Platform::DellOs10 => "SSH-2.0-OpenSSH_7.4p1 Debian-10+deb9u7",
        Platform::DellOs6 => "SSH-2.0-OpenSSH_7.5 PKIX FIPS",
        Platform::BrocadeFastiron => "SSH-2.0-RomSShell_5.40",
        Platform::Linux => "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u1",
    }
}

fn advertised_methods(mode: AuthMode) -> MethodSet {
    let methods: &[MethodKind] = match mode {
        AuthMode::PasswordAndKeyboardInteractive => &[
            MethodKind::PublicKey,
            MethodKind::KeyboardInteractive,
            MethodKind::Password,
        ],
        AuthMode::KeyboardInteractiveOnly => {
            &[MethodKind::PublicKey, MethodKind::KeyboardInteractive]
        }
        AuthMode::PasswordOnly => &[MethodKind::PublicKey, MethodKind::Password],
    };
    MethodSet::from(methods)
}

/// A second handle on a connection's socket, so the connection can be dropped at the TCP level
/// (fault injection, shutdown) whatever the SSH session is doing.
#[derive(Debug)]
pub(crate) struct ConnKill(std::net::TcpStream);

impl ConnKill {
    /// Shuts the socket down both ways: the peer sees the TCP stream end without an SSH
    /// disconnect message, and the SSH session here ends on its next read.
    pub(crate) fn kill(&self) {
        // The socket may already be closed; there is nothing left to do then.
        let _ = self.0.shutdown(Shutdown::Both);
    }
}

/// Kills the connection when the connection task ends or is aborted.
struct KillOnDrop(Arc<ConnKill>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        self.0.kill();
    }
}

/// Accepts connections for one device until `shutdown` fires (or its sender is dropped).
/// Connection tasks live in a [`JoinSet`], so they are aborted (and their sockets shut) when
/// this task ends.
pub(crate) async fn serve(
    listener: TcpListener,
    device: Arc<Device>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _peer)) => {
                    connections.spawn(connection(Arc::clone(&device), tcp));
                }
                // Typically out of file descriptors: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Runs one SSH connection to its end.
async fn connection(device: Arc<Device>, tcp: TcpStream) {
    if device.spec.fault == Some(Fault::Silent) {
        return silent(tcp).await;
    }
    let _ = tcp.set_nodelay(true);
    let Ok(std_tcp) = tcp.into_std() else { return };
    let Ok(clone) = std_tcp.try_clone() else {
        return;
    };
    let Ok(tcp) = TcpStream::from_std(std_tcp) else {
        return;
    };
    let kill = Arc::new(ConnKill(clone));
    let _guard = KillOnDrop(Arc::clone(&kill));
    let handler = Connection {
        device: Arc::clone(&device),
        kill,
        user: None,
    };
    if let Ok(session) = russh::server::run_stream(device.ssh_config(), tcp, handler).await {
        // Errors here are the client's business (disconnects, protocol errors).
        let _ = session.await;
    }
}

/// [`Fault::Silent`]: never sends a byte, and closes the socket after [`IDLE_TIMEOUT`] at the
/// latest. What the client sends is read and dropped, so its writes do not block and its close
/// is noticed at once.
async fn silent(mut tcp: TcpStream) {
    let mut buf = [0u8; 1024];
    let drain = async { while matches!(tcp.read(&mut buf).await, Ok(n) if n > 0) {} };
    let _ = tokio::time::timeout(IDLE_TIMEOUT, drain).await;
}

/// The russh handler of one connection.
struct Connection {
    device: Arc<Device>,
    kill: Arc<ConnKill>,
    /// The username that authenticated.
    user: Option<String>,
}

impl Connection {
    /// The username credentials are checked against: on MikroTik `admin+ct` is user `admin`
    /// with login options `ct`.
    fn account<'a>(&self, user: &'a str) -> &'a str {
        if self.device.spec.platform == Platform::MikrotikRouteros {
            user.split('+').next().unwrap_or(user)
        } else {
            user
        }
    }

    fn password_ok(&self, user: &str, password: &str) -> bool {
        let account = self.account(user);
        self.device
            .spec
            .credentials
            .iter()
            .any(|(u, p)| u == account && p == password)
    }

    fn key_ok(&self, user: &str, key: &russh::keys::PublicKey) -> bool {
        let account = self.account(user);
        let credentials = &self.device.spec.credentials;
        let user_known = credentials.is_empty() || credentials.iter().any(|(u, _)| u == account);
        user_known
            && self
                .device
                .spec
                .authorized_keys
                .iter()
                .any(|k| k.key_data() == key.key_data())
    }

    fn accept(&mut self, user: &str) -> Auth {
        self.user = Some(user.to_string());
        Auth::Accept
    }

    /// A rejection that leaves every advertised method available, so a client may retry with
    /// other credentials as on a real device.
    fn reject(&self) -> Auth {
        Auth::Reject {
            proceed_with_methods: Some(advertised_methods(self.device.spec.auth_mode)),
            partial_success: false,
        }
    }
}

impl russh::server::Handler for Connection {
    type Error = russh::Error;

    async fn auth_none(&mut self, _user: &str) -> Result<Auth, Self::Error> {
        Ok(self.reject())
    }

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        if self.device.spec.auth_mode == AuthMode::KeyboardInteractiveOnly {
            return Ok(self.reject());
        }
        if self.password_ok(user, password) {
            Ok(self.accept(user))
        } else {
            Ok(self.reject())
        }
    }

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        if self.key_ok(user, offer.public_key) {
            Ok(Auth::Accept)
        } else {
            Ok(self.reject())
        }
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        if self.key_ok(user, key.public_key) {
            Ok(self.accept(user))
        } else {
            Ok(self.reject())
        }
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        user: &str,
        _submethods: &str,
        response: Option<Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        if self.device.spec.auth_mode == AuthMode::PasswordOnly {
            return Ok(self.reject());
        }
        let Some(mut response) = response else {
            // One prompt, no echo: what TACACS+-backed devices ask.
            return Ok(Auth::Partial {
                name: Cow::Borrowed(""),
                instructions: Cow::Borrowed(""),
                prompts: Cow::Borrowed(&[(Cow::Borrowed("Password: "), false)]),
            });
        };
        let password = response
            .next()
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        match password {
            Some(password) if self.password_ok(user, &password) => Ok(self.accept(user)),
            _ => Ok(self.reject()),
        }
    }

    async fn auth_succeeded(&mut self, _session: &mut Session) -> Result<(), Self::Error> {
        self.device.count_session();
        Ok(())
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: russh::server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        reply.accept().await;
        let ctx = session::Context {
            device: Arc::clone(&self.device),
            login: self.user.clone().unwrap_or_default(),
            kill: Arc::clone(&self.kill),
        };
        tokio::spawn(session::run(channel, ctx));
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        _col_width: u32,
        _row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        _variable_name: &str,
        _variable_value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)
    }
}
