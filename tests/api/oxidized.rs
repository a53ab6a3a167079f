//! The Oxidized-compatible routes, driven by a plain HTTP client the way LibreNMS calls them
//! (HTTP Basic with the token as password), checked against oxidized-web's documented shapes.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backups::{ios_config, store_version};
use crate::helpers::{TestApp, spawn_app, spawn_app_with_workers};

/// A client that knows only a URL and credentials, as the Oxidized tools do.
struct Tool {
    base: String,
    client: reqwest::Client,
    token: String,
}

impl Tool {
    async fn get(&self, path: &str) -> (StatusCode, String, String) {
        self.send(Method::GET, path, None).await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, String, String) {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .basic_auth("librenms", Some(&self.token));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let r = req.send().await.expect("request");
        let status = r.status();
        let kind = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        (status, kind, r.text().await.expect("body"))
    }

    async fn json(&self, path: &str) -> Value {
        serde_json::from_str(&self.raw_json(path).await).expect("JSON")
    }

    async fn raw_json(&self, path: &str) -> String {
        let (status, kind, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert!(kind.starts_with("application/json"), "{path}: {kind}");
        body
    }
}

/// The keys of the first JSON object in `raw` appear in this order (JSON values parsed here
/// lose it).
fn assert_key_order(raw: &str, keys: &[&str]) {
    let positions: Vec<usize> = keys
        .iter()
        .map(|k| {
            raw.find(&format!("\"{k}\":"))
                .unwrap_or_else(|| panic!("no key {k} in {raw}"))
        })
        .collect();
    assert!(positions.is_sorted(), "keys out of order {keys:?} in {raw}");
}

async fn tool(app: &TestApp, flags: &[&str]) -> Tool {
    let token = app.make_token("librenms", flags, &[]).await;
    Tool {
        base: app.url(""),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        token,
    }
}

#[tokio::test]
async fn nodes_versions_views_and_diffs_in_oxidized_web_shapes() {
    let app = spawn_app().await;
    app.login_admin().await;
    let id = app.add_device("sw5", "10.42.12.42", "cisco_ios").await;
    app.add_device("fw9", "10.42.12.9", "juniper_junos").await;
    store_version(&app, id, &ios_config("sw5", 2, "Comm-S3cret"), false).await;
    store_version(&app, id, &ios_config("sw5", 3, "Comm-S3cret"), false).await;
    let t = tool(&app, &["read"]).await;

    // /nodes.json and /nodes?format=json: every node, group "default", status/time "never"
    // before a run, the Oxidized model name.
    let nodes = t.json("/nodes.json").await;
    assert_eq!(nodes, t.json("/nodes?format=json").await);
    let fw = nodes
        .as_array()
        .expect("array")
        .iter()
        .find(|n| n["name"] == "fw9")
        .expect("fw9");
    assert_key_order(
        &t.raw_json("/nodes.json").await,
        &[
            "name",
            "full_name",
            "ip",
            "group",
            "model",
            "last",
            "vars",
            "mtime",
            "status",
            "time",
        ],
    );
    assert_eq!(fw["group"], "default");
    assert_eq!(fw["model"], "JunOS");
    assert_eq!(fw["last"], Value::Null);
    assert_eq!(fw["mtime"], "unknown");
    assert_eq!(
        (fw["status"].as_str(), fw["time"].as_str()),
        (Some("never"), Some("never"))
    );

    // /node/show/<name>?format=json (and by address, and with .json).
    let node = t.json("/node/show/sw5?format=json").await;
    assert_eq!(node["name"], "sw5");
    assert_eq!(node["full_name"], "sw5");
    assert_eq!(node["ip"], "10.42.12.42");
    assert_eq!(node["group"], Value::Null);
    assert_eq!(node["model"], "IOS");
    assert!(node.get("status").is_none());
    assert!(
        node["mtime"].as_str().unwrap_or("").ends_with(" UTC"),
        "{node}"
    );
    assert_eq!(
        t.json("/node/show/10.42.12.42?format=json").await["name"],
        "sw5"
    );
    assert_eq!(t.json("/node/show/sw5.json").await["name"], "sw5");
    // Unknown: a 404 with a body that is not JSON (LibreNMS then tries the short name).
    let (status, kind, body) = t.get("/node/show/nope?format=json").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(kind.starts_with("text/plain") && serde_json::from_str::<Value>(&body).is_err());

    // /node/version?node_full=…&format=json: newest first, oid as text, string dates.
    let versions = t.json("/node/version?node_full=sw5&format=json").await;
    let list = versions.as_array().expect("array");
    assert_eq!(list.len(), 2);
    let newest = &list[0];
    assert_key_order(
        &t.raw_json("/node/version?node_full=sw5&format=json").await,
        &["date", "time", "oid", "author", "message"],
    );
    assert!(newest["oid"].is_string());
    let date = newest["date"].as_str().expect("date");
    assert!(
        chrono::DateTime::parse_from_str(date, "%Y-%m-%d %H:%M:%S %z").is_ok(),
        "{date}"
    );
    assert_eq!(newest["author"]["name"], "NetRaven");
    assert_eq!(
        t.json("/node/version.json?node_full=default/sw5").await,
        versions
    );
    let (new_oid, old_oid) = (
        newest["oid"].as_str().expect("oid").to_string(),
        list[1]["oid"].as_str().expect("oid").to_string(),
    );

    // /node/version/view as LibreNMS asks for it: text, masked as the pages mask it.
    let (status, kind, text) = t
        .get(&format!(
            "/node/version/view?node=sw5&oid={new_oid}&date={}&num=2&format=text",
            date.replace(' ', "+").replace('+', "%2B")
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.starts_with("text/plain"), "{kind}");
    assert!(
        text.contains("interface Loopback3") && !text.contains("Comm-S3cret"),
        "{text}"
    );
    // As JSON: the array of its lines, each with its line end.
    let lines = t
        .json(&format!(
            "/node/version/view?node=sw5&group=&oid={new_oid}&format=json"
        ))
        .await;
    let joined: String = lines
        .as_array()
        .expect("lines")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(joined, text);
    assert_eq!(lines[0], "hostname sw5\n");
    let (status, _, body) = t
        .get("/node/version/view?node=sw5&oid=999999&format=text")
        .await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "version not found")
    );

