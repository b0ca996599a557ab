//! The WeChat callback (`/wechat/callback`, [`CallbackApp`], served by the `callback` function):
//! server verification, then for each push: verify and open (signature, timestamp, nonce, AES,
//! XML), deduplicate (MsgId, or reporter key + CreateTime for events) durably, answer
//! subscribe/menu events, and run the guided chat.
//!
//! Unsigned junk costs no table access: the route, the body's size, the signature and the
//! timestamp are checked before the nonce is recorded (`functions/callback/tests/junk.rs`).
//!
//! Deduplication: WeChat's retries (the same query string and body: the nonce record keeps the
//! body's digest, [`store::push_nonce`]) are not replays. The first delivery claims a record; a
//! concurrent retry finds it claimed and waits up to [`BUSY_WAIT`] for its reply, else answers
//! `success` (WeChat retries again); a later retry gets the reply given the first time.
//! A delivery whose processing failed releases its claim, so the next retry processes it again.
//! Filing the clue is itself idempotent on the MsgId, so even a reprocessed message files once.
//!
//! An officer's "绑定 <code>" text binds their WeChat for reminders instead of entering the chat.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use domain::chat::{
    ChatContext, ChatDraft, ChatInput, ChatSubmission, PhotoRefusal, PhotoState, Step, advance,
    left_out_text,
};
use domain::wechat_binding::{BOUND_REPLY, BindingCode, BindingError, bind_command};
use domain::{AttachmentId, Divisions, NoticeContent, ReporterKey};
use outbox::NoticeQueue;
use sha2::{Digest, Sha256};
use store::{
    Attachment, AttachmentSource, AttachmentStatus, Claim, ClueStore, IdempotencyKey, PushNonce,
    ReporterIdentity, StoreError,
};
use wechat::{Body, CallbackQuery, Event, Inbound, Mode, TextReply};

use crate::Reporting;
use std::sync::Arc;

use secrecy::SecretString;
use wechat::Callback;

use crate::http::router::{Path, Router};
use crate::http::{ApiError, PublicOrigin, Req, Resp};
use crate::ports::{MediaQueue, MediaRequest, Side};

/// The menu key that starts a chat report.
pub const MENU_CHAT: &str = "REPORT_CHAT";
/// The menu key that links to "my clues".
pub const MENU_MINE: &str = "MY_CLUES";
/// How long one delivery may hold its claim before a retry may take over.
pub const LEASE: Duration = Duration::seconds(15);
/// How long a retry waits for the reply of the delivery still processing the same push.
pub const BUSY_WAIT: StdDuration = StdDuration::from_secs(3);
const BUSY_POLL: StdDuration = StdDuration::from_millis(250);
/// Largest callback body read.
pub const MAX_CALLBACK_BODY: usize = 64 * 1024;

/// The welcome (and help) text. `h5` is the H5 page on the public origin; the form's link
/// signs in first (as the account's menu does), so the form is filed with a session.
fn welcome(h5: &str) -> String {
    let form = h5.replace("/h5/index.html", "/api/reporter/login?return=%23%2Freport");
    format!(
        "您好，欢迎关注12336国土资源违法线索举报平台。\n\
         在线填写举报：{form}\n\
         查看我的举报：{h5}#/mine\n\
         也可回复“举报”，按提示逐步提交。"
    )
}

fn query_of(req: &Req) -> CallbackQuery {
    let get = |k: &str| req.query(k).map(str::to_owned);
    CallbackQuery {
        signature: get("signature"),
        timestamp: get("timestamp"),
        nonce: get("nonce"),
        echostr: get("echostr"),
        encrypt_type: get("encrypt_type"),
        msg_signature: get("msg_signature"),
        openid: get("openid"),
    }
}

fn refused(e: &wechat::WechatError) -> Resp {
    let status = match e {
        wechat::WechatError::BadSignature | wechat::WechatError::WrongAppId => 403,
        wechat::WechatError::NonceStore(_) => 503,
        _ => 400,
    };
    tracing::warn!(code = e.code(), "callback refused");
    ApiError::new(status, e.code(), "请求无效").into_resp()
}

