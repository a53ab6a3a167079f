//! End-to-end tests over real HTTP against an in-process simulator.

use std::time::Duration;

use checkmk_sim::{Options, Sim};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

struct T {
    sim: Sim,
    client: Client,
}

struct Answer {
    status: StatusCode,
    etag: Option<String>,
    location: Option<String>,
    content_type: String,
    body: Value,
}

impl T {
    async fn new(options: Options) -> T {
        let sim = Sim::start(options).await.expect("start");
        // In a workspace build reqwest has NetRaven's rustls without a built-in provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        T { sim, client }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        if_match: Option<&str>,
        auth: Option<&str>,
    ) -> Answer {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.sim.api_base()))
            .header("Accept", "application/json");
        if let Some(auth) = auth {
            req = req.header("Authorization", auth);
        }
        if let Some(tag) = if_match {
            req = req.header("If-Match", tag);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("send");
        let header = |n: &str| {
            resp.headers()
                .get(n)
                .map(|v| v.to_str().unwrap().to_string())
        };
        let etag = header("etag");
        let location = header("location");
        let content_type = header("content-type").unwrap_or_default();
        let status = resp.status();
        let text = resp.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("json body")
        };
        Answer {
            status,
            etag,
            location,
            content_type,
            body,
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None, None, Some(AUTH)).await
    }

    async fn post(&self, path: &str, body: Value, if_match: Option<&str>) -> Answer {
        self.call(Method::POST, path, Some(body), if_match, Some(AUTH))
            .await
    }

    async fn put(&self, path: &str, body: Value, if_match: Option<&str>) -> Answer {
        self.call(Method::PUT, path, Some(body), if_match, Some(AUTH))
            .await
    }

    async fn activate_all(&self) {
        let pending = self
            .get("/domain-types/activation_run/collections/pending_changes")
            .await;
        let etag = pending.etag.expect("pending etag");
        let run = self
            .post(
                "/domain-types/activation_run/actions/activate-changes/invoke",
                json!({"redirect": false, "sites": ["cmk"], "force_foreign_changes": false}),
                Some(&etag),
            )
            .await;
        assert_eq!(run.status, 200, "{:?}", run.body);
        let id = run.body["id"].as_str().unwrap().to_string();
        for _ in 0..100 {
            let wait = self
                .get(&format!(
                    "/objects/activation_run/{id}/actions/wait-for-completion/invoke"
                ))
                .await;
            if wait.status == 204 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("activation did not finish");
    }
}

const AUTH: &str = "Bearer automation test-secret";

fn assert_problem(a: &Answer, status: u16, title: &str) {
    assert_eq!(a.status.as_u16(), status, "{:?}", a.body);
    assert_eq!(a.content_type, "application/problem+json");
    assert_eq!(a.body["status"], status);
    assert_eq!(a.body["title"], title, "{:?}", a.body);
    assert!(a.body["detail"].is_string());
}

#[tokio::test]
async fn auth_errors_and_version() {
    let t = T::new(Options::default()).await;
    let missing = t.call(Method::GET, "/version", None, None, None).await;
    assert_problem(&missing, 401, "Unauthorized");
    let wrong = t
        .call(
            Method::GET,
            "/version",
            None,
            None,
            Some("Bearer automation nope"),
        )
        .await;
    assert_problem(&wrong, 401, "Unauthorized");

    let version = t.get("/version").await;
    assert_eq!(version.status, 200);
    assert_eq!(version.content_type, "application/json");
    assert_eq!(version.body["site"], "cmk");
    assert_eq!(version.body["edition"], "cre");
    assert_eq!(version.body["versions"]["checkmk"], "2.3.0p20.cre");
    assert_eq!(version.body["rest_api"]["revision"], "0");

    t.sim.set_secret("rotated");
    let old = t.get("/version").await;
    assert_problem(&old, 401, "Unauthorized");
    let new = t
        .call(
            Method::GET,
            "/version",
            None,
            None,
            Some("Bearer automation rotated"),
        )
        .await;
    assert_eq!(new.status, 200);

    let unknown = t.get("/no/such/route").await;
    assert_problem(&unknown, 404, "Not Found");
    assert_eq!(t.sim.requests()[0], ("GET".into(), "/version".into()));
}

