//! The device page's connection actions through HTTP, against a devsim device: test connection
//! (credential order, facts, host key on first contact), a changed host key kept aside until an
//! administrator accepts it, and who may do what.

use devsim::{DeviceSpec, Platform};
use reqwest::StatusCode;
use sea_orm::EntityTrait;

use crate::engine::{PASSWORD, USER, start};
use crate::helpers::{TestApp, location, spawn_app};
use netraven::entity::{credentials, devices};

async fn add_credential(app: &TestApp, name: &str, username: &str, secret: &str) -> String {
    let r = app
        .submit(
            "/credentials/new",
            "/credentials",
            &[
                ("name", name),
                ("kind", "ssh"),
                ("username", username),
                ("secret", secret),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "create {name}");
    location(&r).trim_start_matches("/credentials/").to_string()
}

async fn device(app: &TestApp, id: i32) -> devices::Model {
    devices::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("device")
}

#[tokio::test]
async fn test_connection_records_host_key_facts_and_credential_outcomes() {
    let sim = start(vec![DeviceSpec::new(
        Platform::CiscoIos,
        "edge1",
        USER,
        PASSWORD,
    )])
    .await;
    let app = spawn_app().await;
    app.login_admin().await;
    let port = sim.devices()[0].port.to_string();
    let r = app
        .submit(
            "/devices/new",
            "/devices",
            &[
                ("hostname", "edge1"),
                ("ip_address", "127.0.0.1"),
                ("port", &port),
                ("device_type", "cisco_ios"),
                ("enabled", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id: i32 = location(&r)
        .trim_start_matches("/devices/")
        .parse()
        .expect("id");
    let tag = app.add_tag("lab", "#0969da").await.to_string();
    app.post_form(&format!("/devices/{id}/tags"), &[("tag_id", &tag)])
        .await;
    let wrong = add_credential(&app, "stale-local", USER, "Wrong-passw0rd").await;
    let right = add_credential(&app, "tacacs-lab", USER, PASSWORD).await;
    for (cred, priority) in [(&wrong, "10"), (&right, "20")] {
        app.post_form(
            &format!("/credentials/{cred}/tags"),
            &[("tag_id", &tag), ("priority", priority)],
        )
        .await;
    }
    let (_, page) = app.get_html(&format!("/devices/{id}")).await;
    assert!(page.contains("not recorded yet"));
    assert!(page.contains("Test connection"));

    let (status, html) = {
        let r = app
            .post_form(&format!("/devices/{id}/test-connection"), &[])
            .await;
        (r.status(), r.text().await.expect("body"))
    };
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Connected in"), "{html}");
    assert!(html.contains("tacacs-lab"));
    assert!(html.contains("stale-local") && html.contains("auth_failed"));
    assert!(html.contains("First contact"));
    assert!(html.contains("C9300-24P"));
    assert!(!html.contains(PASSWORD) && !html.contains("Wrong-passw0rd"));

    let stored = device(&app, id).await;
    let fingerprint = sim.devices()[0].fingerprint();
    assert_eq!(
        netraven::services::device_access::fingerprint(
            stored.ssh_host_key.as_deref().expect("key")
        ),
        fingerprint
    );
    assert_eq!(stored.model.as_deref(), Some("C9300-24P"));
    assert!(stored.serial_number.is_some() && stored.os_version.is_some());
    let creds = credentials::Entity::find()
        .all(&app.db)
        .await
        .expect("creds");
    let by_name = |n: &str| creds.iter().find(|c| c.name == n).expect("credential");
    assert_eq!(by_name("stale-local").failure_count, 1);
    assert_eq!(by_name("stale-local").success_count, 0);
    assert_eq!(by_name("tacacs-lab").success_count, 1);
    assert!(by_name("tacacs-lab").last_success_at.is_some());
    assert_eq!(app.audit_count("device.test_connection").await, 1);
    assert_eq!(app.audit_count("device.host_key_recorded").await, 1);
    let (_, page) = app.get_html(&format!("/devices/{id}")).await;
    assert!(
        page.contains(&fingerprint),
        "fingerprint on the device page"
    );

    // The device is re-keyed: nothing is read, the new key waits for an administrator.
    sim.rotate_host_key(0).expect("rotate");
    let html = app
        .post_form(&format!("/devices/{id}/test-connection"), &[])
        .await
        .text()
        .await
        .expect("body");
    assert!(html.contains("SSH host key changed"), "{html}");
    assert!(html.contains("different SSH host key"));
    let stored = device(&app, id).await;
    assert_eq!(
        netraven::services::device_access::fingerprint(
            stored.ssh_host_key.as_deref().expect("key")
        ),
        fingerprint,
        "the recorded key is kept"
    );
    assert!(stored.ssh_host_key_pending.is_some());
    assert_eq!(app.audit_count("device.host_key_changed").await, 1);

    // Who may do what: a viewer reads, an operator tests, only an admin accepts a key.
    app.create_user("viewer1", "viewer", "Viewer-passw0rd1")
        .await;
    app.create_user("operator1", "operator", "Operator-passw0rd1")
        .await;
    let viewer = app.new_browser();
    viewer.login("viewer1", "Viewer-passw0rd1").await;
    let (status, page) = viewer.get_html(&format!("/devices/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("Test connection") && !page.contains("Accept the new key"));
    let r = viewer
        .post_form(&format!("/devices/{id}/test-connection"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let operator = app.new_browser();
    operator.login("operator1", "Operator-passw0rd1").await;
    let r = operator
        .post_form(&format!("/devices/{id}/host-key/accept"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = operator
        .post_form(&format!("/devices/{id}/test-connection"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    let (_, page) = app.get_html(&format!("/devices/{id}")).await;
    assert!(page.contains("Accept the new key"));
    let r = app
        .post_form(&format!("/devices/{id}/host-key/accept"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let stored = device(&app, id).await;
    assert!(stored.ssh_host_key_pending.is_none());
    assert_eq!(
        netraven::services::device_access::fingerprint(
            stored.ssh_host_key.as_deref().expect("key")
        ),
        sim.devices()[0].fingerprint()
    );
    assert_eq!(app.audit_count("device.host_key_accepted").await, 1);
    let html = app
        .post_form(&format!("/devices/{id}/test-connection"), &[])
        .await
        .text()
        .await
        .expect("body");
    assert!(html.contains("Connected in"), "{html}");
    // Accepting twice is a clear conflict, not an error page.
    let r = app
        .post_form(&format!("/devices/{id}/host-key/accept"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    let r = app
        .post_form(&format!("/devices/{id}/host-key/forget"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(device(&app, id).await.ssh_host_key.is_none());
    assert_eq!(app.audit_count("device.host_key_forgotten").await, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn test_connection_without_credentials_or_device_says_why() {
    let app = spawn_app().await;
    app.login_admin().await;
    let id = app.add_device("lonely", "127.0.0.1", "arista_eos").await;
    let html = app
        .post_form(&format!("/devices/{id}/test-connection"), &[])
        .await
        .text()
        .await
        .expect("body");
    assert!(html.contains("no credential to try"), "{html}");
    let r = app.post_form("/devices/999999/test-connection", &[]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
