//! One rule for pages htmx also asks for in parts: a fragment for a plain htmx request, the whole
//! page for everything else, including htmx's history restore after a cache miss (the browser's
//! Back button) and boosted links, which replace the whole body.

use reqwest::StatusCode;

use crate::helpers::spawn_app;

#[tokio::test]
async fn every_list_answers_a_history_restore_and_a_boost_with_the_whole_page() {
    let app = spawn_app().await;
    app.login_admin().await;
    let device = app.add_device("r1", "192.0.2.1", "cisco_ios").await;
    let lists = [
        "/devices".to_string(),
        "/users".to_string(),
        "/tags".to_string(),
        "/credentials".to_string(),
        "/jobs".to_string(),
        "/schedules".to_string(),
        "/audit".to_string(),
        "/search?q=hostname".to_string(),
        format!("/devices/{device}/backups"),
    ];
    // The pages whose table htmx fetches as a fragment.
    let fragments = ["/devices", "/users", "/search?q=hostname"];
    for path in &lists {
        for extra in [
            ("HX-History-Restore-Request", "true"),
            ("HX-Boosted", "true"),
        ] {
            let (status, html) = app.get_with(path, &[("HX-Request", "true"), extra]).await;
            assert_eq!(status, StatusCode::OK, "{path} {}", extra.0);
            assert!(
                html.contains("<html") && html.contains("</nav>"),
                "{path} with {} must be the whole page",
                extra.0
            );
        }
        let (_, html) = app.get_with(path, &[("HX-Request", "true")]).await;
        let backups = path.ends_with("/backups");
        if fragments.contains(&path.as_str()) || backups {
            assert!(
                !html.contains("<html"),
                "{path}: a plain htmx request gets the fragment"
            );
        }
    }
}

/// A list address is often typed, edited or kept from an older version: junk in any of its
/// parameters falls back to that parameter's default, and the list is shown.
#[tokio::test]
async fn every_list_shows_itself_for_a_garbage_query() {
    let app = spawn_app().await;
    app.login_admin().await;
    let device = app.add_device("r1", "192.0.2.1", "cisco_ios").await;
    let tag = app.add_tag("core", "#336699").await;
    let garbage = "page=x&per_page=-1&sort=%27;drop&dir=sideways";
    let lists: [(String, &str, &[&str]); 8] = [
        (
            "/devices".into(),
            "<h1>Devices</h1>",
            &["q", "platform", "tag", "enabled", "status"],
        ),
        ("/users".into(), "<h1>Users</h1>", &["q", "status"]),
        (
            "/jobs".into(),
            "<h1>Jobs</h1>",
            &["job_type", "status", "user", "from", "to", "device"],
        ),
        (
            "/audit".into(),
            "<h1>Audit log</h1>",
            &["event_type", "actor", "from", "to", "q"],
        ),
        ("/schedules".into(), "<h1>Schedules</h1>", &[]),
        (format!("/tags/{tag}"), "<h1>Tag ", &[]),
        (
            format!("/devices/{device}/backups"),
            "configuration versions</h1>",
            &[],
        ),
        ("/credentials".into(), "<h1>Credentials</h1>", &["expired"]),
    ];
    for (path, heading, filters) in &lists {
        let mut query = garbage.to_string();
        for name in *filters {
            query.push_str(&format!("&{name}=junk"));
        }
        // A name given twice is junk too.
        query.push_str("&page=y&sort=none");
        let url = format!("{path}?{query}");
        let (status, html) = app.get_with(&url, &[]).await;
        assert_eq!(status, StatusCode::OK, "{url}");
        assert!(html.contains(heading), "{url} shows the list");
        assert!(
            html.contains(r#"<div class="table-wrap">"#),
            "{url}: the table"
        );
        assert!(
            !html.contains("sideways"),
            "{url}: junk is not kept in links"
        );
        if path != "/credentials" {
            assert!(html.contains(r#"<div class="pager">"#), "{url}: the pager");
        }
    }
}
