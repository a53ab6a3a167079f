//! The credential vault: encryption at rest, write-only secrets, private scope, tag priority.

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, Statement};

use crate::helpers::{TestApp, location, spawn_app};
use netraven::entity::credentials;

const SECRET: &str = "Sup3r-S3cret-Device-Pw!";
const ENABLE: &str = "En4ble-S3cret-xyz";
const PRIVATE_SECRET: &str = "Pr1vate-0wner-Only-Pw";
const KEY_BODY: &str = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW";
const PRIVATE_KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n";

async fn add_credential(app: &TestApp, name: &str, secret: &str, private: bool) -> i32 {
    let mut fields = vec![
        ("name", name),
        ("kind", "ssh"),
        ("username", "netops"),
        ("secret", secret),
        ("enable_secret", ENABLE),
    ];
    if private {
        fields.push(("private", "on"));
    }
    let r = app
        .submit("/credentials/new", "/credentials", &fields)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "create {name}");
    location(&r)
        .trim_start_matches("/credentials/")
        .parse()
        .unwrap()
}

/// Every byte the database keeps: SQLite files in the data dir, or a dump of the rows.
async fn raw_database(app: &TestApp) -> Vec<u8> {
    if app.settings.is_sqlite() {
        let mut all = Vec::new();
        for entry in std::fs::read_dir(&app.data_dir).unwrap() {
            let path = entry.unwrap().path();
            if path.to_string_lossy().contains("netraven.db") {
                all.extend(std::fs::read(path).unwrap());
            }
        }
        all
    } else {
        let rows = app
            .db
            .query_all_raw(Statement::from_string(
                app.db.get_database_backend(),
                "SELECT row_to_json(c)::text AS j FROM credentials c",
            ))
            .await
            .unwrap();
        rows.iter()
            .map(|r| r.try_get::<String>("", "j").unwrap())
            .collect::<Vec<_>>()
            .join("\n")
            .into_bytes()
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn secrets_are_encrypted_at_rest_and_never_shown() {
    let app = spawn_app().await;
    app.login_admin().await;
    let id = add_credential(&app, "core-login", SECRET, false).await;
    let r = app
        .submit(
            "/credentials/new",
            "/credentials",
            &[
                ("name", "badkey"),
                ("kind", "ssh"),
                ("username", "u"),
                ("private_key", "ssh-rsa AAAA"),
            ],
        )
        .await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Paste the whole private key")
    );
    let r = app
        .submit(
            "/credentials/new",
            "/credentials",
            &[
                ("name", "keyed"),
                ("kind", "ssh"),
                ("username", "u"),
                ("private_key", PRIVATE_KEY),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let key_id = location(&r).trim_start_matches("/credentials/").to_string();
    let device = app.add_device("r1", "192.0.2.1", "cisco_ios").await;
    let tag = app.add_tag("core", "#d1242f").await;
    app.post_form(
        &format!("/devices/{device}/tags"),
        &[("tag_id", &tag.to_string())],
    )
    .await;
    app.post_form(
        &format!("/credentials/{id}/tags"),
        &[("tag_id", &tag.to_string()), ("priority", "10")],
    )
    .await;

    let raw = raw_database(&app).await;
    for s in [SECRET, ENABLE, KEY_BODY] {
        assert!(!contains(&raw, s), "plaintext {s} found in the database");
    }
    let (_, html) = app.get_html(&format!("/credentials/{key_id}")).await;
    assert!(html.contains("private key <span class=\"badge badge-ok\">set</span>"));
    let stored = credentials::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored
            .secret
            .as_deref()
            .is_some_and(|t| t.starts_with("gAAAAA")),
        "a Fernet token is stored"
    );

    for role in ["viewer", "operator", "engineer"] {
        app.create_user(&format!("u-{role}"), role, "Role-passw0rd-1")
            .await;
    }
    let mut pages = Vec::new();
    for who in ["admin", "u-viewer", "u-operator", "u-engineer"] {
        let b = app.new_browser();
        if who == "admin" {
            b.login_admin().await;
        } else {
            b.login(who, "Role-passw0rd-1").await;
        }
        for path in [
            "/credentials",
            &format!("/credentials/{id}"),
            &format!("/credentials/{id}/edit"),
            &format!("/devices/{device}"),
            "/audit",
            "/credentials/new",
        ] {
            let (_, html) = b.get_html(path).await;
            pages.push((who, path.to_string(), html));
        }
    }
    for (who, path, html) in &pages {
        for s in [SECRET, ENABLE, KEY_BODY, stored.secret.as_deref().unwrap()] {
            assert!(
                !html.contains(s),
                "{who} sees a secret or its token on {path}"
            );
        }
    }
    let (_, html) = app.get_html(&format!("/credentials/{id}")).await;
    assert!(html.contains("secret <span class=\"badge badge-ok\">set</span>"));

    // Keeping, replacing and clearing a secret; the audit names fields, never values.
    app.submit(
        &format!("/credentials/{id}/edit"),
        &format!("/credentials/{id}"),
        &[
            ("name", "core-login"),
            ("kind", "ssh"),
            ("username", "netops2"),
            ("secret", ""),
        ],
    )
    .await;
    let kept = credentials::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        kept.secret, stored.secret,
        "an empty field keeps the secret"
    );
    app.submit(
        &format!("/credentials/{id}/edit"),
        &format!("/credentials/{id}"),
        &[
            ("name", "core-login"),
            ("kind", "ssh"),
            ("username", "netops2"),
            ("clear_enable_secret", "on"),
        ],
    )
    .await;
    assert!(
        credentials::Entity::find_by_id(id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .enable_secret
            .is_none()
    );
    let (_, audit) = app.get_html("/audit?q=credential").await;
    assert!(
        audit.contains("credential.update")
            && audit.contains("enable_secret")
            && !audit.contains(ENABLE)
    );

    // The engine's view: decrypted, in order, only inside the process.
    let vault = netraven::bootstrap::open_vault(&app.db, &app.settings)
        .await
        .unwrap();
    let device = netraven::services::devices::get(&app.db, device)
        .await
        .unwrap();
    let usable = netraven::services::credentials::usable_for_device(&app.db, &vault, &device, None)
        .await
        .unwrap()
        .credentials;
    assert_eq!(usable.len(), 1);
    assert_eq!(usable[0].secret.as_deref(), Some(SECRET));
    assert!(
        !format!("{:?}", usable[0]).contains(SECRET),
        "Debug output hides secrets"
    );
}

#[tokio::test]
async fn private_credentials_are_invisible_to_everyone_else() {
    let app = spawn_app().await;
    app.login_admin().await;
    app.create_user("owner", "engineer", "Owner-passw0rd-1")
        .await;
    app.create_user("other", "engineer", "Other-passw0rd-1")
        .await;
    let tag = app.add_tag("edge", "#1a7f37").await.to_string();
    let owner = app.new_browser();
    owner.login("owner", "Owner-passw0rd-1").await;
    let id = add_credential(&owner, "my-own", PRIVATE_SECRET, true).await;
    let (_, html) = owner.get_html("/credentials").await;
    assert!(html.contains("my-own"));

    let other = app.new_browser();
    other.login("other", "Other-passw0rd-1").await;
    for b in [&other, &app] {
        let (_, list) = b.get_html("/credentials").await;
        assert!(!list.contains("my-own"), "listed for someone else");
        for path in [
            format!("/credentials/{id}"),
            format!("/credentials/{id}/edit"),
            format!("/credentials/{id}/delete"),
        ] {
            assert_eq!(
                b.get(&path).await.status(),
                StatusCode::NOT_FOUND,
                "GET {path}"
            );
        }
        for (path, fields) in [
            (
                format!("/credentials/{id}"),
                vec![
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
                ],
            ),
            (
                format!("/credentials/{id}/tags"),
                vec![("tag_id", tag.as_str()), ("priority", "1")],
            ),
            (format!("/credentials/{id}/tags/{tag}/remove"), vec![]),
        ] {
            assert_eq!(
                b.post_form(&path, &fields).await.status(),
                StatusCode::NOT_FOUND,
                "POST {path}"
            );
        }
    }
    assert_eq!(
        other
            .post_form(&format!("/credentials/{id}/delete"), &[])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // The admin sees that it exists (owner, date) and may delete it, nothing more.
    let (_, list) = app.get_html("/credentials").await;
    assert!(list.contains("Private credentials of other users (1)") && !list.contains("my-own"));
    assert_eq!(
        app.post_form(&format!("/credentials/{id}/delete"), &[])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(credentials::Entity::find().count(&app.db).await.unwrap(), 0);
}

#[tokio::test]
async fn devices_try_credentials_by_tag_priority_and_skip_expired() {
    let app = spawn_app().await;
    app.login_admin().await;
    let device = app.add_device("sw1", "192.0.2.5", "arista_eos").await;
    let a = app.add_tag("site-a", "#0969da").await.to_string();
    let b = app.add_tag("access", "#8250df").await.to_string();
    for t in [&a, &b] {
        app.post_form(&format!("/devices/{device}/tags"), &[("tag_id", t)])
            .await;
    }
    let low = add_credential(&app, "fallback-local", "Pw-fallback-1", false).await;
    let high = add_credential(&app, "tacacs-primary", "Pw-primary-1", false).await;
    let expired = add_credential(&app, "old-expired", "Pw-old-1", false).await;
    app.post_form(
        &format!("/credentials/{low}/tags"),
        &[("tag_id", &a), ("priority", "200")],
    )
    .await;
    app.post_form(
        &format!("/credentials/{high}/tags"),
        &[("tag_id", &b), ("priority", "10")],
    )
    .await;
    // Attached on both tags: listed once, at its best priority.
    app.post_form(
        &format!("/credentials/{high}/tags"),
        &[("tag_id", &a), ("priority", "300")],
    )
    .await;
    app.post_form(
        &format!("/credentials/{expired}/tags"),
        &[("tag_id", &a), ("priority", "1")],
    )
    .await;
    let r = app
        .submit(
            &format!("/credentials/{expired}/edit"),
            &format!("/credentials/{expired}"),
            &[
                ("name", "old-expired"),
                ("kind", "ssh"),
                ("username", "netops"),
                ("valid_until", "2020-01-01"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    app.get_html("/profile").await; // shows (and so clears) the last flash message
    let (_, html) = app.get_html(&format!("/devices/{device}")).await;
    let first = html.find("tacacs-primary").expect("primary listed");
    let second = html.find("fallback-local").expect("fallback listed");
    assert!(first < second, "priority order");
    assert_eq!(
        html.matches(">tacacs-primary</a>").count(),
        1,
        "listed once"
    );
    assert!(
        !html.contains("old-expired"),
        "expired credentials are never used"
    );
    let (_, list) = app.get_html("/credentials").await;
    assert!(!list.contains("old-expired"), "expired hidden by default");
    let (_, list) = app.get_html("/credentials?expired=1").await;
    assert!(list.contains("old-expired") && list.contains("badge-err\">expired"));
    for event in [
        "credential.create",
        "credential.attach",
        "credential.update",
    ] {
        assert!(app.audit_count(event).await >= 1, "{event}");
    }
}

#[tokio::test]
async fn bad_credential_input_is_explained_and_stores_nothing() {
    let app = spawn_app().await;
    app.login_admin().await;
    let long = "x".repeat(300);
    let r = app
        .submit(
            "/credentials/new",
            "/credentials",
            &[
                ("name", ""),
                ("kind", "telnet"),
                ("username", &long),
                ("valid_until", "someday"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    for m in [
        "This field is required.",
        "Pick ssh, tacacs, generic or token.",
        "At most 255 characters",
        "Enter a date like",
    ] {
        assert!(html.contains(m), "{m}");
    }
    assert_eq!(credentials::Entity::find().count(&app.db).await.unwrap(), 0);

    // A past expiry is allowed, with a warning.
    let r = app
        .submit(
            "/credentials/new",
            "/credentials",
            &[
                ("name", "legacy"),
                ("kind", "generic"),
                ("username", "u"),
                ("valid_until", "2021-05-01"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id = location(&r).trim_start_matches("/credentials/").to_string();
    let (_, html) = app.get_html(&format!("/credentials/{id}")).await;
    assert!(html.contains("expiry date is in the past"));

    let r = app
        .post_form(
            &format!("/credentials/{id}/tags"),
            &[("tag_id", "999"), ("priority", "abc")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Priority must be a whole number")
    );
    let r = app
        .post_form(
            &format!("/credentials/{id}/tags"),
            &[("tag_id", "999"), ("priority", "5")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("That tag does not exist."));
}

fn netraven(app: &TestApp, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_netraven"))
        .args(args)
        .env_clear()
        .env("NETRAVEN_DATA_DIR", &app.data_dir)
        .env("NETRAVEN_DATABASE_URL", &app.settings.database_url)
        .env("NETRAVEN_LOG", "warn")
        .output()
        .expect("run netraven")
}

#[tokio::test]
async fn key_rotate_reencrypts_everything_and_prune_drops_the_old_key() {
    let app = spawn_app().await;
    app.login_admin().await;
    let id = add_credential(&app, "rot", SECRET, false).await;
    // A secret of a setting no longer registered is re-encrypted like any other.
    crate::settings::store_unregistered_secret(&app, "nb-token-123").await;
    let before = credentials::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let key_file = app.data_dir.join(netraven::crypto::FERNET_KEY_FILE);
    let old_key = std::fs::read_to_string(&key_file)
        .unwrap()
        .trim()
        .to_string();

    let out = netraven(&app, &["key", "rotate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("re-encrypted 1 credentials and 1 settings")
    );
    let keys: Vec<String> = std::fs::read_to_string(&key_file)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[1], old_key, "the old key stays readable");
    let after = credentials::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(after.secret, before.secret, "tokens changed");
    let vault = netraven::bootstrap::open_vault(&app.db, &app.settings)
        .await
        .unwrap();
    assert_eq!(
        vault.decrypt(after.secret.as_deref().unwrap()).unwrap(),
        SECRET
    );
    let new_only = netraven::crypto::Vault::from_keys(&keys[..1], "test").unwrap();
    assert_eq!(
        new_only.decrypt(after.secret.as_deref().unwrap()).unwrap(),
        SECRET,
        "encrypted with the new key"
    );

    let out = netraven(&app, &["key", "prune"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keys_after: Vec<String> = std::fs::read_to_string(&key_file)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(keys_after, keys[..1].to_vec(), "only the new key is left");
    let vault = netraven::bootstrap::open_vault(&app.db, &app.settings)
        .await
        .unwrap();
    assert_eq!(
        vault.decrypt(after.secret.as_deref().unwrap()).unwrap(),
        SECRET
    );
    let stored = netraven::services::settings::encrypted_values(&app.db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(new_only.decrypt(&stored[0].1).unwrap(), "nb-token-123");
    let old_only = netraven::crypto::Vault::from_keys(&[old_key], "test").unwrap();
    assert!(
        old_only.decrypt(after.secret.as_deref().unwrap()).is_err(),
        "the old key no longer opens anything"
    );
    assert_eq!(app.audit_count("key.rotate").await, 1);
    assert_eq!(app.audit_count("key.prune").await, 1);

    // A wrong key file: the command refuses with exit code 78 and names the file.
    std::fs::write(
        &key_file,
        format!("{}\n", netraven::crypto::generate_fernet_key()),
    )
    .unwrap();
    let out = netraven(&app, &["key", "rotate"]);
    assert_eq!(out.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&out.stderr).contains("fernet.keys"));
}

#[tokio::test]
async fn the_server_log_never_contains_a_secret() {
    use std::io::{BufRead, BufReader};
    use std::sync::{Arc, Mutex};

    let dir = crate::helpers::new_data_dir();
    let url = crate::helpers::test_database_url(&dir).await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_netraven"))
        .arg("serve")
        .env_clear()
        .env("NETRAVEN_DATA_DIR", &dir)
        .env("NETRAVEN_DATABASE_URL", &url)
        .env("NETRAVEN_BIND", "127.0.0.1:0")
        .env("NETRAVEN_ADMIN_PASSWORD", crate::helpers::ADMIN_PASSWORD)
        .env("NETRAVEN_LOG", "debug")
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start netraven");
    let log = Arc::new(Mutex::new(String::new()));
    let (port_tx, port_rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(port) = line
                .split("port=")
                .nth(1)
                .and_then(|p| p.split_whitespace().next())
                .and_then(|p| p.parse::<u16>().ok())
            {
                let _ = port_tx.send(port);
            }
            sink.lock().unwrap().push_str(&line);
            sink.lock().unwrap().push('\n');
        }
    });
    let port = port_rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("server reports its port");
    let app = TestApp::attach(format!("http://127.0.0.1:{port}"), dir.clone(), url).await;
    app.login_admin().await;
    let id = add_credential(&app, "logged", SECRET, false).await;
    app.submit(
        &format!("/credentials/{id}/edit"),
        &format!("/credentials/{id}"),
        &[
            ("name", "logged"),
            ("kind", "ssh"),
            ("username", "u"),
            ("secret", PRIVATE_SECRET),
        ],
    )
    .await;
    // A saved Nautobot token, and one only tested (against a port nothing listens on), are not
    // logged, whatever the debug logging of requests and of the connection test writes.
    let nautobot = |url: &'static str, token: &'static str| {
        vec![
            ("nautobot.url", url),
            ("nautobot.token", token),
            ("nautobot.timeout_seconds", "2"),
            ("nautobot.verify_tls", "on"),
            ("nautobot.ca_file", ""),
            ("nautobot.onboard_location", ""),
            ("nautobot.onboard_role", ""),
            ("nautobot.onboard_status", "Active"),
            ("nautobot.onboard_device_type", ""),
            ("nautobot.onboard_namespace", "Global"),
            ("nautobot.onboard_interface", "Management"),
        ]
    };
    let r = app
        .post_form("/settings/nautobot", &nautobot("", "nb-log-token-1"))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app
        .post_form(
            "/settings/nautobot/test",
            &nautobot("http://127.0.0.1:9", "nb-log-token-2"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let bad = app
        .submit(
            "/credentials/new",
            "/credentials",
            &[
                ("name", ""),
                ("kind", "ssh"),
                ("username", "u"),
                ("secret", "Rejected-Secret-9"),
            ],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    child.kill().ok();
    child.wait().ok();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let text = log.lock().unwrap().clone();
    assert!(
        text.contains("NetRaven is listening"),
        "the log was captured"
    );
    assert!(text.lines().count() > 5, "debug logging produced output");
    for s in [
        SECRET,
        ENABLE,
        PRIVATE_SECRET,
        "nb-log-token-1",
        "nb-log-token-2",
        "Rejected-Secret-9",
        crate::helpers::ADMIN_PASSWORD,
    ] {
        assert!(!text.contains(s), "secret {s:?} found in the server log");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
