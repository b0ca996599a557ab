//! One send attempt's record and its pure transitions: the intent log that makes a WeChat
//! delivery exactly-once, kept alike for notices ([`crate::SendAttempt`]) and officer reminders
//! ([`crate::ReminderAttempt`]). Written before the WeChat call (`sending`) and after it (the
//! outcome); see [`crate::delivery`] for how the store conditions both writes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where one delivery's sending stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptState {
    /// An attempt began and its outcome is not recorded: it may have reached WeChat.
    Sending,
    /// The last attempt certainly did not reach WeChat (an error answer); retried.
    Failed,
    /// WeChat accepted it (final).
    Sent,
    /// WeChat refused it for good (final).
    Undeliverable,
}

/// The current attempt of one delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// The current attempt (a fresh random id per attempt).
    pub attempt_id: String,
    pub state: AttemptState,
    /// Attempts begun so far (this one included).
    pub attempts: u32,
    pub started_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// Why the last attempt failed (an errcode and WeChat's message, or a transport class).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// WeChat's id of the subscription message, once sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msgid: Option<String>,
    /// An earlier attempt's outcome was unknown when this one was sent.
    #[serde(default)]
    pub possible_duplicate: bool,
    /// What became of the full text as a customer-service message (`sent`, or why not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_message: Option<String>,
}

impl Attempt {
    /// The next attempt after `previous` (none for the first).
    pub fn begin(previous: Option<&Attempt>, attempt_id: String, now: DateTime<Utc>) -> Self {
        Self {
            attempt_id,
            state: AttemptState::Sending,
            attempts: previous.map_or(0, |p| p.attempts) + 1,
            started_at: now,
            finished_at: None,
            last_error: previous.and_then(|p| p.last_error.clone()),
            msgid: None,
            // Once a duplicate is possible it stays possible.
            possible_duplicate: previous
                .is_some_and(|p| p.state == AttemptState::Sending || p.possible_duplicate),
            text_message: None,
        }
    }

    /// Whether the delivery is done or given up (nothing more to send).
    pub fn is_final(&self) -> bool {
        matches!(self.state, AttemptState::Sent | AttemptState::Undeliverable)
    }

    /// WeChat accepted it as `msgid`.
    pub fn sent(&mut self, msgid: String) {
        self.msgid = Some(msgid);
        self.state = AttemptState::Sent;
    }

    /// WeChat refused it for good (or there is nobody to send it to), for `reason`.
    pub fn undeliverable(&mut self, reason: String) {
        self.last_error = Some(reason);
        self.state = AttemptState::Undeliverable;
    }

    /// It failed for `reason`; `ambiguous` when the failure gave no definite answer, so WeChat
    /// may have it: the attempt then stays `sending` and the next one is a possible duplicate.
    pub fn failed(&mut self, reason: String, ambiguous: bool) {
        self.last_error = Some(reason);
        self.state = if ambiguous {
            AttemptState::Sending
        } else {
            AttemptState::Failed
        };
    }

    /// The outcome is recorded at `now`.
    pub fn finish(&mut self, now: DateTime<Utc>) {
        self.finished_at = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attempt_after_an_unfinished_one_may_be_a_duplicate() {
        let now = Utc::now();
        let a1 = Attempt::begin(None, "a1".into(), now);
        assert_eq!((a1.attempts, a1.possible_duplicate), (1, false));
        let a2 = Attempt::begin(Some(&a1), "a2".into(), now);
        assert_eq!((a2.attempts, a2.possible_duplicate), (2, true));
        let mut refused = Attempt::begin(None, "a1".into(), now);
        refused.failed("wechat -1: busy".into(), false);
        let a3 = Attempt::begin(Some(&refused), "a3".into(), now);
        assert!(!a3.possible_duplicate, "a refused attempt reached nobody");
        assert_eq!(a3.last_error.as_deref(), Some("wechat -1: busy"));
        let mut lost = Attempt::begin(None, "a1".into(), now);
        lost.failed("wechat timeout".into(), true);
        assert_eq!(lost.state, AttemptState::Sending);
        let mut after = Attempt::begin(Some(&lost), "a4".into(), now);
        assert!(after.possible_duplicate);
        after.failed("wechat -1: busy".into(), false);
        assert!(
            Attempt::begin(Some(&after), "a5".into(), now).possible_duplicate,
            "once possible, a duplicate stays possible"
        );
    }

    #[test]
    fn sent_and_undeliverable_are_final_and_failures_are_not() {
        let now = Utc::now();
        let mut a = Attempt::begin(None, "a1".into(), now);
        assert!(!a.is_final());
        a.failed("x".into(), false);
        assert!(!a.is_final());
        a.sent("m1".into());
        assert!(a.is_final());
        assert_eq!(a.msgid.as_deref(), Some("m1"));
        let mut b = Attempt::begin(None, "b1".into(), now);
        b.undeliverable("wechat 43004: refused".into());
        assert!(b.is_final());
        b.finish(now);
        assert_eq!(b.finished_at, Some(now));
    }
}
