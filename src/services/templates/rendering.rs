//! Rendering one template for devices: parsed once, the devices' contexts read a chunk at a
//! time, each device's output or error on its own (a preview is one device; a push's dry run
//! many).

use sea_orm::DatabaseConnection;
use serde_json::{Map, Value};

use super::context;
use super::pre_run::PreRun;
use super::render::{Compiled, Rendered};
use crate::crypto::Vault;
use crate::entity::devices;
use crate::error::Error;

/// What one device's rendering made.
pub struct DeviceRendering {
    pub device_id: i32,
    pub hostname: String,
    pub outcome: Result<Rendered, String>,
    pub warnings: Vec<String>,
}

/// `Err` with the template's own error when it does not parse. `pre_run` holds each device's
/// parsed pre-run output (empty: the template has no pre-run command).
pub async fn for_devices(
    db: &DatabaseConnection,
    vault: &Vault,
    text: &str,
    devices: &[devices::Model],
    vars: &Map<String, Value>,
    reveal_secrets: bool,
    pre_run: &PreRun,
) -> Result<Result<Vec<DeviceRendering>, String>, Error> {
    let compiled = match Compiled::new(text) {
        Ok(c) => c,
        Err(why) => return Ok(Err(why)),
    };
    let reads = context::Reads {
        config: compiled.reads("config"),
        nautobot: compiled.reads("nautobot"),
    };
    let contexts = context::for_devices(db, vault, devices, vars, reveal_secrets, reads).await?;
    Ok(Ok(devices
        .iter()
        .zip(contexts)
        .map(|(d, mut c)| {
            let outcome = match pre_run.get(&d.id) {
                Some(Err(why)) => Err(why.clone()),
                Some(Ok(records)) => {
                    c.context["pre_run"] = records.clone();
                    compiled.render(&c.context)
                }
                None => compiled.render(&c.context),
            };
            DeviceRendering {
                device_id: d.id,
                hostname: d.hostname.clone(),
                outcome,
                warnings: c.warnings,
            }
        })
        .collect()))
}
