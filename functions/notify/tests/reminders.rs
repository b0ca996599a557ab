//! Officer reminders against moto (template deployed) and the fake WeChat API: issued once
//! however often, delivered once to a bound officer with the exact text, console only for an
//! unbound one, listed with read state only to its recipient, and a lost enqueue delivered
//! after the sweep.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use domain::deadline::DeadlineKind;
use domain::reminder::{Reminder, ReminderKind, ReminderRecipient};
use domain::wechat_binding::{BindingCode, BindingError};
use domain::{BureauId, ClueId, ClueNo, Officer, OfficerId, Role};
use outbox::enqueue_reminders_after_commit;
use store::{BindingCodes, ReminderDeliveryStatus, ReminderIssuer, Reminders, StoreError};
use support::Bench;

fn officer(id: &str, bureau: &str) -> Officer {
    Officer {
        id: OfficerId::parse(id).expect("id"),
        bureau: BureauId::parse(bureau).expect("bureau"),
        roles: BTreeSet::from([Role::Handler]),
    }
}

fn reminder(to: &Officer, kind: ReminderKind, now: chrono::DateTime<Utc>) -> Reminder {
    Reminder::new(
        ReminderRecipient::Officer {
            officer: to.id.clone(),
            bureau: to.bureau.clone(),
        },
        ClueId::parse("c-remind-1").expect("id"),
        ClueNo::parse("330106-20260310-0001").expect("no"),
        kind,
        DeadlineKind::Judgment,
        Utc.with_ymd_and_hms(2026, 3, 19, 15, 59, 59)
            .single()
            .expect("t"),
        now,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_reach_bound_officers_once_and_every_recipient_in_the_console() {
    // Arrange: officer A binds WeChat with a code; B (another bureau) does not.
    let bench = Bench::start().await;
    let now = Utc::now();
    let a = officer("officer-a", "land-330106");
    let b = officer("officer-b", "land-330100");
    let code = BindingCode::from_random([11, 22, 33, 44, 55, 66, 77, 88]);
    bench
        .store
        .issue_binding_code(&a, &code, now)
        .await
        .expect("code");
    let wrong = BindingCode::from_random([1; 8]);
    assert_eq!(
        bench
            .store
            .redeem_binding_code(&wrong, "oOfficerA0001", now)
            .await
            .expect("redeem"),
        Err(BindingError::Unknown)
    );
    assert_eq!(
        bench
            .store
            .redeem_binding_code(&code, "oOfficerA0001", now)
            .await
            .expect("redeem"),
        Ok(a.id.clone())
    );
    assert_eq!(
        bench
            .store
            .redeem_binding_code(&code, "oSomeoneElse01", now)
            .await
            .expect("redeem"),
        Err(BindingError::Used),
        "a code binds once"
    );
    let late = BindingCode::from_random([9; 8]);
    bench
        .store
        .issue_binding_code(&b, &late, now - chrono::Duration::minutes(11))
        .await
        .expect("code");
    assert_eq!(
        bench
            .store
            .redeem_binding_code(&late, "oOfficerB0001", now)
            .await
            .expect("redeem"),
        Err(BindingError::Expired)
    );
    let shown = bench
        .store
        .wechat_binding(&a.id)
        .await
        .expect("binding")
        .expect("bound");
    assert_eq!(shown.openid_masked, "oOf****0001");
    assert!(
        bench
            .store
            .wechat_binding(&b.id)
            .await
            .expect("binding")
            .is_none()
    );
    bench.add_user("oOfficerA0001").await;
    let api = bench.api(Duration::from_secs(5));
    let notifier = bench.notifier(&api);
    let queue = bench.queue();

    // Act: the same reminder issued twice, and one for the unbound officer.
    let due_soon = reminder(&a, ReminderKind::DueSoon, now);
    let first = bench.store.issue_reminder(&due_soon).await.expect("issue");
    let again = bench.store.issue_reminder(&due_soon).await.expect("issue");
    assert!(enqueue_reminders_after_commit(&queue, first.messages()).await);
    assert!(enqueue_reminders_after_commit(&queue, again.messages()).await);
    let for_b = reminder(&b, ReminderKind::DueSoon, now);
    let issued_b = bench.store.issue_reminder(&for_b).await.expect("issue");
    bench
        .drain(&notifier, 1, Duration::from_secs(60), None)
        .await;

    // Assert: one item, one delivery, the exact text, at the fake API.
    assert!(first.created && !again.created);
    assert_eq!(first.deliveries, std::slice::from_ref(&a.id));
    assert!(issued_b.created && issued_b.deliveries.is_empty());
    let delivered = bench.delivered().await;
    let to_a: Vec<_> = delivered
        .iter()
        .filter(|d| d.openid == "oOfficerA0001")
        .collect();
    assert_eq!(
        to_a.iter().filter(|d| d.kind == "subscribe").count(),
        1,
        "{to_a:?}"
    );
    let texts: Vec<_> = to_a.iter().filter_map(|d| d.content.clone()).collect();
    assert_eq!(
        texts,
        [
            "线索 330106-20260310-0001 的判定告知期限将于 2026年3月19日 到期（剩余 1 个工作日），请及时办理。"
        ]
    );
    assert!(delivered.iter().all(|d| d.openid == "oOfficerA0001"));

    let page_a = bench.store.reminders_for(&a, 10, None).await.expect("list");
    assert_eq!(page_a.items.len(), 1);
    let listed = &page_a.items[0];
    assert_eq!(listed.reminder.id, due_soon.id);
    assert!(listed.read_at.is_none());
    assert!(matches!(
        listed.deliveries.get("officer-a"),
        Some(ReminderDeliveryStatus::Sent { .. })
    ));
    let page_b = bench.store.reminders_for(&b, 10, None).await.expect("list");
    assert_eq!(page_b.items.len(), 1);
    assert_eq!(page_b.items[0].channel(), "console_only");
    assert_eq!(bench.store.unread_reminders(&a).await.expect("unread"), 1);

    // Another bureau's officer neither sees nor marks A's reminder; A marks it read.
    assert!(matches!(
        bench.store.mark_reminder_read(&b, &due_soon.id, now).await,
        Err(StoreError::NotFound(_))
    ));
    let read = bench
        .store
        .mark_reminder_read(&a, &due_soon.id, now)
        .await
        .expect("read");
    assert_eq!(read.read_by.as_ref(), Some(&a.id));
    assert_eq!(bench.store.unread_reminders(&a).await.expect("unread"), 0);
    assert_eq!(bench.store.unread_reminders(&b).await.expect("unread"), 1);

    // A lost enqueue: issued, never queued; the sweep queues it, notify delivers it once.
    let overdue = reminder(&a, ReminderKind::Overdue, now);
    let lost = bench.store.issue_reminder(&overdue).await.expect("issue");
    assert_eq!(lost.deliveries.len(), 1);
    let requeued = deadline_sweep::requeue_lost_reminders(
        &bench.store,
        &queue,
        now + chrono::Duration::minutes(10),
        Duration::from_secs(120),
    )
    .await
    .expect("sweep");
    assert_eq!(requeued, 1);
    bench
        .drain(&notifier, 1, Duration::from_secs(60), None)
        .await;
    let subscribes = bench
        .delivered()
        .await
        .into_iter()
        .filter(|d| d.kind == "subscribe")
        .count();
    assert_eq!(subscribes, 2);
    let again = deadline_sweep::requeue_lost_reminders(
        &bench.store,
        &queue,
        now + chrono::Duration::minutes(20),
        Duration::from_secs(120),
    )
    .await
    .expect("sweep");
    assert_eq!(again, 0, "a delivered reminder leaves the outbox");
    let page = bench.store.reminders_for(&a, 1, None).await.expect("list");
    assert_eq!(page.items.len(), 1);
    let next = page.next.expect("a second page");
    let page2 = bench
        .store
        .reminders_for(&a, 1, Some(&next))
        .await
        .expect("list");
    assert_eq!(page2.items.len(), 1);
    assert_ne!(page.items[0].reminder.id, page2.items[0].reminder.id);
}
