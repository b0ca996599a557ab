//! The WeChat API client: access token, OAuth, media download, message sending.
//!
//! Every call maps WeChat's `errcode` to [`WechatError::Api`], whose [`WechatError::class`]
//! tells the caller whether to retry. A call that fails with an expired token refreshes the
//! token once and retries once. URLs (which carry the token or the secret) are stripped from
//! transport errors so they cannot reach logs.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use chrono::Utc;
use reqwest::header::CONTENT_TYPE;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::WechatError;
use crate::error::ErrorClass;
use crate::token::{AccessTokenCache, CachedToken};

/// Largest media download accepted (WeChat images are at most 10 MB).
pub const MAX_MEDIA_BYTES: usize = 20 * 1024 * 1024;

/// Where and as whom to call the API.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// `https://api.weixin.qq.com/` in production; the simulator's URL locally.
    pub base_url: Url,
    /// The account's AppID.
    pub appid: String,
    /// The account's AppSecret.
    pub secret: SecretString,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Refresh a cached token this long before it expires.
    pub refresh_margin: Duration,
}

impl ApiConfig {
    /// Defaults: 5 s per request, 2 s to connect, refresh 5 min before expiry.
    pub fn new(base_url: Url, appid: impl Into<String>, secret: SecretString) -> Self {
        Self {
            base_url,
            appid: appid.into(),
            secret,
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            refresh_margin: Duration::from_secs(300),
        }
    }
}

/// The identity an OAuth `code` stands for (`snsapi_base`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthUser {
    /// The user's openid for this account.
    pub openid: String,
    /// Granted scope (`snsapi_base`).
    pub scope: String,
    /// True for a "snapshot page" visitor whose openid is virtual: do not accept reports
    /// from it.
    pub is_snapshot_user: bool,
}

/// A downloaded media file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// `Content-Type` as sent (e.g. `image/jpeg`).
    pub content_type: String,
}

/// A subscription message (`message/subscribe/bizsend`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubscribeMessage {
    /// Recipient openid.
    pub touser: String,
    /// Template the user accepted.
    pub template_id: String,
    /// Link opened from the notice (an H5 URL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// Template fields: key → value (sent as `{"key": {"value": …}}`).
    #[serde(serialize_with = "serialize_data")]
    pub data: BTreeMap<String, String>,
}

fn serialize_data<S: serde::Serializer>(
    data: &BTreeMap<String, String>,
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    #[derive(Serialize)]
    struct V<'a> {
        value: &'a str,
    }
    let mut m = s.serialize_map(Some(data.len()))?;
    for (k, v) in data {
        m.serialize_entry(k, &V { value: v })?;
    }
    m.end()
}

/// The API client. Build it once per cold start; it is cheap to share by reference.
#[derive(Debug)]
pub struct ApiClient<C> {
    http: reqwest::Client,
    cfg: ApiConfig,
    cache: C,
}

