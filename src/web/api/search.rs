//! `/api/v1/search`: the latest configuration of every device, searched by substring or regular
//! expression (`services::config_search`), masked as the search page masks it.

use actix_web::HttpResponse;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Params, ok};
use crate::auth::Auth;
use crate::auth::permissions::{ADMIN, READ};
use crate::device::platforms;
use crate::services::backups;
use crate::services::config_search::{self, DeviceHits, SearchQuery};
use crate::web::error::AppError;

routes! {
    GET r"/api/v1/search" => search,
}

#[derive(Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// The text, or the regular expression, to find.
    q: String,
    /// `q` is a regular expression.
    regex: bool,
    case_sensitive: bool,
    /// Only devices of this platform id.
    platform: Option<String>,
    /// Only devices with this tag id.
    tag: Option<i32>,
}

/// A matching or context line.
#[derive(Serialize, ToSchema)]
pub struct Line {
    /// From 1.
    pub no: usize,
    /// A matching line (else context around one).
    pub hit: bool,
    pub text: String,
}

/// A device whose latest configuration matches.
#[derive(Serialize, ToSchema)]
pub struct DeviceMatch {
    pub device_id: i32,
    pub hostname: String,
    pub device_type: String,
    /// The version searched (the latest).
    pub version: i32,
    pub matching_lines: usize,
    /// The first matching lines with their context; a `null` entry separates hunks.
    pub lines: Vec<Option<Line>>,
}

impl From<DeviceHits> for DeviceMatch {
    fn from(d: DeviceHits) -> Self {
        let mut lines = Vec::new();
        for (i, hunk) in d.hunks.into_iter().enumerate() {
            if i > 0 {
                lines.push(None);
            }
            lines.extend(hunk.lines.into_iter().map(|l| {
                Some(Line {
                    no: l.no,
                    hit: l.hit,
                    text: l.segments.into_iter().map(|s| s.text).collect(),
                })
            }));
        }
        Self {
            device_id: d.device_id,
            hostname: d.hostname,
            device_type: d.device_type,
            version: d.version,
            matching_lines: d.matching_lines,
            lines,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SearchAnswer {
    pub devices_searched: usize,
    pub devices_matched: usize,
    pub lines_matched: usize,
    /// The first matching devices by host name (at most 200).
    pub devices: Vec<DeviceMatch>,
    pub elapsed_ms: u128,
}

/// Search the latest configurations.
#[utoipa::path(get, path = "/api/v1/search", tag = "backups", params(SearchParams),
    responses((status = 200, body = SearchAnswer), (status = 400, body = super::ErrorBody),
        (status = 422, body = super::ErrorBody)))]
pub async fn search(
    auth: Auth<READ>,
    Params(p): Params<SearchParams>,
) -> Result<HttpResponse, AppError> {
    if p.q.trim().is_empty() {
        return Err(AppError::BadRequest("give the text to find as q".into()));
    }
    let platform = match p.platform.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(id) => Some(
            platforms::find(id)
                .ok_or_else(|| AppError::BadRequest(format!("there is no platform {id:?}")))?
                .id
                .to_string(),
        ),
    };
    let q = SearchQuery {
        text: p.q,
        regex: p.regex,
        case_sensitive: p.case_sensitive,
        platform,
        tag_id: p.tag,
    };
    let reveal = backups::reveals_secrets(auth.db(), auth.can(ADMIN)).await?;
    let found = config_search::search(auth.db(), &q, reveal).await?;
    Ok(ok(&SearchAnswer {
        devices_searched: found.devices_searched,
        devices_matched: found.devices_matched,
        lines_matched: found.lines_matched,
        elapsed_ms: found.elapsed.as_millis(),
        devices: found.devices.into_iter().map(DeviceMatch::from).collect(),
    }))
}
