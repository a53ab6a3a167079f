//! CheckMK against checkmk-sim, a server speaking CheckMK 2.x's REST API as documented: the
//! connection test in words, and the secret never shown.

use std::time::{Duration, Instant};

use checkmk_sim::{Options, Sim};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use crate::helpers::{
    TestApp, insert_devices, location, nth_address, spawn_app, spawn_app_with_workers, unescaped,
    with_changes,
};
use crate::jobs::finished;
use netraven::entity::{job_logs, nb2cmk_results};
use netraven::vocabulary::{CheckmkAction, CheckmkStatus, JobStatus};

const SECRET: &str = "cmk-automation-secret-1";

/// Every field of the CheckMK settings form, with `changes` over the given site and secret.
fn settings_form<'a>(
    url: &'a str,
    secret: &'a str,
    changes: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let fields = vec![
        ("checkmk.url", url),
        ("checkmk.user", "automation"),
        ("checkmk.secret", secret),
        ("checkmk.timeout_seconds", "5"),
        ("checkmk.verify_tls", "on"),
    ];
    with_changes(fields, changes)
}

/// What *Test connection* says for these values.
async fn test_words(app: &TestApp, fields: &[(&str, &str)]) -> String {
    let r = app.post_form("/settings/checkmk/test", fields).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.expect("body");
    assert!(!html.contains(SECRET), "the secret is never shown");
    let start = html.find("role=\"status\">").expect("a report") + 14;
    let end = start + html[start..].find("</div>").expect("end");
    html[start..end].to_string()
}

#[tokio::test]
async fn the_connection_test_says_what_answered_or_what_is_wrong() {
    let sim = Sim::start(Options {
        secret: SECRET.into(),
        ..Options::default()
    })
    .await
    .expect("checkmk-sim starts");
    let app = spawn_app().await;
    app.login_admin().await;
    let site = sim.site_url();

    let words = test_words(&app, &settings_form(&site, SECRET, &[])).await;
    assert!(words.starts_with("Connected to CheckMK 2."), "{words}");
    assert!(
        words.contains("edition") && words.ends_with("site cmk."),
        "{words}"
    );
    let words = test_words(&app, &settings_form(&site, "wrong-secret", &[])).await;
    assert!(
        words.starts_with("Connection failed: CheckMK refused the automation user or its secret"),
        "{words}"
    );
    let words = test_words(
        &app,
        &settings_form(&site, SECRET, &[("checkmk.user", "nobody")]),
    )
    .await;
    assert!(words.contains("refused the automation user"), "{words}");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let unused = format!(
        "http://127.0.0.1:{}/cmk",
        closed.local_addr().unwrap().port()
    );
    drop(closed);
    let words = test_words(&app, &settings_form(&unused, SECRET, &[])).await;
    assert!(
        words.starts_with("Connection failed: cannot reach CheckMK at"),
        "{words}"
    );
    let wrong_site = format!("http://127.0.0.1:{}/nosuchsite", sim.port());
    let words = test_words(&app, &settings_form(&wrong_site, SECRET, &[])).await;
    assert!(words.starts_with("Connection failed:"), "{words}");
    sim.set_latency(Duration::from_secs(3));
    let words = test_words(
        &app,
        &settings_form(&site, SECRET, &[("checkmk.timeout_seconds", "1")]),
    )
    .await;
    assert_eq!(
        words,
        "Connection failed: CheckMK did not answer within 1 s."
    );
    sim.set_latency(Duration::ZERO);
    assert_eq!(
        app.audit_count("settings.update").await,
        0,
        "testing saves nothing"
    );

    // Saved: the secret is stored encrypted and never shown; a wrong one is said at once.
    let r = app
        .post_form(
            "/settings/checkmk",
            &settings_form(&site, "wrong-secret", &[]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = app.get_html("/settings").await;
    assert!(
        html.contains(
            "The connection test with the saved values failed: CheckMK refused the automation user"
        ),
        "{html}"
    );
    assert!(!html.contains("wrong-secret"));
    let r = app
        .post_form("/settings/checkmk", &settings_form(&site, SECRET, &[]))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = app.get_html("/settings").await;
    assert!(
        !html.contains("connection test with the saved values failed") && !html.contains(SECRET)
    );
    // The saved secret is used when the field is left empty.
    let words = test_words(&app, &settings_form(&site, "", &[])).await;
    assert!(words.starts_with("Connected to CheckMK"), "{words}");
}

/// Saves the CheckMK settings for the simulator.
async fn configure(app: &TestApp, sim: &Sim, secret: &str) {
    let site = sim.site_url();
    let r = app
        .post_form("/settings/checkmk", &settings_form(&site, secret, &[]))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

/// Every field of the mapping form, with `changes`.
fn mapping_form<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let fields = vec![
        ("source_kind", "inventory"),
        ("nautobot_source_id", ""),
        ("inventory_tag", "cmk"),
        ("folder_rules", ""),
        ("folder_default", "/network/{tag:site-}"),
        ("site_rules", ""),
        ("site_default", ""),
        ("alias", ""),
        ("labels", "netraven/platform: {platform}"),
        ("tag_groups", ""),
        ("ignored_attributes", "meta_data\ntag_address_family"),
        ("allow_delete", "off"),
        ("scheduled_add", "off"),
        ("scheduled_update", "off"),
        ("scheduled_activate", "off"),
    ];
    with_changes(fields, changes)
}

async fn save_mapping(app: &TestApp, changes: &[(&str, &str)]) {
    let r = app
        .post_form("/checkmk/mapping", &mapping_form(changes))
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap_or_default()
    );
}

/// A job started by a form post that redirects to `prefix{id}`, once it has finished.
async fn run(app: &TestApp, path: &str, fields: &[(&str, &str)], prefix: &str) -> job_logs::Model {
    let r = app.post_form(path, fields).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap_or_default()
    );
    let id: i32 = location(&r)
        .trim_start_matches(prefix)
        .parse()
        .expect("job id");
    finished(app, id).await
}

