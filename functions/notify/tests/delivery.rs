//! `notify` against moto (template deployed) and the fake WeChat API: faults, crashes, the
//! outbox sweep, the dead-letter queue and its redrive, and the texts byte for byte.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::command::JudgmentRequest;
use domain::event::{DeliveryStatus, Location, VerificationResult};
use domain::notice::format_date;
use domain::text::Address;
use domain::{ClueId, Command, NoticeContent};
use outbox::enqueue_after_commit;
use serde_json::json;
use store::{AttemptState, Submission, roles::*};
use support::fixtures::{as_officer, at, bounded, code, handler, identity, key};
use support::{Bench, MAX_RECEIVE_COUNT, notice_of, spec_texts};
use wechat::{SubscribeMessage, WechatError};

const XIHU: &str = "330106";

fn openid(n: u32) -> String {
    identity(n).openid
}

async fn submission(b: &Bench, clue: &str, now: DateTime<Utc>) -> Submission {
    let division = code(XIHU);
    let history = b
        .store
        .scope_history(division.city().expect("city"))
        .await
        .expect("scope");
    Submission {
        clue_id: ClueId::parse(clue).expect("id"),
        report: domain::report::Report {
            location: Location {
                division,
                address: Address::parse("留下街道某村东侧农田").expect("address"),
                gps: None,
            },
            subject: None,
            category: domain::scope::CategoryChoice::Annex(
                domain::scope::Category::FarmlandDestruction,
            ),
            facts: domain::text::Facts::parse("在基本农田上堆放建材并硬化地面。").expect("facts"),
            evidence_left_out: Vec::new(),
            notice_version: history.in_force(now).reporting_notice().version_id,
            consent: true,
            channel: domain::event::Channel::H5,
            resubmission_of: None,
        },
        evidence: Vec::new(),
    }
}

/// Receives clue `c<n>` from reporter `n` and enqueues its receipt notice, as intake does.
async fn receive(b: &Bench, n: u32, now: DateTime<Utc>) -> ClueId {
    let clue = format!("c{n:03}");
    let r = b
        .store
        .receive(
            submission(b, &clue, now).await,
            identity(n),
            now,
            &key(&format!("r-{clue}")),
        )
        .await
        .expect("receive");
    assert!(enqueue_after_commit(&b.queue(), r.notices()).await);
    r.clue_id
}

/// Runs an officer's command and enqueues the notices it owed, as the judgment API does.
async fn command(b: &Bench, clue: &ClueId, command: Command, now: DateTime<Utc>, k: &str) {
    let out = b
        .store
        .execute(
            clue,
            command,
            &as_officer(&handler("land-330106")),
            now,
            &key(k),
        )
        .await
        .expect("command");
    assert!(enqueue_after_commit(&b.queue(), out.notices()).await);
}

fn accept() -> Command {
    Command::Judge {
        judgment: JudgmentRequest::Accept,
        note: None,
    }
}

fn verify(found: bool) -> Command {
    Command::RecordVerification {
        result: if found {
            VerificationResult::ViolationFound
        } else {
            VerificationResult::NoViolation
        },
        ended_on: at(3, 20).date_naive(),
        note: None,
    }
}

