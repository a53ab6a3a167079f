//! A scan's results: filtered for the page, all of them for the CSV export, and the newest
//! scheduled scan's new devices for the dashboard.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::entity::discovery_results;
use crate::error::Error;
use crate::vocabulary::DiscoveryOutcome;

/// The page's filters.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub outcome: Option<DiscoveryOutcome>,
    /// Only identified devices not in the inventory.
    pub new_only: bool,
}

pub async fn of_job(
    db: &impl ConnectionTrait,
    job_id: i32,
    f: &Filter,
) -> Result<Vec<discovery_results::Model>, Error> {
    let mut q = discovery_results::Entity::find()
        .filter(discovery_results::Column::JobLogId.eq(job_id))
        .order_by_asc(discovery_results::Column::Id);
    if let Some(o) = f.outcome {
        q = q.filter(discovery_results::Column::Outcome.eq(o));
    }
    if f.new_only {
        q = q
            .filter(discovery_results::Column::Outcome.eq(DiscoveryOutcome::Identified))
            .filter(discovery_results::Column::DeviceId.is_null());
    }
    let mut rows = q.all(db).await?;
    // Addresses in numeric order (127.0.0.10 after 127.0.0.9), then ports.
    rows.sort_by_key(|r| (r.address.parse::<std::net::IpAddr>().ok(), r.port));
    Ok(rows)
}

/// One CSV field, quoted when it must be.
fn field(text: &str) -> String {
    // A leading =, +, - or @ would be a formula in a spreadsheet.
    let safe = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if safe.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", safe.replace('"', "\"\""))
    } else {
        safe
    }
}

/// Every row as CSV, with a header.
pub fn csv(rows: &[discovery_results::Model]) -> String {
    let mut out = String::from(
        "address,port,stage,outcome,message,banner,credential,platform,hostname,model,serial_number,os_version,in_inventory\n",
    );
    for r in rows {
        let cells = [
            r.address.clone(),
            r.port.to_string(),
            r.outcome.stage().to_string(),
            r.outcome.as_str().to_string(),
            r.message.clone(),
            r.banner.clone().unwrap_or_default(),
            r.credential_name.clone().unwrap_or_default(),
            r.platform.clone().unwrap_or_default(),
            r.hostname.clone().unwrap_or_default(),
            r.model.clone().unwrap_or_default(),
            r.serial_number.clone().unwrap_or_default(),
            r.os_version.clone().unwrap_or_default(),
            if r.device_id.is_some() { "yes" } else { "no" }.to_string(),
        ];
        let line: Vec<String> = cells.iter().map(|c| field(c)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}
