//! The officer API against moto (template deployed): the reminder list of the console (paged,
//! newest first, only the caller's own and their bureau's, with the unread count), one
//! reminder, marking read, the WeChat binding (code, masked binding, unbind), and the clear
//! 4xx answers to hostile input, which change nothing stored.

use testkit::store_env as support;

use std::collections::HashMap;

use api::{Req, Resp};
use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::deadline::DeadlineKind;
use domain::reminder::{Reminder, ReminderKind, ReminderRecipient};
use domain::wechat_binding::BindingCode;
use domain::{ClueId, ClueNo, Officer, Role};
use judgment::App;
use serde_json::Value;
use store::roles::*;
use support::officer;

/// The token proves only the subject: bureau and roles come from the table.
fn claims_of(o: &Officer) -> HashMap<String, String> {
    HashMap::from([("sub".to_owned(), o.id.as_str().to_owned())])
}

fn req(o: Option<&Officer>, method: &str, path: &str, query: &[(&str, &str)]) -> Req {
    let mut r = Req::new(method, path);
    r.claims = o.map(claims_of).unwrap_or_default();
    for (k, v) in query {
        r.query.insert((*k).to_owned(), (*v).to_owned());
    }
    r
}

fn reminder(
    to: ReminderRecipient,
    clue: &str,
    kind: ReminderKind,
    created_at: DateTime<Utc>,
) -> Reminder {
    Reminder::new(
        to,
        ClueId::parse(clue).expect("id"),
        ClueNo::parse("330106-20260310-0001").expect("no"),
        kind,
        DeadlineKind::Judgment,
        Utc.with_ymd_and_hms(2026, 3, 19, 15, 59, 59)
            .single()
            .expect("t"),
        created_at,
    )
}

