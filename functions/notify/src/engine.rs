//! The one delivery engine notices and reminders share: refuse what is already final, record
//! the attempt before calling WeChat, send (the subscription message, the chat-window text as
//! the fallback for a refused subscription), record the outcome. Each kind of delivery is a
//! [`Job`]: what it reads, where it records, and how an outcome shows on its own record; the
//! attempt's transitions are [`store::Attempt`]'s, so a fix to one kind is a fix to both.

use std::future::Future;

use store::{Attempt, StoreError};
use tracing::{info, warn};
use wechat::{ErrorClass, SubscribeMessage, WechatError};

use crate::deliver::{Clock, Outcome, Sender};

/// One delivery to one recipient, as read, with the store calls that record it.
pub trait Job: Send + Sync {
    /// What the delivery's own record keeps of an outcome (the notice's timeline status, the
    /// reminder delivery's status).
    type Status: Send;

    /// What is delivered, in reasons and logs (`notice`, `reminder`).
    const NOUN: &'static str;

    /// The attempt record as read (none before the first attempt).
    fn attempt(&self) -> Option<&Attempt>;

    /// Whether the delivery's own record is already final.
    fn delivered(&self) -> bool;

    /// Why it must wait for another delivery first, if it must.
    fn held(&self) -> Option<String> {
        None
    }

    /// The recipient's openid; `None` when there is nobody on WeChat to send to.
    fn recipient(&self) -> Option<&str>;

    /// The subscription message to `openid`.
    fn subscribe_message(&self, openid: &str) -> SubscribeMessage;

    /// The full text, for the customer-service message.
    fn text(&self) -> &str;

    /// What the delivery's record keeps of `verdict`.
    fn status(&self, verdict: &Verdict) -> Self::Status;

