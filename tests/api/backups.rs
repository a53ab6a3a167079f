//! Stored configuration versions through HTTP: history with paging, one version (view and
//! download) with secrets masked by role and setting, what changed since the previous version,
//! the diff of any two versions, bad input, and who may read them. Versions are written with
//! `services::backups::begin_store`, as a backup job does.

use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::helpers::{TestApp, location, spawn_app};
use netraven::device::facts::Facts;
use netraven::device::fetch::Config;
use netraven::device::profile;
use netraven::entity::{admin_settings, devices};
use netraven::services::backups;
use netraven::services::settings::registry::BACKUPS_SHOW_SECRETS_TO_ADMINS;

pub const VIEWER_PASSWORD: &str = "Viewer-passw0rd-1";

/// Stores `text` as the device's configuration (a new version when it changed); returns the
/// version number.
pub async fn store_version(app: &TestApp, device_id: i32, text: &str, masked: bool) -> i32 {
    let device = devices::Entity::find_by_id(device_id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("device");
    let profile = profile::find(&device.device_type).expect("profile");
    let config = Config::from_output(profile, text);
    let (txn, stored) =
        backups::begin_store(&app.db, &device, &config, &Facts::default(), None, masked)
            .await
            .expect("store");
    txn.commit().await.expect("commit");
    stored.version
}

pub async fn set_show_secrets(app: &TestApp, on: bool) {
    admin_settings::Entity::update_many()
        .col_expr(
            admin_settings::Column::Value,
            Expr::value(serde_json::json!(on)),
        )
        .filter(admin_settings::Column::Key.eq(BACKUPS_SHOW_SECRETS_TO_ADMINS.meta.key))
        .exec(&app.db)
        .await
        .expect("setting updated");
}

/// A second browser signed in as a new viewer (created by the signed-in admin).
pub async fn viewer(app: &TestApp, name: &str) -> TestApp {
    app.create_user(name, "viewer", VIEWER_PASSWORD).await;
    let browser = app.new_browser();
    let r = browser.login(name, VIEWER_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "viewer login");
    browser
}

/// An IOS configuration of `n` numbered interface descriptions with the usual secrets.
pub fn ios_config(hostname: &str, n: usize, community: &str) -> String {
    let mut c = format!(
        "hostname {hostname}\n!\nenable secret 9 $9$EnableHashValue\nusername admin privilege 15 secret 9 $9$UserHashValue\n!\n"
    );
    for i in 1..=n {
        c.push_str(&format!(
            "interface Loopback{i}\n description line {i}\n!\n"
        ));
    }
    c.push_str(&format!(
        "snmp-server community {community} RO\nntp server 10.9.9.9\nend\n"
    ));
    c
}

fn count(html: &str, needle: &str) -> usize {
    html.matches(needle).count()
}

#[tokio::test]
async fn history_lists_versions_newest_first_with_paging_and_the_device_page_links_them() {
    let app = spawn_app().await;
    app.login_admin().await;
    let id = app.add_device("r1", "192.0.2.1", "cisco_ios").await;

    let (status, html) = app.get_html(&format!("/devices/{id}/backups")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("No configuration stored for this device yet"));

    for v in 1..=30 {
        let text = ios_config("r1", 3, "Comm1").replace("line 2", &format!("change {v}"));
        assert_eq!(store_version(&app, id, &text, true).await, v);
    }
    // An unchanged backup makes no version.
    let same = ios_config("r1", 3, "Comm1").replace("line 2", "change 30");
    assert_eq!(store_version(&app, id, &same, true).await, 30);

    let (status, html) = app
        .get_html(&format!("/devices/{id}/backups?per_page=25"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Showing 1–25 of 30"));
    let pos = |v: i32| html.find(&format!(">v{v}</a>"));
    assert!(pos(30).is_some() && pos(6).is_some() && pos(5).is_none());
    assert!(pos(30) < pos(29) && pos(29) < pos(6), "newest first");
    assert!(html.contains(&format!("/devices/{id}/backups/30/download")));
    assert!(html.contains(&format!("/devices/{id}/backups/30/changes")));
    // The compare form starts on the newest two.
    assert!(html.contains(r#"name="to" value="30" aria-label="compare to version 30" checked"#));
    assert!(
        html.contains(r#"name="from" value="29" aria-label="compare from version 29" checked"#)
    );

    let (_, page2) = app
        .get_html(&format!("/devices/{id}/backups?page=2&per_page=25"))
        .await;
    assert!(page2.contains("Showing 26–30 of 30"));
    assert!(page2.contains(">v5</a>") && page2.contains(">v1</a>") && !page2.contains(">v6</a>"));
    // The first version has no "changes" link.
    assert!(!page2.contains(&format!("/devices/{id}/backups/1/changes")));
    // A page past the end (an old bookmark) shows the last page.
    let (status, past) = app
        .get_html(&format!("/devices/{id}/backups?page=9&per_page=25"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(past.contains("Showing 26–30 of 30"));

    // htmx asks for the table alone.
    let fragment = app
        .client
        .get(app.url(&format!("/devices/{id}/backups?page=2&per_page=25")))
        .header("HX-Request", "true")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        fragment
            .trim_start()
            .starts_with("<div id=\"backups-table\">")
    );
    assert!(!fragment.contains("<html"));

    // The device page: the newest five, a link to all, and to the latest changes.
    let (_, show) = app.get_html(&format!("/devices/{id}")).await;
    assert!(show.contains(">v30</a>") && show.contains(">v26</a>") && !show.contains(">v25</a>"));
    assert!(show.contains(&format!(
        "href=\"/devices/{id}/backups\">All 30 versions</a>"
    )));
    assert!(show.contains(&format!(
        "href=\"/devices/{id}/backups/30/changes\">What changed in the latest backup"
    )));
}

#[tokio::test]
async fn view_and_download_mask_secrets_unless_an_admin_may_see_them() {
    let app = spawn_app().await;
    app.login_admin().await;
    let id = app.add_device("edge-1", "192.0.2.2", "cisco_ios").await;
    let text = ios_config("edge-1", 2, "S3cretCommunity");
    assert_eq!(store_version(&app, id, &text, false).await, 1);
    let viewer = viewer(&app, "viewer1").await;
    let page = format!("/devices/{id}/backups/1");
    let file = format!("/devices/{id}/backups/1/download");

    for who in [&viewer, &app] {
        let (status, html) = who.get_html(&page).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!html.contains("S3cretCommunity") && !html.contains("EnableHashValue"));
        assert!(
            html.contains("snmp-server community &#60;masked&#62; RO"),
            "masked for display"
        );
        assert!(html.contains("Secrets are masked for display"));
        assert!(html.contains(r#"data-n="1""#) && html.contains("hostname edge-1"));

        let r = who.get(&file).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers()["content-disposition"].to_str().unwrap(),
            "attachment; filename=\"edge-1_1.cfg\""
        );
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
        let body = r.text().await.unwrap();
        assert!(body.contains("snmp-server community <masked> RO"));
        assert!(body.contains("enable secret 9 <masked>"));
        assert!(!body.contains("S3cretCommunity"));
        assert_eq!(body.lines().count(), text.lines().count());
    }

    // The setting on: the admin sees the stored secrets (recorded), the viewer still does not.
    set_show_secrets(&app, true).await;
    let (_, html) = app.get_html(&page).await;
    assert!(html.contains("snmp-server community S3cretCommunity RO"));
    assert!(html.contains("Secrets are shown"));
    let body = app.get(&file).await.text().await.unwrap();
    assert_eq!(body, text);
    assert_eq!(app.audit_count("backup.secrets_shown").await, 2);
    let body = viewer.get(&file).await.text().await.unwrap();
    assert!(!body.contains("S3cretCommunity"));

    // A version stored masked cannot be unmasked, and says so.
    let v2 = store_version(&app, id, &ios_config("edge-1", 3, "Other1Comm"), true).await;
    let (_, html) = app.get_html(&format!("/devices/{id}/backups/{v2}")).await;
    assert!(html.contains("Stored masked"));
    assert!(!html.contains("Other1Comm"));
    assert_eq!(app.audit_count("backup.secrets_shown").await, 2);
}

#[tokio::test]
async fn changes_and_diff_show_exactly_the_changed_lines() {
    let app = spawn_app().await;
    app.login_admin().await;
    let id = app.add_device("core-1", "192.0.2.3", "cisco_ios").await;
    let v1 = ios_config("core-1", 40, "Comm1");
    let v2 = v1.replace(" description line 20\n", " description line twenty\n");
    store_version(&app, id, &v1, true).await;
    store_version(&app, id, &v2, true).await;

    let (status, first) = app
        .get_html(&format!("/devices/{id}/backups/1/changes"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(first.contains("is the first stored version"));

    let (status, html) = app
        .get_html(&format!("/devices/{id}/backups/2/changes"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(count(&html, r#"<tr class="del""#), 1, "one removed line");
    assert_eq!(count(&html, r#"<tr class="add""#), 1, "one added line");
    assert!(html.contains("<td> description line 20</td>"));
    assert!(html.contains("<td> description line twenty</td>"));
    assert!(html.contains(">+1</span>") && html.contains(">−1</span>"));
    // Three lines of context either side; the rest folded, with a link to expand.
    assert!(html.contains("<td>interface Loopback20</td>"));
    assert!(!html.contains("<td> description line 10</td>"));
    assert_eq!(count(&html, "unchanged lines</a>"), 2);
    // Line 64 of 128 changed: lines 1-60 hidden before it, 68-128 after.
    assert!(html.contains("⋯ 60 unchanged lines"));
    assert!(html.contains("⋯ 61 unchanged lines"));
    assert!(html.contains("context=all#n1\""));
    // Whole file on request.
    let (_, all) = app
        .get_html(&format!("/devices/{id}/backups/2/changes?context=all"))
        .await;
    assert!(all.contains("<td> description line 10</td>"));
    assert!(!all.contains("unchanged lines</a>"));

    // Any two versions, side by side; the reverse direction swaps added and removed.
    let (status, side) = app
        .get_html(&format!("/devices/{id}/backups/diff?from=1&to=2&view=side"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(side.contains(r#"<td class="del"> description line 20</td>"#));
    assert!(side.contains(r#"<td class="add"> description line twenty</td>"#));
    let (_, back) = app
        .get_html(&format!("/devices/{id}/backups/diff?from=2&to=1"))
        .await;
    assert!(back.contains("<tr class=\"del\"") && back.contains("line twenty"));
    assert!(back.find("line twenty") < back.find("description line 20</td>"));
}

#[tokio::test]
async fn a_change_of_secret_values_only_is_named() {
    let app = spawn_app().await;
    app.login_admin().await;
    let viewer = viewer(&app, "viewer2").await;
    // Stored unmasked: the texts differ only where the mask hides them.
    let id = app.add_device("fw-1", "192.0.2.4", "cisco_ios").await;
    store_version(&app, id, &ios_config("fw-1", 5, "OldComm1"), false).await;
    store_version(&app, id, &ios_config("fw-1", 5, "NewComm2"), false).await;
    let (status, html) = viewer
        .get_html(&format!("/devices/{id}/backups/2/changes"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Only secret values changed"));
    assert!(!html.contains("OldComm1") && !html.contains("NewComm2"));
    assert_eq!(count(&html, r#"<tr class="del""#), 0);
    // An administrator allowed to see secrets sees which line changed.
    set_show_secrets(&app, true).await;
    let (_, html) = app
        .get_html(&format!("/devices/{id}/backups/2/changes"))
        .await;
    assert!(html.contains("Only secret values changed"));
    assert!(html.contains("OldComm1") && html.contains("NewComm2"));
    assert_eq!(count(&html, r#"<tr class="del""#), 1);

    // Stored masked: the stored texts are identical, yet they are two versions.
    let id = app.add_device("fw-2", "192.0.2.5", "cisco_ios").await;
    store_version(&app, id, &ios_config("fw-2", 5, "OldComm1"), true).await;
    assert_eq!(
        store_version(&app, id, &ios_config("fw-2", 5, "NewComm2"), true).await,
        2
    );
    let (_, html) = viewer
        .get_html(&format!("/devices/{id}/backups/diff?from=1&to=2"))
        .await;
    assert!(html.contains("Only secret values changed"));
    // A real change is not called one.
    store_version(&app, id, &ios_config("fw-2", 6, "NewComm2"), true).await;
    let (_, html) = viewer
        .get_html(&format!("/devices/{id}/backups/3/changes"))
        .await;
    assert!(!html.contains("Only secret values changed"));
    assert_eq!(count(&html, r#"<tr class="add""#), 3);
}

#[tokio::test]
async fn bad_diff_input_is_a_clear_client_error() {
    let app = spawn_app().await;
    app.login_admin().await;
    let id = app.add_device("r9", "192.0.2.9", "cisco_ios").await;
    store_version(&app, id, &ios_config("r9", 2, "C1"), true).await;
    store_version(&app, id, &ios_config("r9", 3, "C1"), true).await;
    let cases = [
        ("from=abc&to=2", 400, "must be a version number"),
        ("from=1", 400, "Choose the second version"),
        ("to=2", 400, "Choose the first version"),
        ("from=&to=2", 400, "Choose the first version"),
        ("from=-1&to=2", 400, "must be a version number"),
        ("from=99999999999&to=2", 400, "must be a version number"),
        ("from=2&to=2", 400, "choose two different versions"),
        ("from=1&to=7", 400, "r9 has no version 7"),
    ];
    for (query, status, message) in cases {
        let (s, html) = app
            .get_html(&format!("/devices/{id}/backups/diff?{query}"))
            .await;
        assert_eq!(s.as_u16(), status, "{query}");
        assert!(html.contains(message), "{query}: expected {message:?}");
    }
    for path in [
        format!("/devices/{id}/backups/7"),
        format!("/devices/{id}/backups/7/download"),
        format!("/devices/{id}/backups/7/changes"),
        format!("/devices/{id}/backups/abc"),
        format!("/devices/{id}/backups/99999999999"),
        "/devices/999999/backups".to_string(),
        "/devices/999999/backups/1".to_string(),
        "/devices/999999/backups/diff?from=1&to=2".to_string(),
    ] {
        let (s, _) = app.get_html(&path).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
    }
    // Junk view and context fall back to the defaults.
    let (s, _) = app
        .get_html(&format!(
            "/devices/{id}/backups/diff?from=1&to=2&view=x&context=y"
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn a_viewer_reads_every_page_and_an_anonymous_user_is_sent_to_sign_in() {
    let app = spawn_app().await;
    app.login_admin().await;
    let id = app.add_device("r2", "192.0.2.20", "cisco_ios").await;
    store_version(&app, id, &ios_config("r2", 2, "C1"), true).await;
    store_version(&app, id, &ios_config("r2", 3, "C1"), true).await;
    let viewer = viewer(&app, "viewer3").await;
    let anonymous = app.new_browser();
    let paths = [
        format!("/devices/{id}"),
        format!("/devices/{id}/backups"),
        format!("/devices/{id}/backups/2"),
        format!("/devices/{id}/backups/2/download"),
        format!("/devices/{id}/backups/2/changes"),
        format!("/devices/{id}/backups/diff?from=1&to=2&view=side"),
    ];
    for path in &paths {
        let r = viewer.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "viewer {path}");
        let r = anonymous.get(path).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "anonymous {path}");
        assert!(location(&r).starts_with("/login?next="), "{path}");
    }
}

/// Two jobs backing up one device at once: the one whose plan went stale while the other stored
/// a version is refused (nothing written) and plans again, so versions stay consecutive and an
/// unchanged configuration never hides a newer version.
#[tokio::test]
async fn a_store_planned_before_another_jobs_version_is_refused_and_planned_again() {
    let app = spawn_app().await;
    app.login_admin().await;
    let id = app.add_device("race1", "192.0.2.50", "cisco_ios").await;
    let device = devices::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let profile = profile::find("cisco_ios").unwrap();
    let config = |n| Config::from_output(profile, &ios_config("race1", n, "public"));
    assert_eq!(
        store_version(&app, id, &ios_config("race1", 1, "public"), true).await,
        1
    );

    let new_version = backups::plan(&app.db, &device, &config(2), true)
        .await
        .unwrap();
    let same_as_v1 = backups::plan(&app.db, &device, &config(1), true)
        .await
        .unwrap();
    // Another job stores version 2 meanwhile.
    assert_eq!(
        store_version(&app, id, &ios_config("race1", 3, "public"), true).await,
        2
    );
    for stale in [&new_version, &same_as_v1] {
        let txn = netraven::db::begin_write(&app.db).await.unwrap();
        let applied = backups::apply(&txn, &device, stale, &Facts::default(), None)
            .await
            .unwrap();
        assert!(applied.is_none(), "a stale plan is refused");
        txn.rollback().await.unwrap();
    }
    // `store` plans again: config 2 becomes version 3, config 1 (changed against 2) version 4.
    assert_eq!(
        store_version(&app, id, &ios_config("race1", 2, "public"), true).await,
        3
    );
    assert_eq!(
        store_version(&app, id, &ios_config("race1", 1, "public"), true).await,
        4
    );
}