#[tokio::test]
async fn folders_and_hosts_with_etags() {
    let t = T::new(Options::default()).await;
    t.sim.add_folder("/network");

    let bad_parent = t
        .post(
            "/domain-types/folder_config/collections/all",
            json!({"name": "x", "title": "x", "parent": "/nope"}),
            None,
        )
        .await;
    assert_problem(&bad_parent, 400, "Bad Request");
    assert!(bad_parent.body["fields"]["parent"].is_array());

    let folder = t
        .post(
            "/domain-types/folder_config/collections/all",
            json!({"name": "dc1", "title": "dc1", "parent": "/network"}),
            None,
        )
        .await;
    assert_eq!(folder.status, 200, "{:?}", folder.body);
    assert_eq!(folder.body["id"], "~network~dc1");
    assert_eq!(folder.body["extensions"]["path"], "/network/dc1");
    assert!(folder.etag.is_some());
    let shown = t.get("/objects/folder_config/~network~dc1").await;
    assert_eq!(shown.status, 200);
    assert_problem(
        &t.get("/objects/folder_config/~nope").await,
        404,
        "Not Found",
    );
    let listed = t
        .get("/domain-types/folder_config/collections/all?parent=~&recursive=true")
        .await;
    let paths: Vec<&str> = listed.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["extensions"]["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/", "/network", "/network/dc1"]);

    let attrs = json!({"ipaddress": "192.0.2.1", "alias": "Router 1", "labels": {"role": "core"}, "tag_agent": "no-agent"});
    let bad_folder = t
        .post(
            "/domain-types/host_config/collections/all?bake_agent=false",
            json!({"host_name": "r1", "folder": "/network/dc9", "attributes": attrs}),
            None,
        )
        .await;
    assert_problem(&bad_folder, 400, "Bad Request");
    assert!(bad_folder.body["fields"]["folder"].is_array());

    let created = t
        .post(
            "/domain-types/host_config/collections/all?bake_agent=false",
            json!({"host_name": "r1", "folder": "/network/dc1", "attributes": attrs}),
            None,
        )
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    assert_eq!(created.body["domainType"], "host_config");
    assert_eq!(created.body["id"], "r1");
    assert_eq!(created.body["title"], "Router 1");
    assert_eq!(created.body["extensions"]["folder"], "/network/dc1");
    assert_eq!(
        created.body["extensions"]["attributes"]["ipaddress"],
        "192.0.2.1"
    );
    assert_eq!(
        created.body["extensions"]["attributes"]["meta_data"]["created_by"],
        "automation"
    );
    assert_eq!(created.body["extensions"]["is_cluster"], false);
    let etag = created.etag.clone().expect("etag");
    assert!(etag.starts_with('"') && etag.ends_with('"'));

    let dup = t
        .post(
            "/domain-types/host_config/collections/all",
            json!({"host_name": "r1", "folder": "/network/dc1", "attributes": {}}),
            None,
        )
        .await;
    assert_problem(&dup, 400, "Bad Request");
    assert!(dup.body["fields"]["host_name"].is_array());

    let shown = t.get("/objects/host_config/r1").await;
    assert_eq!(shown.status, 200);
    assert_eq!(shown.etag, created.etag);
    assert_problem(&t.get("/objects/host_config/nope").await, 404, "Not Found");

    let effective = t
        .get("/domain-types/host_config/collections/all?effective_attributes=true")
        .await;
    assert_eq!(
        effective.body["value"][0]["extensions"]["effective_attributes"]["ipaddress"],
        "192.0.2.1"
    );

    // PUT: no If-Match → 428, stale → 412, good → 200 with a new ETag.
    let update = json!({"update_attributes": {"alias": "Router one"}});
    let none = t.put("/objects/host_config/r1", update.clone(), None).await;
    assert_problem(&none, 428, "Precondition required");
    let stale = t
        .put("/objects/host_config/r1", update.clone(), Some("\"0000\""))
        .await;
    assert_problem(&stale, 412, "Precondition failed");
    let good = t
        .put("/objects/host_config/r1", update.clone(), Some(&etag))
        .await;
    assert_eq!(good.status, 200, "{:?}", good.body);
    assert_eq!(good.body["extensions"]["attributes"]["alias"], "Router one");
    let new_etag = good.etag.clone().unwrap();
    assert_ne!(new_etag, etag);
    let reused = t.put("/objects/host_config/r1", update, Some(&etag)).await;
    assert_problem(&reused, 412, "Precondition failed");

    let replaced = t
        .put(
            "/objects/host_config/r1",
            json!({"attributes": {"ipaddress": "192.0.2.9"}}),
            Some(&new_etag),
        )
        .await;
    assert_eq!(replaced.status, 200, "{:?}", replaced.body);
    let (folder, attributes) = t.sim.host("r1").unwrap();
    assert_eq!(folder, "/network/dc1");
    assert_eq!(attributes["ipaddress"], "192.0.2.9");
    assert!(attributes.get("alias").is_none());
    assert!(attributes.get("meta_data").is_some());

    let removed = t
        .put(
            "/objects/host_config/r1",
            json!({"remove_attributes": ["nope"]}),
            Some(replaced.etag.as_deref().unwrap()),
        )
        .await;
    assert_problem(&removed, 400, "Some attributes were not removed");

    let deleted = t
        .call(
            Method::DELETE,
            "/objects/host_config/r1",
            None,
            None,
            Some(AUTH),
        )
        .await;
    assert_eq!(deleted.status, 204);
    assert!(t.sim.host("r1").is_none());
    assert!(t.sim.pending_changes() >= 4);
}

