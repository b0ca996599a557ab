//! One notice to one reporter, exactly once: read, record the attempt, send, record the outcome
//! (the steps are [`crate::engine`]'s; this module is what a notice reads, sends and records).
//!
//! Generic over the three things it talks to — [`NoticeDeliveries`], [`Sender`], [`Clock`] — so the
//! rules are tested with fakes here and against moto and the fake WeChat API in `tests/`.

use std::collections::BTreeMap;
use std::future::Future;

use chrono::{DateTime, Utc};
use domain::NoticeId;
use domain::calendar::shanghai_date;
use domain::event::DeliveryStatus;
use domain::notice::format_date;
use outbox::NoticeMessage;
use store::{Attempt, Delivery, NoticeDeliveries, SendAttempt, StoreError};
use wechat::{AccessTokenCache, ApiClient, SubscribeMessage, WechatError};

use crate::engine::{self, Job, Verdict};

/// The two WeChat calls a delivery makes (implemented by [`ApiClient`]).
pub trait Sender: Send + Sync {
    /// `message/subscribe/bizsend`; WeChat's `msgid` when it gives one.
    fn subscribe(
        &self,
        message: &SubscribeMessage,
    ) -> impl Future<Output = Result<Option<String>, WechatError>> + Send;

    /// `message/custom/send` with a text (only inside the 48-hour window).
    fn text(
        &self,
        openid: &str,
        text: &str,
    ) -> impl Future<Output = Result<(), WechatError>> + Send;
}

impl<C: AccessTokenCache> Sender for ApiClient<C> {
    async fn subscribe(&self, message: &SubscribeMessage) -> Result<Option<String>, WechatError> {
        self.send_subscribe_msgid(message).await
    }

    async fn text(&self, openid: &str, text: &str) -> Result<(), WechatError> {
        self.send_text(openid, text).await
    }
}

impl<T: Sender> Sender for &T {
    async fn subscribe(&self, message: &SubscribeMessage) -> Result<Option<String>, WechatError> {
        (**self).subscribe(message).await
    }

    async fn text(&self, openid: &str, text: &str) -> Result<(), WechatError> {
        (**self).text(openid, text).await
    }
}

/// The time, and fresh attempt ids.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;

    /// A fresh, unguessable attempt id.
    fn attempt_id(&self) -> String {
        uuid::Uuid::new_v4().simple().to_string()
    }
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The subscribe-notification template (configuration: the template and its field names are
/// chosen on the WeChat platform).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// The long-term subscription template id.
    pub template_id: String,
    /// Field carrying the clue number (e.g. `character_string1`).
    pub clue_no_field: String,
    /// Field carrying the outcome (e.g. `phrase2`; the notice's short label).
    pub outcome_field: String,
    /// Field carrying the date (e.g. `time3`; the day the notice was owed, Asia/Shanghai).
    pub date_field: String,
    /// The H5 notice page, with `{clue}` and `{notice}` replaced by the ids: it shows the
    /// verbatim text.
    pub page_url: String,
}

impl Template {
    /// The subscribe message of `delivery`: the recipient clue's own number, the outcome's
    /// label, the date, and the link to the verbatim text.
    pub fn message(&self, delivery: &Delivery) -> SubscribeMessage {
        let clue = &delivery.stored.clue;
        let notice = &delivery.notice;
        let page = self
            .page_url
            .replace("{clue}", clue.id.as_str())
            .replace("{notice}", notice.record.id.as_str());
        SubscribeMessage {
            touser: delivery.openid.clone(),
            template_id: self.template_id.clone(),
            page: Some(page),
            data: BTreeMap::from([
                (self.clue_no_field.clone(), clue.clue_no.as_str().to_owned()),
                (
                    self.outcome_field.clone(),
                    notice.record.key().label().to_owned(),
                ),
                (
                    self.date_field.clone(),
                    format_date(shanghai_date(notice.owed_at)),
                ),
            ]),
        }
    }
}

