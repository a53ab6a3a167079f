//! Network discovery against devsim devices on their own loopback addresses (127.0.0.x, one
//! port): every platform identified with its facts, closed addresses, a non-SSH service, a device
//! refusing every credential, a silent one, a legacy-only one, IPv6 `::1`; onboarding with tags,
//! the credential attached and a first backup, no duplicate of a device already in the
//! inventory; the address limit; cancel; permissions. Nothing here connects outside 127.0.0.0/8
//! or ::1.

use std::net::IpAddr;
use std::time::Duration;

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tokio::io::AsyncWriteExt;

use crate::engine::{PASSWORD, USER};
use crate::helpers::{TestApp, location, spawn_app_with_workers, unescaped};
use crate::jobs::{finished, lab_tag, posted_job};
use devsim::{DeviceSpec, Fault, Platform, Sim};
use netraven::entity::{devices, discovery_results, job_logs};
use netraven::vocabulary::{DiscoveryOutcome, JobStatus};

/// A port free on 127.0.0.2 (devsim devices on other loopback addresses reuse it).
fn free_port(ip: &str) -> u16 {
    let l = std::net::TcpListener::bind((ip, 0)).expect("bind");
    l.local_addr().expect("addr").port()
}

fn at(platform: Platform, name: &str, ip: &str, port: u16) -> DeviceSpec {
    let mut s = DeviceSpec::new(platform, name, USER, PASSWORD);
    s.addr = Some(ip.parse().expect("ip"));
    s.port = Some(port);
    s
}

async fn scan(app: &TestApp, fields: &[(&str, &str)]) -> job_logs::Model {
    posted_job(app, "/discovery", fields).await
}

async fn rows(app: &TestApp, job: i32) -> Vec<discovery_results::Model> {
    discovery_results::Entity::find()
        .filter(discovery_results::Column::JobLogId.eq(job))
        .all(&app.db)
        .await
        .expect("rows")
}

/// A TCP service that is not SSH: it greets like a web server and hangs up.
async fn not_ssh(ip: &str, port: u16) -> tokio::task::JoinHandle<()> {
    let l = tokio::net::TcpListener::bind((ip, port))
        .await
        .expect("bind");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let _ = s.write_all(b"HTTP/1.0 400 Bad Request\r\n\r\n").await;
        }
    })
}

