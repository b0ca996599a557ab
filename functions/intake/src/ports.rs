//! What the reporting core needs besides the clue store, as small traits: the reporting side table
//! ([`Side`], on DynamoDB by [`store::ReportingStore`], in memory by [`MemorySide`]) and the
//! queue that asks `attachments` to download a WeChat photo or keep the evidence a filing
//! attaches ([`MediaQueue`]).

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use domain::chat::ChatDraft;
use domain::{AttachmentId, ClueId, ClueNo, DivisionCode, ReporterKey};
use store::{Attachment, Block, Claim, PushNonce, RateLimit, ReportingStore, StoreError};

/// The reporting side table.
pub trait Side: Send + Sync {
    /// Records a push's replay key with the digest of its body ([`store::push_nonce`]).
    fn note_push(
        &self,
        replay_key: &str,
        body_sha256: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> impl Future<Output = Result<PushNonce, StoreError>> + Send;
    fn claim_callback(
        &self,
        key: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;
    fn complete_callback(
        &self,
        key: &str,
        reply: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn release_callback(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn chat_draft(
        &self,
        reporter: &ReporterKey,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(Option<ChatDraft>, u64), StoreError>> + Send;
    fn put_chat_draft(
        &self,
        reporter: &ReporterKey,
        draft: Option<&ChatDraft>,
        version: u64,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn take(
        &self,
        limit: &RateLimit,
        subject: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    fn give_back(
        &self,
        limit: &RateLimit,
        subject: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// What `limit` counted for `subject` in its current window.
    fn used(
        &self,
        limit: &RateLimit,
        subject: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<u32, StoreError>> + Send;
    fn block_of(
        &self,
        reporter: &ReporterKey,
    ) -> impl Future<Output = Result<Option<Block>, StoreError>> + Send;
    fn note_blocked_attempt(
        &self,
        reporter: &ReporterKey,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn attachment(
        &self,
        id: &AttachmentId,
    ) -> impl Future<Output = Result<Option<Attachment>, StoreError>> + Send;
    fn create_attachment(
        &self,
        a: &Attachment,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Marks a clue filed during a surge in its county for the bureau's review
    /// ([`store::surge`]); idempotent.
    fn mark_surge(
        &self,
        clue_id: &ClueId,
        clue_no: &ClueNo,
        division: &DivisionCode,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl Side for ReportingStore {
    async fn note_push(
        &self,
        replay_key: &str,
        body_sha256: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<PushNonce, StoreError> {
        ReportingStore::note_push(self, replay_key, body_sha256, now, ttl).await
    }
    async fn claim_callback(
        &self,
        key: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        ReportingStore::claim_callback(self, key, now, lease).await
    }
    async fn complete_callback(
        &self,
        key: &str,
        reply: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        ReportingStore::complete_callback(self, key, reply, now).await
    }
    async fn release_callback(&self, key: &str) -> Result<(), StoreError> {
        ReportingStore::release_callback(self, key).await
    }
    async fn chat_draft(
        &self,
        reporter: &ReporterKey,
        now: DateTime<Utc>,
    ) -> Result<(Option<ChatDraft>, u64), StoreError> {
        ReportingStore::chat_draft(self, reporter, now).await
    }
    async fn put_chat_draft(
        &self,
        reporter: &ReporterKey,
        draft: Option<&ChatDraft>,
        version: u64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        ReportingStore::put_chat_draft(self, reporter, draft, version, now).await
    }
    async fn take(
        &self,
        limit: &RateLimit,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        ReportingStore::take(self, limit, subject, now).await
    }
    async fn give_back(
        &self,
        limit: &RateLimit,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        ReportingStore::give_back(self, limit, subject, now).await
    }
    async fn used(
        &self,
        limit: &RateLimit,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        ReportingStore::used(self, limit, subject, now).await
    }
    async fn block_of(&self, reporter: &ReporterKey) -> Result<Option<Block>, StoreError> {
        ReportingStore::block_of(self, reporter).await
    }
    async fn note_blocked_attempt(
        &self,
        reporter: &ReporterKey,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        ReportingStore::note_blocked_attempt(self, reporter, now).await
    }
    async fn attachment(&self, id: &AttachmentId) -> Result<Option<Attachment>, StoreError> {
        ReportingStore::attachment(self, id).await
    }
    async fn create_attachment(&self, a: &Attachment) -> Result<bool, StoreError> {
        ReportingStore::create_attachment(self, a).await
    }
    async fn mark_surge(
        &self,
        clue_id: &ClueId,
        clue_no: &ClueNo,
        division: &DivisionCode,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        ReportingStore::mark_surge(self, clue_id, clue_no, division, now).await
    }
}

/// An in-memory [`Side`] for unit tests and the callback bench.
#[derive(Debug, Default)]
pub struct MemorySide {
    inner: Mutex<Mem>,
}

#[derive(Debug, Default)]
struct Mem {
    nonces: HashMap<String, String>,
    callbacks: HashMap<String, Option<String>>,
    drafts: HashMap<ReporterKey, (Option<ChatDraft>, u64)>,
    counters: HashMap<String, u32>,
    blocks: HashMap<ReporterKey, Block>,
    blocked_attempts: HashMap<ReporterKey, u64>,
    attachments: HashMap<AttachmentId, Attachment>,
    surge: BTreeSet<ClueNo>,
}

impl MemorySide {
    fn with<T>(&self, f: impl FnOnce(&mut Mem) -> T) -> T {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g)
    }

    /// Puts a reporter on the block list.
    pub fn block(&self, b: Block) {
        self.with(|m| m.blocks.insert(b.reporter.clone(), b));
    }

    /// Stores an attachment as is.
    pub fn put_attachment(&self, a: Attachment) {
        self.with(|m| m.attachments.insert(a.id.clone(), a));
    }

    /// The clues marked for surge review.
    pub fn surge_marks(&self) -> Vec<ClueNo> {
        self.with(|m| m.surge.iter().cloned().collect())
    }
}

impl Side for MemorySide {
    async fn note_push(
        &self,
        replay_key: &str,
        body_sha256: &str,
        _now: DateTime<Utc>,
        _ttl: Duration,
    ) -> Result<PushNonce, StoreError> {
        Ok(self.with(|m| match m.nonces.get(replay_key) {
            Some(seen) if seen != body_sha256 => PushNonce::Replayed,
            _ => {
                m.nonces
                    .insert(replay_key.to_owned(), body_sha256.to_owned());
                PushNonce::Fresh
            }
        }))
    }
    async fn claim_callback(
        &self,
        key: &str,
        _now: DateTime<Utc>,
        _lease: Duration,
    ) -> Result<Claim, StoreError> {
        Ok(self.with(|m| match m.callbacks.get(key) {
            None => {
                m.callbacks.insert(key.to_owned(), None);
                Claim::Fresh
            }
            Some(None) => Claim::Busy,
            Some(Some(r)) => Claim::Done(r.clone()),
        }))
    }
    async fn complete_callback(
        &self,
        key: &str,
        reply: &str,
        _now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.with(|m| m.callbacks.insert(key.to_owned(), Some(reply.to_owned())));
        Ok(())
    }
    async fn release_callback(&self, key: &str) -> Result<(), StoreError> {
        self.with(|m| {
            if matches!(m.callbacks.get(key), Some(None)) {
                m.callbacks.remove(key);
            }
        });
        Ok(())
    }
    async fn chat_draft(
        &self,
        reporter: &ReporterKey,
        _now: DateTime<Utc>,
    ) -> Result<(Option<ChatDraft>, u64), StoreError> {
        Ok(self.with(|m| m.drafts.get(reporter).cloned().unwrap_or((None, 0))))
    }
    async fn put_chat_draft(
        &self,
        reporter: &ReporterKey,
        draft: Option<&ChatDraft>,
        version: u64,
        _now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.with(|m| {
            let current = m.drafts.get(reporter).map_or(0, |d| d.1);
            if current != version {
                return Err(StoreError::Conflict);
            }
            m.drafts
                .insert(reporter.clone(), (draft.cloned(), version + 1));
            Ok(())
        })
    }
    async fn take(
        &self,
        limit: &RateLimit,
        subject: &str,
        _now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Ok(self.with(|m| {
            let c = m
                .counters
                .entry(format!("{}#{subject}", limit.name))
                .or_insert(0);
            if *c < limit.max {
                *c += 1;
                true
            } else {
                false
            }
        }))
    }
    async fn give_back(
        &self,
        limit: &RateLimit,
        subject: &str,
        _now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.with(|m| {
            if let Some(c) = m.counters.get_mut(&format!("{}#{subject}", limit.name)) {
                *c = c.saturating_sub(1);
            }
        });
        Ok(())
    }
    async fn used(
        &self,
        limit: &RateLimit,
        subject: &str,
        _now: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        Ok(self.with(|m| {
            m.counters
                .get(&format!("{}#{subject}", limit.name))
                .copied()
                .unwrap_or(0)
        }))
    }
    async fn block_of(&self, reporter: &ReporterKey) -> Result<Option<Block>, StoreError> {
        Ok(self.with(|m| m.blocks.get(reporter).cloned()))
    }
    async fn note_blocked_attempt(
        &self,
        reporter: &ReporterKey,
        _now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.with(|m| {
            if m.blocks.contains_key(reporter) {
                *m.blocked_attempts.entry(reporter.clone()).or_default() += 1;
            }
        });
        Ok(())
    }
    async fn attachment(&self, id: &AttachmentId) -> Result<Option<Attachment>, StoreError> {
        Ok(self.with(|m| m.attachments.get(id).cloned()))
    }
    async fn create_attachment(&self, a: &Attachment) -> Result<bool, StoreError> {
        Ok(self.with(|m| {
            if m.attachments.contains_key(&a.id) {
                false
            } else {
                m.attachments.insert(a.id.clone(), a.clone());
                true
            }
        }))
    }
    async fn mark_surge(
        &self,
        _clue_id: &ClueId,
        clue_no: &ClueNo,
        _division: &DivisionCode,
        _now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.with(|m| m.surge.insert(clue_no.clone()));
        Ok(())
    }
}

pub use outbox::{KeepMessage, MediaMessage, MediaRequest};

/// The attachment-events queue, as the reporting side writes to it.
pub trait MediaQueue: Send + Sync {
    /// Asks for a chat photo's download.
    fn request(&self, req: &MediaRequest) -> impl Future<Output = Result<(), String>> + Send;
    /// Asks to keep the evidence a filing attaches from the never-attached expiry (sent before
    /// the clue is stored: evidence is never attached while it may still expire).
    fn keep(&self, ids: &[AttachmentId]) -> impl Future<Output = Result<(), String>> + Send;
}

/// The attachment-events queue on SQS.
#[derive(Debug, Clone)]
pub struct SqsMediaQueue {
    pub client: aws_sdk_sqs::Client,
    pub url: String,
}

impl SqsMediaQueue {
    async fn send(&self, body: String) -> Result<(), String> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("{}", aws_sdk_sqs::error::DisplayErrorContext(e)))
    }
}

impl MediaQueue for SqsMediaQueue {
    async fn request(&self, req: &MediaRequest) -> Result<(), String> {
        self.send(
            MediaMessage {
                wechat_media: req.clone(),
            }
            .body(),
        )
        .await
    }
    async fn keep(&self, ids: &[AttachmentId]) -> Result<(), String> {
        self.send(
            KeepMessage {
                keep_evidence: ids.to_vec(),
            }
            .body(),
        )
        .await
    }
}

/// Records requests (tests, bench).
#[derive(Debug, Default)]
pub struct MemoryMediaQueue {
    pub sent: Mutex<Vec<MediaRequest>>,
    /// The evidence asked to be kept, per request.
    pub kept: Mutex<Vec<Vec<AttachmentId>>>,
    /// When set, asking to keep evidence fails (the queue is down).
    pub refuse_keep: std::sync::atomic::AtomicBool,
}

impl MediaQueue for MemoryMediaQueue {
    async fn request(&self, req: &MediaRequest) -> Result<(), String> {
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(req.clone());
        Ok(())
    }
    async fn keep(&self, ids: &[AttachmentId]) -> Result<(), String> {
        if self.refuse_keep.load(std::sync::atomic::Ordering::SeqCst) {
            return Err("queue unavailable".to_owned());
        }
        self.kept
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(ids.to_vec());
        Ok(())
    }
}
