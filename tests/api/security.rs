//! The findings of the outside security probe, each reproduced through HTTP against the real
//! app (issue 14): concurrent sign-in guessing, password spraying, credential capture through a
//! device at an address the attacker controls, secrets that inject commands, user managers
//! granting themselves rights, private-credential takeover, file modes, anonymous session rows,
//! huge page numbers, CSV formula injection, origin checks, form bodies and response headers.

use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::helpers::{ADMIN_PASSWORD, TestApp, spawn_app};
use netraven::entity::{login_throttle, sessions, users};

async fn set_security(app: &TestApp, changes: &[(&str, &str)]) {
    let r = app.submit("/settings", "/settings/security", changes).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "security settings saved");
}

/// `n` browsers, each on the sign-in page (so each holds a form token), from `source`.
async fn sign_in_pages(
    app: &TestApp,
    n: usize,
    source: &str,
) -> Vec<(TestApp, Vec<(String, String)>)> {
    let mut out = Vec::new();
    for _ in 0..n {
        let b = app.browser_from(source);
        let (_, html) = b.get_html("/login").await;
        let fields = crate::helpers::form_fields(&html, "/login").expect("sign-in form");
        out.push((b, fields));
    }
    out
}

/// Posts every sign-in at once; returns the status codes.
async fn sign_in_all_at_once(
    browsers: Vec<(TestApp, Vec<(String, String)>)>,
    attempts: &[(&str, &str)],
) -> Vec<u16> {
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(attempts.len()));
    let mut set = tokio::task::JoinSet::new();
    for ((b, mut fields), (user, password)) in browsers.into_iter().zip(attempts) {
        crate::helpers::apply_changes(&mut fields, &[("username", user), ("password", password)]);
        let barrier = barrier.clone();
        set.spawn(async move {
            barrier.wait().await;
            b.client
                .post(b.url("/login"))
                .form(&fields)
                .send()
                .await
                .expect("POST /login")
                .status()
                .as_u16()
        });
    }
    set.join_all().await
}

#[tokio::test]
async fn parallel_guesses_get_no_more_password_checks_than_the_lockout_allows() {
    let app = spawn_app().await;
    app.login_admin().await;
    // Only the account lockout is under test here.
    set_security(&app, &[("security.address_failure_limit", "10000")]).await;
    app.create_user("victim", "viewer", "Victim-passw0rd-1")
        .await;

    let mut attempts = vec![("victim", "wrong-guess-1"); 39];
    attempts.insert(20, ("victim", "Victim-passw0rd-1"));
    let browsers = sign_in_pages(&app, attempts.len(), "127.0.0.1").await;
    let statuses = sign_in_all_at_once(browsers, &attempts).await;
    let wrong_checked = app
        .audit_reasons("login_failed")
        .await
        .iter()
        .filter(|r| *r == "wrong password")
        .count();
    let signed_in = statuses.iter().filter(|s| **s == 303).count();
    assert!(
        wrong_checked + signed_in <= 5,
        "{wrong_checked} wrong passwords checked and {signed_in} sign-ins out of 40 parallel attempts: at most 5 checks"
    );
    assert!(
        app.user_row("victim").await.locked_until.is_some(),
        "the account is locked"
    );

    // Five more waves of 40 check nothing: the account is locked.
    for _ in 0..5 {
        let wave = vec![("victim", "wrong-guess-2"); 40];
        let browsers = sign_in_pages(&app, wave.len(), "127.0.0.1").await;
        let statuses = sign_in_all_at_once(browsers, &wave).await;
        assert!(statuses.iter().all(|s| *s == 401), "{statuses:?}");
    }
    let wrong_after = app
        .audit_reasons("login_failed")
        .await
        .iter()
        .filter(|r| *r == "wrong password")
        .count();
    assert_eq!(
        wrong_after, wrong_checked,
        "no password checked while locked"
    );
    let r = app.new_browser().login("victim", "Victim-passw0rd-1").await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "the right password waits for the lock to end"
    );
}

#[tokio::test]
async fn a_check_that_was_running_when_the_account_locked_does_not_sign_in() {
    use argon2::password_hash::PasswordHasher;
    let app = spawn_app().await;
    app.login_admin().await;
    app.create_user("victim", "viewer", "Victim-passw0rd-1")
        .await;
    // A costly hash, so that the check of the right password is still running when the account
    // locks (as when parallel guesses lock it).
    let params = argon2::Params::new(64 * 1024, 12, 1, None).unwrap();
    let slow = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password(b"Victim-passw0rd-1")
        .unwrap()
        .to_string();
    users::Entity::update_many()
        .col_expr(users::Column::PasswordHash, Expr::value(slow))
        .filter(users::Column::Username.eq("victim"))
        .exec(&app.db)
        .await
        .unwrap();
    let victim = app.new_browser();
    let (_, html) = victim.get_html("/login").await;
    let mut fields = crate::helpers::form_fields(&html, "/login").unwrap();
    crate::helpers::apply_changes(
        &mut fields,
        &[("username", "victim"), ("password", "Victim-passw0rd-1")],
    );
    let check = tokio::spawn(async move {
        victim
            .client
            .post(victim.url("/login"))
            .form(&fields)
            .send()
            .await
            .unwrap()
            .status()
    });
    // The attempt counts itself before it checks the password: lock as soon as it has.
    for _ in 0..500 {
        if app.user_row("victim").await.failed_logins > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    users::Entity::update_many()
        .col_expr(
            users::Column::LockedUntil,
            Expr::value(chrono::Utc::now() + chrono::Duration::minutes(15)),
        )
        .filter(users::Column::Username.eq("victim"))
        .exec(&app.db)
        .await
        .unwrap();
    let status = check.await.unwrap();
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "refused: locked during its check"
    );
    assert!(
        app.audit_reasons("login_failed")
            .await
            .iter()
            .any(|r| r == "account locked during the check")
    );
    assert_eq!(
        app.audit_count("login").await,
        1,
        "only the admin signed in"
    );
}

