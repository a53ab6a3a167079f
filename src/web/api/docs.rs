//! The API's description: the OpenAPI 3.1 document built from the handlers' annotations
//! (`/api/v1/openapi.json`) and a page that lists every endpoint with its parameters and an
//! example (`/api/docs`), served by NetRaven itself.

use std::sync::OnceLock;

use actix_web::HttpResponse;
use askama::Template;
use serde_json::Value;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi};

use super::{
    NoParams, Params, admin, backups, credentials, devices, jobs, schedules, search, system,
    tag_rules, tags, users,
};
use crate::auth::{Ctx, SignedIn};
use crate::web::error::AppError;
use crate::web::page;

routes! {
    GET r"/api/v1/openapi.json" => openapi_json,
    GET r"/api/docs" => docs_page,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "NetRaven API",
        description = "Network configuration backup: the inventory, stored configurations and jobs.\n\nAuthenticate with an API token made under Profile: `Authorization: Bearer <token>` (or `Token <token>`). A token acts with the permissions it was given that its owner still holds. Lists answer `{count, next, previous, results}` with `limit` (default 50, at most 1000) and `offset`. Errors answer `{error, title, status, fields}`; an unknown query parameter is a 400 that names it."
    ),
    paths(
        system::health, system::me,
        devices::list, devices::create, devices::show, devices::update, devices::delete,
        backups::list, backups::show, backups::content, backups::diff, search::search,
        tags::list, tags::create, tags::show, tags::update, tags::delete,
        tag_rules::list, tag_rules::create, tag_rules::preview, tag_rules::show,
        tag_rules::update, tag_rules::delete, tag_rules::apply,
        jobs::list, jobs::start, jobs::show, jobs::results, jobs::log, jobs::cancel,
        schedules::list, schedules::create, schedules::show, schedules::update,
        schedules::delete, schedules::run,
        credentials::list, credentials::create, credentials::show, credentials::update,
        credentials::delete, credentials::tag_links, credentials::attach, credentials::detach,
        credentials::for_device,
        users::list, users::create, users::show, users::update, users::delete,
        admin::settings_list, admin::settings_update, admin::audit_list,
    ),
    components(schemas(super::ErrorBody, crate::services::users::UserStatus)),
    modifiers(&TokenAuth, &OperationIds),
    security(("token" = [])),
    tags(
        (name = "system", description = "Health and the caller"),
        (name = "devices", description = "The inventory"),
        (name = "backups", description = "Stored configuration versions"),
        (name = "tags", description = "Tags that group devices"),
        (name = "tag_rules", description = "Rules that give a tag to the devices they match"),
        (name = "jobs", description = "Backup jobs"),
        (name = "schedules", description = "When jobs run by themselves"),
        (name = "credentials", description = "Device credentials (secrets are write-only)"),
        (name = "users", description = "User accounts (user_manage)"),
        (name = "admin", description = "Settings and the audit log (admin)"),
    )
)]
pub struct ApiDoc;

struct TokenAuth;

impl Modify for TokenAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token made under Profile → API tokens."))
                    .build(),
            ),
        );
    }
}

/// Operation ids are the handlers' names, which repeat across areas (`list`, `show`): each is
/// prefixed with its area's tag (`devices_list`), so that client generators get unique names.
struct OperationIds;

impl Modify for OperationIds {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for op in operations.into_iter().flatten() {
                let area = op.tags.as_ref().and_then(|t| t.first()).cloned();
                if let (Some(area), Some(id)) = (area, op.operation_id.as_mut()) {
                    *id = format!("{area}_{id}");
                }
            }
        }
    }
}

/// `limit` and `offset`, as every list endpoint reads them (`ListParams`); here only to be
/// described in the document.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct Window {
    /// Rows per window (default 50, at most 1000).
    limit: Option<u64>,
    /// Rows to skip.
    offset: Option<u64>,
}

/// The document as JSON, built once.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null))
}

pub async fn openapi_json(_: SignedIn, _: Params<NoParams>) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(document()))
}

/// One endpoint as the page lists it.
struct Endpoint {
    method: String,
    path: String,
    tag: String,
    summary: String,
    params: Vec<Param>,
    body: Option<String>,
    responses: Vec<(String, String)>,
    example: String,
}

struct Param {
    name: String,
    location: String,
    required: bool,
    kind: String,
    description: String,
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The type of a schema in a word: its `$ref` name, or its `type`.
fn kind(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_string();
    }
    match schema.get("type") {
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect::<Vec<_>>()
            .join(" | "),
        Some(Value::String(t)) => t.clone(),
        _ => schema
            .get("oneOf")
            .and_then(Value::as_array)
            .map(|alts| {
                alts.iter()
                    .map(kind)
                    .filter(|k| k != "null")
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .unwrap_or_default(),
    }
}

fn endpoints(origin: &str) -> Vec<Endpoint> {
    let doc = document();
    let mut out = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            let params = op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|p| Param {
                    name: text(p, "name"),
                    location: text(p, "in"),
                    required: p.get("required").and_then(Value::as_bool).unwrap_or(false),
                    kind: p.get("schema").map(kind).unwrap_or_default(),
                    description: text(p, "description"),
                })
                .collect();
            let body = op
                .pointer("/requestBody/content/application~1json/schema")
                .map(kind);
            let responses = op
                .get("responses")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(code, r)| {
                    let schema = r
                        .get("content")
                        .and_then(Value::as_object)
                        .and_then(|c| c.values().next())
                        .and_then(|c| c.get("schema"))
                        .map(kind)
                        .unwrap_or_default();
                    (code.clone(), schema)
                })
                .collect();
            let method = method.to_uppercase();
            let mut example = String::from("curl -H \"Authorization: Bearer $NETRAVEN_TOKEN\"");
            if method != "GET" {
                example.push_str(&format!(" -X {method}"));
            }
            if body.is_some() {
                example.push_str(" -H \"Content-Type: application/json\" -d '{…}'");
            }
            example.push_str(&format!(
                " {origin}{}",
                path.replace("{id}", "1").replace("{version}", "1")
            ));
            out.push(Endpoint {
                tag: op
                    .pointer("/tags/0")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                summary: text(op, "summary"),
                method,
                path: path.clone(),
                params,
                body,
                responses,
                example,
            });
        }
    }
    out
}

#[derive(Template)]
#[template(path = "api/docs.html")]
struct DocsPage {
    ctx: Ctx,
    endpoints: Vec<Endpoint>,
    description: String,
}

pub async fn docs_page(auth: SignedIn) -> Result<HttpResponse, AppError> {
    let origin = super::own_origin(&auth.request);
    page(&DocsPage {
        endpoints: endpoints(&origin),
        description: document()
            .pointer("/info/description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        ctx: auth.0,
    })
}
