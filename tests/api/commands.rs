//! Command runs over real SSH (devsim): outputs kept per device and command with secrets
//! masked, a command the device refuses recorded while the others run, the deny list, the
//! `execute` permission, TextFSM tables, and the downloads.

use reqwest::StatusCode;

use crate::engine::start;
use crate::helpers::{TestApp, location, spawn_app_with_workers, unescaped};
use crate::jobs::{add_sim_devices, lab_tag, posted_job};
use devsim::{DeviceSpec, Platform};
use netraven::entity::job_logs;
use netraven::vocabulary::JobStatus;

async fn run(app: &TestApp, fields: &[(&str, &str)]) -> job_logs::Model {
    posted_job(app, "/commands", fields).await
}

#[tokio::test]
async fn commands_run_on_a_tag_keep_outputs_masked_and_parse_into_tables() {
    let sim = start(vec![
        DeviceSpec::new(
            Platform::CiscoIos,
            "ios1",
            crate::engine::USER,
            crate::engine::PASSWORD,
        ),
        DeviceSpec::new(
            Platform::AristaEos,
            "eos1",
            crate::engine::USER,
            crate::engine::PASSWORD,
        ),
    ])
    .await;
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    let tag = lab_tag(&app).await;
    add_sim_devices(&app, &sim, &tag).await;

    // The deny list refuses before anything starts.
    for bad in [
        "reload",
        "conf t",
        "write erase",
        "copy running-config startup-config",
    ] {
        let r = app
            .post_form(
                "/commands",
                &[("commands", bad), ("device", ""), ("tag_id", &tag)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(
            unescaped(&r.text().await.unwrap_or_default()).contains("is refused here"),
            "{bad}"
        );
    }
    let job = run(
        &app,
        &[
            (
                "commands",
                "show version\nshow running-config\nshow nonsense-thing",
            ),
            ("device", ""),
            ("tag_id", &tag),
        ],
    )
    .await;
    assert_eq!(job.status, JobStatus::Success, "{:?}", job.message);
    let outputs = netraven::services::commands::outputs(&app.db, job.id)
        .await
        .expect("outputs");
    assert_eq!(outputs.len(), 6, "two devices, three commands each");
    let of = |host: &str, pos: i32| {
        outputs
            .iter()
            .find(|o| o.hostname == host && o.position == pos)
            .unwrap_or_else(|| panic!("{host} #{pos}"))
    };
    assert!(
        of("ios1", 0)
            .output
            .as_deref()
            .unwrap_or("")
            .contains("Cisco IOS")
    );
    let config = of("ios1", 1).output.clone().unwrap_or_default();
    assert!(
        config.contains("<masked>") && config.contains("hostname ios1"),
        "secrets masked"
    );
    assert!(
        of("ios1", 2).error.is_some(),
        "a refused command is recorded"
    );
    assert!(
        of("eos1", 0)
            .output
            .as_deref()
            .unwrap_or("")
            .contains("Arista")
    );
    assert_eq!(app.audit_count("commands.run").await, 1);

    // A TextFSM template turns the outputs into tables.
    let r = app
        .post_form(
            "/templates",
            &[
                ("name", "version"),
                ("template_type", "textfsm"),
                ("category", ""),
                ("description", ""),
                ("variables", ""),
                ("scope", "global"),
                (
                    "content",
                    "Value VERSION ([^\\s,]+)\n\nStart\n  ^.*[Vv]ersion:? ${VERSION} -> Record\n",
                ),
                ("change_note", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let parser = location(&r).trim_start_matches("/templates/").to_string();
    let (status, html) = app
        .get_html(&format!("/commands/jobs/{}?parser={parser}", job.id))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<th>VERSION</th>") && html.contains("<td>17.03.04a</td>"),
        "{html}"
    );
    let (_, html) = app.get_html(&format!("/commands/jobs/{}", job.id)).await;
    assert!(html.contains("Refused by the device"));

    // Downloads: one device's text, and everything as a tar archive.
    let ios = of("ios1", 0).device_id.expect("device");
    let text = app
        .get(&format!(
            "/commands/jobs/{}/devices/{ios}/output.txt",
            job.id
        ))
        .await
        .text()
        .await
        .expect("text");
    assert!(text.starts_with("## show version\n") && text.contains("## show running-config\n"));
    let tar = app
        .get(&format!("/commands/jobs/{}/outputs.tar", job.id))
        .await
        .bytes()
        .await
        .expect("tar");
    assert_eq!(tar.len() % 512, 0);
    let name = format!("job{}/eos1.txt", job.id);
    assert_eq!(
        &tar[..name.len()],
        name.as_bytes(),
        "the first file, by host name"
    );
    assert!(tar.windows(7).any(|w| w == b"ios1.tx"));

    // Without execute: no running commands, reading the outputs is fine.
    app.create_user("eng", "engineer", "Engineer-passw0rd-1")
        .await;
    let eng = app.new_browser();
    assert_eq!(
        eng.login("eng", "Engineer-passw0rd-1").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(eng.get_html("/commands").await.0, StatusCode::FORBIDDEN);
    let r = eng
        .post_form(
            "/commands",
            &[
                ("commands", "show version"),
                ("device", "ios1"),
                ("tag_id", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        eng.get_html(&format!("/commands/jobs/{}", job.id)).await.0,
        StatusCode::OK
    );
    sim.shutdown().await;
}
