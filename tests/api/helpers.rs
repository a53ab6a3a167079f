//! `spawn_app()`: the real application on 127.0.0.1:0 with its own data folder and database
//! (a fresh SQLite file, or a fresh PostgreSQL database when NETRAVEN_TEST_DATABASE_URL is set),
//! and a cookie-keeping client that drives it like a browser.

use std::path::PathBuf;

use netraven::config::Settings;
use netraven::startup::Application;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

pub const ADMIN_PASSWORD: &str = "Admin-passw0rd-for-tests";

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub db: DatabaseConnection,
    pub client: reqwest::Client,
    pub data_dir: PathBuf,
    pub settings: Settings,
    /// The app that made the data folder removes it; extra browsers on the same app do not.
    owns_data_dir: bool,
    /// Workers and scheduler, as `netraven serve` runs them (only `spawn_app_with_workers`).
    pub workers: Option<netraven::background::Runner>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if self.owns_data_dir {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}

/// Form `fields` with `changes`: a changed field keeps its place, a new one goes last.
pub fn with_changes<'a>(
    mut fields: Vec<(&'a str, &'a str)>,
    changes: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    for (k, v) in changes {
        match fields.iter_mut().find(|(name, _)| name == k) {
            Some(f) => f.1 = v,
            None => fields.push((k, v)),
        }
    }
    fields
}

/// The address of the `i`th device `insert_devices` makes (10.x.y.z, unique below 60,000).
pub fn nth_address(i: usize) -> String {
    format!("10.{}.{}.{}", i / 60000, (i / 250) % 240, i % 250 + 1)
}

/// `count` enabled cisco_ios devices `dev00000`, `dev00001`, ... written straight to the
/// database (a benchmark's or a large test's inventory; the forms are tested elsewhere).
pub async fn insert_devices(app: &TestApp, count: usize) {
    use netraven::entity::devices;
    use sea_orm::{ActiveValue::Set, EntityTrait};
    let now = chrono::Utc::now();
    let rows: Vec<devices::ActiveModel> = (0..count)
        .map(|i| devices::ActiveModel {
            hostname: Set(format!("dev{i:05}")),
            ip_sort: Set(netraven::services::devices::ip_sort_key(&nth_address(i))),
            ip_address: Set(nth_address(i)),
            port: Set(22),
            device_type: Set("cisco_ios".into()),
            enabled: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(500) {
        devices::Entity::insert_many(chunk.to_vec())
            .exec(&app.db)
            .await
            .expect("devices");
    }
}

/// A page's text with askama's escapes read back, for assertions on quoted words.
pub fn unescaped(html: &str) -> String {
    html.replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&gt;", ">")
        .replace("&lt;", "<")
        .replace("&amp;", "&")
}

pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// A database URL for a new test: a SQLite file in `data_dir`, or a new PostgreSQL database.
pub async fn test_database_url(data_dir: &std::path::Path) -> String {
    match std::env::var("NETRAVEN_TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty())
    {
        Some(base) => {
            let name = unique_name("nrtest");
            let admin = Database::connect(&base)
                .await
                .expect("connect to NETRAVEN_TEST_DATABASE_URL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create test database");
            admin.close().await.ok();
            let (prefix, _) = base
                .rsplit_once('/')
                .expect("database URL with a database name");
            format!("{prefix}/{name}")
        }
        None => format!(
            "sqlite://{}?mode=rwc",
            data_dir.join("netraven.db").display()
        ),
    }
}

pub fn test_settings(data_dir: PathBuf, database_url: String) -> Settings {
    let vars = [
        ("NETRAVEN_DATA_DIR", data_dir.display().to_string()),
        ("NETRAVEN_DATABASE_URL", database_url),
        ("NETRAVEN_BIND", "127.0.0.1:0".to_string()),
        ("NETRAVEN_ADMIN_PASSWORD", ADMIN_PASSWORD.to_string()),
        ("NETRAVEN_LOG", "warn".to_string()),
    ];
    Settings::from_sources(None, |k| {
        vars.iter()
            .find(|(name, _)| *name == k)
            .map(|(_, v)| v.clone())
    })
    .expect("test settings")
}

/// A data folder for a new app, made as NetRaven makes its own (0700).
pub fn new_data_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(unique_name("netraven-test"));
    netraven::data_dir::ensure_private_dir(&dir).expect("create test data dir");
    dir
}

pub async fn spawn_app() -> TestApp {
    let data_dir = new_data_dir();
    let url = test_database_url(&data_dir).await;
    spawn_with(test_settings(data_dir, url)).await
}

/// The app with its workers and scheduler running, as `netraven serve` starts it.
pub async fn spawn_app_with_workers() -> TestApp {
    let data_dir = new_data_dir();
    let url = test_database_url(&data_dir).await;
    spawn_inner(test_settings(data_dir, url), true).await
}

pub async fn spawn_with(settings: Settings) -> TestApp {
    spawn_inner(settings, false).await
}

pub async fn spawn_with_workers(settings: Settings) -> TestApp {
    spawn_inner(settings, true).await
}

async fn spawn_inner(settings: Settings, with_workers: bool) -> TestApp {
    netraven::telemetry::init(&settings.log);
    let app = Application::build(settings.clone())
        .await
        .expect("application starts");
    let workers = if with_workers {
        Some(app.start_workers().await.expect("workers start"))
    } else {
        None
    };
    let port = app.port();
    let db = app.db.clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        db,
        client: new_client(),
        data_dir: settings.data_dir.clone(),
        settings,
        owns_data_dir: true,
        workers,
    }
}

pub fn new_client() -> reqwest::Client {
    client_builder().build().expect("http client")
}

/// A browser-like client: cookies kept, redirects not followed, and a new connection for every
/// request: on a loaded machine a pooled connection could be one the server is closing after its
/// keep-alive, and the request failed with hyper's `IncompleteMessage` (loopback connections cost
/// next to nothing).
fn client_builder() -> reqwest::ClientBuilder {
    netraven::services::http::use_ring_for_tls();
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
}

/// The value of the first `csrf_token` hidden field in a page.
pub fn csrf_from(html: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_string())
}

