//! Every route × every role preset: the status code a user gets.

use reqwest::StatusCode;

use crate::helpers::{TestApp, spawn_app};

const OK: u16 = 200;
const SEE_OTHER: u16 = 303;
const FORBIDDEN: u16 = 403;
const INVALID: u16 = 422;

/// (method, path, expected for [anonymous, viewer, operator, engineer, admin]); `{id}` is a
/// target user. POST bodies are complete forms with an invalid value, so an allowed request
/// reaches validation and changes nothing. An anonymous POST has no session and so no CSRF
/// token: it is refused before anything else.
const ROUTES: &[(&str, &str, [u16; 5])] = &[
    ("GET", "/healthz", [OK, OK, OK, OK, OK]),
    ("GET", "/", [SEE_OTHER, OK, OK, OK, OK]),
    ("GET", "/profile", [SEE_OTHER, OK, OK, OK, OK]),
    (
        "GET",
        "/users",
        [SEE_OTHER, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK],
    ),
    (
        "GET",
        "/users/new",
        [SEE_OTHER, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK],
    ),
    (
        "GET",
        "/users/{id}",
        [SEE_OTHER, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK],
    ),
    (
        "GET",
        "/users/{id}/delete",
        [SEE_OTHER, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK],
    ),
    (
        "GET",
        "/settings",
        [SEE_OTHER, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK],
    ),
    (
        "GET",
        "/audit",
        [SEE_OTHER, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK],
    ),
    (
        "POST",
        "/users",
        [FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, INVALID],
    ),
    (
        "POST",
        "/users/{id}",
        [FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, INVALID],
    ),
    (
        "POST",
        "/users/{id}/password",
        [FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, INVALID],
    ),
    (
        "POST",
        "/settings/security",
        [FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, INVALID],
    ),
    (
        "POST",
        "/profile",
        [FORBIDDEN, INVALID, INVALID, INVALID, INVALID],
    ),
    (
        "POST",
        "/profile/password",
        [FORBIDDEN, INVALID, INVALID, INVALID, INVALID],
    ),
    (
        "POST",
        "/users/{id}/delete",
        [FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, SEE_OTHER],
    ),
    (
        "POST",
        "/logout",
        [FORBIDDEN, SEE_OTHER, SEE_OTHER, SEE_OTHER, SEE_OTHER],
    ),
];

const ROLES: [&str; 5] = ["anonymous", "viewer", "operator", "engineer", "admin"];

const USER_FIELDS: [(&str, &str); 8] = [
    ("realname", ""),
    ("role", "viewer"),
    ("perm_read", "off"),
    ("perm_write", "off"),
    ("perm_delete", "off"),
    ("perm_admin", "off"),
    ("perm_user_manage", "off"),
    ("is_active", "on"),
];

fn invalid_body(path: &str) -> Vec<(&'static str, &'static str)> {
    match path {
        "/users" => [
            &USER_FIELDS[..],
            &[("username", ""), ("email", ""), ("password", "")],
        ]
        .concat(),
        "/users/{id}" => [&USER_FIELDS[..], &[("email", "not-an-email")]].concat(),
        "/users/{id}/password" => vec![("password", "x")],
        "/settings/security" => vec![
            ("security.lockout_threshold", "-1"),
            ("security.lockout_minutes", "15"),
            ("security.address_failure_limit", "20"),
            ("security.session_lifetime_minutes", "480"),
            ("security.password_min_length", "10"),
            ("security.password_require_mixed", "on"),
        ],
        "/profile" => vec![
            ("realname", ""),
            ("email", "not-an-email"),
            ("debug", "off"),
        ],
        "/profile/password" => vec![
            ("current_password", "wrong"),
            ("new_password", ""),
            ("confirm_password", ""),
        ],
        "/devices" => vec![("hostname", ""), ("device_type", "cisco_ios")],
        "/tags" => vec![("name", "")],
        "/credentials" => vec![("name", ""), ("kind", "ssh")],
        _ => vec![],
    }
}

async fn browser_for(app: &TestApp, role: &str) -> TestApp {
    let browser = app.new_browser();
    if role == "admin" {
        browser.login_admin().await;
    } else if role != "anonymous" {
        let password = "Role-passw0rd-1";
        let r = browser.login(&format!("user_{role}"), password).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "login as {role}");
    }
    browser
}

#[tokio::test]
async fn every_route_for_every_role() {
    let app = spawn_app().await;
    app.login_admin().await;
    for role in ["viewer", "operator", "engineer"] {
        app.create_user(&format!("user_{role}"), role, "Role-passw0rd-1")
            .await;
    }
    let mut failures = Vec::new();
    for (i, role) in ROLES.iter().enumerate() {
        // A fresh target per role, since the admin's delete succeeds.
        let target = app
            .create_user(&format!("target_{role}"), "viewer", "Target-passw0rd1")
            .await;
        let browser = browser_for(&app, role).await;
        for (method, pattern, expected) in ROUTES {
            let path = pattern.replace("{id}", &target.to_string());
            let resp = if *method == "GET" {
                browser.get(&path).await
            } else {
                browser.post_form(&path, &invalid_body(pattern)).await
            };
            let got = resp.status().as_u16();
            if got != expected[i] {
                failures.push(format!(
                    "{role:9} {method:4} {pattern:22} expected {} got {got}",
                    expected[i]
                ));
            }
            if got == FORBIDDEN && *method == "GET" {
                let html = resp.text().await.unwrap_or_default();
                if !html.contains("permission, which your account does not have") {
                    failures.push(format!(
                        "{role} {pattern}: 403 page does not name the missing permission"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "route matrix mismatches:\n{}",
        failures.join("\n")
    );
}
