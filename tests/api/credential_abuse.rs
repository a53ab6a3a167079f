//! Ways a user could get a credential's secret or take it over, each tried through HTTP: a device
//! at an address the attacker controls (allowed networks), a secret that carries commands, a
//! shared credential made private, and private credentials named in logs other users read.

use devsim::{DeviceSpec, Platform, Sim};
use netraven::vocabulary::{CredentialKind, JobStatus};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use crate::engine::{PASSWORD, USER, start};
use crate::helpers::{TestApp, location, spawn_app, spawn_app_with_workers};
use crate::jobs::{add_sim_devices, finished, job_id};
use netraven::entity::{
    audit_logs, credentials, device_tags, devices, job_log_entries, job_results,
};

/// A credential through the form; returns its id.
async fn credential(app: &TestApp, changes: &[(&str, &str)]) -> String {
    let r = app
        .submit("/credentials/new", "/credentials", changes)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "credential created");
    location(&r).trim_start_matches("/credentials/").to_string()
}

async fn attach(app: &TestApp, cred: &str, tag: &str) -> reqwest::Response {
    app.post_form(
        &format!("/credentials/{cred}/tags"),
        &[("tag_id", tag), ("priority", "10")],
    )
    .await
}

async fn links(app: &TestApp, device: i32) -> usize {
    device_tags::Entity::find()
        .filter(device_tags::Column::DeviceId.eq(device))
        .all(&app.db)
        .await
        .unwrap()
        .len()
}

/// The messages of a job's log.
async fn log_messages(app: &TestApp, job: i32) -> Vec<String> {
    job_log_entries::Entity::find()
        .filter(job_log_entries::Column::JobLogId.eq(job))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.message)
        .collect()
}

async fn signed_in(app: &TestApp, name: &str, role: &str) -> TestApp {
    let password = format!("{name}-Passw0rd-1");
    app.create_user(name, role, &password).await;
    let b = app.new_browser();
    assert_eq!(
        b.login(name, &password).await.status(),
        StatusCode::SEE_OTHER
    );
    b
}

