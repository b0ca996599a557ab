//! `intake`: the reporting core (filing a clue from either channel) and its two edges: the
//! reporter H5 API (`/api/reporter/*`, served by the `intake` function) and the WeChat callback
//! (`/wechat/callback`, served by the `callback` function, `functions/callback`).
//!
//! The binaries read their configuration and secrets once per cold start, build a
//! [`Reporting`] core and their edge ([`App`] for the H5 API, [`callback::CallbackApp`] for the
//! callback) and map each API Gateway request to its `handle`. Everything else is here, generic
//! over the store traits so tests run it against moto or in memory.
//!
//! # Layout
//! - [`http`]: [`Req`], [`Resp`], stable JSON errors.
//! - [`callback`]: the callback's edge: verification, dedup, subscribe/menu answers, the chat.
//! - [`api`]: OAuth → session cookie, divisions, reporting notice, clues (public view), messages.
//! - [`message_reminder`]: a reporter's new message → a reminder for the handling officer.
//! - [`report`]: filing a clue from either channel: block list, attachments, rate limits, store.
//! - [`startup`]: what both binaries read at start-up and the reporting core on AWS.
//! - [`surge`]: a surge of clues in a county: marked for review and alarmed, never refused.
//! - [`ports`]: the side-table trait ([`ports::Side`]) and the media download queue, with fakes.

pub mod api;
pub mod callback;
pub mod message_reminder;
/// The HTTP shapes (shared with the officer API).
pub use ::api as http;
pub mod ports;
pub mod report;
pub mod startup;
pub mod surge;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use outbox::NoticeQueue;
use session::SessionKey;
use store::{ClueStore, ReminderIssuer, ReporterKeyer};
use wechat::{ApiClient, InMemoryTokenCache};

pub use api::{ROUTES, Route};
pub use callback::{PlainModeRefused, callback_aes_key};
pub use http::{ApiError, PublicOrigin, Req, Resp};

use crate::ports::{MediaQueue, Side};

/// The reporting core both edges file through, built once per cold start: the clue store, the
/// reporting side table, the notice and media queues, the reporter keyer, the public origin and
/// the surge line. Edges hold it in an [`Arc`] (tests share one between both edges).
pub struct Reporting<S, R, Q, M> {
    pub store: S,
    pub side: R,
    pub notices: Q,
    pub media: M,
    pub keyer: ReporterKeyer,
    /// The platform's one public origin: every link sent, the OAuth `redirect_uri`, the
    /// cookies' Secure flag, the check of browser POSTs.
    pub public: PublicOrigin,
    /// The surge line per county and hour, and the stack the surge metric names.
    pub surge: surge::Surge,
}

/// The reporter H5 API: the reporting core plus what signing in needs.
pub struct App<S, R, Q, M> {
    pub reporting: Arc<Reporting<S, R, Q, M>>,
    /// OAuth code → openid (no access token needed).
    pub oauth: ApiClient<InMemoryTokenCache>,
    /// `https://open.weixin.qq.com` (the simulator locally).
    pub oauth_base: String,
    pub appid: String,
    pub session: SessionKey,
}

impl<S, R, Q, M> App<S, R, Q, M>
where
    S: ClueStore + ReminderIssuer,
    R: Side,
    Q: NoticeQueue,
    M: MediaQueue,
{
    /// Routes one request ([`ROUTES`]: 404 and 405 from the table).
    pub async fn handle(&self, req: &Req, now: DateTime<Utc>) -> Resp {
        self.reporter_api(req, now)
            .await
            .unwrap_or_else(ApiError::into_resp)
    }
}
