//! The simulator handle: starts every device's listener and controls running devices.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use russh::keys::PublicKey;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::device::Device;
use crate::error::SimError;
use crate::keys;
use crate::platform::Platform;
use crate::server;
use crate::spec::DeviceSpec;

/// A running device as the caller sees it.
#[derive(Debug, Clone)]
pub struct RunningDevice {
    pub index: usize,
    pub hostname: String,
    pub platform: Platform,
    /// Where the device's SSH server listens (its own address if the spec had one).
    pub addr: SocketAddr,
    /// `addr`'s port.
    pub port: u16,
    device: Arc<Device>,
}

impl RunningDevice {
    /// The host key the device presents now (changes with [`Sim::rotate_host_key`]).
    pub fn public_key(&self) -> PublicKey {
        self.device.public_key()
    }

    /// The SHA256 fingerprint of [`Self::public_key`], as OpenSSH prints it
    /// (`SHA256:...`).
    pub fn fingerprint(&self) -> String {
        keys::fingerprint(&self.device.public_key())
    }
}

/// A set of running simulated devices. Dropping it, or calling [`Sim::shutdown`], closes every
/// listener and session.
#[derive(Debug)]
pub struct Sim {
    devices: Vec<RunningDevice>,
    shutdown: watch::Sender<bool>,
    listeners: Vec<JoinHandle<()>>,
}

impl Sim {
    /// Starts one SSH server per spec on `bind`. Device `i` listens on `base_port + i`, or on
    /// an ephemeral port when `base_port` is 0. A spec's own [`DeviceSpec::addr`] and
    /// [`DeviceSpec::port`] replace `bind` and that port. All ports are bound before any device
    /// runs, so an error leaves nothing running.
    pub async fn start(
        specs: Vec<DeviceSpec>,
        bind: IpAddr,
        base_port: u16,
    ) -> Result<Sim, SimError> {
        let devices = specs.len();
        let mut bound = Vec::with_capacity(devices);
        for (index, spec) in specs.into_iter().enumerate() {
            let port = match spec.port {
                Some(port) => port,
                None if base_port == 0 => 0,
                None => u16::try_from(usize::from(base_port) + index)
                    .map_err(|_| SimError::PortRange { base_port, devices })?,
            };
            let addr = SocketAddr::new(spec.addr.unwrap_or(bind), port);
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|source| SimError::Bind { addr, source })?;
            let addr = listener
                .local_addr()
                .map_err(|source| SimError::Bind { addr, source })?;
            let device = Arc::new(Device::new(spec)?);
            bound.push((listener, addr, device));
        }
        let (shutdown, watcher) = watch::channel(false);
        let mut devices = Vec::with_capacity(bound.len());
        let mut listeners = Vec::with_capacity(bound.len());
        for (index, (listener, addr, device)) in bound.into_iter().enumerate() {
            devices.push(RunningDevice {
                index,
                hostname: device.spec.hostname.clone(),
                platform: device.spec.platform,
                addr,
                port: addr.port(),
                device: Arc::clone(&device),
            });
            listeners.push(tokio::spawn(server::serve(
                listener,
                device,
                watcher.clone(),
            )));
        }
        Ok(Sim {
            devices,
            shutdown,
            listeners,
        })
    }

    /// The running devices, in the order of the specs.
    pub fn devices(&self) -> &[RunningDevice] {
        &self.devices
    }

    fn device(&self, index: usize) -> &Device {
        &self.devices[index].device
    }

    /// Adds a line to device `index`'s configuration, where the platform shows added lines
    /// (usually at the end of the configuration; Junos `set` lines go into their hierarchy).
    /// Sessions see it in their next configuration read. Panics if `index` is out of range.
    pub fn change_config(&self, index: usize, line: &str) {
        self.device(index).add_config_line(line);
    }

    /// Makes device `index` present a new host key to new connections and returns it.
    /// Panics if `index` is out of range.
    pub fn rotate_host_key(&self, index: usize) -> Result<PublicKey, SimError> {
        self.device(index).rotate_host_key()
    }

    /// Changes the enable secret of device `index` for sessions started afterwards (`None`:
    /// they land in privileged mode). Panics if `index` is out of range.
    pub fn set_enable_secret(&self, index: usize, secret: Option<String>) {
        self.device(index).set_enable_secret(secret);
    }

    /// How many times device `index` saved its configuration: successful save commands
    /// (`write memory`, `copy running-config startup-config` and the like, answered `y` where
    /// the device asks; Huawei `save`; FRR `write memory`), commits where the commit is the save
    /// (Junos, IOS-XR, PAN-OS), and changes the device persists at once (a FortiOS `config`
    /// block closed with `end`, a RouterOS `add`/`set`/`remove`). Saving never changes the
    /// running configuration. Panics if `index` is out of range.
    pub fn saves(&self, index: usize) -> usize {
        self.device(index).saves()
    }

    /// How many logins to device `index` succeeded. Panics if `index` is out of range.
    pub fn sessions_served(&self, index: usize) -> u64 {
        self.device(index).sessions_served()
    }

    /// Stops every listener and session and waits for the listeners to finish.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        for task in std::mem::take(&mut self.listeners) {
            let _ = task.await;
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        for task in &self.listeners {
            task.abort();
        }
    }
}
