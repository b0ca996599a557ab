//! `intake`: the WeChat callback (`/wechat/callback`) and the reporter H5 API (`/api/reporter/*`).
//!
//! The binary (`main.rs`) reads its configuration and secrets once per cold start, builds an
//! [`App`] and maps each API Gateway request to [`App::handle`]. Everything else is here, generic
//! over the store traits so tests run it against moto or in memory.
//!
//! # Layout
//! - [`http`]: [`Req`], [`Resp`], stable JSON errors.
//! - [`callback`]: verification, dedup, subscribe/menu answers, the guided chat.
//! - [`api`]: OAuth → session cookie, divisions, reporting notice, clues (public view), messages.
//! - [`message_reminder`]: a reporter's new message → a reminder for the handling officer.
//! - [`report`]: filing a clue from either channel: block list, attachments, rate limits, store.
//! - [`surge`]: a surge of clues in a county: marked for review and alarmed, never refused.
//! - [`ports`]: the side-table trait ([`ports::Side`]) and the media download queue, with fakes.

pub mod api;
pub mod callback;
pub mod message_reminder;
/// The HTTP shapes (shared with the officer API).
pub use ::api as http;
pub mod ports;
pub mod report;
pub mod surge;

use chrono::{DateTime, Utc};
use outbox::NoticeQueue;
use session::SessionKey;
use store::{ClueStore, ReminderIssuer, ReporterKeyer};
use wechat::{ApiClient, Callback, InMemoryTokenCache};

pub use http::{ApiError, PublicOrigin, Req, Resp};

use crate::ports::{MediaQueue, Side};

/// Everything a request needs, built once per cold start.
pub struct App<S, R, Q, M> {
    pub store: S,
    pub side: R,
    pub notices: Q,
    pub media: M,
    pub callback: Callback,
    /// OAuth code → openid (no access token needed).
    pub oauth: ApiClient<InMemoryTokenCache>,
    /// `https://open.weixin.qq.com` (the simulator locally).
    pub oauth_base: String,
    pub appid: String,
    pub session: SessionKey,
    pub keyer: ReporterKeyer,
    /// The platform's one public origin: every link sent, the OAuth `redirect_uri`, the
    /// cookies' Secure flag, the check of browser POSTs.
    pub public: PublicOrigin,
    /// The surge line per county and hour, and the stack the surge metric names.
    pub surge: surge::Surge,
}

/// Plain (unencrypted) callbacks, refused outside local development.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the WeChat secret has no EncodingAESKey: plain callbacks (whose signature does not cover the body) are allowed only for local development (PUBLIC_ORIGIN on loopback), not at {0}"
)]
pub struct PlainModeRefused(pub String);

/// The callback's EncodingAESKey: `None` (plain mode) only when the public origin is local.
///
/// # Errors
/// [`PlainModeRefused`] for a missing, empty or `plain` key anywhere else.
pub fn callback_aes_key<'a>(
    key: Option<&'a str>,
    public: &PublicOrigin,
) -> Result<Option<&'a str>, PlainModeRefused> {
    match key
        .map(str::trim)
        .filter(|k| !k.is_empty() && *k != "plain")
    {
        Some(k) => Ok(Some(k)),
        None if public.is_local() => Ok(None),
        None => Err(PlainModeRefused(public.to_string())),
    }
}

impl<S, R, Q, M> App<S, R, Q, M>
where
    S: ClueStore + ReminderIssuer,
    R: Side,
    Q: NoticeQueue,
    M: MediaQueue,
{
    /// Routes one request.
    pub async fn handle(&self, req: &Req, now: DateTime<Utc>) -> Resp {
        match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/wechat/callback") => self.verify(req, now),
            ("POST", "/wechat/callback") => self.push(req, now).await,
            (_, p) if p.starts_with("/api/reporter/") => self.reporter_api(req, now).await,
            _ => ApiError::new(404, "no_route", "未找到").into_resp(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_callbacks_only_in_local_development() {
        let prod = PublicOrigin::parse("https://12336.example.cn").expect("origin");
        let local = PublicOrigin::parse("http://127.0.0.1:3000").expect("origin");
        let key = "U2ltdWxhdG9yRW5jb2RpbmdBRVNLZXkxMjMzNkxvY2F";
        assert_eq!(callback_aes_key(Some(key), &prod), Ok(Some(key)));
        for missing in [None, Some(""), Some("plain"), Some("  ")] {
            assert!(callback_aes_key(missing, &prod).is_err(), "{missing:?}");
            assert_eq!(callback_aes_key(missing, &local), Ok(None));
        }
    }
}
