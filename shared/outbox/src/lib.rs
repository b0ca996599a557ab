//! The notice queue (`notice.fifo`): producers put one message per notice owed after the
//! transaction that owed it committed; `notify` reads them. A message holds ids only, never PII.
//! The FIFO group is the recipient clue (notices of one clue leave in order) and the
//! deduplication id is the notice id (a repeated enqueue within SQS's 5-minute window is
//! dropped by SQS). If enqueueing fails, nothing is lost: the notice is in the store's outbox and
//! the sweep enqueues it again.
//!
//! Officer reminders use the same queue: a [`ReminderMessage`] names one reminder and one bound
//! officer (group = the officer, dedup id = reminder + officer). [`QueueMessage::parse`] reads
//! either body; notice bodies are unchanged.
//!
//! # Layout
//! - [`NoticeMessage`]: the message body.
//! - [`ReminderMessage`], [`QueueMessage`]: a reminder's body; either body.
//! - [`NoticeQueue`]: where messages go; [`SqsNoticeQueue`] on SQS, [`MemoryNoticeQueue`] in tests.
//! - [`enqueue_after_commit`]: what a producer calls after its transaction.
//! - [`media`]: the attachment-events queue's messages from the reporting side, read by
//!   `attachments`: a chat photo to download ([`MediaMessage`]), evidence to keep ([`KeepMessage`]).

pub mod media;

use std::future::Future;
use std::sync::Mutex;

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use domain::{ClueId, NoticeId, OfficerId, ReminderId};
use serde::{Deserialize, Serialize};

pub use media::{KeepMessage, MediaMessage, MediaRequest};

/// The body of a `notice.fifo` message: which outbox item to send. Ids only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeMessage {
    /// The clue whose reporter the notice goes to (the FIFO group).
    pub clue_id: ClueId,
    pub notice_id: NoticeId,
}

impl NoticeMessage {
    /// Parses a message body.
    ///
    /// # Errors
    /// [`QueueError::Malformed`] for anything but the two ids.
    pub fn parse(body: &str) -> Result<Self, QueueError> {
        serde_json::from_str(body).map_err(QueueError::Malformed)
    }

    /// The body as sent.
    pub fn body(&self) -> String {
        // Two validated ids: serialization cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The body of a `notice.fifo` message about an officer reminder: which reminder, to which
/// bound officer. Ids only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReminderMessage {
    pub reminder_id: ReminderId,
    /// The officer (Cognito `sub`) it goes to: the FIFO group.
    pub officer_id: OfficerId,
}

impl ReminderMessage {
    /// The body as sent.
    pub fn body(&self) -> String {
        // Two validated ids: serialization cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The FIFO deduplication id: `<reminder>:<officer>` (opaque-id characters, ≤ 128).
    fn dedup_id(&self) -> String {
        let id = format!("{}:{}", self.reminder_id, self.officer_id);
        if id.len() <= 128 {
            id
        } else {
            use sha2::Digest as _;
            hex::encode(sha2::Sha256::digest(id.as_bytes()))
        }
    }
}

/// Any body on `notice.fifo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueMessage {
    Notice(NoticeMessage),
    Reminder(ReminderMessage),
}

impl QueueMessage {
    /// Parses a body: a notice message (as before) or a reminder message.
    ///
    /// # Errors
    /// [`QueueError::Malformed`] for anything else.
    pub fn parse(body: &str) -> Result<Self, QueueError> {
        match NoticeMessage::parse(body) {
            Ok(n) => Ok(Self::Notice(n)),
            Err(notice_error) => serde_json::from_str::<ReminderMessage>(body)
                .map(Self::Reminder)
                .map_err(|_| notice_error),
        }
    }
}

/// Why messages could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("message body is not a notice message")]
    Malformed(#[source] serde_json::Error),
    #[error("{failed} of {total} messages were not accepted by the queue")]
    Partial { failed: usize, total: usize },
    #[error("the queue call failed")]
    Sqs(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Where notice messages go.
pub trait NoticeQueue: Send + Sync {
    /// Queues the messages (in order per clue).
    ///
    /// # Errors
    /// [`QueueError`] when some were not accepted; those stay in the outbox for the sweep.
    fn enqueue(
        &self,
        messages: &[NoticeMessage],
    ) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Queues reminder messages (group = officer).
    ///
    /// # Errors
    /// [`QueueError`] when some were not accepted; those stay in the reminder outbox.
    fn enqueue_reminders(
        &self,
        messages: &[ReminderMessage],
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// `notice.fifo` on SQS. The client is created once per cold start by the caller.
#[derive(Debug, Clone)]
pub struct SqsNoticeQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsNoticeQueue {
    /// A queue at `url` (the template's `NOTICE_QUEUE_URL`).
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }
}

/// SQS takes at most ten messages per batch.
const BATCH: usize = 10;

impl SqsNoticeQueue {
    /// Sends `(body, group, dedup id)` entries in batches of ten.
    async fn send_all(&self, messages: &[(String, String, String)]) -> Result<(), QueueError> {
        let mut failed = 0;
        for chunk in messages.chunks(BATCH) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, (body, group, dedup))| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(body)
                        .message_group_id(group)
                        .message_deduplication_id(dedup)
                        .build()
                        .map_err(|e| QueueError::Sqs(Box::new(e)))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| QueueError::Sqs(Box::new(e)))?;
            failed += out.failed().len();
        }
        if failed > 0 {
            return Err(QueueError::Partial {
                failed,
                total: messages.len(),
            });
        }
        Ok(())
    }
}

impl NoticeQueue for SqsNoticeQueue {
    async fn enqueue(&self, messages: &[NoticeMessage]) -> Result<(), QueueError> {
        let entries: Vec<_> = messages
            .iter()
            .map(|m| {
                (
                    m.body(),
                    m.clue_id.as_str().to_owned(),
                    dedup_id(&m.notice_id).to_owned(),
                )
            })
            .collect();
        self.send_all(&entries).await
    }