pub fn location(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

impl TestApp {
    /// Start workers and scheduler now (after changing settings they read at start).
    pub async fn start_workers(&mut self) {
        // Their health is not this app's page's: tests of /healthz use spawn_app_with_workers.
        let health = netraven::background::Health::default();
        let runner = netraven::startup::start_workers(&self.db, &self.settings, health)
            .await
            .expect("workers start");
        self.workers = Some(runner);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_html(&self, path: &str) -> (StatusCode, String) {
        let resp = self.get(path).await;
        let status = resp.status();
        (status, resp.text().await.expect("body"))
    }

    /// The CSRF token of the current session (from a page that has a form).
    /// A GET with extra headers (htmx's, Accept), for status and body.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> (StatusCode, String) {
        let mut req = self.client.get(self.url(path));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let r = req.send().await.expect("GET");
        let status = r.status();
        (status, r.text().await.expect("body"))
    }

    pub async fn csrf(&self) -> String {
        for path in ["/profile", "/login"] {
            let (_, html) = self.get_html(path).await;
            if let Some(token) = csrf_from(&html) {
                return token;
            }
        }
        panic!("no CSRF token found");
    }

    /// POSTs a form with this session's CSRF token added.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let token = self.csrf().await;
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        self.client
            .post(self.url(path))
            .form(&all)
            .send()
            .await
            .expect("POST")
    }

    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        self.submit(
            "/login",
            "/login",
            &[("username", username), ("password", password)],
        )
        .await
    }

    pub async fn login_admin(&self) {
        let resp = self.login("admin", ADMIN_PASSWORD).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "admin login");
    }

    /// A second browser on the same app (own cookies).
    pub fn new_browser(&self) -> TestApp {
        TestApp {
            address: self.address.clone(),
            port: self.port,
            db: self.db.clone(),
            client: new_client(),
            data_dir: self.data_dir.clone(),
            settings: self.settings.clone(),
            owns_data_dir: false,
            workers: None,
        }
    }

    /// A second browser whose connections come from `source` (another loopback address), for
    /// what depends on the client's address.
    pub fn browser_from(&self, source: &str) -> TestApp {
        let mut browser = self.new_browser();
        browser.client = client_builder()
            .local_address(source.parse::<std::net::IpAddr>().ok())
            .build()
            .expect("http client");
        browser
    }

    /// The stored row of user `name`.
    pub async fn user_row(&self, name: &str) -> netraven::entity::users::Model {
        use netraven::entity::users;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        users::Entity::find()
            .filter(users::Column::Username.eq(name))
            .one(&self.db)
            .await
            .expect("query")
            .expect("user exists")
    }

    /// Audit entries of `event_name` whose details say `reason`.
    pub async fn audit_reasons(&self, event_name: &str) -> Vec<String> {
        use netraven::entity::audit_logs;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        audit_logs::Entity::find()
            .filter(audit_logs::Column::EventName.eq(event_name))
            .all(&self.db)
            .await
            .expect("audit")
            .into_iter()
            .filter_map(|e| e.details?.get("reason")?.as_str().map(str::to_string))
            .collect()
    }

    /// Creates a user through the UI as the signed-in user manager; returns the new id.
    pub async fn create_user(&self, username: &str, role: &str, password: &str) -> i32 {
        let resp = self
            .submit(
                "/users/new",
                "/users",
                &[
                    ("username", username),
                    ("role", role),
                    ("password", password),
                ],
            )
            .await;
        assert_eq!(
            resp.status(),
            StatusCode::SEE_OTHER,
            "create user {username}"
        );
        location(&resp)
            .trim_start_matches("/users/")
            .parse()
            .expect("user id in redirect")
    }

    pub async fn audit_count(&self, event_name: &str) -> u64 {
        use netraven::entity::audit_logs;
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        audit_logs::Entity::find()
            .filter(audit_logs::Column::EventName.eq(event_name))
            .count(&self.db)
            .await
            .expect("count audit")
    }

    /// A client for a server started some other way (a child process), on the same database.
    pub async fn attach(address: String, data_dir: PathBuf, database_url: String) -> TestApp {
        let settings = test_settings(data_dir.clone(), database_url.clone());
        let db = Database::connect(&database_url)
            .await
            .expect("connect to the test database");
        let port = address
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        TestApp {
            address,
            port,
            db,
            client: new_client(),
            data_dir,
            settings,
            owns_data_dir: false,
            workers: None,
        }
    }

    /// Adds an enabled device through the form; returns its id.
    pub async fn add_device(&self, hostname: &str, ip: &str, platform: &str) -> i32 {
        let r = self
            .submit(
                "/devices/new",
                "/devices",
                &[
                    ("hostname", hostname),
                    ("ip_address", ip),
                    ("device_type", platform),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "add device {hostname}");
        location(&r)
            .trim_start_matches("/devices/")
            .parse()
            .expect("device id")
    }

    /// Adds a tag through the form; returns its id.
    pub async fn add_tag(&self, name: &str, color: &str) -> i32 {
        let r = self
            .submit("/tags/new", "/tags", &[("name", name), ("color", color)])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "add tag {name}");
        location(&r)
            .trim_start_matches("/tags/")
            .parse()
            .expect("tag id")
    }
}

