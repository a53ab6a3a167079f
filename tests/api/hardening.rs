//! The rest of the outside probe's findings, each reproduced through HTTP: a user manager who
//! granted themselves everything, database files readable by every local user, a huge page
//! number, formulas in a CSV export, origins and forwarded hosts, bodies that are not the form,
//! oversized bodies, and response headers.

use netraven::vocabulary::JobStatus;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::helpers::{ADMIN_PASSWORD, spawn_app};
use netraven::auth::permissions::{ALL, READ, USER_MANAGE, WRITE};
use netraven::entity::admin_settings;

#[tokio::test]
async fn a_user_manager_grants_only_what_they_hold_and_leaves_admins_alone() {
    let app = spawn_app().await;
    app.login_admin().await;
    let hr = app
        .submit(
            "/users/new",
            "/users",
            &[
                ("username", "hr"),
                ("password", "Hr-passw0rd-123"),
                ("role", "custom"),
                ("perm_read", "on"),
                ("perm_user_manage", "on"),
            ],
        )
        .await;
    assert_eq!(hr.status(), StatusCode::SEE_OTHER);
    let hr_id = app.user_row("hr").await.id;
    let admin_id = app.user_row("admin").await.id;
    let manager = app.new_browser();
    assert_eq!(
        manager.login("hr", "Hr-passw0rd-123").await.status(),
        StatusCode::SEE_OTHER
    );

    // Granting itself every flag.
    let own = format!("/users/{hr_id}");
    let r = manager.submit(&own, &own, &[("role", "admin")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("You can grant only permissions you hold yourself")
    );
    assert_eq!(app.user_row("hr").await.permissions, READ | USER_MANAGE);
    // Creating a user with more than it holds.
    let r = manager
        .submit(
            "/users/new",
            "/users",
            &[
                ("username", "sidekick"),
                ("password", "Side-passw0rd-1"),
                ("role", "operator"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // What it holds it may grant.
    let r = manager
        .submit(
            "/users/new",
            "/users",
            &[
                ("username", "reader"),
                ("password", "Reader-passw0rd-1"),
                ("role", "viewer"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // The admin account: no change, no password reset, no delete.
    let admin_page = format!("/users/{admin_id}");
    let (_, html) = manager.get_html(&admin_page).await;
    assert!(html.contains("You cannot change, reset or delete this account"));
    let r = manager
        .post_form(
            &admin_page,
            &[
                ("realname", "pwned"),
                ("email", ""),
                ("role", "viewer"),
                ("perm_read", "off"),
                ("perm_write", "off"),
                ("perm_delete", "off"),
                ("perm_admin", "off"),
                ("perm_user_manage", "off"),
                ("is_active", "off"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = manager
        .post_form(
            &format!("{admin_page}/password"),
            &[("password", "Taken-over-pw-1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = manager
        .post_form(&format!("{admin_page}/delete"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let admin = app.user_row("admin").await;
    assert_eq!((admin.permissions, admin.is_active), (ALL, true));
    assert_eq!(
        app.new_browser()
            .login("admin", ADMIN_PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER,
        "the admin's password is unchanged"
    );
    // Nor an operator: it holds write, which the manager lacks.
    let op = app.create_user("op", "operator", "Op-passw0rd-123").await;
    let r = manager
        .post_form(
            &format!("/users/{op}/password"),
            &[("password", "Taken-over-pw-1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.user_row("op").await.permissions, READ | WRITE);
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_folder_and_database_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app().await;
    app.login_admin().await;
    // A write makes SQLite create its -wal and -shm files.
    app.add_tag("t", "#0969da").await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&app.data_dir), 0o700, "data folder");
    let mut files = 0;
    for entry in std::fs::read_dir(&app.data_dir).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
        files += 1;
    }
    let expected = if app.settings.is_sqlite() { 5 } else { 2 };
    assert!(
        files >= expected,
        "database and key files present ({files})"
    );
}

#[tokio::test]
async fn a_huge_page_number_shows_the_last_page() {
    let app = spawn_app().await;
    app.login_admin().await;
    for path in ["/devices", "/users", "/audit", "/jobs", "/schedules"] {
        let (status, html) = app
            .get_html(&format!("{path}?page=9223372036854775807"))
            .await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(!html.contains("Something went wrong"), "{path}");
        let (status, _) = app
            .get_html(&format!("{path}?page=99999999999999999999999"))
            .await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    let (_, html) = app.get_html("/users?page=9223372036854775807").await;
    assert!(html.contains(">admin</a>"), "the last (only) page is shown");
}

#[tokio::test]
async fn a_csv_export_never_hands_a_spreadsheet_a_formula_and_imports_back() {
    let app = spawn_app().await;
    app.login_admin().await;
    app.submit(
        "/devices/new",
        "/devices",
        &[
            ("hostname", "r1"),
            ("ip_address", "192.0.2.1"),
            ("device_type", "cisco_ios"),
            ("description", "=HYPERLINK(\"http://evil.example\",\"x\")"),
        ],
    )
    .await;
    let csv = app.get("/devices/export.csv").await.text().await.unwrap();
    assert!(
        csv.contains("'=HYPERLINK("),
        "the formula is written as text: {csv}"
    );
    assert!(!csv.contains(",=HYPERLINK"));
    // Importing the export restores the description as it was.
    let (status, _) = app.import_csv(csv.into_bytes(), "apply").await;
    assert_eq!(status, StatusCode::OK);
    let d = netraven::entity::devices::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        d.description.as_deref(),
        Some("=HYPERLINK(\"http://evil.example\",\"x\")")
    );
}

#[tokio::test]
async fn origins_are_compared_whole_and_forwarded_hosts_are_not_believed() {
    let app = spawn_app().await;
    app.login_admin().await;
    let token = app.csrf().await;
    let host = app.address.trim_start_matches("http://").to_string();
    let post = |origin: String, forwarded: Option<&'static str>| {
        let mut req = app
            .client
            .post(app.url("/tags"))
            .header("Origin", origin)
            .header("X-CSRF-Token", token.as_str())
            .form(&[("name", "o"), ("color", "#0969da"), ("description", "")]);
        if let Some(h) = forwarded {
            req = req.header("X-Forwarded-Host", h);
        }
        req.send()
    };
    // Same host and port, another scheme.
    let r = post(format!("https://{host}"), None).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Another site that names itself in X-Forwarded-Host.
    let r = post("http://evil.example".into(), Some("evil.example"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // This site.
    let r = post(app.address.clone(), None).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_body_that_is_not_the_form_changes_nothing() {
    let app = spawn_app().await;
    app.login_admin().await;
    let id = app.create_user("eve", "operator", "Eve-passw0rd-123").await;
    let token = app.csrf().await;
    // JSON with a valid token: refused as not a form; the user keeps everything.
    let r = app
        .client
        .post(app.url(&format!("/users/{id}")))
        .header("X-CSRF-Token", token.as_str())
        .json(&serde_json::json!({"realname": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let eve = app.user_row("eve").await;
    assert_eq!((eve.permissions, eve.is_active), (READ | WRITE, true));
    // An empty form: a 400 naming what is missing, and no setting switched off.
    let r = app
        .client
        .post(app.url("/settings/backups"))
        .header("X-CSRF-Token", token.as_str())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("The form is incomplete"));
    let masked = admin_settings::Entity::find()
        .filter(
            admin_settings::Column::Key.eq(
                netraven::services::settings::registry::BACKUPS_STORE_SECRETS_MASKED
                    .meta
                    .key,
            ),
        )
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(masked.value, serde_json::json!(true));
    // A form without the user's checkboxes does not deactivate them.
    let r = app
        .post_form(
            &format!("/users/{id}"),
            &[("realname", ""), ("email", ""), ("role", "viewer")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(app.user_row("eve").await.is_active);
}

#[tokio::test]
async fn an_oversized_body_is_called_too_large() {
    let app = spawn_app().await;
    app.login_admin().await;
    let big = "x".repeat(1024 * 1024);
    let r = app
        .post_form("/tags", &[("name", "big"), ("description", &big)])
        .await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.text().await.unwrap().contains("larger than 256 KB"));
    // The import: a long field that is not the file is named as such.
    let token = app.csrf().await;
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"hostname,ip,device_type\n".to_vec())
                .file_name("d.csv"),
        )
        .text("intent", "x".repeat(10_000));
    let r = app
        .client
        .post(app.url("/devices/import"))
        .header("X-CSRF-Token", token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(
        html.contains("is longer than 64 bytes; only the file may be large"),
        "{html}"
    );
    assert!(!html.contains("The file is larger"));
}

#[tokio::test]
async fn pages_are_not_stored_head_answers_and_tls_adds_hsts() {
    let app = spawn_app().await;
    app.login_admin().await;
    for path in ["/", "/devices", "/login", "/no/such/page"] {
        let r = app.get(path).await;
        assert_eq!(
            r.headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
            Some("no-store"),
            "{path}"
        );
    }
    let css = netraven::web::assets::css_href();
    let r = app.get(css).await;
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    for path in ["/", "/devices", "/healthz"] {
        let r = app.client.head(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "HEAD {path}");
        assert!(r.text().await.unwrap().is_empty());
    }
    assert!(
        app.get("/")
            .await
            .headers()
            .get("strict-transport-security")
            .is_none(),
        "no HSTS over plain HTTP"
    );
    let mut settings = app.settings.clone();
    settings.behind_tls = true;
    settings.data_dir = crate::helpers::new_data_dir();
    settings.database_url = crate::helpers::test_database_url(&settings.data_dir).await;
    let tls = crate::helpers::spawn_with(settings).await;
    let r = tls.get("/login").await;
    assert_eq!(
        r.headers()
            .get("strict-transport-security")
            .and_then(|v| v.to_str().ok()),
        Some("max-age=31536000")
    );
}

#[tokio::test]
async fn a_keyring_pre_shared_key_is_masked_for_viewers_and_search() {
    use devsim::{DeviceSpec, Platform};
    let sim = crate::engine::start(vec![DeviceSpec::new(
        Platform::CiscoIos,
        "branch1",
        crate::engine::USER,
        crate::engine::PASSWORD,
    )])
    .await;
    let app = crate::helpers::spawn_app_with_workers().await;
    app.login_admin().await;
    let tag = crate::jobs::lab_tag(&app).await;
    let ids = crate::jobs::add_sim_devices(&app, &sim, &tag).await;
    let job = crate::jobs::job_id(
        &app.post_form(&format!("/devices/{}/backup", ids[0]), &[])
            .await,
    );
    assert_eq!(
        crate::jobs::finished(&app, job).await.status,
        JobStatus::Success
    );
    app.create_user("reader", "viewer", "Reader-passw0rd-1")
        .await;
    let viewer = app.new_browser();
    viewer.login("reader", "Reader-passw0rd-1").await;
    let (_, html) = viewer
        .get_html(&format!("/devices/{}/backups/1", ids[0]))
        .await;
    assert!(
        html.contains("pre-shared-key address 198.51.100.7 key &#60;masked&#62;"),
        "{html}"
    );
    assert!(!html.contains("Br4nchPsk"));
    let (_, html) = viewer.get_html("/search?q=Br4nchPsk").await;
    assert!(html.contains("No match"));
    sim.shutdown().await;
}

#[tokio::test]
async fn execute_is_an_admin_flag_granted_only_by_those_who_hold_it() {
    use netraven::auth::permissions::{DELETE, EXECUTE};
    let app = spawn_app().await;
    app.login_admin().await;
    assert!(
        app.user_row("admin").await.permissions & EXECUTE != 0,
        "the admin preset holds it"
    );
    app.create_user("eng", "engineer", "Engineer-passw0rd-1")
        .await;
    assert_eq!(app.user_row("eng").await.permissions, READ | WRITE | DELETE);
    let (_, html) = app.get_html("/users/new").await;
    assert!(html.contains("name=\"perm_execute\"") && html.contains("run commands on devices"));
    let r = app
        .submit(
            "/users/new",
            "/users",
            &[
                ("username", "pusher"),
                ("password", "Pusher-passw0rd-1"),
                ("role", "custom"),
                ("perm_read", "on"),
                ("perm_write", "on"),
                ("perm_execute", "on"),
                ("perm_user_manage", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.user_row("pusher").await.permissions,
        READ | WRITE | EXECUTE | USER_MANAGE
    );
    // A user manager without execute cannot hand it out.
    app.submit(
        "/users/new",
        "/users",
        &[
            ("username", "hr"),
            ("password", "Hr-passw0rd-123"),
            ("role", "custom"),
            ("perm_read", "on"),
            ("perm_write", "on"),
            ("perm_user_manage", "on"),
        ],
    )
    .await;
    let hr = app.new_browser();
    assert_eq!(
        hr.login("hr", "Hr-passw0rd-123").await.status(),
        StatusCode::SEE_OTHER
    );
    // The box is disabled on its form; a hand-made request ticks it all the same.
    let r = hr
        .submit(
            "/users/new",
            "/users",
            &[
                ("username", "sneaky"),
                ("password", "Sneaky-passw0rd-1"),
                ("role", "custom"),
                ("perm_read", "on"),
                ("perm_execute", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap_or_default()
            .contains("You can grant only permissions you hold yourself")
    );
}
