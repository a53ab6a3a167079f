//! Configuration templates: versions only when the content changes, diff and restore, soft
//! delete and purge, private scope, validation by kind, upload, and rendering against a device
//! (its fields and tags, its stored configuration, variables) with strict undefined variables
//! and limits.

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::backups::store_version;
use crate::helpers::{TestApp, insert_devices, location, spawn_app, unescaped, with_changes};
use netraven::entity::template_versions;

const ACCESS: &str =
    "hostname {{ device.hostname }}\ninterface Gi1\n switchport access vlan {{ vars.vlan }}\n";

fn form<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let fields = vec![
        ("name", "access-port"),
        ("template_type", "jinja2"),
        ("category", "interfaces"),
        ("description", "an access port"),
        ("variables", "vlan = 10  # access VLAN"),
        ("scope", "global"),
        ("content", ACCESS),
        ("change_note", ""),
    ];
    with_changes(fields, changes)
}

async fn create(app: &TestApp, changes: &[(&str, &str)]) -> i32 {
    let r = app.post_form("/templates", &form(changes)).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap_or_default()
    );
    location(&r)
        .trim_start_matches("/templates/")
        .parse()
        .expect("id")
}

async fn version_count(app: &TestApp, id: i32) -> u64 {
    template_versions::Entity::find()
        .filter(template_versions::Column::TemplateId.eq(id))
        .count(&app.db)
        .await
        .expect("count")
}