/// The attachment id of a chat photo: stable for the same reporter and media id.
pub fn chat_attachment_id(reporter: &ReporterKey, media_id: &str) -> AttachmentId {
    let h = hex::encode(Sha256::digest(
        [reporter.as_str().as_bytes(), b"\0", media_id.as_bytes()].concat(),
    ));
    AttachmentId::parse(&format!("wx{}", &h[..32])).unwrap_or_else(|_| unreachable!("hex"))
}

/// How long a push nonce is remembered (WeChat's signature window either side, plus a minute).
fn nonce_ttl() -> Duration {
    Duration::from_std(wechat::callback::NONCE_TTL).unwrap_or(Duration::minutes(11))
}

/// The XML of a text reply to `msg` (empty for no reply), built for each answer from the
/// push itself, so that no stored record needs the reporter's openid.
fn reply_xml(msg: &Inbound, content: &str, now: DateTime<Utc>) -> String {
    if content.is_empty() {
        return String::new();
    }
    TextReply {
        to_user: &msg.from_user,
        from_user: &msg.to_user,
        create_time: now.timestamp(),
        content,
    }
    .to_xml()
}

/// What processing one push decided.
struct Outcome {
    reply: Option<String>,
}

/// The callback's routes: WeChat's server verification and its pushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Verify,
    Push,
}

/// The one path of the callback, written once.
pub const ROUTES: Router<Route> = Router {
    paths: &[Path {
        pattern: "/wechat/callback",
        methods: &[("GET", Route::Verify), ("POST", Route::Push)],
    }],
};