async fn compare(app: &TestApp) -> job_logs::Model {
    run(app, "/checkmk/compare", &[], "/checkmk/jobs/").await
}

async fn act(app: &TestApp, job: i32, fields: &[(&str, &str)]) -> job_logs::Model {
    run(app, &format!("/checkmk/jobs/{job}/apply"), fields, "/jobs/").await
}

async fn results(app: &TestApp, job: i32) -> Vec<nb2cmk_results::Model> {
    nb2cmk_results::Entity::find()
        .filter(nb2cmk_results::Column::JobLogId.eq(job))
        .order_by_asc(nb2cmk_results::Column::DeviceName)
        .all(&app.db)
        .await
        .expect("results")
}

fn named<'a>(rows: &'a [nb2cmk_results::Model], name: &str) -> &'a nb2cmk_results::Model {
    rows.iter()
        .find(|r| r.device_name == name)
        .unwrap_or_else(|| panic!("no result for {name}"))
}

fn of(rows: &[nb2cmk_results::Model], status: CheckmkStatus) -> Vec<&str> {
    rows.iter()
        .filter(|r| r.status == status)
        .map(|r| r.device_name.as_str())
        .collect()
}

/// `devices` inventory devices, the first `in_checkmk` of them already hosts in `/network`, and
/// a mapping of every enabled device to `/network` with no labels.
async fn large_inventory(app: &TestApp, sim: &Sim, devices: usize, in_checkmk: usize) {
    insert_devices(app, devices).await;
    sim.add_folder("/network");
    for i in 0..in_checkmk {
        sim.add_host(
            &format!("dev{i:05}"),
            "/network",
            json!({"ipaddress": nth_address(i)}),
        );
    }
    save_mapping(
        app,
        &[
            ("inventory_tag", ""),
            ("labels", ""),
            ("folder_default", "/network"),
        ],
    )
    .await;
}