#[tokio::test]
async fn move_is_refused_while_pending_then_activation_clears() {
    let t = T::new(Options::default()).await;
    t.sim.add_folder("/network/dc1");
    t.sim.add_folder("/network/dc2");
    t.sim
        .add_host("r1", "/network/dc1", json!({"ipaddress": "192.0.2.1"}));
    assert_eq!(t.sim.pending_changes(), 0);

    // A change is pending (seeding adds none, creating a host does).
    let created = t
        .post(
            "/domain-types/host_config/collections/all",
            json!({"host_name": "r2", "folder": "/network/dc1"}),
            None,
        )
        .await;
    assert_eq!(created.status, 200);
    assert_eq!(t.sim.pending_changes(), 1);

    let etag = t.get("/objects/host_config/r1").await.etag.unwrap();
    let target = json!({"target_folder": "/network/dc2"});
    let path = "/objects/host_config/r1/actions/move/invoke";
    assert_problem(
        &t.post(path, target.clone(), None).await,
        428,
        "Precondition required",
    );
    assert_problem(
        &t.post(path, target.clone(), Some("\"x\"")).await,
        412,
        "Precondition failed",
    );
    assert_problem(
        &t.post(path, target.clone(), Some(&etag)).await,
        428,
        "Pending changes",
    );

    // Activation: wrong ETag → 412; the run; wait-for-completion 302 then 204.
    let pending = t
        .get("/domain-types/activation_run/collections/pending_changes")
        .await;
    assert_eq!(pending.status, 200);
    assert_eq!(pending.body["value"].as_array().unwrap().len(), 1);
    assert_eq!(pending.body["value"][0]["action_name"], "create-host");
    let activate = "/domain-types/activation_run/actions/activate-changes/invoke";
    let body = json!({"redirect": false, "sites": ["cmk"], "force_foreign_changes": false});
    assert_problem(
        &t.post(activate, body.clone(), Some("\"stale\"")).await,
        412,
        "Precondition failed",
    );
    let run = t
        .post(activate, body.clone(), pending.etag.as_deref())
        .await;
    assert_eq!(run.status, 200, "{:?}", run.body);
    assert_eq!(run.body["domainType"], "activation_run");
    assert_eq!(run.body["extensions"]["is_running"], true);
    assert_eq!(run.body["extensions"]["sites"], json!(["cmk"]));
    assert_eq!(
        run.body["extensions"]["changes"].as_array().unwrap().len(),
        1
    );
    let id = run.body["id"].as_str().unwrap().to_string();
    let wait_path = format!("/objects/activation_run/{id}/actions/wait-for-completion/invoke");
    let wait = t.get(&wait_path).await;
    assert_eq!(wait.status, 302);
    assert_eq!(
        wait.location.as_deref(),
        Some(format!("/cmk/check_mk/api/1.0{wait_path}").as_str())
    );
    // A second activation while one runs → 423.
    assert_eq!(t.post(activate, body.clone(), Some("*")).await.status, 423);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(t.get(&wait_path).await.status, 204);
    let shown = t.get(&format!("/objects/activation_run/{id}")).await;
    assert_eq!(shown.body["extensions"]["is_running"], false);
    assert_eq!(t.sim.pending_changes(), 0);
    assert_problem(
        &t.get("/objects/activation_run/nope").await,
        404,
        "The requested activation was not found",
    );
    assert_problem(
        &t.post(activate, body, Some("*")).await,
        422,
        "Unprocessable Entity",
    );

    // Now the move goes through.
    let moved = t.post(path, target, Some(&etag)).await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);
    assert_eq!(moved.body["extensions"]["folder"], "/network/dc2");
    assert_eq!(t.sim.host("r1").unwrap().0, "/network/dc2");
    assert_eq!(t.sim.pending_changes(), 1);
    t.activate_all().await;
    assert_eq!(t.sim.pending_changes(), 0);
}

