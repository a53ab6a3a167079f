//! Nautobot against tests/fixtures/nautobot_server.py, a server speaking Nautobot's REST and
//! GraphQL API as documented (and as measured against a real Nautobot 3.2, docs/dev/nautobot.md):
//! connection tests in words, preview then apply, idempotence, devices that leave, conflicts,
//! the platform mapping, paging through 10,000 devices, onboarding with its rollback, and the
//! write-back after real backups of devsim devices. `nautobot_real` runs against a real
//! Nautobot when CI starts one (scripts/nautobot-real.sh).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use devsim::{DeviceSpec, Platform};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::engine::{PASSWORD, USER, start};
use crate::helpers::{
    TestApp, location, new_data_dir, spawn_app, spawn_app_with_workers, with_changes,
};
use crate::jobs::{finished, finished_within, lab_tag};
use netraven::entity::{devices, job_log_entries, nautobot_sync_items};
use netraven::vocabulary::{DeviceSource, JobStatus, SyncAction};

pub const TOKEN: &str = "0123456789abcdef0123456789abcdef01234567";
pub const TOKEN_RO: &str = "fedcba9876543210fedcba9876543210fedcba98";

/// A running tests/fixtures/nautobot_server.py.
pub struct NautobotSim {
    child: Child,
    pub port: u16,
    scheme: &'static str,
    http: reqwest::Client,
}

impl Drop for NautobotSim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the server on a free loopback port with `data` (the seed file's format) and extra
/// arguments.
pub fn nautobot_sim(dir: &Path, data: &Value, args: &[&str]) -> NautobotSim {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nautobot_server.py");
    let file = dir.join("nautobot-data.json");
    std::fs::write(&file, data.to_string()).expect("write the seed");
    let mut child = Command::new("python3")
        .arg(script)
        .arg("--port")
        .arg("0")
        .arg("--data")
        .arg(&file)
        .args(args)
        .env("NAUTOBOT_TEST_TOKEN", TOKEN)
        .env("NAUTOBOT_TEST_TOKEN_RO", TOKEN_RO)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 runs the Nautobot server");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("PORT line");
    let port = line
        .trim()
        .strip_prefix("PORT ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("the Nautobot server said {line:?}"));
    let tls = args.contains(&"--tls-cert");
    netraven::services::http::use_ring_for_tls();
    let http = reqwest::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .build()
        .expect("client");
    NautobotSim {
        child,
        port,
        scheme: if tls { "https" } else { "http" },
        http,
    }
}

impl NautobotSim {
    pub fn url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme, self.port)
    }

    /// A REST call with the read-write token.
    pub async fn rest(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.url()))
            .header("Authorization", format!("Token {TOKEN}"));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("Nautobot answers");
        let status = r.status();
        let text = r.text().await.expect("body");
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// The id of the device named `name`.
    pub async fn device_id(&self, name: &str) -> String {
        let list = self
            .rest(
                reqwest::Method::GET,
                &format!("/api/dcim/devices/?name={name}"),
                None,
            )
            .await;
        list["results"][0]["id"]
            .as_str()
            .expect("device")
            .to_string()
    }

    pub async fn control(&self, method: reqwest::Method, what: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method, format!("{}/__test__/{what}", self.url()));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("control");
        serde_json::from_str(&r.text().await.expect("body")).unwrap_or(Value::Null)
    }

    /// The /api requests made since the last clear, as (method, path, items).
    pub async fn requests(&self) -> Vec<(String, String, Option<u64>)> {
        let list = self.control(reqwest::Method::GET, "requests", None).await;
        list.as_array()
            .expect("a list")
            .iter()
            .map(|r| {
                (
                    r["method"].as_str().unwrap_or_default().to_string(),
                    r["path"].as_str().unwrap_or_default().to_string(),
                    r["items"].as_u64(),
                )
            })
            .collect()
    }
}

/// Every field of the Nautobot settings form, with `url`, `token` and `changes` over defaults.
pub fn settings_form<'a>(
    url: &'a str,
    token: &'a str,
    changes: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let fields = vec![
        ("nautobot.url", url),
        ("nautobot.token", token),
        ("nautobot.timeout_seconds", "10"),
        ("nautobot.verify_tls", "on"),
        ("nautobot.ca_file", ""),
        ("nautobot.onboard_location", ""),
        ("nautobot.onboard_role", ""),
        ("nautobot.onboard_status", "Active"),
        ("nautobot.onboard_device_type", ""),
        ("nautobot.onboard_namespace", "Global"),
        ("nautobot.onboard_interface", "Management"),
    ];
    with_changes(fields, changes)
}

