//! Request handling, independent of the HTTP server: a parsed [`Req`] in, a [`Reply`] out.
//! Shapes follow CheckMK 2.x's REST API (`cmk/gui/openapi/...`); see README.md for sources
//! and for what is guessed.

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::{Map, Value, json};

use crate::state::{
    Change, Folder, Host, Run, State, folder_slug, hash_of_dict, normalize_folder, now, parent_of,
};

/// What the HTTP layer extracted from a request.
pub(crate) struct Req<'a> {
    pub method: &'a str,
    /// Path after the API base, starting with `/` (still percent-encoded).
    pub path: &'a str,
    pub query: &'a str,
    pub authorization: Option<&'a str>,
    pub if_match: Option<&'a str>,
    pub body: &'a [u8],
    /// Absolute API base for links: `http://127.0.0.1:PORT/cmk/check_mk/api/1.0`.
    pub base_url: String,
    /// Path of the API base: `/cmk/check_mk/api/1.0`.
    pub base_path: String,
}

/// What to answer.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: Option<Value>,
    pub problem: bool,
    /// Unquoted ETag value; the HTTP layer quotes it.
    pub etag: Option<String>,
    pub location: Option<String>,
}

impl Reply {
    fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            body: Some(body),
            problem: false,
            etag: None,
            location: None,
        }
    }

    fn empty(status: u16) -> Reply {
        Reply {
            status,
            body: None,
            problem: false,
            etag: None,
            location: None,
        }
    }

    fn with_etag(mut self, etag: String) -> Reply {
        self.etag = Some(etag);
        self
    }
}

/// A problem object (RFC 7807 as CheckMK renders it): `title`, `status`, `detail`, and
/// optionally `fields` / `ext`.
pub(crate) fn problem(status: u16, title: &str, detail: &str) -> Reply {
    problem_with(status, title, detail, None, None)
}

fn problem_with(
    status: u16,
    title: &str,
    detail: &str,
    fields: Option<Value>,
    ext: Option<Value>,
) -> Reply {
    let mut body = json!({"title": title, "status": status, "detail": detail});
    if let Some(fields) = fields {
        body["fields"] = fields;
    }
    if let Some(ext) = ext {
        body["ext"] = ext;
    }
    Reply {
        status,
        body: Some(body),
        problem: true,
        etag: None,
        location: None,
    }
}

/// A 400 for request-body validation errors, marshmallow-style: `fields` maps each field to
/// its messages.
fn validation(fields: Map<String, Value>) -> Reply {
    let names: Vec<&str> = fields.keys().map(String::as_str).collect();
    let detail = format!("These fields have problems: {}", names.join(", "));
    problem_with(
        400,
        "Bad Request",
        &detail,
        Some(Value::Object(fields)),
        None,
    )
}

fn field_error(field: &str, message: impl Into<String>) -> Reply {
    let mut fields = Map::new();
    fields.insert(field.into(), json!([message.into()]));
    validation(fields)
}

/// The 404 CheckMK answers when a path parameter does not validate (unknown host/folder).
fn path_not_found(field: &str, message: String) -> Reply {
    problem_with(
        404,
        "Not Found",
        &format!("These fields have problems: {field}"),
        Some(json!({ field: [message] })),
        None,
    )
}

const MISSING: &str = "Missing data for required field.";

const NOT_FOUND_DETAIL: &str = "The requested URL was not found on the server. If you entered \
                                the URL manually please check your spelling and try again.";

/// Host attributes the simulator accepts (plus every `tag_*`). CheckMK rejects unknown ones.
const HOST_ATTRIBUTES: &[&str] = &[
    "alias",
    "ipaddress",
    "ipv6address",
    "additional_ipv4addresses",
    "additional_ipv6addresses",
    "bake_agent_package",
    "cmk_agent_connection",
    "site",
    "parents",
    "snmp_community",
    "labels",
    "contactgroups",
    "locked_by",
    "locked_attributes",
    "inventory_failed",
    "waiting_for_discovery",
    "management_address",
    "management_protocol",
    "management_snmp_community",
    "management_ipmi_credentials",
    "network_scan",
    "network_scan_result",
    "relay",
    "meta_data",
];

enum Route {
    Version,
    Hosts,
    HostBulk(String),
    Host(String),
    HostMove(String),
    Folders,
    Folder(String),
    PendingChanges,
    RunningActivations,
    Activate,
    Activation(String),
    WaitForCompletion(String),
}

fn route(path: &str) -> Option<Route> {
    let segs: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    Some(match s.as_slice() {
        ["version"] => Route::Version,
        ["domain-types", "host_config", "collections", "all"] => Route::Hosts,
        ["domain-types", "host_config", "actions", action, "invoke"]
            if matches!(*action, "bulk-create" | "bulk-update" | "bulk-delete") =>
        {
            Route::HostBulk(action.to_string())
        }
        ["objects", "host_config", name] => Route::Host(name.to_string()),
        ["objects", "host_config", name, "actions", "move", "invoke"] => {
            Route::HostMove(name.to_string())
        }
        ["domain-types", "folder_config", "collections", "all"] => Route::Folders,
        ["objects", "folder_config", slug] => Route::Folder(slug.to_string()),
        [
            "domain-types",
            "activation_run",
            "collections",
            "pending_changes",
        ] => Route::PendingChanges,
        ["domain-types", "activation_run", "collections", "running"] => Route::RunningActivations,
        [
            "domain-types",
            "activation_run",
            "actions",
            "activate-changes",
            "invoke",
        ] => Route::Activate,
        ["objects", "activation_run", id] => Route::Activation(id.to_string()),
        [
            "objects",
            "activation_run",
            id,
            "actions",
            "wait-for-completion",
            "invoke",
        ] => Route::WaitForCompletion(id.to_string()),
        _ => return None,
    })
}

