//! The scheduled sweep. Each part reads one sparse index of the store and acts on what is due.
//!
//! # Layout
//! - [`deadlines`]: pending deadlines resolved, reminders one working day ahead, missed
//!   deadlines recorded with reminders and the supervising bureau's overdue entry.
//! - [`outbox`]: notices and reminders whose queue message was lost are enqueued again.
//! - [`metric`]: the calendar warning as a CloudWatch metric (embedded metric format).
//! - [`sweep`] / [`SweepReport`]: one run at a given instant.

pub mod deadlines;
pub mod metric;
pub mod outbox;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use crate::deadlines::{DeadlineReport, SweepStore, sweep_deadlines};
pub use crate::outbox::{Outbox, requeue_lost_notices, requeue_lost_reminders};

/// What one run did.
#[derive(Debug, Serialize, PartialEq, Eq, Default)]
pub struct SweepReport {
    pub swept_at: DateTime<Utc>,
    /// Reminders issued for the first time this run.
    pub reminders: u32,
    pub missed: u32,
    pub overdue_entries: u32,
    pub resolved: u32,
    /// Deadlines that failed this run (retried by the next).
    pub failures: u32,
    /// From 1 November, next year while the calendar has no data for it.
    pub calendar_next_year_missing: Option<i32>,
    pub requeued_notices: u32,
    pub requeued_reminders: u32,
}

/// Why a run stopped; the next scheduled run starts again from the indexes.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("reading the store failed")]
    Store(#[source] store::StoreError),
}

/// One sweep at `now`: the deadline part, then the outbox part (which also enqueues again what
/// the deadline part could not).
///
/// # Errors
/// [`SweepError`] when an index or the calendar cannot be read.
pub async fn sweep<S, Q>(
    now: DateTime<Utc>,
    store: &S,
    queue: &Q,
    outbox_grace: Duration,
) -> Result<SweepReport, SweepError>
where
    S: SweepStore + Outbox,
    Q: ::outbox::NoticeQueue,
{
    let d = sweep_deadlines(store, queue, now).await?;
    let requeued = requeue_lost_notices(store, queue, now, outbox_grace).await?;
    let reminders = requeue_lost_reminders(store, queue, now, outbox_grace).await?;
    Ok(SweepReport {
        swept_at: now,
        reminders: d.reminders,
        missed: d.missed,
        overdue_entries: d.overdue_entries,
        resolved: d.resolved,
        failures: d.failures,
        calendar_next_year_missing: d.calendar_next_year_missing,
        requeued_notices: u32::try_from(requeued).unwrap_or(u32::MAX),
        requeued_reminders: u32::try_from(reminders).unwrap_or(u32::MAX),
    })
}
