//! One SQS batch: each record delivered on its own, FIFO order per clue kept, failures reported
//! (`ReportBatchItemFailures`) and backed off through the message's visibility timeout.

use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsMessage};
use outbox::QueueMessage;
use tracing::{Instrument, error, info, warn};

use store::{NoticeDeliveries, ReminderDeliveries};

use crate::deliver::{Clock, Outcome, Sender, Template, deliver};
use crate::remind::{ReminderTemplate, deliver_reminder};

/// How long a failed message waits before its next receive: `base · 2^(receives − 1)`, at most
/// `max`, with up to 20 % jitter. (Configuration: `RETRY_BASE_SECONDS`, `RETRY_MAX_SECONDS`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    /// The delay before the next receive of a message received `receives` times.
    pub fn delay(&self, receives: u32, jitter: f64) -> Duration {
        let exp = self
            .base
            .saturating_mul(1_u32 << receives.saturating_sub(1).min(16));
        let d = exp.min(self.max);
        d + d.mul_f64(jitter.clamp(0.0, 1.0) * 0.2)
    }
}

/// Changes a received message's visibility (SQS `ChangeMessageVisibility`).
pub trait Visibility: Send + Sync {
    fn retry_after(
        &self,
        receipt_handle: &str,
        delay: Duration,
    ) -> impl Future<Output = Result<(), Box<dyn std::error::Error + Send + Sync>>> + Send;
}

/// `notice.fifo` on SQS.
#[derive(Debug, Clone)]
pub struct SqsVisibility {
    pub client: aws_sdk_sqs::Client,
    pub queue_url: String,
}

impl Visibility for SqsVisibility {
    async fn retry_after(
        &self,
        receipt_handle: &str,
        delay: Duration,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let secs = i32::try_from(delay.as_secs().clamp(0, 43_200)).unwrap_or(43_200);
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(secs)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| Box::new(e) as _)
    }
}

/// Everything a batch needs, built once per cold start.
pub struct Notifier<D, S, C, V> {
    pub store: D,
    pub sender: S,
    pub clock: C,
    pub visibility: V,
    pub template: Template,
    /// The officer reminders' template (reminders share `notice.fifo`).
    pub reminders: ReminderTemplate,
    pub backoff: Backoff,
}

/// What a batch did, for logs and tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BatchReport {
    pub sent: usize,
    pub already_final: usize,
    pub undeliverable: usize,
    pub retried: usize,
    /// Records not attempted because an earlier record of their clue failed in this batch.
    pub held_back: usize,
}

/// What became of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handled {
    /// Done with: deleted from the queue.
    Done,
    /// Failed for now: received again after the backoff.
    Retry,
    /// Retrying cannot help (a body that is no message, a store error that is not
    /// [`store::StoreError::is_retryable`]): visible again at once, so it reaches the
    /// dead-letter queue after the queue's `maxReceiveCount` instead of backing off first.
    Hopeless,
}

fn jitter() -> f64 {
    let mut b = [0u8; 2];
    if getrandom::fill(&mut b).is_err() {
        return 0.5;
    }
    f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX)
}