fn allowed(route: &Route) -> &'static [&'static str] {
    match route {
        Route::Version
        | Route::PendingChanges
        | Route::RunningActivations
        | Route::Folder(_)
        | Route::Activation(_)
        | Route::WaitForCompletion(_) => &["GET"],
        Route::Hosts | Route::Folders => &["GET", "POST"],
        Route::HostBulk(action) if action == "bulk-update" => &["PUT"],
        Route::HostBulk(_) | Route::HostMove(_) | Route::Activate => &["POST"],
        Route::Host(_) => &["GET", "PUT", "DELETE"],
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == name).then(|| percent_decode(&v.replace('+', " ")))
    })
}

fn query_bool(query: &str, name: &str) -> bool {
    query_param(query, name).is_some_and(|v| matches!(v.as_str(), "true" | "True" | "1"))
}

/// Handles one request against the state (already settled by the caller).
pub(crate) fn handle(state: &mut State, req: &Req) -> Reply {
    let Some(route) = route(req.path) else {
        return problem(404, "Not Found", NOT_FOUND_DETAIL);
    };
    if !allowed(&route).contains(&req.method) {
        return problem(
            405,
            "Method Not Allowed",
            "The method is not allowed for the requested URL.",
        );
    }
    if let Some(reply) = check_auth(state, req.authorization) {
        return reply;
    }
    if let Route::Host(name) | Route::HostMove(name) = &route
        && state.fail_hosts.iter().any(|h| h == name)
    {
        return problem(
            500,
            "Internal Server Error",
            &format!("Simulated failure while processing host {name:?}."),
        );
    }
    let body = match parse_body(req) {
        Ok(body) => body,
        Err(reply) => return reply,
    };
    let ctx = Ctx {
        base: &req.base_url,
        base_path: &req.base_path,
        if_match: req.if_match,
        query: req.query,
    };
    match (route, req.method) {
        (Route::Version, _) => version(state),
        (Route::Hosts, "GET") => list_hosts(state, &ctx),
        (Route::Hosts, _) => create_host(state, &ctx, &body),
        (Route::HostBulk(action), _) => match action.as_str() {
            "bulk-create" => bulk_create(state, &ctx, &body),
            "bulk-update" => bulk_update(state, &ctx, &body),
            _ => bulk_delete(state, &body),
        },
        (Route::Host(name), "GET") => show_host(state, &ctx, &name),
        (Route::Host(name), "PUT") => update_host(state, &ctx, &name, &body),
        (Route::Host(name), _) => delete_host(state, &name),
        (Route::HostMove(name), _) => move_host(state, &ctx, &name, &body),
        (Route::Folders, "GET") => list_folders(state, &ctx),
        (Route::Folders, _) => create_folder(state, &ctx, &body),
        (Route::Folder(slug), _) => show_folder(state, &ctx, &slug),
        (Route::PendingChanges, _) => pending_changes(state, &ctx),
        (Route::RunningActivations, _) => running_activations(state, &ctx),
        (Route::Activate, _) => activate(state, &ctx, &body),
        (Route::Activation(id), _) => show_activation(state, &ctx, &id),
        (Route::WaitForCompletion(id), _) => wait_for_completion(state, &ctx, &id),
    }
}

struct Ctx<'a> {
    base: &'a str,
    base_path: &'a str,
    if_match: Option<&'a str>,
    query: &'a str,
}

fn check_auth(state: &State, authorization: Option<&str>) -> Option<Reply> {
    let Some(header) = authorization else {
        return Some(problem(
            401,
            "Unauthorized",
            "You need to be authenticated to use the REST API.",
        ));
    };
    let expected = format!("Bearer {} {}", state.user, state.secret);
    if header == expected {
        return None;
    }
    Some(problem(
        401,
        "Unauthorized",
        "Wrong credentials (Bearer header)",
    ))
}

fn parse_body(req: &Req) -> Result<Value, Reply> {
    if !matches!(req.method, "POST" | "PUT") {
        return Ok(Value::Null);
    }
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    match serde_json::from_slice::<Value>(req.body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(field_error("_schema", "Invalid input type.")),
        Err(e) => Err(problem(
            400,
            "Bad Request",
            &format!("Invalid JSON in request body: {e}"),
        )),
    }
}

