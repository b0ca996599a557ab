//! The account's side of the callback: verify, open and answer what WeChat pushes.
//!
//! Order of checks for a POST: parameters → signature(s) → timestamp window → nonce (replay)
//! → decryption (padding, length, app id) → message XML. In safe mode the envelope is read
//! first (with the hardened reader) only to find `Encrypt`; nothing is decrypted before
//! `msg_signature` over it verifies, and nonces are recorded only for authentic requests (so a
//! forger cannot burn them). In plain mode WeChat's signature does not cover the body at all,
//! which is why an endpoint configured with an EncodingAESKey refuses plain requests.

use std::borrow::Cow;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::account::CallbackKeys;
use serde::Deserialize;

use crate::crypto::{random_nonce, random_prefix};
use crate::message::{Inbound, inbound_from_element};
use crate::nonce::NonceStore;
use crate::signature::{self, MAX_CLOCK_SKEW_SECS};
use crate::{WechatError, xml};

/// How long a nonce is remembered: the whole window either side of `now`, plus a minute.
pub const NONCE_TTL: Duration = Duration::from_secs((2 * MAX_CLOCK_SKEW_SECS + 60) as u64);
/// Longest accepted nonce.
pub const MAX_NONCE_LEN: usize = 64;

/// The query string WeChat adds to callback requests.
#[derive(Debug, Default, Clone, Deserialize, PartialEq, Eq)]
pub struct CallbackQuery {
    /// `sha1(sort(token, timestamp, nonce))`.
    pub signature: Option<String>,
    /// Seconds since the epoch, as a decimal string.
    pub timestamp: Option<String>,
    /// A random string.
    pub nonce: Option<String>,
    /// Server verification (GET) only: the string to echo back.
    pub echostr: Option<String>,
    /// `aes` in safe mode.
    pub encrypt_type: Option<String>,
    /// Safe mode: `sha1(sort(token, timestamp, nonce, Encrypt))`.
    pub msg_signature: Option<String>,
    /// The user's openid (informational; the authenticated one is in the message).
    pub openid: Option<String>,
}

/// Whether a request (and so its reply) was encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 明文模式.
    Plain,
    /// 安全模式 (`encrypt_type=aes`).
    Safe,
}

/// The account's callback settings: Token, AppID and, for safe mode, the EncodingAESKey.
#[derive(Clone, Debug)]
pub struct Callback {
    keys: CallbackKeys,
}

impl From<CallbackKeys> for Callback {
    fn from(keys: CallbackKeys) -> Self {
        Self { keys }
    }
}

/// A POST whose signatures, timestamp (and, after [`Callback::receive`], nonce) were checked,
/// not yet decrypted.
#[derive(Debug, Clone)]
pub struct Authenticated<'a> {
    mode: Mode,
    /// Plain mode: the parsed document. Safe mode: the envelope.
    doc: xml::Element<'a>,
    /// Safe mode: the verified `Encrypt` value.
    encrypted: Option<Cow<'a, str>>,
    replay_key: String,
}

impl Authenticated<'_> {
    /// The key to record in a [`NonceStore`]: `wechat-nonce:{timestamp}:{nonce}`.
    pub fn replay_key(&self) -> &str {
        &self.replay_key
    }

    /// The request's mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }
}

/// A verified and decoded push.
#[derive(Debug, Clone, PartialEq)]
pub struct Opened {
    /// The message.
    pub message: Inbound,
    /// Reply in the same mode (see [`Callback::seal_reply`]).
    pub mode: Mode,
}

impl Callback {
    /// Settings for an account. With `encoding_aes_key`, the endpoint is in safe mode and
    /// refuses plain-mode pushes (a downgrade).
    ///
    /// # Errors
    /// [`WechatError::BadAesKey`] if the EncodingAESKey is not 43 base64 characters.
    pub fn new(
        token: SecretString,
        appid: impl Into<String>,
        encoding_aes_key: Option<&str>,
    ) -> Result<Self, WechatError> {
        CallbackKeys::new(token, appid, encoding_aes_key).map(Self::from)
    }

