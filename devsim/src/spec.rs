//! What one simulated device is: its platform, identity, credentials and behaviour knobs.

use std::net::IpAddr;
use std::time::Duration;

use crate::platform::Platform;

/// Which SSH authentication methods a device accepts for its credentials.
///
/// Public keys in [`DeviceSpec::authorized_keys`] are accepted in every mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// Both `password` and `keyboard-interactive` (one `Password: ` prompt) work.
    #[default]
    PasswordAndKeyboardInteractive,
    /// TACACS+-style: the `password` method is refused, `keyboard-interactive` works.
    KeyboardInteractiveOnly,
    /// Only the `password` method works.
    PasswordOnly,
}

/// How the device pages long output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Paging {
    /// Output longer than a screen is paged until the platform's paging-off command is sent.
    #[default]
    On,
    /// The paging-off command is answered as usual but ignored: the pager must be answered.
    Forced,
}

/// A misbehaviour the device shows, to test the client's error handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Halfway through the configuration output the TCP connection is dropped (no SSH
    /// disconnect, no channel close).
    DropMidOutput,
    /// After login the banner is printed and then nothing ever again: no prompt, no echo,
    /// but the connection stays open.
    NoPrompt,
    /// The TCP connection is accepted but nothing is ever sent, not even the SSH
    /// identification string; the socket stays open until the client closes it (or 10
    /// minutes pass). A host whose SSH daemon hangs, as a scanner reading banners meets it.
    Silent,
}

/// Everything that defines one simulated device.
#[derive(Debug, Clone)]
pub struct DeviceSpec {
    pub platform: Platform,
    pub hostname: String,
    /// The address to listen on instead of [`Sim::start`](crate::Sim::start)'s `bind`, so
    /// devices can sit on many loopback addresses (Linux accepts any of 127.0.0.0/8 without
    /// configuration; `::1` for IPv6).
    pub addr: Option<IpAddr>,
    /// The port to listen on instead of the one [`Sim::start`](crate::Sim::start) derives
    /// from `base_port` (0: an ephemeral port). Devices on different addresses may share one.
    pub port: Option<u16>,
    /// Accepted username/password pairs; any one of them logs in. On MikroTik a `+...` suffix
    /// of the username (`admin+ct`) is a login option and not part of the name.
    pub credentials: Vec<(String, String)>,
    /// Accepted public keys. A key logs in as any username listed in `credentials`, or as any
    /// username at all when `credentials` is empty.
    pub authorized_keys: Vec<russh::keys::PublicKey>,
    pub auth_mode: AuthMode,
    /// For platforms with `enable`: `Some` => login lands in user mode and `enable` asks for
    /// this secret; `None` => login lands in privileged mode. Ignored by other platforms.
    pub enable_secret: Option<String>,
    pub paging: Paging,
    /// Approximate number of lines of the generated running configuration.
    pub config_lines: usize,
    /// Delay between the shell opening (banner) and the first prompt.
    pub login_latency: Duration,
    /// Delay before the output of every command.
    pub command_latency: Duration,
    pub fault: Option<Fault>,
    /// Offer only legacy algorithms: kex diffie-hellman-group14-sha1 and group1-sha1, host key
    /// ssh-rsa, ciphers aes128-cbc and 3des-cbc, MAC hmac-sha1.
    pub legacy_only: bool,
    /// Seeds everything generated for the device (configuration, serial number, host key).
    pub seed: u64,
}

impl DeviceSpec {
    /// A device with one username/password, both auth methods, paging on, a ~300-line
    /// configuration, no latency, no fault, modern algorithms, seed 0, listening where
    /// [`Sim::start`](crate::Sim::start) puts it.
    pub fn new(
        platform: Platform,
        hostname: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        DeviceSpec {
            platform,
            hostname: hostname.into(),
            addr: None,
            port: None,
            credentials: vec![(username.into(), password.into())],
            authorized_keys: Vec::new(),
            auth_mode: AuthMode::default(),
            enable_secret: None,
            paging: Paging::default(),
            config_lines: 300,
            login_latency: Duration::ZERO,
            command_latency: Duration::ZERO,
            fault: None,
            legacy_only: false,
            seed: 0,
        }
    }
}
