//! Checks of the officer side's roles: the calendar, the sweep's indexes, reminders and
//! bindings, the console's reads, supervision lists, scope filings, bulletins, export jobs and
//! day counters.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use domain::bulletin::{Bulletin, BulletinId, BulletinStatus, Snapshot};
use domain::deadline::DeadlineKind;
use domain::event::DeliveryStatus;
use domain::figures::Period;
use domain::reminder::{Reminder, ReminderKind, ReminderRecipient};
use domain::scope::Filing;
use domain::text::Reason;
use domain::wechat_binding::BindingCode;
use domain::{Command, Role};
use store::accounts::{AuditEntry, Challenge, Failure};
use store::bulletins::Written;
use store::exports::{ExportJob, ExportStatus};
use store::sweep::OverdueEntry;
use store::{ReminderAttempt, ReminderCursor, ReminderDeliveryStatus, SendAttempt, StoreError};

use super::{Subject, receive};
use crate::support::*;

/// A Shanghai wall-clock hour (UTC+8, no daylight saving), from 08:00.
fn sh(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h - 8, 0, 0)
        .single()
        .expect("instant")
}

fn covers(c: &domain::WorkingCalendar, year: i32) -> bool {
    c.covered_years().any(|y| y == year)
}

const YEAR_2027: &str = r#"{"year": 2027, "source": "测试通知", "holidays": [{"date": "2027-01-01", "name": "元旦"}], "makeup_workdays": []}"#;

pub async fn an_uploaded_year_places_the_pending_deadlines_it_covers<S: Subject>(s: &S) {
    let admin = officer("cf-cal-admin", "ministry", &[Role::Admin]);
    // Received Monday 2026-12-28: the judgment deadline runs into 2027, which has no data.
    let r = receive(s, "cf-cal-a", 301, "330106", sh(2026, 12, 28, 10)).await;
    let pending = |entries: Vec<store::DeadlineEntry>| {
        entries
            .into_iter()
            .filter(|e| e.clue == r.clue_id)
            .map(|e| e.kind())
            .collect::<Vec<_>>()
    };
    assert!(
        pending(s.pending_deadlines().await.expect("pending")).contains(&DeadlineKind::Judgment)
    );
    let years = |ys: Vec<store::calendar::CalendarYear>| {
        ys.into_iter()
            .map(|y| (y.year, y.origin, y.uploaded_by))
            .collect::<Vec<_>>()
    };
    let before = years(s.calendar_years().await.expect("years"));
    assert!(
        before
            .iter()
            .all(|(y, o, _)| *y != 2027 && *o == "built_in")
    );

    // A document of no year or of two years stores nothing.
    assert!(
        s.put_calendar_year("{}", &admin.id, sh(2026, 12, 29, 9))
            .await
            .is_err()
    );
    assert_eq!(years(s.calendar_years().await.expect("years")), before);

    let uploaded = s
        .put_calendar_year(YEAR_2027, &admin.id, sh(2026, 12, 29, 9))
        .await
        .expect("uploaded");
    assert_eq!(uploaded.year, 2027);
    assert!(!covers(&uploaded.before, 2027) && covers(&uploaded.after, 2027));
    assert!(covers(&s.calendar().await.expect("calendar"), 2027));
    assert!(years(s.calendar_years().await.expect("years")).contains(&(
        2027,
        "uploaded",
        Some(admin.id.clone())
    )));

    let placed = store::calendar::place_deadlines(s, &uploaded, sh(2026, 12, 29, 10))
        .await
        .expect("placed");
    let mine: Vec<_> = placed
        .deadlines
        .iter()
        .filter(|d| d.clue_id == r.clue_id)
        .map(|d| (d.kind, d.from))
        .collect();
    assert!(mine.contains(&(DeadlineKind::Judgment, None)), "{placed:?}");
    assert!(pending(s.pending_deadlines().await.expect("pending")).is_empty());
    let again = store::calendar::place_deadlines(s, &uploaded, sh(2026, 12, 29, 11))
        .await
        .expect("placed");
    assert!(
        again.deadlines.iter().all(|d| d.clue_id != r.clue_id),
        "placed once"
    );
}