#[tokio::test]
async fn a_device_outside_a_credentials_networks_never_receives_it() {
    let legit = start(vec![DeviceSpec::new(
        Platform::CiscoIos,
        "core1",
        USER,
        PASSWORD,
    )])
    .await;
    // The attacker's listener: it accepts the lab login, so any password sent to it is captured
    // (and counted as a session).
    let trap = Sim::start(
        vec![DeviceSpec::new(Platform::CiscoIos, "trap", USER, PASSWORD)],
        "127.0.0.2".parse().unwrap(),
        0,
    )
    .await
    .expect("devsim on 127.0.0.2");
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    let tag = app.add_tag("lab", "#0969da").await.to_string();
    let cred = credential(
        &app,
        &[
            ("name", "lab-login"),
            ("username", USER),
            ("secret", PASSWORD),
            ("allowed_networks", "127.0.0.1"),
        ],
    )
    .await;
    assert_eq!(
        attach(&app, &cred, &tag).await.status(),
        StatusCode::SEE_OTHER
    );
    let ids = add_sim_devices(&app, &legit, &tag).await;
    let (_, page) = app.get_html(&format!("/credentials/{cred}")).await;
    assert!(page.contains("Allowed networks: <code>127.0.0.1/32</code>"));

    // An operator (write) adds a device at the address they control.
    let mallory = signed_in(&app, "mallory", "operator").await;
    let trap_port = trap.devices()[0].port.to_string();
    let r = mallory
        .submit(
            "/devices/new",
            "/devices",
            &[
                ("hostname", "trap"),
                ("ip_address", "127.0.0.2"),
                ("port", &trap_port),
                ("device_type", "cisco_ios"),
            ],
        )
        .await;
    let trap_id: i32 = location(&r)
        .trim_start_matches("/devices/")
        .parse()
        .unwrap();

    // Giving it the tag: by hand, in bulk, by CSV, by a rule. Each is refused or withheld.
    let r = mallory
        .post_form(&format!("/devices/{trap_id}/tags"), &[("tag_id", &tag)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = mallory.get_html(&format!("/devices/{trap_id}")).await;
    assert!(
        html.contains("trap (127.0.0.2) is outside the allowed networks of lab-login"),
        "the refusal is shown"
    );
    let r = mallory
        .post_form(
            "/devices/bulk",
            &[
                ("action", "add_tag"),
                ("tag_id", &tag),
                ("ids", &trap_id.to_string()),
                ("back", "/devices"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/devices");
    let (_, html) = mallory.get_html("/devices").await;
    assert!(html.contains("Nothing changed: tag lab carries credentials"));
    let csv = "hostname,ip,port,device_type,description,tags\ntrap2,127.0.0.2,22,cisco_ios,,lab\n";
    let (status, html) = mallory.import_csv(csv.as_bytes().to_vec(), "apply").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("outside the allowed networks of lab-login"),
        "{html}"
    );
    let rows = [("0", "condition", "is", "hostname", "all", "equals", "trap")];
    let r = mallory
        .post_form(
            &format!("/tags/{tag}/rules"),
            &crate::tag_rules::rule_form("trap rule", "all", &rows, "save"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = mallory.get_html(&format!("/tags/{tag}/rules")).await;
    assert!(html.contains("1 matching devices did not get it"), "{html}");
    assert_eq!(links(&app, trap_id).await, 0, "the trap never got the tag");
    // Moving a tagged device to the trap's address is refused too.
    let legit_id = ids[0];
    let page = format!("/devices/{legit_id}");
    let r = mallory
        .submit(
            &format!("{page}/edit"),
            &page,
            &[("ip_address", "127.0.0.2"), ("port", &trap_port)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("outside the allowed networks of lab-login")
    );

    // Whatever gave it the tag (a link made before the networks were set), the engine never
    // sends the credential there, and the job says why.
    device_tags::ActiveModel {
        device_id: Set(trap_id),
        tag_id: Set(tag.parse().unwrap()),
        rule_id: Set(None),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let job = job_id(
        &mallory
            .post_form(&format!("/devices/{trap_id}/backup"), &[])
            .await,
    );
    let done = finished(&app, job).await;
    assert_eq!(done.status, JobStatus::Failed);
    let result = job_results::Entity::find()
        .filter(job_results::Column::JobLogId.eq(job))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        result
            .message
            .as_deref()
            .unwrap_or_default()
            .contains("no credential may be sent to 127.0.0.2"),
        "{result:?}"
    );
    let log = log_messages(&app, job).await;
    assert!(
        log.iter().any(|m| m.contains(
            "\"lab-login\" withheld: 127.0.0.2 is outside its allowed networks (127.0.0.1/32)"
        )),
        "{log:?}"
    );
    assert_eq!(
        trap.sessions_served(0),
        0,
        "nothing ever logged in to the trap"
    );
    let (_, html) = mallory.get_html(&format!("/devices/{trap_id}")).await;
    assert!(html.contains("withheld: 127.0.0.2 is outside its allowed networks"));

    // The device inside the networks is backed up as before.
    let job = job_id(
        &mallory
            .post_form(&format!("/devices/{legit_id}/backup"), &[])
            .await,
    );
    assert_eq!(finished(&app, job).await.status, JobStatus::Success);
    assert!(legit.sessions_served(0) >= 1);
    legit.shutdown().await;
    trap.shutdown().await;
}

#[tokio::test]
async fn networks_are_validated_suggested_and_an_open_credential_is_flagged() {
    let app = spawn_app().await;
    app.login_admin().await;
    let r = app
        .submit(
            "/credentials/new",
            "/credentials",
            &[
                ("name", "x"),
                ("username", "u"),
                ("allowed_networks", "10.0.0.0/8, not-a-net"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("is not a network"), "{html}");
    assert_eq!(
        credentials::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .len(),
        0
    );

    // Without networks: accepted, with a warning on its page and on the dashboard.
    let open = credential(
        &app,
        &[("name", "open"), ("username", "u"), ("secret", "Pw-1")],
    )
    .await;
    let (_, html) = app.get_html(&format!("/credentials/{open}")).await;
    assert!(html.contains("No allowed networks: this credential is sent to any address"));
    let (_, html) = app.get_html("/").await;
    assert!(html.contains("1 credential(s) have no allowed networks"));

    // Its form suggests the networks of the devices that use it.
    let tag = app.add_tag("branch", "#0969da").await.to_string();
    for (name, ip) in [
        ("b1", "10.20.1.5"),
        ("b2", "10.20.1.9"),
        ("b3", "2001:db8:5::1"),
    ] {
        let id = app.add_device(name, ip, "cisco_ios").await;
        app.post_form(&format!("/devices/{id}/tags"), &[("tag_id", &tag)])
            .await;
    }
    attach(&app, &open, &tag).await;
    let (_, html) = app.get_html(&format!("/credentials/{open}/edit")).await;
    assert!(
        html.contains("<code>10.20.1.0/24 2001:db8:5::/64</code>"),
        "{html}"
    );

    // Narrowing the networks below its devices is allowed; the page lists who lost it.
    let page = format!("/credentials/{open}");
    let r = app
        .submit(
            &format!("{page}/edit"),
            &page,
            &[("allowed_networks", "10.20.1.0/24")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = app.get_html(&page).await;
    assert!(html.contains("1 device(s) have its tags but are outside its networks"));
    assert!(html.contains("b3 (2001:db8:5::1)"));
    // And a credential cannot be attached to a tag whose devices are outside its networks.
    let other = app.add_tag("v6", "#0969da").await.to_string();
    let b3 = devices::Entity::find()
        .filter(devices::Column::Hostname.eq("b3"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    app.post_form(&format!("/devices/{}/tags", b3.id), &[("tag_id", &other)])
        .await;
    let r = attach(&app, &open, &other).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("1 device(s) with tag v6 are outside")
    );
    let audit = audit_logs::Entity::find()
        .filter(audit_logs::Column::EventName.eq("credential.update"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let details = audit.details.unwrap();
    assert_eq!(details["allowed_networks_after"], "10.20.1.0/24");
}

#[tokio::test]
async fn a_line_break_in_a_secret_is_refused_on_the_form_and_never_typed() {
    let mut spec = DeviceSpec::new(Platform::CiscoIos, "core1", USER, PASSWORD);
    spec.enable_secret = Some("En4ble-Pw1".into());
    let sim = start(vec![spec]).await;
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    let injected = "En4ble-Pw1\nconfigure terminal\nusername backdoor privilege 15 secret 0 x\nend";
    for (field, value) in [
        ("enable_secret", injected),
        ("secret", "pw\r\nreload"),
        ("username", "a\nb"),
    ] {
        let mut changes = vec![("name", "evil"), ("username", "u")];
        changes.retain(|(name, _)| *name != field);
        changes.push((field, value));
        let r = app
            .submit("/credentials/new", "/credentials", &changes)
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let html = r.text().await.unwrap();
        assert!(
            html.contains("ontrol characters are not allowed"),
            "{field}: {html}"
        );
    }
    assert!(
        credentials::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .is_empty()
    );

    // A stored secret with a line break (written before this check, or by another tool) is
    // still never typed: the engine refuses it and moves on to the next credential.
    let vault = netraven::bootstrap::open_vault(&app.db, &app.settings)
        .await
        .unwrap();
    let now = chrono::Utc::now();
    let evil = credentials::ActiveModel {
        name: Set("legacy".into()),
        kind: Set(CredentialKind::Ssh),
        username: Set(USER.into()),
        secret: Set(Some(vault.encrypt(PASSWORD))),
        enable_secret: Set(Some(vault.encrypt(injected))),
        allowed_networks: Set(String::new()),
        success_count: Set(0),
        failure_count: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let tag = app.add_tag("lab", "#0969da").await.to_string();
    attach(&app, &evil.id.to_string(), &tag).await;
    let clean = credential(
        &app,
        &[
            ("name", "clean"),
            ("username", USER),
            ("secret", PASSWORD),
            ("enable_secret", "En4ble-Pw1"),
        ],
    )
    .await;
    app.post_form(
        &format!("/credentials/{clean}/tags"),
        &[("tag_id", &tag), ("priority", "20")],
    )
    .await;
    let ids = add_sim_devices(&app, &sim, &tag).await;
    let job = job_id(
        &app.post_form(&format!("/devices/{}/backup", ids[0]), &[])
            .await,
    );
    assert_eq!(finished(&app, job).await.status, JobStatus::Success);
    let log = log_messages(&app, job).await;
    assert!(
        log.iter()
            .any(|m| m.contains("the enable secret contains a line break, so it was not typed")),
        "{log:?}"
    );
    let stored = netraven::entity::backups::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(
        !stored[0].content.contains("backdoor"),
        "no command was injected"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_shared_credential_cannot_be_taken_private_by_someone_else() {
    let app = spawn_app().await;
    app.login_admin().await;
    let shared = credential(
        &app,
        &[("name", "shared"), ("username", "u"), ("secret", "Pw-1")],
    )
    .await;
    let tag = app.add_tag("core", "#0969da").await.to_string();
    attach(&app, &shared, &tag).await;
    // Mallory's device uses it through the tag.
    let mallory = signed_in(&app, "mallory", "operator").await;
    let device = mallory.add_device("r1", "192.0.2.1", "cisco_ios").await;
    mallory
        .post_form(&format!("/devices/{device}/tags"), &[("tag_id", &tag)])
        .await;
    let page = format!("/credentials/{shared}");
    let r = mallory
        .submit(&format!("{page}/edit"), &page, &[("private", "on")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains(
        "Only the user who created this credential or an administrator can make it private"
    ));
    let row = credentials::Entity::find_by_id(shared.parse::<i32>().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.owner_id.is_none(), "still general");
    assert_eq!(
        app.get(&page).await.status(),
        StatusCode::OK,
        "the admin still sees it"
    );

    // Its creator may, but only after confirming that other users' devices lose it.
    let r = app
        .submit(&format!("{page}/edit"), &page, &[("private", "on")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("1 device(s) of other users get this credential"),
        "{html}"
    );
    let r = app
        .submit(
            &format!("{page}/edit"),
            &page,
            &[("private", "on"), ("confirm_private", "on")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(mallory.get(&page).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn private_credentials_are_named_by_id_in_audit_and_job_logs() {
    let sim = start(vec![DeviceSpec::new(
        Platform::CiscoIos,
        "core1",
        USER,
        PASSWORD,
    )])
    .await;
    let app = spawn_app_with_workers().await;
    app.login_admin().await;
    let owner = signed_in(&app, "olivia", "engineer").await;
    let tag = app.add_tag("lab", "#0969da").await.to_string();
    let ids = add_sim_devices(&app, &sim, &tag).await;
    let mine = credential(
        &owner,
        &[
            ("name", "olivias-secret-login"),
            ("username", "olivia-personal-user"),
            ("secret", "wrong-Passw0rd"),
            ("private", "on"),
        ],
    )
    .await;
    assert_eq!(
        attach(&owner, &mine, &tag).await.status(),
        StatusCode::SEE_OTHER
    );
    let job = job_id(
        &owner
            .post_form(&format!("/devices/{}/backup", ids[0]), &[])
            .await,
    );
    finished(&app, job).await;

    // The admin reads the audit log and the job: the private credential is #id there.
    let (_, audit) = app.get_html("/audit?per_page=250").await;
    let (_, job_page) = app.get_html(&format!("/jobs/{job}")).await;
    for page in [&audit, &job_page] {
        assert!(!page.contains("olivias-secret-login"), "name leaked");
        assert!(!page.contains("olivia-personal-user"), "username leaked");
    }
    assert!(audit.contains(&format!("private credential #{mine}")));
    // Which tags a private credential serves is its owner's to know: the tag by id only.
    let attached = audit_logs::Entity::find()
        .filter(audit_logs::Column::EventName.eq("credential.attach"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .details
        .unwrap();
    assert!(attached.get("tag").is_none() && attached.get("tag_id").is_some());
    assert!(job_page.contains(&format!("private credential #{mine}")));
    sim.shutdown().await;
}
