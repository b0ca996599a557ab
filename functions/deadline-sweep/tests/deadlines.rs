//! The deadline sweep on the store's in-memory twin, driven at chosen instants ("time travel"
//! through the sweep's `at`): reminders and misses on the right working days, the county's
//! officers and the city's overdue entry, each thing once however often (or concurrently) the
//! sweep runs; and on moto with `template.yaml` deployed, only index reads (no Scan).

use testkit::store_env as support;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use deadline_sweep::{DeadlineReport, SweepStore, sweep_deadlines};
use domain::deadline::DeadlineKind;
use domain::reminder::ReminderKind;
use domain::wechat_binding::BindingCode;
use domain::{EventKind, Role};
use outbox::MemoryNoticeQueue;
use store::{DynamoClueStore, StoreConfig, roles::*};
use support::*;
use testkit::requests::Requests;

/// A store on the same table whose DynamoDB requests are counted.
fn counted_store(env: &Env, requests: &Requests) -> DynamoClueStore {
    DynamoClueStore::new(
        requests.client(&env.endpoint),
        env.kms.clone(),
        StoreConfig::new(&env.table, &env.pii_key, SECRET.to_vec()),
    )
    .expect("store")
}

/// A Shanghai wall-clock instant.
fn sh(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
    Shanghai
        .with_ymd_and_hms(y, m, d, h, min, s)
        .single()
        .expect("instant")
        .with_timezone(&Utc)
}

/// The end of a Shanghai day (deadlines end there).
fn end_of(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    sh(y, m, d, 23, 59, 59) + chrono::Duration::milliseconds(999)
}

async fn sweep<S: SweepStore>(
    store: &S,
    queue: &MemoryNoticeQueue,
    at: DateTime<Utc>,
) -> DeadlineReport {
    sweep_deadlines(store, queue, at).await.expect("sweep")
}

/// Five clues received 14 October 2025: open, and not due before the 23rd.
async fn open_clues_not_yet_due<S: ClueCommands + Scopes>(store: &S) {
    for i in 0..5 {
        receive_on(
            store,
            &format!("c-later-{i}"),
            10 + i,
            "330110",
            sh(2025, 10, 14, 9, 0, 0),
        )
        .await;
    }
}

/// Two sweeps at once (two cold starts), summed.
async fn two_at_once<S: SweepStore>(
    store: &S,
    queue: &MemoryNoticeQueue,
    at: DateTime<Utc>,
) -> DeadlineReport {
    let (a, b) = (store, store);
    let (x, y) = tokio::join!(sweep(a, queue, at), sweep(b, queue, at));
    DeadlineReport {
        reminders: x.reminders + y.reminders,
        missed: x.missed + y.missed,
        overdue_entries: x.overdue_entries + y.overdue_entries,
        resolved: x.resolved + y.resolved,
        failures: x.failures + y.failures,
        calendar_next_year_missing: x.calendar_next_year_missing,
    }
}

/// The National Day scenario: the county's handler (bound to WeChat, so the bureau's reminders
/// go there too) and the city's supervisor; a clue received in Xihu on Tuesday 2025-09-30, 10:00,
/// the eve of the National Day week (1-8 October, Saturday 11 October worked); and five open
/// clues not due yet, which the sweep must not read.
struct NationalDay {
    env: Twin,
    queue: MemoryNoticeQueue,
    county: domain::Officer,
    city: domain::Officer,
    clue: store::Received,
}

impl NationalDay {
    async fn start() -> Self {
        let env = Twin::start().await;
        let county = officer("xihu-officer", "land-330106", &[Role::Handler]);
        let city = officer("hz-supervisor", "land-330100", &[Role::Supervisor]);
        for o in [&county, &city] {
            env.store.put_officer(o).await.expect("officer");
        }
        let code = BindingCode::from_random([7; domain::wechat_binding::CODE_LEN]);
        let t0 = sh(2025, 9, 29, 9, 0, 0);
        env.store
            .issue_binding_code(&county, &code, t0)
            .await
            .expect("code");
        env.store
            .redeem_binding_code(&code, "oCountyOfficerOpenid01", t0)
            .await
            .expect("redeem")
            .expect("bound");
        let clue = env
            .receive("c-nd2025", 1, "330106", sh(2025, 9, 30, 10, 0, 0))
            .await;
        open_clues_not_yet_due(&env.store).await;
        Self {
            env,
            queue: MemoryNoticeQueue::default(),
            county,
            city,
            clue,
        }
    }

