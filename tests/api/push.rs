//! Configuration pushes over real SSH (devsim): the dry run sends nothing and marks the lines the
//! stored configuration lacks; the apply needs the number of devices confirmed, enters each
//! platform's configuration mode, commits where the platform commits, saves when asked and backs
//! the device up, so the new version differs by exactly the pushed lines; a refused line stops
//! the device (Junos's candidate rolled back); cancel; the `execute` permission.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use crate::engine::{PASSWORD, USER, start};
use crate::helpers::{TestApp, location, spawn_app, spawn_app_with_workers, unescaped};
use crate::jobs::{
    add_sim_devices, finished, lab_tag, one_device_at_a_time, posted_job, until_a_device_runs,
};
use devsim::{DeviceSpec, Platform, Sim};
use netraven::entity::{backups, job_logs, push_results};
use netraven::vocabulary::{JobStatus, JobType, PushStatus};

/// Back up every device of the tag once, so pushes have stored configurations to compare with.
async fn backed_up(app: &TestApp, tag: &str) {
    let r = app.post_form(&format!("/tags/{tag}/backup"), &[]).await;
    let id: i32 = location(&r)
        .trim_start_matches("/jobs/")
        .parse()
        .expect("job id");
    let job = finished(app, id).await;
    assert_eq!(job.status, JobStatus::Success, "{:?}", job.message);
}

/// The push form's fields for a tag.
fn fields<'a>(
    source: &'a [(&'a str, &'a str)],
    tag: &'a str,
    extra: &'a [(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut f = source.to_vec();
    f.extend([("devices", ""), ("tag_id", tag)]);
    f.extend(extra);
    f
}

async fn applied(app: &TestApp, fields: &[(&str, &str)]) -> job_logs::Model {
    posted_job(app, "/push", fields).await
}

async fn rows(app: &TestApp, job: i32) -> Vec<push_results::Model> {
    netraven::services::push::results(&app.db, job)
        .await
        .expect("results")
}

/// The device's two newest stored versions: the lines the newer one added and removed, without
/// the comment lines every read changes (`! Last configuration change`, `## Last commit`).
async fn last_change(app: &TestApp, hostname: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let device = netraven::services::devices::find_by_hostname(&app.db, hostname)
        .await
        .expect("query")
        .expect("device");
    let versions = backups::Entity::find()
        .filter(backups::Column::DeviceId.eq(device.id))
        .order_by_desc(backups::Column::Version)
        .all(&app.db)
        .await
        .expect("backups");
    assert!(versions.len() >= 2, "{hostname}: a version after the push");
    let lines = |b: &backups::Model| -> BTreeSet<String> {
        b.content
            .lines()
            .filter(|l| !l.starts_with('!') && !l.starts_with('#'))
            .map(str::to_string)
            .collect()
    };
    let (new, old) = (lines(&versions[0]), lines(&versions[1]));
    (
        new.difference(&old).cloned().collect(),
        old.difference(&new).cloned().collect(),
    )
}

fn set(lines: &[&str]) -> BTreeSet<String> {
    lines.iter().map(|l| l.to_string()).collect()
}

const TEMPLATE: &str = "{% if device.platform == \"juniper_junos\" %}\
set snmp location rack-{{ vars.rack }}\nset snmp contact noc-{{ device.hostname }}\n\
{% else %}snmp-server location rack-{{ vars.rack }}\nsnmp-server contact noc-{{ device.hostname }}\n{% endif %}";

fn spec(platform: Platform, name: &str) -> DeviceSpec {
    DeviceSpec::new(platform, name, USER, PASSWORD)
}

async fn sessions(sim: &Sim) -> Vec<u64> {
    (0..sim.devices().len())
        .map(|i| sim.sessions_served(i))
        .collect()
}