pub async fn the_sweep_takes_a_handled_deadline_out_of_its_index_once<S: Subject>(s: &S) {
    let r = receive(s, "cf-sweep-a", 302, "330106", at(5, 4)).await;
    let far = at(12, 1);
    let mine = |entries: Vec<store::DeadlineEntry>| {
        entries
            .into_iter()
            .filter(|e| e.clue == r.clue_id && e.kind() == DeadlineKind::Judgment)
            .collect::<Vec<_>>()
    };
    let remind = mine(
        s.reminders_due(DateTime::<Utc>::MIN_UTC, far)
            .await
            .expect("due"),
    );
    assert_eq!(remind.len(), 1);
    assert!(s.reminded(&remind[0]).await.expect("reminded"));
    assert!(!s.reminded(&remind[0]).await.expect("again"), "once");
    assert!(
        mine(
            s.reminders_due(DateTime::<Utc>::MIN_UTC, far)
                .await
                .expect("due")
        )
        .is_empty()
    );
    let due = mine(s.deadlines_due(None, far).await.expect("due"));
    assert_eq!(due.len(), 1, "still due");
    assert!(s.leave_due_index(&due[0]).await.expect("left"));
    assert!(!s.leave_due_index(&due[0]).await.expect("again"), "once");
    assert!(mine(s.deadlines_due(None, far).await.expect("due")).is_empty());
}

