//! The JSON API under `/api/v1` with a token: the list envelope and its paging, filters and
//! strict parameters, error shapes, devices and tags changed through it, stored versions masked
//! as the pages mask them, a backup job started and followed through it, and the OpenAPI
//! document (valid, and listing every route).

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backups::{ios_config, set_show_secrets, store_version};
use crate::helpers::{TestApp, spawn_app, spawn_app_with_workers};

async fn admin_with_token(app: &TestApp) -> String {
    app.login_admin().await;
    app.make_token(
        "admin-all",
        &["read", "write", "delete", "admin", "user_manage"],
        &[],
    )
    .await
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Value,
) -> (StatusCode, Value) {
    let r = app
        .api(method, path, token)
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = r.status();
    let text = r.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn devices_list_in_the_netbox_envelope_with_paging_filters_and_strict_parameters() {
    let app = spawn_app().await;
    let token = admin_with_token(&app).await;
    for i in 0..7 {
        app.add_device(&format!("sw-{i:02}"), &format!("10.0.0.{i}"), "cisco_ios")
            .await;
    }
    app.add_device("fw-01", "10.1.0.1", "cisco_asa").await;

    let (status, page) = app.api_get("/api/v1/devices?limit=3", &token).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["count"], 8);
    assert_eq!(page["previous"], Value::Null);
    let names: Vec<&str> = page["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|d| d["hostname"].as_str())
        .collect();
    assert_eq!(names, ["fw-01", "sw-00", "sw-01"]);
    // Walking `next` visits every device once, in a stable order.
    let mut seen = names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut next = page["next"].as_str().map(str::to_string);
    while let Some(url) = next {
        assert!(url.starts_with(&app.url("/api/v1/devices?")), "{url}");
        let path = url.trim_start_matches(&app.url(""));
        let (_, page) = app.api_get(path, &token).await;
        seen.extend(
            page["results"]
                .as_array()
                .expect("results")
                .iter()
                .filter_map(|d| d["hostname"].as_str().map(str::to_string)),
        );
        next = page["next"].as_str().map(str::to_string);
    }
    assert_eq!(seen.len(), 8);
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 8);

    // Past the end: empty, with the count.
    let (_, page) = app.api_get("/api/v1/devices?offset=100", &token).await;
    assert_eq!(page["count"], 8);
    assert_eq!(page["results"], json!([]));
    assert!(page["previous"].is_string());

    // Filters and order, as the device list has them.
    let (_, page) = app
        .api_get("/api/v1/devices?platform=cisco_asa", &token)
        .await;
    assert_eq!(page["count"], 1);
    assert_eq!(page["results"][0]["hostname"], "fw-01");
    let (_, page) = app
        .api_get(
            "/api/v1/devices?q=sw-0&sort=hostname&dir=desc&limit=1",
            &token,
        )
        .await;
    assert_eq!(page["count"], 7);
    assert_eq!(page["results"][0]["hostname"], "sw-06");

    // Strict parameters: unknown ones are named; bad values are said.
    for (query, needle) in [
        (
            "platfrom=cisco_ios&colour=red",
            "unknown query parameters: colour, platfrom",
        ),
        ("limit=1001", "limit must be"),
        ("limit=0", "limit must be"),
        ("offset=-1", "offset must be"),
        ("sort=password", "sort \"password\" is not one of"),
        ("platform=toaster", "platform \"toaster\" is not one of"),
        ("status=maybe", "status \"maybe\""),
    ] {
        let (status, body) = app
            .api_get(&format!("/api/v1/devices?{query}"), &token)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert!(
            body["error"].as_str().unwrap_or("").contains(needle),
            "{query}: {body}"
        );
        assert_eq!(body["status"], 400);
    }
}