#[tokio::test]
async fn dry_run_sends_nothing_and_apply_pushes_commits_saves_and_backs_up_on_four_platforms() {
    let sim = start(vec![
        spec(Platform::AristaEos, "eos1"),
        spec(Platform::CiscoIos, "ios1"),
        spec(Platform::CiscoIosxr, "xr1"),
        spec(Platform::JuniperJunos, "junos1"),
    ])
    .await;
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    let tag = lab_tag(&app).await;
    add_sim_devices(&app, &sim, &tag).await;
    backed_up(&app, &tag).await;
    let r = app
        .post_form(
            "/templates",
            &[
                ("name", "snmp-location"),
                ("template_type", "jinja2"),
                ("category", "snmp"),
                ("description", ""),
                ("variables", "rack = 1 # the rack"),
                ("scope", "global"),
                ("content", TEMPLATE),
                ("change_note", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let template = location(&r).trim_start_matches("/templates/").to_string();
    let source = [
        ("source", "template"),
        ("template_id", template.as_str()),
        ("values", "rack = 12"),
        ("lines", ""),
    ];

    // The dry run: each device's lines, new ones marked; nothing reaches a device.
    let before = sessions(&sim).await;
    let (status, html) = {
        let r = app
            .post_form("/push", &fields(&source, &tag, &[("action", "dry_run")]))
            .await;
        (r.status(), unescaped(&r.text().await.unwrap_or_default()))
    };
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("Dry run: 4 devices, 8 lines not in their stored configurations"),
        "{html}"
    );
    assert!(html.contains("+ snmp-server location rack-12"));
    assert!(html.contains("+ set snmp contact noc-junos1"));
    assert!(html.contains("Apply to 4 devices"));
    assert_eq!(sessions(&sim).await, before, "a dry run opens no session");
    assert_eq!(app.audit_count("push.apply").await, 0);

    // The apply needs the number of devices confirmed.
    let r = app
        .post_form(
            "/push",
            &fields(
                &source,
                &tag,
                &[("action", "apply"), ("confirm", "3"), ("save", "on")],
            ),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unescaped(&r.text().await.unwrap_or_default()).contains("Confirm the push to 4 devices")
    );
    assert_eq!(sessions(&sim).await, before);

    let job = applied(
        &app,
        &fields(
            &source,
            &tag,
            &[("action", "apply"), ("confirm", "4"), ("save", "on")],
        ),
    )
    .await;
    assert_eq!(job.status, JobStatus::Success, "{:?}", job.message);
    let results = rows(&app, job.id).await;
    assert_eq!(results.len(), 4);
    for r in &results {
        assert_eq!(r.status, PushStatus::Applied, "{r:?}");
        assert_eq!((r.applied, r.line_count, r.new_lines), (2, 2, 2), "{r:?}");
        assert!(r.backup_id.is_some(), "{r:?}");
    }
    let saved = |host: &str| {
        results
            .iter()
            .find(|r| r.hostname == host)
            .and_then(|r| r.saved)
    };
    assert_eq!(saved("ios1"), Some(true));
    assert_eq!(saved("eos1"), Some(true));
    assert_eq!(saved("junos1"), None, "a commit is Junos's save");
    let index = |host: &str| {
        sim.devices()
            .iter()
            .position(|d| d.hostname == host)
            .expect("sim device")
    };
    assert_eq!(sim.saves(index("ios1")), 1);
    assert_eq!(sim.saves(index("eos1")), 1);

    // The backup taken after the push differs from the one before by exactly the pushed lines.
    for host in ["ios1", "eos1", "xr1"] {
        assert_eq!(
            last_change(&app, host).await,
            (
                set(&[
                    "snmp-server location rack-12",
                    &format!("snmp-server contact noc-{host}")
                ]),
                BTreeSet::new()
            ),
            "{host}"
        );
    }
    assert_eq!(
        last_change(&app, "junos1").await,
        (
            set(&["set snmp location rack-12", "set snmp contact noc-junos1"]),
            BTreeSet::new()
        )
    );
    // The job page shows each device's outcome and links the diff.
    let (_, page) = app.get_html(&format!("/push/jobs/{}", job.id)).await;
    assert!(page.contains("2 lines applied"), "{page}");
    assert!(page.contains("/changes"));
    // Audited with the rendered text, then with the outcome.
    assert_eq!(app.audit_count("push.apply").await, 1);
    assert_eq!(app.audit_count("push.finished").await, 1);

    // The same push again: every line is already there.
    let r = app
        .post_form("/push", &fields(&source, &tag, &[("action", "dry_run")]))
        .await;
    assert!(
        unescaped(&r.text().await.unwrap_or_default())
            .contains("Dry run: 4 devices, 0 lines not in their stored configurations")
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_refused_line_stops_the_device_and_junos_rolls_its_candidate_back() {
    let sim = start(vec![
        spec(Platform::CiscoIos, "ios1"),
        spec(Platform::JuniperJunos, "junos1"),
    ])
    .await;
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    let tag = lab_tag(&app).await;
    add_sim_devices(&app, &sim, &tag).await;
    backed_up(&app, &tag).await;
    let lines =
        "snmp-server location before-the-error\nfrobnicate 1\nsnmp-server contact never-sent";
    let source = [
        ("source", "lines"),
        ("template_id", ""),
        ("values", ""),
        ("lines", lines),
    ];
    let job = applied(
        &app,
        &[
            source[0],
            source[1],
            source[2],
            source[3],
            ("devices", "ios1"),
            ("tag_id", ""),
            ("action", "apply"),
            ("confirm", "1"),
            ("save", "on"),
        ],
    )
    .await;
    assert_eq!(job.status, JobStatus::Failed, "{:?}", job.message);
    let r = &rows(&app, job.id).await[0];
    assert_eq!(r.status, PushStatus::Refused);
    assert_eq!(
        (r.applied, r.refused_line.as_deref()),
        (1, Some("frobnicate 1"))
    );
    assert!(
        r.message
            .as_deref()
            .unwrap_or("")
            .contains("line 2 of 3 refused"),
        "{r:?}"
    );
    assert_eq!(r.saved, None, "a half-applied change is not saved");
    assert_eq!(sim.saves(0), 0);
    // IOS applies line by line: the first line is in, the third was never sent.
    assert_eq!(
        last_change(&app, "ios1").await,
        (
            set(&["snmp-server location before-the-error"]),
            BTreeSet::new()
        )
    );

    let junos = "set snmp location before-the-error\nset frobnicate 1\nset snmp contact never-sent";
    let job = applied(
        &app,
        &[
            ("source", "lines"),
            ("template_id", ""),
            ("values", ""),
            ("lines", junos),
            ("devices", "junos1"),
            ("tag_id", ""),
            ("action", "apply"),
            ("confirm", "1"),
        ],
    )
    .await;
    assert_eq!(job.status, JobStatus::Failed);
    let r = &rows(&app, job.id).await[0];
    assert_eq!(
        (r.status, r.applied, r.rolled_back),
        (PushStatus::Refused, 1, true),
        "{r:?}"
    );
    // The candidate was rolled back: the backup after the push equals the one before.
    let device = netraven::services::devices::find_by_hostname(&app.db, "junos1")
        .await
        .expect("query")
        .expect("device");
    let latest = backups::Entity::find()
        .filter(backups::Column::DeviceId.eq(device.id))
        .order_by_desc(backups::Column::Version)
        .one(&app.db)
        .await
        .expect("query")
        .expect("backup");
    assert!(!latest.content.contains("before-the-error"), "rolled back");
    assert_eq!(
        r.backup_id,
        Some(latest.id),
        "unchanged: the last version is the push's backup"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn cancel_stops_the_devices_not_started_and_execute_is_required() {
    let specs = (1..=5)
        .map(|i| {
            let mut s = spec(Platform::CiscoIos, &format!("slow{i}"));
            s.command_latency = Duration::from_millis(300);
            s
        })
        .collect();
    let sim = start(specs).await;
    let mut app = spawn_app().await;
    app.login_admin().await;
    let tag = lab_tag(&app).await;
    add_sim_devices(&app, &sim, &tag).await;
    one_device_at_a_time(&app).await;
    app.start_workers().await;
    let r = app
        .post_form(
            "/push",
            &[
                ("source", "lines"),
                ("template_id", ""),
                ("values", ""),
                ("lines", "snmp-server location lab"),
                ("devices", ""),
                ("tag_id", &tag),
                ("action", "apply"),
                ("confirm", "5"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let job: i32 = location(&r)
        .trim_start_matches("/push/jobs/")
        .parse()
        .expect("id");
    until_a_device_runs(&app, job).await;
    let r = app.post_form(&format!("/jobs/{job}/cancel"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let done = finished(&app, job).await;
    assert_eq!(done.status, JobStatus::Cancelled);
    let results = rows(&app, job).await;
    let pending = results
        .iter()
        .filter(|r| r.status == PushStatus::Pending)
        .count();
    let applied = results
        .iter()
        .filter(|r| r.status == PushStatus::Applied)
        .count();
    assert!(pending >= 3, "{results:?}");
    assert_eq!(pending + applied, 5, "{results:?}");
    let touched = (0..5).filter(|i| sim.sessions_served(*i) > 0).count();
    assert_eq!(
        touched, applied,
        "no session to a device that was not started"
    );

    // Without `execute`: no push page, no push; the push's page reads.
    app.create_user("eng", "engineer", "Engineer-passw0rd-1")
        .await;
    let eng = app.new_browser();
    assert_eq!(
        eng.login("eng", "Engineer-passw0rd-1").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(eng.get_html("/push").await.0, StatusCode::FORBIDDEN);
    let r = eng
        .post_form(
            "/push",
            &[
                ("source", "lines"),
                ("lines", "snmp-server location x"),
                ("devices", "slow1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        eng.get_html(&format!("/push/jobs/{job}")).await.0,
        StatusCode::OK
    );
    let pushes = job_logs::Entity::find()
        .filter(job_logs::Column::JobType.eq(JobType::ConfigPush))
        .count(&app.db)
        .await
        .expect("count");
    assert_eq!(pushes, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_push_input_gets_messages_on_the_form() {
    let app = spawn_app().await;
    app.login_admin().await;
    app.add_device("fw1", "127.0.0.1", "cisco_ios").await;
    for (fields, message) in [
        (
            vec![("source", "lines"), ("lines", ""), ("devices", "fw1")],
            "Enter the lines to push.",
        ),
        (
            vec![("source", "lines"), ("lines", "a\tb"), ("devices", "fw1")],
            "control character",
        ),
        (
            vec![("source", "lines"), ("lines", "x"), ("devices", "nope")],
            "No device has these host names: nope.",
        ),
        (
            vec![("source", "lines"), ("lines", "x"), ("devices", "")],
            "Enter host names, or choose a tag.",
        ),
        (
            vec![
                ("source", "template"),
                ("template_id", "999"),
                ("devices", "fw1"),
            ],
            "Choose a template.",
        ),
    ] {
        let r = app.post_form("/push", &fields).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        let html = unescaped(&r.text().await.unwrap_or_default());
        assert!(html.contains(message), "{message}: {html}");
    }
    assert_eq!(app.audit_count("push.apply").await, 0);
}

#[tokio::test]
async fn a_pre_run_command_is_parsed_into_records_the_template_renders() {
    let sim = start(vec![spec(Platform::CiscoIos, "ios1")]).await;
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    let tag = lab_tag(&app).await;
    add_sim_devices(&app, &sim, &tag).await;
    let template = |name: &'static str, kind: &'static str, content: &'static str| {
        vec![
            ("name", name),
            ("template_type", kind),
            ("category", ""),
            ("description", ""),
            ("variables", ""),
            ("scope", "global"),
            ("content", content),
            ("change_note", ""),
        ]
    };
    let r = app
        .post_form(
            "/templates",
            &template(
                "ios-version",
                "textfsm",
                "Value VERSION ([^\\s,]+)\n\nStart\n  ^.*Software.*Version ${VERSION} -> Record\n",
            ),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let parser = location(&r).trim_start_matches("/templates/").to_string();
    let mut fields = template(
        "banner-version",
        "jinja2",
        "banner motd ^{{ device.hostname }} runs {{ pre_run[0].VERSION }}^\n",
    );
    // A pre-run command must be read-only, and needs its parser.
    for (command, parser_id, message) in [
        ("reload", parser.as_str(), "is refused here"),
        ("show version", "", "Choose the TextFSM template"),
    ] {
        let mut f = fields.clone();
        f.extend([
            ("pre_run_command", command),
            ("pre_run_parser_id", parser_id),
        ]);
        let r = app.post_form("/templates", &f).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            unescaped(&r.text().await.unwrap_or_default()).contains(message),
            "{message}"
        );
    }
    fields.extend([
        ("pre_run_command", "show version"),
        ("pre_run_parser_id", parser.as_str()),
    ]);
    let r = app.post_form("/templates", &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id = location(&r).trim_start_matches("/templates/").to_string();

    // The preview runs the command on the device and renders its parsed version.
    let before = sim.sessions_served(0);
    let r = app
        .post_form(
            &format!("/templates/{id}/preview"),
            &[("device", "ios1"), ("tag_id", ""), ("values", "")],
        )
        .await;
    let html = unescaped(&r.text().await.unwrap_or_default());
    assert!(html.contains("banner motd ^ios1 runs 17.03.04a^"), "{html}");
    assert_eq!(sim.sessions_served(0), before + 1);
    // So does the push's dry run.
    let r = app
        .post_form(
            "/push",
            &[
                ("source", "template"),
                ("template_id", &id),
                ("values", ""),
                ("lines", ""),
                ("devices", "ios1"),
                ("tag_id", ""),
            ],
        )
        .await;
    let html = unescaped(&r.text().await.unwrap_or_default());
    assert!(
        html.contains("+ banner motd ^ios1 runs 17.03.04a^"),
        "{html}"
    );
    sim.shutdown().await;
}

/// Every platform's profile drives devsim's configuration mode: lines in, committed where the
/// platform commits, saved where asked, read back by the backup after the push.
#[tokio::test]
async fn every_platform_takes_a_push_and_saves() {
    let specs = Platform::ALL
        .iter()
        .map(|p| spec(*p, &format!("p-{}", p.as_str().replace('_', "-"))))
        .collect();
    let sim = start(specs).await;
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    let tag = lab_tag(&app).await;
    add_sim_devices(&app, &sim, &tag).await;
    backed_up(&app, &tag).await;
    let template = r#"{% set lines = {
  "juniper_junos": "set snmp location push-everywhere",
  "huawei_vrp": "snmp-agent sys-info location push-everywhere",
  "paloalto_panos": "set deviceconfig system domain push-everywhere.example",
  "fortinet_fortios": "config system snmp sysinfo\n    set location \"push-everywhere\"\nend",
  "mikrotik_routeros": "/snmp set location=push-everywhere",
  "linux": "router bgp 65000\n neighbor 192.0.2.9 description push-everywhere",
} %}{% if device.platform in lines %}{{ lines[device.platform] }}{% else %}snmp-server location push-everywhere{% endif %}
"#;
    let r = app
        .post_form(
            "/templates",
            &[
                ("name", "everywhere"),
                ("template_type", "jinja2"),
                ("category", ""),
                ("description", ""),
                ("variables", ""),
                ("scope", "global"),
                ("content", template),
                ("change_note", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id = location(&r).trim_start_matches("/templates/").to_string();
    let count = Platform::ALL.len().to_string();
    let job = applied(
        &app,
        &[
            ("source", "template"),
            ("template_id", &id),
            ("values", ""),
            ("lines", ""),
            ("devices", ""),
            ("tag_id", &tag),
            ("action", "apply"),
            ("confirm", &count),
            ("save", "on"),
        ],
    )
    .await;
    let results = rows(&app, job.id).await;
    assert_eq!(
        job.status,
        JobStatus::Success,
        "{:?} {results:#?}",
        job.message
    );
    for r in &results {
        assert_eq!(r.status, PushStatus::Applied, "{r:?}");
        let backup = backups::Entity::find_by_id(r.backup_id.expect("backup"))
            .one(&app.db)
            .await
            .expect("query")
            .expect("backup");
        assert!(
            backup.content.contains("push-everywhere"),
            "{}: {}",
            r.hostname,
            backup.content
        );
        let platform = r.hostname.trim_start_matches("p-").replace('-', "_");
        let saves = netraven::device::profile::find(&platform)
            .and_then(|p| p.configure.as_ref())
            .is_some_and(|c| !c.save.is_empty());
        assert_eq!(r.saved, saves.then_some(true), "{}", r.hostname);
    }
    sim.shutdown().await;
}