pub async fn overdue_entries_are_written_once_and_listed_latest_due_first<S: Subject>(s: &S) {
    let supervisor = bid("land-330100");
    let entry = |clue: &str, due: DateTime<Utc>| OverdueEntry {
        supervisor: supervisor.clone(),
        clue_id: cid(clue),
        clue_no: domain::ClueNo::parse("330106-20260504-0001").expect("no"),
        kind: DeadlineKind::Judgment,
        bureau: bid("land-330106"),
        due,
        recorded_at: due + Duration::hours(1),
    };
    let (a, b) = (entry("cf-od-a", at(9, 1)), entry("cf-od-b", at(9, 2)));
    assert!(s.put_overdue_entry(&a).await.expect("put"));
    assert!(!s.put_overdue_entry(&a).await.expect("again"), "once");
    assert!(s.put_overdue_entry(&b).await.expect("put"));
    let first = s.overdue_entries(&supervisor, 1, None).await.expect("page");
    assert_eq!(first.items.len(), 1);
    assert_eq!(first.items[0], b);
    let next = first.next.expect("more");
    let second = s
        .overdue_entries(&supervisor, 1, Some(&next))
        .await
        .expect("page");
    assert_eq!(second.items, [a]);
    assert!(matches!(
        s.overdue_entries(&supervisor, 1, Some("not-a-cursor"))
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(
        s.overdue_entries(&bid("land-330000"), 10, None)
            .await
            .expect("province")
            .items
            .iter()
            .all(|e| e.clue_id != b.clue_id)
    );
}

pub async fn a_reminder_reaches_the_bound_officers_once_and_is_read_for_its_bureau<S: Subject>(
    s: &S,
) {
    let bound = officer("cf-rem-bound", "land-330110", &[Role::Handler]);
    let other = officer("cf-rem-other", "land-330110", &[Role::Handler]);
    let code = BindingCode::from_random([5, 5, 3, 1, 7, 2, 9, 4]);
    s.issue_binding_code(&bound, &code, at(6, 1))
        .await
        .expect("code");
    s.redeem_binding_code(&code, "oCfReminderOpenid01", at(6, 1))
        .await
        .expect("redeem")
        .expect("bound");
    let binding = s
        .wechat_binding(&bound.id)
        .await
        .expect("binding")
        .expect("bound");
    assert_eq!(binding.bureau, bid("land-330110"));
    assert!(!binding.openid_masked.contains("oCfReminderOpenid01"));

    let clue = cid("cf-rem-clue");
    let no = domain::ClueNo::parse("330110-20260601-0001").expect("no");
    let reminder = |recipient, kind, h| {
        Reminder::new(
            recipient,
            clue.clone(),
            no.clone(),
            kind,
            DeadlineKind::Judgment,
            at(6, 10),
            at(6, 2) + Duration::hours(h),
        )
    };
    let to_bureau = reminder(
        ReminderRecipient::Bureau {
            bureau: bid("land-330110"),
        },
        ReminderKind::DueSoon,
        1,
    );
    let to_other = reminder(
        ReminderRecipient::Officer {
            officer: other.id.clone(),
            bureau: other.bureau.clone(),
        },
        ReminderKind::Overdue,
        2,
    );
    let issued = s.issue_reminder(&to_bureau).await.expect("issued");
    assert!(issued.created);
    assert_eq!(issued.deliveries.len(), 1, "only the bound officer");
    assert_eq!(issued.deliveries[0], bound.id);
    let again = s.issue_reminder(&to_bureau).await.expect("again");
    assert!(!again.created && again.deliveries.is_empty());
    let console_only = s.issue_reminder(&to_other).await.expect("issued");
    assert!(console_only.deliveries.is_empty());
    assert_eq!(
        s.reminder(&to_other.id)
            .await
            .expect("read")
            .expect("stored")
            .channel(),
        "console_only"
    );

    // The other officer sees the bureau's and their own, newest first, a page at a time.
    let page = s.reminders_for(&other, 1, None).await.expect("page");
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].reminder.id, to_other.id);
    let next: Option<ReminderCursor> = page.next;
    let page = s
        .reminders_for(&other, 1, next.as_ref())
        .await
        .expect("page");
    assert_eq!(page.items[0].reminder.id, to_bureau.id);
    assert_eq!(
        s.reminders_for(&bound, 10, None)
            .await
            .expect("page")
            .items
            .len(),
        1,
        "not the other officer's own"
    );

    assert_eq!(s.unread_reminders(&other).await.expect("unread"), 2);
    let read = s
        .mark_reminder_read(&other, &to_bureau.id, at(6, 3))
        .await
        .expect("read");
    assert_eq!(read.read_by, Some(other.id.clone()));
    let later = s
        .mark_reminder_read(&bound, &to_bureau.id, at(6, 4))
        .await
        .expect("read again");
    assert_eq!(later.read_at, Some(at(6, 3)), "the first read is kept");
    assert_eq!(
        s.unread_reminders(&bound).await.expect("unread"),
        0,
        "read for the bureau"
    );
    assert!(matches!(
        s.mark_reminder_read(&bound, &to_other.id, at(6, 4)).await,
        Err(StoreError::NotFound(_))
    ));

    let outbox: Vec<_> = s
        .undelivered_reminders(at(6, 3))
        .await
        .expect("outbox")
        .into_iter()
        .filter(|e| e.reminder == to_bureau.id)
        .map(|e| (e.officer, e.attempted))
        .collect();
    assert_eq!(outbox, [(bound.id.clone(), false)]);
    assert!(
        s.undelivered_reminders(to_bureau.created_at)
            .await
            .expect("outbox")
            .iter()
            .all(|e| e.reminder != to_bureau.id),
        "only those created before"
    );

    assert!(s.unbind_wechat(&bound.id).await.expect("unbind"));
    assert!(!s.unbind_wechat(&bound.id).await.expect("again"));
    assert_eq!(s.wechat_binding(&bound.id).await.expect("binding"), None);
}

pub async fn the_console_counts_the_inbox_and_sees_a_disabled_account<S: Subject>(s: &S) {
    let o = officer("cf-console", "land-330203", &[Role::Handler]);
    assert_eq!(s.officer_account_state(&o.id).await.expect("state"), None);
    s.put_officer(&o).await.expect("officer");
    assert_eq!(
        s.officer_account_state(&o.id).await.expect("state"),
        Some((o.clone(), true))
    );
    assert!(s.set_officer_disabled(&o.id, true).await.expect("disable"));
    assert_eq!(
        s.officer_account_state(&o.id).await.expect("state"),
        Some((o.clone(), false))
    );

    let bureau = bid("land-330110");
    let before = s.inbox_counts(&bureau).await.expect("counts");
    assert_eq!(before.len(), 5, "every state");
    receive(s, "cf-console-a", 303, "330110", at(5, 6)).await;
    let after = s.inbox_counts(&bureau).await.expect("counts");
    assert_eq!(after["received"], before["received"] + 1);
    assert_eq!(after["accepted"], before["accepted"]);
}