/// Devices tagged `cmk` and `site-<site>`.
async fn tagged_device(app: &TestApp, name: &str, ip: &str, site: &str, cmk: i32) {
    let id = app.add_device(name, ip, "cisco_ios").await;
    let site_tag = format!("site-{site}");
    let tag = match netraven::entity::tags::Entity::find()
        .filter(netraven::entity::tags::Column::Name.eq(site_tag.as_str()))
        .one(&app.db)
        .await
        .expect("tags")
    {
        Some(t) => t.id,
        None => app.add_tag(&site_tag, "#0969da").await,
    };
    for t in [tag, cmk] {
        let r = app
            .post_form(
                &format!("/devices/{id}/tags"),
                &[("tag_id", &t.to_string())],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
}

/// A host's attributes as CheckMK has them, without what CheckMK adds itself.
fn attributes(sim: &Sim, name: &str) -> (String, serde_json::Value) {
    let (folder, mut attributes) = sim
        .host(name)
        .unwrap_or_else(|| panic!("{name} in CheckMK"));
    if let Some(a) = attributes.as_object_mut() {
        a.remove("meta_data");
    }
    (folder, attributes)
}

/// Changes a host through CheckMK's API, as another CheckMK user would.
async fn edit_in_checkmk(sim: &Sim, name: &str, attributes: serde_json::Value) {
    let http = reqwest::Client::new();
    let auth = format!("Bearer automation {SECRET}");
    let url = format!("{}/objects/host_config/{name}", sim.api_base());
    let r = http
        .get(&url)
        .header("Authorization", &auth)
        .send()
        .await
        .expect("get");
    let etag = r.headers()["etag"].to_str().expect("etag").to_string();
    let r = http
        .put(&url)
        .header("Authorization", &auth)
        .header("If-Match", etag)
        .json(&json!({"attributes": attributes}))
        .send()
        .await
        .expect("put");
    assert!(
        r.status().is_success(),
        "{}",
        r.text().await.unwrap_or_default()
    );
}

#[tokio::test]
async fn compare_finds_every_status_and_actions_add_move_update_delete_and_activate() {
    netraven::services::http::use_ring_for_tls();
    let sim = Sim::start(Options {
        secret: SECRET.into(),
        activation_time: Duration::from_millis(300),
        ..Options::default()
    })
    .await
    .expect("checkmk-sim starts");
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    configure(&app, &sim, SECRET).await;
    let cmk = app.add_tag("cmk", "#1a7f37").await;
    for (name, ip, site) in [
        ("r-equal", "192.0.2.1", "dc1"),
        ("r-attr", "192.0.2.2", "dc1"),
        ("r-folder", "192.0.2.3", "dc1"),
        ("r-missing", "192.0.2.4", "dc3"),
        ("r-error", "192.0.2.5", "dc1"),
    ] {
        tagged_device(&app, name, ip, site, cmk).await;
    }
    app.add_device("not-in-source", "192.0.2.50", "cisco_ios")
        .await;
    let labels = json!({"netraven/platform": "cisco_ios"});
    for folder in ["/network", "/network/dc1", "/network/dc2", "/servers"] {
        sim.add_folder(folder);
    }
    sim.add_host(
        "r-equal",
        "/network/dc1",
        json!({"ipaddress": "192.0.2.1", "labels": labels}),
    );
    sim.add_host(
        "r-attr",
        "/network/dc1",
        json!({"ipaddress": "192.0.2.99", "labels": labels, "alias": "old"}),
    );
    sim.add_host(
        "r-folder",
        "/network/dc2",
        json!({"ipaddress": "192.0.2.3", "labels": labels}),
    );
    sim.add_host("r-error", "/network/dc1", json!({"ipaddress": "192.0.2.5"}));
    sim.add_host(
        "old-router",
        "/network/dc2",
        json!({"ipaddress": "192.0.2.77"}),
    );
    sim.add_host("server1", "/servers", json!({"ipaddress": "198.51.100.1"}));
    sim.set_fail_hosts(vec!["r-error".into()]);

    // Nothing starts before a mapping is saved.
    let r = app.post_form("/checkmk/compare", &[]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // The mapping is checked when saved.
    for (field, value, words) in [
        ("folder_rules", "cidr 10.0.0/40 => /x", "line 1:"),
        ("folder_default", "/network/{nope}", "unknown placeholder"),
        ("tag_groups", "criticality: high", "starts with tag_"),
        ("inventory_tag", "no-such-tag", "No tag has this name"),
        (
            "source_kind",
            "nautobot",
            "Choose one of the Nautobot sources",
        ),
    ] {
        let r = app
            .post_form("/checkmk/mapping", &mapping_form(&[(field, value)]))
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let html = r.text().await.expect("body");
        assert!(html.contains(words), "{field}: {words}");
    }
    assert_eq!(app.audit_count("checkmk.mapping.update").await, 0);
    save_mapping(&app, &[]).await;
    assert_eq!(app.audit_count("checkmk.mapping.update").await, 1);

    // The preview shows one device as the typed mapping makes it, and CheckMK's differences.
    let r = app
        .post_form(
            "/checkmk/mapping/preview",
            &mapping_form(&[
                ("preview_device", "r-attr"),
                ("alias", "{name} ({tag:site-})"),
            ]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = unescaped(&r.text().await.expect("body"));
    assert!(html.contains("r-attr (dc1)"), "the typed alias is used");
    assert!(
        html.contains("ipaddress: \"192.0.2.99\" → \"192.0.2.2\""),
        "{html}"
    );
    assert_eq!(
        app.audit_count("checkmk.mapping.update").await,
        1,
        "a preview saves nothing"
    );

    let job = compare(&app).await;
    assert_eq!(job.status, JobStatus::Success, "{:?}", job.message);
    let rows = results(&app, job.id).await;
    assert_eq!(of(&rows, CheckmkStatus::Equal), vec!["r-equal"]);
    assert_eq!(of(&rows, CheckmkStatus::Diff), vec!["r-attr", "r-folder"]);
    assert_eq!(of(&rows, CheckmkStatus::Missing), vec!["r-missing"]);
    assert_eq!(of(&rows, CheckmkStatus::Error), vec!["r-error"]);
    assert_eq!(
        of(&rows, CheckmkStatus::Extra),
        vec!["old-router"],
        "not /servers' host"
    );
    let attr = named(&rows, "r-attr").diff.clone().unwrap_or_default();
    assert!(
        attr.contains("ipaddress: \"192.0.2.99\" → \"192.0.2.2\""),
        "{attr}"
    );
    assert!(attr.contains("alias: \"old\" → (not set)"), "{attr}");
    assert_eq!(
        named(&rows, "r-folder").diff.as_deref(),
        Some("folder: /network/dc2 → /network/dc1")
    );
    assert!(
        named(&rows, "r-error")
            .message
            .as_deref()
            .unwrap_or("")
            .contains("500")
    );
    assert!(
        named(&rows, "r-equal")
            .checkmk_data
            .as_ref()
            .is_some_and(|c| c["etag"].is_string())
    );
    let (status, html) = app.get_html(&format!("/checkmk/jobs/{}", job.id)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("folder: /network/dc2 → /network/dc1") && !html.contains(SECRET));
    let (_, html) = app
        .get_html(&format!("/checkmk/jobs/{}?status=missing", job.id))
        .await;
    assert!(html.contains("r-missing") && !html.contains("r-attr"));

    // Add: the missing folder is created, then the host.
    let applied = act(&app, job.id, &[("all", "missing")]).await;
    assert_eq!(applied.status, JobStatus::Success, "{:?}", applied.message);
    assert_eq!(
        attributes(&sim, "r-missing"),
        (
            "/network/dc3".to_string(),
            json!({"ipaddress": "192.0.2.4", "labels": labels})
        )
    );
    let row = named(&results(&app, job.id).await, "r-missing").clone();
    assert_eq!(
        (row.action, row.action_ok),
        (Some(CheckmkAction::Add), Some(true))
    );
    assert_eq!(app.audit_count("checkmk.hosts.add").await, 1);

    // A move while changes are pending: CheckMK refuses, and the row says to activate first.
    assert!(sim.pending_changes() > 0);
    let folder_row = named(&rows, "r-folder").id.to_string();
    let refused = act(&app, job.id, &[("ids", &folder_row)]).await;
    assert_eq!(refused.status, JobStatus::Failed, "{:?}", refused.message);
    let row = named(&results(&app, job.id).await, "r-folder").clone();
    assert_eq!(row.action_ok, Some(false));
    assert!(
        row.action_message
            .as_deref()
            .unwrap_or("")
            .contains("activate the pending changes first"),
        "{:?}",
        row.action_message
    );
    assert_eq!(
        sim.host("r-folder").expect("host").0,
        "/network/dc2",
        "not moved"
    );

    // Activate, waiting for the run.
    let (_, html) = app.get_html("/checkmk/changes").await;
    assert!(
        html.contains("create-host") || html.contains("new-folder"),
        "pending changes listed"
    );
    let activated = run(&app, "/checkmk/activate", &[], "/jobs/").await;
    assert_eq!(
        activated.status,
        JobStatus::Success,
        "{:?}",
        activated.message
    );
    assert!(
        activated
            .message
            .as_deref()
            .unwrap_or("")
            .contains("activated"),
        "{:?}",
        activated.message
    );
    assert_eq!(sim.pending_changes(), 0);
    assert_eq!(app.audit_count("checkmk.activate").await, 1);

    // Update: the move, then the attributes, under the compared ETags; then activate.
    let attr_row = named(&rows, "r-attr").id.to_string();
    let updated = act(
        &app,
        job.id,
        &[("ids", &folder_row), ("ids", &attr_row), ("activate", "on")],
    )
    .await;
    assert_eq!(updated.status, JobStatus::Success, "{:?}", updated.message);
    assert_eq!(attributes(&sim, "r-folder").0, "/network/dc1");
    assert_eq!(
        attributes(&sim, "r-attr").1,
        json!({"ipaddress": "192.0.2.2", "labels": labels}),
        "replaced: the old alias is gone"
    );
    assert_eq!(sim.pending_changes(), 0, "activated after the update");

    // A host changed in CheckMK after the comparison is not overwritten.
    edit_in_checkmk(
        &sim,
        "r-equal",
        json!({"ipaddress": "192.0.2.111", "labels": labels}),
    )
    .await;
    let second = compare(&app).await;
    let rows2 = results(&app, second.id).await;
    assert_eq!(of(&rows2, CheckmkStatus::Diff), vec!["r-equal"]);
    edit_in_checkmk(
        &sim,
        "r-equal",
        json!({"ipaddress": "192.0.2.222", "labels": labels}),
    )
    .await;
    let stale = named(&rows2, "r-equal").id.to_string();
    let refused = act(&app, second.id, &[("ids", &stale)]).await;
    assert_eq!(refused.status, JobStatus::Failed);
    let row = named(&results(&app, second.id).await, "r-equal").clone();
    assert!(
        row.action_message
            .as_deref()
            .unwrap_or("")
            .contains("changed in CheckMK since the comparison"),
        "{:?}",
        row.action_message
    );
    assert_eq!(attributes(&sim, "r-equal").1["ipaddress"], "192.0.2.222");

    // Delete: off unless the mapping allows it, and only for administrators.
    let r = app
        .post_form(
            &format!("/checkmk/jobs/{}/apply", second.id),
            &[("all", "extra")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.text()
            .await
            .unwrap_or_default()
            .contains("does not allow deleting hosts")
    );
    save_mapping(&app, &[("allow_delete", "on")]).await;
    app.create_user("eng", "engineer", "Engineer-passw0rd-1")
        .await;
    let eng = app.new_browser();
    assert_eq!(
        eng.login("eng", "Engineer-passw0rd-1").await.status(),
        StatusCode::SEE_OTHER
    );
    let r = eng
        .post_form(
            &format!("/checkmk/jobs/{}/apply", second.id),
            &[("all", "extra")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (_, html) = eng.get_html(&format!("/checkmk/jobs/{}", second.id)).await;
    assert!(
        !html.contains("Delete 1 extra"),
        "no delete button for an engineer"
    );
    let deleted = act(&app, second.id, &[("all", "extra")]).await;
    assert_eq!(deleted.status, JobStatus::Success, "{:?}", deleted.message);
    assert!(sim.host("old-router").is_none());
    assert!(sim.host("server1").is_some());
    assert_eq!(app.audit_count("checkmk.hosts.delete").await, 1);

    // The secret stays out of pages and job logs.
    for page in [
        "/checkmk",
        "/checkmk/mapping",
        "/checkmk/changes",
        "/settings",
    ] {
        let (_, html) = app.get_html(page).await;
        assert!(!html.contains(SECRET), "{page}");
    }
    let entries = netraven::entity::job_log_entries::Entity::find()
        .all(&app.db)
        .await
        .expect("entries");
    assert!(entries.iter().all(|e| !e.message.contains(SECRET)));
}

#[tokio::test]
async fn a_wrong_secret_and_checkmk_going_down_mid_job_end_the_job_with_every_host_reported() {
    netraven::services::http::use_ring_for_tls();
    let sim = Sim::start(Options {
        secret: SECRET.into(),
        ..Options::default()
    })
    .await
    .expect("checkmk-sim starts");
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    let cmk = app.add_tag("cmk", "#1a7f37").await;
    sim.add_folder("/network");
    sim.add_folder("/network/dc1");
    for i in 0..120 {
        let name = format!("sw{i:03}");
        let ip = format!("10.0.{}.{}", i / 200, i % 200 + 1);
        tagged_device(&app, &name, &ip, "dc1", cmk).await;
        sim.add_host(&name, "/network/dc1", json!({"ipaddress": "10.9.9.9"}));
    }
    save_mapping(&app, &[("labels", "")]).await;

    configure(&app, &sim, "wrong-secret").await;
    let job = compare(&app).await;
    assert_eq!(job.status, JobStatus::Failed);
    assert!(
        job.message
            .as_deref()
            .unwrap_or("")
            .contains("refused the automation user or its secret"),
        "{:?}",
        job.message
    );
    configure(&app, &sim, SECRET).await;
    let job = compare(&app).await;
    assert_eq!(job.status, JobStatus::Success, "{:?}", job.message);
    assert_eq!(
        of(&results(&app, job.id).await, CheckmkStatus::Diff).len(),
        120
    );

    // CheckMK stops answering while hosts are being updated.
    sim.set_latency(Duration::from_millis(150));
    let r = app
        .post_form(
            &format!("/checkmk/jobs/{}/apply", job.id),
            &[("all", "diff")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let applying: i32 = location(&r)
        .trim_start_matches("/jobs/")
        .parse()
        .expect("job id");
    tokio::time::sleep(Duration::from_millis(500)).await;
    sim.shutdown().await;
    let applying = finished(&app, applying).await;
    assert_eq!(applying.status, JobStatus::Failed, "{:?}", applying.message);
    let rows = results(&app, job.id).await;
    let done = rows.iter().filter(|r| r.action_ok == Some(true)).count();
    let failed = rows.iter().filter(|r| r.action_ok == Some(false)).count();
    assert!(done > 0, "some hosts were updated before CheckMK went down");
    assert_eq!(done + failed, 120, "every host says what happened to it");
    assert!(rows.iter().any(|r| {
        r.action_message
            .as_deref()
            .unwrap_or("")
            .starts_with("not attempted: cannot reach CheckMK")
    }));
    assert!(
        applying
            .message
            .as_deref()
            .unwrap_or("")
            .contains(&format!("{done} updated")),
        "{:?}",
        applying.message
    );
}

#[tokio::test]
async fn a_source_of_two_thousand_devices_is_compared_and_added_in_bulk() {
    netraven::services::http::use_ring_for_tls();
    let sim = Sim::start(Options {
        secret: SECRET.into(),
        ..Options::default()
    })
    .await
    .expect("checkmk-sim starts");
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    configure(&app, &sim, SECRET).await;
    large_inventory(&app, &sim, 2000, 1000).await;
    let started = Instant::now();
    let job = compare(&app).await;
    let took = started.elapsed();
    assert_eq!(job.status, JobStatus::Success, "{:?}", job.message);
    let rows = results(&app, job.id).await;
    assert_eq!(of(&rows, CheckmkStatus::Equal).len(), 1000);
    assert_eq!(of(&rows, CheckmkStatus::Missing).len(), 1000);
    assert_eq!((job.progress_done, job.progress_total), (2000, 2000));
    eprintln!("compared 2,000 devices in {took:?}");
    let lists = sim
        .requests()
        .iter()
        .filter(|(m, p)| m == "GET" && p.starts_with("/domain-types/host_config/collections/all"))
        .count();
    assert_eq!(lists, 1, "CheckMK's host list is read once");

    let added = act(&app, job.id, &[("all", "missing")]).await;
    assert_eq!(added.status, JobStatus::Success, "{:?}", added.message);
    let bulk = sim
        .requests()
        .iter()
        .filter(|(m, p)| m == "POST" && p.contains("bulk-create"))
        .count();
    assert_eq!(bulk, 10, "1,000 hosts in batches of 100");
    let again = compare(&app).await;
    assert_eq!(
        of(&results(&app, again.id).await, CheckmkStatus::Equal).len(),
        2000
    );
}

#[tokio::test]
async fn a_checkmk_schedule_compares_adds_and_activates_as_the_mapping_says() {
    netraven::services::http::use_ring_for_tls();
    let sim = Sim::start(Options {
        secret: SECRET.into(),
        activation_time: Duration::from_millis(100),
        ..Options::default()
    })
    .await
    .expect("checkmk-sim starts");
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    configure(&app, &sim, SECRET).await;
    let cmk = app.add_tag("cmk", "#1a7f37").await;
    tagged_device(&app, "edge1", "192.0.2.10", "dc9", cmk).await;
    // In the wrong folder: its move comes after edge1's creation, so CheckMK refuses it until
    // the run activates.
    tagged_device(&app, "edge2", "192.0.2.11", "dc9", cmk).await;
    sim.add_folder("/old");
    let labels = json!({"netraven/platform": "cisco_ios"});
    sim.add_host(
        "edge2",
        "/old",
        json!({"ipaddress": "192.0.2.11", "labels": labels}),
    );
    save_mapping(
        &app,
        &[
            ("scheduled_add", "on"),
            ("scheduled_update", "on"),
            ("scheduled_activate", "on"),
        ],
    )
    .await;
    let fields = [
        ("name", "nightly checkmk"),
        ("job_type", "checkmk_compare"),
        ("target_type", "all"),
        ("source_id", ""),
        ("schedule_type", "daily"),
        ("time", "03:00"),
        ("timezone", "UTC"),
        ("enabled", "on"),
        ("debug", "off"),
    ];
    let r = app.submit("/schedules/new", "/schedules", &fields).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap_or_default()
    );
    let schedule = location(&r);
    let (_, html) = app.get_html("/schedules").await;
    assert!(unescaped(&html).contains("the CheckMK mapping's devices"));
    let job = run(&app, &format!("{schedule}/run"), &[], "/jobs/").await;
    assert_eq!(job.status, JobStatus::Success, "{:?}", job.message);
    let message = job.message.unwrap_or_default();
    assert!(
        message.contains("1 missing") && message.contains("then 1 added, 1 updated"),
        "{message}"
    );
    assert!(message.contains("activated"), "{message}");
    assert_eq!(attributes(&sim, "edge1").0, "/network/dc9");
    assert_eq!(attributes(&sim, "edge2").0, "/network/dc9");
    assert_eq!(
        app.audit_count("checkmk.activate").await,
        2,
        "before the move, and at the end"
    );
    assert_eq!(sim.pending_changes(), 0);
}

#[tokio::test]
async fn a_nautobot_source_maps_locations_parents_custom_fields_and_tenants() {
    use crate::nautobot::{TOKEN, add_source, configure as configure_nautobot, nautobot_sim};
    netraven::services::http::use_ring_for_tls();
    let dir = crate::helpers::new_data_dir();
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nautobot_data.json");
    let data: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture).expect("fixture")).expect("json");
    let nb = nautobot_sim(&dir, &data, &[]);
    let sim = Sim::start(Options {
        secret: SECRET.into(),
        ..Options::default()
    })
    .await
    .expect("checkmk-sim starts");
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    configure_nautobot(&app, &nb.url(), TOKEN).await;
    configure(&app, &sim, SECRET).await;
    let source = add_source(&app, &[("name", "dc"), ("statuses", "Active")]).await;
    let source_id = source.to_string();
    save_mapping(
        &app,
        &[
            ("source_kind", "nautobot"),
            ("nautobot_source_id", &source_id),
            ("inventory_tag", ""),
            ("folder_default", "/network/{locations}"),
            ("folder_rules", "name ^edge- => /network/edge/{location}"),
            ("site_rules", "cidr 198.51.100.0/24 => remote"),
            ("site_default", ""),
            ("alias", "{name} ({tenant})"),
            (
                "labels",
                "nautobot/role: {role}\nnautobot/backup_day: {cf.backup_day}",
            ),
        ],
    )
    .await;

    // The preview of a device two location levels down.
    let r = app
        .post_form(
            "/checkmk/mapping/preview",
            &mapping_form(&[
                ("source_kind", "nautobot"),
                ("nautobot_source_id", &source_id),
                ("inventory_tag", ""),
                ("folder_default", "/network/{locations}"),
                ("preview_device", "dist-sw-01"),
            ]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = unescaped(&r.text().await.expect("body"));
    assert!(
        html.contains("\"folder\": \"/network/dc1/dc1-room-a\""),
        "{html}"
    );
    assert!(html.contains("not in CheckMK"));

    let job = compare(&app).await;
    assert_eq!(job.status, JobStatus::Success, "{:?}", job.message);
    let rows = results(&app, job.id).await;
    assert!(of(&rows, CheckmkStatus::Missing).contains(&"core-rtr-01"));
    assert!(
        named(&rows, "no-ip-sw-01")
            .message
            .as_deref()
            .unwrap_or("")
            .starts_with("no address"),
        "a device without a primary IP cannot be a host"
    );
    let access: Vec<_> = rows
        .iter()
        .filter(|r| r.device_name == "access-sw")
        .collect();
    assert_eq!(access.len(), 2);
    assert!(access.iter().any(|r| r.status == CheckmkStatus::Error
        && r.message.as_deref() == Some("another device of the source has this name")));

    let added = act(&app, job.id, &[("all", "missing")]).await;
    assert_eq!(added.status, JobStatus::Success, "{:?}", added.message);
    let (folder, attrs) = attributes(&sim, "core-rtr-01");
    assert_eq!(folder, "/network/dc1");
    assert_eq!(
        attrs,
        json!({"ipaddress": "192.0.2.10", "alias": "core-rtr-01 (ACME)",
               "labels": {"nautobot/role": "router", "nautobot/backup_day": "2026-12-01"}})
    );
    assert_eq!(attributes(&sim, "dist-sw-01").0, "/network/dc1/dc1-room-a");
    let again = compare(&app).await;
    let rows = results(&app, again.id).await;
    assert!(of(&rows, CheckmkStatus::Missing).is_empty());
    assert!(
        of(&rows, CheckmkStatus::Diff).is_empty(),
        "{:?}",
        of(&rows, CheckmkStatus::Diff)
    );
}

/// The comparison benchmark (docs/BENCHMARKS.md, `scripts/bench-checkmk.sh`): 5,000 devices,
/// every one a host in CheckMK (the most requests: the host list, then 5,000 host reads),
/// against the simulator answering each request after 0 ms and after 20 ms, side by side.
#[tokio::test]
#[ignore = "a benchmark: run by scripts/bench-checkmk.sh"]
async fn checkmk_benchmark() {
    const DEVICES: usize = 5000;
    netraven::services::http::use_ring_for_tls();
    let sim = Sim::start(Options {
        secret: SECRET.into(),
        ..Options::default()
    })
    .await
    .expect("checkmk-sim starts");
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    configure(&app, &sim, SECRET).await;
    large_inventory(&app, &sim, DEVICES, DEVICES).await;
    let mut report = Vec::new();
    for latency in [0u64, 20] {
        sim.set_latency(Duration::from_millis(latency));
        let started = Instant::now();
        let job = compare(&app).await;
        let took = started.elapsed();
        assert_eq!(job.status, JobStatus::Success, "{:?}", job.message);
        assert_eq!(
            of(&results(&app, job.id).await, CheckmkStatus::Equal).len(),
            DEVICES
        );
        report.push((latency, took));
    }
    let floor = DEVICES as f64 * 0.020 / netraven::services::checkmk::compare::CONCURRENCY as f64;
    for (latency, took) in &report {
        eprintln!(
            "BENCH compare {DEVICES} devices, {latency} ms per request: {:.2} s",
            took.as_secs_f64()
        );
    }
    eprintln!(
        "BENCH floor at 20 ms ({} reads in flight): {floor:.2} s; 20 ms / 0 ms = {:.2}",
        netraven::services::checkmk::compare::CONCURRENCY,
        report[1].1.as_secs_f64() / report[0].1.as_secs_f64()
    );
    assert!(
        report[1].1 < Duration::from_secs(15),
        "the target: at most 15 s"
    );
}
