use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::helpers::{ADMIN_PASSWORD, location, spawn_app};
use netraven::entity::{sessions, users};

#[tokio::test]
async fn anonymous_page_redirects_to_login_with_next() {
    let app = spawn_app().await;
    let resp = app.get("/users?page=2").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/login?next=%2Fusers%3Fpage%3D2");
    let (status, html) = app.get_html("/login?next=%2Fusers").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("name=\"next\" value=\"/users\""));
}

#[tokio::test]
async fn login_ok_then_logout_revokes_the_session() {
    let app = spawn_app().await;
    let resp = app.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/");
    let (status, html) = app.get_html("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Dashboard") && html.contains("admin"));
    assert_eq!(app.audit_count("login").await, 1);
    let user_sessions = || {
        sessions::Entity::find()
            .filter(sessions::Column::UserId.is_not_null())
            .count(&app.db)
    };
    assert_eq!(user_sessions().await.unwrap(), 1);

    // Keep the cookie to replay it after logout.
    let cookie_resp = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(cookie_resp.status(), StatusCode::OK);

    let resp = app.post_form("/logout", &[]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(user_sessions().await.unwrap(), 0, "session row removed");
    assert_eq!(app.audit_count("logout").await, 1);
    let resp = app.get("/").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "signed out");
}

#[tokio::test]
async fn logout_revokes_a_replayed_cookie() {
    let app = spawn_app().await;
    app.login_admin().await;
    // Capture the raw session cookie the browser holds.
    let resp = app.get("/").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let raw = {
        let login = app.new_browser();
        let r = login.login("admin", ADMIN_PASSWORD).await;
        let cookie = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("netraven_session="))
            .map(|c| c.split(';').next().unwrap_or_default().to_string())
            .expect("session cookie");
        // Sign this second browser out.
        let out = login.post_form("/logout", &[]).await;
        assert_eq!(out.status(), StatusCode::SEE_OTHER);
        cookie
    };
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = replay
        .get(app.url("/"))
        .header("cookie", raw)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::SEE_OTHER,
        "a revoked session cookie no longer works"
    );
    // The first browser is unaffected.
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn wrong_password_and_unknown_user_look_the_same() {
    let app = spawn_app().await;
    let wrong = app.login("admin", "not-the-password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong_html = wrong.text().await.unwrap();
    let unknown = app.login("nobody-here", "whatever123").await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let unknown_html = unknown.text().await.unwrap();
    let msg = "Sign-in failed: wrong username or password, or the account is locked or disabled.";
    assert!(wrong_html.contains(msg) && unknown_html.contains(msg));
    assert!(
        !wrong_html.contains("not-the-password"),
        "the password is not echoed"
    );
    assert_eq!(app.audit_count("login_failed").await, 2);
}

#[tokio::test]
async fn lockout_after_threshold_blocks_even_the_right_password() {
    let app = spawn_app().await;
    for _ in 0..5 {
        let r = app.login("admin", "wrong-password-1").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let admin = users::Entity::find()
        .filter(users::Column::Username.eq("admin"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(admin.locked_until.is_some(), "locked after 5 failures");
    assert_eq!(app.audit_count("user.locked").await, 1);
    let r = app.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "locked account refuses the right password"
    );
}

#[tokio::test]
async fn inactive_user_cannot_sign_in_and_deactivation_ends_sessions() {
    let app = spawn_app().await;
    app.login_admin().await;
    let id = app
        .create_user("operator1", "operator", "Operator-pass1")
        .await;
    let op = app.new_browser();
    assert_eq!(
        op.login("operator1", "Operator-pass1").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(op.get("/").await.status(), StatusCode::OK);

    let page = format!("/users/{id}");
    let r = app.submit(&page, &page, &[("is_active", "off")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        op.get("/").await.status(),
        StatusCode::SEE_OTHER,
        "session revoked at once"
    );
    let again = op.new_browser();
    assert_eq!(
        again.login("operator1", "Operator-pass1").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn csrf_missing_or_wrong_is_rejected_and_changes_nothing() {
    let app = spawn_app().await;
    app.login_admin().await;
    let before = users::Entity::find().count(&app.db).await.unwrap();
    let fields = [
        ("username", "mallory"),
        ("realname", ""),
        ("email", ""),
        ("role", "admin"),
        ("perm_read", "off"),
        ("perm_write", "off"),
        ("perm_delete", "off"),
        ("perm_admin", "off"),
        ("perm_user_manage", "off"),
        ("password", "Mallory-pass1"),
        ("is_active", "on"),
    ];

    let missing = app
        .client
        .post(app.url("/users"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::FORBIDDEN);

    let mut wrong = fields.to_vec();
    wrong.push(("csrf_token", "forged-token"));
    let r = app
        .client
        .post(app.url("/users"))
        .form(&wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let r = app
        .client
        .post(app.url("/users"))
        .header("X-CSRF-Token", "forged-token")
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Right token, but from another site.
    let token = app.csrf().await;
    let mut good = fields.to_vec();
    good.push(("csrf_token", &token));
    let r = app
        .client
        .post(app.url("/users"))
        .header("Origin", "https://evil.example")
        .form(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    assert_eq!(
        users::Entity::find().count(&app.db).await.unwrap(),
        before,
        "no user created"
    );
    assert_eq!(app.audit_count("csrf_rejected").await, 4);

    // The header form (what htmx sends) with the right token and our own origin passes.
    let r = app
        .client
        .post(app.url("/users"))
        .header("X-CSRF-Token", token.as_str())
        .header("Origin", app.address.as_str())
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn login_redirect_only_goes_to_local_paths() {
    let app = spawn_app().await;
    let r = app
        .submit(
            "/login",
            "/login",
            &[
                ("username", "admin"),
                ("password", ADMIN_PASSWORD),
                ("next", "//evil.example/x"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/");
}

#[tokio::test]
async fn healthz_needs_no_login_and_unknown_pages_are_404() {
    let app = spawn_app().await;
    let r = app.get("/healthz").await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["database"], "ok");
    app.login_admin().await;
    let (status, html) = app.get_html("/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Not found"));
    let (status, _) = app.get_html("/users/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get_html("/users/not-a-number").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_expired_session_is_signed_out() {
    use sea_orm::sea_query::Expr;
    let app = spawn_app().await;
    app.login_admin().await;
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
    // Pretend the lifetime has passed.
    sessions::Entity::update_many()
        .col_expr(
            sessions::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .exec(&app.db)
        .await
        .unwrap();
    let r = app.get("/").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/login"));
}

#[tokio::test]
async fn session_lifetime_follows_the_setting() {
    let app = spawn_app().await;
    app.login_admin().await;
    let r = app
        .submit(
            "/settings",
            "/settings/security",
            &[("security.session_lifetime_minutes", "30")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let other = app.new_browser();
    other.login_admin().await;
    let newest = sessions::Entity::find()
        .filter(sessions::Column::UserId.is_not_null())
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .max_by_key(|s| s.created_at)
        .unwrap();
    let minutes = (newest.expires_at - newest.created_at).num_minutes();
    assert_eq!(minutes, 30, "new sessions last the configured 30 minutes");
    assert!(
        newest.ip.as_deref() == Some("127.0.0.1"),
        "client address recorded"
    );
}
