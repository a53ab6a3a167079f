//! Faults of the database under running workers: they retry, report it on the health page, and
//! take up their work again by themselves once the database is back.

use std::time::Duration;

use chrono::{DateTime, Utc};
use devsim::{DeviceSpec, Platform};
use netraven::background::{Queue, scheduler};
use netraven::entity::{job_log_entries, job_logs};
use netraven::services::audit::Actor;
use netraven::services::jobs::{self, NewJob, Target};
use netraven::vocabulary::{JobStatus, JobType};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectOptions, ConnectionTrait, Database, EntityTrait, QueryFilter};

use crate::engine::{PASSWORD, USER, start};
use crate::helpers::{TestApp, new_client, spawn_app, spawn_app_with_workers};
use crate::jobs::{add_sim_devices, finished, job_id, lab_tag};

/// Another process holds SQLite's write lock for longer than the workers' busy handler waits (a
/// `sqlite3` shell in a transaction, a backup tool): the workers' polls fail meanwhile. Once the
/// lock is gone, a new job runs without a restart.
#[tokio::test]
async fn workers_survive_a_long_held_sqlite_write_lock() {
    if std::env::var("NETRAVEN_TEST_DATABASE_URL").is_ok() {
        return; // SQLite only: PostgreSQL has no database-wide write lock.
    }
    let sim = one_device().await;
    let app = spawn_app_with_workers().await;
    let ids = lab(&app, &sim).await;

    let other = write_lock(&app).await;
    // The workers' polls give up after about 10 s of waiting for the lock; the device worker is
    // the one a job needs (the job worker may report it first: both poll).
    let during =
        wait_for_health(&app, |h| h["workers"]["devices"]["state"] == "degraded", 30).await;
    assert_eq!(
        during["workers"]["devices"]["state"], "degraded",
        "{during}"
    );
    assert!(
        during["workers"]["devices"]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("locked"),
        "{during}"
    );
    assert_eq!(during["database"], "ok", "reads still work: {during}");
    let ready = app.get("/readyz").await;
    assert_eq!(
        ready.status(),
        reqwest::StatusCode::OK,
        "pages are still served"
    );
    other.execute_unprepared("COMMIT").await.expect("release");

    // Back by themselves, without a restart.
    let after = wait_for_health(&app, |h| h["status"] == "ok", 60).await;
    assert_eq!(after["workers"]["devices"]["state"], "ok", "{after}");

    a_backup_succeeds(&app, ids[0]).await;
}

/// One Cisco IOS device that answers at once.
async fn one_device() -> devsim::Sim {
    start(vec![DeviceSpec::new(
        Platform::CiscoIos,
        "core1",
        USER,
        PASSWORD,
    )])
    .await
}

/// Signs in as the administrator and adds the simulated devices with a working credential.
async fn lab(app: &TestApp, sim: &devsim::Sim) -> Vec<i32> {
    app.login_admin().await;
    let tag = lab_tag(app).await;
    add_sim_devices(app, sim, &tag).await
}

/// "Back up now" on `device` gives a successful job: the workers work.
async fn a_backup_succeeds(app: &TestApp, device: i32) {
    let job = job_id(
        &app.post_form(&format!("/devices/{device}/backup"), &[])
            .await,
    );
    let done = finished(app, job).await;
    assert_eq!(done.status, JobStatus::Success, "{:?}", done.message);
}

/// One connection of the test's own, so that BEGIN and COMMIT run on the same one.
async fn own_connection(app: &TestApp) -> sea_orm::DatabaseConnection {
    let mut options = ConnectOptions::new(app.settings.database_url.clone());
    options
        .max_connections(1)
        .min_connections(1)
        .sqlx_logging(false);
    Database::connect(options)
        .await
        .expect("a connection of the test's own")
}

/// Another program holding SQLite's write lock (until `COMMIT` on the returned connection).
async fn write_lock(app: &TestApp) -> sea_orm::DatabaseConnection {
    let other = own_connection(app).await;
    other
        .execute_unprepared("BEGIN IMMEDIATE")
        .await
        .expect("take the write lock");
    other
}

