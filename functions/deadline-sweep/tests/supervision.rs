//! 督办 deadlines in the sweep, on the store's in-memory twin: the province
//! supervises a county's clue; one working day before the due day the county is reminded; when
//! the day passes unanswered the miss is recorded once, the county is reminded and the province
//! (the bureau that supervises, not the county's escalation parent) gets the reminder and the
//! overdue entry, once however often the sweep runs; the late answer shows on the timeline and in
//! the province's supervision list.

use testkit::store_env as support;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use deadline_sweep::{DeadlineReport, SweepStore, sweep_deadlines};
use domain::deadline::DeadlineKind;
use domain::reminder::{ReminderKind, ReminderRecipient};
use domain::text::{MessageText, Reason};
use domain::{Command, DeadlineStatus, EventKind, JudgmentRequest, Role};
use outbox::MemoryNoticeQueue;
use store::roles::*;
use support::*;

fn sh(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Shanghai
        .with_ymd_and_hms(y, m, d, h, 0, 1)
        .single()
        .expect("instant")
        .with_timezone(&Utc)
}

async fn sweep<S: SweepStore>(
    store: &S,
    queue: &MemoryNoticeQueue,
    at: DateTime<Utc>,
) -> DeadlineReport {
    sweep_deadlines(store, queue, at).await.expect("sweep")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_supervision_is_reminded_then_missed_once_and_reported_to_the_supervising_bureau()
 {
    bounded(300, async {
        let env = Twin::start().await;
        let queue = MemoryNoticeQueue::default();
        let county = officer("xihu-officer", "land-330106", &[Role::Handler]);
        let city = officer("hz-supervisor", "land-330100", &[Role::Supervisor]);
        let province = officer("zj-supervisor", "land-330000", &[Role::Supervisor]);
        for o in [&county, &city, &province] {
            env.store.put_officer(o).await.expect("officer");
        }
        // Received Monday 2026-03-09, accepted the next day (no other deadline is due soon).
        let clue = env.receive("c-sup", 1, "330106", sh(2026, 3, 9, 10)).await;
        let id = clue.clue_id.clone();
        let accept = Command::Judge {
            judgment: JudgmentRequest::Accept,
            note: None,
        };
        env.store
            .execute(
                &id,
                accept,
                &as_officer(&county),
                sh(2026, 3, 10, 9),
                &key("accept"),
            )
            .await
            .expect("accept");
        // The province supervises until Friday 03-13 (reminder: Thursday 03-12).
        let supervise = Command::Supervise {
            due_on: NaiveDate::from_ymd_opt(2026, 3, 13).expect("date"),
            note: Reason::parse("群众多次反映，请于13日前报告进展").expect("note"),
        };
        env.store
            .execute(
                &id,
                supervise,
                &as_officer(&province),
                sh(2026, 3, 10, 10),
                &key("sup"),
            )
            .await
            .expect("supervise");
        let open = env
            .store
            .supervisions_of(&bid("land-330106"))
            .await
            .expect("to answer");
        assert_eq!(open.len(), 1, "the county sees what it must answer");

        let r = sweep(&env.store, &queue, sh(2026, 3, 11, 9)).await;
        assert_eq!((r.reminders, r.missed, r.failures), (0, 0, 0), "not yet");

        let r = sweep(&env.store, &queue, sh(2026, 3, 12, 0)).await;
        assert_eq!(
            (r.reminders, r.missed, r.failures),
            (1, 0, 0),
            "a working day before"
        );
        let list = env
            .store
            .reminders_for(&county, 20, None)
            .await
            .expect("list");
        assert_eq!(list.items.len(), 1);
        let soon = &list.items[0].reminder;
        assert_eq!(
            (soon.kind, soon.deadline),
            (ReminderKind::DueSoon, Some(DeadlineKind::Supervision))
        );
        assert_eq!(
            soon.recipient,
            ReminderRecipient::Bureau {
                bureau: bid("land-330106")
            }
        );

        // Saturday 03-14: missed. Two sweeps at once, then a third: everything once.
        let (a, b) = (&env.store, &env.store);
        let (x, y) = tokio::join!(
            sweep(a, &queue, sh(2026, 3, 14, 0)),
            sweep(b, &queue, sh(2026, 3, 14, 0))
        );
        assert_eq!(
            (
                x.reminders + y.reminders,
                x.missed + y.missed,
                x.overdue_entries + y.overdue_entries,
                x.failures + y.failures
            ),
            (2, 1, 1, 0),
            "the county reminded (overdue), the province (supervision), one entry, one miss"
        );
        let again = sweep(&env.store, &queue, sh(2026, 3, 14, 9)).await;
        assert_eq!(again, DeadlineReport::default());

        let province_reminders = env
            .store
            .reminders_for(&province, 20, None)
            .await
            .expect("p");
        assert_eq!(province_reminders.items.len(), 1);
        assert_eq!(
            province_reminders.items[0].reminder.kind,
            ReminderKind::Supervision
        );
        let entries = env
            .store
            .overdue_entries(&bid("land-330000"), 20, None)
            .await
            .expect("overdue");
        assert_eq!(entries.items.len(), 1);
        assert_eq!(
            (entries.items[0].kind, entries.items[0].bureau.clone()),
            (DeadlineKind::Supervision, bid("land-330106"))
        );
        for (who, o) in [("city", &city)] {
            assert!(
                env.store
                    .reminders_for(o, 20, None)
                    .await
                    .expect(who)
                    .items
                    .is_empty(),
                "the {who} did not supervise"
            );
        }
        assert!(
            env.store
                .overdue_entries(&bid("land-330100"), 20, None)
                .await
                .expect("city")
                .items
                .is_empty()
        );

        // The late answer: on the timeline, met late, in the province's list.
        let answer = Command::AnswerSupervision {
            text: MessageText::parse("已现场核查，违法事实基本清楚，正在立案").expect("text"),
        };
        env.store
            .execute(
                &id,
                answer,
                &as_officer(&county),
                sh(2026, 3, 16, 9),
                &key("answer"),
            )
            .await
            .expect("answer");
        let stored = env.store.clue(&id).await.expect("clue").clue;
        let d = stored
            .deadlines
            .iter()
            .find(|d| d.kind == DeadlineKind::Supervision)
            .expect("deadline");
        assert!(matches!(
            d.status,
            DeadlineStatus::Met { on_time: false, .. }
        ));
        let timeline = env.store.timeline(&id).await.expect("timeline");
        let types: Vec<_> = timeline.iter().map(|e| e.event.kind.code()).collect();
        for t in [
            "supervision_opened",
            "deadline_missed",
            "supervision_answered",
        ] {
            assert!(types.contains(&t), "{t} on the timeline: {types:?}");
        }
        assert!(timeline.iter().any(|e| matches!(
            &e.event.kind,
            EventKind::DeadlineMissed {
                kind: DeadlineKind::Supervision,
                ..
            }
        )));
        let listed = env
            .store
            .supervisions_by(&bid("land-330000"), 20, None)
            .await
            .expect("list");
        assert_eq!(listed.items.len(), 1);
        let answers = &listed.items[0].supervision.answers;
        assert_eq!(answers.len(), 1);
        assert_eq!(
            answers[0].text.as_str(),
            "已现场核查，违法事实基本清楚，正在立案"
        );

        // Closed by the province: no longer to answer, still in the province's history.
        env.store
            .execute(
                &id,
                Command::CloseSupervision { note: None },
                &as_officer(&province),
                sh(2026, 3, 16, 10),
                &key("close"),
            )
            .await
            .expect("close");
        assert!(
            env.store
                .supervisions_of(&bid("land-330106"))
                .await
                .expect("open")
                .is_empty()
        );
        let listed = env
            .store
            .supervisions_by(&bid("land-330000"), 20, None)
            .await
            .expect("list");
        assert!(!listed.items[0].supervision.is_open());
        assert_eq!(
            sweep(&env.store, &queue, sh(2026, 3, 20, 9)).await,
            DeadlineReport::default()
        );
    })
    .await;
}
