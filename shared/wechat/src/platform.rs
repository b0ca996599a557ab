//! WeChat's side of the callback, for the simulator and tests: sign and encrypt a push exactly
//! as WeChat does, and verify and decrypt the account's reply.

use secrecy::ExposeSecret;

use crate::account::CallbackKeys;
use crate::message::{Reply, parse_reply};
use crate::signature::{self, check_timestamp};
use crate::{WechatError, xml};

/// What WeChat knows about an account's callback.
#[derive(Clone, Debug)]
pub struct Platform {
    keys: CallbackKeys,
}

impl From<CallbackKeys> for Platform {
    fn from(keys: CallbackKeys) -> Self {
        Self { keys }
    }
}

/// A push ready to send: the query pairs to append to the callback URL, and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    /// Query parameters, in the order WeChat sends them.
    pub query: Vec<(&'static str, String)>,
    /// The POST body (`text/xml`).
    pub body: String,
}

/// Built from the account's keys: `Platform::from(CallbackKeys::new(token, appid, aes_key)?)`.
impl Platform {
    /// The GET WeChat sends to verify a callback URL.
    pub fn echo_query(
        &self,
        timestamp: i64,
        nonce: &str,
        echostr: &str,
    ) -> Vec<(&'static str, String)> {
        let ts = timestamp.to_string();
        let sig = signature::sign_hex(&[self.keys.token.expose_secret(), &ts, nonce]);
        vec![
            ("signature", sig),
            ("echostr", echostr.to_owned()),
            ("timestamp", ts),
            ("nonce", nonce.to_owned()),
        ]
    }

    /// Sign (and, with an AES key, encrypt) a message document for the callback.
    /// `account_id` is the `gh_…` id that WeChat puts in the envelope's `ToUserName`.
    pub fn push(
        &self,
        message_xml: &str,
        account_id: &str,
        openid: &str,
        timestamp: i64,
        nonce: &str,
        random: [u8; 16],
    ) -> Push {
        let ts = timestamp.to_string();
        let token = self.keys.token.expose_secret();
        let sig = signature::sign_hex(&[token, &ts, nonce]);
        let mut query = vec![
            ("signature", sig),
            ("timestamp", ts.clone()),
            ("nonce", nonce.to_owned()),
            ("openid", openid.to_owned()),
        ];
        let body = match &self.keys.aes_key {
            None => message_xml.to_owned(),
            Some(key) => {
                let encrypted = key.encrypt(message_xml.as_bytes(), &self.keys.appid, random);
                let msg_sig = signature::sign_hex(&[token, &ts, nonce, &encrypted]);
                query.push(("encrypt_type", "aes".to_owned()));
                query.push(("msg_signature", msg_sig));
                let mut body = String::with_capacity(encrypted.len() + 96);
                body.push_str("<xml>");
                xml::push_cdata_field(&mut body, "ToUserName", account_id);
                xml::push_cdata_field(&mut body, "Encrypt", &encrypted);
                body.push_str("</xml>");
                body
            }
        };
        Push { query, body }
    }

    /// Read the account's answer as WeChat would. `""` and `"success"` mean "no reply".
    /// In safe mode an XML answer must be the signed, encrypted envelope (checked against
    /// `now`); a plain XML reply is accepted too, as WeChat does.
    ///
    /// # Errors
    /// Signature, timestamp, decryption and XML errors.
    pub fn open_reply(&self, body: &[u8], now: i64) -> Result<Option<Reply>, WechatError> {
        let trimmed = body.trim_ascii();
        if trimmed.is_empty() || trimmed == b"success" {
            return Ok(None);
        }
        let doc = xml::parse(trimmed)?;
        let (Some(key), Some(encrypted)) = (&self.keys.aes_key, doc.text_of("Encrypt")?) else {
            return parse_reply(trimmed).map(Some);
        };
        let sig = doc
            .text_of("MsgSignature")?
            .ok_or_else(|| WechatError::BadSignature)?
            .trim();
        let ts = doc
            .text_of("TimeStamp")?
            .ok_or_else(|| WechatError::StaleTimestamp)?
            .trim();
        let nonce = doc
            .text_of("Nonce")?
            .ok_or_else(|| WechatError::BadParam("Nonce"))?
            .trim();
        signature::verify(
            sig,
            &[self.keys.token.expose_secret(), ts, nonce, encrypted],
        )?;
        check_timestamp(ts, now)?;
        let plain = key.decrypt(encrypted, &self.keys.appid)?;
        parse_reply(plain.as_bytes()).map(Some)
    }
}