#[tokio::test]
async fn a_scan_identifies_every_platform_and_onboarding_adds_only_new_devices() {
    let port = free_port("127.0.0.2");
    let mut specs: Vec<DeviceSpec> = Platform::ALL
        .iter()
        .enumerate()
        .map(|(i, p)| {
            at(
                *p,
                &format!("d-{}", p.as_str().replace('_', "-")),
                &format!("127.0.0.{}", i + 2),
                port,
            )
        })
        .collect();
    let mut wrong = at(Platform::CiscoIos, "wrongcreds", "127.0.0.18", port);
    wrong.credentials = vec![("someone".into(), "else-entirely".into())];
    specs.push(wrong);
    let mut silent = at(Platform::CiscoIos, "silent", "127.0.0.19", port);
    silent.fault = Some(Fault::Silent);
    specs.push(silent);
    let mut legacy = at(Platform::CiscoIos, "legacy", "127.0.0.20", port);
    legacy.legacy_only = true;
    specs.push(legacy);
    let sim = Sim::start(specs, "127.0.0.2".parse().expect("ip"), 0)
        .await
        .expect("devsim");
    let web = not_ssh("127.0.0.21", port).await;

    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    let tag = lab_tag(&app).await;
    // Already in the inventory, under another name and platform: found by its address.
    let known = app.add_device("old-name", "127.0.0.3", "linux").await;
    let port_text = port.to_string();
    let job = scan(
        &app,
        &[
            ("ranges", "127.0.0.0/27"),
            // Other tests' simulators listen on 127.0.0.1.
            ("exclude", "127.0.0.1"),
            ("ports", &port_text),
            ("tag_id", &tag),
            ("concurrency", "64"),
            ("timeout_seconds", "2"),
        ],
    )
    .await;
    assert_eq!(job.status, JobStatus::Success, "{:?}", job.message);
    let found = rows(&app, job.id).await;
    assert_eq!(found.len(), 29, "127.0.0.2 to .30");
    let of = |ip: &str| {
        found
            .iter()
            .find(|r| r.address == ip)
            .unwrap_or_else(|| panic!("{ip}"))
    };
    for (i, p) in Platform::ALL.iter().enumerate() {
        let r = of(&format!("127.0.0.{}", i + 2));
        assert_eq!(
            r.outcome,
            DiscoveryOutcome::Identified,
            "{p:?}: {}",
            r.message
        );
        assert_eq!(r.platform.as_deref(), Some(p.as_str()), "{}", r.message);
        assert_eq!(
            r.hostname.as_deref(),
            Some(format!("d-{}", p.as_str().replace('_', "-")).as_str()),
            "{p:?}"
        );
        assert_eq!(r.credential_name.as_deref(), Some("lab-login"));
    }
    let ios = of("127.0.0.2");
    assert_eq!(
        (ios.model.as_deref(), ios.os_version.as_deref()),
        (Some("C9300-24P"), Some("17.03.04a"))
    );
    assert!(ios.serial_number.is_some());
    assert_eq!(
        of("127.0.0.3").device_id,
        Some(known),
        "already in the inventory"
    );
    assert_eq!(of("127.0.0.18").outcome, DiscoveryOutcome::AuthFailed);
    assert!(
        of("127.0.0.18")
            .message
            .contains("authentication failed with every credential")
    );
    assert_eq!(of("127.0.0.19").outcome, DiscoveryOutcome::Silent);
    assert_eq!(
        of("127.0.0.20").platform.as_deref(),
        Some("cisco_ios"),
        "legacy-only"
    );
    assert_eq!(of("127.0.0.21").outcome, DiscoveryOutcome::NotSsh);
    assert!(of("127.0.0.21").message.contains("HTTP/1.0"));
    assert_eq!(of("127.0.0.22").outcome, DiscoveryOutcome::Closed);
    assert_eq!(of("127.0.0.22").message, "closed (connection refused)");
    // Nothing was added by the scan itself.
    assert_eq!(
        devices::Entity::find().count(&app.db).await.expect("count"),
        1
    );

    // The job's page links the scan's results; the page filters; the CSV has every row.
    let (_, html) = app.get_html(&format!("/jobs/{}", job.id)).await;
    assert!(html.contains(&format!("/discovery/jobs/{}", job.id)));
    let (_, html) = app
        .get_html(&format!("/discovery/jobs/{}?outcome=auth_failed", job.id))
        .await;
    assert!(html.contains("127.0.0.18") && !html.contains("127.0.0.19:"));
    let csv = app
        .get(&format!("/discovery/jobs/{}/results.csv", job.id))
        .await
        .text()
        .await
        .expect("csv");
    assert_eq!(csv.lines().count(), 30, "header and 29 rows");

    // A schedule scans the same ranges again; the dashboard says what it found.
    let scan_id = job.id.to_string();
    let r = app
        .submit(
            "/schedules/new",
            "/schedules",
            &[
                ("name", "nightly discovery"),
                ("job_type", "discovery"),
                ("target_type", "all"),
                ("scan_id", scan_id.as_str()),
                ("schedule_type", "daily"),
                ("time", "03:00"),
                ("timezone", "UTC"),
                ("enabled", "on"),
                ("debug", "off"),
            ],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap_or_default()
    );
    let schedule = location(&r);
    let (_, html) = app.get_html("/schedules").await;
    assert!(html.contains(&format!("the ranges of scan {}", job.id)));
    let r = app.post_form(&format!("{schedule}/run"), &[]).await;
    let again: i32 = location(&r)
        .trim_start_matches("/jobs/")
        .parse()
        .expect("job id");
    let again = finished(&app, again).await;
    assert_eq!(again.status, JobStatus::Success, "{:?}", again.message);
    assert_eq!(rows(&app, again.id).await.len(), 29);
    let (_, html) = app.get_html("/").await;
    assert!(unescaped(&html).contains("16 new devices found"), "{html}");

    // Onboard every identified new device with a tag, the credential attached to it, a backup.
    let found_tag = app.add_tag("found", "#1a7f37").await.to_string();
    let r = app
        .post_form(
            &format!("/discovery/jobs/{}/onboard", job.id),
            &[
                ("which", "new"),
                ("tag_ids", &found_tag),
                ("attach_credential", "on"),
                ("backup", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = unescaped(&r.text().await.unwrap_or_default());
    assert!(html.contains("16 devices added, 0 updated"), "{html}");
    let all = devices::Entity::find().all(&app.db).await.expect("devices");
    assert_eq!(all.len(), 17, "no duplicate of old-name");
    let eos = all
        .iter()
        .find(|d| d.hostname == "d-arista-eos")
        .expect("eos");
    assert_eq!(
        (eos.ip_address.as_str(), eos.port, eos.device_type.as_str()),
        ("127.0.0.6", i32::from(port), "arista_eos")
    );
    assert!(eos.model.is_some());
    assert_eq!(app.audit_count("discovery.onboard").await, 1);
    // The backup job ran with the credential now attached to the new tag.
    let backup = job_logs::Entity::find()
        .filter(job_logs::Column::JobType.eq(netraven::vocabulary::JobType::Backup))
        .one(&app.db)
        .await
        .expect("query")
        .expect("a backup job");
    let backup = finished(&app, backup.id).await;
    assert_eq!(backup.status, JobStatus::Success, "{:?}", backup.message);
    assert_eq!(backup.progress_total, 16);
    let (_, html) = app.get_html("/").await;
    assert!(
        !unescaped(&html).contains("new devices found"),
        "all onboarded"
    );

    // Again, updating what is already there: old-name takes the platform found.
    let ids = of("127.0.0.3").id.to_string();
    let r = app
        .post_form(
            &format!("/discovery/jobs/{}/onboard", job.id),
            &[
                ("which", "chosen"),
                ("ids", &ids),
                ("update_existing", "on"),
            ],
        )
        .await;
    assert!(unescaped(&r.text().await.unwrap_or_default()).contains("0 devices added, 1 updated"));
    let old = devices::Entity::find_by_id(known)
        .one(&app.db)
        .await
        .expect("q")
        .expect("device");
    assert_eq!(old.device_type, "cisco_nxos");
    assert_eq!(
        devices::Entity::find().count(&app.db).await.expect("count"),
        17
    );
    web.abort();
    sim.shutdown().await;
}

#[tokio::test]
async fn limits_ipv6_cancel_and_permissions() {
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    let tag = lab_tag(&app).await;
    // The limit on addresses per scan, set by an administrator.
    let r = app
        .submit(
            "/settings",
            "/settings/discovery",
            &[("discovery.max_addresses", "16")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    for (ranges, message) in [
        ("127.0.0.0/27", "more than 16 addresses"),
        ("224.0.0.1", "broadcast, multicast or unspecified"),
        ("127.0.0.300", "neither an address nor a range"),
    ] {
        let r = app
            .post_form("/discovery", &[("ranges", ranges), ("tag_id", &tag)])
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{ranges}");
        assert!(
            unescaped(&r.text().await.unwrap_or_default()).contains(message),
            "{ranges}"
        );
    }
    let r = app
        .post_form("/discovery", &[("ranges", "127.0.0.5")])
        .await;
    assert!(unescaped(&r.text().await.unwrap_or_default()).contains("Choose the credentials"));
    assert_eq!(app.audit_count("discovery.scan").await, 0);

    // IPv6 loopback.
    let port = free_port("::1");
    let mut spec = DeviceSpec::new(Platform::JuniperJunos, "v6", USER, PASSWORD);
    spec.addr = Some(IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]));
    spec.port = Some(port);
    let sim = Sim::start(vec![spec], "127.0.0.1".parse().expect("ip"), 0)
        .await
        .expect("devsim on ::1");
    let port_text = port.to_string();
    let job = scan(
        &app,
        &[("ranges", "::1"), ("ports", &port_text), ("tag_id", &tag)],
    )
    .await;
    let r = &rows(&app, job.id).await[0];
    assert_eq!(
        (r.address.as_str(), r.platform.as_deref()),
        ("::1", Some("juniper_junos")),
        "{}",
        r.message
    );
    sim.shutdown().await;

    // Cancel: silent devices keep the scan waiting; the cancel ends it.
    let port = free_port("127.0.0.40");
    let specs = (40..44)
        .map(|i| {
            let mut s = at(
                Platform::CiscoIos,
                &format!("s{i}"),
                &format!("127.0.0.{i}"),
                port,
            );
            s.fault = Some(Fault::Silent);
            s
        })
        .collect();
    let sim = Sim::start(specs, "127.0.0.40".parse().expect("ip"), 0)
        .await
        .expect("devsim");
    let port_text = port.to_string();
    let r = app
        .post_form(
            "/discovery",
            &[
                ("ranges", "127.0.0.40/30"),
                ("ports", &port_text),
                ("tag_id", &tag),
                ("concurrency", "1"),
                ("timeout_seconds", "10"),
            ],
        )
        .await;
    let id: i32 = location(&r)
        .trim_start_matches("/discovery/jobs/")
        .parse()
        .expect("id");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let r = app.post_form(&format!("/jobs/{id}/cancel"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let started = std::time::Instant::now();
    let job = finished(&app, id).await;
    assert_eq!(job.status, JobStatus::Cancelled);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopped without waiting for every address"
    );
    assert!(rows(&app, id).await.len() < 4);
    sim.shutdown().await;

    // Scanning needs write; reading a scan, read.
    app.create_user("viewer", "viewer", "Viewer-passw0rd-1")
        .await;
    let v = app.new_browser();
    v.login("viewer", "Viewer-passw0rd-1").await;
    assert_eq!(v.get_html("/discovery").await.0, StatusCode::FORBIDDEN);
    let r = v
        .post_form("/discovery", &[("ranges", "127.0.0.5"), ("tag_id", &tag)])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        v.get_html(&format!("/discovery/jobs/{id}")).await.0,
        StatusCode::OK
    );
    let r = v
        .post_form(
            &format!("/discovery/jobs/{id}/onboard"),
            &[("which", "new")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn onboarding_can_add_the_new_devices_to_nautobot() {
    use crate::nautobot::{TOKEN, nautobot_sim, settings_form};
    let dir = crate::helpers::new_data_dir();
    let nb = nautobot_sim(&dir, &crate::nautobot::inventory(), &[]);
    let port = free_port("127.0.0.50");
    let sim = Sim::start(
        vec![at(Platform::CiscoIos, "nb-new", "127.0.0.50", port)],
        "127.0.0.50".parse().expect("ip"),
        0,
    )
    .await
    .expect("devsim");
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    let url = nb.url();
    let r = app
        .post_form(
            "/settings/nautobot",
            &settings_form(
                &url,
                TOKEN,
                &[
                    ("nautobot.onboard_location", "DC1"),
                    ("nautobot.onboard_role", "router"),
                    ("nautobot.onboard_device_type", "CSR1000v"),
                ],
            ),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let tag = lab_tag(&app).await;
    let port_text = port.to_string();
    let job = scan(
        &app,
        &[
            ("ranges", "127.0.0.50"),
            ("ports", &port_text),
            ("tag_id", &tag),
        ],
    )
    .await;
    let r = app
        .post_form(
            &format!("/discovery/jobs/{}/onboard", job.id),
            &[("which", "new"), ("nautobot", "on")],
        )
        .await;
    let html = unescaped(&r.text().await.unwrap_or_default());
    assert!(html.contains("1 devices added"), "{html}");
    assert!(!html.contains("not added to Nautobot"), "{html}");
    let device = netraven::services::devices::find_by_hostname(&app.db, "nb-new")
        .await
        .expect("query")
        .expect("device");
    let nb_id = device.external_id.expect("linked to its Nautobot record");
    let made = nb
        .rest(
            reqwest::Method::GET,
            &format!("/api/dcim/devices/{nb_id}/?depth=1"),
            None,
        )
        .await;
    assert_eq!(made["name"], "nb-new");
    assert_eq!(made["primary_ip4"]["host"], "127.0.0.50");
    sim.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
