//! The routes oxidized-web serves, answered the way it answers them, for the tools that already
//! call Oxidized (LibreNMS's configuration tab, NetBox plugins, exporters, chat bots). They take
//! an API token like the JSON API, also as the password of HTTP Basic (tools that only take a
//! URL with credentials). The shapes are oxidized-web's: JSON with a `.json` suffix or
//! `format=json`, text otherwise, and a text answer asked for as JSON is an array of its lines.
//!
//! Where oxidized-web answers a missing node with a 500, this answers a 404 with a plain text
//! body (never JSON: LibreNMS takes any JSON body for a found node). Where it answers 200 with a
//! message (`unable to find …`, `version not found`, `No diff available`), so does this.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use crate::auth::Auth;
use crate::auth::permissions::{READ, WRITE};
use crate::entity::devices;
use crate::services::jobs::{self, Target};
use crate::services::oxidized::{self, listed};
use crate::services::{backups, config_diff};
use crate::vocabulary::LogLevel;
use crate::web::backups::visible_texts;
use crate::web::error::AppError;

routes! {
    GET r"/nodes" => nodes,
    GET r"/nodes.json" => nodes,
    GET r"/node/show/{node}" => show,
    GET r"/node/fetch/{node}" => fetch,
    GET r"/node/fetch/{group:.+}/{node}" => fetch,
    GET r"/node/version" => versions,
    GET r"/node/version.json" => versions,
    GET r"/node/version/view" => view,
    GET r"/node/version/view.json" => view,
    GET r"/node/version/diffs" => diffs,
    GET r"/node/next/{node}" => next,
    PUT r"/node/next/{node}" => next,
    GET r"/node/next/{group:.+}/{node}" => next,
    PUT r"/node/next/{group:.+}/{node}" => next,
    GET r"/reload" => reload,
    GET r"/reload.json" => reload,
}

/// Whether a path is one of these routes (their errors are plain text: `web::error`).
pub fn owns(path: &str) -> bool {
    path == "/nodes"
        || path == "/nodes.json"
        || path.starts_with("/node/")
        || path == "/reload"
        || path == "/reload.json"
}

/// A query parameter's value.
fn param(req: &HttpRequest, name: &str) -> Option<String> {
    form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .last()
}

/// Whether the request asks for JSON: a `.json` suffix on the path or `format=json`.
fn wants_json(req: &HttpRequest) -> bool {
    req.path().ends_with(".json") || param(req, "format").as_deref() == Some("json")
}

/// A node name from the path, without the `.json` suffix that asks for JSON.
fn node_name(raw: &str) -> (&str, bool) {
    match raw.strip_suffix(".json") {
        Some(name) => (name, true),
        None => (raw, false),
    }
}

/// Text as oxidized-web sends it: as is, or as JSON, the array of its lines (each keeping its
/// line end, as Ruby's `String#lines`).
fn text(body: String, json: bool) -> HttpResponse {
    if json {
        let lines: Vec<&str> = body.split_inclusive('\n').collect();
        HttpResponse::Ok().json(lines)
    } else {
        HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
            .body(body)
    }
}

fn json<T: Serialize>(value: &T) -> HttpResponse {
    HttpResponse::Ok().json(value)
}

/// No such node: plain text, never JSON.
fn unknown(name: &str) -> HttpResponse {
    HttpResponse::build(StatusCode::NOT_FOUND)
        .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
        .body(format!("unable to find '{name}'"))
}

async fn device(auth: &crate::auth::Ctx, name: &str) -> Result<Option<devices::Model>, AppError> {
    Ok(oxidized::find(auth.db(), name).await?)
}

/// Every node; the HTML list oxidized-web shows without JSON is the device list here.
pub async fn nodes(auth: Auth<READ>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    if !wants_json(&req) {
        return Ok(crate::web::redirect("/devices"));
    }
    let all = oxidized::nodes(auth.db()).await?;
    Ok(json(&all.into_iter().map(listed).collect::<Vec<_>>()))
}

pub async fn show(
    auth: Auth<READ>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (name, suffix) = node_name(&path);
    let Some(device) = device(&auth, name).await? else {
        return Ok(unknown(name));
    };
    if !(suffix || wants_json(&req)) {
        return Ok(crate::web::redirect(&format!("/devices/{}", device.id)));
    }
    Ok(json(&oxidized::show(auth.db(), &device).await?))
}

/// The latest configuration, as text unless JSON is asked for; the group is ignored.
pub async fn fetch(auth: Auth<READ>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let raw = req.match_info().get("node").unwrap_or_default().to_string();
    let (name, suffix) = node_name(&raw);
    let as_json = suffix || wants_json(&req);
    let Some(device) = device(&auth, name).await? else {
        return Ok(text(format!("unable to find '{name}'"), as_json));
    };
    let Some(latest) = backups::latest(auth.db(), device.id).await? else {
        return Ok(text("node not found".into(), as_json));
    };
    let mut texts = visible_texts(&auth, &device, &[&latest], "oxidized fetch").await?;
    Ok(text(texts.pop().unwrap_or_default(), as_json))
}