    /// The AppID payloads must carry.
    pub fn appid(&self) -> &str {
        &self.keys.appid
    }

    /// Server verification (the GET WeChat sends when the URL is configured): check
    /// `signature` and the timestamp, and return `echostr` to be sent back verbatim.
    ///
    /// # Errors
    /// [`WechatError::BadParam`], [`WechatError::BadSignature`] or [`WechatError::StaleTimestamp`].
    pub fn verify_echo<'q>(&self, q: &'q CallbackQuery, now: i64) -> Result<&'q str, WechatError> {
        let (timestamp, nonce) = self.timestamp_nonce(q)?;
        let sig = non_empty(q.signature.as_deref(), "signature")?;
        let echostr = non_empty(q.echostr.as_deref(), "echostr")?;
        signature::verify(sig, &[self.keys.token.expose_secret(), timestamp, nonce])?;
        signature::check_timestamp(timestamp, now)?;
        Ok(echostr)
    }

    /// Verify a POST without looking at nonces: signature(s), timestamp, envelope.
    /// Pure; [`Callback::receive`] adds the replay check.
    ///
    /// # Errors
    /// Parameter, signature, timestamp and envelope XML errors.
    pub fn authenticate<'b>(
        &self,
        q: &CallbackQuery,
        body: &'b [u8],
        now: i64,
    ) -> Result<Authenticated<'b>, WechatError> {
        let (timestamp, nonce) = self.timestamp_nonce(q)?;
        let token = self.keys.token.expose_secret();
        let safe = match q.encrypt_type.as_deref() {
            None | Some("") | Some("raw") => false,
            Some("aes") => true,
            Some(_) => return Err(WechatError::BadParam("encrypt_type")),
        };
        let replay_key = format!("wechat-nonce:{timestamp}:{nonce}");
        if safe {
            if self.keys.aes_key.is_none() {
                return Err(WechatError::BadParam("encrypt_type"));
            }
            let msg_sig = non_empty(q.msg_signature.as_deref(), "msg_signature")?;
            // Both signatures are sent in safe mode; check the plain one too when present.
            if let Some(sig) = q.signature.as_deref() {
                signature::verify(sig, &[token, timestamp, nonce])?;
            }
            let doc = xml::parse(body)?;
            if doc.name != "xml" {
                return Err(WechatError::XmlMalformed("root is not <xml>"));
            }
            let encrypted = doc
                .child("Encrypt")?
                .ok_or_else(|| WechatError::XmlMalformed("Encrypt"))?
                .text
                .clone();
            signature::verify(msg_sig, &[token, timestamp, nonce, &encrypted])?;
            signature::check_timestamp(timestamp, now)?;
            Ok(Authenticated {
                mode: Mode::Safe,
                doc,
                encrypted: Some(encrypted),
                replay_key,
            })
        } else {
            if self.keys.aes_key.is_some() {
                return Err(WechatError::BadParam("encrypt_type"));
            }
            let sig = non_empty(q.signature.as_deref(), "signature")?;
            signature::verify(sig, &[token, timestamp, nonce])?;
            signature::check_timestamp(timestamp, now)?;
            let doc = xml::parse(body)?;
            Ok(Authenticated {
                mode: Mode::Plain,
                doc,
                encrypted: None,
                replay_key,
            })
        }
    }

    /// Decrypt (safe mode) and parse an authenticated push. Pure.
    ///
    /// # Errors
    /// Decryption and XML errors.
    pub fn open(&self, auth: Authenticated<'_>) -> Result<Opened, WechatError> {
        let message = match (auth.mode, auth.encrypted, &self.keys.aes_key) {
            (Mode::Safe, Some(enc), Some(key)) => {
                let plain = key.decrypt(&enc, &self.keys.appid)?;
                inbound_from_element(&xml::parse_str(&plain)?)?
            }
            (Mode::Plain, _, _) => inbound_from_element(&auth.doc)?,
            _ => return Err(WechatError::BadParam("encrypt_type")),
        };
        Ok(Opened {
            message,
            mode: auth.mode,
        })
    }

    /// Verify and open without the replay check (for benchmarks and offline tools).
    ///
    /// # Errors
    /// As [`Callback::authenticate`] and [`Callback::open`].
    pub fn open_unchecked_replay(
        &self,
        q: &CallbackQuery,
        body: &[u8],
        now: i64,
    ) -> Result<Opened, WechatError> {
        self.open(self.authenticate(q, body, now)?)
    }

    /// Everything: authenticate, refuse a replayed nonce, decrypt, parse.
    ///
    /// # Errors
    /// As [`Callback::authenticate`] and [`Callback::open`], plus [`WechatError::ReplayedNonce`]
    /// and [`WechatError::NonceStore`].
    pub async fn receive<N: NonceStore>(
        &self,
        q: &CallbackQuery,
        body: &[u8],
        now: i64,
        nonces: &N,
    ) -> Result<Opened, WechatError> {
        let auth = self.authenticate(q, body, now)?;
        let fresh = nonces
            .first_use(auth.replay_key(), NONCE_TTL)
            .await
            .map_err(|e| WechatError::NonceStore(Box::new(e)))?;
        if !fresh {
            return Err(WechatError::ReplayedNonce);
        }
        self.open(auth)
    }

    /// Wrap a reply for sending back in `mode`: as is in plain mode; in safe mode as the
    /// encrypted envelope with a fresh nonce and random prefix.
    pub fn seal_reply(&self, mode: Mode, reply_xml: &str, now: i64) -> String {
        match (mode, &self.keys.aes_key) {
            (Mode::Safe, Some(_)) => {
                self.seal_reply_with(reply_xml, now, &random_nonce(), random_prefix())
            }
            _ => reply_xml.to_owned(),
        }
    }

    /// Deterministic safe-mode envelope (for known-answer tests). Without an AES key the
    /// reply is returned unchanged.
    pub fn seal_reply_with(
        &self,
        reply_xml: &str,
        timestamp: i64,
        nonce: &str,
        random: [u8; 16],
    ) -> String {
        let Some(key) = &self.keys.aes_key else {
            return reply_xml.to_owned();
        };
        let encrypted = key.encrypt(reply_xml.as_bytes(), &self.keys.appid, random);
        let ts = timestamp.to_string();
        let sig = signature::sign_hex(&[self.keys.token.expose_secret(), &ts, nonce, &encrypted]);
        let mut out = String::with_capacity(encrypted.len() + 200);
        out.push_str("<xml>");
        xml::push_cdata_field(&mut out, "Encrypt", &encrypted);
        xml::push_cdata_field(&mut out, "MsgSignature", &sig);
        out.push_str("<TimeStamp>");
        out.push_str(&ts);
        out.push_str("</TimeStamp>");
        xml::push_cdata_field(&mut out, "Nonce", nonce);
        out.push_str("</xml>");
        out
    }

    fn timestamp_nonce<'q>(&self, q: &'q CallbackQuery) -> Result<(&'q str, &'q str), WechatError> {
        let timestamp = non_empty(q.timestamp.as_deref(), "timestamp")?;
        let nonce = non_empty(q.nonce.as_deref(), "nonce")?;
        if nonce.len() > MAX_NONCE_LEN {
            return Err(WechatError::BadParam("nonce"));
        }
        Ok((timestamp, nonce))
    }
}

fn non_empty<'a>(v: Option<&'a str>, name: &'static str) -> Result<&'a str, WechatError> {
    match v {
        Some(s) if !s.is_empty() && s.len() <= 4096 => Ok(s),
        _ => Err(WechatError::BadParam(name)),
    }
}
