//! The conformance suite: one set of checks, generic over the store, run against
//! [`store::DynamoClueStore`] on moto (`conformance_dynamo.rs`) and [`store::InMemoryClueStore`]
//! (`conformance_memory.rs`), so the in-memory twin keeps the table's semantics: numbering,
//! idempotency, versions, refusals that store nothing, index order, paging, the hash chain,
//! counters, the vault, the directory, scopes and binding codes.
#![allow(dead_code)]

mod officer_side;

pub use officer_side::*;

use std::collections::BTreeMap;

use chrono::Duration;
use domain::command::JudgmentRequest;
use domain::event::{EventKind, Party};
use domain::figures::{DayCounters, Figures, Granularity, Period, series};
use domain::rollup::{ReadPlan, rollups};
use domain::scope::ScopeVersion;
use domain::text::{MessageText, Reason};
use domain::wechat_binding::{BindingCode, BindingError};
use domain::{Actor, ClueId, Command, ReporterKey, Role};
use store::{
    ClueStore, DynamoClueStore, InMemoryClueStore, PageRequest, Received, StoreError, Submission,
};

use crate::support::*;

/// A store under test, with what the suite needs besides its roles.
pub trait Subject: ClueStore {
    fn reporter_of(&self, openid: &str) -> ReporterKey;
}

impl Subject for DynamoClueStore {
    fn reporter_of(&self, openid: &str) -> ReporterKey {
        self.reporter_key(openid).expect("keyed")
    }
}

impl Subject for InMemoryClueStore {
    fn reporter_of(&self, openid: &str) -> ReporterKey {
        self.reporter_key(openid).expect("keyed")
    }
}

/// Every check, in turn (one store; the checks use their own clue ids and days).
pub async fn all<S: Subject>(s: &S) {
    clues_are_numbered_per_county_and_day_and_found_by_id_number_and_reporter(s).await;
    the_inbox_lists_a_state_by_next_deadline_and_refuses_an_unknown_state(s).await;
    a_receipt_replays_and_refuses_another_payload_under_its_key(s).await;
    a_resubmission_links_the_earlier_clue_and_only_its_reporter_may_make_it(s).await;
    a_command_versions_the_clue_replays_and_refuses_what_it_must(s).await;
    a_refused_command_stores_nothing(s).await;
    the_deadline_and_outbox_indexes_hold_what_is_open_and_owed(s).await;
    a_judgment_counts_in_the_county_city_and_province(s).await;
    month_rollups_equal_their_days_and_planned_reads_give_the_same_figures(s).await;
    messages_are_kept_in_order_beside_the_timeline(s).await;
    the_vault_masks_and_reveals_after_the_event(s).await;
    the_directory_keeps_officers_and_refuses_an_incoherent_bureau(s).await;
    scope_versions_follow_each_other(s).await;
    a_binding_code_is_redeemed_once_and_not_after_expiry(s).await;
    the_sweep_takes_a_handled_deadline_out_of_its_index_once(s).await;
    overdue_entries_are_written_once_and_listed_latest_due_first(s).await;
    a_reminder_reaches_the_bound_officers_once_and_is_read_for_its_bureau(s).await;
    the_console_counts_the_inbox_and_sees_a_disabled_account(s).await;
    a_supervision_is_listed_for_the_bureau_that_opened_it_and_the_one_that_answers(s).await;
    a_filed_scope_version_is_listed_for_its_province_and_acknowledged_once(s).await;
    a_bulletin_is_versioned_issued_once_and_read_once_per_recipient(s).await;
    an_export_job_advances_until_it_ends(s).await;
    the_day_counters_add_up_to_the_period_sums(s).await;
    a_notice_is_attempted_by_one_instance_and_its_delivery_recorded_once(s).await;
    a_reminder_delivery_is_attempted_once_and_its_outcome_shown_on_the_reminder(s).await;
    an_account_locks_after_failures_and_its_codes_and_tokens_are_used_once(s).await;
    // Last: the uploaded year changes the calendar every later command counts on.
    an_uploaded_year_places_the_pending_deadlines_it_covers(s).await;
}