    async fn enqueue_reminders(&self, messages: &[ReminderMessage]) -> Result<(), QueueError> {
        let entries: Vec<_> = messages
            .iter()
            .map(|m| (m.body(), m.officer_id.as_str().to_owned(), m.dedup_id()))
            .collect();
        self.send_all(&entries).await
    }
}

/// SQS deduplication ids are at most 128 characters of `[A-Za-z0-9!-/:-@[-`{-~]`: notice ids
/// (`<clue>:<version>:<n>`, opaque-id characters) already are.
fn dedup_id(id: &NoticeId) -> &str {
    id.as_str()
}

/// An in-memory queue for tests: records what was queued, and can be told to fail.
#[derive(Debug, Default)]
pub struct MemoryNoticeQueue {
    sent: Mutex<Vec<NoticeMessage>>,
    reminders: Mutex<Vec<ReminderMessage>>,
    failing: std::sync::atomic::AtomicBool,
}

impl MemoryNoticeQueue {
    /// Every message queued so far.
    pub fn sent(&self) -> Vec<NoticeMessage> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Every reminder message queued so far.
    pub fn sent_reminders(&self) -> Vec<ReminderMessage> {
        self.reminders.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Makes every following enqueue fail (or succeed again).
    pub fn set_failing(&self, failing: bool) {
        self.failing
            .store(failing, std::sync::atomic::Ordering::SeqCst);
    }
}

impl NoticeQueue for MemoryNoticeQueue {
    async fn enqueue(&self, messages: &[NoticeMessage]) -> Result<(), QueueError> {
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(QueueError::Partial {
                failed: messages.len(),
                total: messages.len(),
            });
        }
        if let Ok(mut sent) = self.sent.lock() {
            sent.extend_from_slice(messages);
        }
        Ok(())
    }

    async fn enqueue_reminders(&self, messages: &[ReminderMessage]) -> Result<(), QueueError> {
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(QueueError::Partial {
                failed: messages.len(),
                total: messages.len(),
            });
        }
        if let Ok(mut sent) = self.reminders.lock() {
            sent.extend_from_slice(messages);
        }
        Ok(())
    }
}