#[tokio::test]
async fn bulk_actions() {
    let t = T::new(Options::default()).await;
    t.sim.add_folder("/network/dc1");
    let created = t
        .post(
            "/domain-types/host_config/actions/bulk-create/invoke?bake_agent=false",
            json!({"entries": [
                {"host_name": "a1", "folder": "/network/dc1", "attributes": {"ipaddress": "192.0.2.11"}},
                {"host_name": "a2", "folder": "~network~dc1", "attributes": {"ipaddress": "192.0.2.12"}},
            ]}),
            None,
        )
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    assert_eq!(created.body["value"].as_array().unwrap().len(), 2);
    assert_eq!(t.sim.pending_changes(), 2);

    let invalid = t
        .post(
            "/domain-types/host_config/actions/bulk-create/invoke",
            json!({"entries": [
                {"host_name": "a3", "folder": "/network/dc1"},
                {"host_name": "a1", "folder": "/network/dc1"},
            ]}),
            None,
        )
        .await;
    assert_problem(&invalid, 400, "Bad Request");
    assert!(invalid.body["fields"]["entries"]["1"]["host_name"].is_array());
    assert!(t.sim.host("a3").is_none());

    let updated = t
        .put(
            "/domain-types/host_config/actions/bulk-update/invoke",
            json!({"entries": [
                {"host_name": "a1", "update_attributes": {"alias": "A one"}},
                {"host_name": "a2", "remove_attributes": ["alias"]},
            ]}),
            None,
        )
        .await;
    assert_problem(&updated, 400, "Some actions failed");
    assert_eq!(
        updated.body["ext"]["succeeded_hosts"]["value"][0]["id"],
        "a1"
    );
    assert!(updated.body["ext"]["failed_hosts"]["a2"].is_string());
    assert_eq!(t.sim.host("a1").unwrap().1["alias"], "A one");

    let deleted = t
        .post(
            "/domain-types/host_config/actions/bulk-delete/invoke",
            json!({"entries": ["a1", "a2"]}),
            None,
        )
        .await;
    assert_eq!(deleted.status, 204);
    let all = t.get("/domain-types/host_config/collections/all").await;
    assert_eq!(all.body["value"], json!([]));
}

#[tokio::test]
async fn fail_hosts_latency_and_knobs() {
    let t = T::new(Options {
        fail_hosts: vec!["bad".into()],
        refuse_move_while_pending: false,
        ..Options::default()
    })
    .await;
    t.sim.add_host("bad", "/", json!({}));
    t.sim.add_host("good", "/", json!({}));
    assert_problem(
        &t.get("/objects/host_config/bad").await,
        500,
        "Internal Server Error",
    );
    assert_eq!(t.get("/objects/host_config/good").await.status, 200);
    t.sim.set_fail_hosts(vec![]);
    assert_eq!(t.get("/objects/host_config/bad").await.status, 200);

    // Moves are allowed while pending when the knob is off.
    t.sim.add_folder("/other");
    t.call(
        Method::DELETE,
        "/objects/host_config/bad",
        None,
        None,
        Some(AUTH),
    )
    .await;
    assert_eq!(t.sim.pending_changes(), 1);
    let etag = t.get("/objects/host_config/good").await.etag.unwrap();
    let moved = t
        .post(
            "/objects/host_config/good/actions/move/invoke",
            json!({"target_folder": "/other"}),
            Some(&etag),
        )
        .await;
    assert_eq!(moved.status, 200, "{:?}", moved.body);

    t.sim.set_latency(Duration::from_millis(150));
    let started = std::time::Instant::now();
    assert_eq!(t.get("/version").await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn dropping_the_sim_stops_the_server() {
    let t = T::new(Options::default()).await;
    let url = format!("{}/version", t.sim.api_base());
    drop(t.sim);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(t.client.get(url).send().await.is_err());
}
