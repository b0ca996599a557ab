//! The outbox part of the sweep: a notice is stored in the producer's transaction and its queue
//! message is put after the commit; if that put failed (or the process died in between), the
//! notice is still `queued` and has no attempt. The sweep enqueues every notice still `queued`
//! some grace period after it was owed — the FIFO deduplication id (the notice id) and
//! `notify`'s attempt records make a message enqueued twice harmless (acknowledged without a
//! second send). Failed notices are not re-enqueued: their message is in the queue's retry
//! cycle or in the dead-letter queue (alarm, `infra/dev redrive`).

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::event::DeliveryStatus;
use outbox::{NoticeQueue, enqueue_after_commit, enqueue_reminders_after_commit};
use store::{NoticeOutbox, OutboxEntry, ReminderOutboxEntry, Reminders, StoreError};
use tracing::{info, warn};

use crate::SweepError;

/// The outbox index (implemented by the store).
pub trait Outbox: Send + Sync {
    /// Notices owed before `owed_before` whose delivery is not final.
    fn undelivered(
        &self,
        owed_before: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<OutboxEntry>, StoreError>> + Send;

    /// Reminder deliveries created before `before` whose WeChat send is not final.
    fn undelivered_reminders(
        &self,
        before: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<ReminderOutboxEntry>, StoreError>> + Send;
}

impl<T: NoticeOutbox + Reminders> Outbox for T {
    async fn undelivered(
        &self,
        owed_before: DateTime<Utc>,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        self.undelivered_notices(owed_before).await
    }

    async fn undelivered_reminders(
        &self,
        before: DateTime<Utc>,
    ) -> Result<Vec<ReminderOutboxEntry>, StoreError> {
        Reminders::undelivered_reminders(self, before).await
    }
}

/// Enqueues every reminder delivery created more than `grace` before `now` and never
/// attempted (its message was lost); returns how many. Attempted ones are in the queue's retry
/// cycle or the DLQ, as for notices.
///
/// # Errors
/// [`SweepError::Store`] when the reminder outbox cannot be read.
pub async fn requeue_lost_reminders<O: Outbox, Q: NoticeQueue>(
    store: &O,
    queue: &Q,
    now: DateTime<Utc>,
    grace: Duration,
) -> Result<usize, SweepError> {
    let grace = chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::MAX);
    let before = now
        .checked_sub_signed(grace)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let lost: Vec<_> = store
        .undelivered_reminders(before)
        .await
        .map_err(SweepError::Store)?
        .into_iter()
        .filter(|e| !e.attempted)
        .map(|e| (e.reminder, e.officer))
        .collect();
    let n = lost.len();
    if n == 0 {
        return Ok(0);
    }
    if enqueue_reminders_after_commit(queue, lost).await {
        info!(count = n, "lost reminders enqueued again");
        Ok(n)
    } else {
        Ok(0)
    }
}

/// Enqueues every notice owed more than `grace` before `now` and still never attempted;
/// returns how many.
///
/// # Errors
/// [`SweepError::Store`] when the outbox cannot be read. A failed enqueue is logged and left
/// for the next run.
pub async fn requeue_lost_notices<O: Outbox, Q: NoticeQueue>(
    store: &O,
    queue: &Q,
    now: DateTime<Utc>,
    grace: Duration,
) -> Result<usize, SweepError> {
    let grace = chrono::Duration::from_std(grace).unwrap_or(chrono::Duration::MAX);
    let before = now
        .checked_sub_signed(grace)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let lost: Vec<_> = store
        .undelivered(before)
        .await
        .map_err(SweepError::Store)?
        .into_iter()
        .filter(|e| e.delivery == DeliveryStatus::Queued)
        .map(|e| (e.clue, e.notice))
        .collect();
    if lost.is_empty() {
        return Ok(0);
    }
    let n = lost.len();
    if enqueue_after_commit(queue, lost).await {
        info!(count = n, "lost notices enqueued again");
        Ok(n)
    } else {
        warn!(
            count = n,
            "lost notices not enqueued; the next sweep tries again"
        );
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use chrono::TimeZone;
    use domain::{ClueId, NoticeId};
    use outbox::{MemoryNoticeQueue, NoticeMessage};

    use super::*;

    struct Fixed(Mutex<Vec<OutboxEntry>>);

    impl Outbox for Fixed {
        async fn undelivered(&self, before: DateTime<Utc>) -> Result<Vec<OutboxEntry>, StoreError> {
            let all = self.0.lock().expect("lock").clone();
            Ok(all.into_iter().filter(|e| e.owed_at < before).collect())
        }

        async fn undelivered_reminders(
            &self,
            _before: DateTime<Utc>,
        ) -> Result<Vec<ReminderOutboxEntry>, StoreError> {
            Ok(Vec::new())
        }
    }

    fn t(min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 10, 2, min, 0)
            .single()
            .expect("t")
    }

    fn entry(n: &str, owed: DateTime<Utc>, delivery: DeliveryStatus) -> OutboxEntry {
        OutboxEntry {
            clue: ClueId::parse("c1").expect("id"),
            notice: NoticeId::parse(n).expect("id"),
            owed_at: owed,
            delivery,
            text: String::new(),
        }
    }

    #[tokio::test]
    async fn only_never_attempted_notices_past_the_grace_are_enqueued_again() {
        let store = Fixed(Mutex::new(vec![
            entry("c1:1:0", t(0), DeliveryStatus::Queued),
            entry(
                "c1:2:0",
                t(0),
                DeliveryStatus::Failed {
                    reason: "busy".into(),
                },
            ),
            entry("c1:3:0", t(9), DeliveryStatus::Queued),
        ]));
        let queue = MemoryNoticeQueue::default();
        let n = requeue_lost_notices(&store, &queue, t(10), Duration::from_secs(120))
            .await
            .expect("sweep");
        assert_eq!(n, 1);
        assert_eq!(
            queue.sent(),
            [NoticeMessage {
                clue_id: ClueId::parse("c1").expect("id"),
                notice_id: NoticeId::parse("c1:1:0").expect("id"),
            }]
        );
        queue.set_failing(true);
        let n = requeue_lost_notices(&store, &queue, t(10), Duration::from_secs(120))
            .await
            .expect("sweep");
        assert_eq!(n, 0, "a failed enqueue is left for the next run");
    }
}
