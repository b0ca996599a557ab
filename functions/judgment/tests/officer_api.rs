//! The officer API on the in-memory store: the reminder list of the console (paged, newest
//! first, only the caller's own and their bureau's, with the unread count), one reminder,
//! marking read, the WeChat binding (code, masked binding, unbind), and the clear 4xx answers to
//! hostile input, which change nothing stored. One behaviour per test, each on its own console.

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
use store::InMemoryClueStore;
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

/// Two officers of one bureau, one of another; reminders to each bureau and to one officer;
/// the API's store holds no reporter-key secret, as in the template.
struct Console {
    app: App<InMemoryClueStore, outbox::MemoryNoticeQueue>,
    a1: Officer,
    a2: Officer,
    b1: Officer,
    for_bureau_a: Reminder,
    for_a1: Reminder,
    for_bureau_b: Reminder,
    now: DateTime<Utc>,
}

impl Console {
    async fn start() -> Self {
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
        Self {
            app,
            a1,
            a2,
            b1,
            for_bureau_a,
            for_a1,
            for_bureau_b,
            now: Utc::now(),
        }
    }

    /// `o`'s request, answered now.
    async fn ask(&self, o: &Officer, method: &str, path: &str, query: &[(&str, &str)]) -> Resp {
        self.app
            .handle(&req(Some(o), method, path, query), self.now)
            .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_officer_lists_their_own_and_their_bureaus_reminders_newest_first() {
    // Arrange
    let c = Console::start().await;

    // Act
    let list = c.ask(&c.a1, "GET", "/api/officer/reminders", &[]).await;
    let a2_list = c.ask(&c.a2, "GET", "/api/officer/reminders", &[]).await;
    let b1_list = c.ask(&c.b1, "GET", "/api/officer/reminders", &[]).await;

    // Assert: their own and their bureau's, newest first, with the unread count
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(
        ids(&list),
        [c.for_a1.id.as_str(), c.for_bureau_a.id.as_str()]
    );
    let body = list.json_body();
    assert_eq!(body["unread"], 2);
    assert_eq!(body["next"], Value::Null);
    let first = &body["items"][0];
    assert_eq!(first["kind"], "overdue");
    assert_eq!(first["kind_label"], "已逾期");
    assert_eq!(first["recipient"], "officer");
    assert_eq!(first["due_date"], "2026年3月19日");
    assert_eq!(first["text"], c.for_a1.text.as_str());
    assert_eq!(first["read"], false);
    assert_eq!(first["channel"], "console_only");
    assert_eq!(ids(&a2_list), [c.for_bureau_a.id.as_str()]);
    assert_eq!(ids(&b1_list), [c.for_bureau_b.id.as_str()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_come_a_page_at_a_time_and_the_cursor_leads_to_the_next() {
    // Arrange
    let c = Console::start().await;

    // Act
    let page1 = c
        .ask(&c.a1, "GET", "/api/officer/reminders", &[("limit", "1")])
        .await;
    let cursor = page1.json_body()["next"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let page2 = c
        .ask(
            &c.a1,
            "GET",
            "/api/officer/reminders",
            &[("limit", "1"), ("cursor", &cursor)],
        )
        .await;

    // Assert: one at a time, the last page has none after it
    assert_eq!(ids(&page1), [c.for_a1.id.as_str()]);
    assert_eq!(ids(&page2), [c.for_bureau_a.id.as_str()]);
    assert_eq!(page2.json_body()["next"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_reminder_shows_only_to_whom_it_is_for() {
    // Arrange: the WeChat link's target
    let c = Console::start().await;
    let path = format!("/api/officer/reminders/{}", c.for_bureau_a.id);

    // Act
    let one = c.ask(&c.a2, "GET", &path, &[]).await;
    let hidden = c.ask(&c.b1, "GET", &path, &[]).await;

    // Assert
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.json_body()["clue_id"], "c-1");
    assert_eq!(refused(&hidden), (404, "reminder_not_found".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bureau_reminder_read_by_one_officer_is_read_for_the_bureau_once() {
    // Arrange
    let c = Console::start().await;
    let read_path = format!("/api/officer/reminders/{}/read", c.for_bureau_a.id);

    // Act: a2 reads the bureau's reminder; a1 marks it read again later
    let read = c.ask(&c.a2, "POST", &read_path, &[]).await;
    let again = c
        .app
        .handle(
            &req(Some(&c.a1), "POST", &read_path, &[]),
            c.now + Duration::minutes(5),
        )
        .await;
    let me = c.ask(&c.a1, "GET", "/api/officer/me", &[]).await;

    // Assert: read by a2, and the second mark changes nothing; a1's unread count drops
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.json_body()["read"], true);
    assert_eq!(read.json_body()["read_by"], c.a2.id.as_str());
    assert_eq!(again.json_body()["read_at"], read.json_body()["read_at"]);
    assert_eq!(again.json_body()["read_by"], c.a2.id.as_str());
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json_body()["unread_reminders"], 1);
    assert_eq!(me.json_body()["bureau_id"], "land-330106");
    assert_eq!(me.json_body()["roles"], serde_json::json!(["handler"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_gets_clear_4xx_answers_with_stable_codes() {
    // Arrange
    let c = Console::start().await;
    let a1 = &c.a1;
    let reminders = |query: &[(&str, &str)]| req(Some(a1), "GET", "/api/officer/reminders", query);
    let hostile: Vec<(Req, (u16, &str))> = vec![
        (
            req(None, "GET", "/api/officer/reminders", &[]),
            (401, "unauthenticated"),
        ),
        (
            {
                let mut r = reminders(&[]);
                r.claims.insert("sub".into(), "officer-unknown".into());
                r
            },
            (403, "unknown_officer"),
        ),
        (reminders(&[("limit", "0")]), (400, "invalid_limit")),
        (reminders(&[("limit", "101")]), (400, "invalid_limit")),
        (reminders(&[("limit", "ten")]), (400, "invalid_limit")),
        (
            reminders(&[("cursor", "not-a-cursor")]),
            (400, "invalid_cursor"),
        ),
        (
            reminders(&[("cursor", "2026-03-18T02:00:00Z#../../x")]),
            (400, "invalid_cursor"),
        ),
        (
            req(Some(a1), "GET", "/api/officer/reminders/a%20b", &[]),
            (400, "invalid_reminder_id"),
        ),
        (
            req(Some(a1), "POST", "/api/officer/reminders//read", &[]),
            (404, "no_route"),
        ),
        (
            req(
                Some(a1),
                "POST",
                &format!("/api/officer/reminders/{}/read", c.for_bureau_b.id),
                &[],
            ),
            (404, "reminder_not_found"),
        ),
        (
            req(Some(a1), "POST", "/api/officer/reminders/rnope/read", &[]),
            (404, "reminder_not_found"),
        ),
        (
            req(Some(a1), "DELETE", "/api/officer/reminders", &[]),
            (405, "method_not_allowed"),
        ),
        (
            req(Some(a1), "PUT", "/api/officer/wechat-binding", &[]),
            (405, "method_not_allowed"),
        ),
        (
            req(Some(a1), "GET", "/api/officer/reminders/x/read/y", &[]),
            (404, "no_route"),
        ),
        (
            req(Some(a1), "GET", "/api/officer/", &[]),
            (404, "no_route"),
        ),
    ];

    for (r, (status, code)) in hostile {
        // Act
        let resp = c.app.handle(&r, c.now).await;

        // Assert
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
    // …and nothing changed: B's reminder is still unread for B.
    let b1_after = c.ask(&c.b1, "GET", "/api/officer/reminders", &[]).await;
    assert_eq!(b1_after.json_body()["unread"], 1);
    assert_eq!(b1_after.json_body()["items"][0]["read"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_naming_another_bureau_and_more_roles_change_nothing() {
    // Arrange: a token whose claims name B's bureau and every role; the table decides
    let c = Console::start().await;
    let mut forged = req(Some(&c.a1), "GET", "/api/officer/reminders", &[]);
    forged
        .claims
        .insert("custom:bureau_id".into(), c.b1.bureau.as_str().into());
    forged
        .claims
        .insert("custom:roles".into(), "handler,leader,admin".into());

    // Act
    let answered = c.app.handle(&forged, c.now).await;
    let me = c
        .app
        .handle(
            &{
                let mut r = forged.clone();
                r.path = "/api/officer/me".into();
                r
            },
            c.now,
        )
        .await;

    // Assert: a1's own list and roles, not B's
    assert_eq!(
        ids(&answered),
        [c.for_a1.id.as_str(), c.for_bureau_a.id.as_str()],
        "the forged claims were ignored"
    );
    assert_eq!(me.json_body()["bureau_id"], "land-330106");
    assert_eq!(me.json_body()["roles"], serde_json::json!(["handler"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wechat_binding_is_issued_redeemed_shown_masked_and_unbound() {
    // Arrange
    let c = Console::start().await;
    let binding = "/api/officer/wechat-binding";

    // Act + Assert: none; a code (another each time)
    let none = c.ask(&c.a1, "GET", binding, &[]).await;
    assert_eq!(none.json_body(), serde_json::json!({"bound": false}));
    let issued = c.ask(&c.a1, "POST", binding, &[]).await;
    assert_eq!(issued.status, 201, "{}", issued.body);
    let code = issued.json_body()["code"]
        .as_str()
        .expect("code")
        .to_owned();
    assert_eq!(issued.json_body()["command"], format!("绑定 {code}"));
    let second = c.ask(&c.a1, "POST", binding, &[]).await;
    assert_ne!(second.json_body()["code"], issued.json_body()["code"]);

    // Act + Assert: redeemed (as the chat does); shown masked, to its officer only
    let openid = "oFakeOfficerOpenid0001";
    let bound = c
        .app
        .store
        .redeem_binding_code(&BindingCode::parse(&code).expect("code"), openid, c.now)
        .await
        .expect("store");
    assert_eq!(bound, Ok(c.a1.id.clone()));
    let shown = c.ask(&c.a1, "GET", binding, &[]).await;
    assert_eq!(shown.json_body()["bound"], true);
    assert_eq!(shown.json_body()["openid_masked"], "oFa****0001");
    assert!(
        !shown.body.contains(openid),
        "the openid never leaves masked"
    );
    let other = c.ask(&c.a2, "GET", binding, &[]).await;
    assert_eq!(
        other.json_body()["bound"],
        false,
        "a binding is per officer"
    );

    // Act + Assert: a reminder to a1 now goes to WeChat too
    let pushed = reminder(
        ReminderRecipient::Officer {
            officer: c.a1.id.clone(),
            bureau: c.a1.bureau.clone(),
        },
        "c-4",
        ReminderKind::DueSoon,
        c.now,
    );
    let issued_push = c.app.store.issue_reminder(&pushed).await.expect("issue");
    assert_eq!(issued_push.deliveries, std::slice::from_ref(&c.a1.id));
    let one = c
        .ask(
            &c.a1,
            "GET",
            &format!("/api/officer/reminders/{}", pushed.id),
            &[],
        )
        .await;
    assert_eq!(one.json_body()["channel"], "wechat");
    assert_eq!(one.json_body()["my_delivery"]["status"], "queued");

    // Act + Assert: unbound once
    let gone = c.ask(&c.a1, "DELETE", binding, &[]).await;
    assert_eq!(gone.json_body(), serde_json::json!({"unbound": true}));
    let gone_again = c.ask(&c.a1, "DELETE", binding, &[]).await;
    assert_eq!(
        gone_again.json_body(),
        serde_json::json!({"unbound": false})
    );
    let after = c.ask(&c.a1, "GET", binding, &[]).await;
    assert_eq!(after.json_body(), serde_json::json!({"bound": false}));
}
