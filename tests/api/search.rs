//! `/search` through HTTP: the latest configuration of every device, by substring or regular
//! expression, case option, tag and platform filters, an invalid regular expression, caps, and
//! secrets: a search never matches a secret value a user may not see.

use reqwest::StatusCode;

use crate::backups::{ios_config, set_show_secrets, store_version, viewer};
use crate::helpers::{TestApp, location, spawn_app};
use netraven::web::urlencode;

async fn search(app: &TestApp, query: &str) -> (StatusCode, String) {
    app.get_html(&format!("/search?{query}")).await
}

fn q(text: &str) -> String {
    format!("q={}", urlencode(text))
}

/// Three devices: r1 and r2 (IOS) share a line, sw1 (EOS) does not; r1's older version has a
/// line its latest version no longer has.
async fn inventory(app: &TestApp) -> (i32, i32, i32) {
    let r1 = app.add_device("r1", "192.0.2.1", "cisco_ios").await;
    let r2 = app.add_device("r2", "192.0.2.2", "cisco_ios").await;
    let sw1 = app.add_device("sw1", "192.0.2.3", "arista_eos").await;
    store_version(
        app,
        r1,
        &format!("{}logging host 10.1.1.1\n", ios_config("r1", 4, "C1")),
        true,
    )
    .await;
    store_version(app, r1, &ios_config("r1", 5, "C1"), true).await;
    store_version(app, r2, &ios_config("r2", 12, "C1"), true).await;
    store_version(
        app,
        sw1,
        "hostname sw1\n!\nvlan 10\n   name Users\n!\ninterface Ethernet1\n   description Server Port\n!\nend\n",
        true,
    )
    .await;
    (r1, r2, sw1)
}

#[tokio::test]
async fn substring_and_regex_find_lines_in_the_latest_configurations() {
    let app = spawn_app().await;
    app.login_admin().await;
    let (r1, r2, sw1) = inventory(&app).await;

    let (status, html) = search(&app, "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Search configurations") && !html.contains("matching line"));

    let (status, html) = search(&app, &q("ntp server 10.9.9.9")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("2 devices (2 matching lines)"), "{html}");
    assert!(html.contains(&format!("<a href=\"/devices/{r1}\">r1</a>")));
    assert!(html.contains(&format!("<a href=\"/devices/{r2}\">r2</a>")));
    assert!(!html.contains(&format!("<a href=\"/devices/{sw1}\">")));
    // The latest version is linked, the match highlighted, two lines of context either side.
    assert!(html.contains(&format!("href=\"/devices/{r1}/backups/2\">version 2</a>")));
    assert!(html.contains("<mark>ntp server 10.9.9.9</mark>"));
    assert!(html.contains("<td>snmp-server community &#60;masked&#62; RO</td>"));
    assert!(html.contains("<td>end</td>") && html.contains("<td>!</td>"));
    // r1's config: 5 header lines, 5 × 3 interface lines, then snmp (21), ntp (22), end (23).
    assert!(html.contains(&format!("/devices/{r1}/backups/2#L22\">22</a>")));

    // Only the latest version is searched.
    let (_, html) = search(&app, &q("logging host 10.1.1.1")).await;
    assert!(html.contains("No match"));

    // Regex: anchors are line ends; hits across devices and platforms.
    let (_, html) = search(
        &app,
        &format!("{}&mode=regex", q(r"^interface (Loopback1|Ethernet1)$")),
    )
    .await;
    assert!(html.contains("3 devices (3 matching lines)"), "{html}");
    let (_, html) = search(&app, &format!("{}&mode=regex", q(r"description line 1\d$"))).await;
    assert!(html.contains("1 device (3 matching lines)"), "{html}");
    // The same text as a substring is taken literally.
    let (_, html) = search(&app, &q(r"description line 1\d$")).await;
    assert!(html.contains("No match"));

    // htmx asks for the results alone.
    let fragment = app
        .client
        .get(app.url(&format!("/search?{}", q("vlan 10"))))
        .header("HX-Request", "true")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        fragment
            .trim_start()
            .starts_with("<div id=\"search-results\">")
    );
    assert!(fragment.contains("<mark>vlan 10</mark>") && !fragment.contains("<html"));
    // When htmx restores a page from history it needs the whole page.
    let restored = app
        .client
        .get(app.url(&format!("/search?{}", q("vlan 10"))))
        .header("HX-Request", "true")
        .header("HX-History-Restore-Request", "true")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(restored.contains("<html") && restored.contains("<mark>vlan 10</mark>"));
}

#[tokio::test]
async fn at_most_200_devices_are_listed_and_the_rest_counted() {
    use netraven::entity::devices;
    use sea_orm::EntityTrait;
    let app = spawn_app().await;
    app.login_admin().await;
    netraven::services::seed::seed(&app.db, 205, 1)
        .await
        .expect("seed");
    let ids: Vec<i32> = devices::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    for (i, id) in ids.iter().enumerate() {
        store_version(
            &app,
            *id,
            &ios_config(&format!("seed-{i:05}"), 1, "C1"),
            true,
        )
        .await;
    }
    let (_, html) = search(&app, &q("ntp server 10.9.9.9")).await;
    assert!(html.contains("205 devices (205 matching lines)"), "{html}");
    assert_eq!(html.matches("class=\"panel mt search-hit\"").count(), 200);
    assert!(html.contains("and 5 more matching devices"));
    // Listed in host-name order: the first 200.
    assert!(html.contains(">seed-00199</a>") && !html.contains(">seed-00200</a>"));
}

