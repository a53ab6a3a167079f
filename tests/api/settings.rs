use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::helpers::spawn_app;
use netraven::entity::admin_settings;

async fn value(app: &crate::helpers::TestApp, key: &str) -> serde_json::Value {
    admin_settings::Entity::find()
        .filter(admin_settings::Column::Key.eq(key))
        .one(&app.db)
        .await
        .unwrap()
        .expect("setting exists")
        .value
}

#[tokio::test]
async fn settings_are_seeded_grouped_and_validated() {
    let app = spawn_app().await;
    app.login_admin().await;
    let (status, html) = app.get_html("/settings").await;
    assert_eq!(status, StatusCode::OK);
    for heading in ["Security", "Jobs", "Backups", "Nautobot"] {
        assert!(html.contains(heading), "{heading} shown");
    }

    // A bad value is rejected with a message and nothing in the category changes.
    let r = app
        .submit(
            "/settings",
            "/settings/security",
            &[
                ("security.lockout_threshold", "0"),
                ("security.lockout_minutes", "30"),
                ("security.session_lifetime_minutes", "480"),
                ("security.password_min_length", "10"),
                ("security.password_require_mixed", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Enter a whole number from 1 to 100.")
    );
    assert_eq!(
        value(&app, "security.lockout_threshold").await,
        serde_json::json!(5)
    );
    assert_eq!(
        value(&app, "security.lockout_minutes").await,
        serde_json::json!(15)
    );

    let r = app
        .submit(
            "/settings",
            "/settings/security",
            &[
                ("security.lockout_threshold", "3"),
                ("security.lockout_minutes", "30"),
                ("security.session_lifetime_minutes", "480"),
                ("security.password_min_length", "12"),
                ("security.password_require_mixed", "off"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        value(&app, "security.lockout_threshold").await,
        serde_json::json!(3)
    );
    assert_eq!(
        value(&app, "security.password_require_mixed").await,
        serde_json::json!(false)
    );
    assert_eq!(app.audit_count("settings.update").await, 1);

    let r = app
        .submit(
            "/settings",
            "/settings/nautobot",
            &[("nautobot.url", "ftp://nope")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.post_form("/settings/nosuch", &[]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn sensitive_settings_are_encrypted_and_never_shown() {
    let app = spawn_app().await;
    app.login_admin().await;
    let secret = "nb-token-0123456789abcdef";
    let r = app
        .submit(
            "/settings",
            "/settings/nautobot",
            &[
                ("nautobot.url", "https://nautobot.example.net"),
                ("nautobot.token", secret),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let stored = value(&app, "nautobot.token").await;
    let token = stored.as_str().expect("stored as a Fernet token");
    assert!(!token.contains(secret));
    let (_, html) = app.get_html("/settings").await;
    assert!(!html.contains(secret) && !html.contains(token));
    assert!(html.contains("set: leave empty to keep"));
    let (_, audit) = app.get_html("/audit").await;
    assert!(!audit.contains(secret));

    // Empty keeps the value; the clear box removes it.
    app.submit(
        "/settings",
        "/settings/nautobot",
        &[
            ("nautobot.url", "https://nautobot.example.net"),
            ("nautobot.token", ""),
        ],
    )
    .await;
    assert_eq!(value(&app, "nautobot.token").await, stored);
    app.submit(
        "/settings",
        "/settings/nautobot",
        &[
            ("nautobot.url", "https://nautobot.example.net"),
            ("nautobot.token__clear", "on"),
        ],
    )
    .await;
    assert!(value(&app, "nautobot.token").await.is_null());
}

#[tokio::test]
async fn audit_page_filters() {
    let app = spawn_app().await;
    app.login_admin().await;
    app.new_browser().login("admin", "wrong-password-x").await;
    let (status, html) = app.get_html("/audit?event_type=auth").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("login_failed") && html.contains("login"));
    assert!(!html.contains("user.create"));
    let (_, html) = app.get_html("/audit?q=wrong+password").await;
    assert!(html.contains("login_failed"));
    let (status, html) = app.get_html("/audit?from=yesterday").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Dates must look like"));
    let (status, _) = app.get_html("/audit?page=abc&per_page=-1").await;
    assert_eq!(status, StatusCode::OK);
}
