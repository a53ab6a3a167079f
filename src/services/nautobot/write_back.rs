//! After a backup job: the time of each device's successful backup written into a date/time
//! custom field of its Nautobot device, for the sources that ask for it. One bulk PATCH per
//! batch of devices; a failure is a warning in the job's log, never a failed backup.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use reqwest::Method;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, JoinType, QueryFilter,
    QuerySelect, RelationTrait,
};
use serde_json::{Value, json};

use super::client::{Client, NautobotError};
use crate::crypto::Vault;
use crate::entity::{devices, job_results, nautobot_sources as source};
use crate::error::Error;
use crate::services::jobs;
use crate::vocabulary::{DeviceSource, LogLevel, ResultStatus};

/// Devices per bulk PATCH.
pub const BATCH: usize = 500;

/// The sources that write back.
pub async fn sources(db: &impl ConnectionTrait) -> Result<Vec<source::Model>, Error> {
    Ok(source::Entity::find()
        .filter(source::Column::WriteBack.eq(true))
        .all(db)
        .await?)
}

/// How a custom field wants a point in time, from its type.
fn value_for(kind: &str, at: DateTime<Utc>) -> Option<Value> {
    match kind {
        "datetime" | "text" => Some(json!(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))),
        "date" => Some(json!(at.format("%Y-%m-%d").to_string())),
        _ => None,
    }
}

/// Write back the successful backups of job `job_id`.
pub async fn after_backup(
    db: &DatabaseConnection,
    vault: &Vault,
    job_id: i32,
) -> Result<(), Error> {
    let sources = sources(db).await?;
    if sources.is_empty() {
        return Ok(());
    }
    let log = |level, message: String| async move {
        jobs::entry(db, job_id, level, "nautobot", &message, None).await
    };
    let client = match Client::from_settings(db, vault).await {
        Ok(c) => c,
        Err(e) => {
            log(
                LogLevel::Warning,
                format!("Nautobot write-back skipped: {e}"),
            )
            .await?;
            return Ok(());
        }
    };
    for s in sources {
        let done: Vec<(String, Option<DateTime<Utc>>)> = job_results::Entity::find()
            .select_only()
            .column(devices::Column::ExternalId)
            .column(job_results::Column::FinishedAt)
            .join(JoinType::InnerJoin, job_results::Relation::Device.def())
            .filter(job_results::Column::JobLogId.eq(job_id))
            .filter(job_results::Column::Status.eq(ResultStatus::Success))
            .filter(devices::Column::NautobotSourceId.eq(s.id))
            .filter(devices::Column::Source.eq(DeviceSource::Nautobot))
            .filter(devices::Column::ExternalId.is_not_null())
            .into_tuple()
            .all(db)
            .await?;
        if done.is_empty() {
            continue;
        }
        match write(&client, &s, &done).await {
            Ok((written, gone)) => {
                log(
                    LogLevel::Info,
                    format!(
                        "Nautobot write-back (source {}): {} set on {written} devices",
                        s.name, s.write_back_field
                    ),
                )
                .await?;
                if !gone.is_empty() {
                    log(
                        LogLevel::Warning,
                        format!(
                            "Nautobot write-back (source {}): {} devices no longer exist in Nautobot (sync the source): {}",
                            s.name,
                            gone.len(),
                            gone.join(", ")
                        ),
                    )
                    .await?;
                }
            }
            Err(e) => {
                log(
                    LogLevel::Warning,
                    format!("Nautobot write-back (source {}) failed: {e}", s.name),
                )
                .await?
            }
        }
    }
    Ok(())
}

/// PATCHes the field on every device; returns how many Nautobot changed and the ids it did not
/// know (a bulk PATCH skips unknown ids without a word).
async fn write(
    client: &Client,
    s: &source::Model,
    done: &[(String, Option<DateTime<Utc>>)],
) -> Result<(usize, Vec<String>), NautobotError> {
    let field = &s.write_back_field;
    // Nautobot has no `key` filter on custom fields (a 400): the list is short, read it all.
    let defined = client.list("/api/extras/custom-fields/", &[], 5000).await?;
    let kind = defined
        .iter()
        .find(|f| f.get("key").and_then(Value::as_str) == Some(field.as_str()))
        .and_then(|f| f.get("type"))
        .and_then(|t| t.get("value").or(Some(t)))
        .and_then(Value::as_str)
        .map(str::to_string);
    let Some(kind) = kind else {
        return Err(NautobotError::Rejected {
            status: 404,
            what: format!("custom field {field}"),
            message: "Nautobot has no such custom field: create a Date/time custom field on dcim.device with this key".into(),
        });
    };
    let mut written = 0;
    let mut gone = Vec::new();
    for batch in done.chunks(BATCH) {
        let mut body = Vec::with_capacity(batch.len());
        for (id, at) in batch {
            let at = at.unwrap_or_else(Utc::now);
            let Some(value) = value_for(&kind, at) else {
                return Err(NautobotError::Rejected {
                    status: 400,
                    what: format!("custom field {field}"),
                    message: format!("its type is {kind}; use a Date/time (or Date) custom field"),
                });
            };
            body.push(json!({"id": id, "custom_fields": {field.as_str(): value}}));
        }
        let answer = client
            .call(
                Method::PATCH,
                "/api/dcim/devices/",
                &[],
                Some(&Value::Array(body)),
            )
            .await?;
        let returned: HashSet<&str> = answer
            .as_array()
            .map(|a| a.iter().filter_map(|d| d.get("id")?.as_str()).collect())
            .unwrap_or_default();
        written += returned.len();
        gone.extend(
            batch
                .iter()
                .filter(|(id, _)| !returned.contains(id.as_str()))
                .map(|(id, _)| id.clone()),
        );
    }
    Ok((written, gone))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_takes_the_custom_fields_form() {
        let at = DateTime::parse_from_rfc3339("2026-12-04T18:30:05Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            value_for("datetime", at),
            Some(json!("2026-12-04T18:30:05Z"))
        );
        assert_eq!(value_for("date", at), Some(json!("2026-12-04")));
        assert_eq!(value_for("integer", at), None);
    }
}