/// The node a `node_full` (`[group/]name`) or `node` parameter names.
fn requested_node(req: &HttpRequest, key: &str) -> Result<String, AppError> {
    let full = param(req, key)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| AppError::BadRequest(format!("the {key} parameter is missing")))?;
    let name = full.rsplit('/').next().unwrap_or(&full);
    Ok(node_name(name).0.to_string())
}

/// A node's versions, newest first.
pub async fn versions(auth: Auth<READ>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let name = requested_node(&req, "node_full")?;
    let Some(device) = device(&auth, &name).await? else {
        return Ok(unknown(&name));
    };
    let list = oxidized::versions(auth.db(), &device).await?;
    if wants_json(&req) {
        Ok(json(&list))
    } else {
        // oxidized-web's page of versions; the device's version history here.
        Ok(crate::web::redirect(&format!(
            "/devices/{}/backups",
            device.id
        )))
    }
}

/// One version's text (`oid`); `date`, `num` and `epoch` only label oxidized-web's page.
pub async fn view(auth: Auth<READ>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let name = requested_node(&req, "node")?;
    let as_json = wants_json(&req);
    let Some(device) = device(&auth, &name).await? else {
        return Ok(unknown(&name));
    };
    let oid = param(&req, "oid").unwrap_or_default();
    let Some(version) = oxidized::version_by_oid(auth.db(), &device, &oid).await? else {
        return Ok(text("version not found".into(), as_json));
    };
    let mut texts = visible_texts(&auth, &device, &[&version], "oxidized view").await?;
    Ok(text(texts.pop().unwrap_or_default(), as_json))
}

/// The change `oid` made: against `oid2` when it is one of the node's versions, else against
/// the version before, as a unified diff.
pub async fn diffs(auth: Auth<READ>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let name = requested_node(&req, "node")?;
    let as_json = wants_json(&req);
    let Some(device) = device(&auth, &name).await? else {
        return Ok(unknown(&name));
    };
    let oid = param(&req, "oid").unwrap_or_default();
    let Some(new) = oxidized::version_by_oid(auth.db(), &device, &oid).await? else {
        return Ok(text("No diff available".into(), as_json));
    };
    let old = match param(&req, "oid2") {
        Some(oid2) => match oxidized::version_by_oid(auth.db(), &device, &oid2).await? {
            Some(old) => Some(old),
            None => oxidized::parent(auth.db(), &new).await?,
        },
        None => oxidized::parent(auth.db(), &new).await?,
    };
    let Some(old) = old else {
        return Ok(text("No diff available".into(), as_json));
    };
    let texts = visible_texts(&auth, &device, &[&old, &new], "oxidized diff").await?;
    let (Some(old_text), Some(new_text)) = (texts.first(), texts.get(1)) else {
        return Err(AppError::internal("a version's text went missing"));
    };
    let file = &device.hostname;
    let patch = config_diff::unified_text(
        old_text,
        new_text,
        &format!("a/{file}"),
        &format!("b/{file}"),
        3,
    );
    let body = if patch.is_empty() {
        "No diff available".to_string()
    } else {
        format!("diff --git a/{file} b/{file}\n{patch}")
    };
    Ok(text(body, as_json))
}

/// What a tool may say when it asks for a backup (LibreNMS sends `user` and `msg`).
#[derive(serde::Deserialize, Default)]
struct NextBody {
    user: Option<String>,
    msg: Option<String>,
    from: Option<String>,
}

/// Back the node up now. With a `.json` suffix the answer is `["ok"]`; otherwise a redirect to
/// the node list, as oxidized-web does.
pub async fn next(
    auth: Auth<WRITE>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let raw = req.match_info().get("node").unwrap_or_default().to_string();
    let (name, suffix) = node_name(&raw);
    let Some(device) = device(&auth, name).await? else {
        return Ok(unknown(name));
    };
    let said: NextBody = if body.is_empty() {
        NextBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| AppError::BadRequest(format!("the body is not a JSON object: {e}")))?
    };
    let job = jobs::start_backup(
        auth.db(),
        &auth.state.queue,
        &auth.audit_actor(),
        Target::Device(device.id),
        auth.user.id,
        auth.user.debug,
    )
    .await?;
    let words: Vec<String> = [
        ("by", said.user),
        ("from", said.from),
        ("message", said.msg),
    ]
    .into_iter()
    .filter_map(|(label, v)| {
        v.filter(|v| !v.is_empty())
            .map(|v| format!("{label} {v:?}"))
    })
    .collect();
    if !words.is_empty() {
        let note: String = format!("Requested through the Oxidized API {}", words.join(", "))
            .chars()
            .take(1000)
            .collect();
        jobs::entry(auth.db(), job.id, LogLevel::Info, "request", &note, None).await?;
    }
    if suffix {
        return Ok(text("ok".into(), true));
    }
    let status = if req.method() == actix_web::http::Method::GET {
        StatusCode::FOUND
    } else {
        StatusCode::SEE_OTHER
    };
    Ok(HttpResponse::build(status)
        .insert_header((header::LOCATION, "/nodes"))
        .finish())
}

/// Oxidized reloads its node list from its source here; NetRaven's inventory is always current,
/// so there is nothing to do but say so.
pub async fn reload(_: Auth<READ>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let message = match param(&req, "node") {
        Some(node) => format!("reloaded {node}"),
        None => "reloaded list of nodes".to_string(),
    };
    Ok(text(message, wants_json(&req)))
}
