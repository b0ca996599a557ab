//! One officer reminder to one bound officer, exactly once, through the same engine as a notice
//! ([`crate::engine`]): read, record the attempt, send, record the outcome (on the delivery item
//! and the reminder's console entry). An officer who unbound meanwhile is recorded `unbound`
//! (console only).

use std::collections::BTreeMap;

use domain::calendar::shanghai_date;
use domain::notice::format_date;
use outbox::ReminderMessage;
use store::{Attempt, ReminderDeliveries, ReminderDelivery, ReminderDeliveryStatus, StoreError};
use wechat::SubscribeMessage;

use crate::deliver::{Clock, Outcome, Sender};
use crate::engine::{self, Job, Verdict};

/// The reminders' subscribe-notification template (configuration: `REMINDER_TEMPLATE_ID`,
/// `REMINDER_FIELD_*`, `REMINDER_PAGE_URL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderTemplate {
    pub template_id: String,
    /// Field carrying the clue number (e.g. `character_string1`).
    pub clue_no_field: String,
    /// Field carrying the reminder's kind (e.g. `phrase2`: 即将到期 / 已逾期 / 逾期督办).
    pub kind_field: String,
    /// Field carrying the due day (e.g. `time3`, Asia/Shanghai; a new message's: the day it came).
    pub due_field: String,
    /// The officer console's reminder page, `{reminder}` replaced by the id.
    pub page_url: String,
}

impl ReminderTemplate {
    /// The subscribe message of a reminder to `openid`.
    pub fn message(&self, delivery: &ReminderDelivery, openid: &str) -> SubscribeMessage {
        let r = &delivery.reminder;
        SubscribeMessage {
            touser: openid.to_owned(),
            template_id: self.template_id.clone(),
            page: Some(self.page_url.replace("{reminder}", r.id.as_str())),
            data: BTreeMap::from([
                (self.clue_no_field.clone(), r.clue_no.as_str().to_owned()),
                (self.kind_field.clone(), r.kind.label().to_owned()),
                (self.due_field.clone(), format_date(shanghai_date(r.day()))),
            ]),
        }
    }
}

/// A reminder to deliver to one officer, as read: the [`Job`] of the engine.
struct ReminderJob<'a, D> {
    store: &'a D,
    template: &'a ReminderTemplate,
    delivery: ReminderDelivery,
}

impl<D: ReminderDeliveries> Job for ReminderJob<'_, D> {
    type Status = ReminderDeliveryStatus;

    const NOUN: &'static str = "reminder";

    fn attempt(&self) -> Option<&Attempt> {
        self.delivery.attempt.as_ref()
    }

    fn delivered(&self) -> bool {
        self.delivery.status.is_final()
    }

    fn recipient(&self) -> Option<&str> {
        self.delivery.openid.as_deref()
    }

    fn subscribe_message(&self, openid: &str) -> SubscribeMessage {
        self.template.message(&self.delivery, openid)
    }

    fn text(&self) -> &str {
        &self.delivery.reminder.text
    }

    fn status(&self, verdict: &Verdict) -> ReminderDeliveryStatus {
        match verdict {
            Verdict::Sent {
                msgid,
                possible_duplicate,
            } => ReminderDeliveryStatus::Sent {
                msgid: msgid.clone(),
                possible_duplicate: *possible_duplicate,
            },
            Verdict::Undeliverable { reason } => ReminderDeliveryStatus::Undeliverable {
                reason: reason.clone(),
            },
            Verdict::Unbound => ReminderDeliveryStatus::Unbound,
            Verdict::Failed { reason } => ReminderDeliveryStatus::Failed {
                reason: reason.clone(),
            },
        }
    }

    async fn begin(&self, attempt: &Attempt) -> Result<(), StoreError> {
        self.store
            .begin_reminder_attempt(&self.delivery, attempt)
            .await
    }

    async fn finish(
        &self,
        attempt: &Attempt,
        status: ReminderDeliveryStatus,
    ) -> Result<(), StoreError> {
        self.store
            .finish_reminder_attempt(&self.delivery, attempt, &status)
            .await
    }
}