/// What became of one queue message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Sent now (and recorded).
    Sent { possible_duplicate: bool },
    /// Already sent or given up earlier: acknowledged without a send.
    AlreadyFinal,
    /// WeChat refused it for good; recorded `undeliverable` with the reason.
    Undeliverable { reason: String },
    /// Not delivered this time; the message returns to the queue.
    Retry { reason: String },
    /// The message names no notice the store knows: nothing can ever be sent.
    Unknown,
}

impl Outcome {
    /// Whether the queue message is done with (deleted).
    pub fn acknowledges(&self) -> bool {
        !matches!(self, Self::Retry { .. })
    }
}

/// A notice to deliver, as read: the [`Job`] of the engine.
struct NoticeJob<'a, D> {
    store: &'a D,
    template: &'a Template,
    delivery: Delivery,
    notice_id: &'a NoticeId,
}

impl<D: NoticeDeliveries> Job for NoticeJob<'_, D> {
    /// The delivery event for the timeline, if the outcome is one.
    type Status = Option<DeliveryStatus>;

    const NOUN: &'static str = "notice";

    fn attempt(&self) -> Option<&Attempt> {
        self.delivery.attempt.as_ref().map(|a| &a.attempt)
    }

    fn delivered(&self) -> bool {
        self.delivery.notice.delivery.is_final()
    }

    /// Order per clue, whatever the queue does: an earlier notice that exhausted its receives
    /// into the dead-letter queue, or whose enqueue was lost, holds the later ones back until
    /// it is sent or given up (the redrive or the outbox sweep brings it back first).
    fn held(&self) -> Option<String> {
        self.delivery
            .stored
            .clue
            .notice_waits_for(self.notice_id)
            .map(|earlier| format!("waits for the earlier notice {}", earlier.record.id))
    }

    fn recipient(&self) -> Option<&str> {
        Some(&self.delivery.openid)
    }

    fn subscribe_message(&self, _openid: &str) -> SubscribeMessage {
        self.template.message(&self.delivery)
    }

    fn text(&self) -> &str {
        &self.delivery.notice.record.text
    }

    fn status(&self, verdict: &Verdict) -> Option<DeliveryStatus> {
        match verdict {
            Verdict::Sent {
                msgid,
                possible_duplicate,
            } => Some(DeliveryStatus::Sent {
                msgid: msgid.clone(),
                possible_duplicate: *possible_duplicate,
            }),
            Verdict::Undeliverable { reason } => Some(DeliveryStatus::Undeliverable {
                reason: reason.clone(),
            }),
            Verdict::Unbound => Some(DeliveryStatus::Undeliverable {
                reason: "unbound".into(),
            }),
            // The timeline shows the first failure; later ones only update the record.
            Verdict::Failed { reason } => (self.delivery.notice.delivery == DeliveryStatus::Queued)
                .then(|| DeliveryStatus::Failed {
                    reason: reason.clone(),
                }),
        }
    }

    async fn begin(&self, attempt: &Attempt) -> Result<(), StoreError> {
        let record = self.record(attempt);
        self.store
            .begin_attempt(self.delivery.attempt.as_ref(), &record)
            .await
    }

    async fn finish(
        &self,
        attempt: &Attempt,
        status: Option<DeliveryStatus>,
    ) -> Result<(), StoreError> {
        let record = self.record(attempt);
        let now = attempt.finished_at.unwrap_or(attempt.started_at);
        self.store
            .finish_attempt(&self.delivery, &record, status, now)
            .await
    }
}

impl<D> NoticeJob<'_, D> {
    fn record(&self, attempt: &Attempt) -> SendAttempt {
        SendAttempt {
            clue: self.delivery.stored.clue.id.clone(),
            notice: self.notice_id.clone(),
            attempt: attempt.clone(),
        }
    }
}

