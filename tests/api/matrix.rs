//! Every route the application serves × every kind of user: the status each gets. The routes are
//! the router's own (`netraven::web::all_routes`), so a route added without a row here fails the
//! test, and a row for a route that no longer exists fails it too.
//!
//! Paths point at ids that do not exist and POST bodies carry only the CSRF token, so a request
//! that passes the permission check reaches the handler and changes nothing: it answers 404 (no
//! such object), 400 (the form is incomplete) or 200/303 (a page, or a redirect with a message).

use std::collections::BTreeSet;

use reqwest::StatusCode;

use crate::helpers::{TestApp, spawn_app};
use netraven::auth::permissions::{ADMIN, ALL, DELETE, EXECUTE, READ, USER_MANAGE, WRITE};

/// Who may use a route.
#[derive(Clone, Copy)]
enum Needs {
    /// Anyone; the statuses for [anonymous, signed in].
    Public([u16; 2]),
    /// Signed in, no particular permission.
    SignedIn,
    /// Signed in with all these permission bits.
    Perm(i32),
}

use Needs::{Perm, Public, SignedIn};

const MISSING_ID: &str = "999999";

/// (method, path pattern as the router has it, who may use it, the status when allowed).
const ROWS: &[(&str, &str, Needs, u16)] = &[
    ("GET", "/healthz", Public([200, 200]), 0),
    ("GET", "/readyz", Public([200, 200]), 0),
    ("GET", "/static/{name:.+}", Public([200, 200]), 0),
    ("GET", "/login", Public([200, 303]), 0),
    // Anonymous: the sign-in form's token, an empty form; signed in: the session's token.
    ("POST", "/login", Public([400, 400]), 0),
    ("GET", "/", Perm(READ), 200),
    ("GET", "/profile", SignedIn, 200),
    ("POST", "/profile", SignedIn, 400),
    ("POST", "/profile/password", SignedIn, 400),
    ("GET", "/search", Perm(READ), 200),
    ("GET", "/audit", Perm(ADMIN), 200),
    ("GET", "/settings", Perm(ADMIN), 200),
    ("POST", "/settings/{category}", Perm(ADMIN), 400),
    // Security has no connection to test.
    ("POST", "/settings/{category}/test", Perm(ADMIN), 404),
    // Users.
    ("GET", "/users", Perm(USER_MANAGE), 200),
    ("POST", "/users", Perm(USER_MANAGE), 400),
    ("GET", "/users/new", Perm(USER_MANAGE), 200),
    ("GET", r"/users/{id:\d+}", Perm(USER_MANAGE), 404),
    ("POST", r"/users/{id:\d+}", Perm(USER_MANAGE), 400),
    ("POST", r"/users/{id:\d+}/password", Perm(USER_MANAGE), 400),
    ("GET", r"/users/{id:\d+}/delete", Perm(USER_MANAGE), 404),
    ("POST", r"/users/{id:\d+}/delete", Perm(USER_MANAGE), 404),
    // Devices.
    ("GET", "/devices", Perm(READ), 200),
    ("POST", "/devices", Perm(WRITE), 400),
    ("GET", "/devices/new", Perm(WRITE), 200),
    ("POST", "/devices/bulk", Perm(WRITE), 400),
    ("GET", "/devices/export.csv", Perm(READ), 200),
    ("GET", "/devices/import", Perm(WRITE), 200),
    // Not a multipart upload: the import's message, as the page shows it.
    ("POST", "/devices/import", Perm(WRITE), 422),
    ("GET", r"/devices/{id:\d+}", Perm(READ), 404),
    ("POST", r"/devices/{id:\d+}", Perm(WRITE), 400),
    ("GET", r"/devices/{id:\d+}/edit", Perm(WRITE), 404),
    ("GET", r"/devices/{id:\d+}/delete", Perm(DELETE), 404),
    ("POST", r"/devices/{id:\d+}/delete", Perm(DELETE), 404),
    ("POST", r"/devices/{id:\d+}/tags", Perm(WRITE), 400),
    (
        "POST",
        r"/devices/{id:\d+}/tags/{tag_id:\d+}/remove",
        Perm(WRITE),
        404,
    ),
    (
        "POST",
        r"/devices/{id:\d+}/test-connection",
        Perm(WRITE),
        404,
    ),
    (
        "POST",
        r"/devices/{id:\d+}/host-key/accept",
        Perm(ADMIN),
        404,
    ),
    (
        "POST",
        r"/devices/{id:\d+}/host-key/forget",
        Perm(ADMIN),
        404,
    ),
    // Stored versions.
    ("GET", r"/devices/{id:\d+}/backups", Perm(READ), 404),
    ("GET", r"/devices/{id:\d+}/backups/diff", Perm(READ), 404),
    (
        "GET",
        r"/devices/{id:\d+}/backups/{version:\d+}",
        Perm(READ),
        404,
    ),
    (
        "GET",
        r"/devices/{id:\d+}/backups/{version:\d+}/download",
        Perm(READ),
        404,
    ),
    (
        "GET",
        r"/devices/{id:\d+}/backups/{version:\d+}/changes",
        Perm(READ),
        404,
    ),
    // Jobs.
    ("POST", "/devices/backup", Perm(WRITE), 400),
    ("POST", r"/devices/{id:\d+}/backup", Perm(WRITE), 404),
    ("POST", r"/tags/{id:\d+}/backup", Perm(WRITE), 404),
    // No devices in the inventory: nothing to back up.
    ("POST", "/backup-all", Perm(WRITE), 400),
    ("GET", "/jobs", Perm(READ), 200),
    ("GET", r"/jobs/{id:\d+}", Perm(READ), 404),
    ("GET", r"/jobs/{id:\d+}/live", Perm(READ), 404),
    ("POST", r"/jobs/{id:\d+}/cancel", Perm(WRITE), 404),
    // Tags and tag rules.
    ("GET", "/tags", Perm(READ), 200),
    ("POST", "/tags", Perm(WRITE), 400),
    ("GET", "/tags/new", Perm(WRITE), 200),
    ("GET", r"/tags/{id:\d+}", Perm(READ), 404),
    ("POST", r"/tags/{id:\d+}", Perm(WRITE), 400),
    ("GET", r"/tags/{id:\d+}/edit", Perm(WRITE), 404),
    ("GET", r"/tags/{id:\d+}/delete", Perm(DELETE), 404),
    ("POST", r"/tags/{id:\d+}/delete", Perm(DELETE), 404),
    ("GET", r"/tags/{id:\d+}/rules", Perm(READ), 404),
    ("POST", r"/tags/{id:\d+}/rules", Perm(WRITE), 400),
    ("GET", r"/tags/{id:\d+}/rules/new", Perm(WRITE), 404),
    (
        "GET",
        r"/tags/{id:\d+}/rules/{rule_id:\d+}",
        Perm(WRITE),
        404,
    ),
    (
        "POST",
        r"/tags/{id:\d+}/rules/{rule_id:\d+}",
        Perm(WRITE),
        400,
    ),
    (
        "POST",
        r"/tags/{id:\d+}/rules/{rule_id:\d+}/apply",
        Perm(WRITE),
        404,
    ),
    (
        "GET",
        r"/tags/{id:\d+}/rules/{rule_id:\d+}/delete",
        Perm(DELETE),
        404,
    ),
    (
        "POST",
        r"/tags/{id:\d+}/rules/{rule_id:\d+}/delete",
        Perm(DELETE),
        404,
    ),
    // Credentials.
    ("GET", "/credentials", Perm(READ), 200),
    ("POST", "/credentials", Perm(WRITE), 400),
    ("GET", "/credentials/new", Perm(WRITE), 200),
    ("GET", r"/credentials/{id:\d+}", Perm(READ), 404),
    ("POST", r"/credentials/{id:\d+}", Perm(WRITE), 400),
    ("GET", r"/credentials/{id:\d+}/edit", Perm(WRITE), 404),
    ("POST", r"/credentials/{id:\d+}/tags", Perm(WRITE), 400),
    (
        "POST",
        r"/credentials/{id:\d+}/tags/{tag_id:\d+}/remove",
        Perm(WRITE),
        404,
    ),
    ("GET", r"/credentials/{id:\d+}/delete", Perm(DELETE), 404),
    ("POST", r"/credentials/{id:\d+}/delete", Perm(DELETE), 404),
    // Schedules.
    ("GET", "/schedules", Perm(READ), 200),
    ("POST", "/schedules", Perm(WRITE), 400),
    ("GET", "/schedules/new", Perm(WRITE), 200),
    // The previews read the whole form from the query: none is a 400.
    ("GET", "/schedules/preview", Perm(WRITE), 400),
    ("GET", "/schedules/fields", Perm(WRITE), 400),
    ("GET", r"/schedules/{id:\d+}", Perm(READ), 404),
    ("POST", r"/schedules/{id:\d+}", Perm(WRITE), 400),
    ("POST", r"/schedules/{id:\d+}/toggle", Perm(WRITE), 404),
    ("GET", r"/schedules/{id:\d+}/delete", Perm(DELETE), 404),
    ("POST", r"/schedules/{id:\d+}/delete", Perm(DELETE), 404),
    ("POST", r"/schedules/{id:\d+}/run", Perm(WRITE), 404),
    // Git repositories.
    ("GET", "/git", Perm(READ), 200),
    ("POST", "/git", Perm(ADMIN), 400),
    ("GET", "/git/new", Perm(ADMIN), 200),
    ("GET", r"/git/{id:\d+}", Perm(READ), 404),
    ("POST", r"/git/{id:\d+}", Perm(ADMIN), 400),
    ("GET", r"/git/{id:\d+}/edit", Perm(ADMIN), 404),
    ("GET", r"/git/{id:\d+}/delete", Perm(ADMIN), 404),
    ("POST", r"/git/{id:\d+}/delete", Perm(ADMIN), 404),
    ("POST", r"/git/{id:\d+}/test", Perm(ADMIN), 404),
    ("POST", r"/git/{id:\d+}/trust-host-key", Perm(ADMIN), 404),
    ("POST", r"/git/{id:\d+}/sync", Perm(WRITE), 404),
    ("POST", r"/git/{id:\d+}/reclone", Perm(ADMIN), 404),
    ("POST", r"/git/{id:\d+}/rebuild", Perm(ADMIN), 404),
    ("GET", r"/git/{id:\d+}/tree", Perm(READ), 404),
    ("GET", r"/git/{id:\d+}/file", Perm(READ), 404),
    ("GET", r"/git/{id:\d+}/history", Perm(READ), 404),
    ("GET", r"/git/{id:\d+}/diff", Perm(READ), 404),
    // Nautobot.
    ("GET", "/nautobot", Perm(READ), 200),
    ("POST", "/nautobot", Perm(ADMIN), 400),
    ("GET", "/nautobot/new", Perm(ADMIN), 200),
    ("GET", r"/nautobot/{id:\d+}", Perm(READ), 404),
    ("POST", r"/nautobot/{id:\d+}", Perm(ADMIN), 400),
    ("GET", r"/nautobot/{id:\d+}/edit", Perm(ADMIN), 404),
    ("GET", r"/nautobot/{id:\d+}/delete", Perm(ADMIN), 404),
    ("POST", r"/nautobot/{id:\d+}/delete", Perm(ADMIN), 404),
    ("POST", r"/nautobot/{id:\d+}/preview", Perm(ADMIN), 404),
    ("POST", r"/nautobot/{id:\d+}/apply", Perm(ADMIN), 404),
    ("POST", "/nautobot/platforms", Perm(ADMIN), 400),
    (
        "POST",
        r"/nautobot/platforms/{id:\d+}/delete",
        Perm(ADMIN),
        404,
    ),
    ("GET", r"/nautobot/jobs/{id:\d+}", Perm(READ), 404),
    ("GET", r"/devices/{id:\d+}/nautobot", Perm(WRITE), 404),
    // CheckMK: not configured, so nothing starts.
    ("GET", "/checkmk", Perm(READ), 200),
    ("POST", "/checkmk/compare", Perm(WRITE), 400),
    ("GET", "/checkmk/mapping", Perm(ADMIN), 200),
    ("POST", "/checkmk/mapping", Perm(ADMIN), 400),
    ("POST", "/checkmk/mapping/preview", Perm(ADMIN), 400),
    ("GET", r"/checkmk/jobs/{id:\d+}", Perm(READ), 404),
    ("POST", r"/checkmk/jobs/{id:\d+}/apply", Perm(WRITE), 404),
    ("GET", "/checkmk/changes", Perm(READ), 200),
    ("POST", "/checkmk/activate", Perm(WRITE), 400),
    // Templates.
    ("GET", "/templates", Perm(READ), 200),
    ("POST", "/templates", Perm(WRITE), 400),
    ("GET", "/templates/new", Perm(WRITE), 200),
    // Not a multipart upload: the upload's message, as the form shows it.
    ("POST", "/templates/upload", Perm(WRITE), 422),
    ("GET", r"/templates/{id:\d+}", Perm(READ), 404),
    ("POST", r"/templates/{id:\d+}", Perm(WRITE), 400),
    ("GET", r"/templates/{id:\d+}/edit", Perm(WRITE), 404),
    (
        "GET",
        r"/templates/{id:\d+}/versions/{version:\d+}",
        Perm(READ),
        404,
    ),
    (
        "POST",
        r"/templates/{id:\d+}/versions/{version:\d+}/restore",
        Perm(WRITE),
        404,
    ),
    ("GET", r"/templates/{id:\d+}/diff", Perm(READ), 404),
    ("GET", r"/templates/{id:\d+}/delete", Perm(WRITE), 404),
    ("POST", r"/templates/{id:\d+}/delete", Perm(WRITE), 404),
    ("POST", r"/templates/{id:\d+}/purge", Perm(DELETE), 404),
    ("POST", r"/templates/{id:\d+}/preview", Perm(READ), 400),
    ("POST", r"/templates/{id:\d+}/sync", Perm(WRITE), 404),
    // Command runs.
    ("GET", "/commands", Perm(EXECUTE), 200),
    ("POST", "/commands", Perm(EXECUTE), 400),
    ("GET", r"/commands/jobs/{id:\d+}", Perm(READ), 404),
    (
        "GET",
        r"/commands/jobs/{id:\d+}/outputs.tar",
        Perm(READ),
        404,
    ),
    (
        "GET",
        r"/commands/jobs/{id:\d+}/devices/{device:\d+}/output.txt",
        Perm(READ),
        404,
    ),
    ("POST", r"/devices/{id:\d+}/nautobot", Perm(WRITE), 400),
    // Discovery.
    ("GET", "/discovery", Perm(WRITE), 200),
    ("POST", "/discovery", Perm(WRITE), 422),
    ("GET", r"/discovery/jobs/{id:\d+}", Perm(READ), 404),
    (
        "GET",
        r"/discovery/jobs/{id:\d+}/results.csv",
        Perm(READ),
        404,
    ),
    (
        "POST",
        r"/discovery/jobs/{id:\d+}/onboard",
        Perm(WRITE),
        404,
    ),
    // Configuration pushes.
    ("GET", "/push", Perm(EXECUTE), 200),
    ("POST", "/push", Perm(EXECUTE), 422),
    ("GET", r"/push/jobs/{id:\d+}", Perm(READ), 404),
    // API tokens.
    ("POST", "/profile/tokens", SignedIn, 400),
    ("POST", r"/profile/tokens/{id:\d+}/revoke", SignedIn, 404),
    ("GET", "/tokens", Perm(USER_MANAGE), 200),
    ("POST", r"/tokens/{id:\d+}/revoke", Perm(USER_MANAGE), 404),
    // The JSON API. Bodies here are forms, which it does not read: 415.
    ("GET", "/api/v1/health", SignedIn, 200),
    ("GET", "/api/v1/me", SignedIn, 200),
    ("GET", "/api/v1/openapi.json", SignedIn, 200),
    ("GET", "/api/docs", SignedIn, 200),
    ("GET", "/api/v1/devices", Perm(READ), 200),
    ("POST", "/api/v1/devices", Perm(WRITE), 415),
    ("GET", r"/api/v1/devices/{id:\d+}", Perm(READ), 404),
    ("PATCH", r"/api/v1/devices/{id:\d+}", Perm(WRITE), 415),
    ("DELETE", r"/api/v1/devices/{id:\d+}", Perm(DELETE), 404),
    ("GET", r"/api/v1/devices/{id:\d+}/backups", Perm(READ), 404),
    // Without the two versions to compare.
    (
        "GET",
        r"/api/v1/devices/{id:\d+}/backups/diff",
        Perm(READ),
        400,
    ),
    (
        "GET",
        r"/api/v1/devices/{id:\d+}/backups/{version:\d+}",
        Perm(READ),
        404,
    ),
    (
        "GET",
        r"/api/v1/devices/{id:\d+}/backups/{version:\d+}/content",
        Perm(READ),
        404,
    ),
    // Without the text to find.
    ("GET", "/api/v1/search", Perm(READ), 400),
    ("GET", "/api/v1/tags", Perm(READ), 200),
    ("POST", "/api/v1/tags", Perm(WRITE), 415),
    ("GET", r"/api/v1/tags/{id:\d+}", Perm(READ), 404),
    ("PATCH", r"/api/v1/tags/{id:\d+}", Perm(WRITE), 415),
    ("DELETE", r"/api/v1/tags/{id:\d+}", Perm(DELETE), 404),
    ("GET", r"/api/v1/tags/{id:\d+}/rules", Perm(READ), 404),
    ("POST", r"/api/v1/tags/{id:\d+}/rules", Perm(WRITE), 415),
    (
        "POST",
        r"/api/v1/tags/{id:\d+}/rules/preview",
        Perm(WRITE),
        415,
    ),
    (
        "GET",
        r"/api/v1/tags/{id:\d+}/rules/{rule_id:\d+}",
        Perm(READ),
        404,
    ),
    (
        "PATCH",
        r"/api/v1/tags/{id:\d+}/rules/{rule_id:\d+}",
        Perm(WRITE),
        415,
    ),
    (
        "DELETE",
        r"/api/v1/tags/{id:\d+}/rules/{rule_id:\d+}",
        Perm(DELETE),
        404,
    ),
    (
        "POST",
        r"/api/v1/tags/{id:\d+}/rules/{rule_id:\d+}/apply",
        Perm(WRITE),
        404,
    ),
    ("GET", "/api/v1/jobs", Perm(READ), 200),
    ("POST", "/api/v1/jobs", Perm(WRITE), 415),
    ("GET", r"/api/v1/jobs/{id:\d+}", Perm(READ), 404),
    ("GET", r"/api/v1/jobs/{id:\d+}/results", Perm(READ), 404),
    ("GET", r"/api/v1/jobs/{id:\d+}/log", Perm(READ), 404),
    ("POST", r"/api/v1/jobs/{id:\d+}/cancel", Perm(WRITE), 404),
    ("GET", "/api/v1/schedules", Perm(READ), 200),
    ("POST", "/api/v1/schedules", Perm(WRITE), 415),
    ("GET", r"/api/v1/schedules/{id:\d+}", Perm(READ), 404),
    ("PATCH", r"/api/v1/schedules/{id:\d+}", Perm(WRITE), 415),
    ("DELETE", r"/api/v1/schedules/{id:\d+}", Perm(DELETE), 404),
    ("POST", r"/api/v1/schedules/{id:\d+}/run", Perm(WRITE), 404),
    ("GET", "/api/v1/credentials", Perm(READ), 200),
    ("POST", "/api/v1/credentials", Perm(WRITE), 415),
    ("GET", r"/api/v1/credentials/{id:\d+}", Perm(READ), 404),
    ("PATCH", r"/api/v1/credentials/{id:\d+}", Perm(WRITE), 415),
    ("DELETE", r"/api/v1/credentials/{id:\d+}", Perm(DELETE), 404),
    (
        "GET",
        r"/api/v1/devices/{id:\d+}/credentials",
        Perm(READ),
        404,
    ),
    ("GET", "/api/v1/users", Perm(USER_MANAGE), 200),
    ("POST", "/api/v1/users", Perm(USER_MANAGE), 415),
    ("GET", r"/api/v1/users/{id:\d+}", Perm(USER_MANAGE), 404),
    ("PATCH", r"/api/v1/users/{id:\d+}", Perm(USER_MANAGE), 415),
    ("DELETE", r"/api/v1/users/{id:\d+}", Perm(USER_MANAGE), 404),
    ("GET", r"/api/v1/credentials/{id:\d+}/tags", Perm(READ), 404),
    (
        "PUT",
        r"/api/v1/credentials/{id:\d+}/tags/{tag_id:\d+}",
        Perm(WRITE),
        415,
    ),
    (
        "DELETE",
        r"/api/v1/credentials/{id:\d+}/tags/{tag_id:\d+}",
        Perm(WRITE),
        404,
    ),
    ("GET", "/api/v1/settings", Perm(ADMIN), 200),
    ("PATCH", "/api/v1/settings/{category}", Perm(ADMIN), 415),
    ("GET", "/api/v1/audit", Perm(ADMIN), 200),
    // Oxidized-compatible routes: no such node, or a missing parameter.
    ("GET", "/nodes", Perm(READ), 303),
    ("GET", "/nodes.json", Perm(READ), 200),
    ("GET", "/node/show/{node}", Perm(READ), 404),
    // oxidized-web answers an unknown node here with 200 and a message.
    ("GET", "/node/fetch/{node}", Perm(READ), 200),
    ("GET", "/node/fetch/{group:.+}/{node}", Perm(READ), 200),
    ("GET", "/node/version", Perm(READ), 400),
    ("GET", "/node/version.json", Perm(READ), 400),
    ("GET", "/node/version/view", Perm(READ), 400),
    ("GET", "/node/version/view.json", Perm(READ), 400),
    ("GET", "/node/version/diffs", Perm(READ), 400),
    ("GET", "/node/next/{node}", Perm(WRITE), 404),
    ("PUT", "/node/next/{node}", Perm(WRITE), 404),
    ("GET", "/node/next/{group:.+}/{node}", Perm(WRITE), 404),
    ("PUT", "/node/next/{group:.+}/{node}", Perm(WRITE), 404),
    ("GET", "/reload", Perm(READ), 200),
    ("GET", "/reload.json", Perm(READ), 200),
    // Last: it ends the session the rows above use.
    ("POST", "/logout", SignedIn, 303),
];