impl<C: AccessTokenCache> ApiClient<C> {
    /// A client with its own connection pool.
    ///
    /// # Errors
    /// [`WechatError::Transport`] if the HTTP client cannot be built (TLS initialisation).
    pub fn new(cfg: ApiConfig, cache: C) -> Result<Self, WechatError> {
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.connect_timeout)
            .build()
            .map_err(|e| WechatError::Transport(e.without_url()))?;
        Ok(Self { http, cfg, cache })
    }

    /// The token cache.
    pub fn cache(&self) -> &C {
        &self.cache
    }

    fn url(&self, path: &str) -> Result<Url, WechatError> {
        self.cfg.base_url.join(path).map_err(WechatError::Url)
    }

    /// A valid access token: the cached one unless it is within the refresh margin of its
    /// expiry, else a fresh one from `stable_token` (then cached).
    ///
    /// # Errors
    /// Cache and API errors.
    pub async fn access_token(&self) -> Result<SecretString, WechatError> {
        let cached = self
            .cache
            .get(&self.cfg.appid)
            .await
            .map_err(|e| WechatError::TokenCache(Box::new(e)))?;
        let margin = chrono::Duration::from_std(self.cfg.refresh_margin)
            .unwrap_or_else(|_| chrono::Duration::seconds(300));
        if let Some(t) = cached
            && t.expires_at - margin > Utc::now()
        {
            return Ok(t.token);
        }
        Ok(self.refresh_token(None).await?.token)
    }

    /// Fetch a new token and cache it. When `rejected` is the token WeChat just refused and
    /// `stable_token` hands it back again, ask once more with `force_refresh`.
    async fn refresh_token(&self, rejected: Option<&str>) -> Result<CachedToken, WechatError> {
        let mut t = self.fetch_stable_token(false).await?;
        if rejected.is_some_and(|r| r == t.token.expose_secret()) {
            t = self.fetch_stable_token(true).await?;
        }
        self.cache
            .put(&self.cfg.appid, &t)
            .await
            .map_err(|e| WechatError::TokenCache(Box::new(e)))?;
        Ok(t)
    }

    async fn fetch_stable_token(&self, force_refresh: bool) -> Result<CachedToken, WechatError> {
        #[derive(serde::Deserialize)]
        struct Resp {
            access_token: String,
            expires_in: i64,
        }
        let body = serde_json::json!({
            "grant_type": "client_credential",
            "appid": self.cfg.appid,
            "secret": self.cfg.secret.expose_secret(),
            "force_refresh": force_refresh,
        });
        let req = self
            .http
            .post(self.url("cgi-bin/stable_token")?)
            .json(&body);
        let r: Resp = json_response(req).await?;
        Ok(CachedToken {
            token: SecretString::from(r.access_token),
            expires_at: Utc::now() + chrono::Duration::seconds(r.expires_in.clamp(0, 86_400)),
        })
    }

    /// Run `call` with a token; if WeChat says the token is invalid or expired, refresh it
    /// once and run `call` once more.
    async fn with_token<T, F, Fut>(&self, call: F) -> Result<T, WechatError>
    where
        F: Fn(SecretString) -> Fut,
        Fut: Future<Output = Result<T, WechatError>>,
    {
        let token = self.access_token().await?;
        match call(token.clone()).await {
            Err(e) if e.class() == ErrorClass::TokenExpired => {
                let fresh = self.refresh_token(Some(token.expose_secret())).await?;
                call(fresh.token).await
            }
            other => other,
        }
    }

    /// Exchange an OAuth `code` (from the H5 redirect) for the user's openid.
    ///
    /// # Errors
    /// [`WechatError::Api`] with 40029 (invalid code) or 40163 (code already used), and
    /// transport errors.
    pub async fn oauth_openid(&self, code: &str) -> Result<OAuthUser, WechatError> {
        #[derive(serde::Deserialize)]
        struct Resp {
            openid: String,
            #[serde(default)]
            scope: String,
            #[serde(default)]
            is_snapshotuser: i64,
        }
        let mut url = self.url("sns/oauth2/access_token")?;
        url.query_pairs_mut()
            .append_pair("appid", &self.cfg.appid)
            .append_pair("secret", self.cfg.secret.expose_secret())
            .append_pair("code", code)
            .append_pair("grant_type", "authorization_code");
        let r: Resp = json_response(self.http.get(url)).await?;
        Ok(OAuthUser {
            openid: r.openid,
            scope: r.scope,
            is_snapshot_user: r.is_snapshotuser == 1,
        })
    }

    /// Download a temporary media file (an image the user sent).
    ///
    /// # Errors
    /// [`WechatError::Api`] (e.g. 40007 invalid media id), [`WechatError::BadLength`] if it is
    /// larger than [`MAX_MEDIA_BYTES`], and transport errors.
    pub async fn media(&self, media_id: &str) -> Result<Media, WechatError> {
        self.with_token(|token| async move {
            let mut url = self.url("cgi-bin/media/get")?;
            url.query_pairs_mut()
                .append_pair("access_token", token.expose_secret())
                .append_pair("media_id", media_id);
            let resp = send(self.http.get(url)).await?;
            let content_type = resp
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/octet-stream")
                .to_owned();
            if resp
                .content_length()
                .is_some_and(|n| n > MAX_MEDIA_BYTES as u64)
            {
                return Err(WechatError::BadLength);
            }
            let bytes = resp.bytes().await.map_err(map_reqwest)?;
            if bytes.len() > MAX_MEDIA_BYTES {
                return Err(WechatError::BadLength);
            }
            // Errors come back as JSON with a 200.
            if content_type.starts_with("application/json") || content_type.starts_with("text/") {
                let v: Value =
                    serde_json::from_slice(&bytes).map_err(|e| WechatError::Decode(Box::new(e)))?;
                check_errcode(&v)?;
                return Err(WechatError::Decode(
                    "media/get answered JSON without errcode".into(),
                ));
            }
            Ok(Media {
                bytes: bytes.to_vec(),
                content_type,
            })
        })
        .await
    }

    /// Send a customer-service text message (only within 48 h of the user's last message).
    ///
    /// # Errors
    /// [`WechatError::Api`] (45015 outside the window, 43004 not following, …) and transport
    /// errors.
    pub async fn send_text(&self, openid: &str, content: &str) -> Result<(), WechatError> {
        let body = serde_json::json!({
            "touser": openid,
            "msgtype": "text",
            "text": { "content": content },
        });
        self.post_with_token("cgi-bin/message/custom/send", &body)
            .await
    }

    /// Send a subscription message with a template the user accepted.
    ///
    /// # Errors
    /// [`WechatError::Api`] (43101 user refused, 40037 bad template, …) and transport errors.
    pub async fn send_subscribe(&self, msg: &SubscribeMessage) -> Result<(), WechatError> {
        self.post_with_token("cgi-bin/message/subscribe/bizsend", msg)
            .await
    }

    /// [`ApiClient::send_subscribe`], returning the `msgid` WeChat gave the message (a number
    /// or a string in WeChat's answers; `None` when it gave none), for the sender's records.
    ///
    /// # Errors
    /// As [`ApiClient::send_subscribe`].
    pub async fn send_subscribe_msgid(
        &self,
        msg: &SubscribeMessage,
    ) -> Result<Option<String>, WechatError> {
        let v = self
            .post_with_token_value("cgi-bin/message/subscribe/bizsend", msg)
            .await?;
        Ok(msgid_of(&v))
    }

    async fn post_with_token<B: Serialize + Sync>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<(), WechatError> {
        self.post_with_token_value(path, body).await.map(|_| ())
    }

    async fn post_with_token_value<B: Serialize + Sync>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<Value, WechatError> {
        self.with_token(|token| async move {
            let mut url = self.url(path)?;
            url.query_pairs_mut()
                .append_pair("access_token", token.expose_secret());
            json_response(self.http.post(url).json(body)).await
        })
        .await
    }
}