fn ids(resp: &Resp) -> Vec<String> {
    resp.json_body()["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| i["id"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn refused(resp: &Resp) -> (u16, String) {
    (resp.status, resp.error_code().unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_lists_reads_and_binds_only_for_its_officer_and_refuses_hostile_input() {
    // Arrange: two officers of one bureau, one of another; reminders to each bureau and to one
    // officer; the API's store holds no reporter-key secret, as in the template.
    let app = App::new(support::twin().await, outbox::MemoryNoticeQueue::default());
    let a1 = officer("officer-a1", "land-330106", &[Role::Handler]);
    let a2 = officer("officer-a2", "land-330106", &[Role::Handler]);
    let b1 = officer("officer-b1", "land-330100", &[Role::Handler]);
    for o in [&a1, &a2, &b1] {
        app.store.put_officer(o).await.expect("officer");
    }
    let t0 = Utc::now() - Duration::hours(3);
    let for_bureau_a = reminder(
        ReminderRecipient::Bureau {
            bureau: a1.bureau.clone(),
        },
        "c-1",
        ReminderKind::DueSoon,
        t0,
    );
    let for_a1 = reminder(
        ReminderRecipient::Officer {
            officer: a1.id.clone(),
            bureau: a1.bureau.clone(),
        },
        "c-2",
        ReminderKind::Overdue,
        t0 + Duration::hours(1),
    );
    let for_bureau_b = reminder(
        ReminderRecipient::Bureau {
            bureau: b1.bureau.clone(),
        },
        "c-3",
        ReminderKind::Supervision,
        t0 + Duration::hours(2),
    );
    for r in [&for_bureau_a, &for_a1, &for_bureau_b] {
        assert!(app.store.issue_reminder(r).await.expect("issue").created);
    }
    let now = Utc::now();

    // Each officer sees their own and their bureau's, newest first, with the unread count.
    let list = app
        .handle(&req(Some(&a1), "GET", "/api/officer/reminders", &[]), now)
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(ids(&list), [for_a1.id.as_str(), for_bureau_a.id.as_str()]);
    let body = list.json_body();
    assert_eq!(body["unread"], 2);
    assert_eq!(body["next"], Value::Null);
    let first = &body["items"][0];
    assert_eq!(first["kind"], "overdue");
    assert_eq!(first["kind_label"], "已逾期");
    assert_eq!(first["recipient"], "officer");
    assert_eq!(first["due_date"], "2026年3月19日");
    assert_eq!(first["text"], for_a1.text.as_str());
    assert_eq!(first["read"], false);
    assert_eq!(first["channel"], "console_only");
    let a2_list = app
        .handle(&req(Some(&a2), "GET", "/api/officer/reminders", &[]), now)
        .await;
    assert_eq!(ids(&a2_list), [for_bureau_a.id.as_str()]);
    let b1_list = app
        .handle(&req(Some(&b1), "GET", "/api/officer/reminders", &[]), now)
        .await;
    assert_eq!(ids(&b1_list), [for_bureau_b.id.as_str()]);

    // Pages: one at a time, the cursor leads to the next, the last page has none.
    let page1 = app
        .handle(
            &req(
                Some(&a1),
                "GET",
                "/api/officer/reminders",
                &[("limit", "1")],
            ),
            now,
        )
        .await;
    assert_eq!(ids(&page1), [for_a1.id.as_str()]);
    let cursor = page1.json_body()["next"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let page2 = app
        .handle(
            &req(
                Some(&a1),
                "GET",
                "/api/officer/reminders",
                &[("limit", "1"), ("cursor", &cursor)],
            ),
            now,
        )
        .await;
    assert_eq!(ids(&page2), [for_bureau_a.id.as_str()]);

    // One reminder (the WeChat link's target), only for whom it is.
    let path_a = format!("/api/officer/reminders/{}", for_bureau_a.id);
    let one = app.handle(&req(Some(&a2), "GET", &path_a, &[]), now).await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.json_body()["clue_id"], "c-1");
    let hidden = app.handle(&req(Some(&b1), "GET", &path_a, &[]), now).await;
    assert_eq!(refused(&hidden), (404, "reminder_not_found".into()));

    // Marking read: by a2 for the bureau; a1 sees it read too, by a2; again changes nothing.
    let read_path = format!("{path_a}/read");
    let read = app
        .handle(&req(Some(&a2), "POST", &read_path, &[]), now)
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.json_body()["read"], true);
    assert_eq!(read.json_body()["read_by"], a2.id.as_str());
    let again = app
        .handle(
            &req(Some(&a1), "POST", &read_path, &[]),
            now + Duration::minutes(5),
        )
        .await;
    assert_eq!(again.json_body()["read_at"], read.json_body()["read_at"]);
    assert_eq!(again.json_body()["read_by"], a2.id.as_str());
    let me = app
        .handle(&req(Some(&a1), "GET", "/api/officer/me", &[]), now)
        .await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json_body()["unread_reminders"], 1);
    assert_eq!(me.json_body()["bureau_id"], "land-330106");
    assert_eq!(me.json_body()["roles"], serde_json::json!(["handler"]));

    // Hostile input: clear 4xx answers with stable codes.
    let hostile: Vec<(Req, (u16, &str))> = vec![
        (
            req(None, "GET", "/api/officer/reminders", &[]),
            (401, "unauthenticated"),
        ),
        (
            {
                let mut r = req(Some(&a1), "GET", "/api/officer/reminders", &[]);
                r.claims.insert("sub".into(), "officer-unknown".into());
                r
            },
            (403, "unknown_officer"),
        ),
        (
            req(
                Some(&a1),
                "GET",
                "/api/officer/reminders",
                &[("limit", "0")],
            ),
            (400, "invalid_limit"),
        ),
        (
            req(
                Some(&a1),
                "GET",
                "/api/officer/reminders",
                &[("limit", "101")],
            ),
            (400, "invalid_limit"),
        ),
        (
            req(
                Some(&a1),
                "GET",
                "/api/officer/reminders",
                &[("limit", "ten")],
            ),
            (400, "invalid_limit"),
        ),
        (
            req(
                Some(&a1),
                "GET",
                "/api/officer/reminders",
                &[("cursor", "not-a-cursor")],
            ),
            (400, "invalid_cursor"),
        ),
        (
            req(
                Some(&a1),
                "GET",
                "/api/officer/reminders",
                &[("cursor", "2026-03-18T02:00:00Z#../../x")],
            ),
            (400, "invalid_cursor"),
        ),
        (
            req(Some(&a1), "GET", "/api/officer/reminders/a%20b", &[]),
            (400, "invalid_reminder_id"),
        ),
        (
            req(Some(&a1), "POST", "/api/officer/reminders//read", &[]),
            (404, "no_route"),
        ),
        (
            req(
                Some(&a1),
                "POST",
                &format!("/api/officer/reminders/{}/read", for_bureau_b.id),
                &[],
            ),
            (404, "reminder_not_found"),
        ),
        (
            req(Some(&a1), "POST", "/api/officer/reminders/rnope/read", &[]),
            (404, "reminder_not_found"),
        ),
        (
            req(Some(&a1), "DELETE", "/api/officer/reminders", &[]),
            (405, "method_not_allowed"),
        ),
        (
            req(Some(&a1), "PUT", "/api/officer/wechat-binding", &[]),
            (405, "method_not_allowed"),
        ),
        (
            req(Some(&a1), "GET", "/api/officer/reminders/x/read/y", &[]),
            (404, "no_route"),
        ),
        (
            req(Some(&a1), "GET", "/api/officer/", &[]),
            (404, "no_route"),
        ),
    ];
    for (r, (status, code)) in hostile {
        let resp = app.handle(&r, now).await;
        assert_eq!(
            refused(&resp),
            (status, code.to_owned()),
            "{} {} {:?}: {}",
            r.method,
            r.path,
            r.query,
            resp.body
        );
    }
    // A token whose claims name another bureau and more roles changes nothing: the table decides.
    let forged = {
        let mut r = req(Some(&a1), "GET", "/api/officer/reminders", &[]);
        r.claims
            .insert("custom:bureau_id".into(), b1.bureau.as_str().into());
        r.claims
            .insert("custom:roles".into(), "handler,leader,admin".into());
        r
    };
    let forged = app.handle(&forged, now).await;
    assert_eq!(ids(&forged), ids(&list), "the forged claims were ignored");
    // …and nothing changed: B's reminder is still unread for B.
    let b1_after = app
        .handle(&req(Some(&b1), "GET", "/api/officer/reminders", &[]), now)
        .await;
    assert_eq!(b1_after.json_body()["unread"], 1);
    assert_eq!(b1_after.json_body()["items"][0]["read"], false);

    // WeChat binding: none; a code; redeemed (as the chat does); shown masked; unbound.
    let binding = "/api/officer/wechat-binding";
    let none = app.handle(&req(Some(&a1), "GET", binding, &[]), now).await;
    assert_eq!(none.json_body(), serde_json::json!({"bound": false}));
    let issued = app.handle(&req(Some(&a1), "POST", binding, &[]), now).await;
    assert_eq!(issued.status, 201, "{}", issued.body);
    let code = issued.json_body()["code"]
        .as_str()
        .expect("code")
        .to_owned();
    assert_eq!(issued.json_body()["command"], format!("绑定 {code}"));
    let second = app.handle(&req(Some(&a1), "POST", binding, &[]), now).await;
    assert_ne!(second.json_body()["code"], issued.json_body()["code"]);
    let openid = "oFakeOfficerOpenid0001";
    let bound = app
        .store
        .redeem_binding_code(&BindingCode::parse(&code).expect("code"), openid, now)
        .await
        .expect("store");
    assert_eq!(bound, Ok(a1.id.clone()));
    let shown = app.handle(&req(Some(&a1), "GET", binding, &[]), now).await;
    assert_eq!(shown.json_body()["bound"], true);
    assert_eq!(shown.json_body()["openid_masked"], "oFa****0001");
    assert!(
        !shown.body.contains(openid),
        "the openid never leaves masked"
    );
    let other = app.handle(&req(Some(&a2), "GET", binding, &[]), now).await;
    assert_eq!(
        other.json_body()["bound"],
        false,
        "a binding is per officer"
    );
    // A reminder to a1 now goes to WeChat too.
    let pushed = reminder(
        ReminderRecipient::Officer {
            officer: a1.id.clone(),
            bureau: a1.bureau.clone(),
        },
        "c-4",
        ReminderKind::DueSoon,
        now,
    );
    let issued_push = app.store.issue_reminder(&pushed).await.expect("issue");
    assert_eq!(issued_push.deliveries, std::slice::from_ref(&a1.id));
    let one = app
        .handle(
            &req(
                Some(&a1),
                "GET",
                &format!("/api/officer/reminders/{}", pushed.id),
                &[],
            ),
            now,
        )
        .await;
    assert_eq!(one.json_body()["channel"], "wechat");
    assert_eq!(one.json_body()["my_delivery"]["status"], "queued");
    let gone = app
        .handle(&req(Some(&a1), "DELETE", binding, &[]), now)
        .await;
    assert_eq!(gone.json_body(), serde_json::json!({"unbound": true}));
    let gone_again = app
        .handle(&req(Some(&a1), "DELETE", binding, &[]), now)
        .await;
    assert_eq!(
        gone_again.json_body(),
        serde_json::json!({"unbound": false})
    );
    let after = app.handle(&req(Some(&a1), "GET", binding, &[]), now).await;
    assert_eq!(after.json_body(), serde_json::json!({"bound": false}));
}
