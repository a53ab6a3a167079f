//! `/search`: the latest configuration of every device, searched by substring or regular
//! expression (`services::config_search`). The results are a block of the page that htmx
//! fetches as the user types, like the device list.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::form::accepted;
use super::page_or_block;
use crate::auth::permissions::{ADMIN, READ};
use crate::auth::{Auth, Ctx};
use crate::device::platforms::{self, Platform};
use crate::services::backups;
use crate::services::config_search::{
    self, MAX_DEVICES, MAX_LINES_PER_DEVICE, SearchQuery, SearchResults,
};
use crate::web::error::AppError;

routes! {
    GET r"/search" => index,
}

#[derive(Deserialize, Default)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
    /// `regex` or (anything else) substring.
    #[serde(default)]
    mode: String,
    /// A ticked checkbox: case-sensitive.
    case: Option<String>,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    platform: String,
}

impl SearchParams {
    fn regex(&self) -> bool {
        self.mode == "regex"
    }

    fn case_sensitive(&self) -> bool {
        self.case.is_some()
    }

    /// Unknown platforms and tags are ignored, as on the device list.
    fn query(&self) -> SearchQuery {
        let platform = self.platform.trim();
        SearchQuery {
            text: self.q.clone(),
            regex: self.regex(),
            case_sensitive: self.case_sensitive(),
            platform: platforms::find(platform).map(|_| platform.to_string()),
            tag_id: self.tag.trim().parse().ok(),
        }
    }
}

#[derive(Template)]
#[template(path = "search.html", blocks = ["results"])]
struct SearchPage {
    ctx: Ctx,
    f: SearchParams,
    all_tags: crate::web::tag_cache::Tags,
    results: Option<SearchResults>,
    error: Option<String>,
    secrets_shown: bool,
}

impl SearchPage {
    fn platforms(&self) -> &'static [Platform] {
        platforms::platforms()
    }
    fn platform_name<'a>(&self, id: &'a str) -> &'a str {
        platforms::name(id)
    }
    fn tag_selected(&self, id: &i32) -> bool {
        self.f.tag == id.to_string()
    }
    fn max_devices(&self) -> usize {
        MAX_DEVICES
    }
    fn max_lines(&self) -> usize {
        MAX_LINES_PER_DEVICE
    }
    fn elapsed_ms(&self) -> u128 {
        self.results.as_ref().map_or(0, |r| r.elapsed.as_millis())
    }
}

pub async fn index(
    auth: Auth<READ>,
    query: web::Query<SearchParams>,
) -> Result<HttpResponse, AppError> {
    let f = query.into_inner();
    let q = f.query();
    let reveal = backups::reveals_secrets(auth.db(), auth.can(ADMIN)).await?;
    let (results, error) = if q.is_blank() {
        (None, None)
    } else {
        match accepted(config_search::search(auth.db(), &q, reveal).await)? {
            Ok(r) => (Some(r), None),
            Err(errors) => {
                let message = errors.get("q").map(str::to_string);
                (None, message.or_else(|| Some(errors.summary())))
            }
        }
    };
    let fragment = auth.wants_fragment();
    // htmx swaps only 2xx responses, so the fragment carries its message with 200; a full page
    // with a message answers 422 like any form with invalid input.
    let status = if error.is_some() && !fragment {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let all_tags = auth.state.tags.get(auth.db()).await?;
    let view = SearchPage {
        ctx: auth.0,
        f,
        all_tags,
        results,
        error,
        secrets_shown: reveal,
    };
    page_or_block(fragment, status, &view, SearchPage::as_results)
}
