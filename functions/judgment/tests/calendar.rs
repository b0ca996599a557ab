//! The calendar as run-time data through the officer API against moto (template deployed): the
//! warning while next year is missing, an admin's upload of 2027 resolving a pending deadline
//! (timeline entry), an amendment of one 2027 holiday moving exactly the deadlines it touches,
//! and clear refusals that store nothing.

use testkit::store_env as support;

use std::collections::HashMap;

use api::{Req, Resp};
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use domain::{EventKind, Officer, Role};
use judgment::App;
use serde_json::Value;
use store::roles::*;
use support::officer;

fn sh(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Shanghai
        .with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .expect("instant")
        .with_timezone(&Utc)
}

/// The end of a Shanghai day, as JSON shows it.
fn end_of(y: i32, m: u32, d: u32) -> String {
    (sh(y, m, d, 0) + chrono::Duration::days(1) - chrono::Duration::milliseconds(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn req(o: &Officer, roles: &str, method: &str, path: &str, body: &str) -> Req {
    let mut r = Req::new(method, path);
    r.claims = HashMap::from([
        ("sub".to_owned(), o.id.as_str().to_owned()),
        ("cognito:username".to_owned(), format!("user-{}", o.id)),
        ("custom:bureau_id".to_owned(), o.bureau.as_str().to_owned()),
        ("custom:roles".to_owned(), roles.to_owned()),
    ]);
    r.body = body.as_bytes().to_vec();
    r
}

/// A 2027 document for the test (2027's real arrangement is not published in the data): New
/// Year's Day, and optionally one more holiday.
fn doc_2027(extra: Option<&str>) -> String {
    let mut holidays = vec![r#"{"date": "2027-01-01", "name": "元旦"}"#.to_owned()];
    if let Some(d) = extra {
        holidays.push(format!(r#"{{"date": "{d}", "name": "测试调整"}}"#));
    }
    format!(
        r#"{{"year": 2027, "source": "测试：2027年部分节假日安排", "holidays": [{}], "makeup_workdays": []}}"#,
        holidays.join(", ")
    )
}

/// `(clue_no, kind, from, due)` of the answer's deadlines, sorted.
fn placed(resp: &Resp) -> Vec<(String, String, Value, String)> {
    assert_eq!(
        resp.json_body()["failed"],
        serde_json::json!([]),
        "no clue failed"
    );
    let mut v: Vec<_> = resp.json_body()["deadlines"]
        .as_array()
        .expect("deadlines")
        .iter()
        .map(|d| {
            (
                d["clue_no"].as_str().unwrap_or_default().to_owned(),
                d["kind"].as_str().unwrap_or_default().to_owned(),
                d["from"].clone(),
                d["due"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    v.sort_by(|x, y| (&x.0, &x.1).cmp(&(&y.0, &y.1)));
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploading_2027_resolves_pending_deadlines_and_an_amendment_moves_only_those_it_touches() {
    let app = App::new(support::twin().await, outbox::MemoryNoticeQueue::default());
    let admin = officer("ministry-admin", "ministry", &[Role::Admin]);
    app.store.put_officer(&admin).await.expect("officer");
    let handler = officer("xihu-handler", "land-330106", &[Role::Handler]);
    app.store.put_officer(&handler).await.expect("officer");

    // Monday 2026-12-28: escalation due 2026-12-30, judgment pending (runs into 2027).
    // Wednesday 2026-12-30: both pending. 2026-12-21: everything inside 2026.
    let a = support::receive_on(&app.store, "c-a", 1, "330106", sh(2026, 12, 28, 10)).await;
    let b = support::receive_on(&app.store, "c-b", 2, "330106", sh(2026, 12, 30, 10)).await;
    let c = support::receive_on(&app.store, "c-c", 3, "330110", sh(2026, 12, 21, 10)).await;
    let (a_no, b_no) = (a.clue_no.to_string(), b.clue_no.to_string());
    let judgment_of = |clue: &domain::Clue| {
        clue.open_deadline(domain::deadline::DeadlineKind::Judgment)
            .and_then(|d| d.due)
    };
    let stored_a = app.store.clue(&a.clue_id).await.expect("a").clue;
    assert_eq!(
        judgment_of(&stored_a),
        None,
        "pending while 2027 has no data"
    );

    // Since 1 November the console shows the warning.
    let resp = app
        .handle(
            &req(&handler, "handler", "GET", "/api/officer/calendar", ""),
            sh(2026, 12, 2, 9),
        )
        .await;
    assert_eq!(resp.status, 200);
    let body = resp.json_body();
    assert_eq!(body["next_year_missing"], 2027);
    assert!(
        body["warning"]
            .as_str()
            .unwrap_or_default()
            .contains("2027 年的工作日历")
    );
    let years: Vec<_> = body["years"]
        .as_array()
        .expect("years")
        .iter()
        .map(|y| {
            (
                y["year"].as_i64().unwrap_or_default(),
                y["origin"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert!(years.contains(&(2026, "built_in".to_owned())), "{years:?}");
    let resp = app
        .handle(
            &req(&handler, "handler", "GET", "/api/officer/calendar", ""),
            sh(2026, 10, 31, 9),
        )
        .await;
    assert_eq!(
        resp.json_body()["next_year_missing"],
        Value::Null,
        "not before November"
    );

    // Refusals: not an admin, a bad document, a year that is not the path's. Nothing stored.
    let put =
        |who: &Officer, roles: &str, path: &str, body: &str| req(who, roles, "PUT", path, body);
    let now = sh(2026, 12, 31, 9);
    let county_admin = officer("xihu-admin", "land-330106", &[Role::Admin]);
    app.store.put_officer(&county_admin).await.expect("officer");
    let refusals = [
        (
            put(
                &handler,
                "handler",
                "/api/officer/calendar/2027",
                &doc_2027(None),
            ),
            403,
            "not_admin",
        ),
        (
            put(
                &county_admin,
                "admin",
                "/api/officer/calendar/2027",
                &doc_2027(None),
            ),
            403,
            "not_ministry_admin",
        ),
        (
            put(
                &admin,
                "admin",
                "/api/officer/calendar/2027",
                "{\"year\": 2027}",
            ),
            400,
            "invalid_calendar",
        ),
        (
            put(
                &admin,
                "admin",
                "/api/officer/calendar/2027",
                &doc_2027(None).replace(
                    "\"makeup_workdays\": []",
                    "\"makeup_workdays\": [{\"date\": \"2027-01-04\", \"name\": \"元旦\"}]",
                ),
            ),
            400,
            "invalid_calendar",
        ),
        (
            put(
                &admin,
                "admin",
                "/api/officer/calendar/2028",
                &doc_2027(None),
            ),
            400,
            "year_mismatch",
        ),
        (
            put(
                &admin,
                "admin",
                "/api/officer/calendar/20x7",
                &doc_2027(None),
            ),
            400,
            "invalid_year",
        ),
    ];
    for (r, status, code) in refusals {
        let resp = app.handle(&r, now).await;
        assert_eq!(
            (resp.status, resp.error_code().unwrap_or_default()),
            (status, code.to_owned())
        );
    }
    let resp = app
        .handle(
            &req(&handler, "handler", "GET", "/api/officer/calendar", ""),
            now,
        )
        .await;
    assert_eq!(
        resp.json_body()["next_year_missing"],
        2027,
        "nothing stored"
    );

    // The upload resolves every pending deadline, and only those.
    let resp = app
        .handle(
            &put(
                &admin,
                "admin",
                "/api/officer/calendar/2027",
                &doc_2027(None),
            ),
            now,
        )
        .await;
    assert_eq!(resp.status, 200, "{:?}", resp.json_body());
    assert_eq!(
        placed(&resp),
        [
            (
                a_no.clone(),
                "judgment".into(),
                Value::Null,
                end_of(2027, 1, 7)
            ),
            (
                b_no.clone(),
                "escalation".into(),
                Value::Null,
                end_of(2027, 1, 4)
            ),
            (
                b_no.clone(),
                "judgment".into(),
                Value::Null,
                end_of(2027, 1, 11)
            ),
        ]
    );
    let timeline = app.store.timeline(&a.clue_id).await.expect("timeline");
    assert_eq!(
        timeline
            .iter()
            .filter(|e| matches!(e.event.kind, EventKind::DeadlineResolved { .. }))
            .count(),
        1
    );
    let resp = app
        .handle(
            &req(&handler, "handler", "GET", "/api/officer/calendar", ""),
            now,
        )
        .await;
    let body = resp.json_body();
    assert_eq!(body["next_year_missing"], Value::Null);
    assert!(
        body["years"]
            .as_array()
            .expect("years")
            .iter()
            .any(|y| y["year"] == 2027
                && y["origin"] == "uploaded"
                && y["source"] == "测试：2027年部分节假日安排")
    );

    // Amending one holiday (2027-01-05) moves the two judgment deadlines counting across it;
    // b's escalation (due 01-04) and clue c (all in 2026) stay.
    let amend_at = sh(2027, 1, 2, 9);
    let amended = doc_2027(Some("2027-01-05"));
    let resp = app
        .handle(
            &put(&admin, "admin", "/api/officer/calendar/2027", &amended),
            amend_at,
        )
        .await;
    assert_eq!(resp.status, 200, "{:?}", resp.json_body());
    assert_eq!(
        resp.json_body()["changed_days"],
        serde_json::json!(["2027-01-05"])
    );
    assert_eq!(
        placed(&resp),
        [
            (
                a_no.clone(),
                "judgment".into(),
                Value::String(end_of(2027, 1, 7)),
                end_of(2027, 1, 8)
            ),
            (
                b_no.clone(),
                "judgment".into(),
                Value::String(end_of(2027, 1, 11)),
                end_of(2027, 1, 12)
            ),
        ]
    );
    let moved: Vec<_> = app
        .store
        .timeline(&a.clue_id)
        .await
        .expect("timeline")
        .into_iter()
        .filter_map(|e| match e.event.kind {
            EventKind::DeadlineMoved { source, .. } => Some(source),
            _ => None,
        })
        .collect();
    assert_eq!(moved, ["测试：2027年部分节假日安排"]);
    let stored_c = app.store.clue(&c.clue_id).await.expect("c").clue;
    assert_eq!(stored_c.version, 1, "clue c untouched");
    // The same document again moves nothing.
    let resp = app
        .handle(
            &put(&admin, "admin", "/api/officer/calendar/2027", &amended),
            amend_at,
        )
        .await;
    assert_eq!(resp.status, 200);
    assert!(placed(&resp).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervising_bureau_lists_the_overdue_entries_of_its_territory_only() {
    let app = App::new(support::twin().await, outbox::MemoryNoticeQueue::default());
    let city = officer("hz-supervisor", "land-330100", &[Role::Supervisor]);
    app.store.put_officer(&city).await.expect("officer");
    let county = officer("xihu-handler", "land-330106", &[Role::Handler]);
    app.store.put_officer(&county).await.expect("officer");
    for n in 0..3u32 {
        let entry = store::sweep::OverdueEntry {
            supervisor: support::bid("land-330100"),
            clue_id: domain::ClueId::parse(&format!("c-{n}")).expect("id"),
            clue_no: domain::ClueNo::parse(&format!("330106-20260309-000{}", n + 1)).expect("no"),
            kind: domain::deadline::DeadlineKind::Judgment,
            bureau: support::bid("land-330106"),
            due: sh(2026, 3, 18 + n, 0),
            recorded_at: sh(2026, 3, 19 + n, 0),
        };
        assert!(app.store.put_overdue_entry(&entry).await.expect("put"));
        assert!(
            !app.store.put_overdue_entry(&entry).await.expect("again"),
            "once"
        );
    }
    let get = |who: &Officer, query: &[(&str, &str)]| {
        let mut r = req(who, "handler", "GET", "/api/officer/overdue", "");
        for (k, v) in query {
            r.query.insert((*k).to_owned(), (*v).to_owned());
        }
        r
    };
    let now = sh(2026, 3, 25, 9);
    let page = app.handle(&get(&city, &[("limit", "2")]), now).await;
    assert_eq!(page.status, 200);
    let body = page.json_body();
    let nos: Vec<_> = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["clue_no"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        nos,
        ["330106-20260309-0003", "330106-20260309-0002"],
        "latest due first"
    );
    assert_eq!(body["items"][0]["kind_label"], "判定告知期限");
    let next = body["next"].as_str().expect("a next page").to_owned();
    let rest = app.handle(&get(&city, &[("cursor", &next)]), now).await;
    assert_eq!(rest.json_body()["items"].as_array().map(Vec::len), Some(1));
    let own = app.handle(&get(&county, &[]), now).await;
    assert_eq!(
        own.json_body()["items"],
        serde_json::json!([]),
        "the county sees none"
    );
    for (q, code) in [
        (("limit", "0"), "invalid_limit"),
        (("cursor", "x"), "invalid_cursor"),
    ] {
        let r = app.handle(&get(&city, &[q]), now).await;
        assert_eq!(
            (r.status, r.error_code().unwrap_or_default()),
            (400, code.to_owned())
        );
    }
}
