//! CSV export of the filtered list, and import: preview, all-or-nothing apply, bad files.

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::helpers::{TestApp, spawn_app};
use netraven::entity::{device_tags, devices, tags};

impl TestApp {
    /// Uploads like the import page does: multipart through htmx, CSRF token in the header.
    pub async fn import_csv(&self, data: Vec<u8>, intent: &str) -> (StatusCode, String) {
        let token = self.csrf().await;
        let form = reqwest::multipart::Form::new()
            .part(
                "file",
                reqwest::multipart::Part::bytes(data).file_name("devices.csv"),
            )
            .text("intent", intent.to_string());
        let r = self
            .client
            .post(self.url("/devices/import"))
            .header("X-CSRF-Token", token)
            .header("HX-Request", "true")
            .multipart(form)
            .send()
            .await
            .expect("upload");
        let status = r.status();
        (status, r.text().await.unwrap_or_default())
    }
}

async fn device_count(app: &TestApp) -> u64 {
    devices::Entity::find().count(&app.db).await.unwrap()
}

#[tokio::test]
async fn import_previews_then_applies_everything_or_nothing() {
    let app = spawn_app().await;
    app.login_admin().await;
    app.submit(
        "/devices/new",
        "/devices",
        &[
            ("hostname", "existing-1"),
            ("ip_address", "192.0.2.1"),
            ("device_type", "cisco_ios"),
        ],
    )
    .await;

    let csv = "hostname,ip,port,device_type,description,tags,username,password\n\
               sw-01,10.0.0.1,22,cisco_ios,Access 1,access;floor-1,admin,hunter2\n\
               sw-02,10.0.0.2,,arista_eos,\"Access, 2\",access,,\n\
               existing-1,192.0.2.99,2222,cisco_nxos,updated,,,\n";
    let (status, html) = app.import_csv(csv.as_bytes().to_vec(), "preview").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("Ready: 2 devices to add, 1 to update"),
        "{html}"
    );
    assert!(html.contains("tags to create: access, floor-1"));
    assert!(html.contains("Ignored the column(s) username, password"));
    assert!(!html.contains("hunter2"), "credentials are never echoed");
    assert_eq!(device_count(&app).await, 1, "preview changes nothing");

    // One bad row: nothing is imported, and the error names line and column.
    let bad = format!("{csv}sw-03,10.0.0.999,22,cisco_ios,,,,\nsw-04,10.0.0.4,0,bogus_os,,,,\n");
    let (status, html) = app.import_csv(bad.into_bytes(), "apply").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("nothing was imported"));
    assert!(
        html.contains("<td class=\"num\">5</td><td><code>ip</code></td>"),
        "{html}"
    );
    assert!(html.contains("<code>port</code>") && html.contains("<code>device_type</code>"));
    assert_eq!(device_count(&app).await, 1);
    assert_eq!(tags::Entity::find().count(&app.db).await.unwrap(), 0);

    let (status, html) = app.import_csv(csv.as_bytes().to_vec(), "apply").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Imported: 2 devices added, 1 updated, 2 tags created."));
    assert_eq!(device_count(&app).await, 3);
    let updated = devices::Entity::find()
        .filter(devices::Column::Hostname.eq("existing-1"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            updated.ip_address.as_str(),
            updated.port,
            updated.device_type.as_str()
        ),
        ("192.0.2.99", 2222, "cisco_nxos")
    );
    assert_eq!(device_tags::Entity::find().count(&app.db).await.unwrap(), 3);
    assert_eq!(app.audit_count("device.import").await, 1);
}

#[tokio::test]
async fn bad_files_get_clear_messages_and_change_nothing() {
    let app = spawn_app().await;
    app.login_admin().await;
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            b"name,address\nr1,10.0.0.1\n".to_vec(),
            "lacks the column(s) hostname, device_type",
        ),
        (
            b"hostname,ip,device_type\n\"r1,10.0.0.1,cisco_ios\n".to_vec(),
            "not valid CSV",
        ),
        (
            b"hostname,ip,device_type\nr\xff1,10.0.0.1,cisco_ios\n".to_vec(),
            "not UTF-8 text on line 2",
        ),
        (b"hostname,ip,device_type\n".to_vec(), "no device rows"),
        (b"\n\n".to_vec(), "The file is empty."),
        (vec![b'a'; 50 * 1024 * 1024], "larger than 10 MB"),
    ];
    for (data, message) in cases {
        let (status, html) = app.import_csv(data, "apply").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        assert!(html.contains(message), "expected {message:?} in {html}");
    }
    assert_eq!(device_count(&app).await, 0);
}

#[tokio::test]
async fn export_follows_the_filters_and_imports_back() {
    let app = spawn_app().await;
    app.login_admin().await;
    let r = app
        .submit(
            "/tags/new",
            "/tags",
            &[("name", "dc1"), ("color", "#0969da")],
        )
        .await;
    let tag = crate::helpers::location(&r)
        .trim_start_matches("/tags/")
        .to_string();
    for (h, ip, p) in [
        ("a1", "10.0.0.1", "cisco_ios"),
        ("b1", "10.0.0.2", "juniper_junos"),
        ("c1", "10.0.0.3", "cisco_ios"),
    ] {
        let r = app
            .submit(
                "/devices/new",
                "/devices",
                &[
                    ("hostname", h),
                    ("ip_address", ip),
                    ("device_type", p),
                    ("description", "x, \"quoted\""),
                ],
            )
            .await;
        let id = crate::helpers::location(&r)
            .trim_start_matches("/devices/")
            .to_string();
        if h != "b1" {
            app.post_form(&format!("/devices/{id}/tags"), &[("tag_id", &tag)])
                .await;
        }
    }
    let r = app.get("/devices/export.csv?platform=cisco_ios").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let body = r.text().await.unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert!(lines[0].starts_with("hostname,ip,port,device_type,description,tags"));
    assert_eq!(lines.len(), 3, "{body}");
    assert!(lines[1].starts_with("a1,10.0.0.1,22,cisco_ios,\"x, \"\"quoted\"\"\",dc1,"));

    let (status, html) = app.import_csv(body.into_bytes(), "preview").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Ready: 0 devices to add, 2 to update"),
        "{html}"
    );
    assert!(html.contains("Ignored unknown column(s): enabled, model"));
}
