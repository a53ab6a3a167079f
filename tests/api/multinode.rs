//! Several NetRaven processes on one database, as in a deployment: the real binary as
//! `serve`, `serve --no-workers` and `worker`, killed and restarted, with devsim devices.

use netraven::vocabulary::JobStatus;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use devsim::{DeviceSpec, Platform, Sim};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::engine::{PASSWORD, USER, start};
use crate::helpers::{ADMIN_PASSWORD, TestApp, new_data_dir, test_database_url};
use crate::jobs::{add_sim_devices, finished, job_id, lab_tag};
use netraven::entity::{backups, job_log_entries, job_results};

/// A `netraven` process; killed (SIGKILL) when dropped.
pub struct Process {
    child: Child,
    pub port: Option<u16>,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    /// Start `netraven <args>` on the data folder and database; waits for the web port when it
    /// serves the web side.
    pub fn start(args: &[&str], dir: &Path, url: &str) -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_netraven"))
            .args(args)
            .env_clear()
            .env("NETRAVEN_DATA_DIR", dir)
            .env("NETRAVEN_DATABASE_URL", url)
            .env("NETRAVEN_BIND", "127.0.0.1:0")
            .env("NETRAVEN_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("NETRAVEN_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start netraven");
        let serves = args.first().is_none_or(|a| *a == "serve");
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().expect("stderr");
        let name = format!(
            "{} {}",
            args.first().copied().unwrap_or("serve"),
            child.id()
        );
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                // Captured with the test's output: a failing test shows what each process logged.
                eprintln!("[{name}] {line}");
                let port = line
                    .split("port=")
                    .nth(1)
                    .and_then(|p| p.split_whitespace().next())
                    .and_then(|p| p.parse::<u16>().ok());
                let ready = port.is_some() || line.contains("workers started");
                if ready {
                    let _ = tx.send(port);
                }
            }
        });
        let mut port = None;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while std::time::Instant::now() < deadline {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(Some(p)) => port = Some(p),
                Ok(None) if !serves => break,
                _ => {}
            }
            if port.is_some() {
                break;
            }
        }
        assert!(
            !serves || port.is_some(),
            "netraven {args:?} did not report its port"
        );
        Process { child, port }
    }

    pub async fn client(&self, dir: &Path, url: &str) -> TestApp {
        let port = self.port.expect("a web process");
        TestApp::attach(
            format!("http://127.0.0.1:{port}"),
            dir.to_path_buf(),
            url.into(),
        )
        .await
    }

    /// SIGKILL, as a crash or `kill -9` would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Deployment {
    dir: PathBuf,
    url: String,
}

impl Deployment {
    async fn new() -> Deployment {
        let dir = new_data_dir();
        let url = test_database_url(&dir).await;
        Deployment { dir, url }
    }

    fn start(&self, args: &[&str]) -> Process {
        Process::start(args, &self.dir, &self.url)
    }