#[tokio::test]
async fn case_tag_and_platform_options() {
    let app = spawn_app().await;
    app.login_admin().await;
    let (r1, _, _) = inventory(&app).await;

    let (_, html) = search(&app, &q("NTP SERVER")).await;
    assert!(html.contains("2 devices"));
    let (_, html) = search(&app, &format!("{}&case=on", q("NTP SERVER"))).await;
    assert!(html.contains("No match"));
    let (_, html) = search(&app, &format!("{}&case=on&mode=regex", q("^NTP"))).await;
    assert!(html.contains("No match"));

    let tag = app.add_tag("core", "#123456").await;
    let r = app
        .post_form(
            &format!("/devices/{r1}/tags"),
            &[("tag_id", &tag.to_string())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = search(&app, &format!("{}&tag={tag}", q("ntp server"))).await;
    assert!(html.contains("1 device (1 matching line)"), "{html}");
    assert!(html.contains(">r1</a>") && !html.contains(">r2</a>"));
    // The tag list is the device list's, the chosen one selected.
    assert!(html.contains(&format!("<option value=\"{tag}\" selected>core</option>")));

    let (_, html) = search(&app, &format!("{}&platform=arista_eos", q("description"))).await;
    assert!(html.contains("1 device (1 matching line)"), "{html}");
    assert!(html.contains(">sw1</a>"));
    // An unknown platform is ignored, as on the device list.
    let (_, html) = search(&app, &format!("{}&platform=nope", q("description"))).await;
    assert!(html.contains("3 devices"));
}

#[tokio::test]
async fn an_invalid_regex_is_a_message_on_the_form_and_matches_are_capped() {
    let app = spawn_app().await;
    app.login_admin().await;
    let id = app.add_device("big", "192.0.2.50", "cisco_ios").await;
    store_version(&app, id, &ios_config("big", 30, "C1"), true).await;

    let (status, html) = search(&app, &format!("{}&mode=regex", q("interface ("))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("This is not a valid regular expression"));
    assert!(html.contains("unclosed group"));
    assert!(
        html.contains("value=\"interface (\""),
        "the query stays in the form"
    );
    // htmx swaps only 2xx: the fragment with the message comes with 200.
    let r = app
        .client
        .get(app.url(&format!("/search?{}&mode=regex", q("interface ("))))
        .header("HX-Request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("This is not a valid regular expression")
    );
    let long = "a".repeat(501);
    let (status, html) = search(&app, &q(&long)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("at most 500 characters"));

    // 30 matching lines: the first 20 are shown, the rest counted.
    let (_, html) = search(&app, &q("description line")).await;
    assert!(html.contains("1 device (30 matching lines)"));
    assert_eq!(html.matches("<mark>").count(), 20);
    assert!(html.contains("and 10 more matching lines"));
}

#[tokio::test]
async fn a_search_never_matches_a_secret_the_user_may_not_see() {
    let app = spawn_app().await;
    app.login_admin().await;
    let id = app.add_device("edge", "192.0.2.60", "cisco_ios").await;
    store_version(&app, id, &ios_config("edge", 2, "Sup3rS3cretComm"), false).await;
    let viewer = viewer(&app, "searcher").await;

    for text in ["Sup3rS3cret", "EnableHashValue"] {
        let (status, html) = search(&viewer, &q(text)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("No match"), "viewer: {text}");
        let (_, html) = search(
            &viewer,
            &format!("{}&mode=regex", q(&format!("community {}", &text[..4]))),
        )
        .await;
        assert!(html.contains("No match"), "viewer regex: {text}");
    }
    // What is shown is masked.
    let (_, html) = search(&viewer, &q("snmp-server community")).await;
    assert!(html.contains("1 device") && !html.contains("Sup3rS3cret"));
    // An administrator without the setting does not see it either; with it, does.
    let (_, html) = search(&app, &q("Sup3rS3cret")).await;
    assert!(html.contains("No match"));
    set_show_secrets(&app, true).await;
    let (_, html) = search(&app, &q("Sup3rS3cret")).await;
    assert!(html.contains("1 device (1 matching line)"));
    assert!(html.contains("<mark>Sup3rS3cret</mark>Comm"));
    let (_, html) = search(&viewer, &q("Sup3rS3cret")).await;
    assert!(html.contains("No match"));
}

#[tokio::test]
async fn a_viewer_may_search_and_an_anonymous_user_is_sent_to_sign_in() {
    let app = spawn_app().await;
    app.login_admin().await;
    inventory(&app).await;
    let viewer = viewer(&app, "viewer9").await;
    let (status, html) = search(&viewer, &q("vlan 10")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("1 device"));
    assert!(html.contains("href=\"/search\" class=\"active\">Search</a>"));
    let r = app.new_browser().get("/search?q=vlan").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/login?next=%2Fsearch%3Fq%3Dvlan");
}
