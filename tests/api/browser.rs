//! A real browser (Debian's headless chromium through chromedriver): the shared session helper,
//! and the users page filtered with the htmx search box. Skipped with a message when chromium is
//! not installed, except under CI, where it must run.

use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

use crate::helpers::{ADMIN_PASSWORD, TestApp, spawn_app};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub type R<T> = Result<T, String>;

pub fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// A headless chromium driven through its own chromedriver; both end when it is dropped.
pub struct Browser {
    pub c: Client,
    _driver: tokio::process::Child,
}

impl Browser {
    /// None (with a message) when chromium is not installed; under CI that fails the test.
    pub async fn start(width: u32, height: u32) -> Option<Browser> {
        let present =
            std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
        if !present {
            assert!(
                std::env::var("CI").is_err(),
                "chromium and chromium-driver must be installed in CI (apt-get install chromium chromium-driver)"
            );
            eprintln!(
                "SKIPPED browser test: {CHROMIUM} or {CHROMEDRIVER} not installed (apt-get install chromium chromium-driver)"
            );
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let driver = tokio::process::Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                         "--disable-dev-shm-usage", "--disable-component-update", "--disable-sync",
                         "--no-first-run", format!("--window-size={width},{height}")]
            }),
        );
        for _ in 0..50 {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(c) => return Some(Browser { c, _driver: driver }),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
        panic!("no chromedriver session");
    }

    /// Signs in as the first administrator through the login form.
    pub async fn sign_in_admin(&self, app: &TestApp) -> R<()> {
        let c = &self.c;
        c.goto(&app.url("/login")).await.map_err(err)?;
        c.find(Locator::Css("#username"))
            .await
            .map_err(err)?
            .send_keys("admin")
            .await
            .map_err(err)?;
        c.find(Locator::Css("#password"))
            .await
            .map_err(err)?
            .send_keys(ADMIN_PASSWORD)
            .await
            .map_err(err)?;
        c.find(Locator::Css("form button[type=submit]"))
            .await
            .map_err(err)?
            .click()
            .await
            .map_err(err)?;
        self.eventually("return location.pathname === '/'", "signed in")
            .await
    }

    /// Waits (up to `secs`, default 10) until `script` returns true.
    pub async fn eventually(&self, script: &str, what: &str) -> R<()> {
        self.eventually_within(script, what, 10).await
    }

    pub async fn eventually_within(&self, script: &str, what: &str, secs: u64) -> R<()> {
        for _ in 0..secs * 10 {
            if self.c.execute(script, vec![]).await.map_err(err)? == serde_json::Value::Bool(true) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!("never true: {what}"))
    }

    /// Saves a screenshot under target/tmp/screenshots.
    pub async fn screenshot(&self, file: &str) -> R<()> {
        let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        std::fs::create_dir_all(&out).map_err(err)?;
        let png = self.c.screenshot().await.map_err(err)?;
        std::fs::write(out.join(file), png).map_err(err)
    }

    /// Closes the browser; a failed test fails with its message.
    pub async fn finish(self, result: R<()>) {
        let _ = self.c.close().await;
        if let Err(e) = result {
            panic!("browser test failed: {e}");
        }
    }
}

async fn wait_for_text(client: &Client, css: &str, text: &str) -> Result<(), String> {
    for _ in 0..100 {
        if let Ok(el) = client.find(Locator::Css(css)).await
            && el.text().await.unwrap_or_default().contains(text)
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("{css} never contained {text:?}"))
}

#[tokio::test]
async fn browser_signs_in_and_filters_users_with_htmx() {
    let Some(browser) = Browser::start(1280, 900).await else {
        return;
    };
    let app = spawn_app().await;
    app.login_admin().await;
    app.create_user("network-alice", "operator", "Alice-passw0rd")
        .await;
    let tag = app
        .submit(
            "/tags/new",
            "/tags",
            &[("name", "core"), ("color", "#d1242f")],
        )
        .await;
    let tag_id = crate::helpers::location(&tag)
        .trim_start_matches("/tags/")
        .to_string();
    for (host, ip, platform) in [
        ("core-sw01", "10.0.0.1", "arista_eos"),
        ("edge-r1", "2001:db8::1", "juniper_junos"),
    ] {
        let r = app
            .submit(
                "/devices/new",
                "/devices",
                &[
                    ("hostname", host),
                    ("ip_address", ip),
                    ("device_type", platform),
                    ("enabled", "on"),
                ],
            )
            .await;
        let id = crate::helpers::location(&r)
            .trim_start_matches("/devices/")
            .to_string();
        app.post_form(&format!("/devices/{id}/tags"), &[("tag_id", &tag_id)])
            .await;
    }

    let b = &browser;
    let result: R<()> = async {
        let c = &b.c;
        b.sign_in_admin(&app).await?;
        wait_for_text(c, "h1", "Dashboard").await?;

        c.goto(&app.url("/users")).await.map_err(err)?;
        wait_for_text(c, "#users-table", "network-alice").await?;
        // Typing in the search box filters through htmx, without a page load.
        c.execute("window.__same_page = true;", vec![])
            .await
            .map_err(err)?;
        c.find(Locator::Css("#q"))
            .await
            .map_err(err)?
            .send_keys("no-such-user")
            .await
            .map_err(err)?;
        wait_for_text(c, "#users-table", "No user matches").await?;
        let same_page = c
            .execute("return window.__same_page === true;", vec![])
            .await
            .map_err(err)?;
        if same_page != serde_json::Value::Bool(true) {
            return Err("the page reloaded instead of an htmx swap".into());
        }
        let url = c.current_url().await.map_err(err)?;
        if !url.as_str().contains("q=no-such-user") {
            return Err(format!("URL not updated for bookmarking: {url}"));
        }
        let q = c.find(Locator::Css("#q")).await.map_err(err)?;
        q.clear().await.map_err(err)?;
        q.send_keys("alice").await.map_err(err)?;
        wait_for_text(c, "#users-table", "network-alice").await?;

        b.screenshot("users.png").await?;
        for (path, heading, file) in [
            ("/", "Dashboard", "dashboard.png"),
            ("/settings", "Settings", "settings.png"),
            ("/devices", "Devices", "devices.png"),
        ] {
            c.goto(&app.url(path)).await.map_err(err)?;
            wait_for_text(c, "h1", heading).await?;
            b.screenshot(file).await?;
        }
        Ok(())
    }
    .await;
    browser.finish(result).await;
}
