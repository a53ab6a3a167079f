//! The pieces every page shares: flash messages (queued by the handler that redirects, shown by
//! the next full page and only there), the macros of templates/macros.html (CSRF field, one-button
//! forms, badges) and the delete confirmation of templates/delete_base.html.

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::backups::store_version;
use crate::helpers::{TestApp, csrf_from, form_fields, location, spawn_app};
use crate::tag_rules::rule_form;
use netraven::entity::{device_tags, devices, scheduled_jobs, tag_rules, users};

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

#[tokio::test]
async fn one_button_forms_keep_their_class_title_and_disabled_state() {
    let app = spawn_app().await;
    app.login_admin().await;
    let id = app.add_device("core-sw01", "10.1.0.1", "cisco_ios").await;
    let tag = app.add_tag("core", "#0969da").await;
    let r = app
        .post_form(
            &format!("/devices/{id}/tags"),
            &[("tag_id", &tag.to_string())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let (_, html) = app.get_html(&format!("/devices/{id}")).await;
    let token = csrf_from(&html).expect("token");
    let csrf = format!(r#"<input type="hidden" name="csrf_token" value="{token}">"#);
    for form in [
        format!(
            r#"<form class="inline" method="post" action="/logout">{csrf}<button class="link" type="submit">Sign out</button></form>"#
        ),
        format!(
            r#"<form class="inline" method="post" action="/devices/{id}/backup">{csrf}<button class="btn-primary" type="submit">Back up now</button></form>"#
        ),
        format!(
            r#"<form class="inline" method="post" action="/devices/{id}/tags/{tag}/remove">{csrf}<button class="link" type="submit" title="remove tag core">✕</button></form>"#
        ),
    ] {
        assert!(html.contains(&form), "{form}");
    }

    let r = app
        .submit(
            &format!("/devices/{id}/edit"),
            &format!("/devices/{id}"),
            &[("enabled", "off")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = app.get_html(&format!("/devices/{id}")).await;
    assert!(html.contains(
        r#"<button class="btn-primary" type="submit" disabled title="enable the device to back it up">Back up now</button>"#
    ));
    assert!(html.contains(r#"<span class="badge badge-muted">disabled</span>"#));
}

#[tokio::test]
async fn every_delete_page_is_the_shared_confirmation_with_its_own_text_and_choices() {
    let app = spawn_app().await;
    app.login_admin().await;
    let device = app.add_device("core-sw01", "10.1.0.1", "cisco_ios").await;
    store_version(&app, device, "hostname core-sw01\n!\nend\n", false).await;
    let tag = app.add_tag("core", "#0969da").await;
    let rows = [(
        "0",
        "condition",
        "is",
        "hostname",
        "all",
        "starts_with",
        "core-",
    )];
    let r = app
        .post_form(
            &format!("/tags/{tag}/rules"),
            &rule_form("core by name", "all", &rows, "save"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let rule = tag_rules::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .expect("rule")
        .id;
    let user = app
        .create_user("leaver", "viewer", "Leaver-passw0rd-1")
        .await;
    let r = app
        .submit(
            "/credentials/new",
            "/credentials",
            &[
                ("name", "lab-login"),
                ("kind", "ssh"),
                ("username", "netops"),
                ("secret", "s3cret"),
                ("allowed_networks", "10.0.0.0/8"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cred = location(&r);
    let schedule = scheduled_jobs::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .expect("a default schedule");

    // (page, heading, what it says, button, cancel target), in an order that deletes the rule
    // before its tag.
    let pages = [
        (
            format!("/tags/{tag}/rules/{rule}/delete"),
            "Delete rule core by name?".to_string(),
            "to 1 devices.",
            "Delete rule",
            format!("/tags/{tag}/rules"),
        ),
        (
            format!("/devices/{device}/delete"),
            "Delete device core-sw01?".to_string(),
            "leaves the inventory",
            "Delete device",
            format!("/devices/{device}"),
        ),
        (
            format!("/tags/{tag}/delete"),
            "Delete tag core?".to_string(),
            "the devices themselves stay",
            "Delete tag",
            format!("/tags/{tag}"),
        ),
        (
            format!("/users/{user}/delete"),
            "Delete user leaver?".to_string(),
            "will be removed and its sessions ended",
            "Delete user",
            format!("/users/{user}"),
        ),
        (
            format!("{cred}/delete"),
            "Delete credential lab-login?".to_string(),
            "Devices stop trying it.",
            "Delete credential",
            cred.clone(),
        ),
        (
            format!("/schedules/{}/delete", schedule.id),
            format!("Delete schedule {}?", schedule.name),
            "stops and is removed",
            "Delete schedule",
            format!("/schedules/{}", schedule.id),
        ),
    ];
    for (page, heading, what, button, cancel) in &pages {
        let (status, html) = app.get_html(page).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(html.contains(&format!("<h1>{heading}</h1>")), "{page}");
        assert!(html.contains(what), "{page}");
        assert!(
            html.contains(&format!(
                r#"<button class="btn-danger" type="submit">{button}</button>"#
            )),
            "{page}"
        );
        assert!(
            html.contains(&format!(r#"<a class="btn" href="{cancel}">Cancel</a>"#)),
            "{page}"
        );
        let fields = form_fields(&html, page).expect("the form posts to the page's address");
        assert_eq!(fields[0].0, "csrf_token", "{page}");

        if page.contains("/rules/") {
            assert!(html.contains("Also remove the tag from those 1 devices"));
            assert!(
                fields.contains(&("remove_assigned".into(), "on".into())),
                "removing the rule's tags is ticked by default"
            );
        }
        if page.starts_with("/devices/") {
            assert!(html.contains("Also delete its 1 stored configuration versions"));
            assert!(
                !fields.iter().any(|(name, _)| name == "delete_backups"),
                "stored versions are kept by default"
            );
        }

        let r = app.submit(page, page, &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{page}");
        if page.contains("/rules/") {
            let tagged = device_tags::Entity::find()
                .filter(device_tags::Column::TagId.eq(tag))
                .count(&app.db)
                .await
                .unwrap();
            assert_eq!(tagged, 0, "the rule took its tag along");
        }
    }

    assert!(
        devices::Entity::find_by_id(device)
            .one(&app.db)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        users::Entity::find_by_id(user)
            .one(&app.db)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        scheduled_jobs::Entity::find_by_id(schedule.id)
            .one(&app.db)
            .await
            .unwrap()
            .is_none()
    );
}