/// `If-Match` check as `constructors.require_etag`: missing → 428, no match (and not `*`) → 412.
fn require_etag(if_match: Option<&str>, expected: &str, ext: Option<Value>) -> Option<Reply> {
    let header = if_match.map(str::trim).filter(|h| !h.is_empty());
    let Some(header) = header else {
        return Some(problem_with(
            428,
            "Precondition required",
            "If-Match header required for this operation. See documentation.",
            None,
            ext,
        ));
    };
    let matches = header.split(',').map(str::trim).any(|tag| {
        let tag = tag.strip_prefix("W/").unwrap_or(tag);
        tag == "*" || tag.trim_matches('"') == expected
    });
    if matches {
        return None;
    }
    Some(problem_with(
        412,
        "Precondition failed",
        &format!(
            "ETag didn't match. Expected {expected}. Probable cause: Object changed by another user."
        ),
        None,
        ext,
    ))
}

fn link(rel: &str, href: String, method: &str) -> Value {
    let rel = if let Some(rest) = rel.strip_prefix(".../") {
        format!("urn:org.restfulobjects:rels/{rest}")
    } else if let Some(rest) = rel.strip_prefix("cmk/") {
        format!("urn:com.checkmk:rels/{rest}")
    } else {
        rel.to_string()
    };
    json!({
        "domainType": "link",
        "rel": rel,
        "href": href,
        "method": method,
        "type": "application/json",
    })
}

fn version(state: &State) -> Reply {
    Reply::json(
        200,
        json!({
            "site": state.site,
            "group": "",
            "rest_api": {"revision": "0"},
            "versions": {
                "apache": [2, 4, 62],
                "checkmk": "2.3.0p20.cre",
                "python": "3.12.3",
                "mod_wsgi": [5, 0, 0],
                "wsgi": [1, 0],
            },
            "edition": "cre",
            "demo": false,
        }),
    )
}

// ---------------------------------------------------------------------------------- hosts

