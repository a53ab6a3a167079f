//! API tokens: made under Profile and shown once, stored as a hash, accepted as Bearer, Token or
//! Basic; expiry, revocation (by the owner and by a user manager), the owner's deactivation and
//! lost flags, source networks, the rule that a token holds no more than its owner, CSRF for
//! session and token callers, and the limit on invalid tokens per address.

use reqwest::{Method, StatusCode};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::helpers::{TestApp, spawn_app};
use netraven::entity::{api_tokens, audit_logs};

const ENGINEER_PASSWORD: &str = "Engineer-passw0rd-1";

async fn engineer(app: &TestApp, name: &str) -> TestApp {
    app.create_user(name, "engineer", ENGINEER_PASSWORD).await;
    let browser = app.new_browser();
    let r = browser.login(name, ENGINEER_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{name} signs in");
    browser
}

async fn status_of(app: &TestApp, token: &str) -> StatusCode {
    app.api_get("/api/v1/me", token).await.0
}

#[tokio::test]
async fn a_token_is_shown_once_stored_as_a_hash_and_works_in_three_schemes() {
    let app = spawn_app().await;
    app.login_admin().await;
    let eve = engineer(&app, "eve").await;
    let token = eve.make_token("ci", &["read", "write"], &[]).await;
    assert!(token.starts_with("nrv_") && token.len() > 40, "{token}");

    // Shown once: the profile page no longer holds it.
    let (_, html) = eve.get_html("/profile").await;
    assert!(!html.contains(&token));
    assert!(html.contains(&token[..12]), "the prefix tells tokens apart");

    // Only a hash is stored; neither the row nor the audit trail holds the token.
    let row = api_tokens::Entity::find()
        .filter(api_tokens::Column::Name.eq("ci"))
        .one(&app.db)
        .await
        .expect("query")
        .expect("token row");
    assert_eq!(
        row.token_hash,
        netraven::crypto::sha256_hex(token.as_bytes())
    );
    assert_ne!(row.token_hash, token);
    assert!(row.last_used_at.is_none());
    let audit = audit_logs::Entity::find()
        .all(&app.db)
        .await
        .expect("audit");
    assert!(audit.iter().any(|a| a.event_name == "api_token.created"));
    assert!(
        !format!("{audit:?}").contains(&token),
        "the token is in the audit trail"
    );

    // Bearer, Token and Basic with the token as password.
    let (status, me) = app.api_get("/api/v1/me", &token).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["username"], "eve");
    assert_eq!(me["token"], "ci");
    assert_eq!(me["permissions"], json!(["read", "write"]));
    let r = app
        .client
        .get(app.url("/api/v1/me"))
        .header("Authorization", format!("Token {token}"))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .new_browser()
        .client
        .get(app.url("/api/v1/me"))
        .basic_auth("librenms", Some(&token))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers().get("set-cookie").is_none(),
        "a token request starts no session"
    );

    // Use is recorded (at most once a minute).
    let row = api_tokens::Entity::find_by_id(row.id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("row");
    assert!(row.last_used_at.is_some());
    assert_eq!(row.last_used_from.as_deref(), Some("127.0.0.1"));

    // A wrong token: 401 that says how to authenticate and not whether the token exists.
    let r = app
        .api(Method::GET, "/api/v1/me", "nrv_not-a-real-token")
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(
        r.headers()
            .get("www-authenticate")
            .is_some_and(|v| v.to_str().unwrap_or("").starts_with("Bearer"))
    );
    let body: serde_json::Value = r.json().await.expect("JSON");
    assert!(body["error"].as_str().unwrap_or("").contains("not valid"));

    // No token, no session: 401 JSON, not a redirect to the sign-in page.
    let r = app
        .new_browser()
        .client
        .get(app.url("/api/v1/devices"))
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn expiry_revocation_deactivation_and_lost_flags_stop_or_narrow_a_token() {
    let app = spawn_app().await;
    app.login_admin().await;
    let eve = engineer(&app, "eve").await;
    let expiring = eve.make_token("expiring", &["read"], &[]).await;
    let revoked = eve.make_token("revoked", &["read"], &[]).await;
    let writer = eve.make_token("writer", &["read", "write"], &[]).await;
    for t in [&expiring, &revoked, &writer] {
        assert_eq!(status_of(&app, t).await, StatusCode::OK);
    }

    // Expired: its date passed.
    api_tokens::Entity::update_many()
        .col_expr(
            api_tokens::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .filter(api_tokens::Column::Name.eq("expiring"))
        .exec(&app.db)
        .await
        .expect("expire");
    assert_eq!(status_of(&app, &expiring).await, StatusCode::UNAUTHORIZED);

    // Revoked by its owner: at once.
    let id = api_tokens::Entity::find()
        .filter(api_tokens::Column::Name.eq("revoked"))
        .one(&app.db)
        .await
        .expect("query")
        .expect("row")
        .id;
    let r = eve
        .post_form(&format!("/profile/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(status_of(&app, &revoked).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.audit_count("api_token.revoked").await, 1);

    // The owner loses write: the token can no longer write, although it was given write.
    let r = app
        .api(Method::POST, "/api/v1/tags", &writer)
        .json(&json!({"name": "from-api"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), StatusCode::CREATED);
    let eve_id = app.user_row("eve").await.id;
    let r = app
        .submit(
            &format!("/users/{eve_id}"),
            &format!("/users/{eve_id}"),
            &[("role", "viewer")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "eve demoted");
    let r = app
        .api(Method::POST, "/api/v1/tags", &writer)
        .json(&json!({"name": "after-demotion"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (_, me) = app.api_get("/api/v1/me", &writer).await;
    assert_eq!(me["permissions"], json!(["read"]));

    // The owner deactivated: every token stops.
    let r = app
        .submit(
            &format!("/users/{eve_id}"),
            &format!("/users/{eve_id}"),
            &[("is_active", "off")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "eve deactivated");
    assert_eq!(status_of(&app, &writer).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_token_holds_no_more_than_its_owner_and_a_user_manager_revokes_anyones() {
    let app = spawn_app().await;
    app.login_admin().await;
    app.create_user("vera", "viewer", ENGINEER_PASSWORD).await;
    let vera = app.new_browser();
    vera.login("vera", ENGINEER_PASSWORD).await;
    // The form does not offer write to a viewer; a crafted form is refused.
    let r = vera
        .submit(
            "/profile",
            "/profile/tokens",
            &[
                ("name", "sneaky"),
                ("permissions", "read"),
                ("permissions", "write"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.expect("body");
    assert!(
        html.contains("does not have the write permission"),
        "{html}"
    );
    assert!(
        api_tokens::Entity::find()
            .all(&app.db)
            .await
            .expect("q")
            .is_empty()
    );

    // Bad expiry and networks are said on the form; nothing is stored.
    let r = vera
        .submit(
            "/profile",
            "/profile/tokens",
            &[
                ("name", "x"),
                ("expires_on", "2020-01-01"),
                ("networks", "10.0.0.0/33"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.expect("body");
    assert!(html.contains("must be after today") && html.contains("is not a network"));

    let token = vera.make_token("reader", &["read"], &[]).await;
    // The name is unique per user.
    let r = vera
        .submit("/profile", "/profile/tokens", &[("name", "reader")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A viewer cannot see the token list; the admin (user_manage) can, and revokes it.
    assert_eq!(vera.get("/tokens").await.status(), StatusCode::FORBIDDEN);
    let (status, html) = app.get_html("/tokens").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("vera") && html.contains("reader"));
    assert!(!html.contains(&token), "a token is never shown again");
    let id = api_tokens::Entity::find()
        .one(&app.db)
        .await
        .expect("q")
        .expect("row")
        .id;
    // Not through another user's profile route.
    let eve = engineer(&app, "eve").await;
    let r = eve
        .post_form(&format!("/profile/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(status_of(&app, &token).await, StatusCode::OK);
    let r = app.post_form(&format!("/tokens/{id}/revoke"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(status_of(&app, &token).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn source_networks_limit_where_a_token_works() {
    let app = spawn_app().await;
    app.login_admin().await;
    let far = app
        .make_token("far", &["read"], &[("networks", "10.0.0.0/8")])
        .await;
    let near = app
        .make_token("near", &["read"], &[("networks", "127.0.0.0/8 ::1")])
        .await;
    assert_eq!(status_of(&app, &far).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status_of(&app, &near).await, StatusCode::OK);
    let single = app
        .make_token("single", &["read"], &[("networks", "127.0.0.2")])
        .await;
    assert_eq!(status_of(&app, &single).await, StatusCode::UNAUTHORIZED);
    let other = app.browser_from("127.0.0.2");
    assert_eq!(status_of(&other, &single).await, StatusCode::OK);
}

#[tokio::test]
async fn sessions_need_the_csrf_header_on_the_api_and_tokens_do_not() {
    let app = spawn_app().await;
    app.login_admin().await;
    let token = app.make_token("ci", &["read", "write"], &[]).await;
    // A browser session without the CSRF header is refused, nothing stored.
    let r = app
        .client
        .post(app.url("/api/v1/tags"))
        .json(&json!({"name": "no-csrf"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = r.json().await.expect("JSON error");
    assert_eq!(body["title"], "Request rejected");
    // With it, the session may call the API.
    let csrf = app.csrf().await;
    let r = app
        .client
        .post(app.url("/api/v1/tags"))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"name": "with-csrf"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), StatusCode::CREATED);
    // A token needs none, even with the session's cookies present.
    let r = app
        .api(Method::POST, "/api/v1/tags", &token)
        .json(&json!({"name": "by-token"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), StatusCode::CREATED);
    // Basic on a POST is checked like a session (a browser resends cached Basic credentials
    // with a cross-site form).
    let r = app
        .new_browser()
        .client
        .post(app.url("/api/v1/tags"))
        .basic_auth("x", Some(&token))
        .json(&json!({"name": "by-basic"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (_, tags) = app.api_get("/api/v1/tags", &token).await;
    assert_eq!(tags["count"], 2, "{tags}");
}

#[tokio::test]
async fn invalid_tokens_from_one_address_are_limited_and_others_are_not() {
    let app = spawn_app().await;
    app.login_admin().await;
    let token = app.make_token("good", &["read"], &[]).await;
    let guesser = app.browser_from("127.0.0.3");
    let mut statuses = Vec::new();
    for i in 0..23 {
        let (status, _) = guesser
            .api_get("/api/v1/me", &format!("nrv_guess{i}"))
            .await;
        statuses.push(status.as_u16());
    }
    // The sign-in limit per address (20 by default), then refused outright.
    assert_eq!(&statuses[..20], &[401; 20], "{statuses:?}");
    assert!(statuses[20..].iter().all(|s| *s == 429), "{statuses:?}");
    let r = guesser
        .api(Method::GET, "/api/v1/me", &token)
        .send()
        .await
        .expect("GET");
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even a valid token"
    );
    assert!(r.headers().get("retry-after").is_some());
    // Another address is not affected.
    assert_eq!(status_of(&app, &token).await, StatusCode::OK);
    assert_eq!(app.audit_count("api_token.address_blocked").await, 1);
}

#[tokio::test]
async fn a_token_grants_only_its_own_flags_even_when_its_owner_holds_more() {
    let app = spawn_app().await;
    app.login_admin().await;
    // The admin's token for managing users carries read and user_manage only.
    let manager = app
        .make_token("user-admin", &["read", "user_manage"], &[])
        .await;
    let create = |body: serde_json::Value| {
        app.api(Method::POST, "/api/v1/users", &manager)
            .json(&body)
            .send()
    };
    let r = create(json!({"username": "boss", "password": "Boss-passw0rd-1", "permissions": ["read", "admin"]}))
        .await
        .expect("POST");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = r.json().await.expect("JSON");
    assert!(
        body["fields"]["permissions"]
            .as_str()
            .unwrap_or("")
            .contains("admin"),
        "{body}"
    );
    let r =
        create(json!({"username": "vera", "password": "Viewer-passw0rd-1", "realname": "Vera"}))
            .await
            .expect("POST");
    assert_eq!(r.status(), StatusCode::CREATED);
    let vera: serde_json::Value = r.json().await.expect("JSON");
    assert_eq!(vera["permissions"], json!(["read"]));
    assert!(!vera.to_string().contains("argon2"));
    // It may not raise vera to write (it does not hold write), nor change the admin account.
    let vera_id = vera["id"].as_i64().expect("id");
    let r = app
        .api(Method::PATCH, &format!("/api/v1/users/{vera_id}"), &manager)
        .json(&json!({"permissions": ["read", "write"]}))
        .send()
        .await
        .expect("PATCH");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.create_user("admin2", "admin", ENGINEER_PASSWORD).await;
    let admin_id = app.user_row("admin2").await.id;
    let r = app
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{admin_id}"),
            &manager,
        )
        .json(&json!({"realname": "Taken over"}))
        .send()
        .await
        .expect("PATCH");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The HTML form with the same token is held to the same rule.
    let r = app
        .new_browser()
        .client
        .post(app.url("/users"))
        .bearer_auth(&manager)
        .form(&[
            ("username", "boss2"),
            ("password", "Boss-passw0rd-1"),
            ("role", "admin"),
            ("realname", ""),
            ("email", ""),
            ("perm_read", "off"),
            ("perm_write", "off"),
            ("perm_delete", "off"),
            ("perm_admin", "off"),
            ("perm_user_manage", "off"),
            ("is_active", "on"),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app.user_row("vera").await.is_active);
}
