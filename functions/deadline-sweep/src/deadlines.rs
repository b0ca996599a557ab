//! The deadline part of the sweep (WORKFLOW §10): pending deadlines resolved once the calendar
//! covers their year, a reminder one working day before each open deadline, and each missed
//! deadline recorded once with reminders to the handler and the bureau's leaders and an overdue
//! entry for the supervising bureau (for a 督办 deadline, the bureau that opened the supervision).
//!
//! It reads only the store's sparse indexes (`PENDING`, `REMIND` up to now, `DUE` up to now),
//! and each entry leaves its index once handled, so a run's work is what is due, never the
//! number of open clues. Every write is idempotent (stable reminder ids, conditional overdue
//! entries, commands with stable idempotency keys): two runs in a row or at once send and
//! record everything once. A failure on one deadline is logged and counted, and the entry stays
//! in its index for the next run; the others go on.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use domain::deadline;
use domain::reminder::{Reminder, ReminderKind, ReminderRecipient};
use domain::{Actor, Clue, Command, DeadlineKind, DomainError, Role};
use outbox::{NoticeQueue, enqueue_reminders_after_commit};
use serde::Serialize;
use store::sweep::OverdueEntry;
use store::{
    CalendarYears, ClueCommands, ClueReads, DeadlineEntry, DeadlineIndex, Directory,
    IdempotencyKey, ReminderIssuer, StoreError, SweepIndex,
};

/// The store roles the deadline part uses.
pub trait SweepStore:
    ClueCommands + ClueReads + DeadlineIndex + Directory + CalendarYears + SweepIndex + ReminderIssuer
{
}

impl<T> SweepStore for T where
    T: ClueCommands
        + ClueReads
        + DeadlineIndex
        + Directory
        + CalendarYears
        + SweepIndex
        + ReminderIssuer
{
}
use tracing::{info, warn};

use crate::SweepError;

/// What the deadline part of one run did.
#[derive(Debug, Serialize, PartialEq, Eq, Default, Clone)]
pub struct DeadlineReport {
    /// Reminders issued for the first time (due soon, overdue, supervision).
    pub reminders: u32,
    /// Missed deadlines recorded.
    pub missed: u32,
    /// Overdue entries written for supervising bureaus.
    pub overdue_entries: u32,
    /// Clues whose pending deadlines were resolved.
    pub resolved: u32,
    /// Deadlines that failed this run (left for the next).
    pub failures: u32,
    /// From 1 November, next year while the calendar has no data for it (the alarm's metric).
    pub calendar_next_year_missing: Option<i32>,
}

/// One run of the deadline part at `now`.
///
/// # Errors
/// [`SweepError::Store`] when the calendar or an index cannot be read (nothing else stops it).
pub async fn sweep_deadlines<S: SweepStore, Q: NoticeQueue>(
    store: &S,
    queue: &Q,
    now: DateTime<Utc>,
) -> Result<DeadlineReport, SweepError> {
    let calendar = store.calendar().await.map_err(SweepError::Store)?;
    let mut report = DeadlineReport {
        calendar_next_year_missing: calendar.next_year_missing(now),
        ..DeadlineReport::default()
    };

    let pending = store.pending_deadlines().await.map_err(SweepError::Store)?;
    let mut done = BTreeSet::new();
    for entry in pending {
        if done.contains(&entry.clue) || deadline::resolve(&entry.deadline, &calendar).is_err() {
            continue;
        }
        done.insert(entry.clue.clone());
        match resolve(store, &entry, now).await {
            Ok(true) => report.resolved += 1,
            Ok(false) => {}
            Err(e) => failed(&mut report, &entry, "resolve", &e),
        }
    }

    let remind = store
        .reminders_due(DateTime::<Utc>::MIN_UTC, now)
        .await
        .map_err(SweepError::Store)?;
    for entry in remind {
        match due_soon(store, queue, &entry, now).await {
            Ok(n) => report.reminders += n,
            Err(e) => failed(&mut report, &entry, "due_soon", &e),
        }
    }

    let due = store
        .deadlines_due(None, now)
        .await
        .map_err(SweepError::Store)?;
    for entry in due.into_iter().filter(|e| e.deadline.is_overdue(now)) {
        match overdue(store, queue, &entry, now).await {
            Ok(o) => {
                report.reminders += o.reminders;
                report.missed += u32::from(o.missed);
                report.overdue_entries += u32::from(o.entry);
            }
            Err(e) => failed(&mut report, &entry, "overdue", &e),
        }
    }
    Ok(report)
}

fn failed(report: &mut DeadlineReport, entry: &DeadlineEntry, part: &str, e: &StoreError) {
    report.failures += 1;
    warn!(
        clue = %entry.clue,
        kind = entry.kind().code(),
        part,
        code = e.code(),
        error = %e,
        "deadline left for the next sweep"
    );
}

fn key(parts: &[&str]) -> Result<IdempotencyKey, StoreError> {
    IdempotencyKey::parse(&parts.join(":"))
}

fn millis(t: DateTime<Utc>) -> String {
    t.timestamp_millis().to_string()
}

/// Whether the store refused the command because it is already done (another run won), or
/// another writer changed the clue first (if that was not a sweep, the entry is still in its
/// index and the next run does it).
fn already_done(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Conflict
            | StoreError::Domain(
                DomainError::NotYetDue
                    | DomainError::InvalidTransition { .. }
                    | DomainError::YearNotCovered(_)
            )
    )
}