fn without_meta(attributes: &Map<String, Value>) -> Map<String, Value> {
    attributes
        .iter()
        .filter(|(k, _)| k.as_str() != "meta_data")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

pub(crate) fn host_etag(name: &str, host: &Host) -> String {
    hash_of_dict(&json!({
        "name": name,
        "attributes": without_meta(&host.attributes),
        "cluster_nodes": null,
    }))
}

fn effective_attributes(state: &State, host: &Host) -> Value {
    let mut chain = Vec::new();
    let mut current = Some(host.folder.clone());
    while let Some(path) = current {
        current = parent_of(&path);
        chain.push(path);
    }
    let mut merged = Map::new();
    for path in chain.iter().rev() {
        if let Some(folder) = state.folders.get(path) {
            merged.extend(without_meta(&folder.attributes));
        }
    }
    merged.extend(host.attributes.clone());
    Value::Object(merged)
}

fn host_json(state: &State, ctx: &Ctx, name: &str, host: &Host, effective: bool) -> Value {
    let uri = format!("{}/objects/host_config/{name}", ctx.base);
    let mut folder_link = link(
        "cmk/folder_config",
        format!(
            "{}/objects/folder_config/{}",
            ctx.base,
            folder_slug(&host.folder)
        ),
        "GET",
    );
    folder_link["title"] = json!("The folder config of the host.");
    let title = host
        .attributes
        .get("alias")
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
        .unwrap_or(name);
    json!({
        "links": [
            link("self", uri.clone(), "GET"),
            link(".../update", uri.clone(), "PUT"),
            link(".../delete", uri, "DELETE"),
            folder_link,
        ],
        "domainType": "host_config",
        "id": name,
        "title": title,
        "members": {},
        "extensions": {
            "folder": host.folder,
            "attributes": host.attributes,
            "effective_attributes": if effective { effective_attributes(state, host) } else { Value::Null },
            "is_cluster": false,
            "is_offline": host.attributes.get("tag_criticality").and_then(Value::as_str) == Some("offline"),
            "cluster_nodes": null,
        },
    })
}

fn host_collection(state: &State, ctx: &Ctx, names: &[String], effective: bool) -> Value {
    let value: Vec<Value> = names
        .iter()
        .filter_map(|n| state.hosts.get(n).map(|h| (n, h)))
        .map(|(n, h)| host_json(state, ctx, n, h, effective))
        .collect();
    json!({
        "id": "host",
        "domainType": "host_config",
        "value": value,
        "links": [link("self", format!("{}/domain-types/host_config/collections/all", ctx.base), "GET")],
        "extensions": {},
    })
}

fn serve_host(state: &State, ctx: &Ctx, name: &str, effective: bool) -> Reply {
    let host = &state.hosts[name];
    Reply::json(200, host_json(state, ctx, name, host, effective)).with_etag(host_etag(name, host))
}

fn list_hosts(state: &State, ctx: &Ctx) -> Reply {
    let effective = query_bool(ctx.query, "effective_attributes");
    let names: Vec<String> = state.hosts.keys().cloned().collect();
    Reply::json(200, host_collection(state, ctx, &names, effective))
}

fn valid_host_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Validates host attributes; `Err` holds marshmallow-style messages per attribute.
fn check_attributes(value: Option<&Value>) -> Result<Map<String, Value>, Value> {
    let Some(value) = value else {
        return Ok(Map::new());
    };
    let Some(map) = value.as_object() else {
        return Err(json!(["Not a valid mapping type."]));
    };
    let mut errors = Map::new();
    for (key, v) in map {
        let known = HOST_ATTRIBUTES.contains(&key.as_str()) || key.starts_with("tag_");
        if !known {
            errors.insert(key.clone(), json!(["Unknown field."]));
            continue;
        }
        let ok = match key.as_str() {
            "labels" => v
                .as_object()
                .is_some_and(|m| m.values().all(Value::is_string)),
            "parents" | "additional_ipv4addresses" | "additional_ipv6addresses" => v.is_array(),
            "alias" | "ipaddress" | "ipv6address" | "site" => v.is_string(),
            k if k.starts_with("tag_") => v.is_string() || v.is_null(),
            _ => true,
        };
        if !ok {
            errors.insert(key.clone(), json!(["Invalid value."]));
        }
    }
    if errors.is_empty() {
        Ok(without_meta(map))
    } else {
        Err(Value::Object(errors))
    }
}

/// A validated create entry: host name, folder path, attributes.
type NewHost = (String, String, Map<String, Value>);

/// Validates one create entry (`host_name`, `folder`, `attributes`); `names_taken` are host
/// names created earlier in the same request.
fn check_create_entry(
    state: &State,
    entry: &Value,
    names_taken: &[String],
) -> Result<NewHost, Map<String, Value>> {
    let mut errors = Map::new();
    let Some(obj) = entry.as_object() else {
        errors.insert("_schema".into(), json!(["Invalid input type."]));
        return Err(errors);
    };
    for key in obj.keys() {
        if !matches!(key.as_str(), "host_name" | "folder" | "attributes") {
            errors.insert(key.clone(), json!(["Unknown field."]));
        }
    }
    let name = obj.get("host_name").and_then(Value::as_str).unwrap_or("");
    match obj.get("host_name") {
        None => {
            errors.insert("host_name".into(), json!([MISSING]));
        }
        Some(_) if !valid_host_name(name) => {
            errors.insert(
                "host_name".into(),
                json!([format!(
                    "{name:?} does not match pattern '^[-0-9a-zA-Z_.]+\\Z'."
                )]),
            );
        }
        Some(_) if state.hosts.contains_key(name) || names_taken.iter().any(|n| n == name) => {
            errors.insert(
                "host_name".into(),
                json!([format!("Host {name:?} already exists.")]),
            );
        }
        Some(_) => {}
    }
    let folder = match obj.get("folder").and_then(Value::as_str) {
        None => {
            errors.insert("folder".into(), json!([MISSING]));
            String::new()
        }
        Some(f) => {
            let path = normalize_folder(f);
            if !state.folders.contains_key(&path) {
                errors.insert(
                    "folder".into(),
                    json!([format!("The folder {f:?} could not be found.")]),
                );
            }
            path
        }
    };
    let attributes = match check_attributes(obj.get("attributes")) {
        Ok(a) => a,
        Err(e) => {
            errors.insert("attributes".into(), e);
            Map::new()
        }
    };
    if errors.is_empty() {
        Ok((name.to_string(), folder, attributes))
    } else {
        Err(errors)
    }
}

fn insert_host(state: &mut State, name: &str, folder: String, mut attributes: Map<String, Value>) {
    attributes.insert("meta_data".into(), state.meta_data());
    state
        .hosts
        .insert(name.to_string(), Host { folder, attributes });
    state.add_change("create-host", format!("Created new host {name}."));
}

fn create_host(state: &mut State, ctx: &Ctx, body: &Value) -> Reply {
    let (name, folder, attributes) = match check_create_entry(state, body, &[]) {
        Ok(entry) => entry,
        Err(errors) => return validation(errors),
    };
    insert_host(state, &name, folder, attributes);
    serve_host(state, ctx, &name, false)
}

fn touch(host: &mut Host) {
    if let Some(Value::Object(meta)) = host.attributes.get_mut("meta_data") {
        meta.insert("updated_at".into(), json!(now()));
    }
}

/// Applies `attributes` / `update_attributes` / `remove_attributes`; returns the names of
/// attributes asked to be removed that did not exist.
fn apply_update(host: &mut Host, update: &Parsed) -> Vec<String> {
    let meta = host.attributes.get("meta_data").cloned();
    if let Some(new) = &update.attributes {
        host.attributes = new.clone();
        if let Some(meta) = meta {
            host.attributes.insert("meta_data".into(), meta);
        }
    }
    if let Some(new) = &update.update_attributes {
        host.attributes.extend(new.clone());
    }
    let mut missing = Vec::new();
    for key in &update.remove_attributes {
        if host.attributes.remove(key).is_none() {
            missing.push(key.clone());
        }
    }
    touch(host);
    missing
}

struct Parsed {
    attributes: Option<Map<String, Value>>,
    update_attributes: Option<Map<String, Value>>,
    remove_attributes: Vec<String>,
}

fn parse_update(
    obj: &Map<String, Value>,
    allow_host_name: bool,
) -> Result<Parsed, Map<String, Value>> {
    let mut errors = Map::new();
    for key in obj.keys() {
        let ok = matches!(
            key.as_str(),
            "attributes" | "update_attributes" | "remove_attributes"
        ) || (allow_host_name && key == "host_name");
        if !ok {
            errors.insert(key.clone(), json!(["Unknown field."]));
        }
    }
    let mut parsed = Parsed {
        attributes: None,
        update_attributes: None,
        remove_attributes: Vec::new(),
    };
    for (key, slot) in [
        ("attributes", &mut parsed.attributes),
        ("update_attributes", &mut parsed.update_attributes),
    ] {
        if let Some(v) = obj.get(key) {
            match check_attributes(Some(v)) {
                Ok(map) => *slot = Some(map),
                Err(e) => {
                    errors.insert(key.into(), e);
                }
            }
        }
    }
    if let Some(v) = obj.get("remove_attributes") {
        match v.as_array() {
            Some(items) if items.iter().all(Value::is_string) => {
                parsed.remove_attributes = items
                    .iter()
                    .filter_map(|i| i.as_str().map(String::from))
                    .collect();
            }
            _ => {
                errors.insert("remove_attributes".into(), json!(["Not a valid list."]));
            }
        }
    }
    let actions = ["attributes", "update_attributes", "remove_attributes"]
        .iter()
        .filter(|k| obj.contains_key(**k))
        .count();
    if actions > 1 {
        errors.insert(
            "_schema".into(),
            json!([format!(
                "This endpoint only allows 1 action (set/update/remove) per call, you specified {actions} actions."
            )]),
        );
    }
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(errors)
    }
}

