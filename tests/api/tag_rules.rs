//! Tag rules through the editor: preview, save-and-apply, nested any/all, negation, regex, CIDR,
//! automatic application on device changes, rule removal, and manual tags left alone.

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::helpers::{TestApp, spawn_app};
use netraven::entity::{device_tags, devices, tag_rules};

/// Rows as the editor posts them: (level, kind, negate, field, group op, operator, value).
pub type RowSpec<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
);

pub fn rule_form<'a>(
    name: &'a str,
    top_op: &'a str,
    rows: &[RowSpec<'a>],
    intent: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("name", name),
        ("is_active", "on"),
        ("top_op", top_op),
        ("top_negate", "is"),
        ("intent", intent),
    ];
    for (depth, kind, negate, field, op, operator, value) in rows {
        f.extend([
            ("row_depth", *depth),
            ("row_kind", *kind),
            ("row_negate", *negate),
            ("row_field", *field),
            ("row_op", *op),
            ("row_operator", *operator),
            ("row_value", *value),
        ]);
    }
    f
}

async fn tagged(app: &TestApp, tag_id: i32) -> Vec<String> {
    let links = device_tags::Entity::find()
        .filter(device_tags::Column::TagId.eq(tag_id))
        .all(&app.db)
        .await
        .unwrap();
    let ids: Vec<i32> = links.iter().map(|l| l.device_id).collect();
    let mut names: Vec<String> = devices::Entity::find()
        .filter(devices::Column::Id.is_in(ids))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.hostname)
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn rules_preview_apply_follow_devices_and_spare_manual_tags() {
    let app = spawn_app().await;
    app.login_admin().await;
    app.add_device("core-sw01", "10.1.0.1", "cisco_ios").await;
    app.add_device("core-sw02", "10.1.0.2", "juniper_junos")
        .await;
    app.add_device("edge-r1", "2001:db8::1", "arista_eos").await;
    let lab = app.add_device("lab-1", "192.168.1.1", "linux").await;
    let core = app.add_tag("core", "#0969da").await;
    app.post_form(
        &format!("/devices/{lab}/tags"),
        &[("tag_id", &core.to_string())],
    )
    .await;

    let rows = [
        (
            "0",
            "condition",
            "is",
            "hostname",
            "all",
            "regex",
            "^core-sw\\d+$",
        ),
        (
            "0",
            "condition",
            "not",
            "platform",
            "all",
            "equals",
            "juniper_junos",
        ),
    ];
    let path = format!("/tags/{core}/rules");
    let r = app
        .post_form(&path, &rule_form("core switches", "all", &rows, "preview"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("<strong>1</strong> devices would gain the tag"),
        "preview counts"
    );
    assert!(html.contains("core-sw01") && !html.contains(">core-sw02<"));
    assert_eq!(
        tag_rules::Entity::find().count(&app.db).await.unwrap(),
        0,
        "preview stores nothing"
    );

    // Bad regex / CIDR: rejected with the parser's message, nothing stored.
    let bad = [("0", "condition", "is", "hostname", "all", "regex", "([core")];
    let r = app
        .post_form(&path, &rule_form("bad", "all", &bad, "save"))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("invalid regular expression")
    );
    let bad = [(
        "0",
        "condition",
        "is",
        "ip_address",
        "all",
        "in_cidr",
        "10.0.0.0/40",
    )];
    let r = app
        .post_form(&path, &rule_form("bad", "all", &bad, "save"))
        .await;
    assert!(r.text().await.unwrap().contains("invalid network"));
    assert_eq!(tag_rules::Entity::find().count(&app.db).await.unwrap(), 0);

    let r = app
        .post_form(&path, &rule_form("core switches", "all", &rows, "save"))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(tagged(&app, core).await, ["core-sw01", "lab-1"]);
    let rule = tag_rules::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();

    // New and edited devices follow active rules.
    let sw3 = app.add_device("core-sw03", "10.1.0.3", "cisco_ios").await;
    assert!(tagged(&app, core).await.contains(&"core-sw03".to_string()));
    app.submit(
        &format!("/devices/{sw3}/edit"),
        &format!("/devices/{sw3}"),
        &[
            ("hostname", "dist-sw03"),
            ("ip_address", "10.1.0.3"),
            ("device_type", "cisco_ios"),
        ],
    )
    .await;
    assert!(
        !tagged(&app, core).await.contains(&"dist-sw03".to_string()),
        "rule tag removed when no longer matching"
    );

    // Manual tags survive rule application and rule removal.
    app.post_form(&format!("/tags/{core}/rules/{}/apply", rule.id), &[])
        .await;
    assert!(tagged(&app, core).await.contains(&"lab-1".to_string()));
    let r = app
        .post_form(
            &format!("/tags/{core}/rules/{}/delete", rule.id),
            &[("remove_assigned", "on")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(tagged(&app, core).await, ["lab-1"]);
    for event in ["tag_rule.create", "tag_rule.apply", "tag_rule.delete"] {
        assert_eq!(app.audit_count(event).await, 1, "{event}");
    }
}

#[tokio::test]
async fn nested_any_all_groups_with_ipv6_cidr() {
    let app = spawn_app().await;
    app.login_admin().await;
    app.add_device("edge-r1", "2001:db8::1", "arista_eos").await;
    app.add_device("edge-r2", "2001:db9::1", "arista_eos").await;
    app.add_device("lab-a", "192.168.1.1", "linux").await;
    app.add_device("lab-b", "10.9.9.9", "linux").await;
    let t = app.add_tag("special", "#0969da").await;
    // any( ip in 2001:db8::/32 , all( hostname starts_with lab , NOT ip in 10.0.0.0/8 ) )
    let rows = [
        (
            "0",
            "condition",
            "is",
            "ip_address",
            "all",
            "in_cidr",
            "2001:db8::/32",
        ),
        ("0", "group", "is", "hostname", "all", "equals", ""),
        (
            "1",
            "condition",
            "is",
            "hostname",
            "all",
            "starts_with",
            "LAB",
        ),
        (
            "1",
            "condition",
            "not",
            "ip_address",
            "all",
            "in_cidr",
            "10.0.0.0/8",
        ),
    ];
    let r = app
        .post_form(
            &format!("/tags/{t}/rules"),
            &rule_form("mixed", "any", &rows, "save"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(tagged(&app, t).await, ["edge-r1", "lab-a"]);
    // The editor shows the nested rule back as rows.
    let rule = tag_rules::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let (status, html) = app.get_html(&format!("/tags/{t}/rules/{}", rule.id)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("value=\"2001:db8::/32\"") && html.contains("value=\"LAB\""));
    let (_, list) = app.get_html(&format!("/tags/{t}/rules")).await;
    assert!(
        list.contains(
            "(hostname starts_with &#34;LAB&#34; AND NOT ip_address in_cidr &#34;10.0.0.0/8&#34;)"
        ),
        "summary shows nesting"
    );
}