pub async fn a_supervision_is_listed_for_the_bureau_that_opened_it_and_the_one_that_answers<
    S: Subject,
>(
    s: &S,
) {
    let r = receive(s, "cf-sup-a", 304, "330106", at(5, 11)).await;
    let city = officer("cf-sup-city", "land-330100", &[Role::Supervisor]);
    let note = Reason::parse("请加快办理并报告进展").expect("note");
    s.execute(
        &r.clue_id,
        Command::Supervise {
            due_on: NaiveDate::from_ymd_opt(2026, 5, 29).expect("day"),
            note,
        },
        &as_officer(&city),
        at(5, 12),
        &key("cf-sup-1"),
    )
    .await
    .expect("supervise");
    let by = s
        .supervisions_by(&bid("land-330100"), 100, None)
        .await
        .expect("by");
    let mine: Vec<_> = by.items.iter().filter(|e| e.clue_id == r.clue_id).collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].handler, bid("land-330106"));
    assert!(
        s.supervisions_of(&bid("land-330106"))
            .await
            .expect("of")
            .iter()
            .any(|e| e.clue_id == r.clue_id)
    );
    assert!(
        s.supervisions_of(&bid("land-330110"))
            .await
            .expect("of")
            .iter()
            .all(|e| e.clue_id != r.clue_id)
    );
    assert!(matches!(
        s.supervisions_by(&bid("land-330100"), 1, Some("x")).await,
        Err(StoreError::Invalid(_))
    ));
}