/// Queues the notices a committed change owed. A failure is logged and swallowed: the change is
/// committed and the notices are in the outbox, where the sweep finds them (the outbox pattern).
/// Returns whether every message was queued.
pub async fn enqueue_after_commit<Q: NoticeQueue>(
    queue: &Q,
    notices: impl IntoIterator<Item = (ClueId, NoticeId)>,
) -> bool {
    let messages: Vec<NoticeMessage> = notices
        .into_iter()
        .map(|(clue_id, notice_id)| NoticeMessage { clue_id, notice_id })
        .collect();
    if messages.is_empty() {
        return true;
    }
    match queue.enqueue(&messages).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, count = messages.len(), "notices not queued; the sweep will queue them from the outbox");
            false
        }
    }
}

/// Queues the reminder deliveries an issued reminder owes; like [`enqueue_after_commit`], a
/// failure is logged and swallowed (the sweep finds them in the reminder outbox). Returns
/// whether every message was queued.
pub async fn enqueue_reminders_after_commit<Q: NoticeQueue>(
    queue: &Q,
    deliveries: impl IntoIterator<Item = (ReminderId, OfficerId)>,
) -> bool {
    let messages: Vec<ReminderMessage> = deliveries
        .into_iter()
        .map(|(reminder_id, officer_id)| ReminderMessage {
            reminder_id,
            officer_id,
        })
        .collect();
    if messages.is_empty() {
        return true;
    }
    match queue.enqueue_reminders(&messages).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, count = messages.len(), "reminders not queued; the sweep will queue them from the outbox");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(clue: &str, notice: &str) -> NoticeMessage {
        NoticeMessage {
            clue_id: ClueId::parse(clue).expect("id"),
            notice_id: NoticeId::parse(notice).expect("id"),
        }
    }

    #[test]
    fn a_message_carries_ids_only_and_round_trips() {
        let m = msg("c1", "c1:1:0");
        assert_eq!(m.body(), r#"{"clue_id":"c1","notice_id":"c1:1:0"}"#);
        assert_eq!(NoticeMessage::parse(&m.body()).expect("parse"), m);
        assert!(NoticeMessage::parse(r#"{"clue_id":"c1","notice_id":"n","openid":"o"}"#).is_err());
        assert!(NoticeMessage::parse(r#"{"clue_id":"c/1","notice_id":"n"}"#).is_err());
        assert!(NoticeMessage::parse("not json").is_err());
    }

    #[test]
    fn notice_bodies_still_parse_and_reminder_bodies_parse_beside_them() {
        let notice = msg("c1", "c1:1:0");
        assert_eq!(
            QueueMessage::parse(r#"{"clue_id":"c1","notice_id":"c1:1:0"}"#).expect("notice"),
            QueueMessage::Notice(notice)
        );
        let r = ReminderMessage {
            reminder_id: ReminderId::parse("rabc").expect("id"),
            officer_id: OfficerId::parse("o-1").expect("id"),
        };
        assert_eq!(r.body(), r#"{"reminder_id":"rabc","officer_id":"o-1"}"#);
        assert_eq!(
            QueueMessage::parse(&r.body()).expect("reminder"),
            QueueMessage::Reminder(r.clone())
        );
        assert_eq!(r.dedup_id(), "rabc:o-1");
        for bad in [
            r#"{"reminder_id":"rabc"}"#,
            r#"{"reminder_id":"rabc","officer_id":"o-1","openid":"x"}"#,
            r#"{"reminder_id":"r/1","officer_id":"o-1"}"#,
            r#"{"clue_id":"c1","notice_id":"n","officer_id":"o"}"#,
        ] {
            assert!(QueueMessage::parse(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_failed_enqueue_is_swallowed_and_reported() {
        let q = MemoryNoticeQueue::default();
        let notices = || {
            vec![(
                ClueId::parse("c1").expect("id"),
                NoticeId::parse("c1:1:0").expect("id"),
            )]
        };
        assert!(enqueue_after_commit(&q, notices()).await);
        assert_eq!(q.sent(), vec![msg("c1", "c1:1:0")]);
        q.set_failing(true);
        assert!(!enqueue_after_commit(&q, notices()).await);
        assert_eq!(q.sent().len(), 1);
        assert!(enqueue_after_commit(&q, Vec::new()).await);
    }
}