/// Paths a client reads as data, where a caller that did not authenticate gets a 401 rather
/// than the sign-in page.
fn is_api(pattern: &str) -> bool {
    pattern.starts_with("/api/") || netraven::web::oxidized::owns(pattern)
}

/// The kinds of user, with their permission bits (None: not signed in). `manager` holds
/// user_manage without admin; the presets lack user_manage but for admin.
const ROLES: [(&str, Option<i32>); 6] = [
    ("anonymous", None),
    ("viewer", Some(READ)),
    ("operator", Some(READ | WRITE)),
    ("engineer", Some(READ | WRITE | DELETE)),
    ("manager", Some(READ | USER_MANAGE)),
    ("admin", Some(ALL)),
];

fn expected(method: &str, pattern: &str, needs: Needs, allowed: u16, role: Option<i32>) -> u16 {
    let anonymous = if method == "GET" && is_api(pattern) {
        401
    } else if method == "GET" {
        // Sent to the sign-in page.
        303
    } else {
        // No session, so no CSRF token: refused before anything else.
        403
    };
    match (needs, role) {
        (Public([anon, _]), None) => anon,
        (Public([_, signed_in]), Some(_)) => signed_in,
        (SignedIn | Perm(_), None) => anonymous,
        (SignedIn, Some(_)) => allowed,
        (Perm(bits), Some(held)) if held & bits == bits => allowed,
        (Perm(_), Some(_)) => 403,
    }
}