fn host_not_found(name: &str) -> Reply {
    path_not_found("host_name", format!("Host not found: {name:?}"))
}

fn show_host(state: &State, ctx: &Ctx, name: &str) -> Reply {
    if !state.hosts.contains_key(name) {
        return host_not_found(name);
    }
    serve_host(
        state,
        ctx,
        name,
        query_bool(ctx.query, "effective_attributes"),
    )
}

fn host_etag_check(state: &State, ctx: &Ctx, name: &str) -> Option<Reply> {
    let host = &state.hosts[name];
    let ext = json!({
        "name": name,
        "attributes": without_meta(&host.attributes),
        "cluster_nodes": null,
    });
    require_etag(ctx.if_match, &host_etag(name, host), Some(ext))
}

fn update_host(state: &mut State, ctx: &Ctx, name: &str, body: &Value) -> Reply {
    if !state.hosts.contains_key(name) {
        return host_not_found(name);
    }
    let parsed = match parse_update(body.as_object().expect("object body"), false) {
        Ok(p) => p,
        Err(errors) => return validation(errors),
    };
    if let Some(reply) = host_etag_check(state, ctx, name) {
        return reply;
    }
    let host = state.hosts.get_mut(name).expect("checked above");
    let missing = apply_update(host, &parsed);
    state.add_change("edit-host", format!("Modified host {name}."));
    if !missing.is_empty() {
        return problem(
            400,
            "Some attributes were not removed",
            &format!(
                "The following attributes were not removed since they didn't exist: {}",
                missing.join(", ")
            ),
        );
    }
    serve_host(state, ctx, name, false)
}

fn delete_host(state: &mut State, name: &str) -> Reply {
    if state.hosts.remove(name).is_none() {
        return host_not_found(name);
    }
    state.add_change("delete-host", format!("Deleted host {name}"));
    Reply::empty(204)
}

fn move_host(state: &mut State, ctx: &Ctx, name: &str, body: &Value) -> Reply {
    if !state.hosts.contains_key(name) {
        return host_not_found(name);
    }
    let obj = body.as_object().expect("object body");
    let mut errors = Map::new();
    for key in obj.keys().filter(|k| k.as_str() != "target_folder") {
        errors.insert(key.clone(), json!(["Unknown field."]));
    }
    let target = match obj.get("target_folder").and_then(Value::as_str) {
        None => {
            errors.insert("target_folder".into(), json!([MISSING]));
            String::new()
        }
        Some(f) => {
            let path = normalize_folder(f);
            if !state.folders.contains_key(&path) {
                errors.insert(
                    "target_folder".into(),
                    json!([format!("The folder {f:?} could not be found.")]),
                );
            }
            path
        }
    };
    if !errors.is_empty() {
        return validation(errors);
    }
    if let Some(reply) = host_etag_check(state, ctx, name) {
        return reply;
    }
    if state.refuse_move_while_pending && !state.pending.is_empty() {
        return problem(
            428,
            "Pending changes",
            "There are pending changes that have not been activated yet. Activate them before \
             moving hosts.",
        );
    }
    let host = state.hosts.get_mut(name).expect("checked above");
    if host.folder == target {
        return problem(
            400,
            "Invalid move action",
            "The host is already part of the specified target folder",
        );
    }
    let from = std::mem::replace(&mut host.folder, target.clone());
    touch(host);
    state.add_change(
        "move-host",
        format!("Moved host {name} from folder {from} to {target}"),
    );
    serve_host(state, ctx, name, false)
}

fn entries(body: &Value) -> Result<&Vec<Value>, Reply> {
    match body.get("entries") {
        None => Err(field_error("entries", MISSING)),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(field_error("entries", "Not a valid list.")),
    }
}

