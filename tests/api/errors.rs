//! One place turns an error into a response, in the shape the client asked for: a full page for a
//! browser, the bare error box for an htmx request (which swaps it where the content would go),
//! JSON for a client that accepts JSON. The status is the same in every shape.

use reqwest::StatusCode;

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_missing_object_is_a_page_a_fragment_or_json_as_asked() {
    let app = spawn_app().await;
    app.login_admin().await;

    let (status, page) = app.get_with("/devices/987654", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        page.contains("<html") && page.contains("Not found"),
        "{page}"
    );

    let (status, fragment) = app
        .get_with("/devices/987654", &[("HX-Request", "true")])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        !fragment.contains("<html"),
        "a fragment has no layout: {fragment}"
    );
    assert!(fragment.contains("error-page") && fragment.contains("Not found"));

    // A history restore is a whole page, as for every other response.
    let (_, restored) = app
        .get_with(
            "/devices/987654",
            &[
                ("HX-Request", "true"),
                ("HX-History-Restore-Request", "true"),
            ],
        )
        .await;
    assert!(restored.contains("<html"));

    let (status, json) = app
        .get_with("/devices/987654", &[("Accept", "application/json")])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let body: serde_json::Value = serde_json::from_str(&json).expect("JSON error body");
    assert_eq!(body["status"], 404);
    assert_eq!(body["title"], "Not found");
    assert!(body["error"].as_str().is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn refusals_from_the_guard_and_the_csrf_check_take_the_same_shapes() {
    let app = spawn_app().await;
    app.login_admin().await;
    app.create_user("vera", "viewer", "Viewer-pass-123").await;
    let viewer = app.new_browser();
    viewer.login("vera", "Viewer-pass-123").await;

    let (status, fragment) = viewer
        .get_with("/settings", &[("HX-Request", "true")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!fragment.contains("<html") && fragment.contains("Permission denied"));

    let (status, json) = viewer
        .get_with("/settings", &[("Accept", "application/json")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let body: serde_json::Value = serde_json::from_str(&json).expect("JSON error body");
    assert_eq!(body["title"], "Permission denied");
    assert!(body["error"].as_str().unwrap_or("").contains("admin"));

    // A POST without its CSRF token, from a JSON client.
    let r = app
        .client
        .post(app.url("/tags"))
        .header("Accept", "application/json")
        .form(&[("name", "x"), ("color", "#112233"), ("description", "")])
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let text = r.text().await.expect("body");
    let body: serde_json::Value = serde_json::from_str(&text).expect(&text);
    assert_eq!(body["title"], "Request rejected");
    assert_eq!(app.audit_count("tag.create").await, 0);
}

#[tokio::test]
async fn a_refusal_from_a_service_is_a_400_in_json_too() {
    let app = spawn_app().await;
    app.login_admin().await;
    // A settings form without its fields: the settings service refuses it, nothing changes.
    let csrf = app.csrf().await;
    let r = app
        .client
        .post(app.url("/settings/security"))
        .header("Accept", "application/json")
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = r.json().await.expect("JSON error body");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or("")
            .contains("The form is incomplete"),
        "{body}"
    );
}