    async fn client(&self, p: &Process) -> TestApp {
        let app = p.client(&self.dir, &self.url).await;
        app.login_admin().await;
        app
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn set_concurrency(app: &TestApp, n: &str) {
    let r = app
        .submit(
            "/settings",
            "/settings/jobs",
            &[
                ("jobs.concurrency", n),
                ("jobs.device_timeout_seconds", "30"),
                ("jobs.log_retention_days", "90"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "settings saved");
}

fn slow_devices(n: usize, prefix: &str, latency_ms: u64) -> Vec<DeviceSpec> {
    (0..n)
        .map(|i| {
            let mut s = DeviceSpec::new(
                Platform::CiscoIos,
                format!("{prefix}{i:02}"),
                USER,
                PASSWORD,
            );
            s.command_latency = Duration::from_millis(latency_ms);
            s.seed = i as u64;
            s
        })
        .collect()
}

async fn count_results(app: &TestApp, job: i32, status: &str) -> u64 {
    job_results::Entity::find()
        .filter(job_results::Column::JobLogId.eq(job))
        .filter(job_results::Column::Status.eq(status))
        .count(&app.db)
        .await
        .expect("count")
}

#[tokio::test]
async fn a_job_survives_killing_the_process_and_resumes_without_losing_or_doubling_versions() {
    let sim: Sim = start(slow_devices(24, "k", 250)).await;
    let d = Deployment::new().await;
    let first = d.start(&["serve"]);
    let app = d.client(&first).await;
    let tag = lab_tag(&app).await;
    let ids = add_sim_devices(&app, &sim, &tag).await;
    set_concurrency(&app, "4").await;
    first.kill();

    // The concurrency applies at start.
    let second = d.start(&["serve"]);
    let app = d.client(&second).await;
    let job = job_id(&app.post_form(&format!("/tags/{tag}/backup"), &[]).await);
    // Kill it in the middle: some devices done, some running, most waiting.
    for _ in 0..300 {
        if count_results(&app, job, "success").await >= 6
            && count_results(&app, job, "running").await >= 1
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    second.kill();
    let done_before = count_results(&app, job, "success").await;
    assert!(
        (6..24).contains(&done_before),
        "killed mid-job ({done_before} done)"
    );
    // Every stored version is whole: nothing half-written.
    for b in backups::Entity::find()
        .all(&app.db)
        .await
        .expect("versions")
    {
        assert!(
            b.content.trim_end().ends_with("end"),
            "truncated version {}",
            b.id
        );
        assert_eq!(b.size as usize, b.content.len());
    }

    // A new process picks the job up: the devices of the dead worker come back to the queue.
    let third = d.start(&["serve"]);
    let app = d.client(&third).await;
    let settled = finished(&app, job).await;
    assert_eq!(settled.status, JobStatus::Success, "{:?}", settled.message);
    for id in &ids {
        let versions = backups::Entity::find()
            .filter(backups::Column::DeviceId.eq(*id))
            .count(&app.db)
            .await
            .expect("count");
        assert_eq!(versions, 1, "device {id}: one version, never two");
    }
    let warnings = job_log_entries::Entity::find()
        .filter(job_log_entries::Column::JobLogId.eq(job))
        .filter(job_log_entries::Column::Message.contains("interrupted"))
        .count(&app.db)
        .await
        .expect("count");
    if warnings == 0 {
        let all: Vec<String> = job_log_entries::Entity::find()
            .filter(job_log_entries::Column::JobLogId.eq(job))
            .all(&app.db)
            .await
            .expect("entries")
            .into_iter()
            .map(|e| format!("{} {} {}", e.timestamp, e.level, e.message))
            .collect();
        panic!(
            "the log does not say which devices were interrupted:\n{}",
            all.join("\n")
        );
    }
    drop(third);
    sim.shutdown().await;
}

#[tokio::test]
async fn two_worker_processes_share_a_job_and_run_every_device_once() {
    let sim: Sim = start(slow_devices(30, "w", 150)).await;
    let d = Deployment::new().await;
    let web = d.start(&["serve", "--no-workers"]);
    let app = d.client(&web).await;
    let tag = lab_tag(&app).await;
    add_sim_devices(&app, &sim, &tag).await;
    set_concurrency(&app, "5").await;
    let w1 = d.start(&["worker"]);
    let w2 = d.start(&["worker"]);
    let job = job_id(&app.post_form(&format!("/tags/{tag}/backup"), &[]).await);
    let settled = finished(&app, job).await;
    assert_eq!(settled.status, JobStatus::Success, "{:?}", settled.message);
    for (i, _) in sim.devices().iter().enumerate() {
        assert_eq!(sim.sessions_served(i), 1, "device {i} was logged into once");
    }
    drop((w1, w2, web));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_due_schedule_starts_one_job_however_many_workers_tick_and_missed_runs_collapse() {
    use chrono::{Duration as Span, Utc};
    use netraven::entity::{job_logs, scheduled_jobs};
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};

    let sim: Sim = start(slow_devices(3, "s", 0)).await;
    let d = Deployment::new().await;
    let web = d.start(&["serve", "--no-workers"]);
    let app = d.client(&web).await;
    let tag = lab_tag(&app).await;
    add_sim_devices(&app, &sim, &tag).await;
    let r = app
        .submit(
            "/schedules/new",
            "/schedules",
            &[
                ("name", "every 10 minutes"),
                ("job_type", "backup"),
                ("target_type", "tag"),
                ("tag_id", &tag),
                ("schedule_type", "interval"),
                ("minutes", "10"),
                ("timezone", "UTC"),
                ("enabled", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "schedule created");
    let id: i32 = crate::helpers::location(&r)
        .trim_start_matches("/schedules/")
        .parse()
        .expect("schedule id");
    let jobs_of = |db: sea_orm::DatabaseConnection| async move {
        job_logs::Entity::find()
            .filter(job_logs::Column::ScheduledJobId.eq(id))
            .count(&db)
            .await
            .expect("count")
    };
    let set_next = |at: chrono::DateTime<Utc>| {
        let db = app.db.clone();
        async move {
            let mut s = scheduled_jobs::Entity::find_by_id(id)
                .one(&db)
                .await
                .expect("q")
                .expect("schedule")
                .into_active_model();
            s.next_run_at = Set(Some(at));
            s.update(&db).await.expect("update");
        }
    };
    // Due now, with two workers ticking every few seconds.
    set_next(Utc::now() - Span::seconds(1)).await;
    let w1 = d.start(&["worker"]);
    let w2 = d.start(&["worker"]);
    tokio::time::sleep(Duration::from_secs(12)).await;
    assert_eq!(jobs_of(app.db.clone()).await, 1, "one job for one due run");
    let s = scheduled_jobs::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .expect("q")
        .expect("schedule");
    assert!(
        s.next_run_at.expect("next") > Utc::now(),
        "advanced to the future"
    );
    assert!(s.last_run_at.is_some());

    // Ten periods overdue (the cluster was down): one run, not ten.
    set_next(Utc::now() - Span::minutes(100)).await;
    tokio::time::sleep(Duration::from_secs(12)).await;
    assert_eq!(
        jobs_of(app.db.clone()).await,
        2,
        "missed runs collapse into one"
    );
    let s = scheduled_jobs::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .expect("q")
        .expect("schedule");
    assert!(s.next_run_at.expect("next") > Utc::now());
    let job = job_logs::Entity::find()
        .filter(job_logs::Column::ScheduledJobId.eq(id))
        .all(&app.db)
        .await
        .expect("jobs");
    for j in job {
        assert_eq!(finished(&app, j.id).await.status, JobStatus::Success);
    }
    drop((w1, w2, web));
    sim.shutdown().await;
}

/// The mirror entries of a job's log.
async fn mirror_entries(app: &TestApp, job: i32) -> Vec<String> {
    job_log_entries::Entity::find()
        .filter(job_log_entries::Column::JobLogId.eq(job))
        .filter(job_log_entries::Column::Message.contains("mirror configs"))
        .all(&app.db)
        .await
        .expect("entries")
        .into_iter()
        .map(|e| e.message)
        .collect()
}

async fn wait_for_mirror(app: &TestApp, job: i32) -> Vec<String> {
    for _ in 0..600 {
        let found = mirror_entries(app, job).await;
        if !found.is_empty() {
            // Another worker's duplicate would come right after; give it the time to show.
            tokio::time::sleep(Duration::from_secs(2)).await;
            return mirror_entries(app, job).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("job {job} has no mirror entry");
}

#[tokio::test]
async fn two_worker_processes_mirror_each_job_once() {
    use crate::git::{add_repository, bare, git};
    let sim: Sim = start(slow_devices(20, "m", 50)).await;
    let d = Deployment::new().await;
    let web = d.start(&["serve", "--no-workers"]);
    let app = d.client(&web).await;
    let tag = lab_tag(&app).await;
    add_sim_devices(&app, &sim, &tag).await;
    set_concurrency(&app, "5").await;
    let remote = bare(&d.dir, "mirror.git");
    let r = add_repository(
        &app,
        &[
            ("name", "configs"),
            ("url", &remote.display().to_string()),
            ("is_mirror", "on"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let w1 = d.start(&["worker"]);
    let w2 = d.start(&["worker"]);
    let job = job_id(&app.post_form(&format!("/tags/{tag}/backup"), &[]).await);
    assert_eq!(finished(&app, job).await.status, JobStatus::Success);
    let said = wait_for_mirror(&app, job).await;
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].contains("(20 files changed)"), "{said:?}");
    // Two jobs at once on two workers: each mirrored once, and no change pushed twice.
    sim.change_config(3, "interface Loopback7");
    let a = job_id(&app.post_form(&format!("/tags/{tag}/backup"), &[]).await);
    let b = job_id(&app.post_form("/backup-all", &[]).await);
    finished(&app, a).await;
    finished(&app, b).await;
    let (said_a, said_b) = (
        wait_for_mirror(&app, a).await,
        wait_for_mirror(&app, b).await,
    );
    assert_eq!(
        (said_a.len(), said_b.len()),
        (1, 1),
        "{said_a:?} {said_b:?}"
    );
    let subjects = git(&remote, &["log", "--format=%s", "main"]);
    assert_eq!(subjects.lines().count(), 2, "{subjects}");
    assert!(
        subjects
            .lines()
            .next()
            .unwrap_or("")
            .ends_with("1 configuration changed"),
        "{subjects}"
    );
    drop((w1, w2, web));
    sim.shutdown().await;
}