/// The fixture bureaus; call once per store.
pub async fn seed<S: Subject>(s: &S) {
    for b in bureaus() {
        s.put_bureau(&b).await.expect("bureau");
    }
}

pub async fn submission<S: Subject>(
    s: &S,
    clue: &str,
    division: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Submission {
    let city = code(division).city().expect("city");
    let history = s.scope_history(city).await.expect("scope");
    submission_under(&history, clue, division, now)
}

pub async fn receive<S: Subject>(
    s: &S,
    clue: &str,
    n: u32,
    division: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Received {
    let sub = submission(s, clue, division, now).await;
    s.receive(sub, identity(n), now, &key(&format!("rcv-{clue}")))
        .await
        .expect("receive")
}

fn accept() -> Command {
    Command::Judge {
        judgment: JudgmentRequest::Accept,
        note: None,
    }
}

fn ids(page: &[store::StoredClue]) -> Vec<ClueId> {
    page.iter().map(|s| s.clue.id.clone()).collect()
}

pub async fn clues_are_numbered_per_county_and_day_and_found_by_id_number_and_reporter<
    S: Subject,
>(
    s: &S,
) {
    let a = receive(s, "cf-num-a", 101, "330106", at(4, 1)).await;
    let b = receive(s, "cf-num-b", 101, "330106", at(4, 1) + Duration::hours(1)).await;
    let c = receive(s, "cf-num-c", 102, "330110", at(4, 1)).await;
    assert_eq!(a.clue_no.as_str(), "330106-20260401-0001");
    assert_eq!(b.clue_no.as_str(), "330106-20260401-0002");
    assert_eq!(c.clue_no.as_str(), "330110-20260401-0001");
    assert!(!a.replayed);

    let stored = s.clue(&a.clue_id).await.expect("clue");
    assert_eq!(stored.clue.version, 1);
    assert_eq!(stored.head.seq, 4, "received, 2 deadlines opened, notice");
    assert_eq!(
        s.verify_timeline(&a.clue_id).await.expect("verifies"),
        stored.head
    );
    assert_eq!(s.timeline(&a.clue_id).await.expect("timeline").len(), 4);
    assert!(matches!(
        s.clue(&cid("cf-none")).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        s.verify_timeline(&cid("cf-none")).await,
        Err(StoreError::NotFound(_))
    ));
    let by_no = s.clue_by_no(&b.clue_no).await.expect("by no");
    assert_eq!(by_no.map(|c| c.clue.id), Some(b.clue_id.clone()));

    // A reporter's clues, newest first, one per page.
    let reporter = s.reporter_of(&identity(101).openid);
    assert_eq!(reporter, a.reporter);
    let mut seen = Vec::new();
    let mut cursor = None;
    for _ in 0..4 {
        let page = s
            .reporter_clues(&reporter, PageRequest { limit: 1, cursor })
            .await
            .expect("page");
        assert!(page.items.len() <= 1);
        seen.extend(ids(&page.items));
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, [b.clue_id.clone(), a.clue_id.clone()]);
    let garbage = store::Cursor::from_text("not a cursor");
    assert!(matches!(
        s.reporter_clues(
            &reporter,
            PageRequest {
                limit: 1,
                cursor: Some(garbage)
            }
        )
        .await,
        Err(StoreError::Invalid(_))
    ));
}

pub async fn the_inbox_lists_a_state_by_next_deadline_and_refuses_an_unknown_state<S: Subject>(
    s: &S,
) {
    // Filed out of order: the inbox is by next deadline (the earlier receipt's), not by filing.
    // Other checks' clues may share the bureau; only this check's are compared.
    let a = receive(s, "cf-inbox-a", 111, "330106", at(8, 4)).await;
    let b = receive(s, "cf-inbox-b", 112, "330106", at(8, 3)).await;
    let mine = |page: &store::Page<store::StoredClue>| -> Vec<ClueId> {
        ids(&page.items)
            .into_iter()
            .filter(|id| id.as_str().starts_with("cf-inbox"))
            .collect()
    };
    let inbox = s
        .inbox(&bid("land-330106"), "received", PageRequest::default())
        .await
        .expect("inbox");
    assert_eq!(mine(&inbox), [b.clue_id.clone(), a.clue_id.clone()]);
    let accepted = s
        .inbox(&bid("land-330106"), "accepted", PageRequest::default())
        .await
        .expect("inbox");
    assert!(mine(&accepted).is_empty());
    let h = as_officer(&handler("land-330106"));
    s.execute(&b.clue_id, accept(), &h, at(8, 4), &key("cf-inbox-1"))
        .await
        .expect("accept");
    let received = s
        .inbox(&bid("land-330106"), "received", PageRequest::default())
        .await
        .expect("inbox");
    assert_eq!(mine(&received), vec![a.clue_id.clone()]);
    let accepted = s
        .inbox(&bid("land-330106"), "accepted", PageRequest::default())
        .await
        .expect("inbox");
    assert_eq!(mine(&accepted), vec![b.clue_id.clone()]);
    assert!(matches!(
        s.inbox(&bid("land-330106"), "nonsense", PageRequest::default())
            .await,
        Err(StoreError::Invalid(_))
    ));
}

pub async fn a_receipt_replays_and_refuses_another_payload_under_its_key<S: Subject>(s: &S) {
    let first = receive(s, "cf-rcv", 121, "330106", at(4, 4)).await;
    let again = s
        .receive(
            submission(s, "cf-rcv", "330106", at(4, 4)).await,
            identity(121),
            at(4, 4),
            &key("rcv-cf-rcv"),
        )
        .await
        .expect("replay");
    assert!(again.replayed);
    assert_eq!(again.clue_no, first.clue_no);
    let other = s
        .receive(
            submission(s, "cf-rcv-other", "330106", at(4, 4)).await,
            identity(121),
            at(4, 4),
            &key("rcv-cf-rcv"),
        )
        .await;
    assert!(matches!(other, Err(StoreError::IdempotencyMismatch)));
    // The same clue id under another key is not a second clue.
    let twice = s
        .receive(
            submission(s, "cf-rcv", "330106", at(4, 4)).await,
            identity(121),
            at(4, 4),
            &key("rcv-cf-rcv-2"),
        )
        .await;
    assert!(matches!(twice, Err(StoreError::Conflict)), "{twice:?}");
    assert!(matches!(
        s.clue(&cid("cf-rcv-other")).await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn a_resubmission_links_the_earlier_clue_and_only_its_reporter_may_make_it<S: Subject>(
    s: &S,
) {
    let a = receive(s, "cf-resub-a", 191, "330110", at(9, 1)).await;
    let h = as_officer(&handler("land-330110"));
    let need_material = Command::Judge {
        judgment: JudgmentRequest::NeedMaterial {
            missing: vec![domain::event::Missing::Facts],
        },
        note: None,
    };
    s.execute(&a.clue_id, need_material, &h, at(9, 2), &key("cf-resub-1"))
        .await
        .expect("need material");
    // Another reporter cannot resubmit it: nothing is stored, no number is taken.
    let mut sub = submission(s, "cf-resub-x", "330110", at(9, 3)).await;
    sub.report.resubmission_of = Some(a.clue_id.clone());
    let refused = s
        .receive(sub, identity(192), at(9, 3), &key("cf-resub-2"))
        .await;
    assert!(matches!(refused, Err(StoreError::Domain(_))), "{refused:?}");
    assert!(matches!(
        s.clue(&cid("cf-resub-x")).await,
        Err(StoreError::NotFound(_))
    ));
    let mut sub = submission(s, "cf-resub-b", "330110", at(9, 3)).await;
    sub.report.resubmission_of = Some(a.clue_id.clone());
    let b = s
        .receive(sub, identity(191), at(9, 3), &key("cf-resub-3"))
        .await
        .expect("resubmission");
    assert_eq!(
        b.clue_no.as_str(),
        "330110-20260903-0001",
        "the refusal took no number"
    );
    let earlier = s.clue(&a.clue_id).await.expect("a").clue;
    assert_eq!(earlier.resubmitted_as, Some(b.clue_id.clone()));
    assert_eq!(earlier.version, 3);
    s.verify_timeline(&a.clue_id).await.expect("a verifies");
    let new = s.clue(&b.clue_id).await.expect("b").clue;
    assert_eq!(new.resubmission_of, Some(a.clue_id.clone()));
}

pub async fn a_command_versions_the_clue_replays_and_refuses_what_it_must<S: Subject>(s: &S) {
    let a = receive(s, "cf-cmd", 131, "330106", at(4, 6)).await;
    let h = as_officer(&handler("land-330106"));
    // If-Match on a version the clue is no longer at.
    assert!(matches!(
        s.execute_if_version(
            &a.clue_id,
            Some(7),
            accept(),
            &h,
            at(4, 7),
            &key("cf-cmd-0")
        )
        .await,
        Err(StoreError::Conflict)
    ));
    let done = s
        .execute_if_version(
            &a.clue_id,
            Some(1),
            accept(),
            &h,
            at(4, 7),
            &key("cf-cmd-1"),
        )
        .await
        .expect("accept");
    assert_eq!((done.version, done.replayed), (2, false));
    let replay = s
        .execute(&a.clue_id, accept(), &h, at(4, 7), &key("cf-cmd-1"))
        .await
        .expect("replay");
    assert!(replay.replayed);
    assert_eq!(replay.events, done.events);
    let other = Command::PostMessage {
        text: MessageText::parse("同一个键，另一个命令").expect("text"),
    };
    assert!(matches!(
        s.execute(&a.clue_id, other, &h, at(4, 7), &key("cf-cmd-1"))
            .await,
        Err(StoreError::IdempotencyMismatch)
    ));
    assert!(matches!(
        s.execute(&cid("cf-none"), accept(), &h, at(4, 7), &key("cf-cmd-2"))
            .await,
        Err(StoreError::NotFound(_))
    ));
    let stored = s.clue(&a.clue_id).await.expect("clue");
    assert_eq!(stored.clue.version, 2);
    assert_eq!(stored.clue.state.code(), "accepted");
    s.verify_timeline(&a.clue_id).await.expect("verifies");
}

pub async fn a_refused_command_stores_nothing<S: Subject>(s: &S) {
    let a = receive(s, "cf-refuse", 141, "330106", at(4, 8)).await;
    let before = s.timeline(&a.clue_id).await.expect("timeline").len();
    // A handler of another county may not judge this clue.
    let stranger = as_officer(&handler("land-330110"));
    let refused = s
        .execute(
            &a.clue_id,
            accept(),
            &stranger,
            at(4, 8),
            &key("cf-refuse-1"),
        )
        .await;
    assert!(matches!(refused, Err(StoreError::Domain(_))), "{refused:?}");
    assert_eq!(s.clue(&a.clue_id).await.expect("clue").clue.version, 1);
    assert_eq!(
        s.timeline(&a.clue_id).await.expect("timeline").len(),
        before
    );
    // The key was not spent: the right officer may use it.
    let h = as_officer(&handler("land-330106"));
    let done = s
        .execute(&a.clue_id, accept(), &h, at(4, 8), &key("cf-refuse-1"))
        .await
        .expect("accept");
    assert!(!done.replayed);
}

pub async fn the_deadline_and_outbox_indexes_hold_what_is_open_and_owed<S: Subject>(s: &S) {
    let a = receive(s, "cf-index", 151, "330110", at(5, 11)).await;
    let mine = |v: Vec<store::DeadlineEntry>| -> Vec<String> {
        v.into_iter()
            .filter(|e| e.clue == a.clue_id)
            .map(|e| e.kind().code().to_owned())
            .collect()
    };
    let all = mine(s.deadlines_due(None, at(12, 31)).await.expect("due"));
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(mine(s.deadlines_due(None, at(5, 11)).await.expect("due")).is_empty());
    let open = s.clue(&a.clue_id).await.expect("clue").clue;
    let first_due = open
        .deadlines
        .iter()
        .filter_map(|d| d.due)
        .min()
        .expect("a dated deadline");
    assert_eq!(
        mine(
            s.deadlines_due(Some(first_due), first_due)
                .await
                .expect("due")
        )
        .len(),
        1
    );
    let reminded = mine(
        s.reminders_due(at(5, 11), at(12, 31))
            .await
            .expect("remind"),
    );
    assert_eq!(reminded.len(), 2);

    let owed = |v: Vec<store::OutboxEntry>| v.into_iter().filter(|o| o.clue == a.clue_id).count();
    assert_eq!(
        owed(s.undelivered_notices(at(5, 12)).await.expect("outbox")),
        1
    );
    assert_eq!(
        owed(s.undelivered_notices(at(5, 11)).await.expect("outbox")),
        0
    );

    // A judgment closes the judgment deadline: it leaves the index with the command.
    let h = as_officer(&handler("land-330110"));
    s.execute(&a.clue_id, accept(), &h, at(5, 12), &key("cf-index-1"))
        .await
        .expect("accept");
    let after = mine(s.deadlines_due(None, at(12, 31)).await.expect("due"));
    assert!(after.len() < all.len() || after != all, "{after:?}");
}

pub async fn a_judgment_counts_in_the_county_city_and_province<S: Subject>(s: &S) {
    let a = receive(s, "cf-stats", 161, "330110", at(6, 2)).await;
    let h = as_officer(&handler("land-330110"));
    s.execute(&a.clue_id, accept(), &h, at(6, 3), &key("cf-stats-1"))
        .await
        .expect("accept");
    let (from, to) = (at(6, 1).date_naive(), at(6, 30).date_naive());
    for cell in ["330110", "330100", "330000"] {
        let stats = s.read_stats(&code(cell), from, to).await.expect("stats");
        assert_eq!(stats.get("judged.accept"), Some(&1), "{cell}");
    }
    let other = s
        .read_stats(&code("330106"), from, to)
        .await
        .expect("stats");
    assert_eq!(other.get("judged.accept"), None);
    let july = s
        .read_stats(
            &code("330110"),
            at(7, 1).date_naive(),
            at(7, 31).date_naive(),
        )
        .await
        .expect("stats");
    assert!(july.is_empty(), "{july:?}");
}

pub async fn month_rollups_equal_their_days_and_planned_reads_give_the_same_figures<S: Subject>(
    s: &S,
) {
    // Clues across a month's end, handled in the next months.
    let a = receive(s, "cf-roll-a", 181, "330110", at(10, 30)).await;
    let b = receive(s, "cf-roll-b", 182, "330110", at(11, 2)).await;
    let h = as_officer(&handler("land-330110"));
    s.execute(&a.clue_id, accept(), &h, at(11, 1), &key("cf-roll-1"))
        .await
        .expect("accept");
    s.execute(&b.clue_id, accept(), &h, at(12, 8), &key("cf-roll-2"))
        .await
        .expect("accept");
    let day = |t: chrono::DateTime<chrono::Utc>| t.date_naive();
    let end = day(at(12, 31));
    let since = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).expect("day");
    let everything = Period::new(since, end).expect("period");
    for cell in ["330110", "330100", "330000"] {
        let cell = code(cell);
        // Every day item (a daily plan from the first day reads no month item)…
        let days = s
            .read_counters(&cell, &ReadPlan::for_series(everything, Granularity::Day))
            .await
            .expect("days");
        // …and every month item (a plan of whole months reads no day item).
        let months = s
            .read_counters(&cell, &ReadPlan::for_period(everything))
            .await
            .expect("months");
        let nonzero = |c: &DayCounters| -> DayCounters {
            c.iter()
                .map(|(d, m)| {
                    (
                        *d,
                        m.iter()
                            .filter(|(_, n)| **n != 0)
                            .map(|(k, n)| (k.clone(), *n))
                            .collect(),
                    )
                })
                .filter(|(_, m): &(_, BTreeMap<String, i64>)| !m.is_empty())
                .collect()
        };
        assert_eq!(
            nonzero(&months),
            nonzero(&rollups(&days)),
            "{cell}: months are their days' sums"
        );
        let nov = day(at(11, 1));
        assert_eq!(months[&nov].get("judged.accept"), Some(&1), "{cell}");
        assert_eq!(months[&nov].get("received"), Some(&1), "{cell}");
        // The figures from the planned reads equal those of the days, for ranges that start and
        // end inside months and on their edges.
        for (from, to) in [
            (at(10, 15), at(12, 20)),
            (at(10, 1), at(12, 31)),
            (at(11, 2), at(11, 2)),
            (at(1, 1), at(12, 31)),
            (at(1, 1), at(12, 20)),
        ] {
            let range = Period::new(day(from), day(to)).expect("range");
            for g in [
                Granularity::Day,
                Granularity::Month,
                Granularity::Quarter,
                Granularity::Year,
            ] {
                let planned = s
                    .read_counters(&cell, &ReadPlan::for_series(range, g))
                    .await
                    .expect("planned");
                assert_eq!(
                    series(&planned, range, g).expect("series"),
                    series(&days, range, g).expect("series"),
                    "{cell} {range:?} {g:?}"
                );
            }
            let whole = s
                .read_counters(&cell, &ReadPlan::for_period(range))
                .await
                .expect("whole");
            assert_eq!(Figures::of(&whole, range), Figures::of(&days, range));
            // Read as of the range's last day (no later counter: the store may join the last
            // month's days and the months in one read).
            if range.to >= day(at(12, 8)) {
                let plan = ReadPlan::for_series(range, Granularity::Month).counted_up_to(range.to);
                assert!(plan.open_end);
                let planned = s.read_counters(&cell, &plan).await.expect("open end");
                assert_eq!(
                    series(&planned, range, Granularity::Month).expect("series"),
                    series(&days, range, Granularity::Month).expect("series"),
                    "{cell} {range:?} open end"
                );
            }
        }
    }
}

pub async fn messages_are_kept_in_order_beside_the_timeline<S: Subject>(s: &S) {
    let a = receive(s, "cf-msg", 171, "330106", at(6, 8)).await;
    let reporter = Actor::Reporter {
        reporter: a.reporter.clone(),
    };
    let officer = as_officer(&handler("land-330106"));
    for (i, (actor, text)) in [
        (&reporter, "补充：晚上施工"),
        (&officer, "收到，已安排核查"),
    ]
    .into_iter()
    .enumerate()
    {
        s.execute(
            &a.clue_id,
            Command::PostMessage {
                text: MessageText::parse(text).expect("text"),
            },
            actor,
            at(6, 9),
            &key(&format!("cf-msg-{i}")),
        )
        .await
        .expect("message");
    }
    let messages = s.messages(&a.clue_id).await.expect("messages");
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].from, Party::Reporter);
    assert_eq!(messages[1].text, "收到，已安排核查");
    assert!(messages[0].seq < messages[1].seq);
    let timeline = s.timeline(&a.clue_id).await.expect("timeline");
    assert_eq!(
        timeline
            .iter()
            .filter(|e| matches!(e.event.kind, EventKind::MessagePosted { .. }))
            .count(),
        2
    );
}

pub async fn the_vault_masks_and_reveals_after_the_event<S: Subject>(s: &S) {
    let a = receive(s, "cf-vault", 181, "330106", at(6, 15)).await;
    let masked = s.masked_identity(&a.clue_id).await.expect("masked");
    assert_eq!(masked, identity(181).masked());
    assert_eq!(
        s.recipient_openid(&a.clue_id).await.expect("openid"),
        identity(181).openid
    );
    assert!(matches!(
        s.masked_identity(&cid("cf-none")).await,
        Err(StoreError::NotFound(_))
    ));
    let h = handler("land-330106");
    let reason = Reason::parse("需电话联系举报人核实现场位置").expect("reason");
    let clear = s
        .reveal(
            &a.clue_id,
            &h,
            reason.clone(),
            at(6, 16),
            &key("cf-vault-1"),
        )
        .await
        .expect("reveal");
    assert_eq!(clear, identity(181));
    let timeline = s.timeline(&a.clue_id).await.expect("timeline");
    assert!(
        timeline
            .iter()
            .any(|e| matches!(e.event.kind, EventKind::IdentityRevealed { .. }))
    );
    let stranger = handler("land-330110");
    assert!(matches!(
        s.reveal(&a.clue_id, &stranger, reason, at(6, 16), &key("cf-vault-2"))
            .await,
        Err(StoreError::Domain(_))
    ));
}

pub async fn the_directory_keeps_officers_and_refuses_an_incoherent_bureau<S: Subject>(s: &S) {
    let o = officer("cf-dir-officer", "land-330106", &[Role::Handler]);
    assert_eq!(s.officer(&o.id).await.expect("officer"), None);
    s.put_officer(&o).await.expect("put");
    assert_eq!(s.officer(&o.id).await.expect("officer"), Some(o.clone()));
    let officers = s
        .bureau_officers(&bid("land-330106"))
        .await
        .expect("officers");
    assert!(officers.contains(&o));
    assert!(
        !s.bureau_officers(&bid("land-330110"))
            .await
            .expect("officers")
            .contains(&o)
    );
    let xihu = s.bureau(&bid("land-330106")).await.expect("bureau");
    assert_eq!(xihu.map(|b| b.region), Some("杭州市西湖区".to_owned()));
    assert_eq!(s.bureau(&bid("land-999999")).await.expect("bureau"), None);
    let mut bad = bureaus().remove(3);
    bad.division = None;
    assert!(matches!(
        s.put_bureau(&bad).await,
        Err(StoreError::Domain(_))
    ));
    let directory = s.bureaus().await.expect("directory");
    assert!(directory.get(&bid("land-330106")).is_ok());
}

pub async fn scope_versions_follow_each_other<S: Subject>(s: &S) {
    let city = code("330200");
    let history = s.scope_history(city).await.expect("history");
    let current = history.in_force(at(7, 1)).clone();
    assert_eq!(current.version, 1);
    let mut skipped: ScopeVersion = current.clone();
    skipped.version = 3;
    assert!(matches!(
        s.add_scope_version(skipped).await,
        Err(StoreError::Domain(_))
    ));
    assert_eq!(
        s.scope_history(city)
            .await
            .expect("history")
            .in_force(at(7, 1))
            .version,
        1
    );
}

pub async fn a_binding_code_is_redeemed_once_and_not_after_expiry<S: Subject>(s: &S) {
    let o = officer("cf-bind-officer", "land-330106", &[Role::Handler]);
    let code = BindingCode::from_random([3, 1, 4, 1, 5, 9, 2, 6]);
    let expires = s
        .issue_binding_code(&o, &code, at(7, 1))
        .await
        .expect("issue");
    assert!(expires > at(7, 1));
    assert!(matches!(
        s.issue_binding_code(&o, &code, at(7, 1)).await,
        Err(StoreError::Conflict)
    ));
    let unknown = BindingCode::from_random([9, 9, 9, 9, 9, 9, 9, 9]);
    assert_eq!(
        s.redeem_binding_code(&unknown, "oWxBindOpenid", at(7, 1))
            .await
            .expect("redeem"),
        Err(BindingError::Unknown)
    );
    let late = BindingCode::from_random([2, 7, 1, 8, 2, 8, 1, 8]);
    let late_expiry = s
        .issue_binding_code(&o, &late, at(7, 1))
        .await
        .expect("issue");
    assert_eq!(
        s.redeem_binding_code(&late, "oWxBindOpenid", late_expiry)
            .await
            .expect("redeem"),
        Err(BindingError::Expired)
    );
    assert_eq!(
        s.redeem_binding_code(&code, "oWxBindOpenid", at(7, 1))
            .await
            .expect("redeem"),
        Ok(o.id.clone())
    );
    assert_eq!(
        s.redeem_binding_code(&code, "oWxBindOpenid", at(7, 1))
            .await
            .expect("redeem"),
        Err(BindingError::Used)
    );
}
