//! HTTP handlers, one module per area. Handlers parse input, check permission (`Auth<P>`), call a
//! service and render; the logic lives in `crate::services`.

pub mod assets;
pub mod audit;
pub mod auth;
pub mod backups;
pub mod client;
pub mod credentials;
pub mod dashboard;
pub mod device_access;
pub mod devices;
pub mod form;
pub mod health;
pub mod jobs;
pub mod list;
pub mod profile;
pub mod schedules;
pub mod search;
pub mod settings;
pub mod tag_cache;
pub mod tag_rules;
pub mod tags;
pub mod users;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use askama::Template;
use sea_orm::DatabaseConnection;

use crate::config::Settings;
use crate::crypto::Vault;
use crate::error::AppError;

/// Shared by every handler.
pub struct AppState {
    pub db: DatabaseConnection,
    /// Signs the cookies NetRaven sets itself (the sign-in form's CSRF token).
    pub cookie_key: actix_web::cookie::Key,
    pub queue: crate::jobs::Queue,
    pub vault: Vault,
    pub config: Settings,
    pub tags: tag_cache::TagCache,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", get().to(health::healthz))
        .route("/static/{name:.+}", get().to(assets::asset))
        .route("/login", get().to(auth::login_page))
        .route("/login", web::post().to(auth::login))
        .route("/logout", web::post().to(auth::logout))
        .route("/", get().to(dashboard::index))
        .route("/users", get().to(users::index))
        .route("/users", web::post().to(users::create))
        .route("/users/new", get().to(users::new_form))
        .route("/users/{id}", get().to(users::edit_form))
        .route("/users/{id}", web::post().to(users::update))
        .route(
            "/users/{id}/password",
            web::post().to(users::reset_password),
        )
        .route("/users/{id}/delete", get().to(users::confirm_delete))
        .route("/users/{id}/delete", web::post().to(users::delete))
        .route("/devices", get().to(devices::index))
        .route("/devices", web::post().to(devices::create))
        .route("/devices/new", get().to(devices::new_form))
        .route("/devices/bulk", web::post().to(devices::bulk))
        .route("/devices/backup", web::post().to(jobs::backup_selected))
        .route("/devices/export.csv", get().to(devices::export))
        .route("/devices/import", get().to(devices::import_form))
        .route("/devices/import", web::post().to(devices::import))
        .route("/devices/{id}", get().to(devices::show))
        .route("/devices/{id}", web::post().to(devices::update))
        .route("/devices/{id}/edit", get().to(devices::edit_form))
        .route("/devices/{id}/delete", get().to(devices::confirm_delete))
        .route("/devices/{id}/delete", web::post().to(devices::delete))
        .route("/devices/{id}/tags", web::post().to(devices::add_tag))
        // Stored versions: `diff` before `{version}`, which only takes digits anyway.
        .route("/devices/{id}/backups", get().to(backups::history))
        .route("/devices/{id}/backups/diff", get().to(backups::diff))
        .route(
            r"/devices/{id}/backups/{version:\d+}",
            get().to(backups::show),
        )
        .route(
            r"/devices/{id}/backups/{version:\d+}/download",
            get().to(backups::download),
        )
        .route(
            r"/devices/{id}/backups/{version:\d+}/changes",
            get().to(backups::changes),
        )
        .route("/search", get().to(search::index))
        .route("/devices/{id}/backup", web::post().to(jobs::backup_device))
        .route("/tags/{id}/backup", web::post().to(jobs::backup_tag))
        .route("/backup-all", web::post().to(jobs::backup_all))
        .route("/jobs", get().to(jobs::index))
        .route("/jobs/{id}", get().to(jobs::show))
        .route("/jobs/{id}/cancel", web::post().to(jobs::cancel))
        .route(
            "/devices/{id}/test-connection",
            web::post().to(device_access::test_connection),
        )
        .route(
            "/devices/{id}/host-key/accept",
            web::post().to(device_access::accept_host_key),
        )
        .route(
            "/devices/{id}/host-key/forget",
            web::post().to(device_access::forget_host_key),
        )
        .route(
            "/devices/{id}/tags/{tag_id}/remove",
            web::post().to(devices::remove_tag),
        )
        .route("/tags", get().to(tags::index))
        .route("/tags", web::post().to(tags::create))
        .route("/tags/new", get().to(tags::new_form))
        .route("/tags/{id}", get().to(tags::show))
        .route("/tags/{id}", web::post().to(tags::update))
        .route("/tags/{id}/edit", get().to(tags::edit_form))
        .route("/tags/{id}/delete", get().to(tags::confirm_delete))
        .route("/tags/{id}/delete", web::post().to(tags::delete))
        .route("/tags/{id}/rules", get().to(tag_rules::index))
        .route("/tags/{id}/rules", web::post().to(tag_rules::create))
        .route("/tags/{id}/rules/new", get().to(tag_rules::new_form))
        .route("/tags/{id}/rules/{rule_id}", get().to(tag_rules::edit_form))
        .route(
            "/tags/{id}/rules/{rule_id}",
            web::post().to(tag_rules::update),
        )
        .route(
            "/tags/{id}/rules/{rule_id}/apply",
            web::post().to(tag_rules::apply),
        )
        .route(
            "/tags/{id}/rules/{rule_id}/delete",
            get().to(tag_rules::confirm_delete),
        )
        .route(
            "/tags/{id}/rules/{rule_id}/delete",
            web::post().to(tag_rules::delete),
        )
        .route("/credentials", get().to(credentials::index))
        .route("/credentials", web::post().to(credentials::create))
        .route("/credentials/new", get().to(credentials::new_form))
        .route("/credentials/{id}", get().to(credentials::show))
        .route("/credentials/{id}", web::post().to(credentials::update))
        .route("/credentials/{id}/edit", get().to(credentials::edit_form))
        .route(
            "/credentials/{id}/tags",
            web::post().to(credentials::attach),
        )
        .route(
            "/credentials/{id}/tags/{tag_id}/remove",
            web::post().to(credentials::detach),
        )
        .route(
            "/credentials/{id}/delete",
            get().to(credentials::confirm_delete),
        )
        .route(
            "/credentials/{id}/delete",
            web::post().to(credentials::delete),
        )
        .route("/schedules", get().to(schedules::index))
        .route("/schedules", web::post().to(schedules::create))
        .route("/schedules/new", get().to(schedules::new_form))
        .route("/schedules/preview", get().to(schedules::preview))
        .route("/schedules/fields", get().to(schedules::fields))
        .route("/schedules/{id:\\d+}", get().to(schedules::show))
        .route("/schedules/{id:\\d+}", web::post().to(schedules::update))
        .route(
            "/schedules/{id:\\d+}/toggle",
            web::post().to(schedules::toggle),
        )
        .route(
            "/schedules/{id:\\d+}/delete",
            get().to(schedules::confirm_delete),
        )
        .route(
            "/schedules/{id:\\d+}/delete",
            web::post().to(schedules::delete),
        )
        .route(
            "/schedules/{id:\\d+}/run",
            web::post().to(schedules::run_now),
        )
        .route("/profile", get().to(profile::show))
        .route("/profile", web::post().to(profile::update))
        .route(
            "/profile/password",
            web::post().to(profile::change_password),
        )
        .route("/settings", get().to(settings::show))
        .route("/settings/{category}", web::post().to(settings::update))
        .route("/audit", get().to(audit::index))
        .default_service(web::to(not_found));
}

