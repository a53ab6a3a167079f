//! CSS and htmx, compiled into the binary and served under versioned paths with long caching.

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::crypto::sha256_hex;
use crate::web::error::AppError;

routes! {
    GET r"/static/{name:.+}" => asset,
}

const CSS: &str = include_str!("../../static/css/app.css");
const HTMX: &str = include_str!("../../static/vendor/htmx-2.0.11.min.js");
pub const HTMX_HREF: &str = "/static/vendor/htmx-2.0.11.min.js";

/// The stylesheet's path carries a hash of its content, so a new build is never served stale.
pub fn css_href() -> &'static str {
    static HREF: OnceLock<String> = OnceLock::new();
    HREF.get_or_init(|| format!("/static/app.{}.css", &sha256_hex(CSS.as_bytes())[..12]))
}

fn immutable(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(body)
}

pub async fn asset(path: web::Path<String>) -> Result<HttpResponse, AppError> {
    let name = path.into_inner();
    if format!("/static/{name}") == css_href() {
        Ok(immutable("text/css; charset=utf-8", CSS))
    } else if format!("/static/{name}") == HTMX_HREF {
        Ok(immutable("text/javascript; charset=utf-8", HTMX))
    } else {
        Err(AppError::not_found())
    }
}
