//! The device engine: SSH sessions to network devices, driven by platform profiles that are data.
//!
//! `fetch::fetch` is the entry point: it tries a device's credentials in order over the SSH
//! transport, runs the CLI state machine (`session`) with the platform's profile (`profile`,
//! one TOML file per platform in `profiles/`), and returns the configuration cleaned by the
//! profile's filters (`scrub`) with the facts it parsed (`facts`).

pub mod discover;
pub mod error;
pub mod facts;
pub mod fetch;
#[cfg(test)]
mod mask_forms;
pub mod platforms;
pub mod profile;
pub mod push;
pub mod scrub;
pub mod session;
pub mod text;
pub mod transport;

pub use error::{DeviceError, ErrorClass};
pub use fetch::{Credential, FetchError, Fetched, Options, Target, fetch};