/// Delivers the notice of `message` once (see [`crate::engine`]).
///
/// # Errors
/// Store failures other than a conflict (the message is retried by the caller).
pub async fn deliver<D, S, C>(
    store: &D,
    sender: &S,
    clock: &C,
    template: &Template,
    message: &NoticeMessage,
) -> Result<Outcome, StoreError>
where
    D: NoticeDeliveries,
    S: Sender,
    C: Clock,
{
    let Some(delivery) = engine::known(
        store.delivery(&message.clue_id, &message.notice_id).await,
        "notice",
    )?
    else {
        return Ok(Outcome::Unknown);
    };
    let job = NoticeJob {
        store,
        template,
        delivery,
        notice_id: &message.notice_id,
    };
    engine::run(&job, sender, clock).await
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Mutex;

    use chrono::TimeZone;
    use domain::clue::OwedNotice;
    use domain::event::NoticeRecord;
    use domain::notice::NoticeContent;
    use domain::{ClueId, NoticeId};

    use super::*;

    /// An in-memory store of one clue's deliveries, built from a real receipt.
    pub(crate) struct FakeStore {
        pub delivery: Mutex<Delivery>,
        pub timeline: Mutex<Vec<DeliveryStatus>>,
    }

    impl NoticeDeliveries for FakeStore {
        async fn delivery(&self, _c: &ClueId, _n: &NoticeId) -> Result<Delivery, StoreError> {
            Ok(self.delivery.lock().expect("lock").clone())
        }

        async fn begin_attempt(
            &self,
            previous: Option<&SendAttempt>,
            attempt: &SendAttempt,
        ) -> Result<(), StoreError> {
            let mut d = self.delivery.lock().expect("lock");
            let id = |a: &SendAttempt| a.attempt.attempt_id.clone();
            if d.attempt.as_ref().map(id) != previous.map(id) {
                return Err(StoreError::Conflict);
            }
            d.attempt = Some(attempt.clone());
            Ok(())
        }

        async fn finish_attempt(
            &self,
            _delivery: &Delivery,
            attempt: &SendAttempt,
            status: Option<DeliveryStatus>,
            _now: DateTime<Utc>,
        ) -> Result<(), StoreError> {
            let mut d = self.delivery.lock().expect("lock");
            if d.attempt.as_ref().map(|a| &a.attempt.attempt_id)
                != Some(&attempt.attempt.attempt_id)
            {
                return Err(StoreError::Conflict);
            }
            d.attempt = Some(attempt.clone());
            if let Some(s) = status {
                d.notice.delivery = s.clone();
                self.timeline.lock().expect("lock").push(s);
            }
            Ok(())
        }
    }

    /// A sender answering from a script (then success), recording what reached "WeChat".
    #[derive(Default)]
    pub(crate) struct FakeSender {
        pub subscribe_script: Mutex<Vec<WechatError>>,
        pub text_script: Mutex<Vec<WechatError>>,
        pub subscribed: Mutex<Vec<SubscribeMessage>>,
        pub texts: Mutex<Vec<String>>,
    }

    impl Sender for FakeSender {
        async fn subscribe(&self, m: &SubscribeMessage) -> Result<Option<String>, WechatError> {
            if let Some(e) = self.subscribe_script.lock().expect("lock").pop() {
                return Err(e);
            }
            let mut sent = self.subscribed.lock().expect("lock");
            sent.push(m.clone());
            Ok(Some(format!("msg{}", sent.len())))
        }

        async fn text(&self, _openid: &str, text: &str) -> Result<(), WechatError> {
            if let Some(e) = self.text_script.lock().expect("lock").pop() {
                return Err(e);
            }
            self.texts.lock().expect("lock").push(text.to_owned());
            Ok(())
        }
    }

    pub(crate) struct FixedClock;

    impl Clock for FixedClock {
        fn now(&self) -> DateTime<Utc> {
            Utc.with_ymd_and_hms(2026, 3, 10, 2, 0, 0)
                .single()
                .expect("t")
        }
    }

    pub(crate) fn api(errcode: i64) -> WechatError {
        WechatError::Api {
            errcode,
            errmsg: "simulated".into(),
        }
    }

    pub(crate) fn template() -> Template {
        Template {
            template_id: "tpl".into(),
            clue_no_field: "character_string1".into(),
            outcome_field: "phrase2".into(),
            date_field: "time3".into(),
            page_url: "https://h5/notice.html#{clue}/{notice}".into(),
        }
    }

    /// A received clue's state, built by the domain's own receipt decision.
    pub(crate) fn fake_store() -> FakeStore {
        let record = NoticeRecord {
            id: NoticeId::parse("c1:0:0").expect("id"),
            content: NoticeContent::Receipt,
            text: NoticeContent::Receipt.render(),
            source: ClueId::parse("c1").expect("id"),
        };
        let notice = OwedNotice {
            record,
            owed_at: FixedClock.now(),
            delivery: DeliveryStatus::Queued,
        };
        FakeStore {
            delivery: Mutex::new(Delivery {
                stored: crate::testing::stored_clue("c1"),
                notice,
                attempt: None,
                openid: "o1".into(),
            }),
            timeline: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn message() -> NoticeMessage {
        NoticeMessage {
            clue_id: ClueId::parse("c1").expect("id"),
            notice_id: NoticeId::parse("c1:0:0").expect("id"),
        }
    }

    async fn run(store: &FakeStore, sender: &FakeSender) -> Outcome {
        deliver(store, sender, &FixedClock, &template(), &message())
            .await
            .expect("deliver")
    }

    #[tokio::test]
    async fn a_notice_is_sent_with_the_clue_number_outcome_date_and_link() {
        let (store, sender) = (fake_store(), FakeSender::default());
        let outcome = run(&store, &sender).await;
        assert_eq!(
            outcome,
            Outcome::Sent {
                possible_duplicate: false
            }
        );
        let sent = sender.subscribed.lock().expect("lock").clone();
        assert_eq!(sent.len(), 1);
        let m = &sent[0];
        assert_eq!(m.data["character_string1"], "330106-20260310-0001");
        assert_eq!(m.data["phrase2"], "已接收");
        assert_eq!(m.data["time3"], "2026年3月10日");
        assert_eq!(m.page.as_deref(), Some("https://h5/notice.html#c1/c1:0:0"));
        assert_eq!(
            *sender.texts.lock().expect("lock"),
            [NoticeContent::Receipt.render()]
        );
        assert_eq!(
            *store.timeline.lock().expect("lock"),
            [DeliveryStatus::Sent {
                msgid: "msg1".into(),
                possible_duplicate: false
            }]
        );
    }

    #[tokio::test]
    async fn a_redelivered_message_of_a_sent_notice_sends_nothing() {
        let (store, sender) = (fake_store(), FakeSender::default());
        run(&store, &sender).await;
        assert_eq!(run(&store, &sender).await, Outcome::AlreadyFinal);
        assert_eq!(sender.subscribed.lock().expect("lock").len(), 1);
    }

    #[tokio::test]
    async fn passing_failures_retry_and_only_the_first_reaches_the_timeline() {
        let (store, sender) = (fake_store(), FakeSender::default());
        *sender.subscribe_script.lock().expect("lock") = vec![api(45009), api(-1)];
        assert!(matches!(run(&store, &sender).await, Outcome::Retry { .. }));
        assert!(matches!(run(&store, &sender).await, Outcome::Retry { .. }));
        assert_eq!(
            run(&store, &sender).await,
            Outcome::Sent {
                possible_duplicate: false
            },
            "errcode answers reached nobody: no duplicate is possible"
        );
        let timeline = store.timeline.lock().expect("lock").clone();
        assert_eq!(timeline.len(), 2, "{timeline:?}");
        assert_eq!(
            timeline[0],
            DeliveryStatus::Failed {
                reason: "wechat -1: simulated".into()
            }
        );
        let attempt = store.delivery.lock().expect("lock").attempt.clone();
        assert_eq!(attempt.map(|a| a.attempt.attempts), Some(3));
    }

    #[tokio::test]
    async fn permanent_refusals_are_undeliverable_with_the_reason() {
        let (store, sender) = (fake_store(), FakeSender::default());
        *sender.subscribe_script.lock().expect("lock") = vec![api(43004)];
        *sender.text_script.lock().expect("lock") = vec![api(43004)];
        assert_eq!(
            run(&store, &sender).await,
            Outcome::Undeliverable {
                reason: "wechat 43004: simulated".into()
            }
        );
        assert_eq!(run(&store, &sender).await, Outcome::AlreadyFinal);
    }

    #[tokio::test]
    async fn a_refused_subscription_falls_back_to_the_open_chat_window() {
        let (store, sender) = (fake_store(), FakeSender::default());
        *sender.subscribe_script.lock().expect("lock") = vec![api(43101)];
        assert!(matches!(run(&store, &sender).await, Outcome::Sent { .. }));
        assert_eq!(sender.texts.lock().expect("lock").len(), 1);
    }

    #[tokio::test]
    async fn a_closed_chat_window_leaves_the_subscription_as_the_delivery() {
        let (store, sender) = (fake_store(), FakeSender::default());
        *sender.text_script.lock().expect("lock") = vec![api(45015)];
        assert!(matches!(run(&store, &sender).await, Outcome::Sent { .. }));
        let attempt = store.delivery.lock().expect("lock").attempt.clone();
        assert_eq!(
            attempt.and_then(|a| a.attempt.text_message).as_deref(),
            Some("not sent: wechat 45015: simulated")
        );
    }

    #[tokio::test]
    async fn an_unfinished_attempt_makes_the_next_send_a_possible_duplicate() {
        let (store, sender) = (fake_store(), FakeSender::default());
        // A crash after the send: the record says `sending`, no outcome.
        {
            let mut d = store.delivery.lock().expect("lock");
            d.attempt = Some(SendAttempt::begin(
                &d.stored.clue.id,
                &d.notice.record.id,
                None,
                "crashed".into(),
                FixedClock.now(),
            ));
        }
        assert_eq!(
            run(&store, &sender).await,
            Outcome::Sent {
                possible_duplicate: true
            }
        );
        assert!(matches!(
            store.timeline.lock().expect("lock")[0],
            DeliveryStatus::Sent {
                possible_duplicate: true,
                ..
            }
        ));
    }

    #[tokio::test]
    async fn a_notice_waits_while_an_earlier_notice_of_its_clue_is_not_final() {
        let (store, sender) = (fake_store(), FakeSender::default());
        // The clue's own receipt notice (owed first, still queued), then the notice delivered.
        let (earlier, later) = {
            let mut d = store.delivery.lock().expect("lock");
            let earlier = d.stored.clue.notices[0].record.id.clone();
            let mut later = d.notice.clone();
            later.record.id = NoticeId::parse("c1:9:0").expect("id");
            d.stored.clue.notices.push(later.clone());
            d.notice = later.clone();
            (earlier, later.record.id)
        };
        let message = NoticeMessage {
            clue_id: ClueId::parse("c1").expect("id"),
            notice_id: later,
        };
        let template = template();
        let go = || deliver(&store, &sender, &FixedClock, &template, &message);
        let outcome = go().await.expect("deliver");
        assert_eq!(
            outcome,
            Outcome::Retry {
                reason: format!("waits for the earlier notice {earlier}")
            }
        );
        assert!(sender.subscribed.lock().expect("lock").is_empty());
        assert!(store.timeline.lock().expect("lock").is_empty());
        // A failed earlier notice still holds it back; once given up (or sent), it goes.
        store.delivery.lock().expect("lock").stored.clue.notices[0].delivery =
            DeliveryStatus::Failed {
                reason: "wechat -1".into(),
            };
        assert!(matches!(
            go().await.expect("deliver"),
            Outcome::Retry { .. }
        ));
        store.delivery.lock().expect("lock").stored.clue.notices[0].delivery =
            DeliveryStatus::Undeliverable {
                reason: "wechat 43004".into(),
            };
        assert_eq!(
            go().await.expect("deliver"),
            Outcome::Sent {
                possible_duplicate: false
            }
        );
        assert_eq!(sender.subscribed.lock().expect("lock").len(), 1);
    }
}