/// The fields a browser sends from the form whose `action` is given, as the page renders it:
/// hidden and text inputs, a ticked box's value (a toggle's hidden "off" comes before it),
/// each select's chosen option and each textarea's text, in page order. Disabled fields and
/// buttons are left out, as a browser leaves them out.
pub fn form_fields(html: &str, action: &str) -> Option<Vec<(String, String)>> {
    use regex::Regex;
    use std::sync::LazyLock;
    static FORM: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?s)<form\b([^>]*)>(.*?)</form>").expect("regex"));
    static FIELD: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?s)<input\b([^>]*)>|<select\b([^>]*)>(.*?)</select>|<textarea\b([^>]*)>(.*?)</textarea>")
            .expect("regex")
    });
    static OPTION: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?s)<option\b([^>]*)>([^<]*)").expect("regex"));
    let body = FORM.captures_iter(html).find_map(|c| {
        (attr(&c[1], "action").as_deref() == Some(action)).then(|| c[2].to_string())
    })?;
    let mut fields = Vec::new();
    for c in FIELD.captures_iter(&body) {
        if let Some(attrs) = c.get(1).map(|m| m.as_str()) {
            let (Some(name), false) = (attr(attrs, "name"), has_attr(attrs, "disabled")) else {
                continue;
            };
            let kind = attr(attrs, "type").unwrap_or_else(|| "text".into());
            match kind.as_str() {
                "submit" | "button" | "file" | "reset" => {}
                "checkbox" | "radio" if !has_attr(attrs, "checked") => {}
                "checkbox" | "radio" => {
                    fields.push((name, attr(attrs, "value").unwrap_or_else(|| "on".into())))
                }
                _ => fields.push((name, attr(attrs, "value").unwrap_or_default())),
            }
        } else if let (Some(attrs), Some(options)) = (c.get(2), c.get(3)) {
            let (Some(name), false) = (
                attr(attrs.as_str(), "name"),
                has_attr(attrs.as_str(), "disabled"),
            ) else {
                continue;
            };
            let all: Vec<(String, String)> = OPTION
                .captures_iter(options.as_str())
                .map(|o| {
                    let value = attr(&o[1], "value").unwrap_or_else(|| unescape(o[2].trim()));
                    let selected = if has_attr(&o[1], "selected") { "y" } else { "" };
                    (value, selected.to_string())
                })
                .collect();
            let chosen = all
                .iter()
                .find(|(_, s)| !s.is_empty())
                .or(all.first())
                .map(|(v, _)| v.clone());
            if let Some(value) = chosen {
                fields.push((name, value));
            }
        } else if let (Some(attrs), Some(text)) = (c.get(4), c.get(5))
            && let (Some(name), false) = (
                attr(attrs.as_str(), "name"),
                has_attr(attrs.as_str(), "disabled"),
            )
        {
            fields.push((name, unescape(text.as_str())));
        }
    }
    Some(fields)
}

