//! A template's pre-run command: run on each device before rendering (logged in with the
//! device's credentials, as a command run), its output parsed with the template's TextFSM parser
//! into a list of records, the context's `pre_run`. A device that cannot be reached or whose
//! output does not parse gets an error of its own; the others render.

use std::collections::HashMap;

use futures_util::{StreamExt, stream};
use sea_orm::{DatabaseConnection, EntityTrait};
use serde_json::Value;

use super::textfsm::Fsm;
use crate::crypto::Vault;
use crate::device::fetch::Collect;
use crate::entity::{devices, templates};
use crate::error::Error;
use crate::services::device_access;

/// Devices asked at once.
const CONCURRENCY: usize = 32;

/// A device's parsed records, or why there are none.
pub type PreRunOutcome = Result<Value, String>;

/// Each device's outcome, by device id.
pub type PreRun = HashMap<i32, PreRunOutcome>;

/// Runs `t`'s pre-run command on `devices` (nothing when it has none).
pub async fn collect(
    db: &DatabaseConnection,
    vault: &Vault,
    t: &templates::Model,
    devices: &[devices::Model],
    on_behalf_of: Option<i32>,
) -> Result<PreRun, Error> {
    let (Some(command), Some(parser_id)) = (&t.pre_run_command, t.pre_run_parser_id) else {
        return Ok(PreRun::new());
    };
    let parser = templates::Entity::find_by_id(parser_id)
        .one(db)
        .await?
        .filter(|p| p.deleted_at.is_none());
    let fsm = match parser.as_ref().map(|p| Fsm::compile(&p.content)) {
        Some(Ok(fsm)) => fsm,
        Some(Err(e)) => {
            let why = format!("the pre-run parser does not compile: {e}");
            return Ok(devices.iter().map(|d| (d.id, Err(why.clone()))).collect());
        }
        None => {
            let why = "the pre-run parser template was deleted".to_string();
            return Ok(devices.iter().map(|d| (d.id, Err(why.clone()))).collect());
        }
    };
    let step = device_access::step_timeout(db).await?;
    let fsm = &fsm;
    let results: Vec<Result<(i32, PreRunOutcome), Error>> = stream::iter(devices)
        .map(|device| async move {
            let collect = Collect::Commands(vec![command.clone()]);
            let contact =
                device_access::contact(db, vault, device, on_behalf_of, collect, step, false)
                    .await?;
            contact.record(db).await?;
            let outcome = match &contact.result {
                Err(e) => Err(format!("the pre-run command could not run: {}", e.error)),
                Ok(fetched) => match fetched.outputs.first().map(|o| &o.output) {
                    Some(Ok(text)) => fsm
                        .parse(text)
                        .map(|records| serde_json::json!(records))
                        .map_err(|e| format!("the pre-run output does not parse: {e}")),
                    Some(Err(refused)) => Err(format!(
                        "the device refused the pre-run command {command:?}: {refused}"
                    )),
                    None => Err("the pre-run command returned nothing".into()),
                },
            };
            Ok((device.id, outcome))
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    results.into_iter().collect()
}
