//! The scheduled sweep. Each part reads one sparse index of the store and acts on what is due;
//! a later issue adds deadlines and reminders beside the outbox part here.
//!
//! # Layout
//! - [`outbox`]: notices whose queue message was lost are enqueued again.
//! - [`sweep`] / [`SweepReport`]: one run at a given instant.

pub mod outbox;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use crate::outbox::{Outbox, requeue_lost_notices, requeue_lost_reminders};

/// What one run did.
#[derive(Debug, Serialize, PartialEq, Eq, Default)]
pub struct SweepReport {
    pub swept_at: DateTime<Utc>,
    pub reminders: u32,
    pub requeued_notices: u32,
    pub requeued_reminders: u32,
}

/// Why a run stopped; the next scheduled run starts again from the indexes.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("reading the outbox failed")]
    Store(#[source] store::StoreError),
}

/// One sweep at `now`: the outbox part (the deadline issue adds its parts here).
///
/// # Errors
/// [`SweepError`] when the store cannot be read.
pub async fn sweep<O, Q>(
    now: DateTime<Utc>,
    store: &O,
    queue: &Q,
    outbox_grace: Duration,
) -> Result<SweepReport, SweepError>
where
    O: Outbox,
    Q: ::outbox::NoticeQueue,
{
    let requeued = requeue_lost_notices(store, queue, now, outbox_grace).await?;
    let reminders = requeue_lost_reminders(store, queue, now, outbox_grace).await?;
    Ok(SweepReport {
        swept_at: now,
        reminders: 0,
        requeued_notices: u32::try_from(requeued).unwrap_or(u32::MAX),
        requeued_reminders: u32::try_from(reminders).unwrap_or(u32::MAX),
    })
}