    // /node/version/diffs: against oid2, or the version before; a unified diff.
    let (status, _, diff) = t
        .get(&format!(
            "/node/version/diffs?node=sw5&oid={new_oid}&oid2={old_oid}&format=text"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        diff.starts_with("diff --git a/sw5 b/sw5\n--- a/sw5\n+++ b/sw5\n@@ "),
        "{diff}"
    );
    assert!(diff.contains("\n+interface Loopback3\n"), "{diff}");
    let (_, _, parent) = t
        .get(&format!(
            "/node/version/diffs?node=sw5&oid={new_oid}&format=text"
        ))
        .await;
    assert_eq!(parent, diff);
    let (_, _, first) = t
        .get(&format!(
            "/node/version/diffs?node=sw5&oid={old_oid}&format=text"
        ))
        .await;
    assert_eq!(first, "No diff available");

    // /node/fetch/[group/]name: the latest configuration as text.
    let (status, _, latest) = t.get("/node/fetch/sw5").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(latest, text);
    assert_eq!(t.get("/node/fetch/some/group/sw5").await.2, latest);
    assert_eq!(t.get("/node/fetch/sw12").await.2, "unable to find 'sw12'");
    assert_eq!(t.get("/node/fetch/fw9").await.2, "node not found");

    // /reload: nothing to do, said in its shape.
    assert_eq!(
        t.json("/reload.json").await,
        json!(["reloaded list of nodes"])
    );
    assert_eq!(
        t.json("/reload?format=json").await,
        json!(["reloaded list of nodes"])
    );

    // A read-only token may not ask for a backup.
    let (status, _, _) = t.send(Method::PUT, "/node/next/sw5", Some(json!({}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Without credentials: 401 asking for Basic, in text.
    let r = reqwest::get(app.url("/nodes.json")).await.expect("GET");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap_or("")
            .starts_with("Basic")
    );
}

#[tokio::test]
async fn next_backs_a_node_up_now_as_librenms_asks() {
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    let sim = crate::engine::start(vec![devsim::DeviceSpec::new(
        devsim::Platform::CiscoIos,
        "ox-r1",
        crate::engine::USER,
        crate::engine::PASSWORD,
    )])
    .await;
    let tag = crate::jobs::lab_tag(&app).await;
    let ids = crate::jobs::add_sim_devices(&app, &sim, &tag).await;
    let t = tool(&app, &["read", "write"]).await;

    // LibreNMS: PUT /node/next/<host> with {"user","msg"}; a redirect to /nodes.
    let (status, _, _) = t
        .send(
            Method::PUT,
            "/node/next/ox-r1",
            Some(json!({"user": "librenms", "msg": "syslog: config changed"})),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // With .json: ["ok"].
    let (status, _, body) = t.get("/node/next/ox-r1.json").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "[\"ok\"]"));
    let (status, _, _) = t.get("/node/next/nope.json").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Both jobs run; the node then shows a successful last run and a version.
    let jobs = netraven::services::jobs::list(
        &app.db,
        &netraven::services::jobs::JobFilter {
            device_id: Some(ids[0]),
            ..Default::default()
        },
        netraven::services::query::Paging::window(0, 10),
    )
    .await
    .expect("jobs");
    assert_eq!(jobs.total, 2);
    for job in &jobs.items {
        crate::jobs::finished(&app, job.id).await;
    }
    let log = netraven::services::jobs::entries_after(&app.db, jobs.items[1].id, None, 0, 100)
        .await
        .expect("log");
    assert!(
        log.iter().any(|e| e.message.contains("by \"librenms\"")
            && e.message.contains("syslog: config changed")),
        "{log:?}"
    );
    let node = t.json("/node/show/ox-r1?format=json").await;
    assert_eq!(node["last"]["status"], "success", "{node}");
    assert!(node["last"]["time"].as_f64().is_some());
    assert!(node["last"]["end"].as_str().unwrap_or("").ends_with(" UTC"));
    let versions = t.json("/node/version?node_full=ox-r1&format=json").await;
    assert_eq!(versions.as_array().map(Vec::len), Some(1));
}
