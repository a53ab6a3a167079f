//! Devices and tags through the UI: validation, list filters/sort/paging, bulk actions, permissions.

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::helpers::{TestApp, apply_changes, form_fields, location, spawn_app};
use netraven::entity::{device_tags, devices, tags};

async fn device(app: &TestApp, hostname: &str) -> Option<devices::Model> {
    devices::Entity::find()
        .filter(devices::Column::Hostname.eq(hostname))
        .one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn device_crud_with_validation() {
    let app = spawn_app().await;
    app.login_admin().await;
    let id = app
        .add_device("core-sw01", "2001:DB8::1", "arista_eos")
        .await;
    let d = device(&app, "core-sw01").await.unwrap();
    assert_eq!(d.ip_address, "2001:db8::1", "IPv6 stored canonically");
    assert_eq!(app.audit_count("device.create").await, 1);

    let bad = [
        (
            ("hostname", "CORE-SW01"),
            "A device with this host name already exists.",
        ),
        (("ip_address", "10.0.0.300"), "Enter an IPv4"),
        (("port", "70000"), "Enter a port from 1 to 65535."),
        (("device_type", "cisco_nope"), "Unknown platform"),
        (
            ("hostname", "bad_name!"),
            "Use letters, digits, hyphens and dots only.",
        ),
    ];
    for ((field, value), message) in bad {
        let mut fields = vec![
            ("hostname", "edge-r1"),
            ("ip_address", "192.0.2.1"),
            ("port", "22"),
            ("device_type", "cisco_ios"),
        ];
        fields.retain(|(f, _)| *f != field);
        fields.push((field, value));
        let r = app.submit("/devices/new", "/devices", &fields).await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}={value}"
        );
        let html = r.text().await.unwrap();
        assert!(html.contains(message), "{field}: expected {message:?}");
    }
    assert_eq!(
        devices::Entity::find().count(&app.db).await.unwrap(),
        1,
        "nothing stored by bad input"
    );

    let r = app
        .submit(
            &format!("/devices/{id}/edit"),
            &format!("/devices/{id}"),
            &[
                ("hostname", "core-sw01"),
                ("ip_address", "192.0.2.10"),
                ("port", "2222"),
                ("device_type", "cisco_nxos"),
                ("description", "DC1 core"),
                ("enabled", "off"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let d = device(&app, "core-sw01").await.unwrap();
    assert_eq!(
        (d.port, d.device_type.as_str(), d.enabled),
        (2222, "cisco_nxos", false)
    );
    let (status, html) = app.get_html(&format!("/devices/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("DC1 core") && html.contains("Cisco NX-OS"));

    let r = app.post_form(&format!("/devices/{id}/delete"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(device(&app, "core-sw01").await.is_none());
    assert_eq!(app.audit_count("device.delete").await, 1);
}

#[tokio::test]
async fn device_list_filters_sorts_and_pages() {
    let app = spawn_app().await;
    app.login_admin().await;
    let core = app.add_tag("core", "#d1242f").await;
    for i in 0..30 {
        let platform = if i % 3 == 0 {
            "juniper_junos"
        } else {
            "cisco_ios"
        };
        let id = app
            .add_device(
                &format!("sw{i:02}.example.net"),
                &format!("10.0.0.{i}"),
                platform,
            )
            .await;
        if i < 5 {
            app.post_form(
                &format!("/devices/{id}/tags"),
                &[("tag_id", &core.to_string())],
            )
            .await;
        }
    }
    let (_, html) = app.get_html("/devices?platform=juniper_junos").await;
    assert!(html.contains("Showing 1–10 of 10"), "10 junos devices");
    let (_, html) = app.get_html(&format!("/devices?tag={core}")).await;
    assert!(html.contains("Showing 1–5 of 5"));
    let (_, html) = app.get_html("/devices?q=sw2").await;
    assert!(
        html.contains("of 10")
            && html.contains("sw29.example.net")
            && !html.contains("sw19.example.net")
    );
    let (_, html) = app.get_html("/devices?q=10.0.0.7").await;
    assert!(html.contains("sw07.example.net"));

    let (_, html) = app
        .get_html("/devices?sort=hostname&dir=desc&per_page=25")
        .await;
    let first = html.find("sw29.example.net").unwrap();
    let later = html.find("sw28.example.net").unwrap();
    assert!(first < later, "descending order");
    assert!(html.contains("Showing 1–25 of 30") && !html.contains("sw04.example.net"));
    let (_, html) = app
        .get_html("/devices?sort=hostname&dir=desc&per_page=25&page=2")
        .await;
    assert!(html.contains("Showing 26–30 of 30") && html.contains("sw04.example.net"));
    // A page past the end shows the last page; junk parameters fall back to defaults.
    let (status, html) = app
        .get_html("/devices?page=99&per_page=25&sort=bogus&enabled=maybe")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Showing 26–30 of 30"));

    let frag = app
        .client
        .get(app.url("/devices?q=sw0"))
        .header("HX-Request", "true")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(frag.trim_start().starts_with("<div id=\"devices-table\">") && !frag.contains("<html"));
}

#[tokio::test]
async fn bulk_actions_apply_to_the_selection_in_one_go() {
    let app = spawn_app().await;
    app.login_admin().await;
    let lab = app.add_tag("lab", "#8250df").await.to_string();
    let a = app
        .add_device("a1", "192.0.2.1", "cisco_ios")
        .await
        .to_string();
    let b = app
        .add_device("b1", "192.0.2.2", "cisco_ios")
        .await
        .to_string();
    let c = app
        .add_device("c1", "192.0.2.3", "cisco_ios")
        .await
        .to_string();

    let r = app
        .post_form(
            "/devices/bulk",
            &[
                ("action", "add_tag"),
                ("tag_id", &lab),
                ("ids", &a),
                ("ids", &b),
                ("back", "/devices?q=1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/devices?q=1");
    let tagged = device_tags::Entity::find().count(&app.db).await.unwrap();
    assert_eq!(tagged, 2);
    // Adding again changes nothing.
    app.post_form(
        "/devices/bulk",
        &[
            ("action", "add_tag"),
            ("tag_id", &lab),
            ("ids", &a),
            ("back", "/devices"),
        ],
    )
    .await;
    assert_eq!(device_tags::Entity::find().count(&app.db).await.unwrap(), 2);

    app.post_form(
        "/devices/bulk",
        &[
            ("action", "disable"),
            ("ids", &a),
            ("ids", &c),
            ("back", "/devices"),
        ],
    )
    .await;
    assert!(
        !device(&app, "a1").await.unwrap().enabled && !device(&app, "c1").await.unwrap().enabled
    );
    assert!(device(&app, "b1").await.unwrap().enabled);

    // Delete needs the confirmation box.
    app.post_form(
        "/devices/bulk",
        &[("action", "delete"), ("ids", &c), ("back", "/devices")],
    )
    .await;
    assert!(device(&app, "c1").await.is_some());
    let (_, html) = app.get_html("/devices").await;
    assert!(html.contains("Tick the confirmation box"));
    app.post_form(
        "/devices/bulk",
        &[
            ("action", "delete"),
            ("confirm_delete", "on"),
            ("ids", &c),
            ("back", "/devices"),
        ],
    )
    .await;
    assert!(device(&app, "c1").await.is_none());

    app.post_form(
        "/devices/bulk",
        &[
            ("action", "remove_tag"),
            ("tag_id", &lab),
            ("ids", &a),
            ("ids", &b),
            ("back", "/devices"),
        ],
    )
    .await;
    assert_eq!(device_tags::Entity::find().count(&app.db).await.unwrap(), 0);
    assert_eq!(app.audit_count("device.bulk").await, 5);
}

#[tokio::test]
async fn tags_crud_colour_and_counts() {
    let app = spawn_app().await;
    app.login_admin().await;
    let id = app.add_tag("branch", "#1A7F37").await;
    let t = tags::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.color, "#1a7f37");
    let r = app
        .submit(
            "/tags/new",
            "/tags",
            &[("name", "BRANCH"), ("color", "#000000")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("A tag with this name already exists.")
    );
    let r = app
        .submit("/tags/new", "/tags", &[("name", "x;y"), ("color", "red")])
        .await;
    let html = r.text().await.unwrap();
    assert!(html.contains("cannot contain ;") && html.contains("#RRGGBB"));

    let d = app.add_device("br-01", "198.51.100.1", "hp_procurve").await;
    app.post_form(
        &format!("/devices/{d}/tags"),
        &[("tag_id", &id.to_string())],
    )
    .await;
    let (_, html) = app.get_html("/tags").await;
    assert!(html.contains("branch") && html.contains(&format!("/devices?tag={id}\">1</a>")));
    let (_, html) = app.get_html(&format!("/tags/{id}")).await;
    assert!(html.contains("br-01"));

    let r = app
        .submit(
            &format!("/tags/{id}/edit"),
            &format!("/tags/{id}"),
            &[("name", "branches"), ("color", "#1a7f37")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app.post_form(&format!("/tags/{id}/delete"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(device(&app, "br-01").await.is_some(), "devices stay");
    assert_eq!(device_tags::Entity::find().count(&app.db).await.unwrap(), 0);
    for event in ["tag.create", "tag.update", "tag.delete", "device.tag_add"] {
        assert_eq!(app.audit_count(event).await, 1, "{event}");
    }
}

#[tokio::test]
async fn viewer_reads_operator_changes_only_delete_deletes() {
    let app = spawn_app().await;
    app.login_admin().await;
    let id = app.add_device("r1", "192.0.2.1", "cisco_ios").await;
    app.create_user("v", "viewer", "Viewer-passw0rd").await;
    app.create_user("o", "operator", "Operator-passw0rd").await;
    let viewer = app.new_browser();
    viewer.login("v", "Viewer-passw0rd").await;
    let operator = app.new_browser();
    operator.login("o", "Operator-passw0rd").await;

    let (status, html) = viewer.get_html("/devices").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("r1") && !html.contains("Add device") && !html.contains("name=\"ids\""));
    assert_eq!(
        viewer.get(&format!("/devices/{id}")).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        viewer.get("/devices/new").await.status(),
        StatusCode::FORBIDDEN
    );
    let r = viewer
        .post_form(
            "/devices",
            &[
                ("hostname", "x1"),
                ("ip_address", "192.0.2.9"),
                ("port", ""),
                ("device_type", "cisco_ios"),
                ("description", ""),
                ("enabled", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let r = operator
        .submit(
            &format!("/devices/{id}/edit"),
            &format!("/devices/{id}"),
            &[
                ("hostname", "r1"),
                ("ip_address", "192.0.2.2"),
                ("device_type", "cisco_ios"),
                ("enabled", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        operator
            .get(&format!("/devices/{id}/delete"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let r = operator
        .post_form(&format!("/devices/{id}/delete"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = operator
        .post_form(
            "/devices/bulk",
            &[
                ("action", "delete"),
                ("confirm_delete", "on"),
                ("ids", &id.to_string()),
                ("back", "/devices"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(device(&app, "r1").await.is_some());
}

#[tokio::test]
async fn the_ip_column_sorts_as_addresses_not_as_text() {
    let app = spawn_app().await;
    app.login_admin().await;
    for (host, ip) in [
        ("v6", "2001:db8::1"),
        ("ten", "10.0.0.10"),
        ("two", "10.0.0.2"),
        ("big", "192.168.1.1"),
        ("nine", "9.255.255.255"),
    ] {
        app.add_device(host, ip, "cisco_ios").await;
    }
    let order = |html: &str| {
        let mut found: Vec<(usize, &str)> = ["v6", "ten", "two", "big", "nine"]
            .into_iter()
            .map(|h| {
                let at = html
                    .find(&format!(">{h}</a>"))
                    .unwrap_or_else(|| panic!("{h} listed"));
                (at, h)
            })
            .collect();
        found.sort();
        found.into_iter().map(|(_, h)| h).collect::<Vec<_>>()
    };
    let (_, html) = app.get_html("/devices?sort=ip_address").await;
    assert_eq!(order(&html), ["nine", "two", "ten", "big", "v6"]);
    let (_, html) = app.get_html("/devices?sort=ip_address&dir=desc").await;
    assert_eq!(order(&html), ["v6", "big", "ten", "two", "nine"]);

    // The migration that added the key fills it for devices stored before it.
    use migration::MigratorTrait;
    migration::Migrator::down(&app.db, Some(1)).await.unwrap();
    migration::Migrator::up(&app.db, None).await.unwrap();
    let (_, html) = app.get_html("/devices?sort=ip_address").await;
    assert_eq!(order(&html), ["nine", "two", "ten", "big", "v6"]);

    // An edit keeps the key in step with the address.
    let id = app.add_device("moved", "172.16.0.1", "cisco_ios").await;
    let r = app
        .submit(
            &format!("/devices/{id}/edit"),
            &format!("/devices/{id}"),
            &[
                ("hostname", "moved"),
                ("ip_address", "1.1.1.1"),
                ("device_type", "cisco_ios"),
                ("enabled", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = app.get_html("/devices?sort=ip_address").await;
    assert!(html.find(">moved</a>").unwrap() < html.find(">nine</a>").unwrap());
}

/// Each create reads (is the hostname taken?) before it writes; on SQLite a
/// deferred transaction doing that while another connection writes failed at once with
/// "database is locked" (a 500) instead of waiting its turn.
#[tokio::test]
async fn concurrent_creates_wait_for_each_other_instead_of_failing() {
    let app = spawn_app().await;
    app.login_admin().await;
    let n = 40;
    // The form is read once: reading it 40 times at once on the test's one thread kept requests
    // waiting to be written past the server's 5 s request timeout on a loaded machine.
    let (_, html) = app.get_html("/devices/new").await;
    let form = form_fields(&html, "/devices").expect("the new-device form");
    let creates = (0..n).map(|i| {
        let (app, mut fields) = (&app, form.clone());
        async move {
            let hostname = format!("c{i:02}");
            let ip = format!("10.77.0.{}", i + 1);
            apply_changes(
                &mut fields,
                &[
                    ("hostname", hostname.as_str()),
                    ("ip_address", ip.as_str()),
                    ("device_type", "cisco_ios"),
                    ("enabled", "on"),
                ],
            );
            let r = app
                .client
                .post(app.url("/devices"))
                .form(&fields)
                .send()
                .await
                .expect("POST");
            (hostname, r.status())
        }
    });
    for (hostname, status) in futures_util::future::join_all(creates).await {
        assert_eq!(status, StatusCode::SEE_OTHER, "create {hostname}");
    }
    let stored = devices::Entity::find()
        .filter(devices::Column::Hostname.starts_with("c"))
        .count(&app.db)
        .await
        .expect("count");
    assert_eq!(stored, n as u64);
}
