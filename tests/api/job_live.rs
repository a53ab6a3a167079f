//! A job's page while the job runs: each poll answers only what changed since the page's last
//! look (devices that finished, new log entries, the cards), never a row twice; when the job
//! ends, the whole live part is replaced, sorted, without the poller and *Cancel job*.

use std::collections::BTreeSet;
use std::time::Duration;

use devsim::{DeviceSpec, Platform};
use reqwest::StatusCode;

use crate::browser::{Browser, R, err};
use crate::engine::{PASSWORD, USER, start};
use crate::helpers::{TestApp, spawn_app};
use crate::jobs::{add_sim_devices, finished, job_id, lab_tag, one_device_at_a_time};

const DEVICES: usize = 8;

/// Eight devices answering slowly, one of which refuses the login; the job backs up one at a
/// time so it runs for several seconds.
async fn slow_job(app: &mut TestApp) -> (devsim::Sim, i32) {
    let specs = (0..DEVICES)
        .map(|i| {
            let password = if i == 3 { "not-the-password" } else { PASSWORD };
            let mut spec = DeviceSpec::new(Platform::CiscoIos, format!("live{i}"), USER, password);
            spec.command_latency = Duration::from_millis(150);
            spec.seed = i as u64;
            spec
        })
        .collect();
    let sim = start(specs).await;
    app.login_admin().await;
    let tag = lab_tag(app).await;
    add_sim_devices(app, &sim, &tag).await;
    one_device_at_a_time(app).await;
    app.start_workers().await;
    let job = job_id(&app.post_form(&format!("/tags/{tag}/backup"), &[]).await);
    (sim, job)
}

/// The `hx-get` of the page's poller, unescaped, or None.
fn poll_href(html: &str) -> Option<String> {
    let at = html.find("id=\"job-poll\"")?;
    let tag_start = html[..at].rfind('<')?;
    let tag = &html[tag_start..tag_start + html[tag_start..].find('>')?];
    let href = tag.split("hx-get=\"").nth(1)?.split('"').next()?;
    Some(href.replace("&amp;", "&"))
}

/// The result row ids in `html`.
fn result_rows(html: &str) -> Vec<String> {
    html.split("<tr id=\"result-")
        .skip(1)
        .filter_map(|s| s.split('"').next().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn polls_carry_only_what_changed_and_the_end_replaces_the_live_part() {
    let mut app = spawn_app().await;
    let (sim, job) = slow_job(&mut app).await;

    let (status, page) = app.get_html(&format!("/jobs/{job}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Cancel job"), "cancellable while it runs");
    let mut href = poll_href(&page).expect("a running job's page polls");
    let mut seen: Vec<String> = result_rows(&page);
    let mut polls = 0;
    let end = loop {
        polls += 1;
        assert!(polls < 600, "the job never ended");
        tokio::time::sleep(Duration::from_millis(100)).await;
        let r = app
            .client
            .get(app.url(&href))
            .header("HX-Request", "true")
            .send()
            .await
            .expect("poll");
        assert_eq!(r.status(), StatusCode::OK);
        let retarget = r
            .headers()
            .get("hx-retarget")
            .map(|v| v.to_str().unwrap_or("").to_string());
        let body = r.text().await.expect("body");
        if let Some(target) = retarget {
            assert_eq!(target, "#job-live");
            break body;
        }
        // A running job's answer: the next poller, the cards and actions in place.
        assert!(
            body.contains("id=\"job-summary\" hx-swap-oob=\"true\""),
            "{body}"
        );
        assert!(
            body.contains("id=\"job-actions\" hx-swap-oob=\"true\""),
            "{body}"
        );
        let rows = result_rows(&body);
        if !rows.is_empty() {
            assert!(
                body.contains("hx-swap-oob=\"afterbegin:#job-results\""),
                "{body}"
            );
        }
        seen.extend(rows);
        href = poll_href(&body).expect("the next poll");
    };
    // Every device arrived once, through the polls or the first page.
    let unique: BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "a row was sent twice: {seen:?}");
    let done = finished(&app, job).await;
    assert_eq!(done.progress_done as usize, DEVICES);
    // The end: the whole live part, every device, no poller, and the actions without Cancel.
    assert!(!end.contains("id=\"job-poll\""), "{end}");
    assert_eq!(result_rows(&end).len(), DEVICES, "{end}");
    let actions = &end[end.find("id=\"job-actions\"").expect("actions replaced")..];
    let actions = &actions[..actions.find("</div>").expect("end of actions")];
    assert!(
        actions.contains("hx-swap-oob=\"true\"") && !actions.contains("Cancel job"),
        "{actions}"
    );
    assert!(
        end.contains("live3") && end.contains("authentication"),
        "the failure is shown: {end}"
    );
    // A later look at the page shows the ended job without polling.
    let (_, page) = app.get_html(&format!("/jobs/{job}")).await;
    assert!(poll_href(&page).is_none() && !page.contains("Cancel job"));
    // A poll for a job that does not exist, or with nonsense cursors, is a clear answer.
    let (status, _) = app.get_html("/jobs/999999/live?seq=0&entry=0").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get_html(&format!("/jobs/{job}/live?seq=abc")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    sim.shutdown().await;
}

/// The same in a real browser: rows appear as devices finish, the progress card counts, and when
/// the job ends *Cancel job* disappears without a reload.
#[tokio::test]
async fn a_browser_watching_a_job_sees_it_finish_without_reloading() {
    let Some(browser) = Browser::start(1280, 1200).await else {
        return;
    };
    let mut app = spawn_app().await;
    let (sim, job) = slow_job(&mut app).await;
    let b = &browser;
    let result: R<()> = async {
        b.sign_in_admin(&app).await?;
        b.c.goto(&app.url(&format!("/jobs/{job}")))
            .await
            .map_err(err)?;
        b.c.execute("window.__same_page = true;", vec![])
            .await
            .map_err(err)?;
        b.eventually_within(
            "return document.querySelectorAll('#job-results tr').length >= 2",
            "rows appear as devices finish",
            60,
        )
        .await?;
        b.screenshot("job-running.png").await?;
        b.eventually_within(
            &format!(
                "return document.querySelectorAll('#job-results tr').length === {DEVICES} \
                 && !document.querySelector('#job-poll') \
                 && !document.querySelector('#job-actions').textContent.includes('Cancel job')"
            ),
            "the ended job: every row, no poller, no Cancel",
            60,
        )
        .await?;
        let same =
            b.c.execute("return window.__same_page === true;", vec![])
                .await
                .map_err(err)?;
        if same != serde_json::Value::Bool(true) {
            return Err("the page reloaded instead of updating in place".into());
        }
        b.eventually(
            "return document.querySelector('#job-summary').textContent.includes('8 / 8')",
            "progress complete",
        )
        .await?;
        b.screenshot("job-finished.png").await
    }
    .await;
    browser.finish(result).await;
    sim.shutdown().await;
}
