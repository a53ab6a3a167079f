//! Schedules through the UI: every schedule type created, edited, switched off and on and
//! deleted through the form with the stored next run checked; validation messages on the form;
//! the "next 5 runs" preview across a DST change; permissions; audit; run now; the scheduler's
//! compare-and-set and the default schedules, on the app's own database.
//!
//! Expected run times are worked out here, with chrono-tz and the documented rules, or written
//! out by hand; never with the scheduling code under test, so that a mistake there cannot make
//! both sides agree.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc,
    Weekday,
};
use chrono_tz::Tz;
use netraven::vocabulary::{JobType, TargetKind};
use reqwest::StatusCode;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter,
};

use crate::helpers::{TestApp, location, spawn_app};
use netraven::entity::{job_logs, scheduled_jobs};
use netraven::services::schedules;

async fn stored(app: &TestApp, id: i32) -> Option<scheduled_jobs::Model> {
    scheduled_jobs::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
}

async fn count(app: &TestApp) -> u64 {
    scheduled_jobs::Entity::find().count(&app.db).await.unwrap()
}

/// A complete form for `schedule_type`, with `extra` replacing or adding fields.
fn form<'a>(
    name: &'a str,
    schedule_type: &'a str,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("name", name),
        ("job_type", "backup"),
        ("target_type", "all"),
        ("schedule_type", schedule_type),
        ("timezone", "Europe/Berlin"),
        ("enabled", "on"),
    ];
    for (k, v) in extra {
        if *k != "days" {
            fields.retain(|(f, _)| f != k);
        }
        fields.push((k, v));
    }
    fields
}

async fn create(app: &TestApp, fields: &[(&str, &str)]) -> i32 {
    let r = app.submit("/schedules/new", "/schedules", fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "create {fields:?}");
    location(&r)
        .trim_start_matches("/schedules/")
        .parse()
        .expect("schedule id in redirect")
}

fn berlin(t: DateTime<Utc>) -> chrono::DateTime<Tz> {
    t.with_timezone(&BERLIN)
}

const BERLIN: Tz = chrono_tz::Europe::Berlin;

/// When a schedule created by a test should run.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// At this local date and time.
    Once(NaiveDateTime),
    /// Every so many minutes, counted from the request.
    Every(i64),
    /// At this local time of day, on the local dates `on` accepts.
    At {
        hour: u32,
        minute: u32,
        on: fn(NaiveDate) -> bool,
    },
    /// At :00, :15, :30 and :45, local time.
    QuarterHours,
}

fn any_day(_: NaiveDate) -> bool {
    true
}

fn monday_or_thursday(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Mon | Weekday::Thu)
}

/// The 31st, or the last day of a shorter month: in both cases the month's last day.
fn last_of_month(d: NaiveDate) -> bool {
    d.succ_opt().is_some_and(|next| next.day() == 1)
}

/// The instant of a local time by the documented rules, for zones (UTC, Europe/Berlin) whose
/// clock changes by one hour: a time passed twice runs at the first pass; a skipped time runs an
/// hour later on the clock.
fn instant(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, b) => std::cmp::min(a, b).with_timezone(&Utc),
        LocalResult::None => instant(tz, local + Duration::hours(1)),
    }
}

/// The first run strictly after `after`. For local times: every candidate from the day before
/// `after` on (two months cover a monthly schedule), as an instant, the earliest that is later.
fn expected_after(expect: Expect, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let first_day = after.with_timezone(&tz).date_naive() - Duration::days(1);
    let days = |n: i64| (0..n).map(move |i| first_day + Duration::days(i));
    let candidates: Vec<NaiveDateTime> = match expect {
        Expect::Every(minutes) => return Some(after + Duration::minutes(minutes)),
        Expect::Once(at) => vec![at],
        Expect::At { hour, minute, on } => days(64)
            .filter(|d| on(*d))
            .filter_map(|d| d.and_hms_opt(hour, minute, 0))
            .collect(),
        Expect::QuarterHours => days(3)
            .flat_map(|d| (0..96).filter_map(move |q| d.and_hms_opt(q / 4, q % 4 * 15, 0)))
            .collect(),
    };
    candidates
        .into_iter()
        .map(|local| instant(tz, local))
        .filter(|t| *t > after)
        .min()
}

