use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::helpers::{location, spawn_app};
use netraven::auth::permissions::{ALL, READ, WRITE};
use netraven::entity::users;

async fn user(app: &crate::helpers::TestApp, name: &str) -> Option<users::Model> {
    users::Entity::find()
        .filter(users::Column::Username.eq(name))
        .one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn first_start_creates_admin_once() {
    let app = spawn_app().await;
    let admin = user(&app, "admin")
        .await
        .expect("admin created on first start");
    assert_eq!(admin.permissions, ALL);
    assert!(admin.password_hash.starts_with("$argon2id$"));
    assert_eq!(app.audit_count("user.create").await, 1);
}

#[tokio::test]
async fn create_edit_and_list_users() {
    let app = spawn_app().await;
    app.login_admin().await;
    let id = app.create_user("alice", "operator", "Alice-passw0rd").await;
    let alice = user(&app, "alice").await.unwrap();
    assert_eq!(alice.permissions, READ | WRITE);

    let r = app
        .submit(
            &format!("/users/{id}"),
            &format!("/users/{id}"),
            &[
                ("realname", "Alice Liddell"),
                ("email", "alice@example.net"),
                ("role", "custom"),
                ("perm_read", "on"),
                ("perm_write", "off"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let alice = user(&app, "alice").await.unwrap();
    assert_eq!(alice.permissions, READ);
    assert_eq!(alice.realname.as_deref(), Some("Alice Liddell"));
    assert_eq!(app.audit_count("user.update").await, 1);

    let (status, html) = app.get_html("/users?q=liddell").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Alice Liddell") && !html.contains(">admin</a>"));
    // htmx asks for the table fragment only.
    let frag = app
        .client
        .get(app.url("/users?q=alice"))
        .header("HX-Request", "true")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        frag.trim_start().starts_with("<div id=\"users-table\">"),
        "fragment, not a page"
    );
    assert!(!frag.contains("<html"));
}

#[tokio::test]
async fn duplicate_and_bad_usernames_get_field_messages() {
    let app = spawn_app().await;
    app.login_admin().await;
    app.create_user("bob", "viewer", "Bob-passw0rd1").await;
    let r = app
        .submit(
            "/users/new",
            "/users",
            &[
                ("username", "BOB"),
                ("role", "viewer"),
                ("password", "Bob-passw0rd2"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("This username is already taken.")
    );

    let long = "x".repeat(300);
    let r = app
        .submit(
            "/users/new",
            "/users",
            &[
                ("username", "has space"),
                ("realname", &long),
                ("role", "viewer"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("Use letters, digits"));
    assert!(html.contains("At most 255 characters"));
    assert!(html.contains("At least 10 characters"));
    assert_eq!(app.audit_count("user.create").await, 2, "admin + bob only");
}

#[tokio::test]
async fn non_utf8_and_malformed_forms_are_4xx() {
    let app = spawn_app().await;
    app.login_admin().await;
    let token = app.csrf().await;
    let body = format!("username=%FF%FE&role=viewer&password=Valid-passw0rd&csrf_token={token}");
    let r = app
        .client
        .post(app.url("/users"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("username: This is not valid UTF-8 text.")
    );

    let r = app
        .client
        .post(app.url("/users/1"))
        .header("X-CSRF-Token", token.as_str())
        .header("content-type", "application/json")
        .body("{\"realname\": 5}")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "got {}", r.status());
}

#[tokio::test]
async fn last_admin_and_self_protection() {
    let app = spawn_app().await;
    app.login_admin().await;
    let admin = user(&app, "admin").await.unwrap();

    // Cannot demote or deactivate yourself / the last admin.
    let page = format!("/users/{}", admin.id);
    let r = app.submit(&page, &page, &[("role", "engineer")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("You cannot remove your own user_manage permission."));
    let r = app.submit(&page, &page, &[("is_active", "off")]).await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("You cannot deactivate your own account.")
    );
    assert_eq!(
        user(&app, "admin").await.unwrap().permissions,
        ALL,
        "unchanged"
    );

    // Cannot delete yourself.
    let r = app
        .post_form(&format!("/users/{}/delete", admin.id), &[])
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // A second admin can remove the first, but then is the last one.
    app.create_user("root2", "admin", "Root2-passw0rd").await;
    let second = app.new_browser();
    assert_eq!(
        second.login("root2", "Root2-passw0rd").await.status(),
        StatusCode::SEE_OTHER
    );
    let r = second
        .post_form(&format!("/users/{}/delete", admin.id), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/users");
    assert!(user(&app, "admin").await.is_none());
    assert_eq!(app.audit_count("user.delete").await, 1);

    let root2 = user(&app, "root2").await.unwrap();
    let page = format!("/users/{}", root2.id);
    let r = second
        .submit(
            &page,
            &page,
            &[
                ("role", "custom"),
                ("perm_read", "off"),
                ("perm_write", "off"),
                ("perm_delete", "off"),
                ("perm_admin", "off"),
                ("perm_user_manage", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("last active administrator")
    );
}

#[tokio::test]
async fn password_reset_and_own_password_change() {
    let app = spawn_app().await;
    app.login_admin().await;
    let id = app.create_user("carol", "viewer", "Carol-passw0rd").await;
    let carol = app.new_browser();
    assert_eq!(
        carol.login("carol", "Carol-passw0rd").await.status(),
        StatusCode::SEE_OTHER
    );

    let r = app
        .post_form(
            &format!("/users/{id}/password"),
            &[("password", "Reset-passw0rd")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        carol.get("/").await.status(),
        StatusCode::SEE_OTHER,
        "sessions ended by reset"
    );
    assert_eq!(app.audit_count("user.password_reset").await, 1);

    let carol = app.new_browser();
    assert_eq!(
        carol.login("carol", "Reset-passw0rd").await.status(),
        StatusCode::SEE_OTHER
    );
    let r = carol
        .post_form(
            "/profile/password",
            &[
                ("current_password", "wrong"),
                ("new_password", "Carol-new-pass1"),
                ("confirm_password", "Carol-new-pass1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("The current password is not correct.")
    );
    let r = carol
        .post_form(
            "/profile/password",
            &[
                ("current_password", "Reset-passw0rd"),
                ("new_password", "Carol-new-pass1"),
                ("confirm_password", "Carol-new-pass1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        carol.get("/profile").await.status(),
        StatusCode::OK,
        "this browser stays signed in"
    );
    assert_eq!(app.audit_count("profile.password_change").await, 1);
    assert_eq!(
        app.new_browser()
            .login("carol", "Carol-new-pass1")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );

    let r = carol
        .submit(
            "/profile",
            "/profile",
            &[("realname", "Carol C"), ("email", "not-an-email")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Enter an email address"));
    let r = carol
        .submit(
            "/profile",
            "/profile",
            &[
                ("realname", "Carol C"),
                ("email", "carol@example.org"),
                ("debug", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let c = user(&app, "carol").await.unwrap();
    assert!(c.debug);
    assert_eq!(c.email.as_deref(), Some("carol@example.org"));
    assert_eq!(app.audit_count("profile.update").await, 1);
}

#[tokio::test]
async fn a_generated_password_is_shown_once_and_never_stored_readably() {
    use netraven::entity::sessions;
    let app = spawn_app().await;
    app.login_admin().await;
    let r = app
        .submit(
            "/users/new",
            "/users",
            &[
                ("username", "dave"),
                ("role", "viewer"),
                ("is_active", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let marker = "Generated password, shown only now: ";
    let start = html.find(marker).expect("password shown") + marker.len();
    let password: String = html[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    assert!(password.len() >= 20);
    let sessions_data: Vec<String> = sessions::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.data)
        .collect();
    assert!(
        sessions_data.iter().all(|d| !d.contains(&password)),
        "not parked in the session table"
    );
    let (_, next) = app.get_html("/users").await;
    assert!(!next.contains(&password), "shown once");
    assert_eq!(
        app.new_browser().login("dave", &password).await.status(),
        StatusCode::SEE_OTHER
    );
}
