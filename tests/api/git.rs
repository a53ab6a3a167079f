//! Git repositories against real remotes on this machine: a bare repository as a local path and
//! the same over smart HTTP (`git http-backend` behind tests/fixtures/git_http_server.py) with a
//! token. The configuration mirror follows real backup jobs of devsim devices.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use devsim::{DeviceSpec, Platform, Sim};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::engine::{PASSWORD, USER, start};
use crate::helpers::{TestApp, location, new_data_dir, spawn_app, spawn_app_with_workers};
use crate::jobs::{add_sim_devices, finished, job_id, lab_tag};
use netraven::entity::{backups, git_repositories, job_log_entries};
use netraven::vocabulary::{JobStatus, SyncStatus};

/// `git` on a test's own repositories, with an identity and no user configuration.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Someone Else")
        .env("GIT_AUTHOR_EMAIL", "else@example.com")
        .env("GIT_COMMITTER_NAME", "Someone Else")
        .env("GIT_COMMITTER_EMAIL", "else@example.com")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An empty bare repository `name` under `root`, accepting pushes over HTTP too.
pub fn bare(root: &Path, name: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).expect("dir");
    git(&dir, &["init", "--quiet", "--bare", "-b", "main"]);
    git(&dir, &["config", "http.receivepack", "true"]);
    dir
}

/// A commit by someone else on the remote's main branch (a clone, a file, a push).
pub fn commit_elsewhere(remote: &Path, file: &str, text: &str) {
    let work = new_data_dir();
    git(
        &work,
        &["clone", "--quiet", &remote.display().to_string(), "w"],
    );
    let w = work.join("w");
    std::fs::write(w.join(file), text).expect("write");
    git(&w, &["add", file]);
    git(
        &w,
        &["commit", "--quiet", "-m", &format!("add {file} by hand")],
    );
    git(&w, &["push", "--quiet", "origin", "HEAD:main"]);
    let _ = std::fs::remove_dir_all(work);
}

/// The smart-HTTP test server; killed when dropped.
pub struct GitServer {
    child: Child,
    pub port: u16,
    pub log: PathBuf,
}

impl Drop for GitServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn git_server(root: &Path, token: &str) -> GitServer {
    use std::io::{BufRead, BufReader};
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/git_http_server.py");
    let log = root.join("requests.log");
    let mut child = Command::new("python3")
        .arg(script)
        .arg("--root")
        .arg(root)
        .env("GIT_TEST_TOKEN", token)
        .arg("--log")
        .arg(&log)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 runs the git server");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("PORT line");
    let port = line
        .trim()
        .strip_prefix("PORT ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("the git server said {line:?}"));
    GitServer { child, port, log }
}

/// The repository form's fields for a new repository, with `changes` over the defaults.
pub async fn add_repository(app: &TestApp, changes: &[(&str, &str)]) -> reqwest::Response {
    app.submit("/git/new", "/git", changes).await
}

pub fn repo_id(r: &reqwest::Response) -> i32 {
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "repository saved");
    location(r).trim_start_matches("/git/").parse().expect("id")
}

async fn repo_row(app: &TestApp, id: i32) -> git_repositories::Model {
    git_repositories::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("repository")
}

/// The messages of a job's log.
pub async fn log_of(app: &TestApp, job: i32) -> Vec<String> {
    job_log_entries::Entity::find()
        .filter(job_log_entries::Column::JobLogId.eq(job))
        .order_by_asc(job_log_entries::Column::Id)
        .all(&app.db)
        .await
        .expect("entries")
        .into_iter()
        .map(|e| format!("{} {}", e.level, e.message))
        .collect()
}

