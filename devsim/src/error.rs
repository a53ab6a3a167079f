//! Errors of the simulator's public API.

use std::net::SocketAddr;

/// Why the simulator could not start or serve a device.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A device's TCP listener could not be bound (port in use, no permission, ...).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// `base_port + index` of a device without its own port does not fit in a TCP port number.
    #[error("{devices} devices starting at port {base_port} do not fit below port 65536")]
    PortRange { base_port: u16, devices: usize },
    /// The embedded legacy RSA host key could not be decoded (a build problem).
    #[error("cannot load the legacy RSA host key: {0}")]
    HostKey(#[from] russh::keys::ssh_key::Error),
    /// A device mix string (`cisco_ios:60,arista_eos:40`) is malformed.
    #[error("invalid device mix: {0}")]
    Mix(String),
    /// A fault list (`drop:2,badauth:10%`) is malformed or needs more devices than there are.
    #[error("invalid --fault: {0}")]
    Faults(String),
    /// An address range (`--spread 127.0.4.0/22`) is malformed, not loopback or too small.
    #[error("invalid --spread: {0}")]
    Spread(String),
    /// Writing the inventory file failed.
    #[error("cannot write the inventory: {0}")]
    Inventory(#[source] std::io::Error),
}

/// A string is not one of the platform ids.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown platform id `{0}`")]
pub struct UnknownPlatform(pub String);