/// Saves the connection settings.
pub async fn configure(app: &TestApp, url: &str, token: &str) {
    let r = app
        .post_form("/settings/nautobot", &settings_form(url, token, &[]))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

/// What *Test connection* says for these values.
async fn test_words(app: &TestApp, fields: &[(&str, &str)]) -> String {
    let r = app.post_form("/settings/nautobot/test", fields).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.expect("body");
    let start = html.find("role=\"status\">").expect("a report") + 14;
    let end = start + html[start..].find("</div>").expect("end");
    html[start..end].to_string()
}

/// Adds a source; `changes` over the form's defaults. Returns its id.
pub async fn add_source(app: &TestApp, changes: &[(&str, &str)]) -> i32 {
    let r = app.submit("/nautobot/new", "/nautobot", changes).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap_or_default()
    );
    location(&r)
        .trim_start_matches("/nautobot/")
        .parse()
        .expect("source id")
}

/// Runs a preview or an apply to its end; the job.
pub async fn sync(app: &TestApp, source: i32, apply: bool) -> netraven::entity::job_logs::Model {
    let action = if apply { "apply" } else { "preview" };
    let r = app
        .post_form(&format!("/nautobot/{source}/{action}"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id: i32 = location(&r)
        .trim_start_matches("/nautobot/jobs/")
        .parse()
        .expect("job id");
    finished_within(app, id, 120).await
}

async fn items(app: &TestApp, job: i32) -> Vec<nautobot_sync_items::Model> {
    nautobot_sync_items::Entity::find()
        .filter(nautobot_sync_items::Column::JobLogId.eq(job))
        .all(&app.db)
        .await
        .expect("items")
}

fn of(items: &[nautobot_sync_items::Model], action: SyncAction) -> Vec<String> {
    let mut names: Vec<String> = items
        .iter()
        .filter(|i| i.action == action)
        .map(|i| i.hostname.clone())
        .collect();
    names.sort();
    names
}

fn reason<'a>(items: &'a [nautobot_sync_items::Model], hostname: &str) -> &'a str {
    items
        .iter()
        .find(|i| i.hostname == hostname)
        .and_then(|i| i.reason.as_deref())
        .unwrap_or_else(|| panic!("no item for {hostname}"))
}

async fn device(app: &TestApp, hostname: &str) -> Option<devices::Model> {
    devices::Entity::find()
        .filter(devices::Column::Hostname.eq(hostname))
        .one(&app.db)
        .await
        .expect("query")
}

async fn device_tags(app: &TestApp, id: i32) -> Vec<String> {
    use netraven::entity::{device_tags, tags};
    use sea_orm::{QueryOrder, QuerySelect, RelationTrait};
    device_tags::Entity::find()
        .select_only()
        .column(tags::Column::Name)
        .join(
            sea_orm::JoinType::InnerJoin,
            device_tags::Relation::Tag.def(),
        )
        .filter(device_tags::Column::DeviceId.eq(id))
        .order_by_asc(tags::Column::Name)
        .into_tuple()
        .all(&app.db)
        .await
        .expect("tags")
}

/// The *Add to Nautobot* form: a location and a role, the rest as a fresh Nautobot has it (the
/// platform found by the device's network driver).
fn onboard_fields<'a>(location: &'a str, role: &'a str) -> [(&'a str, &'a str); 7] {
    [
        ("location", location),
        ("role", role),
        ("status", "Active"),
        ("device_type", "CSR1000v"),
        ("platform", ""),
        ("namespace", "Global"),
        ("interface", "Management"),
    ]
}

/// *Add to Nautobot* refused: the form again (422) saying each of `words`.
async fn onboarding_refused(app: &TestApp, device: i32, fields: &[(&str, &str)], words: &[&str]) {
    let r = app
        .post_form(&format!("/devices/{device}/nautobot"), fields)
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    for w in words {
        assert!(html.contains(w), "{w:?} not in {html}");
    }
}