/// Wait for the mirror's word in a backup job's log (it runs after the job's last device).
async fn mirror_said(app: &TestApp, job: i32) -> String {
    for _ in 0..300 {
        if let Some(m) = log_of(app, job)
            .await
            .into_iter()
            .find(|m| m.contains("mirror "))
        {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no mirror entry in job {job}: {:?}", log_of(app, job).await);
}

/// Back up every device; the settled job and the mirror's log entry.
async fn backup_all(app: &TestApp) -> (i32, String) {
    let job = job_id(&app.post_form("/backup-all", &[]).await);
    let settled = finished(app, job).await;
    assert_eq!(settled.status, JobStatus::Success, "{:?}", settled.message);
    (job, mirror_said(app, job).await)
}

fn log_lines(remote: &Path) -> Vec<String> {
    git(remote, &["log", "--format=%s", "main"])
        .lines()
        .map(str::to_string)
        .collect()
}

fn files_at_head(remote: &Path) -> Vec<String> {
    let mut files: Vec<String> = git(remote, &["ls-tree", "-r", "--name-only", "main"])
        .lines()
        .map(str::to_string)
        .collect();
    files.sort();
    files
}

async fn latest_content(app: &TestApp, device: i32) -> String {
    backups::Entity::find()
        .filter(backups::Column::DeviceId.eq(device))
        .order_by_desc(backups::Column::Version)
        .one(&app.db)
        .await
        .expect("query")
        .expect("a version")
        .content
}

fn sim_specs() -> Vec<DeviceSpec> {
    (1..=3)
        .map(|n| DeviceSpec::new(Platform::CiscoIos, format!("gm-r{n}"), USER, PASSWORD))
        .collect()
}

#[tokio::test]
async fn a_mirror_follows_backup_jobs_renames_deletes_and_survives_a_moving_or_missing_remote() {
    let sim: Sim = start(sim_specs()).await;
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    let tag = lab_tag(&app).await;
    let ids = add_sim_devices(&app, &sim, &tag).await;
    let root = new_data_dir();
    let remote = bare(&root, "configs.git");
    let url = remote.display().to_string();
    let id = repo_id(
        &add_repository(
            &app,
            &[
                ("name", "configs"),
                ("url", &url),
                ("category", "configs"),
                ("is_mirror", "on"),
                ("mirror_dir", "devices"),
                ("author_name", "Backup Robot"),
                ("author_email", "robot@example.com"),
            ],
        )
        .await,
    );

    // The first job commits every device, authored as configured, committed by NetRaven.
    let (job, said) = backup_all(&app).await;
    assert!(said.contains("pushed to main (3 files changed)"), "{said}");
    assert_eq!(
        log_lines(&remote),
        vec![format!("Backup job #{job}: 3 configurations changed")]
    );
    assert_eq!(
        files_at_head(&remote),
        vec![
            "devices/gm-r1.cfg",
            "devices/gm-r2.cfg",
            "devices/gm-r3.cfg"
        ]
    );
    assert_eq!(
        git(&remote, &["log", "-1", "--format=%an <%ae> / %cn", "main"]).trim(),
        "Backup Robot <robot@example.com> / NetRaven"
    );
    assert_eq!(
        git(&remote, &["show", "main:devices/gm-r1.cfg"]),
        latest_content(&app, ids[0]).await,
        "the file holds the configuration exactly as stored"
    );
    let r = repo_row(&app, id).await;
    assert_eq!(r.sync_status, Some(SyncStatus::Synced));
    assert_eq!((r.ahead, r.behind), (Some(0), Some(0)));

    // An unchanged job commits nothing.
    let (_, said) = backup_all(&app).await;
    assert!(said.contains("no new configuration version"), "{said}");
    assert_eq!(log_lines(&remote).len(), 1);

    // A changed configuration commits exactly that file, naming the device.
    sim.change_config(1, "interface Loopback99");
    let (job, said) = backup_all(&app).await;
    assert!(said.contains("(1 file changed)"), "{said}");
    let stat = git(&remote, &["show", "--name-only", "--format=%B", "main"]);
    assert!(
        stat.contains(&format!("Backup job #{job}: 1 configuration changed")),
        "{stat}"
    );
    assert!(stat.contains("Changed: gm-r2"), "{stat}");
    assert!(stat.trim_end().ends_with("devices/gm-r2.cfg"), "{stat}");
    assert_eq!(stat.matches(".cfg").count(), 1, "{stat}");

    // Someone else pushes in between: the mirror goes on top and keeps their file.
    commit_elsewhere(&remote, "README.md", "configs of the lab\n");
    // A rename moves the file, a deletion removes it (with the next commit).
    let r = app
        .submit(
            &format!("/devices/{}/edit", ids[0]),
            &format!("/devices/{}", ids[0]),
            &[("hostname", "gm-core1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app
        .post_form(&format!("/devices/{}/delete", ids[2]), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    sim.change_config(1, "interface Loopback100");
    let (_, said) = backup_all(&app).await;
    assert!(said.contains("pushed to main"), "{said}");
    assert_eq!(
        files_at_head(&remote),
        vec!["README.md", "devices/gm-core1.cfg", "devices/gm-r2.cfg"]
    );
    let subjects = log_lines(&remote);
    assert_eq!(subjects[1], "add README.md by hand", "{subjects:?}");
    let body = git(&remote, &["log", "-1", "--format=%B", "main"]);
    assert!(
        body.contains("Moved: gm-core1 (was devices/gm-r1.cfg)"),
        "{body}"
    );
    assert!(body.contains("Removed: devices/gm-r3.cfg"), "{body}");

    // The remote is gone: the job stays a success with a warning, and the next job catches up.
    let away = root.join("away.git");
    std::fs::rename(&remote, &away).expect("move the remote away");
    sim.change_config(1, "interface Loopback101");
    let (job, said) = backup_all(&app).await;
    assert!(
        said.starts_with("warning mirror configs: not updated"),
        "{said}"
    );
    assert!(said.contains("the next job will try again"), "{said}");
    let settled = finished(&app, job).await;
    assert_eq!(settled.status, JobStatus::Success);
    std::fs::rename(&away, &remote).expect("bring the remote back");
    let (_, said) = backup_all(&app).await;
    assert!(said.contains("(1 file changed)"), "{said}");
    assert_eq!(
        git(&remote, &["show", "main:devices/gm-r2.cfg"]),
        latest_content(&app, ids[1]).await
    );

    // The browser reads this server's copy: the tree, a file, its history and a diff.
    let (status, html) = app.get_html(&format!("/git/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("devices/</a>"), "the root lists the folder");
    let (status, html) = app.get_html(&format!("/git/{id}/tree?path=devices")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("gm-core1.cfg") && html.contains("gm-r2.cfg"));
    let (status, html) = app
        .get_html(&format!("/git/{id}/file?path=devices/gm-r2.cfg"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("interface Loopback101"));
    let (status, html) = app
        .get_html(&format!("/git/{id}/history?path=devices/gm-r2.cfg"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let commits: Vec<String> = git(
        &remote,
        &["log", "--format=%H", "main", "--", "devices/gm-r2.cfg"],
    )
    .lines()
    .map(str::to_string)
    .collect();
    assert_eq!(commits.len(), 4, "the file changed in four commits");
    for c in &commits {
        assert!(html.contains(&c[..10]), "history lists {c}");
    }
    let (status, html) = app
        .get_html(&format!(
            "/git/{id}/diff?path=devices/gm-r2.cfg&from={}&to={}",
            commits[1], commits[0]
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("interface Loopback101") && html.contains("diff-count add"));
    let (status, _) = app
        .get_html(&format!(
            "/git/{id}/diff?path=devices/gm-r2.cfg&from={}&to={}&view=side",
            commits[1], commits[0]
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    for bad in [
        format!("/git/{id}/file?path=../etc/passwd"),
        format!("/git/{id}/file?path=devices/gm-r2.cfg&rev=HEAD~1"),
        format!("/git/{id}/diff?path=devices/gm-r2.cfg&from=abc&to=HEAD"),
    ] {
        let (status, _) = app.get_html(&bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let (status, _) = app
        .get_html(&format!("/git/{id}/file?path=devices/nope.cfg"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get_html(&format!("/git/{id}/file?path=devices")).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "a folder's file page leads to its tree"
    );

    // Rebuild writes every device's latest version again: nothing differs, nothing committed.
    let before = log_lines(&remote).len();
    let job = job_id(&app.post_form(&format!("/git/{id}/rebuild"), &[]).await);
    let settled = finished(&app, job).await;
    assert_eq!(settled.status, JobStatus::Success, "{:?}", settled.message);
    assert_eq!(log_lines(&remote).len(), before);
    assert_eq!(app.audit_count("git_repository.rebuild_mirror").await, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn an_https_remote_gets_its_token_as_a_header_and_never_shows_it() {
    const TOKEN: &str = "tok-5ecr3t-4a1b2c3d4e5f";
    let root = new_data_dir();
    let remote = bare(&root, "inventory.git");
    commit_elsewhere(&remote, "sites.yaml", "sites: [lab]\n");
    let server = git_server(&root, TOKEN);
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    let make_credential = async |name: &str, secret: &str| {
        let r = app
            .submit(
                "/credentials/new",
                "/credentials",
                &[
                    ("name", name),
                    ("kind", "token"),
                    ("username", ""),
                    ("secret", secret),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "credential saved");
        location(&r).trim_start_matches("/credentials/").to_string()
    };
    let good = make_credential("git-token", TOKEN).await;
    let wrong = make_credential("stale-token", "tok-wrong").await;
    let url = format!("http://127.0.0.1:{}/inventory.git", server.port);
    let id = repo_id(
        &add_repository(
            &app,
            &[
                ("name", "inventory"),
                ("url", &url),
                ("category", "inventory"),
                ("credential_id", &good),
            ],
        )
        .await,
    );

    // The connection test lists the branches.
    let r = app.post_form(&format!("/git/{id}/test"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = app.get_html(&format!("/git/{id}")).await;
    assert!(
        html.contains("Connected. Branches: main. The branch main exists."),
        "{html}"
    );

    // A sync while `ps` watches: the token is in no process's arguments.
    let job = job_id(&app.post_form(&format!("/git/{id}/sync"), &[]).await);
    let mut seen = String::new();
    for _ in 0..50 {
        let ps = Command::new("ps")
            .args(["-eo", "args"])
            .output()
            .expect("ps");
        seen.push_str(&String::from_utf8_lossy(&ps.stdout));
        if job_log_entries::Entity::find()
            .filter(job_log_entries::Column::JobLogId.eq(job))
            .filter(job_log_entries::Column::Message.contains("job success"))
            .one(&app.db)
            .await
            .expect("query")
            .is_some()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let settled = finished(&app, job).await;
    assert_eq!(settled.status, JobStatus::Success, "{:?}", settled.message);
    assert!(seen.contains("git"), "ps saw the sync's git processes");
    assert!(!seen.contains(TOKEN), "the token is in no process list");
    let copy = app.data_dir.join("git").join(format!("repo-{id}"));
    assert_eq!(
        std::fs::read_to_string(copy.join("sites.yaml")).expect("cloned file"),
        "sites: [lab]\n"
    );
    let config = std::fs::read_to_string(copy.join(".git/config")).expect(".git/config");
    assert!(!config.contains(TOKEN) && config.contains(&url), "{config}");
    let requests = std::fs::read_to_string(&server.log).expect("server log");
    assert!(
        requests.lines().all(|l| l.ends_with(" Basic")),
        "{requests}"
    );
    let logs = log_of(&app, job).await.join("\n");
    assert!(!logs.contains(TOKEN), "{logs}");
    for page in [
        "/git",
        &format!("/git/{id}"),
        &format!("/jobs/{job}"),
        "/audit",
    ] {
        let (_, html) = app.get_html(page).await;
        assert!(!html.contains(TOKEN), "{page} shows the token");
    }
    let r = repo_row(&app, id).await;
    assert_eq!(r.sync_status, Some(SyncStatus::Synced));
    assert_eq!(r.head_message.as_deref(), Some("add sites.yaml by hand"));

    // A new commit on the remote arrives with the next sync (a fetch and fast-forward).
    commit_elsewhere(&remote, "devices.csv", "hostname\nr1\n");
    let job = job_id(&app.post_form(&format!("/git/{id}/sync"), &[]).await);
    assert_eq!(finished(&app, job).await.status, JobStatus::Success);
    assert!(copy.join("devices.csv").is_file());
    // A dirty copy is reset to the remote, with a warning.
    std::fs::write(copy.join("sites.yaml"), "edited by hand\n").expect("edit");
    let job = job_id(&app.post_form(&format!("/git/{id}/sync"), &[]).await);
    assert_eq!(finished(&app, job).await.status, JobStatus::Success);
    let logs = log_of(&app, job).await.join("\n");
    assert!(
        logs.contains("uncommitted changes; they were discarded"),
        "{logs}"
    );
    assert_eq!(
        std::fs::read_to_string(copy.join("sites.yaml")).expect("file"),
        "sites: [lab]\n"
    );
    // Re-clone throws the copy away and clones again.
    let job = job_id(&app.post_form(&format!("/git/{id}/reclone"), &[]).await);
    assert_eq!(finished(&app, job).await.status, JobStatus::Success);
    assert!(
        log_of(&app, job)
            .await
            .iter()
            .any(|m| m.contains("cloned at"))
    );

    // What goes wrong is said in words.
    let check = async |changes: &[(&str, &str)], words: &str| {
        let r = app
            .submit(&format!("/git/{id}/edit"), &format!("/git/{id}"), changes)
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        app.post_form(&format!("/git/{id}/test"), &[]).await;
        let (_, html) = app.get_html(&format!("/git/{id}")).await;
        assert!(html.contains(words), "{words}: {html}");
        assert!(!html.contains(TOKEN) && !html.contains("tok-wrong"));
    };
    check(
        &[("credential_id", &wrong)],
        "Connection failed: authentication failed",
    )
    .await;
    check(
        &[("credential_id", "")],
        "Connection failed: authentication failed",
    )
    .await;
    let missing = format!("http://127.0.0.1:{}/missing.git", server.port);
    check(
        &[("credential_id", &good), ("url", &missing)],
        "Connection failed: repository not found",
    )
    .await;
    drop(server);
    check(
        &[("url", &url)],
        "Connection failed: the remote is unreachable",
    )
    .await;
    // A failed sync says so on the repository page.
    let job = job_id(&app.post_form(&format!("/git/{id}/sync"), &[]).await);
    assert_eq!(finished(&app, job).await.status, JobStatus::Failed);
    let r = repo_row(&app, id).await;
    assert_eq!(r.sync_status, Some(SyncStatus::Error));
    assert!(r.sync_message.unwrap_or_default().contains("unreachable"));
}

#[tokio::test]
async fn the_repository_form_refuses_what_git_cannot_use_and_changes_nothing() {
    let app = spawn_app().await;
    app.login_admin().await;
    let root = new_data_dir();
    let url = bare(&root, "c.git").display().to_string();
    let id = repo_id(&add_repository(&app, &[("name", "c"), ("url", &url)]).await);
    let before = repo_row(&app, id).await;
    for (changes, field_message) in [
        (
            vec![("url", "https://me:hunter2@git.example.com/c.git")],
            "Do not put a password or token in the URL",
        ),
        (
            vec![("url", "ftp://x/c.git")],
            "Enter an https:// or ssh:// URL",
        ),
        (
            vec![("url", "--upload-pack=touch /tmp/x")],
            "A URL cannot start with -",
        ),
        (vec![("branch", "a..b")], "Enter a branch name git accepts"),
        (
            vec![("file_template", "../{hostname}.cfg")],
            "Empty, . and .. path segments",
        ),
        (
            vec![("file_template", "{platform}.cfg")],
            "Include {hostname} or {id}",
        ),
        (vec![("mirror_dir", "/etc")], "Use a relative path"),
        (
            vec![("category", "templates"), ("is_mirror", "on")],
            "Only a configurations repository",
        ),
    ] {
        let r = app
            .submit(&format!("/git/{id}/edit"), &format!("/git/{id}"), &changes)
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{changes:?}");
        let html = r.text().await.expect("body");
        assert!(html.contains(field_message), "{field_message}: {html}");
    }
    assert_eq!(repo_row(&app, id).await, before, "nothing stored changed");
    // A viewer reads but cannot change or sync.
    let viewer = crate::backups::viewer(&app, "gitviewer").await;
    assert_eq!(
        viewer.get_html(&format!("/git/{id}")).await.0,
        StatusCode::OK
    );
    let r = viewer.post_form(&format!("/git/{id}/sync"), &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.audit_count("git_repository.create").await, 1);
}

const SSHD: &str = "/usr/sbin/sshd";

/// Debian's sshd on a loopback port, with its own host key and one authorized client key;
/// killed when dropped.
struct SshServer {
    child: Child,
    port: u16,
    /// `ssh-keygen -l` of the host key: what "Trust host key" must show.
    fingerprint: String,
    client_key: String,
}

impl Drop for SshServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keygen(path: &Path) {
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "netraven-test", "-f"])
        .arg(path)
        .output()
        .expect("ssh-keygen runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// None (with a message) when openssh-server is not installed; under CI that fails the test.
fn ssh_server(dir: &Path) -> Option<SshServer> {
    if !Path::new(SSHD).exists() {
        assert!(
            std::env::var("CI").is_err(),
            "openssh-server must be installed in CI (apt-get install openssh-server)"
        );
        eprintln!("SKIPPED ssh remote test: {SSHD} not installed (apt-get install openssh-server)");
        return None;
    }
    // sshd drops privileges into this folder when it runs as root.
    let _ = std::fs::create_dir_all("/run/sshd");
    keygen(&dir.join("host_key"));
    keygen(&dir.join("client_key"));
    std::fs::copy(dir.join("client_key.pub"), dir.join("authorized_keys")).expect("authorized");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let config = format!(
        "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nAuthorizedKeysFile {d}/authorized_keys\n\
         PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
         PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\nPidFile {d}/sshd.pid\n",
        d = dir.display()
    );
    std::fs::write(dir.join("sshd_config"), config).expect("config");
    let child = Command::new(SSHD)
        .args(["-D", "-e", "-f"])
        .arg(dir.join("sshd_config"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sshd starts");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(dir.join("host_key.pub"))
        .output()
        .expect("fingerprint");
    let fingerprint = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let client_key = std::fs::read_to_string(dir.join("client_key")).expect("client key");
    Some(SshServer {
        child,
        port,
        fingerprint,
        client_key,
    })
}

#[tokio::test]
async fn an_ssh_remote_needs_its_host_key_trusted_and_a_private_key() {
    let root = new_data_dir();
    let Some(sshd) = ssh_server(&root) else {
        return;
    };
    let remote = bare(&root, "templates.git");
    commit_elsewhere(&remote, "base.j2", "hostname {{ device.hostname }}\n");
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    let user = String::from_utf8_lossy(&Command::new("id").arg("-un").output().expect("id").stdout)
        .trim()
        .to_string();
    let r = app
        .submit(
            "/credentials/new",
            "/credentials",
            &[
                ("name", "git-deploy-key"),
                ("kind", "ssh"),
                ("username", &user),
                ("private_key", &sshd.client_key),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let credential = location(&r).trim_start_matches("/credentials/").to_string();
    let url = format!("ssh://127.0.0.1:{}{}", sshd.port, remote.display());
    let id = repo_id(
        &add_repository(
            &app,
            &[
                ("name", "templates"),
                ("url", &url),
                ("category", "templates"),
                ("credential_id", &credential),
            ],
        )
        .await,
    );
    let said = async || {
        app.post_form(&format!("/git/{id}/test"), &[]).await;
        app.get_html(&format!("/git/{id}")).await.1
    };
    let html = said().await;
    assert!(
        html.contains("Connection failed: unknown SSH host key"),
        "{html}"
    );
    let r = app
        .post_form(&format!("/git/{id}/trust-host-key"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = app.get_html(&format!("/git/{id}")).await;
    assert!(
        html.contains(&format!(
            "Host key trusted: ssh-ed25519 {}",
            sshd.fingerprint
        )),
        "{} in {html}",
        sshd.fingerprint
    );
    assert_eq!(app.audit_count("git_repository.trust_host_key").await, 1);
    let html = said().await;
    assert!(html.contains("Connected. Branches: main."), "{html}");
    let job = job_id(&app.post_form(&format!("/git/{id}/sync"), &[]).await);
    let settled = finished(&app, job).await;
    assert_eq!(settled.status, JobStatus::Success, "{:?}", settled.message);
    let (_, html) = app.get_html(&format!("/git/{id}/file?path=base.j2")).await;
    assert!(html.contains("hostname {{ device.hostname }}"), "{html}");
    // The key files lived only as long as each git command.
    let tmp = app.data_dir.join("git").join("tmp");
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?} left in {}", tmp.display());
    // Another key is refused, in words.
    keygen(&root.join("other_key"));
    let other = std::fs::read_to_string(root.join("other_key")).expect("other key");
    let r = app
        .submit(
            &format!("/credentials/{credential}/edit"),
            &format!("/credentials/{credential}"),
            &[("private_key", &other)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = said().await;
    assert!(
        html.contains("Connection failed: authentication failed"),
        "{html}"
    );
    assert!(!html.contains("PRIVATE KEY"));
}

#[tokio::test]
async fn a_page_brings_this_servers_copy_up_to_what_another_machine_recorded() {
    use sea_orm::sea_query::Expr;
    let root = new_data_dir();
    let remote = bare(&root, "shared.git");
    commit_elsewhere(&remote, "a.txt", "first\n");
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    let url = remote.display().to_string();
    let id = repo_id(
        &add_repository(
            &app,
            &[("name", "shared"), ("url", &url), ("category", "inventory")],
        )
        .await,
    );
    let job = job_id(&app.post_form(&format!("/git/{id}/sync"), &[]).await);
    assert_eq!(finished(&app, job).await.status, JobStatus::Success);
    // A worker on another machine synced a newer commit and recorded it.
    commit_elsewhere(&remote, "b.txt", "second\n");
    let head = git(&remote, &["rev-parse", "main"]).trim().to_string();
    git_repositories::Entity::update_many()
        .col_expr(git_repositories::Column::HeadCommit, Expr::value(head))
        .filter(git_repositories::Column::Id.eq(id))
        .exec(&app.db)
        .await
        .expect("recorded");
    let (status, html) = app.get_html(&format!("/git/{id}/tree")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("b.txt"),
        "the page fetched the recorded commit: {html}"
    );
    // This server's copy is gone (a new machine, a cleaned data folder): the page makes one.
    std::fs::remove_dir_all(app.data_dir.join("git").join(format!("repo-{id}"))).expect("rm");
    let (status, html) = app.get_html(&format!("/git/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("a.txt") && html.contains("b.txt"), "{html}");
}