fn entry_errors(errors: BTreeMap<usize, Map<String, Value>>) -> Reply {
    let nested: Map<String, Value> = errors
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::Object(v)))
        .collect();
    let mut fields = Map::new();
    fields.insert("entries".into(), Value::Object(nested));
    validation(fields)
}

fn bulk_create(state: &mut State, ctx: &Ctx, body: &Value) -> Reply {
    let items = match entries(body) {
        Ok(items) => items,
        Err(reply) => return reply,
    };
    let mut valid = Vec::new();
    let mut errors = BTreeMap::new();
    let mut taken = Vec::new();
    for (i, entry) in items.iter().enumerate() {
        match check_create_entry(state, entry, &taken) {
            Ok(e) => {
                taken.push(e.0.clone());
                valid.push(e);
            }
            Err(e) => {
                errors.insert(i, e);
            }
        }
    }
    if !errors.is_empty() {
        return entry_errors(errors);
    }
    for (name, folder, attributes) in valid {
        insert_host(state, &name, folder, attributes);
    }
    Reply::json(200, host_collection(state, ctx, &taken, false))
}

fn bulk_update(state: &mut State, ctx: &Ctx, body: &Value) -> Reply {
    let items = match entries(body) {
        Ok(items) => items,
        Err(reply) => return reply,
    };
    let mut parsed = Vec::new();
    let mut errors: BTreeMap<usize, Map<String, Value>> = BTreeMap::new();
    for (i, entry) in items.iter().enumerate() {
        let Some(obj) = entry.as_object() else {
            let mut e = Map::new();
            e.insert("_schema".into(), json!(["Invalid input type."]));
            errors.insert(i, e);
            continue;
        };
        let mut e = match parse_update(obj, true) {
            Ok(p) => {
                parsed.push((obj.get("host_name").and_then(Value::as_str), p));
                Map::new()
            }
            Err(e) => e,
        };
        match obj.get("host_name").and_then(Value::as_str) {
            None => {
                e.insert("host_name".into(), json!([MISSING]));
            }
            Some(name) if !state.hosts.contains_key(name) => {
                e.insert(
                    "host_name".into(),
                    json!([format!("Host not found: {name:?}")]),
                );
            }
            Some(_) => {}
        }
        if !e.is_empty() {
            errors.insert(i, e);
        }
    }
    if !errors.is_empty() {
        return entry_errors(errors);
    }
    let mut succeeded = Vec::new();
    let mut failed = Map::new();
    for (name, update) in parsed {
        let name = name.expect("validated").to_string();
        let host = state.hosts.get_mut(&name).expect("validated");
        let missing = apply_update(host, &update);
        state.add_change("edit-host", format!("Modified host {name}."));
        if missing.is_empty() {
            succeeded.push(name);
        } else {
            failed.insert(
                name,
                json!(format!("Failed to remove {}", missing.join(", "))),
            );
        }
    }
    if !failed.is_empty() {
        let names: Vec<&str> = failed.keys().map(String::as_str).collect();
        let detail = format!(
            "Some of the actions were performed but the following were faulty and were skipped: {}.",
            names.join(" ,")
        );
        let ext = json!({
            "succeeded_hosts": host_collection(state, ctx, &succeeded, false),
            "failed_hosts": failed,
        });
        return problem_with(400, "Some actions failed", &detail, None, Some(ext));
    }
    Reply::json(200, host_collection(state, ctx, &succeeded, false))
}

fn bulk_delete(state: &mut State, body: &Value) -> Reply {
    let items = match entries(body) {
        Ok(items) => items,
        Err(reply) => return reply,
    };
    let mut errors: Map<String, Value> = Map::new();
    let mut names = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_str() {
            Some(name) if state.hosts.contains_key(name) => names.push(name.to_string()),
            Some(name) => {
                errors.insert(i.to_string(), json!([format!("Host not found: {name:?}")]));
            }
            None => {
                errors.insert(i.to_string(), json!(["Not a valid string."]));
            }
        }
    }
    if !errors.is_empty() {
        let mut fields = Map::new();
        fields.insert("entries".into(), Value::Object(errors));
        return validation(fields);
    }
    for name in names {
        if state.hosts.remove(&name).is_some() {
            state.add_change("delete-host", format!("Deleted host {name}"));
        }
    }
    Reply::empty(204)
}

// -------------------------------------------------------------------------------- folders

fn folder_hosts(state: &State, path: &str) -> Vec<String> {
    state
        .hosts
        .iter()
        .filter(|(_, h)| h.folder == path)
        .map(|(n, _)| n.clone())
        .collect()
}

fn folder_etag(state: &State, path: &str, folder: &Folder) -> String {
    hash_of_dict(&json!({
        "path": path,
        "attributes": without_meta(&folder.attributes),
        "hosts": folder_hosts(state, path),
    }))
}

