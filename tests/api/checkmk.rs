//! CheckMK against checkmk-sim, a server speaking CheckMK 2.x's REST API as documented: the
//! connection test in words, and the secret never shown.

use std::time::Duration;

use checkmk_sim::{Options, Sim};
use reqwest::StatusCode;

use crate::helpers::{TestApp, spawn_app};

const SECRET: &str = "cmk-automation-secret-1";

/// Every field of the CheckMK settings form, with `changes` over the given site and secret.
fn settings_form<'a>(
    url: &'a str,
    secret: &'a str,
    changes: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("checkmk.url", url),
        ("checkmk.user", "automation"),
        ("checkmk.secret", secret),
        ("checkmk.timeout_seconds", "5"),
        ("checkmk.verify_tls", "on"),
    ];
    for (k, v) in changes {
        if let Some(f) = fields.iter_mut().find(|(name, _)| name == k) {
            f.1 = v;
        }
    }
    fields
}

/// What *Test connection* says for these values.
async fn test_words(app: &TestApp, fields: &[(&str, &str)]) -> String {
    let r = app.post_form("/settings/checkmk/test", fields).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.expect("body");
    assert!(!html.contains(SECRET), "the secret is never shown");
    let start = html.find("role=\"status\">").expect("a report") + 14;
    let end = start + html[start..].find("</div>").expect("end");
    html[start..end].to_string()
}

#[tokio::test]
async fn the_connection_test_says_what_answered_or_what_is_wrong() {
    let sim = Sim::start(Options {
        secret: SECRET.into(),
        ..Options::default()
    })
    .await
    .expect("checkmk-sim starts");
    let app = spawn_app().await;
    app.login_admin().await;
    let site = sim.site_url();

    let words = test_words(&app, &settings_form(&site, SECRET, &[])).await;
    assert!(words.starts_with("Connected to CheckMK 2."), "{words}");
    assert!(
        words.contains("edition") && words.ends_with("site cmk."),
        "{words}"
    );
    let words = test_words(&app, &settings_form(&site, "wrong-secret", &[])).await;
    assert!(
        words.starts_with("Connection failed: CheckMK refused the automation user or its secret"),
        "{words}"
    );
    let words = test_words(
        &app,
        &settings_form(&site, SECRET, &[("checkmk.user", "nobody")]),
    )
    .await;
    assert!(words.contains("refused the automation user"), "{words}");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let unused = format!(
        "http://127.0.0.1:{}/cmk",
        closed.local_addr().unwrap().port()
    );
    drop(closed);
    let words = test_words(&app, &settings_form(&unused, SECRET, &[])).await;
    assert!(
        words.starts_with("Connection failed: cannot reach CheckMK at"),
        "{words}"
    );
    let wrong_site = format!("http://127.0.0.1:{}/nosuchsite", sim.port());
    let words = test_words(&app, &settings_form(&wrong_site, SECRET, &[])).await;
    assert!(words.starts_with("Connection failed:"), "{words}");
    sim.set_latency(Duration::from_secs(3));
    let words = test_words(
        &app,
        &settings_form(&site, SECRET, &[("checkmk.timeout_seconds", "1")]),
    )
    .await;
    assert_eq!(
        words,
        "Connection failed: CheckMK did not answer within 1 s."
    );
    sim.set_latency(Duration::ZERO);
    assert_eq!(
        app.audit_count("settings.update").await,
        0,
        "testing saves nothing"
    );

    // Saved: the secret is stored encrypted and never shown; a wrong one is said at once.
    let r = app
        .post_form(
            "/settings/checkmk",
            &settings_form(&site, "wrong-secret", &[]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = app.get_html("/settings").await;
    assert!(
        html.contains(
            "The connection test with the saved values failed: CheckMK refused the automation user"
        ),
        "{html}"
    );
    assert!(!html.contains("wrong-secret"));
    let r = app
        .post_form("/settings/checkmk", &settings_form(&site, SECRET, &[]))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = app.get_html("/settings").await;
    assert!(
        !html.contains("connection test with the saved values failed") && !html.contains(SECRET)
    );
    // The saved secret is used when the field is left empty.
    let words = test_words(&app, &settings_form(&site, "", &[])).await;
    assert!(words.starts_with("Connected to CheckMK"), "{words}");
}
