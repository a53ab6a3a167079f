//! Platform ids (netmiko-style, stored in `devices.device_type`) and their display names, from
//! the compiled-in platform profiles.

pub use super::profile::Profile as Platform;
use super::profile::{all, find as find_profile};

/// Every platform users can pick, sorted by id.
pub fn platforms() -> &'static [Platform] {
    all()
}

pub fn find(id: &str) -> Option<&'static Platform> {
    find_profile(id)
}

/// The display name of a platform id, or the id itself if unknown.
pub fn name(id: &str) -> &str {
    find(id).map(|p| p.name.as_str()).unwrap_or(id)
}