/// Delivers the reminder of `message` to its officer once (see [`crate::engine`]).
///
/// # Errors
/// Store failures other than a conflict (the message is retried by the caller).
pub async fn deliver_reminder<D, S, C>(
    store: &D,
    sender: &S,
    clock: &C,
    template: &ReminderTemplate,
    message: &ReminderMessage,
) -> Result<Outcome, StoreError>
where
    D: ReminderDeliveries,
    S: Sender,
    C: Clock,
{
    let Some(delivery) = engine::known(
        store
            .reminder_delivery(&message.reminder_id, &message.officer_id)
            .await,
        "reminder",
    )?
    else {
        return Ok(Outcome::Unknown);
    };
    let job = ReminderJob {
        store,
        template,
        delivery,
    };
    engine::run(&job, sender, clock).await
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Mutex;

    use chrono::{DateTime, TimeZone, Utc};
    use domain::deadline::DeadlineKind;
    use domain::reminder::{Reminder, ReminderKind, ReminderRecipient};
    use domain::{BureauId, ClueId, ClueNo, OfficerId};

    use store::ReminderAttempt;

    use super::*;
    use crate::deliver::tests::{FakeSender, FakeStore, FixedClock, api};

    /// The notice fake answers no reminder (the batch tests never send one).
    impl ReminderDeliveries for FakeStore {
        async fn reminder_delivery(
            &self,
            id: &domain::ReminderId,
            _o: &OfficerId,
        ) -> Result<ReminderDelivery, StoreError> {
            Err(StoreError::NotFound(format!("reminder {id}")))
        }
        async fn begin_reminder_attempt(
            &self,
            _d: &ReminderDelivery,
            _a: &ReminderAttempt,
        ) -> Result<(), StoreError> {
            Err(StoreError::Conflict)
        }
        async fn finish_reminder_attempt(
            &self,
            _d: &ReminderDelivery,
            _a: &ReminderAttempt,
            _s: &ReminderDeliveryStatus,
        ) -> Result<(), StoreError> {
            Err(StoreError::Conflict)
        }
    }

    struct OneDelivery(Mutex<ReminderDelivery>);

    impl ReminderDeliveries for OneDelivery {
        async fn reminder_delivery(
            &self,
            _id: &domain::ReminderId,
            _o: &OfficerId,
        ) -> Result<ReminderDelivery, StoreError> {
            Ok(self.0.lock().expect("lock").clone())
        }
        async fn begin_reminder_attempt(
            &self,
            d: &ReminderDelivery,
            a: &ReminderAttempt,
        ) -> Result<(), StoreError> {
            let mut cur = self.0.lock().expect("lock");
            if cur.attempt.as_ref().map(|x| &x.attempt_id)
                != d.attempt.as_ref().map(|x| &x.attempt_id)
            {
                return Err(StoreError::Conflict);
            }
            cur.attempt = Some(a.clone());
            Ok(())
        }
        async fn finish_reminder_attempt(
            &self,
            _d: &ReminderDelivery,
            a: &ReminderAttempt,
            s: &ReminderDeliveryStatus,
        ) -> Result<(), StoreError> {
            let mut cur = self.0.lock().expect("lock");
            if cur.attempt.as_ref().map(|x| &x.attempt_id) != Some(&a.attempt_id) {
                return Err(StoreError::Conflict);
            }
            cur.attempt = Some(a.clone());
            cur.status = s.clone();
            Ok(())
        }
    }

    fn due() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 18, 15, 59, 59)
            .single()
            .expect("t")
    }

    fn store(openid: Option<&str>) -> OneDelivery {
        let reminder = Reminder::new(
            ReminderRecipient::Bureau {
                bureau: BureauId::parse("land-330106").expect("id"),
            },
            ClueId::parse("c1").expect("id"),
            ClueNo::parse("330106-20260310-0001").expect("no"),
            ReminderKind::DueSoon,
            DeadlineKind::Judgment,
            due(),
            FixedClock.now(),
        );
        OneDelivery(Mutex::new(ReminderDelivery {
            reminder,
            officer: OfficerId::parse("o1").expect("id"),
            status: ReminderDeliveryStatus::Queued,
            attempt: None,
            openid: openid.map(str::to_owned),
        }))
    }

    pub(crate) fn template() -> ReminderTemplate {
        ReminderTemplate {
            template_id: "tpl_reminder".into(),
            clue_no_field: "character_string1".into(),
            kind_field: "phrase2".into(),
            due_field: "time3".into(),
            page_url: "https://console/officer/#/reminders/{reminder}".into(),
        }
    }

    fn message(s: &OneDelivery) -> ReminderMessage {
        let d = s.0.lock().expect("lock");
        ReminderMessage {
            reminder_id: d.reminder.id.clone(),
            officer_id: d.officer.clone(),
        }
    }

    async fn run(s: &OneDelivery, sender: &FakeSender) -> Outcome {
        deliver_reminder(s, sender, &FixedClock, &template(), &message(s))
            .await
            .expect("deliver")
    }

    #[tokio::test]
    async fn a_bound_officer_gets_the_reminder_once_with_its_fields_and_text() {
        let (s, sender) = (store(Some("oOfficer1")), FakeSender::default());
        assert_eq!(
            run(&s, &sender).await,
            Outcome::Sent {
                possible_duplicate: false
            }
        );
        assert_eq!(run(&s, &sender).await, Outcome::AlreadyFinal);
        let sent = sender.subscribed.lock().expect("lock").clone();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].template_id, "tpl_reminder");
        assert_eq!(sent[0].data["character_string1"], "330106-20260310-0001");
        assert_eq!(sent[0].data["phrase2"], "即将到期");
        assert_eq!(sent[0].data["time3"], "2026年3月18日");
        let text = s.0.lock().expect("lock").reminder.text.clone();
        assert_eq!(*sender.texts.lock().expect("lock"), [text]);
    }

    #[tokio::test]
    async fn an_unbound_officer_is_recorded_console_only_without_a_send() {
        let (s, sender) = (store(None), FakeSender::default());
        assert!(matches!(
            run(&s, &sender).await,
            Outcome::Undeliverable { .. }
        ));
        assert_eq!(
            s.0.lock().expect("lock").status,
            ReminderDeliveryStatus::Unbound
        );
        assert!(sender.subscribed.lock().expect("lock").is_empty());
        assert_eq!(run(&s, &sender).await, Outcome::AlreadyFinal);
    }

    #[tokio::test]
    async fn passing_failures_retry_and_permanent_ones_are_undeliverable() {
        let (s, sender) = (store(Some("oOfficer1")), FakeSender::default());
        *sender.subscribe_script.lock().expect("lock") = vec![api(43004), api(-1)];
        *sender.text_script.lock().expect("lock") = vec![api(45015)];
        assert!(matches!(run(&s, &sender).await, Outcome::Retry { .. }));
        assert!(matches!(
            s.0.lock().expect("lock").status,
            ReminderDeliveryStatus::Failed { .. }
        ));
        assert_eq!(
            run(&s, &sender).await,
            Outcome::Undeliverable {
                reason: "wechat 43004: simulated".into()
            }
        );
        assert_eq!(run(&s, &sender).await, Outcome::AlreadyFinal);
        assert_eq!(
            s.0.lock()
                .expect("lock")
                .attempt
                .as_ref()
                .map(|a| a.attempts),
            Some(2)
        );
    }

    #[tokio::test]
    async fn an_answerless_failure_makes_the_next_send_a_possible_duplicate() {
        // The same engine as notices: a 502 may have reached WeChat, so the attempt stays
        // `sending` and the next one is marked; a refusal with an answer is not.
        let (s, sender) = (store(Some("oOfficer1")), FakeSender::default());
        *sender.subscribe_script.lock().expect("lock") =
            vec![wechat::WechatError::HttpStatus(502), api(-1)];
        assert!(matches!(run(&s, &sender).await, Outcome::Retry { .. }));
        assert_eq!(
            s.0.lock().expect("lock").attempt.as_ref().map(|a| a.state),
            Some(store::AttemptState::Failed)
        );
        assert!(matches!(run(&s, &sender).await, Outcome::Retry { .. }));
        assert_eq!(
            run(&s, &sender).await,
            Outcome::Sent {
                possible_duplicate: true
            }
        );
        assert!(matches!(
            s.0.lock().expect("lock").status,
            ReminderDeliveryStatus::Sent {
                possible_duplicate: true,
                ..
            }
        ));
    }
}