fn folder_json(state: &State, ctx: &Ctx, path: &str, folder: &Folder, show_hosts: bool) -> Value {
    let slug = folder_slug(path);
    let uri = format!("{}/objects/folder_config/{slug}", ctx.base);
    let mut members = Map::new();
    if show_hosts {
        let hosts: Vec<Value> = folder_hosts(state, path)
            .into_iter()
            .map(|n| {
                let mut l = link(
                    ".../value",
                    format!("{}/objects/host_config/{n}", ctx.base),
                    "GET",
                );
                l["rel"] = json!("urn:org.restfulobjects:rels/value;collection=\"items\"");
                l["title"] = json!(n);
                l
            })
            .collect();
        members.insert(
            "hosts".into(),
            json!({
                "id": "hosts",
                "memberType": "collection",
                "value": hosts,
                "links": [link("self", format!("{uri}/collections/hosts"), "GET")],
            }),
        );
    }
    let mut attributes = folder.attributes.clone();
    attributes
        .entry("meta_data")
        .or_insert_with(|| json!({"created_at": null, "updated_at": null, "created_by": null}));
    json!({
        "links": [
            link("self", uri.clone(), "GET"),
            link(".../update", uri.clone(), "PUT"),
            link(".../delete", uri, "DELETE"),
        ],
        "domainType": "folder_config",
        "id": slug,
        "title": folder.title,
        "members": members,
        "extensions": {"path": path, "attributes": attributes},
    })
}

fn list_folders(state: &State, ctx: &Ctx) -> Reply {
    let parent = normalize_folder(&query_param(ctx.query, "parent").unwrap_or_default());
    if !state.folders.contains_key(&parent) {
        return problem_with(
            400,
            "Bad Request",
            "These fields have problems: parent",
            Some(json!({"parent": [format!("The folder {parent:?} could not be found.")]})),
            None,
        );
    }
    let recursive = query_bool(ctx.query, "recursive");
    let show_hosts = query_bool(ctx.query, "show_hosts");
    let prefix = if parent == "/" {
        "/".to_string()
    } else {
        format!("{parent}/")
    };
    let value: Vec<Value> = state
        .folders
        .iter()
        .filter(|(path, _)| {
            if recursive {
                **path == parent || path.starts_with(&prefix)
            } else {
                parent_of(path).as_deref() == Some(parent.as_str())
            }
        })
        .map(|(path, f)| folder_json(state, ctx, path, f, show_hosts))
        .collect();
    Reply::json(
        200,
        json!({
            "id": "folders",
            "domainType": "folder_config",
            "value": value,
            "links": [link("self", format!("{}/domain-types/folder_config/collections/all", ctx.base), "GET")],
            "extensions": {},
        }),
    )
}

fn create_folder(state: &mut State, ctx: &Ctx, body: &Value) -> Reply {
    let obj = body.as_object().expect("object body");
    let mut errors = Map::new();
    for key in obj.keys() {
        if !matches!(key.as_str(), "name" | "title" | "parent" | "attributes") {
            errors.insert(key.clone(), json!(["Unknown field."]));
        }
    }
    let title = obj.get("title").and_then(Value::as_str).unwrap_or("");
    if title.is_empty() {
        errors.insert("title".into(), json!([MISSING]));
    }
    let parent = match obj.get("parent").and_then(Value::as_str) {
        None => {
            errors.insert("parent".into(), json!([MISSING]));
            String::new()
        }
        Some(p) => {
            let path = normalize_folder(p);
            if !state.folders.contains_key(&path) {
                errors.insert(
                    "parent".into(),
                    json!([format!("The folder {p:?} could not be found.")]),
                );
            }
            path
        }
    };
    let name = obj
        .get("name")
        .and_then(Value::as_str)
        .map(String::from)
        .unwrap_or_else(|| {
            title
                .to_lowercase()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect()
        });
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
    {
        errors.insert(
            "name".into(),
            json!([format!("Invalid folder name {name:?}.")]),
        );
    }
    let attributes = match obj.get("attributes") {
        None => Map::new(),
        Some(Value::Object(m)) => without_meta(m),
        Some(_) => {
            errors.insert("attributes".into(), json!(["Not a valid mapping type."]));
            Map::new()
        }
    };
    if !errors.is_empty() {
        return validation(errors);
    }
    let path = if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    };
    if state.folders.contains_key(&path) {
        return field_error("name", format!("The folder {path:?} already exists."));
    }
    let mut attributes = attributes;
    attributes.insert("meta_data".into(), state.meta_data());
    let folder = Folder {
        title: title.to_string(),
        attributes,
    };
    state.folders.insert(path.clone(), folder);
    state.add_change("new-folder", format!("Created new folder {path}"));
    let folder = &state.folders[&path];
    Reply::json(200, folder_json(state, ctx, &path, folder, false))
        .with_etag(folder_etag(state, &path, folder))
}

fn show_folder(state: &State, ctx: &Ctx, slug: &str) -> Reply {
    let path = normalize_folder(slug);
    let Some(folder) = state.folders.get(&path) else {
        return path_not_found("folder", format!("The folder {slug:?} could not be found."));
    };
    let show_hosts = query_param(ctx.query, "show_hosts").is_none_or(|v| v == "true");
    Reply::json(200, folder_json(state, ctx, &path, folder, show_hosts))
        .with_etag(folder_etag(state, &path, folder))
}

// ----------------------------------------------------------------------------- activation

