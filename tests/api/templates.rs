//! Flash messages: queued by the handler that redirects, shown by the next full page and only
//! there.

use reqwest::StatusCode;

use crate::helpers::{TestApp, location, spawn_app};

/// How often the flash message `text` is on a page (base.html shows each in its own div).
fn shown(html: &str, text: &str) -> usize {
    html.matches(&format!(" role=\"status\">{text}</div>"))
        .count()
}

/// A POST with a token read earlier, so that no page is loaded on the way (`post_form` reads a
/// page for its token, and that page would show the messages).
async fn post(
    app: &TestApp,
    token: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut all = fields.to_vec();
    all.push(("csrf_token", token));
    app.client
        .post(app.url(path))
        .form(&all)
        .send()
        .await
        .expect("POST")
}

#[tokio::test]
async fn a_flash_shows_once_on_the_next_full_page_and_nothing_between_consumes_it() {
    let app = spawn_app().await;
    app.login_admin().await;
    let token = app.csrf().await;

    let r = post(
        &app,
        &token,
        "/tags",
        &[("name", "core"), ("color", "#0969da"), ("description", "")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let core_page = location(&r);

    // An htmx fragment has no place for messages: they wait for the next full page.
    let r = app
        .client
        .get(app.url("/devices"))
        .header("HX-Request", "true")
        .send()
        .await
        .expect("GET fragment");
    assert_eq!(r.status(), StatusCode::OK);
    let fragment = r.text().await.unwrap();
    assert!(fragment.contains("id=\"devices-table\"") && !fragment.contains("<html"));
    assert_eq!(shown(&fragment, "Tag core created."), 0);

    // Neither do a download, an error page or a HEAD request show them, so they keep them.
    let r = app.get("/devices/export.csv").await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app.get("/devices/999999").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app
        .client
        .head(app.url("/tags"))
        .send()
        .await
        .expect("HEAD");
    assert_eq!(r.status(), StatusCode::OK);

    // A POST that redirects keeps the waiting message in front of its own.
    let r = post(
        &app,
        &token,
        "/tags",
        &[("name", "edge"), ("color", "#1f883d"), ("description", "")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let (status, page) = app.get_html(&core_page).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown(&page, "Tag core created."), 1, "shown once");
    assert_eq!(shown(&page, "Tag edge created."), 1, "shown once");
    assert!(
        page.find("Tag core created.") < page.find("Tag edge created."),
        "in the order they were queued"
    );

    let (_, again) = app.get_html(&core_page).await;
    assert_eq!(shown(&again, "Tag core created."), 0, "not shown again");
    assert_eq!(shown(&again, "Tag edge created."), 0, "not shown again");
}