/// The text annex 3 (notices.md) gives for `content`, slots filled from the reporter's own
/// clue: built from the spec file, not from the domain's renderer.
fn expected_text(spec: &BTreeMap<String, String>, content: &NoticeContent) -> String {
    let template = &spec[content.key().as_str()];
    match content {
        NoticeContent::Accept { region } | NoticeContent::ViolationFound { region } => {
            template.replace("{region}", region)
        }
        NoticeContent::Duplicate {
            earlier_received_on: d,
        }
        | NoticeContent::NeedMaterial { received_on: d } => {
            template.replace("{date}", &format_date(*d))
        }
        NoticeContent::OutOfScope {
            department: Some(dep),
        } => template.replace("{department}", dep.as_ref()),
        _ => template.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_notices_reach_two_hundred_reporters_exactly_once_through_faults() {
    bounded(540, async {
        let b = Bench::start().await;
        let started = std::time::Instant::now();
        // Arrange: 200 reporters. 0..20 are primaries with 20..40 merged into them; 40..200 on
        // their own. Receipts (200), acceptances (200, merged reporters included) and 80
        // verification results (20 primaries → 40, 60 others) make 500 notices.
        for n in 0..200 {
            b.add_user(&openid(n)).await;
        }
        let mut clues = Vec::new();
        for n in 0..200 {
            clues.push(receive(&b, n, at(3, 9)).await);
        }
        for i in 0..20 {
            let primary = b.store.clue(&clues[i]).await.expect("primary").clue.summary();
            command(
                &b,
                &clues[20 + i],
                Command::Merge {
                    primary: Box::new(primary),
                    reason: None,
                },
                at(3, 10),
                &format!("m{i}"),
            )
            .await;
        }
        for (i, c) in clues.iter().enumerate() {
            if !(20..40).contains(&i) {
                command(&b, c, accept(), at(3, 11), &format!("a{i}")).await;
            }
        }
        for (i, c) in clues.iter().enumerate() {
            if i < 20 || (40..100).contains(&i) {
                command(&b, c, verify(i % 2 == 0), at(3, 20), &format!("v{i}")).await;
            }
        }
        let mut owed = BTreeMap::new();
        for (n, c) in clues.iter().enumerate() {
            let clue = b.store.clue(c).await.expect("clue").clue;
            for notice in &clue.notices {
                owed.insert(notice.record.id.to_string(), (n as u32, c.clone()));
            }
        }
        assert_eq!(owed.len(), 500, "500 notices owed");
        eprintln!(
            "500 notices owed and queued in {:?}; queue (visible, in flight) = {:?}",
            started.elapsed(),
            b.depth(&b.queue_url).await
        );

        // Reporters 100..105 do not follow the account (undeliverable); 105..108 have WeChat
        // busy for them every time (their messages exhaust their receives into the DLQ);
        // 108..140 have the 48-hour window closed (subscribe notification only).
        let mut openid_errors = serde_json::Map::new();
        let mut custom_errors = serde_json::Map::new();
        for n in 100..105 {
            openid_errors.insert(openid(n), json!(43004));
        }
        for n in 105..108 {
            openid_errors.insert(openid(n), json!(-1));
        }
        for n in 108..140 {
            custom_errors.insert(openid(n), json!(45015));
        }
        // 30 % of sends fail: busy, quota, timeouts (held past the client's timeout), 5xx.
        b.set_faults(json!({
            "system_busy": 0.1, "quota": 0.08, "timeout": 0.04, "server_error": 0.08,
            "timeout_ms": 700,
            "openid_errors": openid_errors, "custom_errors": custom_errors,
        }))
        .await;

        // Act: two concurrent pollers; the access token expires after the 10th batch.
        let api = b.api(Duration::from_millis(300));
        let notifier = b.notifier(&api);
        let report = b
            .drain(&notifier, 2, Duration::from_secs(300), Some(10))
            .await;
        eprintln!("first drain: {report:?}");

        // Assert: the dead-letter queue holds only messages that used all their receives:
        // at least the always-busy reporters' first notices.
        let mut in_dlq = BTreeSet::new();
        let mut seen = Vec::new();
        loop {
            let records = b.receive(&b.dlq_url, 0).await;
            if records.is_empty() {
                break;
            }
            for r in records {
                seen.push(r.receipt_handle.clone().expect("handle"));
                let receives: u32 = r.attributes["ApproximateReceiveCount"].parse().expect("n");
                assert!(
                    receives >= MAX_RECEIVE_COUNT,
                    "a message in the DLQ had only {receives} receives"
                );
                let m = outbox::NoticeMessage::parse(r.body.as_deref().expect("body"))
                    .expect("message");
                in_dlq.insert(m.notice_id.to_string());
            }
        }
        // Back in sight for the redrive.
        for handle in seen {
            b.sqs
                .change_message_visibility()
                .queue_url(&b.dlq_url)
                .receipt_handle(handle)
                .visibility_timeout(0)
                .send()
                .await
                .expect("visibility");
        }
        let busy: BTreeSet<ClueId> = (105..108).map(|n| clues[n].clone()).collect();
        assert!(
            owed.iter()
                .filter(|(_, (_, c))| busy.contains(c))
                .any(|(id, _)| in_dlq.contains(id)),
            "the always-busy reporters' notices are in the DLQ: {in_dlq:?}"
        );

        // The cause is fixed; the redrive moves them back and they are delivered. The closed
        // chat windows stay closed: a notice of theirs that used all its receives on random
        // faults is redriven too, and must still go as the subscription only.
        b.set_faults(json!({ "openid_errors": {
            openid(100): 43004, openid(101): 43004, openid(102): 43004,
            openid(103): 43004, openid(104): 43004 },
            "custom_errors": custom_errors }))
        .await;
        let moved = b.redrive();
        eprintln!("{moved}");
        let report = b.drain(&notifier, 2, Duration::from_secs(120), None).await;
        eprintln!("after redrive: {report:?}");
        assert_eq!(b.depth(&b.dlq_url).await, (0, 0), "the DLQ is empty");

        // Every deliverable notice reached the fake API exactly once, in order per clue.
        let delivered = b.delivered().await;
        let spec = spec_texts();
        let mut by_notice: BTreeMap<String, usize> = BTreeMap::new();
        let mut order: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for d in delivered.iter().filter(|d| d.kind == "subscribe") {
            let id = notice_of(d).expect("notice link");
            *by_notice.entry(id.clone()).or_default() += 1;
            order.entry(d.openid.clone()).or_default().push(id);
        }
        for (n, c) in clues.iter().enumerate() {
            let n = n as u32;
            let clue = b.store.clue(c).await.expect("clue").clue;
            let attempts = b.store.send_attempts(c).await.expect("attempts");
            let ids: Vec<String> = clue.notices.iter().map(|x| x.record.id.to_string()).collect();
            if (100..105).contains(&n) {
                for notice in &clue.notices {
                    assert!(
                        matches!(&notice.delivery, DeliveryStatus::Undeliverable { reason } if reason.contains("43004")),
                        "reporter {n}: {:?}",
                        notice.delivery
                    );
                    assert!(!by_notice.contains_key(notice.record.id.as_str()));
                }
                continue;
            }
            for notice in &clue.notices {
                let id = notice.record.id.as_str();
                assert_eq!(by_notice.get(id), Some(&1), "notice {id} of reporter {n}");
                assert!(
                    matches!(notice.delivery, DeliveryStatus::Sent { possible_duplicate: false, .. })
                        || matches!(notice.delivery, DeliveryStatus::Sent { .. }),
                    "notice {id}: {:?}",
                    notice.delivery
                );
                // Byte for byte as notices.md, slots from the reporter's own clue.
                assert_eq!(notice.record.text, expected_text(&spec, &notice.record.content));
            }
            assert_eq!(order.get(&openid(n)), Some(&ids), "order of reporter {n}");
            assert!(attempts.iter().all(|a| a.attempt.state == AttemptState::Sent));
            // The full texts that went as customer-service messages are verbatim too.
            let texts: BTreeSet<String> =
                clue.notices.iter().map(|x| x.record.text.clone()).collect();
            for d in delivered.iter().filter(|d| d.kind == "custom" && d.openid == openid(n)) {
                assert!(texts.contains(d.content.as_deref().expect("text")));
                assert!(!(108..140).contains(&n), "window closed for {n}");
            }
        }
        // Merged reporters got the primary's notices with their own clue number.
        for d in delivered.iter().filter(|d| d.kind == "subscribe" && d.openid == openid(25)) {
            let no = d.body["data"]["character_string1"]["value"].as_str().expect("no");
            let own = b.store.clue(&clues[25]).await.expect("clue").clue.clue_no;
            assert_eq!(no, own.as_str());
        }
        // The timeline still verifies after all those delivery events.
        for c in clues.iter().take(30) {
            b.store.verify_timeline(c).await.expect("timeline");
        }
    })
    .await;
}

/// A sender that sends for real and then "dies" (never returns), like a process killed after
/// WeChat took the message and before anything was recorded.
struct DiesAfterSend<'a>(&'a support::Api);

impl notify::Sender for DiesAfterSend<'_> {
    async fn subscribe(&self, m: &SubscribeMessage) -> Result<Option<String>, WechatError> {
        notify::Sender::subscribe(self.0, m).await?;
        std::future::pending().await
    }

    async fn text(&self, _openid: &str, _text: &str) -> Result<(), WechatError> {
        std::future::pending().await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_the_send_gives_one_marked_duplicate_and_after_the_record_none() {
    bounded(240, async {
        let b = Bench::start().await;
        b.add_user(&openid(1)).await;
        b.add_user(&openid(2)).await;
        let c1 = receive(&b, 1, at(3, 9)).await;
        let api = b.api(Duration::from_secs(2));

        // Killed after the send, before the record: the message comes back after its
        // visibility timeout (made immediate here).
        let dying = b.notifier(DiesAfterSend(&api));
        let records = b.receive(&b.queue_url, 1).await;
        assert_eq!(records.len(), 1);
        let killed = tokio::time::timeout(Duration::from_secs(5), dying.handle(&records)).await;
        assert!(killed.is_err(), "the process died mid-delivery");
        b.sqs
            .change_message_visibility()
            .queue_url(&b.queue_url)
            .receipt_handle(records[0].receipt_handle.clone().expect("handle"))
            .visibility_timeout(0)
            .send()
            .await
            .expect("visibility");
        let notifier = b.notifier(&api);
        b.drain(&notifier, 1, Duration::from_secs(60), None).await;
        let subscribed: Vec<_> = b
            .delivered()
            .await
            .into_iter()
            .filter(|d| d.kind == "subscribe" && d.openid == openid(1))
            .collect();
        assert_eq!(subscribed.len(), 2, "at most one duplicate, and here it is");
        let clue = b.store.clue(&c1).await.expect("clue").clue;
        assert!(matches!(
            clue.notices[0].delivery,
            DeliveryStatus::Sent {
                possible_duplicate: true,
                ..
            }
        ));
        let attempts = b.store.send_attempts(&c1).await.expect("attempts");
        assert_eq!(attempts[0].attempt.attempts, 2);
        assert!(attempts[0].attempt.possible_duplicate);

        // Killed after the record, before the delete: the redelivered message sends nothing.
        let c2 = receive(&b, 2, at(3, 9)).await;
        let records = b.receive(&b.queue_url, 1).await;
        assert_eq!(records.len(), 1);
        let (response, report) = notifier.handle(&records).await;
        assert!(response.batch_item_failures.is_empty());
        assert_eq!(report.sent, 1);
        // (no delete) — the message returns.
        b.sqs
            .change_message_visibility()
            .queue_url(&b.queue_url)
            .receipt_handle(records[0].receipt_handle.clone().expect("handle"))
            .visibility_timeout(0)
            .send()
            .await
            .expect("visibility");
        let again = b.drain(&notifier, 1, Duration::from_secs(60), None).await;
        assert_eq!((again.sent, again.already_final), (0, 1));
        let to_2 = b
            .delivered()
            .await
            .into_iter()
            .filter(|d| d.kind == "subscribe" && d.openid == openid(2))
            .count();
        assert_eq!(to_2, 1, "no second send");
        let clue = b.store.clue(&c2).await.expect("clue").clue;
        assert!(matches!(
            clue.notices[0].delivery,
            DeliveryStatus::Sent {
                possible_duplicate: false,
                ..
            }
        ));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_whose_enqueue_failed_is_delivered_after_the_sweep() {
    bounded(180, async {
        let b = Bench::start().await;
        b.add_user(&openid(7)).await;
        // The producer's transaction commits; its enqueue fails.
        let failing = outbox::MemoryNoticeQueue::default();
        failing.set_failing(true);
        let now = at(3, 9);
        let r = b
            .store
            .receive(
                submission(&b, "c007", now).await,
                identity(7),
                now,
                &key("r7"),
            )
            .await
            .expect("receive");
        assert!(!enqueue_after_commit(&failing, r.notices()).await);
        assert_eq!(b.depth(&b.queue_url).await, (0, 0), "nothing queued");

        // Within the grace period the sweep leaves it; after it, the sweep enqueues it.
        let grace = Duration::from_secs(120);
        let early = deadline_sweep::sweep(now, &b.store, &b.queue(), grace)
            .await
            .expect("sweep");
        assert_eq!(early.requeued_notices, 0);
        let later = now + chrono::Duration::minutes(5);
        let report = deadline_sweep::sweep(later, &b.store, &b.queue(), grace)
            .await
            .expect("sweep");
        assert_eq!(report.requeued_notices, 1);

        let api = b.api(Duration::from_secs(2));
        let notifier = b.notifier(&api);
        let drained = b.drain(&notifier, 1, Duration::from_secs(60), None).await;
        assert_eq!(drained.sent, 1);
        let clue = b.store.clue(&r.clue_id).await.expect("clue").clue;
        assert!(matches!(
            clue.notices[0].delivery,
            DeliveryStatus::Sent { .. }
        ));
        // Delivered: the next sweep has nothing to do.
        let after = deadline_sweep::sweep(later, &b.store, &b.queue(), grace)
            .await
            .expect("sweep");
        assert_eq!(after.requeued_notices, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_later_notice_waits_for_an_earlier_one_whose_message_was_lost() {
    bounded(180, async {
        let b = Bench::start().await;
        b.add_user(&openid(8)).await;
        // The receipt's enqueue fails (its message is lost); the acceptance's goes through.
        let failing = outbox::MemoryNoticeQueue::default();
        failing.set_failing(true);
        let now = at(3, 9);
        let r = b
            .store
            .receive(
                submission(&b, "c008", now).await,
                identity(8),
                now,
                &key("r8"),
            )
            .await
            .expect("receive");
        assert!(!enqueue_after_commit(&failing, r.notices()).await);
        command(&b, &r.clue_id, accept(), at(3, 10), "a8").await;

        // The acceptance's message arrives first: it is not sent before the receipt.
        let api = b.api(Duration::from_secs(2));
        let notifier = b.notifier(&api);
        let records = b.receive(&b.queue_url, 1).await;
        assert_eq!(records.len(), 1, "only the acceptance is queued");
        let (response, report) = notifier.handle(&records).await;
        assert_eq!((report.sent, report.retried), (0, 1), "{report:?}");
        assert_eq!(response.batch_item_failures.len(), 1);
        assert!(b.delivered().await.is_empty(), "nothing reached WeChat");
        let clue = b.store.clue(&r.clue_id).await.expect("clue").clue;
        assert!(
            clue.notices
                .iter()
                .all(|n| n.delivery == DeliveryStatus::Queued),
            "no delivery event was written: {:?}",
            clue.notices
        );

        // The sweep enqueues the lost receipt; the acceptance comes back after its backoff.
        let later = now + chrono::Duration::minutes(5);
        let swept = deadline_sweep::sweep(later, &b.store, &b.queue(), Duration::from_secs(120))
            .await
            .expect("sweep");
        assert_eq!(swept.requeued_notices, 1);
        for r in &records {
            b.sqs
                .change_message_visibility()
                .queue_url(&b.queue_url)
                .receipt_handle(r.receipt_handle.clone().expect("handle"))
                .visibility_timeout(0)
                .send()
                .await
                .expect("visibility");
        }
        let drained = b.drain(&notifier, 1, Duration::from_secs(90), None).await;
        assert_eq!(drained.sent, 2, "{drained:?}");

        // Both reached the reporter, the receipt first.
        let clue = b.store.clue(&r.clue_id).await.expect("clue").clue;
        let owed: Vec<String> = clue
            .notices
            .iter()
            .map(|n| n.record.id.to_string())
            .collect();
        let got: Vec<String> = b
            .delivered()
            .await
            .iter()
            .filter(|d| d.kind == "subscribe")
            .filter_map(notice_of)
            .collect();
        assert_eq!(got, owed);
        assert!(matches!(
            clue.notices[0].record.content,
            NoticeContent::Receipt
        ));
    })
    .await;
}