fn pending_changes(state: &State, ctx: &Ctx) -> Reply {
    let value: Vec<Value> = state.pending.iter().map(Change::to_json).collect();
    Reply::json(
        200,
        json!({
            "id": "activation_run",
            "domainType": "activation_run",
            "links": [link(
                "cmk/activate",
                format!("{}/domain-types/activation_run/actions/activate-changes/invoke", ctx.base),
                "POST",
            )],
            "value": value,
            "extensions": {},
        }),
    )
    .with_etag(state.pending_etag())
}

fn wait_href(ctx: &Ctx, id: &str) -> String {
    format!(
        "{}/objects/activation_run/{id}/actions/wait-for-completion/invoke",
        ctx.base_path
    )
}

fn run_json(ctx: &Ctx, run: &Run) -> Value {
    let uri = format!("{}/objects/activation_run/{}", ctx.base, run.id);
    let mut links = vec![link("self", uri, "GET")];
    if run.is_running {
        links.push(link(
            "cmk/wait-for-completion",
            format!(
                "{}/objects/activation_run/{}/actions/wait-for-completion/invoke",
                ctx.base, run.id
            ),
            "GET",
        ));
    }
    json!({
        "links": links,
        "domainType": "activation_run",
        "id": run.id,
        "title": if run.is_running { "Activation status: In progress." } else { "Activation status: Complete." },
        "members": {},
        "extensions": {
            "sites": run.sites,
            "is_running": run.is_running,
            "force_foreign_changes": run.force_foreign_changes,
            "time_started": run.time_started,
            "changes": run.changes.iter().map(Change::to_json).collect::<Vec<_>>(),
        },
    })
}

fn activate(state: &mut State, ctx: &Ctx, body: &Value) -> Reply {
    let obj = body.as_object().expect("object body");
    let mut errors = Map::new();
    for key in obj.keys() {
        if !matches!(key.as_str(), "redirect" | "sites" | "force_foreign_changes") {
            errors.insert(key.clone(), json!(["Unknown field."]));
        }
    }
    for key in ["redirect", "force_foreign_changes"] {
        if obj.get(key).is_some_and(|v| !v.is_boolean()) {
            errors.insert(key.into(), json!(["Not a valid boolean."]));
        }
    }
    let mut sites = Vec::new();
    match obj.get("sites") {
        None => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                match item.as_str() {
                    Some(s) if s == state.site => sites.push(s.to_string()),
                    Some(s) => {
                        errors.insert(
                            "sites".into(),
                            json!({ i.to_string(): [format!("Site {s:?} does not exist.")] }),
                        );
                    }
                    None => {
                        errors.insert(
                            "sites".into(),
                            json!({ i.to_string(): ["Not a valid string."] }),
                        );
                    }
                }
            }
        }
        Some(_) => {
            errors.insert("sites".into(), json!(["Not a valid list."]));
        }
    }
    if !errors.is_empty() {
        return validation(errors);
    }
    if sites.is_empty() {
        sites.push(state.site.clone());
    }
    if let Some(reply) = require_etag(ctx.if_match, &state.pending_etag(), None) {
        return reply;
    }
    if state.running_activation() {
        return problem(423, "Locked", "There is already an activation running.");
    }
    if state.pending.is_empty() {
        return problem(
            422,
            "Unprocessable Entity",
            "Currently there are no changes to activate.",
        );
    }
    let run = Run {
        id: state.new_id(),
        sites,
        force_foreign_changes: obj
            .get("force_foreign_changes")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        changes: state.pending.clone(),
        started: Instant::now(),
        time_started: now(),
        is_running: true,
    };
    let id = run.id.clone();
    state.runs.insert(id.clone(), run);
    state.settle();
    if obj.get("redirect").and_then(Value::as_bool) == Some(true) {
        let mut reply = Reply::empty(302);
        reply.location = Some(wait_href(ctx, &id));
        return reply;
    }
    Reply::json(200, run_json(ctx, &state.runs[&id]))
}

fn activation_not_found(id: &str) -> Reply {
    problem(
        404,
        "The requested activation was not found",
        &format!("Could not find an activation with id {id:?}."),
    )
}

fn show_activation(state: &State, ctx: &Ctx, id: &str) -> Reply {
    match state.runs.get(id) {
        Some(run) => Reply::json(200, run_json(ctx, run)),
        None => activation_not_found(id),
    }
}

fn running_activations(state: &State, ctx: &Ctx) -> Reply {
    let value: Vec<Value> = state
        .runs
        .values()
        .filter(|r| r.is_running)
        .map(|r| run_json(ctx, r))
        .collect();
    Reply::json(
        200,
        json!({
            "id": "activation_run",
            "domainType": "activation_run",
            "links": [link("self", format!("{}/domain-types/activation_run/collections/running", ctx.base), "GET")],
            "value": value,
            "extensions": {},
        }),
    )
}

fn wait_for_completion(state: &State, ctx: &Ctx, id: &str) -> Reply {
    match state.runs.get(id) {
        None => activation_not_found(id),
        Some(run) if run.is_running => {
            let mut reply = Reply::empty(302);
            reply.location = Some(wait_href(ctx, id));
            reply
        }
        Some(_) => Reply::empty(204),
    }
}