/// The WeChat callback: the reporting core plus the official account's callback credentials.
/// It holds no OAuth client and no session keys (the chat uses neither).
pub struct CallbackApp<S, R, Q, M> {
    pub reporting: Arc<Reporting<S, R, Q, M>>,
    pub callback: Callback,
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

/// The official account's callback credentials (`<stack>/wechat`) as a [`Callback`].
///
/// # Errors
/// [`CallbackSetupError`] when plain mode is refused or the EncodingAESKey is invalid.
pub fn callback_from_secret(
    token: SecretString,
    appid: &str,
    encoding_aes_key: Option<&str>,
    public: &PublicOrigin,
) -> Result<Callback, CallbackSetupError> {
    let aes = callback_aes_key(encoding_aes_key, public)?;
    Callback::new(token, appid, aes).map_err(CallbackSetupError::Key)
}

/// Why the callback's credentials cannot serve.
#[derive(Debug, thiserror::Error)]
pub enum CallbackSetupError {
    #[error(transparent)]
    PlainMode(#[from] PlainModeRefused),
    #[error("the WeChat EncodingAESKey is invalid")]
    Key(#[source] wechat::WechatError),
}

impl<S, R, Q, M> CallbackApp<S, R, Q, M>
where
    S: ClueStore,
    R: Side,
    Q: NoticeQueue,
    M: MediaQueue,
{
    /// Routes one request ([`ROUTES`]). Unsigned junk is refused before any table access:
    /// the method and path, the body's size, then the signature and timestamp.
    pub async fn handle(&self, req: &Req, now: DateTime<Utc>) -> Resp {
        match ROUTES.route(&req.method, &req.path) {
            Ok(m) => match m.route {
                Route::Verify => self.verify(req, now),
                Route::Push => self.push(req, now).await,
            },
            Err(e) => e.into_resp(),
        }
    }

    /// `GET /wechat/callback`: WeChat's server verification.
    pub fn verify(&self, req: &Req, now: DateTime<Utc>) -> Resp {
        let q = query_of(req);
        match self.callback.verify_echo(&q, now.timestamp()) {
            Ok(echo) => Resp::text(200, "text/plain", echo),
            Err(e) => refused(&e),
        }
    }

    /// `POST /wechat/callback`.
    pub async fn push(&self, req: &Req, now: DateTime<Utc>) -> Resp {
        if req.body.len() > MAX_CALLBACK_BODY {
            return refused(&wechat::WechatError::XmlTooLarge);
        }
        let q = query_of(req);
        let auth = match self.callback.authenticate(&q, &req.body, now.timestamp()) {
            Ok(a) => a,
            Err(e) => return refused(&e),
        };
        // WeChat's retry repeats the query string and the body: it goes on to the deduplication
        // record below. The same nonce with another body is a replay.
        let body_sha256 = hex::encode(Sha256::digest(&req.body));
        match self
            .reporting
            .side
            .note_push(auth.replay_key(), &body_sha256, now, nonce_ttl())
            .await
        {
            Ok(PushNonce::Fresh) => {}
            Ok(PushNonce::Replayed) => return refused(&wechat::WechatError::ReplayedNonce),
            Err(e) => return refused(&wechat::WechatError::NonceStore(Box::new(e))),
        }
        let opened = match self.callback.open(auth) {
            Ok(o) => o,
            Err(e) => return refused(&e),
        };
        let msg = opened.message;
        if msg.from_user.is_empty() || msg.from_user.len() > 128 {
            return refused(&wechat::WechatError::XmlMalformed("FromUserName"));
        }
        let reporter = self.reporting.keyer.key(&msg.from_user);
        let dedup = match msg.msg_id {
            Some(id) => format!("msg:{id}"),
            None => format!("evt:{}:{}", reporter.as_str(), msg.create_time),
        };
        // A delivery of a push another delivery is processing waits a little for its reply
        // (WeChat shows the reporter the answer to its last try), then answers `success`.
        let mut waited = StdDuration::ZERO;
        loop {
            match self.reporting.side.claim_callback(&dedup, now, LEASE).await {
                Ok(Claim::Fresh) => break,
                Ok(Claim::Busy) if waited < BUSY_WAIT => {
                    tokio::time::sleep(BUSY_POLL).await;
                    waited += BUSY_POLL;
                }
                Ok(Claim::Busy) => return Resp::text(200, "text/plain", "success"),
                Ok(Claim::Done(reply)) => {
                    return self.answer(opened.mode, &reply_xml(&msg, &reply, now), now);
                }
                Err(e) => {
                    tracing::error!(code = e.code(), "callback claim failed");
                    return ApiError::unavailable().into_resp();
                }
            }
        }
        match self.process(&msg, &reporter, &dedup, now).await {
            Ok(out) => {
                // The record keeps the reply's text only: the XML names the reporter's openid
                // (`ToUserName`), which no item outside the vault may hold.
                let content = out.reply.unwrap_or_default();
                if let Err(e) = self
                    .reporting
                    .side
                    .complete_callback(&dedup, &content, now)
                    .await
                {
                    tracing::warn!(code = e.code(), "callback record not completed");
                }
                self.answer(opened.mode, &reply_xml(&msg, &content, now), now)
            }
            Err(e) => {
                tracing::error!(
                    code = e.code(),
                    "callback processing failed; released for retry"
                );
                if let Err(e) = self.reporting.side.release_callback(&dedup).await {
                    tracing::warn!(code = e.code(), "callback claim not released");
                }
                ApiError::unavailable().into_resp()
            }
        }
    }

    fn answer(&self, mode: Mode, reply_xml: &str, now: DateTime<Utc>) -> Resp {
        if reply_xml.is_empty() {
            return Resp::text(200, "text/plain", "success");
        }
        Resp::text(
            200,
            "application/xml",
            self.callback.seal_reply(mode, reply_xml, now.timestamp()),
        )
    }

    async fn process(
        &self,
        msg: &Inbound,
        reporter: &ReporterKey,
        dedup: &str,
        now: DateTime<Utc>,
    ) -> Result<Outcome, StoreError> {
        // Every link of the chat opens the served H5 page on the public origin.
        let h5 = self.reporting.public.h5("");
        let input = match &msg.body {
            Body::Event(Event::Subscribe { .. }) => {
                return Ok(Outcome {
                    reply: Some(welcome(&h5)),
                });
            }
            Body::Event(Event::Click { key }) if key == MENU_CHAT => ChatInput::Start,
            Body::Event(Event::Click { key }) if key == MENU_MINE => {
                return Ok(Outcome {
                    reply: Some(format!("查看我的举报：{h5}#/mine")),
                });
            }
            Body::Event(Event::Click { .. }) => {
                return Ok(Outcome {
                    reply: Some(welcome(&h5)),
                });
            }
            Body::Event(_) => return Ok(Outcome { reply: None }),
            Body::Text { content } => match bind_command(content) {
                Some(code) => {
                    return Ok(Outcome {
                        reply: Some(self.bind(code, &msg.from_user, now).await?),
                    });
                }
                None => ChatInput::Text(content.clone()),
            },
            Body::Location {
                latitude,
                longitude,
                label,
                ..
            } => ChatInput::Location {
                lat: *latitude,
                lng: *longitude,
                label: label.clone(),
            },
            Body::Image { media_id, .. } => ChatInput::Image {
                media_id: media_id.clone(),
            },
            Body::Voice { .. } | Body::Unsupported { .. } => ChatInput::Text(String::new()),
        };
        self.chat(&h5, &msg.from_user, reporter, input, dedup, now)
            .await
    }

    /// An officer's "绑定 <code>": binds this WeChat user to the officer who drew the code in the
    /// console (officer reminders then reach it). The answer says how it went; the guided chat
    /// of the same user, if any, is left as it was.
    async fn bind(
        &self,
        code: Result<BindingCode, BindingError>,
        openid: &str,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let outcome = match code {
            Ok(code) => {
                self.reporting
                    .store
                    .redeem_binding_code(&code, openid, now)
                    .await?
            }
            Err(e) => Err(e),
        };
        Ok(match outcome {
            Ok(officer) => {
                tracing::info!(officer = %officer, "officer bound WeChat");
                BOUND_REPLY.to_owned()
            }
            Err(e) => {
                tracing::info!(code = e.code(), "binding code refused");
                e.reply().to_owned()
            }
        })
    }

    async fn chat(
        &self,
        h5: &str,
        openid: &str,
        reporter: &ReporterKey,
        input: ChatInput,
        dedup: &str,
        now: DateTime<Utc>,
    ) -> Result<Outcome, StoreError> {
        let (draft, version) = self.reporting.side.chat_draft(reporter, now).await?;
        let city = draft
            .as_ref()
            .and_then(|d| d.division)
            .and_then(|d| d.city());
        let notice = match city {
            Some(city) => Some(
                self.reporting
                    .store
                    .scope_history_cached(city)
                    .await?
                    .in_force(now)
                    .reporting_notice(),
            ),
            None => None,
        };
        let notice_url = draft
            .as_ref()
            .and_then(|d| d.division)
            .map(|d| format!("{h5}#/notice/{d}"));
        // The photos' states matter for the answers of the evidence and consent steps.
        let photos = match &draft {
            Some(d)
                if matches!(d.step, Step::Evidence | Step::Consent { .. })
                    && matches!(input, ChatInput::Text(_)) =>
            {
                self.photo_states(reporter, &d.media).await?
            }
            _ => Vec::new(),
        };
        let bureaus = self.reporting.store.bureaus().await?;
        let ctx = ChatContext {
            divisions: Divisions::embedded(),
            bureaus: &bureaus,
            notice: notice.as_ref(),
            notice_url: notice_url.as_deref(),
            photos: &photos,
        };
        let before = draft.clone();
        let photos_before = draft.as_ref().map_or(0, |d| d.media.len());
        let turn = advance(draft, input, now, &ctx);

        // A photo the dialogue accepted: queue its download into the evidence bucket.
        if let Some(d) = &turn.draft
            && d.step == Step::Evidence
            && d.media.len() > photos_before
            && let Some(media_id) = d.media.last()
        {
            self.queue_photo(reporter, media_id, now).await?;
        }

        if let Some(submit) = turn.submit {
            let reply = match self.file_chat(openid, reporter, &submit, dedup, now).await {
                Ok(reply) => {
                    self.reporting
                        .side
                        .put_chat_draft(reporter, None, version, now)
                        .await?;
                    reply
                }
                Err(refusal) => {
                    // Keep the draft at the consent step; the reporter can answer again.
                    if let Some(mut d) = before {
                        d.updated_at = now;
                        self.reporting
                            .side
                            .put_chat_draft(reporter, Some(&d), version, now)
                            .await?;
                    }
                    refusal
                }
            };
            return Ok(Outcome { reply: Some(reply) });
        }
        if turn.draft.is_some() || version > 0 {
            self.reporting
                .side
                .put_chat_draft(reporter, turn.draft.as_ref(), version, now)
                .await?;
        }
        let reply = match (turn.reply, &turn.draft) {
            (Some(r), _) => Some(r),
            (None, None) => Some(welcome(h5)),
            (None, Some(_)) => None,
        };
        Ok(Outcome { reply })
    }

    /// What became of each chat photo, in order (an unknown record counts as a failed
    /// download: its download was never queued).
    async fn photo_states(
        &self,
        reporter: &ReporterKey,
        media: &[String],
    ) -> Result<Vec<PhotoState>, StoreError> {
        let mut states = Vec::with_capacity(media.len());
        for media_id in media {
            let state = match self
                .reporting
                .side
                .attachment(&chat_attachment_id(reporter, media_id))
                .await?
                .map(|a| a.status)
            {
                Some(AttachmentStatus::Pending) => PhotoState::Pending,
                Some(AttachmentStatus::Ready { .. }) => PhotoState::Ready,
                Some(AttachmentStatus::Rejected { reason }) => {
                    PhotoState::Refused(PhotoRefusal::from_code(&reason))
                }
                None => PhotoState::Refused(PhotoRefusal::DownloadFailed),
            };
            states.push(state);
        }
        Ok(states)
    }

    async fn queue_photo(
        &self,
        reporter: &ReporterKey,
        media_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if media_id.is_empty() || media_id.len() > 256 {
            return Ok(());
        }
        let id = chat_attachment_id(reporter, media_id);
        let a = Attachment {
            id: id.clone(),
            owner: reporter.clone(),
            declared_type: "image/jpeg".to_owned(),
            declared_size: 0,
            source: AttachmentSource::Wechat {
                media_id: media_id.to_owned(),
            },
            status: AttachmentStatus::Pending,
            created_at: now,
        };
        if self.reporting.side.create_attachment(&a).await? {
            let req = MediaRequest {
                attachment_id: id,
                media_id: media_id.to_owned(),
                owner: reporter.clone(),
            };
            if let Err(e) = self.reporting.media.request(&req).await {
                tracing::error!(error = %e, "photo download not queued");
                return Err(StoreError::Invalid("media queue"));
            }
        }
        Ok(())
    }

    /// Files a finished chat report; the answer is the receipt (or why it was refused).
    async fn file_chat(
        &self,
        openid: &str,
        reporter: &ReporterKey,
        submit: &ChatSubmission,
        dedup: &str,
        now: DateTime<Utc>,
    ) -> Result<String, String> {
        // The dialogue chose the photos that are ready; the rest are told below.
        let attachments: Vec<AttachmentId> = submit
            .media
            .iter()
            .map(|media_id| chat_attachment_id(reporter, media_id))
            .collect();
        let key = IdempotencyKey::parse(&format!("chat:{dedup}").replace('#', ":"))
            .map_err(|_| "提交失败，请稍后再试。".to_owned())?;
        match self
            .reporting
            .file(
                submit.report(),
                &attachments,
                ReporterIdentity::anonymous(openid),
                &key,
                now,
            )
            .await
        {
            Ok(received) => Ok(format!(
                "{}\n线索编号：{}{}",
                NoticeContent::Receipt.render(),
                received.clue_no,
                left_out_text(&submit.left_out)
            )),
            Err(e) => Err(e.message),
        }
    }
}

/// The draft a test or tool reads back (re-exported for tests).
pub type Draft = ChatDraft;

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