#[tokio::test]
async fn devices_and_tags_change_through_the_api_with_field_errors_and_audit() {
    let app = spawn_app().await;
    let token = admin_with_token(&app).await;
    let (status, tag) = send(
        &app,
        Method::POST,
        "/api/v1/tags",
        &token,
        json!({"name": "core", "color": "#112233"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{tag}");

    let (status, device) = send(
        &app,
        Method::POST,
        "/api/v1/devices",
        &token,
        json!({"hostname": "edge-1", "ip_address": "192.0.2.10", "device_type": "juniper_junos"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{device}");
    assert_eq!(device["port"], 22);
    assert_eq!(device["enabled"], true);
    let id = device["id"].as_i64().expect("id");
    assert_eq!(app.audit_count("device.create").await, 1);

    // Invalid input: 422 with a message per field; nothing stored.
    let (status, body) = send(
        &app,
        Method::POST,
        "/api/v1/devices",
        &token,
        json!({"hostname": "edge-1", "ip_address": "not-an-ip"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["fields"]["ip_address"].is_string(), "{body}");
    assert!(body["fields"]["hostname"].is_string(), "{body}");
    // A field the API does not know, and a body that is not JSON.
    let (status, body) = send(
        &app,
        Method::POST,
        "/api/v1/devices",
        &token,
        json!({"hostname": "x", "password": "y"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]
            .as_str()
            .unwrap_or("")
            .contains("unknown field `password`"),
        "{body}"
    );
    let r = app
        .api(Method::POST, "/api/v1/devices", &token)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("hostname=x")
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = app
        .api(Method::POST, "/api/v1/devices", &token)
        .header("Content-Type", "application/json")
        .body("{\"hostname\": ")
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // A partial change keeps the other fields.
    let (status, changed) = send(
        &app,
        Method::PATCH,
        &format!("/api/v1/devices/{id}"),
        &token,
        json!({"description": "uplink", "port": 2222}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["description"], "uplink");
    assert_eq!(changed["port"], 2222);
    assert_eq!(changed["device_type"], "juniper_junos");
    assert_eq!(changed["ip_address"], "192.0.2.10");

    let (status, body) = app.api_get("/api/v1/devices/987654", &token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["status"], 404);

    // Tags: list with counts, change, delete.
    let tag_id = tag["id"].as_i64().expect("tag id");
    let (status, _) = send(
        &app,
        Method::PATCH,
        &format!("/api/v1/tags/{tag_id}"),
        &token,
        json!({"color": "#zzz"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, tags) = app.api_get("/api/v1/tags", &token).await;
    assert_eq!(tags["results"][0]["name"], "core");
    assert_eq!(tags["results"][0]["devices"], 0);
    let r = app
        .api(Method::DELETE, &format!("/api/v1/tags/{tag_id}"), &token)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    // Delete needs the delete flag: a read+write token is refused.
    let writer = app.make_token("writer", &["read", "write"], &[]).await;
    let r = app
        .api(Method::DELETE, &format!("/api/v1/devices/{id}"), &writer)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: Value = r.json().await.expect("JSON");
    assert!(body["error"].as_str().unwrap_or("").contains("delete"));
    let r = app
        .api(Method::DELETE, &format!("/api/v1/devices/{id}"), &token)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (status, _) = app.api_get(&format!("/api/v1/devices/{id}"), &token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn stored_versions_read_through_the_api_are_masked_as_the_pages_mask_them() {
    let app = spawn_app().await;
    let admin = admin_with_token(&app).await;
    app.create_user("vera", "viewer", "Viewer-passw0rd-1").await;
    let vera = app.new_browser();
    vera.login("vera", "Viewer-passw0rd-1").await;
    let viewer = vera.make_token("reader", &["read"], &[]).await;

    let id = app.add_device("core-1", "10.0.0.1", "cisco_ios").await;
    store_version(&app, id, &ios_config("core-1", 3, "S3cretCommunity"), false).await;
    store_version(&app, id, &ios_config("core-1", 4, "S3cretCommunity"), false).await;

    let (status, list) = app
        .api_get(&format!("/api/v1/devices/{id}/backups"), &viewer)
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["count"], 2);
    assert_eq!(list["results"][0]["version"], 2, "newest first");

    let content = |token: String, path: String| {
        let app = &app;
        async move {
            let r = app
                .api(Method::GET, &path, &token)
                .send()
                .await
                .expect("GET");
            assert_eq!(r.status(), StatusCode::OK);
            assert!(
                r.headers()["content-type"]
                    .to_str()
                    .unwrap_or("")
                    .starts_with("text/plain")
            );
            r.text().await.expect("text")
        }
    };
    let path = format!("/api/v1/devices/{id}/backups/2/content");
    let text = content(viewer.clone(), path.clone()).await;
    assert!(text.contains("interface Loopback4"));
    assert!(
        !text.contains("S3cretCommunity") && text.contains("<masked>"),
        "{text}"
    );
    // An admin too, while the setting keeps secrets hidden; shown when it allows.
    assert!(
        !content(admin.clone(), path.clone())
            .await
            .contains("S3cretCommunity")
    );
    set_show_secrets(&app, true).await;
    assert!(
        content(admin.clone(), path.clone())
            .await
            .contains("S3cretCommunity")
    );
    assert!(app.audit_count("backup.secrets_shown").await >= 1);
    assert!(
        !content(viewer.clone(), path)
            .await
            .contains("S3cretCommunity")
    );

    // Search finds the text, but not a masked secret.
    let (status, found) = app.api_get("/api/v1/search?q=loopback4", &viewer).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["devices_matched"], 1);
    assert_eq!(found["devices"][0]["hostname"], "core-1");
    assert!(found["devices"][0]["lines"].as_array().is_some_and(|l| {
        l.iter()
            .any(|l| l["hit"] == true && l["text"] == "interface Loopback4")
    }));
    let (_, found) = app
        .api_get("/api/v1/search?q=S3cretCommunity", &viewer)
        .await;
    assert_eq!(found["devices_matched"], 0, "{found}");
    let (status, body) = app.api_get("/api/v1/search?q=(&regex=true", &viewer).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // The difference as unified text and as JSON hunks.
    let diff = content(
        viewer.clone(),
        format!("/api/v1/devices/{id}/backups/diff?from=1&to=2"),
    )
    .await;
    assert!(
        diff.starts_with("--- core-1@1\n+++ core-1@2\n@@ "),
        "{diff}"
    );
    assert!(
        diff.contains("+interface Loopback4\n+ description line 4\n"),
        "{diff}"
    );
    let (status, hunks) = app
        .api_get(
            &format!("/api/v1/devices/{id}/backups/diff?from=1&to=2&format=json&context=1"),
            &viewer,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{hunks}");
    assert_eq!(hunks["added"], 3);
    assert_eq!(hunks["removed"], 0);
    assert_eq!(
        hunks["hunks"][0]["lines"][1],
        json!({"op": "+", "text": "interface Loopback4"})
    );
    let (status, body) = app
        .api_get(
            &format!("/api/v1/devices/{id}/backups/diff?from=1&to=9"),
            &viewer,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = app
        .api_get(
            &format!("/api/v1/devices/{id}/backups/diff?from=1"),
            &viewer,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_backup_job_started_through_the_api_is_followed_to_its_end() {
    let app = spawn_app_with_workers().await;
    let token = admin_with_token(&app).await;
    let sim = crate::engine::start(vec![devsim::DeviceSpec::new(
        devsim::Platform::CiscoIos,
        "api-r1",
        crate::engine::USER,
        crate::engine::PASSWORD,
    )])
    .await;
    let tag = crate::jobs::lab_tag(&app).await;
    let ids = crate::jobs::add_sim_devices(&app, &sim, &tag).await;

    for bad in [
        json!({}),
        json!({"device": ids[0], "all": true}),
        json!({"all": false}),
    ] {
        let (status, body) = send(&app, Method::POST, "/api/v1/jobs", &token, bad.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }
    let (status, body) = send(
        &app,
        Method::POST,
        "/api/v1/jobs",
        &token,
        json!({"tag": 987654}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    let (status, job) = send(
        &app,
        Method::POST,
        "/api/v1/jobs",
        &token,
        json!({"device": ids[0]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{job}");
    let job_id = job["id"].as_i64().expect("job id");
    assert_eq!(job["progress_total"], 1);
    let mut detail = Value::Null;
    for _ in 0..120 {
        detail = app
            .api_get(&format!("/api/v1/jobs/{job_id}"), &token)
            .await
            .1;
        if detail["finished_at"].is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(detail["status"], "success", "{detail}");
    assert_eq!(detail["counts"]["success"], 1);
    let (_, results) = app
        .api_get(&format!("/api/v1/jobs/{job_id}/results"), &token)
        .await;
    assert_eq!(results["count"], 1);
    assert_eq!(results["results"][0]["hostname"], "api-r1");
    assert_eq!(results["results"][0]["changed"], true);
    let (_, log) = app
        .api_get(&format!("/api/v1/jobs/{job_id}/log"), &token)
        .await;
    let entries = log.as_array().expect("entries");
    assert!(!entries.is_empty());
    let last = entries.last().and_then(|e| e["id"].as_i64()).expect("id");
    let (_, later) = app
        .api_get(&format!("/api/v1/jobs/{job_id}/log?after={last}"), &token)
        .await;
    assert_eq!(later, json!([]));
    let (_, jobs) = app
        .api_get(&format!("/api/v1/jobs?device={}", ids[0]), &token)
        .await;
    assert_eq!(jobs["count"], 1);
    // A finished job cannot be cancelled.
    let (status, body) = send(
        &app,
        Method::POST,
        &format!("/api/v1/jobs/{job_id}/cancel"),
        &token,
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // The version it stored.
    let (_, versions) = app
        .api_get(&format!("/api/v1/devices/{}/backups", ids[0]), &token)
        .await;
    assert_eq!(versions["count"], 1);
}

/// The routes of the JSON API as the router has them, in OpenAPI's spelling (`{id}`).
fn api_routes() -> BTreeSet<(String, String)> {
    let pattern = regex::Regex::new(r"\{(\w+):[^}]*\}").expect("regex");
    netraven::web::all_routes()
        .filter(|(_, path)| path.starts_with("/api/v1/") && *path != "/api/v1/openapi.json")
        .map(|(method, path)| {
            (
                method.to_lowercase(),
                pattern.replace_all(path, "{$1}").to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_openapi_document_is_valid_and_lists_every_route() {
    let app = spawn_app().await;
    let token = admin_with_token(&app).await;
    let (status, doc) = app.api_get("/api/v1/openapi.json", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        doc["openapi"].as_str().unwrap_or("").starts_with("3.1"),
        "{}",
        doc["openapi"]
    );

    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flatten()
                .map(move |(method, _)| (method.clone(), path.clone()))
        })
        .collect();
    let served = api_routes();
    let missing: Vec<_> = served.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&served).collect();
    assert!(
        missing.is_empty(),
        "routes missing from the OpenAPI document: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "documented routes that do not exist: {extra:?}"
    );

    // Valid under an OpenAPI validator (openapi-spec-validator, installed by .ci/run).
    let file = app.data_dir.join("openapi.json");
    std::fs::write(&file, doc.to_string()).expect("write");
    let out = std::process::Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .expect("python3 runs (pip install openapi-spec-validator)");
    assert!(
        out.status.success(),
        "openapi-spec-validator: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // The human page lists every endpoint with an example.
    let (status, html) = app.get_html("/api/docs").await;
    assert_eq!(status, StatusCode::OK);
    for (method, path) in &served {
        assert!(
            html.contains(&format!("{} {}", method.to_uppercase(), path)),
            "{method} {path} not on /api/docs"
        );
    }
    let example =
        regex::Regex::new(r#"curl -H (&quot;|&#34;|")Authorization: Bearer \$NETRAVEN_TOKEN"#)
            .expect("regex");
    assert!(example.is_match(&html), "no curl example on /api/docs");
}

#[tokio::test]
async fn credentials_settings_and_audit_never_answer_a_secret() {
    let app = spawn_app().await;
    let token = admin_with_token(&app).await;
    let (status, cred) = send(
        &app,
        Method::POST,
        "/api/v1/credentials",
        &token,
        json!({"name": "core-login", "kind": "ssh", "username": "netops",
               "secret": "Sup3r-Secret-Value", "enable_secret": "En4ble-Secret-Value",
               "allowed_networks": "10.0.0.0/8"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{cred}");
    assert_eq!(cred["has_secret"], true);
    assert_eq!(cred["has_enable_secret"], true);
    assert_eq!(cred["allowed_networks"], json!(["10.0.0.0/8"]));
    let id = cred["id"].as_i64().expect("id");
    let tag = app.add_tag("core", "#112233").await;
    let r = app
        .api(
            Method::PUT,
            &format!("/api/v1/credentials/{id}/tags/{tag}"),
            &token,
        )
        .json(&json!({"priority": 5}))
        .send()
        .await
        .expect("PUT");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (_, links) = app
        .api_get(&format!("/api/v1/credentials/{id}/tags"), &token)
        .await;
    assert_eq!(
        links,
        json!([{"tag_id": tag, "tag": "core", "priority": 5}])
    );
    let device = app.add_device("core-1", "10.0.0.1", "cisco_ios").await;
    app.post_form(
        &format!("/devices/{device}/tags"),
        &[("tag_id", &tag.to_string())],
    )
    .await;

    // Renamed, the secret kept; then cleared.
    let (status, changed) = send(
        &app,
        Method::PATCH,
        &format!("/api/v1/credentials/{id}"),
        &token,
        json!({"name": "core-login-2"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["has_secret"], true);
    let mut answers = vec![cred.to_string(), changed.to_string()];
    for path in [
        "/api/v1/credentials".to_string(),
        format!("/api/v1/credentials/{id}"),
        format!("/api/v1/devices/{device}/credentials"),
        "/api/v1/settings".to_string(),
        "/api/v1/audit?limit=1000".to_string(),
    ] {
        let (status, body) = app.api_get(&path, &token).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        answers.push(body.to_string());
    }
    let (_, order) = app
        .api_get(&format!("/api/v1/devices/{device}/credentials"), &token)
        .await;
    assert_eq!(order[0]["name"], "core-login-2");
    assert_eq!(order[0]["priority"], 5);
    assert_eq!(order[0]["permitted"], true);
    let (status, cleared) = send(
        &app,
        Method::PATCH,
        &format!("/api/v1/credentials/{id}"),
        &token,
        json!({"clear_enable_secret": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cleared["has_enable_secret"], false);
    assert_eq!(cleared["has_secret"], true);
    for text in &answers {
        for secret in ["Sup3r-Secret-Value", "En4ble-Secret-Value"] {
            assert!(!text.contains(secret), "a secret in an API answer: {text}");
        }
    }

    // Settings: read as typed values, changed by category, one bad value changes nothing.
    let (_, all) = app.api_get("/api/v1/settings", &token).await;
    let find = |all: &Value, key: &str| {
        all.as_array()
            .and_then(|a| a.iter().find(|s| s["key"] == key))
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(find(&all, "jobs.concurrency")["kind"], "integer");
    let (status, body) = send(
        &app,
        Method::PATCH,
        "/api/v1/settings/jobs",
        &token,
        json!({"jobs.concurrency": 3, "jobs.log_retention_days": 0}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["fields"]["jobs.log_retention_days"].is_string(),
        "{body}"
    );
    let (status, body) = send(
        &app,
        Method::PATCH,
        "/api/v1/settings/jobs",
        &token,
        json!({"jobs.concurency": 3}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = send(
        &app,
        Method::PATCH,
        "/api/v1/settings/jobs",
        &token,
        json!({"jobs.concurrency": 3}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(find(&body, "jobs.concurrency")["value"], 3);
    let (_, audit) = app
        .api_get("/api/v1/audit?q=jobs.concurrency", &token)
        .await;
    assert!(audit["count"].as_u64().unwrap_or(0) >= 1, "{audit}");
    let (status, _) = app.api_get("/api/v1/audit?from=yesterday", &token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A viewer's token reads credentials' metadata only, and neither settings nor the audit.
    app.create_user("vera", "viewer", "Viewer-passw0rd-1").await;
    let vera = app.new_browser();
    vera.login("vera", "Viewer-passw0rd-1").await;
    let viewer = vera.make_token("reader", &["read"], &[]).await;
    assert_eq!(
        app.api_get("/api/v1/credentials", &viewer).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.api_get("/api/v1/settings", &viewer).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.api_get("/api/v1/audit", &viewer).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.api_get("/api/v1/users", &viewer).await.0,
        StatusCode::FORBIDDEN
    );
    let (_, users) = app.api_get("/api/v1/users", &token).await;
    assert_eq!(users["count"], 2);
    let vera_id = app.user_row("vera").await.id;
    let r = app
        .api(Method::DELETE, &format!("/api/v1/users/{vera_id}"), &token)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.api_get("/api/v1/me", &viewer).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert!(
        !users.to_string().contains("argon2"),
        "a password hash in {users}"
    );
}

#[tokio::test]
async fn tag_rules_are_previewed_saved_and_applied_through_the_api() {
    let app = spawn_app().await;
    let token = admin_with_token(&app).await;
    for i in 0..3 {
        app.add_device(&format!("sw-{i}"), &format!("10.0.0.{i}"), "cisco_ios")
            .await;
    }
    app.add_device("fw-1", "10.1.0.1", "cisco_asa").await;
    let tag = app.add_tag("switches", "#112233").await;
    let criteria = json!({"op": "all", "items": [
        {"field": "hostname", "operator": "starts_with", "value": "sw-"}
    ]});
    let (status, preview) = send(
        &app,
        Method::POST,
        &format!("/api/v1/tags/{tag}/rules/preview"),
        &token,
        json!({"criteria": criteria}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["gain_total"], 3);
    assert_eq!(preview["gain"][0]["hostname"], "sw-0");
    let (status, bad) = send(&app, Method::POST, &format!("/api/v1/tags/{tag}/rules/preview"), &token, json!({"criteria": {"op": "all", "items": [{"field": "colour", "operator": "equals", "value": "x"}]}})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert!(bad["fields"]["criteria"].is_string(), "{bad}");

    let (status, saved) = send(
        &app,
        Method::POST,
        &format!("/api/v1/tags/{tag}/rules"),
        &token,
        json!({"name": "all switches", "criteria": criteria}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{saved}");
    assert_eq!(saved["added"], 3);
    assert_eq!(saved["rule"]["assigned"], 3);
    let rule = saved["rule"]["id"].as_i64().expect("rule id");
    let (_, tagged) = app
        .api_get(&format!("/api/v1/devices?tag={tag}"), &token)
        .await;
    assert_eq!(tagged["count"], 3);
    // A device added later gets the tag from the active rule.
    let (_, device) = send(
        &app,
        Method::POST,
        "/api/v1/devices",
        &token,
        json!({"hostname": "sw-9", "ip_address": "10.0.0.9"}),
    )
    .await;
    assert_eq!(device["tags"][0]["name"], "switches", "{device}");

    let (status, changed) = send(&app, Method::PATCH, &format!("/api/v1/tags/{tag}/rules/{rule}"), &token, json!({"criteria": {"op": "all", "items": [{"field": "hostname", "operator": "equals", "value": "sw-0"}]}})).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["removed"], 3);
    assert_eq!(changed["rule"]["name"], "all switches");
    let (_, rules) = app
        .api_get(&format!("/api/v1/tags/{tag}/rules"), &token)
        .await;
    assert_eq!(rules[0]["assigned"], 1);
    let r = app
        .api(
            Method::DELETE,
            &format!("/api/v1/tags/{tag}/rules/{rule}?remove_assigned=true"),
            &token,
        )
        .send()
        .await
        .expect("DELETE");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (_, tagged) = app
        .api_get(&format!("/api/v1/devices?tag={tag}"), &token)
        .await;
    assert_eq!(tagged["count"], 0);
    assert_eq!(app.audit_count("tag_rule.create").await, 1);
}

#[tokio::test]
async fn schedules_are_made_changed_run_and_deleted_through_the_api() {
    let app = spawn_app().await;
    let token = admin_with_token(&app).await;
    let (_, before) = app.api_get("/api/v1/schedules", &token).await;
    let existing = before["count"].as_u64().expect("count");

    let (status, s) = send(&app, Method::POST, "/api/v1/schedules", &token, json!({"name": "nightly", "schedule_type": "daily", "time": "02:30", "timezone": "Europe/Zurich"})).await;
    assert_eq!(status, StatusCode::CREATED, "{s}");
    assert_eq!(s["schedule_type"], "daily");
    assert_eq!(s["job_type"], "backup");
    assert!(s["next_run_at"].is_string());
    let id = s["id"].as_i64().expect("id");
    let (status, bad) = send(
        &app,
        Method::POST,
        "/api/v1/schedules",
        &token,
        json!({"name": "broken", "schedule_type": "cron", "cron": "61 * * * *"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert!(bad["fields"]["cron"].is_string(), "{bad}");

    let (status, off) = send(
        &app,
        Method::PATCH,
        &format!("/api/v1/schedules/{id}"),
        &token,
        json!({"enabled": false}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{off}");
    assert_eq!(off["enabled"], false);
    assert_eq!(off["parameters"]["time"], "02:30", "{off}");
    let (_, after) = app.api_get("/api/v1/schedules", &token).await;
    assert_eq!(after["count"].as_u64(), Some(existing + 1));

    // Nothing to back up yet: refused in words.
    let (status, body) = send(
        &app,
        Method::POST,
        &format!("/api/v1/schedules/{id}/run"),
        &token,
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or("")
            .contains("nothing to back up"),
        "{body}"
    );
    let r = app
        .api(Method::DELETE, &format!("/api/v1/schedules/{id}"), &token)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.api_get(&format!("/api/v1/schedules/{id}"), &token)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}