#[tokio::test]
async fn a_password_spray_from_one_address_is_stopped_without_locking_anyone_out() {
    let app = spawn_app().await;
    app.login_admin().await;
    set_security(&app, &[("security.address_failure_limit", "5")]).await;
    for name in ["ann", "ben", "cat"] {
        app.create_user(name, "viewer", &format!("{name}-Passw0rd-1"))
            .await;
    }
    let attacker = app.browser_from("127.0.0.3");
    let mut statuses = Vec::new();
    for name in ["ann", "ben", "cat", "ann", "ben", "cat", "ann"] {
        statuses.push(attacker.login(name, "Spring2026").await.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429]);
    let r = attacker.login("ann", "ann-Passw0rd-1").await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the address is refused, even with a right password"
    );
    assert!(r.headers().contains_key("retry-after"));
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Too many failed sign-ins from your address")
    );
    // Nobody was locked out: each account saw at most three guesses, and other addresses work.
    for name in ["ann", "ben", "cat"] {
        assert!(
            app.user_row(name).await.locked_until.is_none(),
            "{name} not locked"
        );
    }
    let r = app
        .browser_from("127.0.0.4")
        .login("ann", "ann-Passw0rd-1")
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "ann signs in from her own address"
    );
    // The block ends by itself.
    login_throttle::Entity::update_many()
        .col_expr(
            login_throttle::Column::BlockedUntil,
            Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1)),
        )
        .exec(&app.db)
        .await
        .unwrap();
    let r = app
        .browser_from("127.0.0.3")
        .login("ben", "ben-Passw0rd-1")
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "the address may try again after the block"
    );
}

#[tokio::test]
async fn a_lockout_caused_elsewhere_does_not_shut_a_user_out_of_their_usual_address() {
    let app = spawn_app().await;
    app.login_admin().await;
    app.create_user("alice", "operator", "Alice-passw0rd-1")
        .await;
    // Alice works from 127.0.0.2.
    let r = app
        .browser_from("127.0.0.2")
        .login("alice", "Alice-passw0rd-1")
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Someone at 127.0.0.3 guesses until her account locks.
    let attacker = app.browser_from("127.0.0.3");
    for _ in 0..6 {
        attacker.login("alice", "guess-Passw0rd-9").await;
    }
    assert!(app.user_row("alice").await.locked_until.is_some());
    assert_eq!(app.audit_count("user.locked").await, 1);
    // A new address is refused even with her password; her usual address is not.
    let r = app
        .browser_from("127.0.0.4")
        .login("alice", "Alice-passw0rd-1")
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app
        .browser_from("127.0.0.2")
        .login("alice", "Alice-passw0rd-1")
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Guessing from her usual address has a budget of its own.
    let insider = app.browser_from("127.0.0.2");
    for _ in 0..5 {
        assert_eq!(
            insider.login("alice", "guess-Passw0rd-9").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let r = app
        .browser_from("127.0.0.2")
        .login("alice", "Alice-passw0rd-1")
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "five failures from there lock it too"
    );
    let reasons = app.audit_reasons("login_failed").await;
    assert!(reasons.iter().any(|r| r == "account locked"));
}

#[tokio::test]
async fn a_forwarded_for_header_does_not_move_a_client_to_another_address() {
    let app = spawn_app().await;
    app.login_admin().await;
    set_security(&app, &[("security.address_failure_limit", "3")]).await;
    app.create_user("dan", "viewer", "Dan-passw0rd-11").await;
    let attacker = app.browser_from("127.0.0.3");
    for i in 0..5 {
        let (_, html) = attacker.get_html("/login").await;
        let mut fields = crate::helpers::form_fields(&html, "/login").unwrap();
        crate::helpers::apply_changes(&mut fields, &[("username", "dan"), ("password", "guess")]);
        let r = attacker
            .client
            .post(attacker.url("/login"))
            .header("X-Forwarded-For", format!("203.0.113.{i}"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        let expected = if i < 3 { 401 } else { 429 };
        assert_eq!(r.status().as_u16(), expected, "attempt {i}");
    }
    let recorded: Vec<Option<String>> = netraven::entity::audit_logs::Entity::find()
        .filter(netraven::entity::audit_logs::Column::EventName.eq("login_failed"))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.ip)
        .collect();
    assert!(
        recorded.iter().all(|ip| ip.as_deref() == Some("127.0.0.3")),
        "{recorded:?}"
    );
}

#[tokio::test]
async fn an_anonymous_visit_stores_no_session() {
    let app = spawn_app().await;
    for _ in 0..50 {
        let b = app.new_browser();
        assert_eq!(b.get("/login").await.status(), StatusCode::OK);
    }
    assert_eq!(sessions::Entity::find().count(&app.db).await.unwrap(), 0);
    // Failed sign-ins store none either; the sign-in form still works afterwards.
    let b = app.new_browser();
    assert_eq!(
        b.login("admin", "wrong-password-1").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(sessions::Entity::find().count(&app.db).await.unwrap(), 0);
    assert_eq!(
        b.login("admin", ADMIN_PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let rows = sessions::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].user_id.is_some());
    // A sign-in form's token does not work without its cookie.
    let (_, html) = app.new_browser().get_html("/login").await;
    let mut fields = crate::helpers::form_fields(&html, "/login").unwrap();
    crate::helpers::apply_changes(
        &mut fields,
        &[("username", "admin"), ("password", ADMIN_PASSWORD)],
    );
    let r = app
        .new_browser()
        .client
        .post(app.url("/login"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}
