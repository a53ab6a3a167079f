//! Backups through the job system, against devsim devices over real SSH: "Back up now" on a
//! device, a tag, a selection and all; versions only on change; typed failures in the results;
//! cancel; the job pages.

use netraven::vocabulary::{JobStatus, ResultStatus};
use std::time::Duration;

use devsim::{DeviceSpec, Platform, Sim};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use crate::engine::{PASSWORD, USER, start};
use crate::helpers::{TestApp, location, spawn_app_with_workers};
use netraven::entity::{backups, devices, job_log_entries, job_logs, job_results};

/// A tag with the lab credential attached; returns the tag id.
pub async fn lab_tag(app: &TestApp) -> String {
    let tag = app.add_tag("lab", "#0969da").await.to_string();
    let r = app
        .submit(
            "/credentials/new",
            "/credentials",
            &[
                ("name", "lab-login"),
                ("kind", "ssh"),
                ("username", USER),
                ("secret", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cred = location(&r).trim_start_matches("/credentials/").to_string();
    app.post_form(
        &format!("/credentials/{cred}/tags"),
        &[("tag_id", &tag), ("priority", "10")],
    )
    .await;
    tag
}

/// One NetRaven device per devsim device, tagged; returns their ids in the same order.
pub async fn add_sim_devices(app: &TestApp, sim: &Sim, tag: &str) -> Vec<i32> {
    let mut ids = Vec::new();
    for d in sim.devices() {
        let port = d.port.to_string();
        let r = app
            .submit(
                "/devices/new",
                "/devices",
                &[
                    ("hostname", &d.hostname),
                    ("ip_address", "127.0.0.1"),
                    ("port", &port),
                    ("device_type", d.platform.as_str()),
                    ("enabled", "on"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "add {}", d.hostname);
        let id: i32 = location(&r)
            .trim_start_matches("/devices/")
            .parse()
            .expect("id");
        app.post_form(&format!("/devices/{id}/tags"), &[("tag_id", tag)])
            .await;
        ids.push(id);
    }
    ids
}

/// The job a "Back up now" redirect leads to.
pub fn job_id(resp: &reqwest::Response) -> i32 {
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "job started");
    location(resp)
        .trim_start_matches("/jobs/")
        .parse()
        .expect("job id in the redirect")
}

/// Jobs back up one device at a time (the *Jobs* settings).
pub async fn one_device_at_a_time(app: &TestApp) {
    let r = app
        .submit(
            "/settings",
            "/settings/jobs",
            &[
                ("jobs.concurrency", "1"),
                ("jobs.device_timeout_seconds", "60"),
                ("jobs.log_retention_days", "90"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "settings saved");
}

/// Wait (up to 5 s) until one of a job's devices has started.
pub async fn until_a_device_runs(app: &TestApp, job: i32) {
    for _ in 0..100 {
        let running = job_results::Entity::find()
            .filter(job_results::Column::JobLogId.eq(job))
            .filter(job_results::Column::Status.eq(ResultStatus::Running))
            .count(&app.db)
            .await
            .expect("count");
        if running > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Posts a form that starts a job and answers with a redirect to its page (`/area/jobs/{id}`),
/// then waits until the job has finished.
pub async fn posted_job(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> job_logs::Model {
    let r = app.post_form(path, fields).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        crate::helpers::unescaped(&r.text().await.unwrap_or_default())
    );
    let id: i32 = location(&r)
        .rsplit('/')
        .next()
        .and_then(|id| id.parse().ok())
        .expect("the job's id in the redirect");
    finished(app, id).await
}

/// Wait (up to a minute) until a job has finished.
pub async fn finished(app: &TestApp, id: i32) -> job_logs::Model {
    finished_within(app, id, 60).await
}

pub async fn finished_within(app: &TestApp, id: i32, secs: u64) -> job_logs::Model {
    for _ in 0..secs * 10 {
        let job = job_logs::Entity::find_by_id(id)
            .one(&app.db)
            .await
            .expect("query")
            .expect("job");
        if job.finished_at.is_some() {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("job {id} did not finish within {secs} s");
}

async fn versions(app: &TestApp, device: i32) -> Vec<backups::Model> {
    backups::Entity::find()
        .filter(backups::Column::DeviceId.eq(device))
        .order_by_asc(backups::Column::Version)
        .all(&app.db)
        .await
        .expect("versions")
}

async fn results(app: &TestApp, job: i32) -> Vec<job_results::Model> {
    job_results::Entity::find()
        .filter(job_results::Column::JobLogId.eq(job))
        .order_by_asc(job_results::Column::Hostname)
        .all(&app.db)
        .await
        .expect("results")
}

#[tokio::test]
async fn back_up_now_stores_versions_only_when_the_config_changes() {
    let sim = start(vec![
        DeviceSpec::new(Platform::CiscoIos, "core1", USER, PASSWORD),
        DeviceSpec::new(Platform::FortinetFortios, "fw1", USER, PASSWORD),
    ])
    .await;
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    let tag = lab_tag(&app).await;
    let ids = add_sim_devices(&app, &sim, &tag).await;

    // One device.
    let job = job_id(
        &app.post_form(&format!("/devices/{}/backup", ids[0]), &[])
            .await,
    );
    let done = finished(&app, job).await;
    assert_eq!(done.status, JobStatus::Success, "{:?}", done.message);
    let v = versions(&app, ids[0]).await;
    assert_eq!(v.len(), 1);
    assert!(v[0].content.contains("hostname core1"));
    assert!(
        !v[0].content.contains("ntp clock-period"),
        "volatile line stored"
    );
    let r = results(&app, job).await;
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].status, ResultStatus::Success);
    assert_eq!(r[0].credential_name.as_deref(), Some("lab-login"));
    assert!(r[0].changed);
    let device = devices::Entity::find_by_id(ids[0])
        .one(&app.db)
        .await
        .expect("q")
        .expect("device");
    assert_eq!(device.last_backup_status, Some(ResultStatus::Success));
    assert_eq!(device.model.as_deref(), Some("C9300-24P"));
    assert!(
        device.ssh_host_key.is_some(),
        "host key recorded on first contact"
    );
    let (status, page) = app.get_html(&format!("/jobs/{job}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("core1") && page.contains("success"));
    assert!(!page.contains(PASSWORD));

    // Unchanged: no new version, last seen moves. FortiOS re-salts its secrets on every read and
    // still counts as unchanged.
    let job = job_id(&app.post_form(&format!("/tags/{tag}/backup"), &[]).await);
    assert_eq!(finished(&app, job).await.status, JobStatus::Success);
    let job = job_id(&app.post_form("/backup-all", &[]).await);
    assert_eq!(finished(&app, job).await.status, JobStatus::Success);
    let v1 = versions(&app, ids[0]).await;
    assert_eq!(v1.len(), 1, "unchanged config made a new version");
    assert!(v1[0].last_seen_at > v[0].last_seen_at);
    assert_eq!(versions(&app, ids[1]).await.len(), 1);
    let r = results(&app, job).await;
    assert!(
        r.iter()
            .all(|r| r.status == ResultStatus::Success && !r.changed),
        "{r:?}"
    );

    // A real change: exactly one new version with the changed line.
    sim.change_config(0, "snmp-server location rack-42");
    let job = job_id(
        &app.post_form(
            "/devices/backup",
            &[("ids", &ids[0].to_string()), ("back", "/devices")],
        )
        .await,
    );
    assert_eq!(finished(&app, job).await.status, JobStatus::Success);
    let v = versions(&app, ids[0]).await;
    assert_eq!(v.len(), 2);
    assert_eq!(v[1].version, 2);
    assert_eq!(v[1].changed_lines, 1);
    assert!(v[1].content.contains("snmp-server location rack-42"));
    assert_eq!(app.audit_count("job.start").await, 4);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_failing_device_makes_the_job_partial_with_its_typed_error() {
    let mut bad = DeviceSpec::new(Platform::AristaEos, "wrongpw", "someone", "Other-passw0rd");
    bad.seed = 7;
    let sim = start(vec![
        DeviceSpec::new(Platform::JuniperJunos, "edge1", USER, PASSWORD),
        bad,
    ])
    .await;
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    let tag = lab_tag(&app).await;
    let ids = add_sim_devices(&app, &sim, &tag).await;
    let job = job_id(&app.post_form(&format!("/tags/{tag}/backup"), &[]).await);
    let done = finished(&app, job).await;
    assert_eq!(done.status, JobStatus::Partial, "{:?}", done.message);
    let r = results(&app, job).await;
    let failed = r.iter().find(|r| r.hostname == "wrongpw").expect("result");
    assert_eq!(failed.status, ResultStatus::Failed);
    assert_eq!(failed.error_class.as_deref(), Some("auth_failed"));
    assert!(
        failed
            .message
            .as_deref()
            .unwrap_or("")
            .contains("lab-login")
    );
    let ok = r.iter().find(|r| r.hostname == "edge1").expect("result");
    assert_eq!(ok.status, ResultStatus::Success);
    let device = devices::Entity::find_by_id(ids[1])
        .one(&app.db)
        .await
        .expect("q")
        .expect("device");
    assert_eq!(device.last_backup_status, Some(ResultStatus::Failed));
    let errors = job_log_entries::Entity::find()
        .filter(job_log_entries::Column::JobLogId.eq(job))
        .filter(job_log_entries::Column::Level.eq("error"))
        .count(&app.db)
        .await
        .expect("count");
    assert!(errors >= 1);
    let (_, page) = app.get_html(&format!("/jobs/{job}?level=error")).await;
    assert!(page.contains("authentication failed"), "{page}");
    sim.shutdown().await;
}

#[tokio::test]
async fn cancel_stops_devices_that_have_not_started() {
    let specs: Vec<DeviceSpec> = (0..5)
        .map(|i| {
            let mut s = DeviceSpec::new(Platform::CiscoIos, format!("slow{i}"), USER, PASSWORD);
            s.command_latency = Duration::from_millis(300);
            s
        })
        .collect();
    let sim = start(specs).await;
    let mut app = crate::helpers::spawn_app().await;
    app.login_admin().await;
    let tag = lab_tag(&app).await;
    add_sim_devices(&app, &sim, &tag).await;
    // One device at a time, so most are still waiting when the job is cancelled.
    one_device_at_a_time(&app).await;
    app.start_workers().await;
    let job = job_id(&app.post_form(&format!("/tags/{tag}/backup"), &[]).await);
    // Wait for the first device to start, then cancel.
    until_a_device_runs(&app, job).await;
    let r = app.post_form(&format!("/jobs/{job}/cancel"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let done = finished(&app, job).await;
    assert_eq!(done.status, JobStatus::Cancelled);
    let r = results(&app, job).await;
    let cancelled = r
        .iter()
        .filter(|r| r.status == ResultStatus::Cancelled)
        .count();
    let finished_ok = r
        .iter()
        .filter(|r| r.status == ResultStatus::Success)
        .count();
    assert!(cancelled >= 3, "{r:?}");
    assert_eq!(
        cancelled + finished_ok,
        5,
        "the running device finished: {r:?}"
    );
    assert_eq!(app.audit_count("job.cancel").await, 1);
    // Cancelling a finished job is refused with a clear message.
    let r = app.post_form(&format!("/jobs/{job}/cancel"), &[]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    sim.shutdown().await;
}

#[tokio::test]
async fn viewers_read_jobs_but_cannot_start_or_cancel_them_and_debug_keeps_a_masked_transcript() {
    let sim = start(vec![DeviceSpec::new(
        Platform::CiscoIos,
        "dbg1",
        USER,
        PASSWORD,
    )])
    .await;
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    let tag = lab_tag(&app).await;
    let ids = add_sim_devices(&app, &sim, &tag).await;
    // The admin turns on the debug flag of their profile: their jobs keep transcripts.
    let r = app
        .submit(
            "/profile",
            "/profile",
            &[("realname", "Admin"), ("email", ""), ("debug", "on")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "profile saved");
    let job = job_id(
        &app.post_form(&format!("/devices/{}/backup", ids[0]), &[])
            .await,
    );
    assert_eq!(finished(&app, job).await.status, JobStatus::Success);
    let transcript = job_log_entries::Entity::find()
        .filter(job_log_entries::Column::JobLogId.eq(job))
        .filter(job_log_entries::Column::Level.eq("debug"))
        .one(&app.db)
        .await
        .expect("q")
        .expect("a debug transcript entry");
    assert!(transcript.message.contains("> show running-config"));
    assert!(
        !transcript.message.contains(PASSWORD),
        "password in the transcript"
    );
    assert!(
        transcript.message.contains("<masked>"),
        "config secrets masked"
    );

    app.create_user("viewer2", "viewer", "Viewer-passw0rd2")
        .await;
    let viewer = app.new_browser();
    viewer.login("viewer2", "Viewer-passw0rd2").await;
    for path in [
        "/jobs",
        &format!("/jobs/{job}"),
        &format!("/jobs?device={}", ids[0]),
    ] {
        let (status, page) = viewer.get_html(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(!page.contains("Back up all devices now"), "{path}");
        assert!(!page.contains(PASSWORD));
    }
    let (_, device_page) = viewer.get_html(&format!("/devices/{}", ids[0])).await;
    assert!(!device_page.contains("Back up now"));
    assert!(
        device_page.contains(&format!("/jobs/{job}")),
        "job history on the device page"
    );
    for path in [
        format!("/devices/{}/backup", ids[0]),
        format!("/tags/{tag}/backup"),
        "/backup-all".to_string(),
        "/devices/backup".to_string(),
        format!("/jobs/{job}/cancel"),
    ] {
        let r = viewer
            .post_form(&path, &[("ids", &ids[0].to_string())])
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let anonymous = crate::helpers::new_client();
    let r = anonymous.get(app.url("/jobs")).send().await.expect("get");
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "anonymous users sign in first"
    );
    // Bad input: an unknown job, a disabled device, nothing selected.
    assert_eq!(app.get("/jobs/99999").await.status(), StatusCode::NOT_FOUND);
    let r = app
        .post_form("/devices/backup", &[("back", "/devices")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    sim.shutdown().await;
}

#[tokio::test]
async fn retention_keeps_the_newest_versions_and_removes_old_job_logs() {
    use chrono::{Duration as Span, Utc};

    let app = crate::helpers::spawn_app_with_workers().await;
    app.login_admin().await;
    let id = app.add_device("keep1", "192.0.2.10", "cisco_ios").await;
    for v in 1..=6 {
        let text = format!("hostname keep1\nlogging host 10.0.0.{v}\nend\n");
        crate::backups::store_version(&app, id, &text, false).await;
    }
    let r = app
        .submit(
            "/settings",
            "/settings/backups",
            &[
                ("backups.retention_versions", "3"),
                ("backups.retention_days", "0"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "settings saved");
    let cleanup = netraven::entity::scheduled_jobs::Entity::find()
        .filter(netraven::entity::scheduled_jobs::Column::JobType.eq("retention"))
        .one(&app.db)
        .await
        .expect("q")
        .expect("the default cleanup schedule");
    let job = job_id(
        &app.post_form(&format!("/schedules/{}/run", cleanup.id), &[])
            .await,
    );
    let first = finished(&app, job).await;
    assert_eq!(first.status, JobStatus::Success, "{:?}", first.message);
    let kept: Vec<i32> = versions(&app, id).await.iter().map(|b| b.version).collect();
    assert_eq!(kept, vec![4, 5, 6]);

    // Days: versions not seen for longer go, but the newest always stays.
    netraven::entity::backups::Entity::update_many()
        .col_expr(
            netraven::entity::backups::Column::LastSeenAt,
            sea_orm::sea_query::Expr::value(Utc::now() - Span::days(30)),
        )
        .filter(netraven::entity::backups::Column::DeviceId.eq(id))
        .exec(&app.db)
        .await
        .expect("age");
    job_logs::Entity::update_many()
        .col_expr(
            job_logs::Column::FinishedAt,
            sea_orm::sea_query::Expr::value(Utc::now() - Span::days(400)),
        )
        .filter(job_logs::Column::Id.eq(job))
        .exec(&app.db)
        .await
        .expect("age the job");
    app.submit(
        "/settings",
        "/settings/backups",
        &[
            ("backups.retention_versions", "0"),
            ("backups.retention_days", "7"),
        ],
    )
    .await;
    let second = job_id(
        &app.post_form(&format!("/schedules/{}/run", cleanup.id), &[])
            .await,
    );
    assert_eq!(finished(&app, second).await.status, JobStatus::Success);
    let kept: Vec<i32> = versions(&app, id).await.iter().map(|b| b.version).collect();
    assert_eq!(kept, vec![6], "the newest version is always kept");
    assert!(
        job_logs::Entity::find_by_id(job)
            .one(&app.db)
            .await
            .expect("q")
            .is_none(),
        "a job log past jobs.log_retention_days is removed"
    );
}

#[tokio::test]
async fn a_backup_falls_back_to_the_next_credential_and_records_the_one_that_worked() {
    let sim = start(vec![DeviceSpec::new(
        Platform::CiscoNxos,
        "nx9",
        USER,
        PASSWORD,
    )])
    .await;
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    let tag = app.add_tag("dc", "#0969da").await.to_string();
    for (name, secret, priority) in [
        ("old-local", "Stale-passw0rd", "10"),
        ("tacacs", PASSWORD, "20"),
    ] {
        let r = app
            .submit(
                "/credentials/new",
                "/credentials",
                &[
                    ("name", name),
                    ("kind", "ssh"),
                    ("username", USER),
                    ("secret", secret),
                ],
            )
            .await;
        let cred = location(&r).trim_start_matches("/credentials/").to_string();
        app.post_form(
            &format!("/credentials/{cred}/tags"),
            &[("tag_id", &tag), ("priority", priority)],
        )
        .await;
    }
    let ids = add_sim_devices(&app, &sim, &tag).await;
    let job = job_id(
        &app.post_form(&format!("/devices/{}/backup", ids[0]), &[])
            .await,
    );
    let done = finished(&app, job).await;
    let r = results(&app, job).await;
    assert_eq!(done.status, JobStatus::Success, "{:?} {r:?}", done.message);
    assert_eq!(r[0].credential_name.as_deref(), Some("tacacs"));
    assert!(r[0].credential_id.is_some());
    let warned = job_log_entries::Entity::find()
        .filter(job_log_entries::Column::JobLogId.eq(job))
        .filter(job_log_entries::Column::Level.eq("warning"))
        .all(&app.db)
        .await
        .expect("entries");
    assert!(
        warned.iter().any(|e| e.message.contains("old-local")),
        "the failed credential is named in the log: {warned:?}"
    );
    let creds = netraven::entity::credentials::Entity::find()
        .all(&app.db)
        .await
        .expect("credentials");
    let by = |n: &str| creds.iter().find(|c| c.name == n).expect("credential");
    assert_eq!(
        (by("old-local").failure_count, by("tacacs").success_count),
        (1, 1)
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_private_credential_logs_in_only_for_jobs_its_owner_starts() {
    let sim = start(vec![DeviceSpec::new(
        Platform::AristaEos,
        "leaf7",
        USER,
        PASSWORD,
    )])
    .await;
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    app.create_user("owner", "engineer", "Owner-passw0rd-1")
        .await;
    let tag = app.add_tag("leafs", "#0969da").await.to_string();
    let ids = add_sim_devices(&app, &sim, &tag).await;
    let owner = app.new_browser();
    owner.login("owner", "Owner-passw0rd-1").await;
    let r = owner
        .submit(
            "/credentials/new",
            "/credentials",
            &[
                ("name", "owners-login"),
                ("kind", "ssh"),
                ("username", USER),
                ("secret", PASSWORD),
                ("private", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cred = location(&r).trim_start_matches("/credentials/").to_string();
    let r = owner
        .post_form(
            &format!("/credentials/{cred}/tags"),
            &[("tag_id", &tag), ("priority", "10")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // Someone else's job has no credential to try: the device fails, the secret stays unused.
    let job = job_id(
        &app.post_form(&format!("/devices/{}/backup", ids[0]), &[])
            .await,
    );
    let done = finished(&app, job).await;
    let r = results(&app, job).await;
    assert_eq!(done.status, JobStatus::Failed, "{r:?}");
    assert_eq!(r[0].credential_id, None);
    assert!(versions(&app, ids[0]).await.is_empty());

    // The owner's job logs in with it.
    let job = job_id(
        &owner
            .post_form(&format!("/devices/{}/backup", ids[0]), &[])
            .await,
    );
    let done = finished(&app, job).await;
    let r = results(&app, job).await;
    assert_eq!(done.status, JobStatus::Success, "{:?} {r:?}", done.message);
    // Named by id only: other users read job logs and results, the name is the owner's.
    assert_eq!(
        r[0].credential_name.as_deref(),
        Some(format!("private credential #{cred}").as_str())
    );
    assert_eq!(versions(&app, ids[0]).await.len(), 1);
    let (_, page) = app.get_html(&format!("/jobs/{job}")).await;
    assert!(
        page.contains(&format!("private credential #{cred}")) && !page.contains("owners-login")
    );

    // "Test connection" tries it for its owner only.
    let path = format!("/devices/{}/test-connection", ids[0]);
    let html = app.post_form(&path, &[]).await.text().await.unwrap();
    assert!(
        !html.contains("Connected in"),
        "no credential for the admin: {html}"
    );
    let html = owner.post_form(&path, &[]).await.text().await.unwrap();
    assert!(
        html.contains("Connected in") && html.contains(&format!("private credential #{cred}")),
        "{html}"
    );
    sim.shutdown().await;
}