/// The `msgid` of a send answer: WeChat writes it as a number, some answers as a string.
fn msgid_of(v: &Value) -> Option<String> {
    match v.get("msgid")? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

fn map_reqwest(e: reqwest::Error) -> WechatError {
    let e = e.without_url();
    if e.is_timeout() {
        WechatError::Timeout(e)
    } else {
        WechatError::Transport(e)
    }
}

async fn send(req: reqwest::RequestBuilder) -> Result<reqwest::Response, WechatError> {
    let resp = req.send().await.map_err(map_reqwest)?;
    let status = resp.status();
    if !status.is_success() {
        return Err(WechatError::HttpStatus(status.as_u16()));
    }
    Ok(resp)
}

/// WeChat's convention: a non-zero `errcode` is an error, whatever else the body holds.
fn check_errcode(v: &Value) -> Result<(), WechatError> {
    match v.get("errcode").and_then(Value::as_i64) {
        None | Some(0) => Ok(()),
        Some(errcode) => Err(WechatError::Api {
            errcode,
            errmsg: v
                .get("errmsg")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .chars()
                .take(200)
                .collect(),
        }),
    }
}

async fn json_response<T: DeserializeOwned>(
    req: reqwest::RequestBuilder,
) -> Result<T, WechatError> {
    let resp = send(req).await?;
    let bytes = resp.bytes().await.map_err(map_reqwest)?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|e| WechatError::Decode(Box::new(e)))?;
    check_errcode(&v)?;
    serde_json::from_value(v).map_err(|e| WechatError::Decode(Box::new(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribe_data_is_nested_in_value_objects() {
        let msg = SubscribeMessage {
            touser: "o1".into(),
            template_id: "T".into(),
            page: Some("https://h5/x".into()),
            data: BTreeMap::from([("thing1".to_owned(), "受理".to_owned())]),
        };
        let v = serde_json::to_value(&msg).expect("json");
        assert_eq!(v["data"]["thing1"]["value"], "受理");
        assert_eq!(v["page"], "https://h5/x");
    }

    #[test]
    fn msgid_is_read_as_number_or_string() {
        assert_eq!(
            msgid_of(&serde_json::json!({"errcode":0,"msgid":1234567890123_i64})).as_deref(),
            Some("1234567890123")
        );
        assert_eq!(
            msgid_of(&serde_json::json!({"msgid":"m-1"})).as_deref(),
            Some("m-1")
        );
        assert_eq!(msgid_of(&serde_json::json!({"errcode":0})), None);
    }

    #[test]
    fn zero_errcode_is_success_and_others_are_errors() {
        assert!(check_errcode(&serde_json::json!({"errcode":0,"errmsg":"ok"})).is_ok());
        let e = check_errcode(&serde_json::json!({"errcode":43004,"errmsg":"require subscribe"}));
        assert!(matches!(e, Err(WechatError::Api { errcode: 43004, .. })));
    }
}