/// Polls `/healthz` until `done` holds for its JSON (or panics after `secs`).
async fn wait_for_health(
    app: &TestApp,
    done: impl Fn(&serde_json::Value) -> bool,
    secs: u64,
) -> serde_json::Value {
    // As a monitoring check asks: no session.
    let client = new_client();
    let mut last = serde_json::Value::Null;
    for _ in 0..secs * 4 {
        let r = client.get(app.url("/healthz")).send().await.expect("GET");
        let status = r.status();
        let text = r.text().await.expect("health body");
        last = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status} {text:?}: {e}"));
        assert_eq!(
            status == reqwest::StatusCode::OK,
            last["status"] == "ok",
            "200 exactly when ok: {last}"
        );
        if done(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("health never reached the expected state; last: {last}");
}

/// PostgreSQL closes every connection of the application (a restart, a failover, a proxy that
/// drops idle connections): the workers reconnect and a new job runs without a restart.
#[tokio::test]
async fn workers_survive_terminated_postgres_connections() {
    if std::env::var("NETRAVEN_TEST_DATABASE_URL").is_err() {
        return; // PostgreSQL only.
    }
    let sim = one_device().await;
    let app = spawn_app_with_workers().await;
    let ids = lab(&app, &sim).await;

    let admin = own_connection(&app).await;
    for _ in 0..3 {
        admin
            .execute_unprepared(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .await
            .expect("terminate the application's connections");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    let after = wait_for_health(&app, |h| h["status"] == "ok", 90).await;
    assert_eq!(after["workers"]["devices"]["state"], "ok", "{after}");
    a_backup_succeeds(&app, ids[0]).await;
}

/// A finished backup whose final status was never written: the process died between the last
/// device's commit and the settle.
async fn unsettled_job(app: &TestApp, device: i32) -> i32 {
    let job = job_id(
        &app.post_form(&format!("/devices/{device}/backup"), &[])
            .await,
    );
    let done = finished(app, job).await;
    assert_eq!(done.status, JobStatus::Success, "{:?}", done.message);
    job_logs::Entity::update_many()
        .col_expr(job_logs::Column::Status, Expr::value(JobStatus::Running))
        .col_expr(
            job_logs::Column::FinishedAt,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(job_logs::Column::Message, Expr::value(None::<String>))
        .col_expr(
            job_logs::Column::UpdatedAt,
            Expr::value(Utc::now() - chrono::Duration::hours(2)),
        )
        .filter(job_logs::Column::Id.eq(job))
        .exec(&app.db)
        .await
        .expect("unsettle the job");
    job
}

async fn log_of(app: &TestApp, job: i32) -> Vec<String> {
    job_log_entries::Entity::find()
        .filter(job_log_entries::Column::JobLogId.eq(job))
        .all(&app.db)
        .await
        .expect("entries")
        .into_iter()
        .map(|e| e.message)
        .collect()
}

#[tokio::test]
async fn the_watchdog_settles_a_job_whose_devices_all_finished_from_their_results() {
    let sim = one_device().await;
    let app = spawn_app_with_workers().await;
    let ids = lab(&app, &sim).await;
    let job = unsettled_job(&app, ids[0]).await;

    scheduler::tick(&app.db, &Queue::new(&app.db))
        .await
        .expect("tick");
    let settled = finished(&app, job).await;
    assert_eq!(
        settled.status,
        JobStatus::Success,
        "not failed: every device succeeded"
    );
    let log = log_of(&app, job).await;
    assert!(!log.iter().any(|m| m.contains("interrupted")), "{log:?}");
}

#[tokio::test]
async fn a_second_delivery_of_a_finished_device_settles_its_job() {
    let sim = one_device().await;
    let app = spawn_app_with_workers().await;
    let ids = lab(&app, &sim).await;
    let job = unsettled_job(&app, ids[0]).await;

    // What a redelivered task does first.
    let start = jobs::begin_device(&app.db, job, ids[0])
        .await
        .expect("begin");
    assert!(matches!(start, jobs::DeviceStart::Skip), "not run twice");
    let settled = finished(&app, job).await;
    assert_eq!(settled.status, JobStatus::Success);
}

/// "Back up all" created its job and the process stopped before the job reached the queue: the
/// next process to start its workers hands it over at once, not a minute later.
#[tokio::test]
async fn a_job_created_but_never_queued_runs_as_soon_as_workers_start() {
    let sim = one_device().await;
    let mut app = spawn_app().await;
    app.login_admin().await;
    let tag = lab_tag(&app).await;
    add_sim_devices(&app, &sim, &tag).await;
    let job = jobs::create(
        &app.db,
        &Actor::system("test"),
        NewJob {
            job_type: JobType::Backup,
            target: Target::All,
            created_by: None,
            scheduled_job_id: None,
            idempotency_key: None,
            debug: false,
            commands: Vec::new(),
        },
    )
    .await
    .expect("create")
    .expect("a new job");
    assert!(job.dispatched_at.is_none());

    let started = std::time::Instant::now();
    app.start_workers().await;
    let done = finished(&app, job.id).await;
    assert_eq!(done.status, JobStatus::Success, "{:?}", done.message);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "dispatched at start, took {:?}",
        started.elapsed()
    );
}

/// Devices no worker ever started (the workers were down) are not "interrupted": the watchdog
/// hands them to the queue again and says so, and they run once workers take them.
#[tokio::test]
async fn the_watchdog_requeues_devices_no_worker_started_instead_of_failing_them() {
    let sim = one_device().await;
    let mut app = spawn_app().await;
    let ids = lab(&app, &sim).await;
    // Queued and dispatched, but no process runs workers.
    let job = job_id(
        &app.post_form(&format!("/devices/{}/backup", ids[0]), &[])
            .await,
    );
    let long_ago = Utc::now() - chrono::Duration::hours(2);
    job_logs::Entity::update_many()
        .col_expr(job_logs::Column::UpdatedAt, Expr::value(long_ago))
        .col_expr(job_logs::Column::DispatchedAt, Expr::value(long_ago))
        .filter(job_logs::Column::Id.eq(job))
        .exec(&app.db)
        .await
        .expect("age the job");

    scheduler::tick(&app.db, &Queue::new(&app.db))
        .await
        .expect("tick");
    let still = job_logs::Entity::find_by_id(job)
        .one(&app.db)
        .await
        .expect("query")
        .expect("job");
    assert!(
        still.finished_at.is_none(),
        "not settled: nothing was tried"
    );
    let log = log_of(&app, job).await;
    assert!(
        log.iter()
            .any(|m| m.contains("never started by a worker")
                && m.contains("handed to the queue again")),
        "{log:?}"
    );
    assert!(!log.iter().any(|m| m.contains("interrupted")), "{log:?}");

    app.start_workers().await;
    let done = finished(&app, job).await;
    assert_eq!(done.status, JobStatus::Success, "{:?}", done.message);
}

/// `netraven worker` has no health page anyone watches: when its workers cannot work for longer
/// than `worker_give_up_secs`, the process exits non-zero (75, "try again") for its service
/// manager to start it again, instead of living on without working.
#[tokio::test]
async fn a_worker_process_that_cannot_work_exits_for_its_service_manager() {
    if std::env::var("NETRAVEN_TEST_DATABASE_URL").is_ok() {
        return; // The fault used here, a held write lock, is SQLite's.
    }
    let app = spawn_app().await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_netraven"))
        .arg("worker")
        .env_clear()
        .env("NETRAVEN_DATA_DIR", &app.settings.data_dir)
        .env("NETRAVEN_DATABASE_URL", &app.settings.database_url)
        .env("NETRAVEN_WORKER_GIVE_UP_SECS", "5")
        .env("NETRAVEN_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start netraven worker");
    let stderr = child.stderr.take().expect("stderr");
    let (started_tx, started) = tokio::sync::oneshot::channel();
    let log = tokio::spawn(async move {
        use tokio::io::AsyncBufReadExt;
        let mut lines = tokio::io::BufReader::new(stderr).lines();
        let mut all = String::new();
        let mut started_tx = Some(started_tx);
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("[worker] {line}");
            if line.contains("workers started")
                && let Some(tx) = started_tx.take()
            {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    tokio::time::timeout(Duration::from_secs(60), started)
        .await
        .expect("the worker starts")
        .expect("the worker starts");

    let other = write_lock(&app).await;
    // About 10 s until a poll gives up waiting for the lock, then 5 s of retrying.
    let status = tokio::time::timeout(Duration::from_secs(90), child.wait())
        .await
        .expect("the worker process exits by itself")
        .expect("exit status");
    other.execute_unprepared("COMMIT").await.expect("release");
    assert_eq!(status.code(), Some(75), "{status:?}");
    let log = log.await.expect("log reader");
    assert!(
        log.contains("has not worked for 5 s") && log.contains("locked"),
        "the reason is logged: {log}"
    );
}

/// A database this process may not write (a folder or file owned by another user, a read-only
/// mount): the start fails naming the path and what to check, not with SQLite's bare "attempt
/// to write a readonly database".
#[tokio::test]
async fn a_database_it_cannot_write_stops_the_start_with_the_path_and_what_to_check() {
    use std::os::unix::fs::PermissionsExt;
    if std::env::var("NETRAVEN_TEST_DATABASE_URL").is_ok() {
        return; // A SQLite file's fault.
    }
    let dir = crate::helpers::new_data_dir();
    let db = dir.join("netraven.db");
    let chmod = |path: &std::path::Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod")
    };
    // Root writes anywhere: the refused writer is then another user, as in a deployment whose
    // service account does not own the data folder.
    let root = unsafe { libc::geteuid() } == 0;
    let migrate = || {
        use std::os::unix::process::CommandExt;
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_netraven"));
        command
            .arg("migrate")
            .env_clear()
            .env("NETRAVEN_DATA_DIR", &dir)
            .env("NETRAVEN_LOG", "warn");
        if root {
            command.uid(65534).gid(65534);
        }
        command.output().expect("run netraven migrate")
    };
    // Created by the account meant to run it.
    if root {
        std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).expect("chown");
    }
    let first = migrate();
    assert!(first.status.success(), "{first:?}");

    // The folder does not accept new files (SQLite's -wal and -shm live there).
    if root {
        std::os::unix::fs::chown(&dir, Some(0), Some(0)).expect("chown");
    }
    chmod(&dir, if root { 0o755 } else { 0o500 });
    let out = migrate();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    for words in [
        &format!("its folder {}", dir.display()),
        "-wal",
        "owner",
        "mode",
        "read-only",
    ] {
        assert!(stderr.contains(words), "{words:?} in {stderr}");
    }

    // The folder is fine but the file is not.
    chmod(&dir, 0o777);
    if root {
        std::os::unix::fs::chown(&db, Some(0), Some(0)).expect("chown");
        chmod(&db, 0o644);
    } else {
        chmod(&db, 0o400);
    }
    let out = migrate();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("the database {} cannot be written", db.display())),
        "{stderr}"
    );
    assert!(stderr.contains("owner (uid"), "{stderr}");
    chmod(&dir, 0o700);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The data folder fills up during a job ("database or disk is full"): the workers report it
/// and retry, and once space is freed the job completes without a restart, one result per
/// device, the database intact.
#[tokio::test]
async fn workers_survive_a_full_disk_and_go_on_once_space_is_freed() {
    if std::env::var("NETRAVEN_TEST_DATABASE_URL").is_ok() {
        return; // SQLite's data folder; PostgreSQL's disk is the server's.
    }
    let dir = crate::helpers::new_data_dir();
    // A small file system of its own, so filling it touches nothing else.
    let Some(_mount) = SmallDisk::mount(&dir, "48m") else {
        eprintln!("skipped: mounting a tmpfs needs root (CAP_SYS_ADMIN)");
        return;
    };
    let specs = (0..20)
        .map(|i| {
            let mut spec =
                DeviceSpec::new(Platform::CiscoIos, format!("full{i:02}"), USER, PASSWORD);
            spec.config_lines = 4_000;
            spec.seed = i;
            // Long enough for the disk to fill while devices are still being backed up.
            spec.command_latency = Duration::from_millis(300);
            spec
        })
        .collect();
    let sim = start(specs).await;
    let url = crate::helpers::test_database_url(&dir).await;
    let app =
        crate::helpers::spawn_with_workers(crate::helpers::test_settings(dir.clone(), url)).await;
    app.login_admin().await;
    let tag = lab_tag(&app).await;
    let ids = add_sim_devices(&app, &sim, &tag).await;

    // Every write from now on needs new room in the write-ahead log.
    app.db
        .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
        .await
        .expect("checkpoint");
    let job = job_id(&app.post_form(&format!("/tags/{tag}/backup"), &[]).await);
    let filler = dir.join("filler");
    fill(&filler);

    let during = wait_for_health(&app, |h| h["status"] == "degraded", 60).await;
    let reason = during["workers"]["devices"]["reason"].to_string();
    assert!(reason.contains("full"), "{during}");
    // Pages still answer, and a change gets a clear answer instead of a 500.
    assert_eq!(app.get("/readyz").await.status(), reqwest::StatusCode::OK);
    let refused = app
        .submit(
            "/devices/new",
            "/devices",
            &[
                ("hostname", "no-room"),
                ("ip_address", "127.0.0.9"),
                ("device_type", "cisco_ios"),
                ("enabled", "on"),
            ],
        )
        .await;
    assert_eq!(refused.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    let page = refused.text().await.expect("body");
    assert!(
        page.contains("the disk that holds the database is full"),
        "{page}"
    );

    std::fs::remove_file(&filler).expect("free the disk");
    let after = wait_for_health(&app, |h| h["status"] == "ok", 90).await;
    assert_eq!(after["workers"]["devices"]["state"], "ok", "{after}");
    let done = crate::jobs::finished_within(&app, job, 120).await;
    assert_eq!(done.status, JobStatus::Success, "{:?}", done.message);
    let results = netraven::entity::job_results::Entity::find()
        .filter(netraven::entity::job_results::Column::JobLogId.eq(job))
        .all(&app.db)
        .await
        .expect("results");
    assert_eq!(results.len(), ids.len(), "one result per device");
    let check = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "PRAGMA integrity_check",
        ))
        .await
        .expect("integrity check")
        .expect("a row");
    assert_eq!(check.try_get_by_index::<String>(0).expect("text"), "ok");
}

/// A tmpfs of `size` mounted on `dir`, unmounted when dropped.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(dir: &std::path::Path, size: &str) -> Option<SmallDisk> {
        let status = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        status.success().then(|| SmallDisk(dir.to_path_buf()))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// Writes `path` until the file system has no room left.
fn fill(path: &std::path::Path) {
    use std::io::Write;
    let mut file = std::fs::File::create(path).expect("filler");
    let chunk = vec![0u8; 64 * 1024];
    while file.write_all(&chunk).is_ok() {}
    let _ = file.sync_all();
}