pub async fn a_filed_scope_version_is_listed_for_its_province_and_acknowledged_once<S: Subject>(
    s: &S,
) {
    let city = code("330100");
    let history = s.scope_history(city).await.expect("history");
    let mut next = history.in_force(at(7, 1)).clone();
    next.version = history.versions().len() as u32 + 1;
    next.effective_from = at(7, 1);
    next.filing = Some(Filing {
        province: code("330000"),
        filed_on: NaiveDate::from_ymd_opt(2026, 6, 20).expect("day"),
        reference: "浙自然资函〔2026〕1号".to_owned(),
    });
    s.add_scope_version(next.clone()).await.expect("filed");
    let filed = s.filed_scopes(&city).await.expect("filed");
    let last = filed.last().expect("one");
    assert_eq!(last.scope, next);
    assert_eq!(last.acknowledged, None);
    assert!(
        s.province_filings(&code("330000"))
            .await
            .expect("province")
            .iter()
            .any(|f| f.scope == next)
    );

    let (first, second) = (
        officer("cf-ack-1", "land-330000", &[Role::Supervisor]),
        officer("cf-ack-2", "land-330000", &[Role::Supervisor]),
    );
    let acked = s
        .acknowledge_filing(&city, next.version, &first, at(7, 2))
        .await
        .expect("ack");
    let ack = acked.acknowledged.clone().expect("acknowledged");
    assert_eq!((ack.by, ack.at), (first.id.clone(), at(7, 2)));
    let again = s
        .acknowledge_filing(&city, next.version, &second, at(7, 3))
        .await
        .expect("ack");
    assert_eq!(again.acknowledged, acked.acknowledged, "the first is kept");
    assert!(matches!(
        s.acknowledge_filing(&city, next.version + 5, &first, at(7, 3))
            .await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn a_bulletin_is_versioned_issued_once_and_read_once_per_recipient<S: Subject>(s: &S) {
    let city = officer("cf-bl-city", "land-330100", &[Role::Supervisor]);
    let id = BulletinId::derive(&city.bureau, "cf-bl-1");
    let mut b = Bulletin::draft(
        id.clone(),
        &city,
        "五月通报".to_owned(),
        Period::new(
            NaiveDate::from_ymd_opt(2026, 5, 1).expect("day"),
            NaiveDate::from_ymd_opt(2026, 5, 31).expect("day"),
        )
        .expect("period"),
        Snapshot::default(),
        vec![bid("land-330106"), bid("land-330110")],
        at(6, 1),
    );
    assert_eq!(
        s.create_bulletin(&b, "cf-bl-1").await.expect("create"),
        Written::Done
    );
    assert_eq!(
        s.create_bulletin(&b, "cf-bl-1").await.expect("again"),
        Written::Replayed
    );
    let seen = b.version;
    b.review(&city).expect("review");
    assert!(matches!(
        s.update_bulletin(&b, seen + 7, "cf-bl-2").await,
        Err(StoreError::Conflict)
    ));
    s.update_bulletin(&b, seen, "cf-bl-2")
        .await
        .expect("review");
    let (stored, last_key) = s.bulletin(&id).await.expect("read").expect("exists");
    assert_eq!(
        (stored.status, last_key.as_str()),
        (BulletinStatus::Reviewed, "cf-bl-2")
    );
    assert!(
        s.bulletins_to(&bid("land-330106"))
            .await
            .expect("to")
            .iter()
            .all(|r| r.bulletin.id != id),
        "not before issue"
    );

    let seen = b.version;
    b.issue(&city, at(6, 2)).expect("issue");
    s.update_bulletin(&b, seen, "cf-bl-3").await.expect("issue");
    assert!(
        s.bulletins_of(&city.bureau)
            .await
            .expect("of")
            .iter()
            .any(|x| x.id == id)
    );
    let to: Vec<_> = s
        .bulletins_to(&bid("land-330106"))
        .await
        .expect("to")
        .into_iter()
        .filter(|r| r.bulletin.id == id)
        .collect();
    assert_eq!(to.len(), 1);
    assert_eq!(to[0].read, None);

    let reader = officer("cf-bl-reader", "land-330106", &[Role::Handler]);
    assert!(
        s.record_bulletin_read(&id, &reader.bureau, &reader.id, at(6, 3))
            .await
            .expect("read")
    );
    assert!(
        !s.record_bulletin_read(&id, &reader.bureau, &reader.id, at(6, 4))
            .await
            .expect("again")
    );
    assert!(matches!(
        s.record_bulletin_read(&id, &bid("land-330203"), &reader.id, at(6, 4))
            .await,
        Err(StoreError::NotFound(_))
    ));
    let receipts = s.bulletin_receipts(&id).await.expect("receipts");
    assert_eq!(receipts.len(), 2);
    let read: Vec<_> = receipts
        .iter()
        .map(|(bureau, r)| {
            (
                bureau.clone(),
                r.as_ref().map(|r| (r.officer.clone(), r.at)),
            )
        })
        .collect();
    assert_eq!(
        read,
        [
            (bid("land-330106"), Some((reader.id.clone(), at(6, 3)))),
            (bid("land-330110"), None)
        ]
    );
}

pub async fn an_export_job_advances_until_it_ends<S: Subject>(s: &S) {
    let o = officer("cf-ex", "land-330100", &[Role::Supervisor]);
    let job = ExportJob::queued(
        o.bureau.clone(),
        o.id.clone(),
        BulletinId::derive(&o.bureau, "cf-ex-bl"),
        "csv",
        "cf-ex-1",
        at(6, 5),
    );
    assert!(s.create_export_job(&job).await.expect("create"));
    assert!(!s.create_export_job(&job).await.expect("again"), "once");
    assert_eq!(
        s.export_job(&job.id).await.expect("read"),
        Some(job.clone())
    );
    s.export_progress(&job.id, 10, at(6, 6))
        .await
        .expect("progress");
    let running = s.export_job(&job.id).await.expect("read").expect("job");
    assert_eq!((running.status, running.rows), (ExportStatus::Running, 10));
    s.export_done(&job.id, 12, Some("exports/x.csv"), at(6, 7))
        .await
        .expect("done");
    let ready = s.export_job(&job.id).await.expect("read").expect("job");
    assert_eq!(
        (
            ready.status,
            ready.rows,
            ready.file_key.as_deref(),
            ready.updated_at
        ),
        (ExportStatus::Ready, 12, Some("exports/x.csv"), at(6, 7))
    );
    assert!(matches!(
        s.export_progress(&job.id, 13, at(6, 8)).await,
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        s.export_done("ex-000000000000000000000000", 0, None, at(6, 8))
            .await,
        Err(StoreError::Conflict)
    ));
}

pub async fn the_day_counters_add_up_to_the_period_sums<S: Subject>(s: &S) {
    receive(s, "cf-days-a", 305, "330110", at(3, 3)).await;
    receive(s, "cf-days-b", 306, "330110", at(3, 5)).await;
    let cell = code("330110");
    let to = NaiveDate::from_ymd_opt(2026, 3, 31).expect("day");
    let days = s.stat_days(&cell, to).await.expect("days");
    assert!(days.keys().all(|d| *d <= to));
    let mut sum = std::collections::BTreeMap::<String, i64>::new();
    for counters in days.values() {
        for (metric, n) in counters {
            *sum.entry(metric.clone()).or_default() += n;
        }
    }
    let from = NaiveDate::from_ymd_opt(2000, 1, 1).expect("day");
    let stats = s.read_stats(&cell, from, to).await.expect("stats");
    sum.retain(|_, n| *n != 0);
    let stats: std::collections::BTreeMap<_, _> =
        stats.into_iter().filter(|(_, n)| *n != 0).collect();
    assert_eq!(sum, stats);
    assert!(!sum.is_empty());
    let both = s
        .stat_days_of(&[cell, code("330106")], to)
        .await
        .expect("cells");
    assert_eq!(both.len(), 2);
    assert_eq!(both[&cell], days);
}

pub async fn a_notice_is_attempted_by_one_instance_and_its_delivery_recorded_once<S: Subject>(
    s: &S,
) {
    let r = receive(s, "cf-dlv-a", 307, "330106", at(5, 18)).await;
    let notice = s.clue(&r.clue_id).await.expect("clue").clue.notices[0]
        .record
        .id
        .clone();
    let first = s.delivery(&r.clue_id, &notice).await.expect("delivery");
    assert_eq!(first.openid, identity(307).openid);
    assert_eq!(first.attempt, None);
    assert!(matches!(
        s.delivery(&cid("cf-dlv-none"), &notice).await,
        Err(StoreError::NotFound(_))
    ));

    let mut attempt = SendAttempt::begin(&r.clue_id, &notice, None, "a1".into(), at(5, 18));
    s.begin_attempt(None, &attempt).await.expect("begin");
    let rival = SendAttempt::begin(&r.clue_id, &notice, None, "a2".into(), at(5, 18));
    assert!(
        matches!(
            s.begin_attempt(None, &rival).await,
            Err(StoreError::Conflict)
        ),
        "another instance is on it"
    );
    let read = s.delivery(&r.clue_id, &notice).await.expect("delivery");
    assert_eq!(read.attempt.as_ref(), Some(&attempt));

    attempt.attempt.sent("msg-1".into());
    attempt.attempt.finish(at(5, 18) + Duration::seconds(1));
    assert!(matches!(
        s.finish_attempt(&read, &rival, None, at(5, 18)).await,
        Err(StoreError::Conflict)
    ));
    let sent = DeliveryStatus::Sent {
        msgid: "msg-1".into(),
        possible_duplicate: false,
    };
    s.finish_attempt(&read, &attempt, Some(sent.clone()), at(5, 18))
        .await
        .expect("finish");
    let after = s.delivery(&r.clue_id, &notice).await.expect("delivery");
    assert_eq!(after.notice.delivery, sent);
    assert_eq!(after.attempt.as_ref(), Some(&attempt));
    let version = after.stored.clue.version;
    // Recorded again (a redelivered message): the delivery is final, the clue unchanged.
    s.finish_attempt(&after, &attempt, Some(sent), at(5, 19))
        .await
        .expect("again");
    assert_eq!(
        s.clue(&r.clue_id).await.expect("clue").clue.version,
        version
    );
    assert!(
        s.undelivered_notices(at(12, 1))
            .await
            .expect("outbox")
            .iter()
            .all(|e| e.notice != notice),
        "delivered: out of the outbox"
    );
}

pub async fn a_reminder_delivery_is_attempted_once_and_its_outcome_shown_on_the_reminder<
    S: Subject,
>(
    s: &S,
) {
    let o = officer("cf-rdl", "land-330203", &[Role::Handler]);
    let code = BindingCode::from_random([8, 6, 4, 2, 1, 3, 5, 7]);
    s.issue_binding_code(&o, &code, at(6, 1))
        .await
        .expect("code");
    s.redeem_binding_code(&code, "oCfReminderDelivery01", at(6, 1))
        .await
        .expect("redeem")
        .expect("bound");
    let reminder = Reminder::new(
        ReminderRecipient::Officer {
            officer: o.id.clone(),
            bureau: o.bureau.clone(),
        },
        cid("cf-rdl-clue"),
        domain::ClueNo::parse("330203-20260601-0001").expect("no"),
        ReminderKind::Overdue,
        DeadlineKind::Judgment,
        at(6, 10),
        at(6, 11),
    );
    s.issue_reminder(&reminder).await.expect("issued");
    let d = s
        .reminder_delivery(&reminder.id, &o.id)
        .await
        .expect("delivery");
    assert_eq!(d.openid.as_deref(), Some("oCfReminderDelivery01"));
    assert_eq!(
        (d.status.clone(), d.attempt.clone()),
        (ReminderDeliveryStatus::Queued, None)
    );
    let stranger = domain::OfficerId::parse("cf-rdl-stranger").expect("id");
    assert!(matches!(
        s.reminder_delivery(&reminder.id, &stranger).await,
        Err(StoreError::NotFound(_))
    ));

    let mut attempt = ReminderAttempt::begin(None, "r1".into(), at(6, 11));
    s.begin_reminder_attempt(&d, &attempt).await.expect("begin");
    let rival = ReminderAttempt::begin(None, "r2".into(), at(6, 11));
    assert!(matches!(
        s.begin_reminder_attempt(&d, &rival).await,
        Err(StoreError::Conflict)
    ));
    assert!(
        s.undelivered_reminders(at(6, 12))
            .await
            .expect("outbox")
            .iter()
            .any(|e| e.reminder == reminder.id && e.attempted),
        "attempted, not final"
    );
    attempt.sent("wx-1".into());
    let sent = ReminderDeliveryStatus::Sent {
        msgid: "wx-1".into(),
        possible_duplicate: false,
    };
    assert!(matches!(
        s.finish_reminder_attempt(&d, &rival, &sent).await,
        Err(StoreError::Conflict)
    ));
    s.finish_reminder_attempt(&d, &attempt, &sent)
        .await
        .expect("finish");
    let shown = s
        .reminder(&reminder.id)
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(shown.deliveries.get(o.id.as_str()), Some(&sent));
    assert!(
        s.undelivered_reminders(at(6, 12))
            .await
            .expect("outbox")
            .iter()
            .all(|e| e.reminder != reminder.id),
        "final: out of the outbox"
    );
}

pub async fn an_account_locks_after_failures_and_its_codes_and_tokens_are_used_once<S: Subject>(
    s: &S,
) {
    let o = officer("cf-acc", "land-330106", &[Role::Handler]);
    assert!(
        s.create_officer_account(&o, "cf-acc-user", "hash-1")
            .await
            .expect("create")
    );
    assert!(
        !s.create_officer_account(&o, "cf-acc-other", "hash-1")
            .await
            .expect("taken id")
    );
    let other = officer("cf-acc-2", "land-330106", &[Role::Handler]);
    assert!(
        !s.create_officer_account(&other, "cf-acc-user", "h")
            .await
            .expect("taken name")
    );
    let account = s
        .account_by_username("cf-acc-user")
        .await
        .expect("read")
        .expect("account");
    assert_eq!(
        (account.id.clone(), account.must_change_password),
        (o.id.clone(), true)
    );
    assert_eq!(s.account(&o.id).await.expect("read"), Some(account));
    assert_eq!(
        s.active_officer(&o.id).await.expect("read"),
        Some(o.clone())
    );

    // Two failures are counted, the third locks (whole seconds) and starts the count again.
    let now = at(6, 20) + Duration::milliseconds(500);
    let lock = Duration::minutes(15);
    for n in 1..=2 {
        assert_eq!(
            s.record_sign_in_failure(&o.id, now, 3, lock)
                .await
                .expect("fail"),
            Failure::Counted(n)
        );
    }
    assert_eq!(
        s.record_sign_in_failure(&o.id, now, 3, lock)
            .await
            .expect("fail"),
        Failure::Locked(now + lock)
    );
    let locked = s.account(&o.id).await.expect("read").expect("account");
    assert_eq!(
        (locked.failures, locked.locked_until),
        (0, Some(at(6, 20) + lock))
    );
    assert!(matches!(
        s.record_sign_in_failure(&other.id, now, 3, lock).await,
        Err(StoreError::NotFound(_))
    ));

    // TOTP: pending, confirmed with a step, a step used once.
    assert!(s.set_totp_pending(&o.id, "SECRET1").await.expect("pending"));
    assert!(!s.confirm_totp(&o.id, "OTHER", 10).await.expect("confirm"));
    assert!(s.confirm_totp(&o.id, "SECRET1", 10).await.expect("confirm"));
    let enrolled = s.account(&o.id).await.expect("read").expect("account");
    assert_eq!(
        (
            enrolled.totp_secret.as_deref(),
            enrolled.totp_pending,
            enrolled.locked_until
        ),
        (Some("SECRET1"), None, None)
    );
    assert!(
        !s.record_sign_in_success(&o.id, 10).await.expect("replay"),
        "a step once"
    );
    assert!(s.record_sign_in_success(&o.id, 11).await.expect("success"));
    assert!(
        s.set_password(&o.id, "hash-2", false)
            .await
            .expect("password")
    );
    assert!(s.reset_totp(&o.id).await.expect("reset"));
    let reset = s.account(&o.id).await.expect("read").expect("account");
    assert_eq!(
        (
            reset.password_hash.as_str(),
            reset.must_change_password,
            reset.totp_secret
        ),
        ("hash-2", false, None)
    );
    assert!(
        !s.set_password(&other.id, "h", false)
            .await
            .expect("no account")
    );

    // Refresh tokens and challenges are used once.
    s.put_refresh_token("cf-refresh", &o.id, at(6, 21))
        .await
        .expect("put");
    assert_eq!(
        s.take_refresh_token("cf-refresh", at(6, 21))
            .await
            .expect("expired"),
        None
    );
    s.put_refresh_token("cf-refresh-2", &o.id, at(6, 21))
        .await
        .expect("put");
    assert_eq!(
        s.take_refresh_token("cf-refresh-2", at(6, 20))
            .await
            .expect("take"),
        Some(o.id.clone())
    );
    assert_eq!(
        s.take_refresh_token("cf-refresh-2", at(6, 20))
            .await
            .expect("again"),
        None
    );
    let challenge = Challenge {
        officer: o.id.clone(),
        purpose: "totp".into(),
        expires_at: at(6, 20) + Duration::minutes(5),
    };
    s.put_challenge("cf-challenge", &challenge)
        .await
        .expect("put");
    assert_eq!(
        s.take_challenge("cf-challenge").await.expect("take"),
        Some(challenge)
    );
    assert_eq!(s.take_challenge("cf-challenge").await.expect("again"), None);

    // Disabled: not active, still there for administration.
    assert!(s.set_officer_disabled(&o.id, true).await.expect("disable"));
    assert_eq!(s.active_officer(&o.id).await.expect("read"), None);
    assert_eq!(
        s.officer_of_any_state(&o.id).await.expect("read"),
        Some(o.clone())
    );
    assert!(!s.set_officer_disabled(&other.id, true).await.expect("none"));

    // The audit log of a day, oldest first, to the millisecond.
    let entry = |ms: i64, kind: &'static str| AuditEntry {
        at: at(6, 22) + Duration::milliseconds(ms),
        kind,
        officer: Some(o.id.clone()),
        actor: None,
        detail: "cf".into(),
    };
    s.audit(&entry(900, "sign_in")).await.expect("audit");
    s.audit(&entry(100, "locked")).await.expect("audit");
    let day = s.audit_of_day(at(6, 22).date_naive()).await.expect("day");
    let mine: Vec<_> = day
        .iter()
        .filter(|e| e.detail == "cf")
        .map(|e| (e.at, e.kind))
        .collect();
    assert_eq!(
        mine,
        [
            (entry(100, "").at, "locked"),
            (entry(900, "").at, "sign_in")
        ]
    );
}