async fn resolve<S: SweepStore>(
    store: &S,
    entry: &DeadlineEntry,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let k = key(&[
        "sweep-resolve",
        entry.clue.as_str(),
        entry.kind().code(),
        &millis(entry.deadline.starts_at),
    ])?;
    match store
        .execute(
            &entry.clue,
            Command::ResolveDeadlines,
            &Actor::System,
            now,
            &k,
        )
        .await
    {
        Ok(outcome) => Ok(!outcome.replayed),
        Err(e) if already_done(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Who handles the deadline: the assigned officer when the clue is with the owing bureau and
/// someone is assigned, else the bureau's handling officers.
fn handler(clue: &Clue, entry: &DeadlineEntry) -> ReminderRecipient {
    let bureau = entry.bureau().clone();
    match &clue.assignee {
        Some(officer) if clue.handler == bureau => ReminderRecipient::Officer {
            officer: officer.clone(),
            bureau,
        },
        _ => ReminderRecipient::Bureau { bureau },
    }
}

async fn issue<S: SweepStore, Q: NoticeQueue>(
    store: &S,
    queue: &Q,
    reminder: &Reminder,
) -> Result<u32, StoreError> {
    let issued = store.issue_reminder(reminder).await?;
    if !issued.created {
        return Ok(0);
    }
    let messages = issued.messages();
    if !messages.is_empty() && !enqueue_reminders_after_commit(queue, messages).await {
        // The deliveries are in the reminder outbox: the next run enqueues them again.
        warn!(reminder = %reminder.id, "reminder not enqueued; the outbox part retries");
    }
    Ok(1)
}

async fn due_soon<S: SweepStore, Q: NoticeQueue>(
    store: &S,
    queue: &Q,
    entry: &DeadlineEntry,
    now: DateTime<Utc>,
) -> Result<u32, StoreError> {
    let mut sent = 0;
    if let Some(due) = entry.deadline.due
        && now <= due
        && entry.kind().overdue_is_reported()
    {
        let clue = store.clue(&entry.clue).await?.clue;
        let reminder = Reminder::new(
            handler(&clue, entry),
            entry.clue.clone(),
            entry.clue_no.clone(),
            ReminderKind::DueSoon,
            entry.kind(),
            due,
            now,
        );
        sent = issue(store, queue, &reminder).await?;
    }
    store.reminded(entry).await?;
    Ok(sent)
}

struct Overdue {
    reminders: u32,
    missed: bool,
    entry: bool,
}

async fn overdue<S: SweepStore, Q: NoticeQueue>(
    store: &S,
    queue: &Q,
    entry: &DeadlineEntry,
    now: DateTime<Utc>,
) -> Result<Overdue, StoreError> {
    let mut out = Overdue {
        reminders: 0,
        missed: false,
        entry: false,
    };
    let Some(due) = entry.deadline.due else {
        return Ok(out);
    };
    if !entry.kind().overdue_is_reported() {
        // Nothing to record (an escalation deadline binds only a bureau that escalates).
        store.leave_due_index(entry).await?;
        return Ok(out);
    }
    let clue = store.clue(&entry.clue).await?.clue;
    let bureau = entry.bureau().clone();
    let reminder = |recipient, kind| {
        Reminder::new(
            recipient,
            entry.clue.clone(),
            entry.clue_no.clone(),
            kind,
            entry.kind(),
            due,
            now,
        )
    };
    // The handler and, when one officer handles it, each of the bureau's leaders (a bureau's
    // reminder already reaches them).
    let mut recipients = vec![handler(&clue, entry)];
    if let ReminderRecipient::Officer { officer, .. } = &recipients[0] {
        let assignee = officer.clone();
        for leader in store.bureau_officers(&bureau).await? {
            if leader.has(Role::Leader) && leader.id != assignee {
                recipients.push(ReminderRecipient::Officer {
                    officer: leader.id,
                    bureau: bureau.clone(),
                });
            }
        }
    }
    for r in recipients {
        out.reminders += issue(store, queue, &reminder(r, ReminderKind::Overdue)).await?;
    }
    // The supervising bureau: for a supervision (督办), the bureau that opened it; else the
    // city for a county, the province for a city, the ministry for a province.
    let directory = store.bureaus().await?;
    let supervisor = match (entry.kind(), clue.open_supervision()) {
        (DeadlineKind::Supervision, Some(open)) => Ok(open.by.clone()),
        _ => directory
            .escalation_parent(&bureau)
            .map(|parent| parent.id.clone()),
    };
    match supervisor {
        Ok(supervisor) => {
            out.entry = store
                .put_overdue_entry(&OverdueEntry {
                    supervisor: supervisor.clone(),
                    clue_id: entry.clue.clone(),
                    clue_no: entry.clue_no.clone(),
                    kind: entry.kind(),
                    bureau: bureau.clone(),
                    due,
                    recorded_at: now,
                })
                .await?;
            let to = ReminderRecipient::Bureau { bureau: supervisor };
            out.reminders += issue(store, queue, &reminder(to, ReminderKind::Supervision)).await?;
        }
        Err(_) => info!(bureau = %bureau, "no supervising bureau (the ministry's own deadline)"),
    }
    // Last: recording the miss takes the deadline out of the due index in the same
    // transaction, so everything above is retried until this succeeds.
    let k = key(&[
        "sweep-missed",
        entry.clue.as_str(),
        entry.kind().code(),
        &millis(due),
    ])?;
    match store
        .execute(
            &entry.clue,
            Command::RecordMissed { kind: entry.kind() },
            &Actor::System,
            now,
            &k,
        )
        .await
    {
        Ok(outcome) => out.missed = !outcome.replayed,
        Err(e) if already_done(&e) => {}
        Err(e) => return Err(e),
    }
    Ok(out)
}