fn attr(attrs: &str, name: &str) -> Option<String> {
    let re = regex::Regex::new(&format!(r#"(?:^|\s){name}\s*=\s*"([^"]*)""#)).ok()?;
    re.captures(attrs).map(|c| unescape(&c[1]))
}

fn has_attr(attrs: &str, name: &str) -> bool {
    regex::Regex::new(&format!(r"(?:^|\s){name}(?:\s|=|$)"))
        .map(|re| re.is_match(attrs))
        .unwrap_or(false)
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&#x2F;", "/")
        .replace("&amp;", "&")
}

/// `fields` with `changes` applied: every field named in `changes` takes the changed value(s)
/// instead of the page's.
pub fn apply_changes(fields: &mut Vec<(String, String)>, changes: &[(&str, &str)]) {
    fields.retain(|(name, _)| !changes.iter().any(|(n, _)| n == name));
    fields.extend(changes.iter().map(|(n, v)| (n.to_string(), v.to_string())));
}

impl TestApp {
    /// Fills in the form on `page` that posts to `action`, as a user would: the page's own values,
    /// with `changes` typed over them; then submits it.
    pub async fn submit(
        &self,
        page: &str,
        action: &str,
        changes: &[(&str, &str)],
    ) -> reqwest::Response {
        let (status, html) = self.get_html(page).await;
        let mut fields = form_fields(&html, action)
            .unwrap_or_else(|| panic!("no form posting to {action} on {page} ({status})"));
        apply_changes(&mut fields, changes);
        self.client
            .post(self.url(action))
            .form(&fields)
            .send()
            .await
            .expect("POST")
    }
}

impl TestApp {
    /// Makes an API token for the signed-in user on the profile page, with these permission
    /// flags and other fields of the form; returns the token as shown once.
    pub async fn make_token(&self, name: &str, flags: &[&str], more: &[(&str, &str)]) -> String {
        let mut changes: Vec<(&str, &str)> = vec![("name", name)];
        changes.extend(flags.iter().map(|f| ("permissions", *f)));
        changes.extend_from_slice(more);
        let r = self.submit("/profile", "/profile/tokens", &changes).await;
        let status = r.status();
        let html = r.text().await.expect("body");
        assert_eq!(status, StatusCode::OK, "token made: {html}");
        let start = html
            .find("id=\"new-token\">")
            .expect("the new token is shown")
            + 15;
        let end = start + html[start..].find('<').expect("end of the token");
        html[start..end].to_string()
    }

    /// A request to the API with a token.
    pub fn api(&self, method: reqwest::Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(token)
    }

    /// GET `path` with a token: the status and the body as JSON (`Null` when it is not JSON).
    pub async fn api_get(&self, path: &str, token: &str) -> (StatusCode, serde_json::Value) {
        let r = self
            .api(reqwest::Method::GET, path, token)
            .send()
            .await
            .expect("GET");
        let status = r.status();
        let text = r.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        )
    }
}