impl<D, S, C, V> Notifier<D, S, C, V>
where
    D: NoticeDeliveries + ReminderDeliveries,
    S: Sender,
    C: Clock,
    V: Visibility,
{
    /// Handles a batch in order. A record that fails is reported, and so is every later record
    /// of the same message group (clue) in the batch without being attempted, so a clue's
    /// notices never overtake one another.
    pub async fn handle(&self, records: &[SqsMessage]) -> (SqsBatchResponse, BatchReport) {
        let mut response = SqsBatchResponse::default();
        let mut report = BatchReport::default();
        let mut failed_groups: HashSet<String> = HashSet::new();
        for record in records {
            let message_id = record.message_id.clone().unwrap_or_default();
            let group = record
                .attributes
                .get("MessageGroupId")
                .cloned()
                .unwrap_or_default();
            let receives: u32 = record
                .attributes
                .get("ApproximateReceiveCount")
                .and_then(|c| c.parse().ok())
                .unwrap_or(1);
            let span = tracing::info_span!("notice", %message_id, receives);
            let handled = if failed_groups.contains(&group) {
                report.held_back += 1;
                Handled::Retry
            } else {
                self.one(record, &mut report).instrument(span).await
            };
            if handled != Handled::Done {
                failed_groups.insert(group);
                if let Some(handle) = record.receipt_handle.as_deref() {
                    let delay = match handled {
                        Handled::Hopeless => Duration::ZERO,
                        _ => self.backoff.delay(receives, jitter()),
                    };
                    if let Err(e) = self.visibility.retry_after(handle, delay).await {
                        warn!(%message_id, error = %e, "visibility not changed; the queue's default applies");
                    }
                }
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = message_id;
                response.batch_item_failures.push(failure);
            }
        }
        info!(
            sent = report.sent,
            already_final = report.already_final,
            undeliverable = report.undeliverable,
            retried = report.retried,
            held_back = report.held_back,
            "batch done"
        );
        (response, report)
    }

    /// What became of the record.
    async fn one(&self, record: &SqsMessage, report: &mut BatchReport) -> Handled {
        let message = match QueueMessage::parse(record.body.as_deref().unwrap_or_default()) {
            Ok(QueueMessage::Notice(m)) => m,
            Ok(QueueMessage::Reminder(m)) => {
                let span = tracing::info_span!("remind", reminder = %m.reminder_id);
                let outcome =
                    deliver_reminder(&self.store, &self.sender, &self.clock, &self.reminders, &m)
                        .instrument(span)
                        .await;
                return Self::account(outcome, report);
            }
            Err(e) => {
                // Never deliverable: it goes to the dead-letter queue for a person to look at.
                error!(error = %e, "message body is not a notice message");
                report.retried += 1;
                return Handled::Hopeless;
            }
        };
        let span =
            tracing::info_span!("deliver", clue = %message.clue_id, notice = %message.notice_id);
        let outcome = deliver(
            &self.store,
            &self.sender,
            &self.clock,
            &self.template,
            &message,
        )
        .instrument(span)
        .await;
        Self::account(outcome, report)
    }

    /// Counts an outcome; what became of the record.
    fn account(outcome: Result<Outcome, store::StoreError>, report: &mut BatchReport) -> Handled {
        match outcome {
            Ok(o) => {
                match &o {
                    Outcome::Sent { possible_duplicate } => {
                        report.sent += 1;
                        info!(possible_duplicate, "notice sent");
                    }
                    Outcome::AlreadyFinal | Outcome::Unknown => report.already_final += 1,
                    Outcome::Undeliverable { reason } => {
                        report.undeliverable += 1;
                        warn!(%reason, "notice undeliverable");
                    }
                    Outcome::Retry { reason } => {
                        report.retried += 1;
                        warn!(%reason, "notice not delivered; retried later");
                    }
                }
                if o.acknowledges() {
                    Handled::Done
                } else {
                    Handled::Retry
                }
            }
            Err(e) if e.is_retryable() => {
                report.retried += 1;
                warn!(error = %e, "store failed; retried later");
                Handled::Retry
            }
            Err(e) => {
                report.retried += 1;
                error!(error = %e, code = e.code(), "store refused the message; not backed off, it goes to the dead-letter queue");
                Handled::Hopeless
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use super::*;
    use crate::deliver::tests::{FakeSender, FixedClock, api, fake_store, message, template};

    #[derive(Default)]
    struct Delays(Mutex<Vec<(String, Duration)>>);

    impl Visibility for Delays {
        async fn retry_after(
            &self,
            handle: &str,
            delay: Duration,
        ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
            self.0.lock().expect("lock").push((handle.into(), delay));
            Ok(())
        }
    }

    fn record(id: &str, group: &str, body: &str) -> SqsMessage {
        let mut r = SqsMessage::default();
        r.message_id = Some(id.into());
        r.receipt_handle = Some(format!("rh-{id}"));
        r.body = Some(body.into());
        r.attributes = HashMap::from([
            ("MessageGroupId".into(), group.into()),
            ("ApproximateReceiveCount".into(), "2".into()),
        ]);
        r
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let b = Backoff {
            base: Duration::from_secs(10),
            max: Duration::from_secs(60),
        };
        assert_eq!(b.delay(1, 0.0), Duration::from_secs(10));
        assert_eq!(b.delay(3, 0.0), Duration::from_secs(40));
        assert_eq!(b.delay(9, 0.0), Duration::from_secs(60));
        assert_eq!(b.delay(1, 1.0), Duration::from_secs(12));
    }

    #[tokio::test]
    async fn a_failure_holds_back_the_rest_of_its_clue_and_backs_off() {
        let sender = FakeSender::default();
        *sender.subscribe_script.lock().expect("lock") = vec![api(-1)];
        let n = Notifier {
            store: fake_store(),
            sender,
            clock: FixedClock,
            visibility: Delays::default(),
            template: template(),
            reminders: crate::remind::tests::template(),
            backoff: Backoff {
                base: Duration::from_secs(5),
                max: Duration::from_secs(60),
            },
        };
        let body = message().body();
        let records = [
            record("m1", "c1", &body),
            record("m2", "c1", &body),
            record("m3", "other", "not json"),
        ];
        let (response, report) = n.handle(&records).await;
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["m1", "m2", "m3"]);
        assert_eq!(report.held_back, 1);
        assert_eq!(n.sender.subscribed.lock().expect("lock").len(), 0);
        let delays = n.visibility.0.lock().expect("lock").clone();
        assert_eq!(delays.len(), 3);
        assert!(
            delays[..2]
                .iter()
                .all(|(_, d)| *d >= Duration::from_secs(10))
        );
        // A body that is no message cannot heal: visible again at once, on to the DLQ.
        assert_eq!(delays[2], ("rh-m3".to_owned(), Duration::ZERO));
    }

    #[test]
    fn a_store_error_that_cannot_heal_is_not_backed_off() {
        type N = Notifier<crate::deliver::tests::FakeStore, FakeSender, FixedClock, Delays>;
        let mut report = BatchReport::default();
        assert_eq!(
            N::account(Err(store::StoreError::Conflict), &mut report),
            Handled::Retry
        );
        assert_eq!(
            N::account(
                Err(store::StoreError::Malformed {
                    key: "CLUE#c1".into(),
                    reason: "no data".into()
                }),
                &mut report
            ),
            Handled::Hopeless
        );
        assert_eq!(
            N::account(Err(store::StoreError::Invalid("cursor")), &mut report),
            Handled::Hopeless
        );
        assert_eq!(report.retried, 3);
    }
}