#[tokio::test]
async fn versions_only_on_change_diff_restore_delete_and_purge() {
    let app = spawn_app().await;
    app.login_admin().await;
    let id = create(&app, &[]).await;
    assert_eq!(version_count(&app, id).await, 1);
    let page = format!("/templates/{id}");

    // A change to the description alone makes no version.
    let r = app
        .post_form(&page, &form(&[("description", "a port")]))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(version_count(&app, id).await, 1);
    let changed = ACCESS.replace("Gi1", "Gi2");
    let r = app
        .post_form(
            &page,
            &form(&[("content", &changed), ("change_note", "moved to Gi2")]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(version_count(&app, id).await, 2);
    assert_eq!(app.audit_count("template.update").await, 2);

    let (status, html) = app.get_html(&format!("{page}/diff?from=1&to=2")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("interface Gi2") && html.contains("interface Gi1"));
    let (_, html) = app.get_html(&page).await;
    assert!(html.contains("moved to Gi2") && html.contains("version 2"));

    // Restore: version 1's content as version 3.
    let r = app
        .post_form(&format!("{page}/versions/1/restore"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(version_count(&app, id).await, 3);
    let (_, html) = app.get_html(&format!("{page}/versions/3")).await;
    assert!(unescaped(&html).contains("interface Gi1") && html.contains("restored from version 1"));
    assert_eq!(app.audit_count("template.restore").await, 1);

    // Names are unique among the templates in use.
    let r = app.post_form("/templates", &form(&[])).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap_or_default()
            .contains("already exists")
    );

    // Soft delete: gone from the list, history readable, nothing changes it, the name is free.
    let r = app.post_form(&format!("{page}/delete"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let link = format!("href=\"/templates/{id}\"");
    let (_, html) = app.get_html("/templates").await;
    assert!(!html.contains(&link));
    let (_, html) = app.get_html("/templates?deleted=1").await;
    assert!(html.contains(&link));
    let (status, html) = app.get_html(&page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("history can be read, not changed"));
    let r = app.post_form(&page, &form(&[("description", "x")])).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let again = create(&app, &[]).await;
    assert_ne!(again, id);

    // Purge needs the delete permission.
    app.create_user("op", "operator", "Operator-passw0rd-1")
        .await;
    let op = app.new_browser();
    assert_eq!(
        op.login("op", "Operator-passw0rd-1").await.status(),
        StatusCode::SEE_OTHER
    );
    let r = op.post_form(&format!("{page}/purge"), &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app.post_form(&format!("{page}/purge"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get_html(&page).await.0, StatusCode::NOT_FOUND);
    assert_eq!(version_count(&app, id).await, 0);
    assert_eq!(app.audit_count("template.purge").await, 1);
}

#[tokio::test]
async fn each_kind_is_checked_and_says_where() {
    let app = spawn_app().await;
    app.login_admin().await;
    for (kind, content, words) in [
        (
            "jinja2",
            "a\n{% if x %}\nno end",
            "This is not valid Jinja2: line 2, column",
        ),
        (
            "json",
            "{\"a\": 1,\n \"b\": }",
            "This is not valid JSON: line 2, column",
        ),
        ("yaml", "a: 1\nb: [1, 2\n", "This is not valid YAML: line"),
        (
            "textfsm",
            "Value X (\\d+)\n\nStart\n  ^${Y} -> Record\n",
            "This is not valid TextFSM: line 4: ${Y}: no value has this name",
        ),
    ] {
        let r = app
            .post_form(
                "/templates",
                &form(&[("template_type", kind), ("content", content)]),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{kind}");
        let html = unescaped(&r.text().await.unwrap_or_default());
        assert!(html.contains(words), "{kind}: {words}");
    }
    let r = app
        .post_form("/templates", &form(&[("variables", "1bad = x")]))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    for (kind, content) in [
        ("json", "{\"a\": [1, 2]}"),
        ("yaml", "a: 1\nb: [1, 2]\n"),
        ("textfsm", "Value X (\\d+)\n\nStart\n  ^${X} -> Record\n"),
        ("text", "{{ not rendered"),
    ] {
        let name = format!("ok-{kind}");
        create(
            &app,
            &[
                ("name", &name),
                ("template_type", kind),
                ("content", content),
            ],
        )
        .await;
    }
    assert_eq!(app.audit_count("template.create").await, 4);
}

#[tokio::test]
async fn private_templates_exist_only_for_their_owner_and_uploads_work() {
    let app = spawn_app().await;
    app.login_admin().await;
    app.create_user("eng", "engineer", "Engineer-passw0rd-1")
        .await;
    let eng = app.new_browser();
    assert_eq!(
        eng.login("eng", "Engineer-passw0rd-1").await.status(),
        StatusCode::SEE_OTHER
    );
    let mine = create(&eng, &[("name", "eng-notes"), ("scope", "private")]).await;
    assert_eq!(
        eng.get_html(&format!("/templates/{mine}")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.get_html(&format!("/templates/{mine}")).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, html) = app.get_html("/templates").await;
    assert!(!html.contains("eng-notes"));
    let r = app
        .post_form(&format!("/templates/{mine}/delete"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Only its owner makes a template private.
    let shared = create(&app, &[("name", "shared")]).await;
    let r = eng
        .post_form(
            &format!("/templates/{shared}"),
            &form(&[("name", "shared"), ("scope", "private")]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // An uploaded file becomes version 1.
    let token = app.csrf().await;
    let part = reqwest::multipart::Part::bytes(
        b"Value PORT (\\S+)\n\nStart\n  ^${PORT} -> Record\n".to_vec(),
    )
    .file_name("ports.textfsm");
    let body = reqwest::multipart::Form::new()
        .text("name", "ports")
        .text("template_type", "textfsm")
        .text("scope", "global")
        .part("file", part);
    let r = app
        .client
        .post(app.url("/templates/upload"))
        .header("X-CSRF-Token", token.clone())
        .header("HX-Request", "true")
        .multipart(body)
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), StatusCode::OK);
    let to = r.headers()["HX-Redirect"]
        .to_str()
        .expect("redirect")
        .to_string();
    let (_, html) = app.get_html(&to).await;
    assert!(html.contains("Template ports") && html.contains("upload"));
    let bad = reqwest::multipart::Form::new()
        .text("name", "broken")
        .text("template_type", "json")
        .text("scope", "global")
        .part("file", reqwest::multipart::Part::bytes(b"{nope".to_vec()));
    let r = app
        .client
        .post(app.url("/templates/upload"))
        .header("X-CSRF-Token", token)
        .multipart(bad)
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unescaped(&r.text().await.unwrap_or_default()).contains("This is not valid JSON"));
}

/// Renders template `id` for `device` with `values`; the page's text.
async fn preview(app: &TestApp, id: i32, device: &str, values: &str) -> (StatusCode, String) {
    let r = app
        .post_form(
            &format!("/templates/{id}/preview"),
            &[("device", device), ("values", values)],
        )
        .await;
    let status = r.status();
    (status, unescaped(&r.text().await.unwrap_or_default()))
}

fn rendered(html: &str) -> &str {
    let open = "<pre class=\"config\" id=\"rendered\">";
    let start = html
        .find(open)
        .unwrap_or_else(|| panic!("no output in {html}"))
        + open.len();
    &html[start..start + html[start..].find("</pre>").expect("end")]
}

#[tokio::test]
async fn rendering_sees_the_device_its_configuration_and_variables_and_is_bounded() {
    let app = spawn_app().await;
    app.login_admin().await;
    let r1 = app.add_device("r1", "192.0.2.1", "cisco_ios").await;
    let core = app.add_tag("core", "#0969da").await;
    app.post_form(
        &format!("/devices/{r1}/tags"),
        &[("tag_id", &core.to_string())],
    )
    .await;
    store_version(
        &app,
        r1,
        "hostname r1\ninterface Gi1\n description uplink\n",
        false,
    )
    .await;
    app.add_device("r2", "192.0.2.2", "cisco_ios").await;
    let id = create(
        &app,
        &[(
            "content",
            "{{ device.hostname }} {{ device.ip_address }} vlan {{ vars.vlan }} lines {{ config.lines | length }} tags {{ device.tags | join(',') }}\n{% for l in config.lines if l is startingwith('interface') %}{{ l }}\n{% endfor %}",
        )],
    )
    .await;
    let (status, html) = preview(&app, id, "r1", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        rendered(&html),
        "r1 192.0.2.1 vlan 10 lines 3 tags core\ninterface Gi1\n"
    );
    assert!(html.contains("Variables used:") && html.contains("vars.vlan"));
    let (_, html) = preview(&app, id, "R1", "vlan = 20").await;
    assert!(
        rendered(&html).starts_with("r1 192.0.2.1 vlan 20"),
        "values override defaults"
    );
    let (_, html) = preview(&app, id, "r2", "").await;
    assert!(html.contains("r2 has no stored configuration"), "{html}");
    assert!(rendered(&html).contains("lines 0"));
    // Every device with a tag, each on its own.
    let tagged = app
        .post_form(
            &format!("/templates/{id}/preview"),
            &[
                ("device", ""),
                ("tag_id", &core.to_string()),
                ("values", ""),
            ],
        )
        .await;
    assert_eq!(tagged.status(), StatusCode::OK);
    let html = unescaped(&tagged.text().await.unwrap_or_default());
    assert!(
        html.contains("1 of 1 devices rendered; 0 with errors"),
        "{html}"
    );
    assert!(html.contains("r1 192.0.2.1 vlan 10"));
    let (status, html) = preview(&app, id, "", "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Enter a device's host name, or choose a tag"));
    let (status, html) = preview(&app, id, "nope", "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("No device has this host name"));

    // Undefined variables name what there is.
    let strict = create(
        &app,
        &[("name", "strict"), ("content", "x\n{{ vars.missing }}")],
    )
    .await;
    let (_, html) = preview(&app, strict, "r1", "").await;
    assert!(
        html.contains("line 2") && html.contains("vars.missing is not defined; vars has: vlan"),
        "{html}"
    );
    let (_, html) = preview(&app, strict, "r1", "missing = 1").await;
    assert_eq!(rendered(&html), "x\n1");

    // Runaway templates are stopped.
    let endless = create(
        &app,
        &[
            ("name", "endless"),
            (
                "content",
                "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            ),
        ],
    )
    .await;
    let (_, html) = preview(&app, endless, "r1", "").await;
    assert!(html.contains("does too much work"), "{html}");
    let huge = create(
        &app,
        &[
            ("name", "huge"),
            (
                "content",
                "{% for i in range(10000) %}{{ 'x' * 20000 }}{% endfor %}",
            ),
        ],
    )
    .await;
    let (_, html) = preview(&app, huge, "r1", "").await;
    assert!(html.contains("output passed 4 MiB"), "{html}");
}

/// The rendering benchmark (docs/BENCHMARKS.md, `scripts/bench-templates.sh`): one template
/// rendered for 10,000 devices, each with tags and a stored configuration of 200 lines the
/// template walks, as a push's dry run renders it; beside it, in the same run, a one-line
/// template for the same devices (what reading the contexts costs).
#[tokio::test]
#[ignore = "a benchmark: run by scripts/bench-templates.sh"]
async fn template_render_benchmark() {
    use netraven::entity::{backups, devices};
    use sea_orm::ActiveValue::Set;
    const DEVICES: usize = 10_000;
    let app = spawn_app().await;
    let now = chrono::Utc::now();
    let config: String = (0..200)
        .map(|i| {
            if i % 10 == 0 {
                format!("interface GigabitEthernet0/{i}\n")
            } else {
                format!(" description line {i}\n")
            }
        })
        .collect();
    insert_devices(&app, DEVICES).await;
    let all = devices::Entity::find().all(&app.db).await.expect("devices");
    for chunk in all.chunks(500) {
        let versions: Vec<backups::ActiveModel> = chunk
            .iter()
            .map(|d| backups::ActiveModel {
                device_id: Set(Some(d.id)),
                hostname: Set(d.hostname.clone()),
                version: Set(1),
                content: Set(config.clone()),
                content_hash: Set(format!("{:064}", d.id)),
                size: Set(i32::try_from(config.len()).unwrap_or(0)),
                changed_lines: Set(0),
                filename: Set(format!("{}.cfg", d.hostname)),
                first_seen_at: Set(now),
                last_seen_at: Set(now),
                secrets_masked: Set(false),
                ..Default::default()
            })
            .collect();
        backups::Entity::insert_many(versions)
            .exec(&app.db)
            .await
            .expect("backups");
    }
    let vault = netraven::bootstrap::open_vault(&app.db, &app.settings)
        .await
        .expect("vault");
    let template = "hostname {{ device.hostname }}\n\
        ip domain-name {{ vars.domain }}\n\
        {% for l in config.lines if l is startingwith('interface') %}{{ l }}\n description {{ device.hostname }} {{ loop.index }}\n{% endfor %}\
        {% for t in device.tags %}! tag {{ t }}\n{% endfor %}\
        ntp server {{ vars.ntp }}\n";
    let mut vars = serde_json::Map::new();
    vars.insert("domain".into(), "example.net".into());
    vars.insert("ntp".into(), "192.0.2.123".into());
    let mut report = Vec::new();
    for (label, text) in [
        ("one line", "{{ device.hostname }}\n"),
        ("walks the configuration", template),
    ] {
        let started = std::time::Instant::now();
        let done = netraven::services::templates::rendering::for_devices(
            &app.db,
            &vault,
            text,
            &all,
            &vars,
            false,
            &Default::default(),
        )
        .await
        .expect("rendered")
        .expect("parses");
        let took = started.elapsed();
        assert_eq!(done.len(), DEVICES);
        assert!(done.iter().all(|d| d.outcome.is_ok()));
        let bytes: usize = done
            .iter()
            .map(|d| d.outcome.as_ref().map_or(0, |r| r.output.len()))
            .sum();
        report.push((label, took, bytes));
    }
    for (label, took, bytes) in &report {
        eprintln!(
            "BENCH render for {DEVICES} devices, {label}: {:.2} s ({} KiB of output)",
            took.as_secs_f64(),
            bytes / 1024
        );
    }
    assert!(
        report[1].1 < std::time::Duration::from_secs(2),
        "the target: at most 2 s"
    );
}

#[tokio::test]
async fn a_template_kept_in_git_follows_its_file() {
    use crate::git::{add_repository, bare, commit_elsewhere, log_of, repo_id};
    use crate::jobs::{finished, job_id};
    use netraven::vocabulary::JobStatus;
    let root = crate::helpers::new_data_dir();
    let remote = bare(&root, "templates.git");
    commit_elsewhere(&remote, "access.j2", "interface {{ vars.port }}\n");
    let app = crate::helpers::spawn_app_with_workers().await;
    app.login_admin().await;
    let url = remote.display().to_string();
    let repo = repo_id(
        &add_repository(
            &app,
            &[("name", "tpl"), ("url", &url), ("category", "templates")],
        )
        .await,
    );
    let sync = async || {
        let job = job_id(&app.post_form(&format!("/git/{repo}/sync"), &[]).await);
        let done = finished(&app, job).await;
        assert_eq!(done.status, JobStatus::Success, "{:?}", done.message);
        log_of(&app, job).await
    };
    sync().await;
    let repo_text = repo.to_string();
    let git_form = |path: &'static str| -> Vec<(&str, &str)> {
        form(&[
            ("name", "from-git"),
            ("content", ""),
            ("source", "git"),
            ("git_repository_id", repo_text.as_str()),
            ("file_path", path),
        ])
    };
    let r = app.post_form("/templates", &git_form("missing.j2")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap_or_default()
            .contains("missing.j2 does not exist in tpl")
    );
    let r = app.post_form("/templates", &git_form("access.j2")).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap_or_default()
    );
    let id: i32 = location(&r)
        .trim_start_matches("/templates/")
        .parse()
        .expect("id");
    let page = format!("/templates/{id}");
    let (_, html) = app.get_html(&page).await;
    assert!(unescaped(&html).contains("interface {{ vars.port }}") && html.contains("access.j2"));

    // A new commit, then a sync of the repository: a new version.
    commit_elsewhere(
        &remote,
        "access.j2",
        "interface {{ vars.port }}\n shutdown\n",
    );
    let said = sync().await;
    assert!(
        said.iter()
            .any(|l| l.contains("template from-git: version 2")),
        "{said:?}"
    );
    assert_eq!(version_count(&app, id).await, 2);
    let (_, html) = app.get_html(&page).await;
    assert!(html.contains(" shutdown") && html.contains("synced from tpl at"));
    // An invalid file leaves the template as it was, and the sync says why.
    commit_elsewhere(&remote, "access.j2", "{% if broken %}\n");
    let said = sync().await;
    assert!(
        said.iter()
            .any(|l| l.contains("kept as it was: the file is not valid Jinja2")),
        "{said:?}"
    );
    assert_eq!(version_count(&app, id).await, 2);
    // The editor cannot change a git template's content.
    let r = app
        .post_form(
            &page,
            &form(&[
                ("name", "from-git"),
                ("content", "typed over"),
                ("source", "git"),
            ]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(version_count(&app, id).await, 2);
    // Sync from git on the page: the file is still invalid.
    let r = app.post_form(&format!("{page}/sync"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = app.get_html(&page).await;
    assert!(html.contains("Not synced: the file is not valid Jinja2"));
    assert_eq!(app.audit_count("template.sync").await, 1);
}