/// The inventory the main test reads: what real inventories hold, addresses from documentation
/// ranges (nothing connects to them).
pub fn inventory() -> Value {
    let dev = |name: Value, status: &str, platform: Value, ip4: Value, tags: Value| {
        json!({"name": name, "location": "DC1", "role": "router", "status": status,
               "platform": platform, "tenant": null, "tags": tags, "device_type": "CSR1000v",
               "serial": "", "primary_ip4": ip4, "primary_ip6": null, "custom_fields": {}})
    };
    let mut r2 = dev(
        json!("r2"),
        "Active",
        json!("EOS"),
        json!("192.0.2.11/24"),
        json!(["edge", "t1", "t2", "t3", "t4", "t5", "t6"]),
    );
    r2["custom_fields"] = json!({"ssh_port": 2222});
    r2["role"] = json!("switch");
    let mut r3 = dev(
        json!("r3"),
        "Active",
        json!("Junos"),
        json!(null),
        json!([]),
    );
    r3["primary_ip6"] = json!("2001:db8::13/64");
    r3["location"] = json!("DC2");
    r3["tenant"] = json!("ACME");
    let tag_list: Vec<Value> = ["core", "edge", "t1", "t2", "t3", "t4", "t5", "t6", "lab"]
        .iter()
        .map(|t| json!({"name": t, "color": "ff0000"}))
        .collect();
    let mut r8b = dev(
        json!("r8"),
        "Active",
        json!("IOS"),
        json!("192.0.2.19/24"),
        json!([]),
    );
    r8b["location"] = json!("DC2");
    json!({
        "location_types": [{"name": "Site"}],
        "locations": [{"name": "DC1", "location_type": "Site", "parent": null},
                      {"name": "DC2", "location_type": "Site", "parent": null}],
        "roles": [{"name": "router"}, {"name": "switch"}],
        "tenants": [{"name": "ACME"}],
        "manufacturers": [{"name": "Cisco"}],
        "platforms": [
            {"name": "IOS", "manufacturer": "Cisco", "network_driver": "cisco_ios"},
            {"name": "EOS", "network_driver": "arista_eos"},
            {"name": "Junos", "network_driver": "juniper_junos"},
            {"name": "Arista EOS", "network_driver": ""},
            {"name": "Weird OS", "network_driver": ""},
            {"name": "Odd", "network_driver": "foo_os"}
        ],
        "tags": tag_list,
        "device_types": [{"model": "CSR1000v", "manufacturer": "Cisco"}],
        "namespaces": [{"name": "Global"}],
        "prefixes": [{"prefix": "192.0.2.0/24", "namespace": "Global"},
                     {"prefix": "127.0.0.0/8", "namespace": "Global"},
                     {"prefix": "2001:db8::/64", "namespace": "Global"}],
        "custom_fields": [{"key": "ssh_port", "type": "integer"},
                          {"key": "last_backup", "type": "datetime"}],
        "devices": [
            dev(json!("r1"), "Active", json!("IOS"), json!("192.0.2.10/24"), json!(["core"])),
            r2,
            r3,
            dev(json!("r4"), "Active", json!("IOS"), json!(null), json!([])),
            dev(json!("r5"), "Active", json!(null), json!("192.0.2.15/24"), json!([])),
            dev(json!("r6"), "Active", json!("Weird OS"), json!("192.0.2.16/24"), json!([])),
            dev(json!("r7"), "Active", json!("Arista EOS"), json!("192.0.2.17/24"), json!([])),
            dev(json!("r8"), "Active", json!("IOS"), json!("192.0.2.18/24"), json!([])),
            r8b,
            dev(json!(null), "Active", json!("IOS"), json!("192.0.2.21/24"), json!([])),
            dev(json!("hand1"), "Active", json!("IOS"), json!("192.0.2.20/24"), json!([])),
            dev(json!("r9"), "Planned", json!("IOS"), json!("192.0.2.22/24"), json!([])),
            dev(json!("r10"), "Active", json!("Odd"), json!("192.0.2.23/24"), json!([])),
        ]
    })
}