fn concrete(pattern: &str) -> String {
    let css = netraven::web::assets::css_href().trim_start_matches("/static/");
    pattern
        .replace("{name:.+}", css)
        .replace(r"{id:\d+}", MISSING_ID)
        .replace(r"{tag_id:\d+}", MISSING_ID)
        .replace(r"{rule_id:\d+}", MISSING_ID)
        .replace(r"{device:\d+}", MISSING_ID)
        .replace(r"{version:\d+}", "1")
        .replace("{category}", "security")
        .replace("{group:.+}", "some/group")
        .replace("{node}", "no-such-node")
}

/// Sends a row's request: a GET, or an unsafe method with the session's CSRF token (as header
/// and form field) and no other field; with `token`, as that token's bearer instead.
async fn request(
    browser: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
) -> reqwest::Response {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    if let Some(token) = token {
        let mut req = browser.api(method.clone(), path, token);
        if method != reqwest::Method::GET {
            req = req.form(&[("x", "")]);
        }
        return req.send().await.expect("request");
    }
    match method {
        reqwest::Method::GET => browser.get(path).await,
        reqwest::Method::POST => browser.post_form(path, &[]).await,
        other => {
            let csrf = browser.csrf().await;
            browser
                .client
                .request(other, browser.url(path))
                .header("X-CSRF-Token", &csrf)
                .form(&[("csrf_token", csrf.as_str())])
                .send()
                .await
                .expect("request")
        }
    }
}