    async fn sweep(&self, at: DateTime<Utc>) -> DeadlineReport {
        sweep(&self.env.store, &self.queue, at).await
    }

    async fn two_at_once(&self, at: DateTime<Utc>) -> DeadlineReport {
        two_at_once(&self.env.store, &self.queue, at).await
    }

    async fn reminder_kinds(&self, o: &domain::Officer) -> Vec<ReminderKind> {
        self.env
            .store
            .reminders_for(o, 20, None)
            .await
            .expect("list")
            .items
            .iter()
            .map(|r| r.reminder.kind)
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_judgment_deadline_across_national_day_counts_working_days() {
    // Arrange + Act
    let nd = NationalDay::start().await;

    // Assert: 7 working days are 9, 10, 11, 13, 14, 15, 16 October
    let judgment = nd
        .env
        .store
        .clue(&nd.clue.clue_id)
        .await
        .expect("clue")
        .clue
        .open_deadline(DeadlineKind::Judgment)
        .cloned()
        .expect("judgment deadline");
    assert_eq!(judgment.due, Some(end_of(2025, 10, 16)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_county_is_reminded_once_on_the_last_working_day_before_the_deadline() {
    bounded(300, async {
        // Arrange
        let nd = NationalDay::start().await;

        // Act + Assert: up to the evening of 14 October nothing (a calendar-day count would
        // have reminded on 6 October and marked it overdue on 7 October)
        for at in [
            sh(2025, 10, 6, 9, 0, 0),
            sh(2025, 10, 8, 9, 0, 0),
            sh(2025, 10, 14, 23, 0, 0),
        ] {
            let r = nd.sweep(at).await;
            assert_eq!((r.reminders, r.missed, r.failures), (0, 0, 0), "at {at}");
        }

        // Act: 15 October, the last working day before the due day
        let r = nd.sweep(sh(2025, 10, 15, 0, 0, 1)).await;

        // Assert: one reminder, to the county, in the console and on the bound WeChat
        assert_eq!((r.reminders, r.missed, r.failures), (1, 0, 0));
        let list = nd
            .env
            .store
            .reminders_for(&nd.county, 20, None)
            .await
            .expect("list");
        assert_eq!(list.items.len(), 1);
        let due_soon = &list.items[0];
        assert_eq!(due_soon.reminder.kind, ReminderKind::DueSoon);
        assert_eq!(due_soon.reminder.clue, nd.clue.clue_id);
        assert_eq!(due_soon.reminder.due, Some(end_of(2025, 10, 16)));
        assert!(
            due_soon.reminder.text.contains("2025年10月16日"),
            "{}",
            due_soon.reminder.text
        );
        assert_eq!(
            nd.queue.sent_reminders().len(),
            1,
            "to the bound officer's WeChat"
        );
        assert!(
            nd.reminder_kinds(&nd.city).await.is_empty(),
            "the city is not reminded before the deadline passes"
        );

        // Act + Assert: again, and two at once: nothing more
        let again = nd.sweep(sh(2025, 10, 15, 9, 0, 0)).await;
        assert_eq!(again, DeadlineReport::default());
        let both = nd.two_at_once(sh(2025, 10, 15, 9, 0, 0)).await;
        assert_eq!((both.reminders, both.missed, both.failures), (0, 0, 0));
        assert_eq!(nd.queue.sent_reminders().len(), 1);

        // Act + Assert: the last instant of the due day is still not missed
        let r = nd.sweep(end_of(2025, 10, 16)).await;
        assert_eq!((r.reminders, r.missed), (0, 0));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missed_deadline_is_recorded_once_with_reminders_and_the_citys_overdue_entry() {
    bounded(300, async {
        // Arrange: the county was reminded on 15 October
        let nd = NationalDay::start().await;
        let r = nd.sweep(sh(2025, 10, 15, 0, 0, 1)).await;
        assert_eq!(r.reminders, 1);

        // Act: 17 October, two sweeps at once, then the next run
        let both = nd.two_at_once(sh(2025, 10, 17, 0, 0, 1)).await;
        let next = nd.sweep(sh(2025, 10, 17, 9, 0, 0)).await;

        // Assert: missed, recorded once; the county reminded (overdue) and the city
        // (supervision); the city's overdue entry
        assert_eq!(
            (
                both.reminders,
                both.missed,
                both.overdue_entries,
                both.failures
            ),
            (2, 1, 1, 0),
            "two sweeps at once do everything once"
        );
        assert_eq!(
            next,
            DeadlineReport::default(),
            "the next run has nothing to do"
        );
        let stored = nd
            .env
            .store
            .clue(&nd.clue.clue_id)
            .await
            .expect("clue")
            .clue;
        let j = stored
            .open_deadline(DeadlineKind::Judgment)
            .expect("still open until met");
        assert_eq!(j.missed_at, Some(sh(2025, 10, 17, 0, 0, 1)));
        let timeline = nd
            .env
            .store
            .timeline(&nd.clue.clue_id)
            .await
            .expect("timeline");
        let missed: Vec<_> = timeline
            .iter()
            .filter(|e| matches!(e.event.kind, EventKind::DeadlineMissed { .. }))
            .collect();
        assert_eq!(missed.len(), 1, "recorded once");
        assert_eq!(
            nd.reminder_kinds(&nd.county).await,
            [ReminderKind::Overdue, ReminderKind::DueSoon]
        );
        assert_eq!(
            nd.reminder_kinds(&nd.city).await,
            [ReminderKind::Supervision]
        );
        assert_eq!(
            nd.queue.sent_reminders().len(),
            2,
            "the county officer's WeChat: due soon, overdue"
        );
        let overdue = nd
            .env
            .store
            .overdue_entries(&bid("land-330100"), 20, None)
            .await
            .expect("overdue");
        assert_eq!(overdue.items.len(), 1);
        let e = &overdue.items[0];
        assert_eq!(
            (e.clue_id.clone(), e.kind),
            (nd.clue.clue_id.clone(), DeadlineKind::Judgment)
        );
        assert_eq!(e.bureau, bid("land-330106"));
        assert_eq!(e.due, end_of(2025, 10, 16));
        assert!(
            nd.env
                .store
                .overdue_entries(&bid("land-330000"), 20, None)
                .await
                .expect("province")
                .items
                .is_empty(),
            "the province supervises the city, not the county directly"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_table_the_sweep_reads_only_its_indexes_never_a_scan() {
    bounded(300, async {
        let env = Env::start().await;
        let requests = Requests::default();
        let store = counted_store(&env, &requests);
        let queue = MemoryNoticeQueue::default();
        env.receive("c-nd2025", 1, "330106", sh(2025, 9, 30, 10, 0, 0))
            .await;
        // Open clues that are not due: the sweep must not read them.
        open_clues_not_yet_due(&env.store).await;
        requests.take();
        for at in [
            sh(2025, 10, 8, 9, 0, 0),
            sh(2025, 10, 15, 0, 0, 1),
            sh(2025, 10, 17, 0, 0, 1),
        ] {
            let r = sweep(&store, &queue, at).await;
            assert_eq!(r.failures, 0, "at {at}");
        }
        let seen = requests.take();
        assert!(seen.contains_key("Query"), "{seen:?}");
        assert!(!seen.contains_key("Scan"), "the sweep scanned: {seen:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_deadline_is_resolved_by_the_sweep_once_the_year_is_stored() {
    bounded(300, async {
        let env = Twin::start().await;
        let queue = MemoryNoticeQueue::default();
        // Received Monday 2026-12-28: the judgment deadline runs into 2027, which has no data.
        let clue = env.receive("c-pending", 1, "330106", sh(2026, 12, 28, 10, 0, 0)).await;
        let r = sweep(&env.store, &queue, sh(2026, 12, 29, 9, 0, 0)).await;
        assert_eq!(r.resolved, 0);
        assert_eq!(r.calendar_next_year_missing, Some(2027), "the alarm's metric");
        // The year is stored (its upload did not place the deadlines, e.g. it failed half-way):
        // the next sweep resolves the pending deadline, once.
        let doc = r#"{"year": 2027, "source": "测试通知", "holidays": [{"date": "2027-01-01", "name": "元旦"}], "makeup_workdays": []}"#;
        let admin = officer("admin", "ministry", &[Role::Admin]);
        env.store
            .put_calendar_year(doc, &admin.id, sh(2026, 12, 30, 9, 0, 0))
            .await
            .expect("stored");
        let (a, b) = (&env.store, &env.store);
        let at = sh(2026, 12, 30, 10, 0, 0);
        let (x, y) = tokio::join!(sweep(a, &queue, at), sweep(b, &queue, at));
        assert_eq!(x.resolved + y.resolved, 1, "resolved once by two sweeps at once");
        assert_eq!(x.calendar_next_year_missing, None);
        let stored = env.store.clue(&clue.clue_id).await.expect("clue").clue;
        assert_eq!(
            stored.open_deadline(DeadlineKind::Judgment).and_then(|d| d.due),
            Some(end_of(2027, 1, 7))
        );
        let timeline = env.store.timeline(&clue.clue_id).await.expect("timeline");
        assert_eq!(
            timeline
                .iter()
                .filter(|e| matches!(e.event.kind, EventKind::DeadlineResolved { .. }))
                .count(),
            1
        );
        assert_eq!(sweep(a, &queue, at).await.resolved, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assigned_clue_reminds_its_officer_and_once_overdue_the_bureau_leaders_too() {
    bounded(300, async {
        let env = Twin::start().await;
        let queue = MemoryNoticeQueue::default();
        let assignee = officer("xihu-a1", "land-330106", &[Role::Handler]);
        let other = officer("xihu-a2", "land-330106", &[Role::Handler]);
        let leader = officer("xihu-leader", "land-330106", &[Role::Handler, Role::Leader]);
        for o in [&assignee, &other, &leader] {
            env.store.put_officer(o).await.expect("officer");
        }
        // Received Monday 2026-03-09: judgment due Wednesday 2026-03-18, reminder from 03-17.
        let clue = env
            .receive("c-assigned", 1, "330106", sh(2026, 3, 9, 10, 0, 0))
            .await;
        env.store
            .execute(
                &clue.clue_id,
                domain::Command::Assign {
                    officer: assignee.clone(),
                },
                &as_officer(&leader),
                sh(2026, 3, 9, 11, 0, 0),
                &key("assign"),
            )
            .await
            .expect("assign");
        let count = |o: &domain::Officer| {
            let store = &env.store;
            let o = o.clone();
            async move {
                store
                    .reminders_for(&o, 20, None)
                    .await
                    .expect("list")
                    .items
                    .iter()
                    .map(|r| r.reminder.kind)
                    .collect::<Vec<_>>()
            }
        };
        let r = sweep(&env.store, &queue, sh(2026, 3, 17, 0, 0, 1)).await;
        assert_eq!(r.reminders, 1);
        assert_eq!(count(&assignee).await, [ReminderKind::DueSoon]);
        assert!(count(&other).await.is_empty(), "only the assigned officer");
        assert!(count(&leader).await.is_empty());
        let r = sweep(&env.store, &queue, sh(2026, 3, 19, 0, 0, 1)).await;
        assert_eq!((r.reminders, r.missed, r.overdue_entries), (3, 1, 1));
        assert_eq!(
            count(&assignee).await,
            [ReminderKind::Overdue, ReminderKind::DueSoon]
        );
        assert_eq!(
            count(&leader).await,
            [ReminderKind::Overdue],
            "the leader too"
        );
        assert!(count(&other).await.is_empty());
    })
    .await;
}