/// The stored next run is the expected one for a moment between `before` and now (a boundary
/// may pass during the request), and lies ahead.
fn assert_next(
    s: &scheduled_jobs::Model,
    expect: Expect,
    tz: Tz,
    before: DateTime<Utc>,
) -> DateTime<Utc> {
    let next = s.next_run_at.expect("a next run");
    if let Expect::Every(minutes) = expect {
        // Counted from the moment of the request, in whole seconds.
        let step = Duration::minutes(minutes);
        assert!(next > before + step - Duration::seconds(1) && next <= Utc::now() + step);
        return next;
    }
    let expected = [
        expected_after(expect, tz, before),
        expected_after(expect, tz, Utc::now()),
    ];
    assert!(
        expected.contains(&Some(next)),
        "{}: stored {next}, expected {expected:?}",
        s.name
    );
    assert!(next > before);
    next
}

#[tokio::test]
async fn every_schedule_type_through_the_form() {
    let app = spawn_app().await;
    // The default schedules of the first start are audited too.
    let created_before = app.audit_count("schedule.create").await;
    app.login_admin().await;
    let before = Utc::now();
    let future = (berlin(before) + Duration::days(3))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let once_at = NaiveDateTime::parse_from_str(&future, "%Y-%m-%dT%H:%M").unwrap();
    let daily_at_two = Expect::At {
        hour: 2,
        minute: 0,
        on: any_day,
    };
    let mon_thu = Expect::At {
        hour: 6,
        minute: 30,
        on: monday_or_thursday,
    };
    let on_the_31st = Expect::At {
        hour: 4,
        minute: 0,
        on: last_of_month,
    };

    // once: the local time in Berlin, stored as that instant.
    let once = create(&app, &form("once", "once", &[("at", future.as_str())])).await;
    let s = stored(&app, once).await.unwrap();
    assert_eq!(s.parameters["at"], future.as_str());
    let next = assert_next(&s, Expect::Once(once_at), BERLIN, before);
    assert_eq!(berlin(next).format("%Y-%m-%dT%H:%M").to_string(), future);

    // interval: one interval from now, in real time.
    let interval = create(&app, &form("interval", "interval", &[("minutes", "90")])).await;
    let s = stored(&app, interval).await.unwrap();
    assert_eq!(s.parameters["minutes"], 90);
    let next = s.next_run_at.unwrap();
    assert!(next > before + Duration::minutes(89) && next <= Utc::now() + Duration::minutes(90));

    // daily: 02:00 Berlin (03:00 on a spring-forward day), within a day.
    let daily = create(&app, &form("daily", "daily", &[("time", "02:00")])).await;
    let s = stored(&app, daily).await.unwrap();
    let next = assert_next(&s, daily_at_two, BERLIN, before);
    assert!(next <= before + Duration::days(1) + Duration::hours(1));
    assert!(matches!(berlin(next).hour(), 2 | 3) && berlin(next).minute() == 0);

    // weekly: Mondays and Thursdays.
    let weekly = create(
        &app,
        &form(
            "weekly",
            "weekly",
            &[("time", "06:30"), ("days", "thu"), ("days", "mon")],
        ),
    )
    .await;
    let s = stored(&app, weekly).await.unwrap();
    assert_eq!(s.parameters["days"], serde_json::json!(["mon", "thu"]));
    let next = assert_next(&s, mon_thu, BERLIN, before);
    assert!(matches!(
        berlin(next).weekday(),
        Weekday::Mon | Weekday::Thu
    ));
    assert_eq!((berlin(next).hour(), berlin(next).minute()), (6, 30));

    // monthly: the 31st, or the month's last day.
    let monthly = create(
        &app,
        &form("monthly", "monthly", &[("day", "31"), ("time", "04:00")]),
    )
    .await;
    let s = stored(&app, monthly).await.unwrap();
    let next = assert_next(&s, on_the_31st, BERLIN, before);
    let local = berlin(next);
    let last_day = (local.date_naive() + Duration::days(1)).day() == 1;
    assert!(local.day() == 31 || last_day, "monthly 31st ran on {local}");

    // cron: every 15 minutes, debug on.
    let cron = create(
        &app,
        &form(
            "cron",
            "cron",
            &[("cron", "*/15  *  * * *"), ("debug", "on")],
        ),
    )
    .await;
    let s = stored(&app, cron).await.unwrap();
    assert_eq!(s.parameters["cron"], "*/15 * * * *");
    assert_eq!(s.parameters["debug"], true);
    let next = assert_next(&s, Expect::QuarterHours, BERLIN, before);
    assert_eq!(next.minute() % 15, 0);
    assert!(next <= Utc::now() + Duration::minutes(15));
    assert_eq!(app.audit_count("schedule.create").await, created_before + 6);

    // The list shows each in words, with time zone and next run.
    let (status, html) = app.get_html("/schedules").await;
    assert_eq!(status, StatusCode::OK);
    for words in [
        "daily at 02:00 Europe/Berlin",
        "every 90 min",
        "weekly on Mon, Thu at 06:30 Europe/Berlin",
        "monthly on day 31 (or the last day of a shorter month) at 04:00 Europe/Berlin",
        "cron */15 * * * *",
    ] {
        assert!(html.contains(words), "list shows {words:?}");
    }
    assert!(
        html.contains("in ") && html.contains("CE"),
        "relative and local next run"
    );

    // Edit: daily at 05:45 in UTC; the next run follows.
    let r = app
        .submit(
            &format!("/schedules/{daily}"),
            &format!("/schedules/{daily}"),
            &form(
                "daily renamed",
                "daily",
                &[("time", "05:45"), ("timezone", "UTC")],
            ),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let s = stored(&app, daily).await.unwrap();
    assert_eq!(
        (s.name.as_str(), s.timezone.as_str()),
        ("daily renamed", "UTC")
    );
    let daily_at_five_to_six = Expect::At {
        hour: 5,
        minute: 45,
        on: any_day,
    };
    let next = assert_next(&s, daily_at_five_to_six, Tz::UTC, before);
    assert_eq!((next.hour(), next.minute()), (5, 45));
    assert_eq!(app.audit_count("schedule.update").await, 1);
    let (_, page) = app.get_html(&format!("/schedules/{daily}")).await;
    assert!(page.contains("daily at 05:45 UTC") && page.contains("Next 5 runs"));

    // Editing only the name keeps an interval's phase.
    let phase = stored(&app, interval).await.unwrap().next_run_at;
    let r = app
        .submit(
            &format!("/schedules/{interval}"),
            &format!("/schedules/{interval}"),
            &form("interval renamed", "interval", &[("minutes", "90")]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(stored(&app, interval).await.unwrap().next_run_at, phase);

    // Switch off and on: no next run while off, counted from now when on again.
    let expected = [
        (once, Expect::Once(once_at), BERLIN),
        (interval, Expect::Every(90), BERLIN),
        (daily, daily_at_five_to_six, Tz::UTC),
        (weekly, mon_thu, BERLIN),
        (monthly, on_the_31st, BERLIN),
        (cron, Expect::QuarterHours, BERLIN),
    ];
    for (id, expect, tz) in expected {
        let r = app.post_form(&format!("/schedules/{id}/toggle"), &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let s = stored(&app, id).await.unwrap();
        assert!(!s.enabled && s.next_run_at.is_none(), "{} off", s.name);
        let r = app.post_form(&format!("/schedules/{id}/toggle"), &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let s = stored(&app, id).await.unwrap();
        assert!(s.enabled, "{} on", s.name);
        assert_next(&s, expect, tz, before);
    }
    assert_eq!(app.audit_count("schedule.disable").await, 6);
    assert_eq!(app.audit_count("schedule.enable").await, 6);

    // Delete, after the confirmation page.
    for id in [once, interval, daily, weekly, monthly, cron] {
        let (status, html) = app.get_html(&format!("/schedules/{id}/delete")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Delete schedule"));
        let r = app.post_form(&format!("/schedules/{id}/delete"), &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(stored(&app, id).await.is_none());
    }
    assert_eq!(app.audit_count("schedule.delete").await, 6);
}

#[tokio::test]
async fn targets_device_and_tag() {
    let app = spawn_app().await;
    app.login_admin().await;
    let device = app.add_device("core-sw01", "192.0.2.1", "cisco_ios").await;
    let tag = app.add_tag("core", "#d1242f").await.to_string();
    let d = create(
        &app,
        &form(
            "one device",
            "daily",
            &[
                ("time", "02:00"),
                ("target_type", "device"),
                ("device", "CORE-SW01"),
            ],
        ),
    )
    .await;
    let s = stored(&app, d).await.unwrap();
    assert_eq!(
        (s.target_type.as_str(), s.target_id),
        ("device", Some(device))
    );
    let t = create(
        &app,
        &form(
            "one tag",
            "daily",
            &[
                ("time", "02:00"),
                ("target_type", "tag"),
                ("tag_id", tag.as_str()),
            ],
        ),
    )
    .await;
    let s = stored(&app, t).await.unwrap();
    assert_eq!(s.target_type, TargetKind::Tag);
    // Retention has no target, whatever the form says.
    let r = create(
        &app,
        &form(
            "cleanup",
            "daily",
            &[
                ("time", "03:30"),
                ("job_type", "retention"),
                ("target_type", "tag"),
                ("tag_id", tag.as_str()),
            ],
        ),
    )
    .await;
    let s = stored(&app, r).await.unwrap();
    assert_eq!((s.target_type.as_str(), s.target_id), ("all", None));

    let (_, html) = app.get_html("/schedules").await;
    assert!(html.contains(&format!("href=\"/devices/{device}\">core-sw01</a>")));
    assert!(html.contains(&format!("href=\"/tags/{tag}\">tag core</a>")));
    // The edit form shows the device by name.
    let (_, html) = app.get_html(&format!("/schedules/{d}")).await;
    assert!(html.contains("value=\"core-sw01\""));
}

#[tokio::test]
async fn validation_errors_show_on_the_form_and_store_nothing() {
    let app = spawn_app().await;
    app.login_admin().await;
    create(&app, &form("taken", "daily", &[("time", "02:00")])).await;
    let n = count(&app).await;
    let past = (berlin(Utc::now()) - Duration::hours(2))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            form("", "daily", &[("time", "02:00")]),
            "This field is required.",
        ),
        (
            form("Taken", "daily", &[("time", "02:00")]),
            "A schedule with this name already exists.",
        ),
        (
            form("x", "daily", &[("time", "25:00")]),
            "Enter a time as HH:MM between 00:00 and 23:59, not \u{201c}25:00\u{201d}.",
        ),
        (
            form("x", "weekly", &[("time", "02:00")]),
            "Choose at least one weekday.",
        ),
        (
            form("x", "monthly", &[("day", "32"), ("time", "02:00")]),
            "Enter a day of the month from 1 to 31.",
        ),
        (
            form("x", "monthly", &[("day", "0"), ("time", "02:00")]),
            "Enter a day of the month from 1 to 31.",
        ),
        (
            form("x", "interval", &[("minutes", "0")]),
            "Enter a whole number of minutes from 1 to 10080",
        ),
        (
            form("x", "interval", &[("minutes", "10081")]),
            "Enter a whole number of minutes from 1 to 10080",
        ),
        (
            form("x", "cron", &[("cron", "61 * * * *")]),
            "Invalid cron expression: ",
        ),
        (
            form("x", "cron", &[("cron", "* * *")]),
            "A cron expression has 5 fields",
        ),
        (
            form(
                "x",
                "daily",
                &[("time", "02:00"), ("timezone", "Mars/Olympus")],
            ),
            "Unknown time zone \u{201c}Mars/Olympus\u{201d}",
        ),
        (
            form(
                "x",
                "daily",
                &[
                    ("time", "02:00"),
                    ("target_type", "device"),
                    ("device", "nope"),
                ],
            ),
            "No device is named \u{201c}nope\u{201d}.",
        ),
        (
            form(
                "x",
                "daily",
                &[
                    ("time", "02:00"),
                    ("target_type", "tag"),
                    ("tag_id", "99999"),
                ],
            ),
            "That tag no longer exists",
        ),
        (
            form("x", "once", &[("at", past.as_str())]),
            "This time has passed",
        ),
        (form("x", "hourly", &[]), "Choose how often the job runs."),
    ];
    for (fields, message) in cases {
        let r = app.submit("/schedules/new", "/schedules", &fields).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        let html = r.text().await.unwrap();
        assert!(html.contains(message), "{fields:?}: expected {message:?}");
        assert!(html.contains("The schedule was not saved"));
    }
    assert_eq!(count(&app).await, n, "nothing stored by bad input");
    // The edit form says the same and keeps the stored schedule.
    let id = create(&app, &form("good", "daily", &[("time", "02:00")])).await;
    let r = app
        .submit(
            &format!("/schedules/{id}"),
            &format!("/schedules/{id}"),
            &form("good", "daily", &[("time", "24:10")]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("\u{201c}24:10\u{201d}"));
    assert_eq!(stored(&app, id).await.unwrap().parameters["time"], "02:00");
    assert_eq!(app.audit_count("schedule.update").await, 0);
}

/// The fields the schedule form always sends, whatever the kind of schedule.
const FORM_BASE: &str = "name=preview&job_type=backup&target_type=all&enabled=off&debug=off";

/// The UTC times in a preview fragment, in order (a UTC schedule shows them once, others beside
/// the local time).
fn preview_utc(html: &str) -> Vec<String> {
    let utc = regex::Regex::new(r"(\d{4}-\d\d-\d\d \d\d:\d\d) UTC").unwrap();
    html.split("<li>")
        .skip(1)
        .filter_map(|li| utc.captures_iter(li).last().map(|c| c[1].to_string()))
        .collect()
}

#[tokio::test]
async fn preview_shows_the_next_five_runs() {
    let app = spawn_app().await;
    app.login_admin().await;
    let get = |q: &'static str| {
        let app = &app;
        async move {
            // What the page sends: the whole form (htmx includes it), with the fields under test.
            let path = format!("/schedules/preview?{FORM_BASE}&{q}");
            let (status, html) = app.get_html(&path).await;
            assert_eq!(status, StatusCode::OK, "{q}");
            html
        }
    };
    // Daily 02:00 in Berlin across the spring-forward change on 2026-03-29: 02:00 does not
    // exist that day and runs at 03:00 CEST; from then on 02:00 CEST is 00:00 UTC.
    let html =
        get("schedule_type=daily&time=02:00&timezone=Europe%2FBerlin&from=2026-03-27T12:00:00Z")
            .await;
    assert_eq!(
        preview_utc(&html),
        [
            "2026-03-28 01:00",
            "2026-03-29 01:00",
            "2026-03-30 00:00",
            "2026-03-31 00:00",
            "2026-04-01 00:00"
        ]
    );
    assert!(
        html.contains("Sun 2026-03-29 03:00 CEST") && html.contains("Sat 2026-03-28 02:00 CET")
    );
    assert!(html.contains("daily at 02:00 Europe/Berlin"));

    let html =
        get("schedule_type=cron&cron=*%2F15+*+*+*+*&timezone=UTC&from=2026-06-01T10:07:00Z").await;
    assert_eq!(
        preview_utc(&html),
        [
            "2026-06-01 10:15",
            "2026-06-01 10:30",
            "2026-06-01 10:45",
            "2026-06-01 11:00",
            "2026-06-01 11:15"
        ]
    );

    // 2026-06-01 is a Monday.
    let html = get(
        "schedule_type=weekly&days=mon&days=thu&time=02:00&timezone=UTC&from=2026-06-01T03:00:00Z",
    )
    .await;
    assert_eq!(
        preview_utc(&html),
        [
            "2026-06-04 02:00",
            "2026-06-08 02:00",
            "2026-06-11 02:00",
            "2026-06-15 02:00",
            "2026-06-18 02:00"
        ]
    );

    // The 31st runs on the last day of February (and of April).
    let html =
        get("schedule_type=monthly&day=31&time=02:00&timezone=UTC&from=2027-01-01T00:00:00Z").await;
    assert_eq!(
        preview_utc(&html),
        [
            "2027-01-31 02:00",
            "2027-02-28 02:00",
            "2027-03-31 02:00",
            "2027-04-30 02:00",
            "2027-05-31 02:00"
        ]
    );

    // Without `from`: from now, and the validation message instead of times.
    let html = get("schedule_type=interval&minutes=60&timezone=UTC").await;
    assert_eq!(preview_utc(&html).len(), 5);
    let html = get("schedule_type=cron&cron=nonsense&timezone=UTC").await;
    assert!(preview_utc(&html).is_empty());
    assert!(html.contains("A cron expression has 5 fields"));
    let html = get("schedule_type=daily&time=25:00&timezone=UTC").await;
    assert!(html.contains("\u{201c}25:00\u{201d}"));

    // The field groups fragment hides what does not apply to the chosen type.
    let (status, html) = app
        .get_html(&format!(
            "/schedules/fields?{FORM_BASE}&schedule_type=weekly&timezone=UTC"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let open_groups = html.matches("<fieldset>").count();
    assert_eq!(open_groups, 2, "time of day and weekdays: {html}");
    assert!(html.contains("name=\"days\""));
}

#[tokio::test]
async fn viewer_reads_operator_writes_engineer_deletes() {
    let app = spawn_app().await;
    app.login_admin().await;
    let id = create(&app, &form("nightly", "daily", &[("time", "02:00")])).await;
    let password = "Passw0rd-for-roles";
    app.create_user("vera", "viewer", password).await;
    app.create_user("otto", "operator", password).await;

    let viewer = app.new_browser();
    viewer.login("vera", password).await;
    let (status, html) = viewer.get_html("/schedules").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("nightly") && !html.contains("New schedule"));
    let (status, html) = viewer.get_html(&format!("/schedules/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Next 5 runs") && !html.contains("<form class=\"form\""));
    assert_eq!(
        viewer.get("/schedules/new").await.status(),
        StatusCode::FORBIDDEN
    );
    for path in [
        "/schedules".to_string(),
        format!("/schedules/{id}"),
        format!("/schedules/{id}/toggle"),
        format!("/schedules/{id}/run"),
        format!("/schedules/{id}/delete"),
    ] {
        let r = viewer
            .post_form(&path, &form("viewer's", "daily", &[("time", "02:00")]))
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "viewer POST {path}");
    }

    let operator = app.new_browser();
    operator.login("otto", password).await;
    let mine = create(
        &operator,
        &form("operator's", "interval", &[("minutes", "30")]),
    )
    .await;
    assert!(stored(&app, mine).await.unwrap().created_by.is_some());
    assert_eq!(
        operator
            .get(&format!("/schedules/{mine}/delete"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let r = operator
        .post_form(&format!("/schedules/{mine}/delete"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(stored(&app, mine).await.is_some());
    let (_, html) = operator.get_html(&format!("/schedules/{mine}")).await;
    assert!(
        !html.contains("Delete…"),
        "no delete button without the permission"
    );
    assert_eq!(app.audit_count("schedule.delete").await, 0);
}

#[tokio::test]
async fn run_now_starts_the_job_and_opens_it() {
    let app = spawn_app().await;
    app.login_admin().await;
    app.add_device("edge-r1", "192.0.2.7", "cisco_ios").await;
    let id = create(
        &app,
        &form("nightly", "daily", &[("time", "02:00"), ("debug", "on")]),
    )
    .await;
    let next = stored(&app, id).await.unwrap().next_run_at;
    let r = app.post_form(&format!("/schedules/{id}/run"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    let job_id: i32 = to
        .strip_prefix("/jobs/")
        .and_then(|j| j.parse().ok())
        .unwrap_or_else(|| panic!("redirect to a job, got {to}"));
    let job = job_logs::Entity::find_by_id(job_id)
        .one(&app.db)
        .await
        .unwrap()
        .expect("job row");
    assert_eq!(job.scheduled_job_id, Some(id));
    assert_eq!(job.job_type, JobType::Backup);
    assert!(job.debug);
    assert!(job.created_by.is_some());
    // Running now does not move the schedule.
    assert_eq!(stored(&app, id).await.unwrap().next_run_at, next);
    // A second click is a second job (fresh key).
    let r = app.post_form(&format!("/schedules/{id}/run"), &[]).await;
    assert_ne!(location(&r), to);
    let jobs = job_logs::Entity::find()
        .filter(job_logs::Column::ScheduledJobId.eq(id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(jobs, 2);
    // The schedule's page lists them.
    let (_, html) = app.get_html(&format!("/schedules/{id}")).await;
    assert!(html.contains(&format!("href=\"/jobs/{job_id}\"")));

    // A backup with nothing to back up says why and stays on the schedule.
    let tag = app.add_tag("empty", "#0969da").await.to_string();
    let empty = create(
        &app,
        &form(
            "empty tag",
            "daily",
            &[
                ("time", "02:00"),
                ("target_type", "tag"),
                ("tag_id", tag.as_str()),
            ],
        ),
    )
    .await;
    let r = app.post_form(&format!("/schedules/{empty}/run"), &[]).await;
    assert_eq!(location(&r), format!("/schedules/{empty}"));
    let (_, html) = app.get_html(&format!("/schedules/{empty}")).await;
    assert!(html.contains("The job did not start"));
}

#[tokio::test]
async fn advance_is_compare_and_set_and_catches_up_once() {
    let app = spawn_app().await;
    app.login_admin().await;
    let id = create(
        &app,
        &form(
            "nightly",
            "daily",
            &[("time", "02:00"), ("timezone", "UTC")],
        ),
    )
    .await;
    let now = Utc::now();
    // Ten periods overdue, as after a long outage.
    let due_at = (now - Duration::days(10))
        .date_naive()
        .and_hms_opt(2, 0, 0)
        .unwrap()
        .and_utc();
    let mut active = stored(&app, id).await.unwrap().into_active_model();
    active.next_run_at = Set(Some(due_at));
    active.update(&app.db).await.unwrap();

    let due = schedules::due(&app.db, now).await.unwrap();
    let s = due.iter().find(|s| s.id == id).expect("due").clone();
    assert_eq!(
        schedules::idempotency_key(&s),
        format!("schedule:{id}:{}", due_at.timestamp())
    );
    let job = schedules::new_job(&s).unwrap();
    assert_eq!(job.scheduled_job_id, Some(id));
    assert_eq!(
        job.idempotency_key,
        Some(format!("schedule:{id}:{}", due_at.timestamp()))
    );

    // Two nodes advancing the same read: exactly one wins.
    let (a, b) = tokio::join!(
        schedules::advance(&app.db, &s, now),
        schedules::advance(&app.db, &s, now)
    );
    assert_eq!([a.unwrap(), b.unwrap()].iter().filter(|w| **w).count(), 1);
    assert!(!schedules::advance(&app.db, &s, now).await.unwrap());
    let after = stored(&app, id).await.unwrap();
    assert_eq!(after.last_run_at, Some(due_at));
    // Once, to the first 02:00 UTC after now: today's if it is still ahead, else tomorrow's.
    let today = now.date_naive().and_hms_opt(2, 0, 0).unwrap().and_utc();
    let first_after_now = if today > now {
        today
    } else {
        today + Duration::days(1)
    };
    assert_eq!(after.next_run_at, Some(first_after_now));
    assert!(
        schedules::due(&app.db, now)
            .await
            .unwrap()
            .iter()
            .all(|s| s.id != id)
    );

    // A once schedule ends switched off.
    let at = (Utc::now() + Duration::hours(1))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let once = create(
        &app,
        &form("once", "once", &[("at", at.as_str()), ("timezone", "UTC")]),
    )
    .await;
    let s = stored(&app, once).await.unwrap();
    let later = s.next_run_at.unwrap() + Duration::seconds(1);
    assert!(schedules::advance(&app.db, &s, later).await.unwrap());
    let s = stored(&app, once).await.unwrap();
    assert_eq!((s.enabled, s.next_run_at), (false, None));
    // Once its time has passed it cannot be switched on again without a new time.
    let mut active = s.into_active_model();
    active.parameters = Set(serde_json::json!({"at": "2026-01-01T02:00", "debug": false}));
    active.update(&app.db).await.unwrap();
    app.post_form(&format!("/schedules/{once}/toggle"), &[])
        .await;
    assert!(!stored(&app, once).await.unwrap().enabled);
    let (_, html) = app.get_html("/schedules").await;
    assert!(html.contains("time has passed"));
}

#[tokio::test]
async fn scheduler_pass_starts_each_due_run_once() {
    let app = spawn_app().await;
    app.login_admin().await;
    app.add_device("edge-r1", "192.0.2.7", "cisco_ios").await;
    let id = create(
        &app,
        &form(
            "every 5",
            "interval",
            &[("minutes", "5"), ("timezone", "UTC")],
        ),
    )
    .await;
    let tag = app.add_tag("empty", "#0969da").await.to_string();
    let empty = create(
        &app,
        &form(
            "empty tag",
            "daily",
            &[
                ("time", "02:00"),
                ("target_type", "tag"),
                ("tag_id", tag.as_str()),
            ],
        ),
    )
    .await;
    let now = Utc::now();
    let due_at = (now - Duration::minutes(27)).with_nanosecond(0).unwrap();
    for s in [id, empty] {
        let mut active = stored(&app, s).await.unwrap().into_active_model();
        active.next_run_at = Set(Some(due_at));
        active.update(&app.db).await.unwrap();
    }
    let queue = netraven::background::Queue::new(&app.db);
    // Two nodes' passes at once: one job for the due run.
    let (a, b) = tokio::join!(
        schedules::run_due(&app.db, &queue, now),
        schedules::run_due(&app.db, &queue, now)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    let jobs = job_logs::Entity::find()
        .filter(job_logs::Column::ScheduledJobId.eq(id))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        jobs[0].idempotency_key,
        format!("schedule:{id}:{}", due_at.timestamp())
    );
    // The interval keeps its phase: 27 minutes late, the next is 3 minutes ahead.
    let s = stored(&app, id).await.unwrap();
    assert_eq!(s.next_run_at, Some(due_at + Duration::minutes(30)));
    assert_eq!(s.last_run_at, Some(due_at));
    // The schedule whose job could not start moved on too, without a job.
    let e = stored(&app, empty).await.unwrap();
    assert_eq!(e.last_run_at, Some(due_at));
    let daily_at_two = Expect::At {
        hour: 2,
        minute: 0,
        on: any_day,
    };
    assert_eq!(e.next_run_at, expected_after(daily_at_two, BERLIN, now));
    assert_eq!(
        job_logs::Entity::find()
            .filter(job_logs::Column::ScheduledJobId.eq(empty))
            .count(&app.db)
            .await
            .unwrap(),
        0
    );
    assert_eq!(schedules::run_due(&app.db, &queue, now).await.unwrap(), 0);
}

#[tokio::test]
async fn default_schedules_are_created_once_ever() {
    let app = spawn_app().await;
    app.login_admin().await;
    // The server may already have created them at start-up; either way they exist after this.
    schedules::ensure_defaults(&app.db).await.unwrap();
    let names = ["Daily backup of all devices", "Daily cleanup (retention)"];
    let mut ids = Vec::new();
    for name in names {
        let s = scheduled_jobs::Entity::find()
            .filter(scheduled_jobs::Column::Name.eq(name))
            .one(&app.db)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{name} created"));
        assert_eq!(
            (s.timezone.as_str(), s.target_type.as_str(), s.enabled),
            ("UTC", "all", true)
        );
        ids.push(s.id);
    }
    let backup = stored(&app, ids[0]).await.unwrap();
    assert_eq!(
        (backup.job_type.as_str(), backup.parameters["time"].as_str()),
        ("backup", Some("02:00"))
    );
    let cleanup = stored(&app, ids[1]).await.unwrap();
    assert_eq!(
        (
            cleanup.job_type.as_str(),
            cleanup.parameters["time"].as_str()
        ),
        ("retention", Some("03:30"))
    );

    // Deleted defaults stay deleted.
    let r = app
        .post_form(&format!("/schedules/{}/delete", ids[0]), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(!schedules::ensure_defaults(&app.db).await.unwrap());
    assert!(stored(&app, ids[0]).await.is_none());
    // The bookkeeping row is not a setting anyone edits.
    let (_, html) = app.get_html("/settings").await;
    assert!(!html.contains(schedules::DEFAULTS_MARKER));
}

mod browser {
    //! The form in a real browser (headless chromium): the field groups of other schedule types
    //! hide after htmx loads, appear when chosen, and the next runs follow the typing. Skipped
    //! when chromium is not installed, except under CI.

    use fantoccini::Locator;

    use crate::browser::{Browser, R, err};
    use crate::helpers::spawn_app;

    fn group_hidden(input: &str) -> String {
        format!("return document.querySelector('#{input}').closest('fieldset').hidden")
    }

    fn group_shown(input: &str) -> String {
        format!("return !document.querySelector('#{input}').closest('fieldset').hidden")
    }

    #[tokio::test]
    async fn form_shows_only_the_chosen_type_and_previews_as_you_type() {
        let Some(browser) = Browser::start(1280, 1600).await else {
            return;
        };
        let app = spawn_app().await;
        let b = &browser;
        let result: R<()> = async {
            let c = &b.c;
            b.sign_in_admin(&app).await?;

            c.goto(&app.url("/schedules/new")).await.map_err(err)?;
            // Daily is the default: after htmx loads, only the time of day shows.
            b.eventually(&group_hidden("cron"), "cron group hidden").await?;
            b.eventually(&group_shown("time"), "time group shown").await?;
            b.eventually("return document.querySelector('#schedule-preview').textContent.includes('daily at 02:00 UTC')", "daily preview").await?;

            c.find(Locator::Css("#schedule_type")).await.map_err(err)?.select_by_value("cron").await.map_err(err)?;
            b.eventually(&group_shown("cron"), "cron group shown").await?;
            b.eventually(&group_hidden("time"), "time group hidden").await?;
            c.find(Locator::Css("#cron")).await.map_err(err)?.send_keys("*/15 * * * *").await.map_err(err)?;
            b.eventually("return document.querySelector('#schedule-preview').textContent.includes('cron */15 * * * *')", "cron preview").await?;
            b.eventually("return document.querySelectorAll('#schedule-preview li').length === 5", "five runs").await?;

            b.screenshot("schedule-form.png").await?;

            c.find(Locator::Css("#name")).await.map_err(err)?.send_keys("quarter-hourly").await.map_err(err)?;
            c.find(Locator::Css("form.form button[type=submit]")).await.map_err(err)?.click().await.map_err(err)?;
            b.eventually("return document.querySelector('h1').textContent.includes('quarter-hourly')", "saved").await?;
            b.screenshot("schedule-page.png").await?;
            c.goto(&app.url("/schedules")).await.map_err(err)?;
            b.screenshot("schedules.png").await?;
            Ok(())
        }
        .await;
        browser.finish(result).await;
    }
}