/// A GET route that answers HEAD too (actix-web matches methods exactly; the server leaves the
/// body out of a HEAD response by itself).
fn get() -> actix_web::Route {
    web::route().guard(actix_web::guard::Any(actix_web::guard::Get()).or(actix_web::guard::Head()))
}

async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}

/// Room for a whole page up front: askama sizes its buffer from the template's own text, a
/// fraction of a 50-row list (~40 KB), and each doubling copied everything written so far.
const RENDER_BUFFER: usize = 64 * 1024;

pub fn render(status: StatusCode, template: &impl Template) -> Result<HttpResponse, AppError> {
    let mut html = String::with_capacity(RENDER_BUFFER);
    template.render_into(&mut html)?;
    Ok(HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .body(html))
}

pub fn page(template: &impl Template) -> Result<HttpResponse, AppError> {
    render(StatusCode::OK, template)
}

/// The one rule for pages that htmx also asks for in parts: the whole `view`, or only the
/// `block` of it (askama block rendering) when the request wants a fragment
/// (`auth::extract::wants_fragment`, read before the view took the request's context).
pub fn page_or_block<'a, T: Template, B: Template>(
    fragment: bool,
    status: StatusCode,
    view: &'a T,
    block: impl FnOnce(&'a T) -> B,
) -> Result<HttpResponse, AppError> {
    if fragment {
        render(status, &block(view))
    } else {
        render(status, view)
    }
}

/// 303 after a successful POST, so a reload does not submit again.
pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

pub fn urlencode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// A redirect target from user input: only a path on this site.
pub fn safe_next(next: &str) -> &str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if ok { next } else { "/" }
}

#[cfg(test)]
mod tests {
    #[test]
    fn next_stays_on_site() {
        assert_eq!(super::safe_next("/users?page=2"), "/users?page=2");
        assert_eq!(super::safe_next("//evil.example"), "/");
        assert_eq!(super::safe_next("https://evil.example"), "/");
        assert_eq!(super::safe_next("/\\evil"), "/");
    }
}
