//! Every access pattern of the table, round trip, against moto with `template.yaml` deployed.

mod support;

use domain::command::JudgmentRequest;
use domain::deadline::DeadlineKind;
use domain::event::{DeliveryStatus, Party};
use domain::text::MessageText;
use domain::{Actor, ClueNo, ClueState, Command, EventKind, Role};
use store::{PageRequest, StoreError, roles::*};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clue_is_found_by_id_number_reporter_and_inbox() {
    bounded(120, async {
        let env = Env::start().await;
        // Arrange: two clues of reporter 1 (Xihu), one of reporter 2 (Yuhang).
        let a = env.receive("clue-a", 1, "330106", at(3, 9)).await;
        let b = env.receive("clue-b", 1, "330106", at(3, 10)).await;
        let c = env.receive("clue-c", 2, "330110", at(3, 10)).await;
        assert_eq!(a.clue_no.as_str(), "330106-20260309-0001");
        assert_eq!(b.clue_no.as_str(), "330106-20260310-0001");
        assert_eq!(c.clue_no.as_str(), "330110-20260310-0001");

        // By id.
        let stored = env.store.clue(&a.clue_id).await.expect("clue");
        assert_eq!(stored.clue.clue_no, a.clue_no);
        assert_eq!(stored.clue.version, 1);
        assert_eq!(
            stored.head.seq, 4,
            "received, 2 deadlines opened, receipt notice"
        );
        assert!(matches!(
            env.store.clue(&cid("nope")).await,
            Err(StoreError::NotFound(_))
        ));

        // By number.
        let found = env.store.clue_by_no(&b.clue_no).await.expect("query");
        assert_eq!(found.map(|s| s.clue.id), Some(b.clue_id.clone()));
        let none = ClueNo::parse("330106-20260310-0099").expect("no");
        assert!(env.store.clue_by_no(&none).await.expect("query").is_none());

        // A reporter's clues, newest first, paged.
        let reporter = env.store.reporter_key(&identity(1).openid).expect("keyed");
        assert_eq!(reporter, a.reporter);
        let page = env
            .store
            .reporter_clues(
                &reporter,
                PageRequest {
                    limit: 1,
                    cursor: None,
                },
            )
            .await
            .expect("page 1");
        assert_eq!(page.items[0].clue.id, b.clue_id);
        let page2 = env
            .store
            .reporter_clues(
                &reporter,
                PageRequest {
                    limit: 1,
                    cursor: page.next,
                },
            )
            .await
            .expect("page 2");
        assert_eq!(page2.items[0].clue.id, a.clue_id);

        // A bureau's inbox by state, next deadline first.
        let inbox = env
            .store
            .inbox(&bid("land-330106"), "received", PageRequest::default())
            .await
            .expect("inbox");
        let ids: Vec<_> = inbox.items.iter().map(|s| s.clue.id.clone()).collect();
        assert_eq!(ids, [a.clue_id.clone(), b.clue_id.clone()]);

        // Judging moves the clue to the accepted inbox and out of the received one.
        let h = handler("land-330106");
        env.store
            .execute(
                &a.clue_id,
                Command::Judge {
                    judgment: JudgmentRequest::Accept,
                    note: None,
                },
                &as_officer(&h),
                at(3, 11),
                &key("judge-a"),
            )
            .await
            .expect("judge");
        let received = env
            .store
            .inbox(&bid("land-330106"), "received", PageRequest::default())
            .await
            .expect("inbox");
        assert_eq!(received.items.len(), 1);
        let accepted = env
            .store
            .inbox(&bid("land-330106"), "accepted", PageRequest::default())
            .await
            .expect("inbox");
        assert_eq!(accepted.items[0].clue.state, ClueState::Accepted);
        assert!(matches!(
            env.store
                .inbox(&bid("land-330106"), "bogus", PageRequest::default())
                .await,
            Err(StoreError::Invalid(_))
        ));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadlines_outbox_timeline_and_messages_round_trip() {
    bounded(120, async {
        let env = Env::start().await;
        let a = env.receive("clue-a", 1, "330106", at(3, 9)).await;
        let clue = env.store.clue(&a.clue_id).await.expect("clue").clue;
        let judgment = clue
            .open_deadline(DeadlineKind::Judgment)
            .expect("judgment")
            .clone();
        let escalation = clue
            .open_deadline(DeadlineKind::Escalation)
            .expect("escalation")
            .clone();
        let due = judgment.due.expect("due");

        // Deadlines due in a window, overdue, reminders: the sparse index.
        let window = env
            .store
            .deadlines_due(Some(at(3, 9)), at(3, 31))
            .await
            .expect("due");
        assert_eq!(window.len(), 2);
        assert_eq!(window[0].deadline, escalation, "earliest first");
        assert_eq!(window[1].clue_no, a.clue_no);
        assert!(
            env.store
                .deadlines_due(None, at(3, 10))
                .await
                .expect("overdue")
                .is_empty()
        );
        let overdue = env
            .store
            .deadlines_due(None, due + chrono::Duration::seconds(1))
            .await
            .expect("overdue");
        assert_eq!(overdue.len(), 2);
        let remind_at = judgment.remind_at.expect("remind");
        let reminders = env
            .store
            .reminders_due(remind_at, remind_at)
            .await
            .expect("reminders");
        assert_eq!(reminders.len(), 1);
        assert_eq!(reminders[0].kind(), DeadlineKind::Judgment);
        assert_eq!(reminders[0].bureau(), &bid("land-330106"));

        // The outbox holds the receipt notice until it is delivered.
        let owed = env
            .store
            .undelivered_notices(at(3, 10))
            .await
            .expect("outbox");
        assert_eq!(owed.len(), 1);
        assert_eq!(owed[0].clue, a.clue_id);
        assert!(owed[0].text.contains(a.clue_no.as_str()) || !owed[0].text.is_empty());
        let notice = owed[0].notice.clone();
        env.store
            .execute(
                &a.clue_id,
                Command::RecordDelivery {
                    notice: notice.clone(),
                    status: DeliveryStatus::Failed {
                        reason: "errcode 45015".into(),
                    },
                },
                &Actor::System,
                at(3, 9),
                &key("deliver-1"),
            )
            .await
            .expect("failed delivery");
        let owed = env
            .store
            .undelivered_notices(at(3, 10))
            .await
            .expect("outbox");
        assert_eq!(owed.len(), 1, "a failed delivery stays in the outbox");
        env.store
            .execute(
                &a.clue_id,
                Command::RecordDelivery {
                    notice,
                    status: DeliveryStatus::Sent {
                        msgid: "m1".into(),
                        possible_duplicate: false,
                    },
                },
                &Actor::System,
                at(3, 9),
                &key("deliver-2"),
            )
            .await
            .expect("sent");
        assert!(
            env.store
                .undelivered_notices(at(3, 10))
                .await
                .expect("outbox")
                .is_empty()
        );

        // Messages, both ways, in order, and on the timeline.
        let h = handler("land-330106");
        let reporter = Actor::Reporter {
            reporter: a.reporter.clone(),
        };
        for (i, (actor, text)) in [
            (&reporter, "补充：晚上施工"),
            (&as_officer(&h), "收到，已安排核查"),
        ]
        .into_iter()
        .enumerate()
        {
            env.store
                .execute(
                    &a.clue_id,
                    Command::PostMessage {
                        text: MessageText::parse(text).expect("text"),
                    },
                    actor,
                    at(3, 10),
                    &key(&format!("msg-{i}")),
                )
                .await
                .expect("message");
        }
        let messages = env.store.messages(&a.clue_id).await.expect("messages");
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].from, Party::Reporter);
        assert_eq!(messages[1].text, "收到，已安排核查");
        assert!(messages[0].seq < messages[1].seq);

        // Judging closes both deadlines: they leave the index.
        env.store
            .execute(
                &a.clue_id,
                Command::Judge {
                    judgment: JudgmentRequest::Accept,
                    note: None,
                },
                &as_officer(&h),
                at(3, 11),
                &key("judge"),
            )
            .await
            .expect("judge");
        assert!(
            env.store
                .deadlines_due(None, at(12, 31))
                .await
                .expect("due")
                .is_empty()
        );

        // The timeline: every event, in order, verified.
        let timeline = env.store.timeline(&a.clue_id).await.expect("timeline");
        let kinds: Vec<&str> = timeline.iter().map(|e| e.event.kind.code()).collect();
        assert_eq!(kinds[0], "received");
        assert!(kinds.contains(&"message_posted") && kinds.contains(&"judged"));
        assert!(timeline.windows(2).all(|w| w[1].prev_hash == w[0].hash));
        let head = env
            .store
            .verify_timeline(&a.clue_id)
            .await
            .expect("verifies");
        assert_eq!(head.seq, timeline.len() as u64);
        assert!(matches!(
            timeline.last().map(|e| &e.event.kind),
            Some(EventKind::NoticeOwed { .. })
        ));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merge_group_is_read_and_decided_together() {
    bounded(120, async {
        let env = Env::start().await;
        let a = env.receive("clue-a", 1, "330106", at(3, 9)).await;
        let b = env.receive("clue-b", 2, "330106", at(3, 9)).await;
        let h = handler("land-330106");
        let primary = env.store.clue(&a.clue_id).await.expect("a").clue.summary();
        env.store
            .execute(
                &b.clue_id,
                Command::Merge {
                    primary: Box::new(primary),
                    reason: None,
                },
                &as_officer(&h),
                at(3, 10),
                &key("merge"),
            )
            .await
            .expect("merge");
        let group = env.store.merge_group(&a.clue_id).await.expect("group");
        let ids: Vec<_> = group.iter().map(|s| s.clue.id.clone()).collect();
        assert_eq!(ids, [a.clue_id.clone(), b.clue_id.clone()]);
        assert_eq!(
            group[1].clue.state,
            ClueState::Merged {
                primary: a.clue_id.clone()
            }
        );

        // The primary's judgment owes a notice to the merged reporter and closes its deadline,
        // in the same transaction: both clues' versions move.
        let outcome = env
            .store
            .execute(
                &a.clue_id,
                Command::Judge {
                    judgment: JudgmentRequest::Accept,
                    note: None,
                },
                &as_officer(&h),
                at(3, 11),
                &key("judge"),
            )
            .await
            .expect("judge");
        assert!(outcome.events.iter().any(|e| e.clue == b.clue_id));
        let notices = outcome.notices();
        assert_eq!(notices.len(), 2);
        let b_after = env.store.clue(&b.clue_id).await.expect("b");
        assert_eq!(b_after.clue.version, 3);
        assert_eq!(b_after.clue.notices.len(), 2, "receipt and accept");
        assert!(b_after.clue.open_deadlines().next().is_none());
        env.store
            .verify_timeline(&b.clue_id)
            .await
            .expect("b verifies");
        assert!(
            env.store
                .deadlines_due(None, at(12, 31))
                .await
                .expect("due")
                .is_empty()
        );
        let owed = env
            .store
            .undelivered_notices(at(3, 12))
            .await
            .expect("outbox");
        assert_eq!(owed.len(), 4, "two receipts, two accepts");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn officers_bureaus_and_scopes_round_trip() {
    bounded(120, async {
        let env = Env::start().await;
        // Officers by Cognito sub and by bureau.
        let h = handler("land-330106");
        let s = officer("sup-1", "land-330100", &[Role::Supervisor]);
        env.store.put_officer(&h).await.expect("put");
        env.store.put_officer(&s).await.expect("put");
        assert_eq!(
            env.store.officer(&h.id).await.expect("get"),
            Some(h.clone())
        );
        assert_eq!(
            env.store
                .bureau_officers(&bid("land-330106"))
                .await
                .expect("list"),
            vec![h.clone()]
        );
        assert!(
            env.store
                .officer(&domain::OfficerId::parse("x").expect("id"))
                .await
                .expect("get")
                .is_none()
        );

        // Bureaus and their configuration.
        let ningbo = env
            .store
            .bureau(&bid("land-330200"))
            .await
            .expect("get")
            .expect("ningbo");
        assert!(ningbo.city_direct);
        let dir = env.store.bureaus().await.expect("directory");
        assert_eq!(dir.iter().count(), bureaus().len());
        assert_eq!(
            dir.handling_bureau(&code("330203")).expect("handler").id,
            bid("land-330200"),
            "Ningbo handles its counties directly"
        );

        // Scope versions and the reporting notice: a filed version 2 changes the notice.
        let city = code("330100");
        let v1 = env.store.scope_history(city).await.expect("history");
        assert_eq!(v1.versions().len(), 1);
        let mut v2 = v1.latest().clone();
        v2.version = 2;
        v2.effective_from = at(4, 1);
        v2.exclusions.pop();
        v2.filing = Some(domain::scope::Filing {
            province: code("330000"),
            filed_on: at(3, 20).date_naive(),
            reference: "浙自然资备〔2026〕1号".into(),
        });
        env.store.add_scope_version(v2.clone()).await.expect("add");
        assert!(matches!(
            env.store.add_scope_version(v2.clone()).await,
            Err(StoreError::Domain(_) | StoreError::Conflict)
        ));
        let history = env.store.scope_history(city).await.expect("history");
        assert_eq!(history.versions().len(), 2);
        assert_ne!(
            history.in_force(at(3, 31)).reporting_notice().version_id,
            history.in_force(at(4, 2)).reporting_notice().version_id
        );

        // Statistics of a county, its city and province.
        env.receive("clue-a", 1, "330106", at(3, 9)).await;
        env.receive("clue-b", 2, "330110", at(3, 10)).await;
        let day = |d| at(3, d).date_naive();
        let county = env
            .store
            .read_stats(&code("330106"), day(1), day(31))
            .await
            .expect("stats");
        assert_eq!(county.get("received"), Some(&1));
        assert_eq!(county.values().filter(|v| **v > 0).count(), county.len());
        assert_eq!(
            county
                .iter()
                .filter(|(k, _)| k.starts_with("category."))
                .map(|(_, v)| v)
                .sum::<i64>(),
            1
        );
        let city_stats = env
            .store
            .read_stats(&code("330100"), day(1), day(31))
            .await
            .expect("stats");
        assert_eq!(city_stats.get("received"), Some(&2));
        let province = env
            .store
            .read_stats(&code("330000"), day(10), day(10))
            .await
            .expect("stats");
        assert_eq!(province.get("received"), Some(&1), "only the 10th");
        assert_eq!(province.get("notice_owed"), Some(&1));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resubmission_links_the_earlier_clue_in_the_same_transaction() {
    bounded(120, async {
        let env = Env::start().await;
        let a = env.receive("clue-a", 1, "330106", at(3, 9)).await;
        let h = handler("land-330106");
        env.store
            .execute(
                &a.clue_id,
                Command::Judge {
                    judgment: JudgmentRequest::NeedMaterial {
                        missing: vec![domain::event::Missing::Facts],
                    },
                    note: None,
                },
                &as_officer(&h),
                at(3, 10),
                &key("judge"),
            )
            .await
            .expect("need material");
        let mut sub = env.submission("clue-b", "330106", at(3, 12)).await;
        sub.report.resubmission_of = Some(a.clue_id.clone());
        let b = env
            .store
            .receive(sub.clone(), identity(1), at(3, 12), &key("resubmit"))
            .await
            .expect("resubmission");
        assert!(b.events.iter().any(|e| e.clue == a.clue_id));
        let earlier = env.store.clue(&a.clue_id).await.expect("a").clue;
        assert_eq!(earlier.resubmitted_as, Some(b.clue_id.clone()));
        assert_eq!(earlier.version, 3);
        env.store
            .verify_timeline(&a.clue_id)
            .await
            .expect("a verifies");
        let new = env.store.clue(&b.clue_id).await.expect("b").clue;
        assert_eq!(new.resubmission_of, Some(a.clue_id.clone()));

        // Another reporter cannot resubmit someone else's clue: nothing is stored, no number taken.
        sub.clue_id = cid("clue-c");
        let refused = env
            .store
            .receive(sub, identity(2), at(3, 12), &key("resubmit-2"))
            .await;
        assert!(matches!(refused, Err(StoreError::Domain(_))), "{refused:?}");
        assert!(matches!(
            env.store.clue(&cid("clue-c")).await,
            Err(StoreError::NotFound(_))
        ));
    })
    .await;
}
