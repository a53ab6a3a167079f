//! devsim: a network-device simulator. One process serves many simulated devices, each a real
//! SSH server (russh) on its own port or address, speaking one platform's interactive CLI:
//! prompts, echo, paging, `enable`, configuration mode, realistic `show running-config`/`show
//! version` output with secrets and volatile lines, error messages, latency and faults.
//!
//! ```no_run
//! # async fn demo() -> Result<(), devsim::SimError> {
//! use devsim::{DeviceSpec, Platform, Sim};
//! let spec = DeviceSpec::new(Platform::CiscoIos, "r1", "admin", "admin");
//! let sim = Sim::start(vec![spec], "127.0.0.1".parse().unwrap(), 0).await?;
//! let port = sim.devices()[0].port;
//! // ... connect with an SSH client to 127.0.0.1:port ...
//! sim.change_config(0, "snmp-server location lab");
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! See `devsim/README.md` for every knob and each platform's behaviour.

mod cli;
mod clock;
mod device;
mod error;
pub mod fleet;
mod keys;
mod platform;
mod render;
mod rng;
mod server;
mod session;
mod sim;
mod spec;

pub use error::{SimError, UnknownPlatform};
pub use platform::Platform;
pub use sim::{RunningDevice, Sim};
pub use spec::{AuthMode, DeviceSpec, Fault, Paging};
