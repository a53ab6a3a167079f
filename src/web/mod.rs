//! HTTP handlers, one module per area. Handlers parse input, check permission (`Auth<P>`), call a
//! service and render; the logic lives in `crate::services`.

/// Registers an area's routes and lists them (`ROUTES`), so that the permission matrix test sees
/// every route there is: `routes! { GET r"/users" => index, POST r"/users" => create }`. Numeric
/// path parameters are written `{id:\d+}`, so a word in their place (`/devices/new`) never
/// reaches a handler that expects a number, whatever order the areas register in.
macro_rules! routes {
    ($($method:ident $path:literal => $handler:expr),* $(,)?) => {
        pub fn configure(cfg: &mut actix_web::web::ServiceConfig) {
            $( cfg.route($path, routes!(@method $method).to($handler)); )*
        }

        pub const ROUTES: &[(&str, &str)] = &[$((stringify!($method), $path)),*];
    };
    (@method GET) => { crate::web::get() };
    (@method POST) => { actix_web::web::post() };
    (@method PUT) => { actix_web::web::put() };
    (@method PATCH) => { actix_web::web::patch() };
    (@method DELETE) => { actix_web::web::delete() };
}

pub mod api;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod backups;
pub mod checkmk;
pub mod client;
pub mod commands;
pub mod config_templates;
pub mod credentials;
pub mod dashboard;
pub mod device_access;
pub mod devices;
pub mod diff_view;
pub mod discovery;
pub mod error;
pub mod form;
pub mod git;
pub mod health;
pub mod job_page;
pub mod jobs;
pub mod list;
pub mod nautobot;
pub mod oxidized;
pub mod profile;
pub mod push;
pub mod schedules;
pub mod search;
pub mod settings;
pub mod tag_cache;
pub mod tag_rules;
pub mod tags;
pub mod tokens;
pub mod users;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use askama::Template;
use sea_orm::DatabaseConnection;

use crate::config::Settings;
use crate::crypto::Vault;
use crate::web::error::AppError;

/// Shared by every handler.
pub struct AppState {
    pub db: DatabaseConnection,
    /// Signs the cookies NetRaven sets itself (the sign-in form's CSRF token).
    pub cookie_key: actix_web::cookie::Key,
    pub queue: crate::background::Queue,
    /// This process's workers, when it runs them (`serve` without `--no-workers`).
    pub health: crate::background::Health,
    pub vault: Vault,
    pub config: Settings,
    pub tags: tag_cache::TagCache,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    for (configure, _) in AREAS {
        configure(cfg);
    }
    cfg.default_service(web::to(not_found));
}

type Configure = fn(&mut web::ServiceConfig);

/// Every area's routes, registered in this order.
const AREAS: [(Configure, &[(&str, &str)]); 39] = [
    (health::configure, health::ROUTES),
    (assets::configure, assets::ROUTES),
    (auth::configure, auth::ROUTES),
    (dashboard::configure, dashboard::ROUTES),
    (users::configure, users::ROUTES),
    (devices::configure, devices::ROUTES),
    (jobs::configure, jobs::ROUTES),
    (job_page::configure, job_page::ROUTES),
    (backups::configure, backups::ROUTES),
    (search::configure, search::ROUTES),
    (device_access::configure, device_access::ROUTES),
    (tags::configure, tags::ROUTES),
    (tag_rules::configure, tag_rules::ROUTES),
    (credentials::configure, credentials::ROUTES),
    (schedules::configure, schedules::ROUTES),
    (git::configure, git::ROUTES),
    (nautobot::configure, nautobot::ROUTES),
    (checkmk::configure, checkmk::ROUTES),
    (config_templates::configure, config_templates::ROUTES),
    (commands::configure, commands::ROUTES),
    (push::configure, push::ROUTES),
    (discovery::configure, discovery::ROUTES),
    (profile::configure, profile::ROUTES),
    (tokens::configure, tokens::ROUTES),
    (settings::configure, settings::ROUTES),
    (audit::configure, audit::ROUTES),
    (api::system::configure, api::system::ROUTES),
    (api::devices::configure, api::devices::ROUTES),
    (api::backups::configure, api::backups::ROUTES),
    (api::search::configure, api::search::ROUTES),
    (api::tags::configure, api::tags::ROUTES),
    (api::tag_rules::configure, api::tag_rules::ROUTES),
    (api::jobs::configure, api::jobs::ROUTES),
    (api::schedules::configure, api::schedules::ROUTES),
    (api::credentials::configure, api::credentials::ROUTES),
    (api::users::configure, api::users::ROUTES),
    (api::admin::configure, api::admin::ROUTES),
    (api::docs::configure, api::docs::ROUTES),
    (oxidized::configure, oxidized::ROUTES),
];

/// Every route the application serves, as (method, path pattern): the permission matrix test
/// checks it has a row for each.
pub fn all_routes() -> impl Iterator<Item = (&'static str, &'static str)> {
    AREAS.iter().flat_map(|(_, routes)| routes.iter().copied())
}

/// A GET route that answers HEAD too (actix-web matches methods exactly; the server leaves the
/// body out of a HEAD response by itself).
pub(crate) fn get() -> actix_web::Route {
    web::route().guard(actix_web::guard::Any(actix_web::guard::Get()).or(actix_web::guard::Head()))
}

async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::not_found())
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

/// A download: the body with its type and file name.
pub fn attachment(name: &str, content_type: &str, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(body)
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