#[tokio::test]
async fn preview_apply_idempotence_leaving_conflicts_and_the_mapping_table() {
    let dir = new_data_dir();
    let nb = nautobot_sim(&dir, &inventory(), &[]);
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    configure(&app, &nb.url(), TOKEN).await;
    let hand = app.add_device("hand1", "192.0.2.99", "cisco_ios").await;
    let source = add_source(
        &app,
        &[
            ("name", "dc"),
            ("statuses", "Active"),
            ("port_field", "ssh_port"),
            ("location_tag_prefix", "site:"),
        ],
    )
    .await;

    // Preview: everything is planned, nothing changes.
    let job = sync(&app, source, false).await;
    assert_eq!(job.status, JobStatus::Success, "{:?}", job.message);
    let planned = items(&app, job.id).await;
    assert_eq!(of(&planned, SyncAction::Add), vec!["r1", "r2", "r3", "r8"]);
    assert_eq!(of(&planned, SyncAction::Conflict), vec!["hand1"]);
    assert_eq!(
        of(&planned, SyncAction::Skip),
        vec!["(no name)", "r10", "r4", "r5", "r6", "r7", "r8"]
    );
    assert_eq!(reason(&planned, "r4"), "no primary IP address");
    assert_eq!(reason(&planned, "r5"), "no platform in Nautobot");
    assert!(reason(&planned, "r6").contains("no network driver and no mapping"));
    assert!(reason(&planned, "r10").contains("\"foo_os\", which NetRaven does not support"));
    assert!(reason(&planned, "(no name)").contains("no name"));
    assert!(reason(&planned, "hand1").contains("hand-added"));
    assert!(planned.iter().any(
        |i| i.hostname == "r8" && i.reason.as_deref().unwrap_or("").contains("duplicate name")
    ));
    assert_eq!(devices::Entity::find().count(&app.db).await.unwrap(), 1);
    assert_eq!(app.audit_count("nautobot.sync.apply").await, 0);
    let (status, html) = app.get_html(&format!("/nautobot/jobs/{}", job.id)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("no primary IP address") && html.contains("Apply"));

    // The mapping table covers a platform without a driver.
    let r = app
        .post_form(
            "/nautobot/platforms",
            &[
                ("nautobot_platform", "arista eos"),
                ("platform", "arista_eos"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app
        .post_form(
            "/nautobot/platforms",
            &[("nautobot_platform", "x"), ("platform", "no_such_os")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Apply: the devices, field by field.
    let job = sync(&app, source, true).await;
    assert_eq!(job.status, JobStatus::Success, "{:?}", job.message);
    let r1 = device(&app, "r1").await.expect("r1");
    assert_eq!(
        (r1.ip_address.as_str(), r1.port, r1.device_type.as_str()),
        ("192.0.2.10", 22, "cisco_ios")
    );
    assert_eq!(
        (r1.source, r1.nautobot_source_id),
        (DeviceSource::Nautobot, Some(source))
    );
    assert_eq!(r1.external_id, Some(nb.device_id("r1").await));
    assert_eq!(device_tags(&app, r1.id).await, vec!["core", "site:DC1"]);
    let r2 = device(&app, "r2").await.expect("r2");
    assert_eq!((r2.port, r2.device_type.as_str()), (2222, "arista_eos"));
    assert_eq!(
        device_tags(&app, r2.id).await.len(),
        8,
        "many tags, and the site"
    );
    let r3 = device(&app, "r3").await.expect("r3");
    assert_eq!(r3.ip_address, "2001:db8::13");
    assert_eq!(
        device_tags(&app, r3.id).await,
        vec!["site:DC2"],
        "no Nautobot tags"
    );
    assert_eq!(
        device(&app, "r7").await.expect("mapped").device_type,
        "arista_eos"
    );
    let hand1 = device(&app, "hand1").await.expect("hand1");
    assert_eq!(
        (hand1.source, hand1.ip_address.as_str()),
        (DeviceSource::Manual, "192.0.2.99")
    );
    assert_eq!(app.audit_count("nautobot.sync.apply").await, 1);
    let (status, html) = app.get_html(&format!("/nautobot/{source}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Recent syncs") && html.contains(&format!("/nautobot/jobs/{}", job.id)));
    let (_, html) = app.get_html("/nautobot").await;
    assert!(
        html.contains(">dc</a>") && html.contains("arista eos"),
        "the source and the mapping"
    );
    let (_, html) = app.get_html(&format!("/devices/{}", r1.id)).await;
    assert!(html.contains(&format!("/nautobot/{source}")) && !html.contains("Add to Nautobot"));

    // Again, with nothing changed in Nautobot: nothing changes, no audit entry.
    let before: Vec<devices::Model> = devices::Entity::find().all(&app.db).await.unwrap();
    let job = sync(&app, source, true).await;
    assert_eq!(job.status, JobStatus::Success);
    assert!(
        job.message
            .as_deref()
            .unwrap_or("")
            .contains("0 added, 0 updated, 0 disabled"),
        "{:?}",
        job.message
    );
    assert_eq!(devices::Entity::find().all(&app.db).await.unwrap(), before);
    assert_eq!(app.audit_count("nautobot.sync.apply").await, 1);

    // Changes in Nautobot: a port, a name, and a device leaving the source's filter.
    let patch = reqwest::Method::PATCH;
    let id = |n: &'static str| nb.device_id(n);
    nb.rest(
        patch.clone(),
        &format!("/api/dcim/devices/{}/", id("r2").await),
        Some(json!({"custom_fields": {"ssh_port": 2022}})),
    )
    .await;
    nb.rest(
        patch.clone(),
        &format!("/api/dcim/devices/{}/", id("r3").await),
        Some(json!({"name": "r3-new"})),
    )
    .await;
    nb.rest(
        patch.clone(),
        &format!("/api/dcim/devices/{}/", id("r1").await),
        Some(json!({"status": "Planned"})),
    )
    .await;
    let job = sync(&app, source, false).await;
    let planned = items(&app, job.id).await;
    assert_eq!(of(&planned, SyncAction::Update), vec!["r2", "r3-new"]);
    assert_eq!(of(&planned, SyncAction::Disable), vec!["r1"]);
    let r2_item = planned.iter().find(|i| i.hostname == "r2").unwrap();
    assert_eq!(
        r2_item.detail.as_ref().unwrap()["changes"],
        json!({"port": [2222, 2022]})
    );
    let (_, html) = app
        .get_html(&format!("/nautobot/jobs/{}?action=update", job.id))
        .await;
    assert!(
        html.contains("<del>2222</del> → 2022") && html.contains("<del>r3</del> → r3-new"),
        "{html}"
    );
    assert!(!html.contains(">r1<"), "filtered to updates");
    sync(&app, source, true).await;
    let r1 = device(&app, "r1").await.expect("kept");
    assert!(
        !r1.enabled && r1.left_source_at.is_some(),
        "disabled, not deleted"
    );
    assert_eq!(device(&app, "r2").await.unwrap().port, 2022);
    assert_eq!(
        device(&app, "r3-new").await.unwrap().id,
        r3.id,
        "renamed, same device"
    );
    assert!(
        device(&app, "hand1").await.unwrap().enabled,
        "a hand-added device is never disabled"
    );

    // Back in the source: enabled again. Adopting takes over the hand-added namesake.
    nb.rest(
        patch,
        &format!("/api/dcim/devices/{}/", id("r1").await),
        Some(json!({"status": "Active"})),
    )
    .await;
    let r = app
        .submit(
            &format!("/nautobot/{source}/edit"),
            &format!("/nautobot/{source}"),
            &[("adopt", "on")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    sync(&app, source, true).await;
    let r1 = device(&app, "r1").await.unwrap();
    assert!(r1.enabled && r1.left_source_at.is_none());
    let hand1 = device(&app, "hand1").await.unwrap();
    assert_eq!(hand1.id, hand);
    assert_eq!(
        (hand1.source, hand1.ip_address.as_str()),
        (DeviceSource::Nautobot, "192.0.2.20")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn connection_tests_say_what_is_wrong_in_words() {
    let dir = new_data_dir();
    // An internal CA and a server certificate it signed, as a lab Nautobot would have.
    let (ca_pem, cert, key) = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    let openssl = |args: &[&str]| {
        let ok = Command::new("openssl")
            .current_dir(&dir)
            .args(args)
            .stderr(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .expect("openssl runs")
            .success();
        assert!(ok, "openssl {args:?}");
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=NetRaven test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "key.pem",
        "-out",
        "server.csr",
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "cert.pem",
    ]);
    let nb = nautobot_sim(&dir, &inventory(), &[]);
    let tls = nautobot_sim(
        &dir,
        &inventory(),
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    let url = nb.url();

    let words = test_words(&app, &settings_form(&url, TOKEN, &[])).await;
    assert_eq!(
        words,
        "Connected to Nautobot 3.2.7 (REST API 3.2); the token can read and write devices."
    );
    let words = test_words(&app, &settings_form(&url, TOKEN_RO, &[])).await;
    assert!(words.contains("the token is read-only"), "{words}");
    let words = test_words(
        &app,
        &settings_form(&url, "0000000000000000000000000000000000000000", &[]),
    )
    .await;
    assert_eq!(
        words,
        "Connection failed: Nautobot refused the API token: Invalid token."
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let unused = format!("http://127.0.0.1:{}", closed.local_addr().unwrap().port());
    drop(closed);
    let words = test_words(&app, &settings_form(&unused, TOKEN, &[])).await;
    assert!(
        words.starts_with(&format!(
            "Connection failed: cannot reach Nautobot at {unused}"
        )),
        "{words}"
    );
    let tls_url = tls.url();
    let words = test_words(&app, &settings_form(&tls_url, TOKEN, &[])).await;
    assert!(
        words.starts_with("Connection failed: TLS failure talking to"),
        "{words}"
    );
    let ca = ca_pem.to_str().unwrap();
    let words = test_words(
        &app,
        &settings_form(&tls_url, TOKEN, &[("nautobot.ca_file", ca)]),
    )
    .await;
    assert!(
        words.starts_with("Connected to Nautobot"),
        "the CA file is trusted: {words}"
    );
    let words = test_words(
        &app,
        &settings_form(&tls_url, TOKEN, &[("nautobot.verify_tls", "off")]),
    )
    .await;
    assert!(words.starts_with("Connected to Nautobot"), "{words}");
    let words = test_words(
        &app,
        &settings_form(&tls_url, TOKEN, &[("nautobot.ca_file", "/nonexistent.pem")]),
    )
    .await;
    assert!(
        words.contains("the CA certificate file /nonexistent.pem"),
        "{words}"
    );
    assert_eq!(
        app.audit_count("settings.update").await,
        0,
        "testing saves nothing"
    );

    // A bad token saved: said at once; a sync fails with Nautobot's words and changes nothing.
    let r = app
        .post_form(
            "/settings/nautobot",
            &settings_form(&url, "1111111111111111111111111111111111111111", &[]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = app.get_html("/settings").await;
    assert!(
        html.contains(
            "The connection test with the saved values failed: Nautobot refused the API token"
        ),
        "{html}"
    );
    assert!(
        !html.contains("1111111111111111111111111111111111111111"),
        "the token is never shown"
    );
    let source = add_source(&app, &[("name", "all")]).await;
    let job = sync(&app, source, true).await;
    assert_eq!(job.status, JobStatus::Failed);
    assert_eq!(
        job.message.as_deref(),
        Some("Nautobot refused the API token: Invalid token")
    );
    assert!(items(&app, job.id).await.is_empty());
    assert_eq!(devices::Entity::find().count(&app.db).await.unwrap(), 0);
    // A GraphQL error (a filter value Nautobot does not know) stops the job with its message.
    configure(&app, &url, TOKEN).await;
    let bad = add_source(&app, &[("name", "bad"), ("locations", "NoSuchLoc")]).await;
    let job = sync(&app, bad, true).await;
    assert_eq!(job.status, JobStatus::Failed);
    assert!(
        job.message.as_deref().unwrap_or("").contains("NoSuchLoc"),
        "{:?}",
        job.message
    );
    // Free GraphQL arguments: Nautobot applies them; text that would leave `devices(...)` is
    // refused on the form.
    let free = add_source(
        &app,
        &[
            ("name", "free"),
            ("statuses", ""),
            ("graphql_filter", "has_primary_ip: false"),
        ],
    )
    .await;
    let job = sync(&app, free, false).await;
    assert_eq!(job.status, JobStatus::Success, "{:?}", job.message);
    let planned = items(&app, job.id).await;
    assert_eq!(of(&planned, SyncAction::Skip), vec!["r4"]);
    assert_eq!(planned.len(), 1);
    let r = app
        .submit(
            "/nautobot/new",
            "/nautobot",
            &[
                ("name", "escape"),
                ("graphql_filter", "limit: 1) { id } x: devices("),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Write arguments of devices(...) only")
    );
    assert_eq!(devices::Entity::find().count(&app.db).await.unwrap(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_ten_thousand_device_source_is_read_in_pages() {
    let dir = new_data_dir();
    let nb = nautobot_sim(&dir, &inventory(), &["--generate", "10000"]);
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    configure(&app, &nb.url(), TOKEN).await;
    let source = add_source(&app, &[("name", "all"), ("statuses", "")]).await;
    nb.control(reqwest::Method::DELETE, "requests", None).await;
    let t = Instant::now();
    let job = sync(&app, source, false).await;
    let preview = t.elapsed();
    assert_eq!(job.status, JobStatus::Success, "{:?}", job.message);
    let graphql = nb
        .requests()
        .await
        .into_iter()
        .filter(|(m, p, _)| m == "POST" && p == "/api/graphql/")
        .count();
    assert_eq!(graphql, 11, "10,013 devices in pages of 1,000");
    assert_eq!(job.progress_done, 10_013);
    let t = Instant::now();
    let job = sync(&app, source, true).await;
    let apply = t.elapsed();
    assert_eq!(job.status, JobStatus::Success, "{:?}", job.message);
    let n = devices::Entity::find().count(&app.db).await.unwrap();
    assert!(n > 10_000, "{n} devices");
    eprintln!("10,000-device source: preview {preview:?}, apply {apply:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn onboarding_creates_the_device_and_rolls_back_a_failure() {
    let dir = new_data_dir();
    let nb = nautobot_sim(&dir, &inventory(), &[]);
    let app = spawn_app().await;
    app.login_admin().await;
    configure(&app, &nb.url(), TOKEN).await;
    let counts = || nb.control(reqwest::Method::GET, "counts", None);
    let before = counts().await;

    let id = app.add_device("new1", "192.0.2.50", "cisco_ios").await;
    let (status, html) = app.get_html(&format!("/devices/{id}/nautobot")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<option value=\"DC1\">") && html.contains("<option value=\"CSR1000v\">")
    );
    let fields = onboard_fields("DC1", "router");
    let r = app
        .post_form(&format!("/devices/{id}/nautobot"), &fields)
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap_or_default()
    );
    let new1 = device(&app, "new1").await.unwrap();
    let nb_id = new1.external_id.clone().expect("linked");
    let made = nb
        .rest(
            reqwest::Method::GET,
            &format!("/api/dcim/devices/{nb_id}/?depth=1"),
            None,
        )
        .await;
    assert_eq!(made["name"], "new1");
    assert_eq!(
        made["platform"]["name"], "IOS",
        "found by its network driver"
    );
    assert_eq!(made["primary_ip4"]["host"], "192.0.2.50");
    let after = counts().await;
    for (k, more) in [
        ("devices", 1),
        ("interfaces", 1),
        ("ip_addresses", 1),
        ("ip_address_to_interface", 1),
    ] {
        assert_eq!(
            after[k].as_i64().unwrap(),
            before[k].as_i64().unwrap() + more,
            "{k}"
        );
    }
    assert_eq!(app.audit_count("nautobot.onboard").await, 1);
    // Already in Nautobot: refused.
    let r = app
        .post_form(&format!("/devices/{id}/nautobot"), &fields)
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // A step in the middle fails: its message, and what was created before it is deleted.
    let id2 = app.add_device("new2", "192.0.2.51", "cisco_ios").await;
    nb.control(
        reqwest::Method::POST,
        "fail",
        Some(
            json!({"method": "POST", "path": "/api/ipam/ip-address-to-interface/", "status": 400,
                    "body": {"interface": ["Simulated failure."]}, "times": 1}),
        ),
    )
    .await;
    onboarding_refused(
        &app,
        id2,
        &fields,
        &[
            "failed while trying to assign the IP address to the interface",
            "Simulated failure.",
            "Rolled back: deleted the IP address and the device",
        ],
    )
    .await;
    assert_eq!(counts().await, after, "nothing of new2 is left in Nautobot");
    assert!(device(&app, "new2").await.unwrap().external_id.is_none());
    // A device type Nautobot does not have: nothing is created at all.
    let mut wrong = fields;
    wrong[3] = ("device_type", "NoSuchModel");
    let r = app
        .post_form(&format!("/devices/{id2}/nautobot"), &wrong)
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("device type &#34;NoSuchModel&#34; does not exist in Nautobot")
            || html.contains("device type &quot;NoSuchModel&quot; does not exist in Nautobot"),
        "{html}"
    );
    assert_eq!(counts().await, after);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn backups_write_their_time_back_in_one_batch() {
    let dir = new_data_dir();
    let sim = start(
        (1..=3)
            .map(|n| DeviceSpec::new(Platform::CiscoIos, format!("wb-r{n}"), USER, PASSWORD))
            .collect(),
    )
    .await;
    let mut data = inventory();
    data["devices"] = json!(
        sim.devices()
            .iter()
            .map(|d| json!({"name": d.hostname, "location": "DC1", "role": "router", "status": "Active",
                "platform": "IOS", "tenant": null, "tags": ["lab"], "device_type": "CSR1000v", "serial": "",
                "primary_ip4": "127.0.0.1/8", "primary_ip6": null, "custom_fields": {"ssh_port": d.port}}))
            .collect::<Vec<_>>()
    );
    let nb = nautobot_sim(&dir, &data, &[]);
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    lab_tag(&app).await;
    configure(&app, &nb.url(), TOKEN).await;
    let source = add_source(
        &app,
        &[
            ("name", "lab"),
            ("port_field", "ssh_port"),
            ("write_back", "on"),
            ("write_back_field", "last_backup"),
        ],
    )
    .await;
    assert_eq!(sync(&app, source, true).await.status, JobStatus::Success);
    nb.control(reqwest::Method::DELETE, "requests", None).await;
    let r = app.post_form("/backup-all", &[]).await;
    let job = crate::jobs::job_id(&r);
    assert_eq!(finished(&app, job).await.status, JobStatus::Success);
    // The write-back is the job's follow-up task: wait for its log line.
    let mut said = None;
    for _ in 0..100 {
        said = job_log_entries::Entity::find()
            .filter(job_log_entries::Column::JobLogId.eq(job))
            .filter(job_log_entries::Column::Category.eq("nautobot"))
            .one(&app.db)
            .await
            .unwrap();
        if said.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let said = said.expect("a write-back log line");
    assert_eq!(
        said.message,
        "Nautobot write-back (source lab): last_backup set on 3 devices"
    );
    let patches: Vec<_> = nb
        .requests()
        .await
        .into_iter()
        .filter(|(m, _, _)| m == "PATCH")
        .collect();
    assert_eq!(
        patches,
        vec![(
            "PATCH".to_string(),
            "/api/dcim/devices/".to_string(),
            Some(3)
        )],
        "one batch"
    );
    let first = nb.device_id("wb-r1").await;
    let d = nb
        .rest(
            reqwest::Method::GET,
            &format!("/api/dcim/devices/{first}/"),
            None,
        )
        .await;
    let at = d["custom_fields"]["last_backup"].as_str().expect("set");
    assert!(at.ends_with('Z') && at.starts_with("20"), "{at}");

    // Nautobot refusing the write is a warning; the backups still succeed.
    nb.control(
        reqwest::Method::POST,
        "fail",
        Some(json!({"method": "PATCH", "path": "/api/dcim/devices/", "status": 500, "body": {"detail": "boom"}, "times": 1})),
    )
    .await;
    let r = app.post_form("/backup-all", &[]).await;
    let job = crate::jobs::job_id(&r);
    assert_eq!(finished(&app, job).await.status, JobStatus::Success);
    let mut warned = false;
    for _ in 0..100 {
        warned = job_log_entries::Entity::find()
            .filter(job_log_entries::Column::JobLogId.eq(job))
            .filter(job_log_entries::Column::Message.contains("write-back (source lab) failed"))
            .count(&app.db)
            .await
            .unwrap()
            > 0;
        if warned {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(warned, "the failure is a warning in the job's log");
    drop(sim);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Against a real Nautobot (CI starts one with scripts/nautobot-real.sh and sets
/// NETRAVEN_TEST_NAUTOBOT_URL and NETRAVEN_TEST_NAUTOBOT_TOKEN); its seed is
/// tests/fixtures/nautobot_seed.py.
#[tokio::test]
#[ignore = "needs a real Nautobot: scripts/nautobot-real.sh start"]
async fn nautobot_real() {
    let url = std::env::var("NETRAVEN_TEST_NAUTOBOT_URL").expect("NETRAVEN_TEST_NAUTOBOT_URL");
    let token =
        std::env::var("NETRAVEN_TEST_NAUTOBOT_TOKEN").expect("NETRAVEN_TEST_NAUTOBOT_TOKEN");
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    let words = test_words(&app, &settings_form(&url, &token, &[])).await;
    assert!(
        words.starts_with("Connected to Nautobot 3.") && words.contains("read and write"),
        "{words}"
    );
    configure(&app, &url, &token).await;
    let source = add_source(
        &app,
        &[
            ("name", "lab"),
            ("locations", "NR-Lab\nNR-Lab-Row1"),
            ("port_field", "nr_ssh_port"),
            ("role_tag_prefix", "role:"),
        ],
    )
    .await;
    let job = sync(&app, source, false).await;
    assert_eq!(job.status, JobStatus::Success, "{:?}", job.message);
    let planned = items(&app, job.id).await;
    assert_eq!(
        of(&planned, SyncAction::Add),
        vec!["nr-r1", "nr-r2", "nr-r6"]
    );
    assert_eq!(reason(&planned, "nr-r3"), "no primary IP address");
    assert!(reason(&planned, "nr-r4").contains("no network driver"));
    assert_eq!(reason(&planned, "nr-r5"), "no platform in Nautobot");
    let job = sync(&app, source, true).await;
    assert_eq!(job.status, JobStatus::Success, "{:?}", job.message);
    let r1 = device(&app, "nr-r1").await.expect("nr-r1");
    assert_eq!(
        (r1.ip_address.as_str(), r1.device_type.as_str()),
        ("127.0.0.11", "cisco_ios")
    );
    assert!(
        device_tags(&app, r1.id)
            .await
            .contains(&"nr-core".to_string())
    );
    let r2 = device(&app, "nr-r2").await.expect("nr-r2");
    assert_eq!(
        (r2.ip_address.as_str(), r2.port, r2.device_type.as_str()),
        ("192.0.2.12", 2222, "arista_eos")
    );
    assert!(
        device_tags(&app, r2.id)
            .await
            .contains(&"role:nr-switch".to_string())
    );
    assert_eq!(
        device(&app, "nr-r6").await.expect("nr-r6").ip_address,
        "2001:db8::16"
    );
    let again = sync(&app, source, true).await;
    assert!(
        again
            .message
            .as_deref()
            .unwrap_or("")
            .contains("0 added, 0 updated, 0 disabled"),
        "{:?}",
        again.message
    );

    // Add to Nautobot, for real: created with its primary IP; then an address outside every
    // prefix fails at the IP step and the device created before it is deleted again.
    let id = app
        .add_device("nr-onboard", "192.0.2.60", "cisco_ios")
        .await;
    let fields = onboard_fields("NR-Lab", "nr-router");
    let r = app
        .post_form(&format!("/devices/{id}/nautobot"), &fields)
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap_or_default()
    );
    let nb_id = device(&app, "nr-onboard")
        .await
        .unwrap()
        .external_id
        .expect("linked");
    let http = reqwest::Client::new();
    let get = |path: String| {
        http.get(format!("{url}{path}"))
            .header("Authorization", format!("Token {token}"))
            .send()
    };
    let made: Value = get(format!("/api/dcim/devices/{nb_id}/?depth=1"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(made["primary_ip4"]["host"], "192.0.2.60", "{made}");
    assert_eq!(made["platform"]["network_driver"], "cisco_ios");
    let bad = app
        .add_device("nr-onboard-2", "203.0.113.5", "cisco_ios")
        .await;
    onboarding_refused(
        &app,
        bad,
        &fields,
        &[
            "failed while trying to create the IP address 203.0.113.5/32",
            "No suitable parent Prefix",
            "Rolled back: deleted the device",
        ],
    )
    .await;
    let left: Value = get("/api/dcim/devices/?name=nr-onboard-2".into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(left["count"], 0, "nothing left in Nautobot");
    let gone = http
        .delete(format!("{url}/api/dcim/devices/{nb_id}/"))
        .header("Authorization", format!("Token {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_schedule_applies_a_source_and_only_admins_schedule_syncs() {
    let dir = new_data_dir();
    let nb = nautobot_sim(&dir, &inventory(), &[]);
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    configure(&app, &nb.url(), TOKEN).await;
    let source = add_source(&app, &[("name", "dc"), ("statuses", "Active")]).await;
    let source_id = source.to_string();
    let fields = [
        ("name", "nightly nautobot"),
        ("job_type", "nautobot_sync"),
        ("target_type", "all"),
        ("source_id", source_id.as_str()),
        ("schedule_type", "daily"),
        ("time", "03:00"),
        ("timezone", "UTC"),
        ("enabled", "on"),
        ("debug", "off"),
    ];
    let r = app
        .submit("/schedules/new", "/schedules", &[("source_id", "")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.submit("/schedules/new", "/schedules", &fields).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap_or_default()
    );
    let schedule = location(&r);
    let (_, html) = app.get_html("/schedules").await;
    assert!(
        html.contains("Nautobot source dc"),
        "the list names the source"
    );
    // Run now: an apply of the source, as the schedule's tick would start it.
    let r = app.post_form(&format!("{schedule}/run"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let job: i32 = location(&r)
        .trim_start_matches("/jobs/")
        .parse()
        .expect("job id");
    let job = finished(&app, job).await;
    assert_eq!(job.status, JobStatus::Success, "{:?}", job.message);
    assert!(
        job.message
            .as_deref()
            .unwrap_or("")
            .starts_with("applied: 5 added"),
        "{:?}",
        job.message
    );
    assert!(device(&app, "r1").await.is_some());

    // An engineer schedules backups, but neither a sync nor running the admin's.
    app.create_user("eng", "engineer", "Engineer-passw0rd-1")
        .await;
    let eng = app.new_browser();
    let r = eng.login("eng", "Engineer-passw0rd-1").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "engineer signed in");
    let r = eng.post_form("/schedules", &fields).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = eng.post_form(&format!("{schedule}/run"), &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = eng.post_form(&format!("{schedule}/delete"), &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let _ = std::fs::remove_dir_all(&dir);
}
