//! A fake WeChat for the local stack: the API (token, OAuth, media, message sending, with the
//! real error codes and runtime fault injection) and a simulator page to chat with the official
//! account as a user, open the report form through OAuth, and see the notices pushed.
//!
//! # Layout
//! - [`Config`]: account settings, callback and H5 URLs (from `SIM_*` env vars).
//! - [`api`]: the fake `api.weixin.qq.com` and `open.weixin.qq.com` endpoints.
//! - [`admin`]: `/_sim/*`: faults, delivered messages, users, token expiry, chat.
//! - [`state`]: the in-memory world (tokens, codes, media, users, deliveries, faults).
//! - [`router`] and [`spawn`]: the axum app, and a helper that serves it on a listener.

pub mod admin;
pub mod api;
pub mod state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use secrecy::SecretString;

pub use state::{Delivered, Faults, Sim, User};

/// Local-development defaults; the local API must be configured with the same values.
pub mod defaults {
    /// Listen address.
    pub const ADDR: &str = "127.0.0.1:9010";
    /// AppID of the simulated official account.
    pub const APPID: &str = "wx0000000000012336";
    /// AppSecret.
    pub const SECRET: &str = "sim-app-secret-12336-local-only";
    /// Callback Token.
    pub const TOKEN: &str = "sim-callback-token-12336";
    /// EncodingAESKey (43 characters).
    pub const AES_KEY: &str = "U2ltdWxhdG9yRW5jb2RpbmdBRVNLZXkxMjMzNkxvY2F";
    /// Account id (`gh_…`, the `ToUserName` of pushes).
    pub const ACCOUNT_ID: &str = "gh_12336sim0001";
    /// Access-token lifetime.
    pub const TOKEN_TTL_SECS: u64 = 7200;

    /// The simulated account's callback keys (Token, AppID, EncodingAESKey), as both ends of a
    /// local callback hold them: `Callback::from(keys())`, `Platform::from(keys())`.
    pub fn keys() -> wechat::CallbackKeys {
        wechat::CallbackKeys::new(super::SecretString::from(TOKEN), APPID, Some(AES_KEY))
            .expect("the simulator's EncodingAESKey constant is 43 valid characters")
    }
}

/// Everything the simulator needs to know.
#[derive(Debug, Clone)]
pub struct Config {
    /// The official account's AppID.
    pub appid: String,
    /// Its AppSecret.
    pub secret: SecretString,
    /// Callback Token.
    pub token: SecretString,
    /// EncodingAESKey; `None` for plain mode.
    pub aes_key: Option<String>,
    /// `gh_…` id.
    pub account_id: String,
    /// Where pushes go (the local API's `/wechat/callback`).
    pub callback_url: Option<String>,
    /// The reporter H5 form, the target of the OAuth redirect.
    pub h5_url: Option<String>,
    /// Access-token lifetime.
    pub token_ttl: Duration,
    /// Subscription template ids the "订阅通知" button accepts.
    pub template_ids: Vec<String>,
    /// This server's base URL as the callback sees it (for `PicUrl`).
    pub public_url: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            appid: defaults::APPID.into(),
            secret: SecretString::from(defaults::SECRET),
            token: SecretString::from(defaults::TOKEN),
            aes_key: Some(defaults::AES_KEY.into()),
            account_id: defaults::ACCOUNT_ID.into(),
            callback_url: None,
            h5_url: None,
            token_ttl: Duration::from_secs(defaults::TOKEN_TTL_SECS),
            template_ids: vec!["tpl_clue_accepted".into(), "tpl_clue_result".into()],
            public_url: format!("http://{}", defaults::ADDR),
        }
    }
}

impl Config {
    /// Read `SIM_APPID`, `SIM_SECRET`, `SIM_TOKEN`, `SIM_AES_KEY` (`plain` for plain mode),
    /// `SIM_ACCOUNT_ID`, `SIM_CALLBACK_URL`, `SIM_H5_URL`, `SIM_PUBLIC_URL`, `SIM_TOKEN_TTL_SECS`,
    /// `SIM_TEMPLATE_IDS` (comma-separated); unset ones take [`defaults`].
    ///
    /// # Errors
    /// When `SIM_TOKEN_TTL_SECS` is not a number.
    pub fn from_env() -> anyhow::Result<Self> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let mut c = Self::default();
        if let Some(v) = var("SIM_APPID") {
            c.appid = v;
        }
        if let Some(v) = var("SIM_SECRET") {
            c.secret = SecretString::from(v);
        }
        if let Some(v) = var("SIM_TOKEN") {
            c.token = SecretString::from(v);
        }
        match var("SIM_AES_KEY").as_deref() {
            Some("plain") => c.aes_key = None,
            Some(v) => c.aes_key = Some(v.to_owned()),
            None => {}
        }
        if let Some(v) = var("SIM_ACCOUNT_ID") {
            c.account_id = v;
        }
        c.callback_url = var("SIM_CALLBACK_URL");
        c.h5_url = var("SIM_H5_URL");
        if let Some(v) = var("SIM_PUBLIC_URL") {
            c.public_url = v.trim_end_matches('/').to_owned();
        }
        if let Some(v) = var("SIM_TOKEN_TTL_SECS") {
            let secs: u64 = v
                .parse()
                .map_err(|_| anyhow::anyhow!("SIM_TOKEN_TTL_SECS must be a number of seconds"))?;
            c.token_ttl = Duration::from_secs(secs);
        }
        if let Some(v) = var("SIM_TEMPLATE_IDS") {
            c.template_ids = v
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
        }
        Ok(c)
    }
}

/// The whole app.
///
/// # Errors
/// When the EncodingAESKey is invalid.
pub fn router(config: Config) -> anyhow::Result<Router> {
    let sim = Arc::new(Sim::new(config)?);
    Ok(Router::new()
        .route("/cgi-bin/stable_token", post(api::stable_token))
        .route("/cgi-bin/token", get(api::legacy_token))
        .route("/connect/oauth2/authorize", get(api::authorize))
        .route("/sns/oauth2/access_token", get(api::oauth_access_token))
        .route("/cgi-bin/media/upload", post(api::media_upload))
        .route("/cgi-bin/media/get", get(api::media_get))
        .route("/cgi-bin/message/custom/send", post(api::custom_send))
        .route(
            "/cgi-bin/message/subscribe/bizsend",
            post(api::subscribe_send),
        )
        .route("/", get(admin::page))
        .route("/_sim/config", get(admin::config))
        .route(
            "/_sim/faults",
            get(admin::get_faults).post(admin::set_faults),
        )
        .route("/_sim/messages", get(admin::messages))
        .route("/_sim/users", get(admin::users).post(admin::create_user))
        .route("/_sim/tokens/expire", post(admin::expire_tokens))
        .route("/_sim/oauth/code", post(admin::issue_code))
        .route("/_sim/chat", post(admin::chat))
        .route("/_sim/chat/image", post(admin::chat_image))
        .route("/_sim/reset", post(admin::reset))
        .route("/_sim/media", get(admin::media))
        .layer(axum::extract::DefaultBodyLimit::max(12 * 1024 * 1024))
        .with_state(sim))
}

/// Serve the app on `listener` in a background task; returns the bound address.
///
/// # Errors
/// When the configuration is invalid or the listener has no local address.
pub fn spawn(
    listener: tokio::net::TcpListener,
    config: Config,
) -> anyhow::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let app = router(config)?;
    let addr = listener.local_addr()?;
    let handle = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "wechat-sim server stopped");
        }
    });
    Ok((addr, handle))
}