async fn browser_for(app: &TestApp, role: &str, bits: Option<i32>) -> TestApp {
    let browser = app.new_browser();
    match bits {
        None => {}
        Some(ALL) => browser.login_admin().await,
        Some(_) => {
            let r = browser
                .login(&format!("user_{role}"), "Role-passw0rd-1")
                .await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "login as {role}");
        }
    }
    browser
}

#[tokio::test]
async fn every_route_has_a_row_and_every_row_a_route() {
    let served: BTreeSet<(&str, &str)> = netraven::web::all_routes().collect();
    let rows: BTreeSet<(&str, &str)> = ROWS.iter().map(|(m, p, _, _)| (*m, *p)).collect();
    let unlisted: Vec<_> = served.difference(&rows).collect();
    let stale: Vec<_> = rows.difference(&served).collect();
    assert!(
        unlisted.is_empty(),
        "routes without a row in the matrix: {unlisted:?}"
    );
    assert!(
        stale.is_empty(),
        "rows for routes that do not exist: {stale:?}"
    );
    assert_eq!(rows.len(), ROWS.len(), "a route has two rows");
}

#[tokio::test]
async fn every_route_for_every_kind_of_user() {
    let app = spawn_app().await;
    create_role_users(&app).await;
    let mut failures = Vec::new();
    for (role, bits) in ROLES {
        let browser = browser_for(&app, role, bits).await;
        for (method, pattern, needs, allowed) in ROWS {
            let path = concrete(pattern);
            let resp = request(&browser, method, &path, None).await;
            let got = resp.status().as_u16();
            let want = expected(method, pattern, *needs, *allowed, bits);
            if got != want {
                failures.push(format!(
                    "{role:9} {method:4} {pattern:50} expected {want} got {got}"
                ));
            }
            if got == 403 && *method == "GET" {
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

/// The API and the Oxidized routes with an API token of each kind of user, holding every flag
/// its user holds (anonymous: no token): the same statuses as a session gets.
#[tokio::test]
async fn every_api_route_for_every_kind_of_token() {
    let app = spawn_app().await;
    create_role_users(&app).await;
    let mut failures = Vec::new();
    for (role, bits) in ROLES {
        let browser = browser_for(&app, role, bits).await;
        let token = match bits {
            Some(bits) => {
                let flags = netraven::auth::Permissions(bits).names();
                Some(browser.make_token("matrix", &flags, &[]).await)
            }
            None => None,
        };
        let caller = app.new_browser();
        for (method, pattern, needs, allowed) in ROWS.iter().filter(|row| is_api(row.1)) {
            let path = concrete(pattern);
            let resp = request(&caller, method, &path, token.as_deref()).await;
            let got = resp.status().as_u16();
            let want = expected(method, pattern, *needs, *allowed, bits);
            if got != want {
                failures.push(format!(
                    "{role:9} {method:6} {pattern:50} expected {want} got {got}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "token route matrix mismatches:\n{}",
        failures.join("\n")
    );
}

/// A user of each kind but anonymous and admin, signed in as `user_<role>`.
async fn create_role_users(app: &TestApp) {
    app.login_admin().await;
    for (role, _) in ROLES {
        match role {
            "anonymous" | "admin" => {}
            "manager" => {
                let r = app
                    .submit(
                        "/users/new",
                        "/users",
                        &[
                            ("username", "user_manager"),
                            ("password", "Role-passw0rd-1"),
                            ("role", "custom"),
                            ("perm_read", "on"),
                            ("perm_user_manage", "on"),
                        ],
                    )
                    .await;
                assert_eq!(r.status(), StatusCode::SEE_OTHER, "create the manager");
            }
            preset => {
                app.create_user(&format!("user_{preset}"), preset, "Role-passw0rd-1")
                    .await;
            }
        }
    }
}

/// (method, path, body, permission needed)
type PrivateRow<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, i32);

/// Another user's private credential: it does not exist for anyone but its owner (404 where the
/// permission allows the request at all), except that an administrator may delete it.
#[tokio::test]
async fn another_users_private_credential_is_not_there_for_anyone_else() {
    let app = spawn_app().await;
    app.login_admin().await;
    for role in ["viewer", "operator", "engineer"] {
        app.create_user(&format!("user_{role}"), role, "Role-passw0rd-1")
            .await;
    }
    app.create_user("owner", "engineer", "Owner-passw0rd-1")
        .await;
    let owner = app.new_browser();
    owner.login("owner", "Owner-passw0rd-1").await;
    let r = owner
        .submit(
            "/credentials/new",
            "/credentials",
            &[("name", "mine"), ("username", "u"), ("private", "on")],
        )
        .await;
    let id = crate::helpers::location(&r)
        .trim_start_matches("/credentials/")
        .to_string();
    let tag = app.add_tag("t", "#0969da").await.to_string();
    let full_form: Vec<(&str, &str)> = vec![
        ("name", "stolen"),
        ("kind", "ssh"),
        ("username", "x"),
        ("secret", ""),
        ("enable_secret", ""),
        ("private_key", ""),
        ("description", ""),
        ("valid_until", ""),
        ("allowed_networks", ""),
        ("private", "off"),
    ];
    let rows: Vec<PrivateRow> = vec![
        ("GET", format!("/credentials/{id}"), vec![], READ),
        ("GET", format!("/credentials/{id}/edit"), vec![], WRITE),
        ("GET", format!("/credentials/{id}/delete"), vec![], DELETE),
        ("POST", format!("/credentials/{id}"), full_form, WRITE),
        (
            "POST",
            format!("/credentials/{id}/tags"),
            vec![("tag_id", tag.as_str()), ("priority", "1")],
            WRITE,
        ),
        (
            "POST",
            format!("/credentials/{id}/tags/{tag}/remove"),
            vec![],
            WRITE,
        ),
    ];
    let mut failures = Vec::new();
    for (role, bits) in &ROLES[1..] {
        if *role == "manager" {
            continue;
        }
        let browser = browser_for(&app, role, *bits).await;
        let held = bits.unwrap_or(0);
        for (method, path, body, needs) in &rows {
            let resp = if *method == "GET" {
                browser.get(path).await
            } else {
                browser.post_form(path, body).await
            };
            let want = if held & needs == *needs { 404 } else { 403 };
            let got = resp.status().as_u16();
            if got != want {
                failures.push(format!(
                    "{role:9} {method:4} {path} expected {want} got {got}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The administrator may delete it (an owner who left), and nobody else could.
    let r = app
        .post_form(&format!("/credentials/{id}/delete"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        owner.get(&format!("/credentials/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
}
