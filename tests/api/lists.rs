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