    /// Records that `attempt` begins; [`StoreError::Conflict`] if another began since the read.
    fn begin(&self, attempt: &Attempt) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records the attempt's outcome and `status`, atomically; [`StoreError::Conflict`] if
    /// another attempt took over.
    fn finish(
        &self,
        attempt: &Attempt,
        status: Self::Status,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// What one send came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// WeChat accepted it.
    Sent {
        msgid: String,
        possible_duplicate: bool,
    },
    /// WeChat refused it for good.
    Undeliverable { reason: String },
    /// Nobody to send it to on WeChat (an officer who unbound).
    Unbound,
    /// Not delivered this time; retried.
    Failed { reason: String },
}

impl Verdict {
    /// What becomes of the queue message.
    pub fn outcome(&self) -> Outcome {
        match self {
            Self::Sent {
                possible_duplicate, ..
            } => Outcome::Sent {
                possible_duplicate: *possible_duplicate,
            },
            Self::Undeliverable { reason } => Outcome::Undeliverable {
                reason: reason.clone(),
            },
            Self::Unbound => Outcome::Undeliverable {
                reason: "the recipient unbound WeChat: console only".into(),
            },
            Self::Failed { reason } => Outcome::Retry {
                reason: reason.clone(),
            },
        }
    }
}

/// A reason as recorded and shown to the officer: WeChat's errcode and message, or the class of
/// a transport failure. Never a URL, token or openid.
pub fn reason(e: &WechatError) -> String {
    match e {
        WechatError::Api { errcode, errmsg } => format!("wechat {errcode}: {errmsg}"),
        WechatError::HttpStatus(status) => format!("wechat http {status}"),
        other => format!("wechat {}", other.code()),
    }
}

/// Whether WeChat may have accepted a call that failed this way (no definite answer).
fn ambiguous(e: &WechatError) -> bool {
    match e {
        WechatError::Timeout(_) | WechatError::Transport(_) | WechatError::Decode(_) => true,
        WechatError::HttpStatus(s) => *s >= 500,
        _ => false,
    }
}

/// The store's read of a queue message: `None` when it names nothing stored (nothing can ever
/// be sent; the message is acknowledged).
///
/// # Errors
/// Other store failures.
pub fn known<T>(read: Result<T, StoreError>, noun: &str) -> Result<Option<T>, StoreError> {
    match read {
        Ok(t) => Ok(Some(t)),
        Err(StoreError::NotFound(what)) => {
            warn!(%what, noun, "queue message names nothing stored; acknowledged");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Delivers `job` once.
///
/// # Errors
/// Store failures other than a conflict (the message is retried by the caller).
pub async fn run<J: Job, S: Sender, C: Clock>(
    job: &J,
    sender: &S,
    clock: &C,
) -> Result<Outcome, StoreError> {
    let noun = J::NOUN;
    if job.delivered() || job.attempt().is_some_and(Attempt::is_final) {
        info!(noun, "already delivered; acknowledged without a send");
        return Ok(Outcome::AlreadyFinal);
    }
    if let Some(reason) = job.held() {
        info!(noun, %reason, "held back; waiting");
        return Ok(Outcome::Retry { reason });
    }
    let mut attempt = Attempt::begin(job.attempt(), clock.attempt_id(), clock.now());
    match job.begin(&attempt).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => {
            return Ok(Outcome::Retry {
                reason: format!("another attempt began on this {noun}"),
            });
        }
        Err(e) => return Err(e),
    }
    if attempt.possible_duplicate {
        warn!(
            noun,
            attempts = attempt.attempts,
            "an earlier attempt's outcome is unknown: sending again, marked possible duplicate"
        );
    }
    let verdict = send(job, sender, &mut attempt).await;
    attempt.finish(clock.now());
    match job.finish(&attempt, job.status(&verdict)).await {
        Ok(()) => Ok(verdict.outcome()),
        Err(StoreError::Conflict) => Ok(Outcome::Retry {
            reason: format!("another attempt took over this {noun}"),
        }),
        Err(e) => Err(e),
    }
}

/// The WeChat calls of one attempt, and the attempt's transition by their answers.
async fn send<J: Job, S: Sender>(job: &J, sender: &S, attempt: &mut Attempt) -> Verdict {
    let Some(openid) = job.recipient() else {
        attempt.undeliverable("unbound".into());
        return Verdict::Unbound;
    };
    let text = job.text();
    let sent = |attempt: &mut Attempt, msgid: String| {
        attempt.sent(msgid.clone());
        Verdict::Sent {
            msgid,
            possible_duplicate: attempt.possible_duplicate,
        }
    };
    match sender.subscribe(&job.subscribe_message(openid)).await {
        Ok(msgid) => {
            attempt.text_message = Some(text_message(sender, openid, text).await);
            let msgid = msgid.unwrap_or_else(|| format!("attempt-{}", attempt.attempt_id));
            sent(attempt, msgid)
        }
        Err(e) if e.class() == ErrorClass::Permanent => {
            // No subscription (or refused): the customer-service window may still be open.
            let why = reason(&e);
            match sender.text(openid, text).await {
                Ok(()) => {
                    attempt.last_error = Some(why);
                    attempt.text_message = Some("sent".into());
                    let msgid = format!("text-{}", attempt.attempt_id);
                    sent(attempt, msgid)
                }
                Err(_) => {
                    attempt.undeliverable(why.clone());
                    Verdict::Undeliverable { reason: why }
                }
            }
        }
        Err(e) => {
            let why = reason(&e);
            attempt.failed(why.clone(), ambiguous(&e));
            Verdict::Failed { reason: why }
        }
    }
}

/// The full text as a customer-service message, best effort: the verbatim text is on the H5
/// page (or the console) in any case. One retry for a passing failure; the result is kept on
/// the record.
async fn text_message<S: Sender>(sender: &S, openid: &str, text: &str) -> String {
    let mut last = String::new();
    for _ in 0..2 {
        match sender.text(openid, text).await {
            Ok(()) => return "sent".into(),
            Err(e) => {
                last = reason(&e);
                if e.class() != ErrorClass::Retryable {
                    break;
                }
            }
        }
    }
    format!("not sent: {last}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answerless_failures_are_ambiguous_and_answers_are_not() {
        assert!(ambiguous(&WechatError::HttpStatus(502)));
        assert!(!ambiguous(&WechatError::HttpStatus(404)));
        assert!(!ambiguous(&WechatError::Api {
            errcode: -1,
            errmsg: "busy".into()
        }));
        assert_eq!(
            reason(&WechatError::Api {
                errcode: 43004,
                errmsg: "require subscribe".into()
            }),
            "wechat 43004: require subscribe"
        );
    }

    #[test]
    fn each_verdict_becomes_its_queue_outcome() {
        let sent = Verdict::Sent {
            msgid: "m".into(),
            possible_duplicate: true,
        };
        assert_eq!(
            sent.outcome(),
            Outcome::Sent {
                possible_duplicate: true
            }
        );
        assert!(matches!(
            Verdict::Unbound.outcome(),
            Outcome::Undeliverable { .. }
        ));
        let failed = Verdict::Failed { reason: "r".into() };
        assert!(!failed.outcome().acknowledges());
        assert!(
            Verdict::Undeliverable { reason: "r".into() }
                .outcome()
                .acknowledges()
        );
    }
}
