//! The `intake` Lambda: start-up and the mapping of API Gateway events (see the library docs).

use anyhow::Context;
use intake::ports::SqsMediaQueue;
use intake::{App, PublicOrigin, Req};
use keyring::Keyring;
use lambda_http::{Body, Error, Request, Response, service_fn};
use outbox::SqsNoticeQueue;
use runtime::secrets::secret_string;
use runtime::{optional_env, required_env};
use secrecy::SecretString;
use session::SessionKey;
use store::{DynamoClueStore, ReporterKeyer, ReportingStore, StoreConfig};
use tokio::sync::OnceCell;
use wechat::{ApiClient, ApiConfig, Callback, InMemoryTokenCache};

/// What template.yaml gives this function.
struct Config {
    table_name: String,
    notice_queue_url: String,
    attachment_events_queue_url: String,
    pii_key_id: String,
    wechat_secret_arn: String,
    session_secret_arn: String,
    oauth_state_secret_arn: String,
    reporter_key_secret_arn: String,
    wechat_api_base: String,
    wechat_oauth_base: Option<String>,
    public_origin: PublicOrigin,
    stack_name: String,
    surge_per_hour: u32,
}

impl Config {
    fn from_env() -> Result<Self, runtime::ConfigError> {
        Ok(Self {
            table_name: required_env("TABLE_NAME")?,
            notice_queue_url: required_env("NOTICE_QUEUE_URL")?,
            attachment_events_queue_url: required_env("ATTACHMENT_EVENTS_QUEUE_URL")?,
            pii_key_id: required_env("PII_KEY_ID")?,
            wechat_secret_arn: required_env("WECHAT_SECRET_ARN")?,
            session_secret_arn: required_env("REPORTER_SESSION_SECRET_ARN")?,
            oauth_state_secret_arn: required_env("REPORTER_OAUTH_STATE_SECRET_ARN")?,
            reporter_key_secret_arn: required_env("REPORTER_KEY_SECRET_ARN")?,
            wechat_api_base: required_env("WECHAT_API_BASE")?,
            wechat_oauth_base: optional_env("WECHAT_OAUTH_BASE"),
            public_origin: PublicOrigin::parse(&required_env("PUBLIC_ORIGIN")?).map_err(|e| {
                runtime::ConfigError::Invalid {
                    name: "PUBLIC_ORIGIN",
                    source: Box::new(e),
                }
            })?,
            stack_name: required_env("STACK_NAME")?,
            surge_per_hour: match optional_env("DIVISION_SURGE_PER_HOUR") {
                None => intake::surge::DEFAULT_PER_HOUR,
                Some(v) => v.parse().map_err(|e| runtime::ConfigError::Invalid {
                    name: "DIVISION_SURGE_PER_HOUR",
                    source: Box::new(e),
                })?,
            },
        })
    }
}

/// The official account's credentials (`<stack>/wechat`).
#[derive(serde::Deserialize)]
struct WechatSecret {
    appid: String,
    secret: String,
    token: String,
    #[serde(default)]
    encoding_aes_key: Option<String>,
}

type IntakeApp = App<DynamoClueStore, ReportingStore, SqsNoticeQueue, SqsMediaQueue>;

/// Everything that needs the secrets: built on the first request (see [`main`]).
async fn build(config: &Config, aws: &aws_config::SdkConfig) -> anyhow::Result<IntakeApp> {
    let secrets = aws_sdk_secretsmanager::Client::new(aws);
    let wx: WechatSecret =
        serde_json::from_str(&secret_string(&secrets, &config.wechat_secret_arn).await?)
            .context("WECHAT_SECRET_ARN holds no {appid, secret, token, encoding_aes_key} JSON")?;
    // Three separate secrets, each rotating on its own (issue 16, point 4).
    let (session, oauth_state, reporter_key) = tokio::try_join!(
        secret_string(&secrets, &config.session_secret_arn),
        secret_string(&secrets, &config.oauth_state_secret_arn),
        secret_string(&secrets, &config.reporter_key_secret_arn),
    )?;
    let ring = |name: &str, doc: &str| {
        Keyring::from_json(doc).with_context(|| {
            format!("{name} holds no {{\"version\", \"current\", \"previous\"}} of at least 32 characters each")
        })
    };
    let session = ring("REPORTER_SESSION_SECRET_ARN", &session)?;
    let oauth_state = ring("REPORTER_OAUTH_STATE_SECRET_ARN", &oauth_state)?;
    let key_secrets =
        store::vault::reporter_key_secrets(&ring("REPORTER_KEY_SECRET_ARN", &reporter_key)?);
    let (current_key, previous_keys) = key_secrets
        .split_first()
        .context("the reporter-key secret has no version")?;
    let aes = intake::callback_aes_key(wx.encoding_aes_key.as_deref(), &config.public_origin)?;
    let callback = Callback::new(SecretString::from(wx.token), &wx.appid, aes)
        .context("the WeChat EncodingAESKey is invalid")?;
    let api_base: url::Url = config
        .wechat_api_base
        .parse()
        .context("WECHAT_API_BASE is not a URL")?;
    let oauth_base = config.wechat_oauth_base.clone().unwrap_or_else(|| {
        if api_base.host_str() == Some("api.weixin.qq.com") {
            "https://open.weixin.qq.com".to_owned()
        } else {
            api_base.as_str().trim_end_matches('/').to_owned()
        }
    });
    let oauth = ApiClient::new(
        ApiConfig::new(api_base, &wx.appid, SecretString::from(wx.secret)),
        InMemoryTokenCache::new(),
    )
    .context("building the WeChat client")?;
    let dynamodb = aws_sdk_dynamodb::Client::new(aws);
    let store = DynamoClueStore::new(
        dynamodb.clone(),
        aws_sdk_kms::Client::new(aws),
        StoreConfig::new(&config.table_name, &config.pii_key_id, current_key.clone())
            .with_previous_reporter_keys(previous_keys.to_vec()),
    )?;
    let sqs = aws_sdk_sqs::Client::new(aws);
    Ok(App {
        store,
        side: ReportingStore::new(dynamodb, &config.table_name),
        notices: SqsNoticeQueue::new(sqs.clone(), &config.notice_queue_url),
        media: SqsMediaQueue {
            client: sqs,
            url: config.attachment_events_queue_url.clone(),
        },
        callback,
        oauth,
        oauth_base,
        appid: wx.appid,
        session: SessionKey::new(&session, &oauth_state),
        keyer: ReporterKeyer::versioned(key_secrets.clone())?,
        public: config.public_origin.clone(),
        surge: intake::surge::Surge::new(config.surge_per_hour, &config.stack_name),
    })
}

/// Init reads the configuration (a missing variable fails the cold start) and the SDK config;
/// the secrets are read on the first request, so a cold start costs no Secrets Manager round
/// trips before the runtime asks for work. A failed read answers 503 and the next request
/// tries again (the app is built once, when it succeeds).
#[tokio::main]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    let config = Config::from_env()?;
    let aws = runtime::aws_config().await;
    let app = OnceCell::new();
    lambda_http::run(service_fn(|req| handler(req, &config, &aws, &app))).await
}

/// Maps the API Gateway request to a [`Req`] and the [`intake::Resp`] back.
async fn handler(
    req: Request,
    config: &Config,
    aws: &aws_config::SdkConfig,
    app: &OnceCell<IntakeApp>,
) -> Result<Response<Body>, Error> {
    let resp = match app.get_or_try_init(|| build(config, aws)).await {
        Ok(app) => {
            app.handle(&Req::from_lambda(&req), chrono::Utc::now())
                .await
        }
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "start-up (secrets) failed; the next request retries");
            intake::ApiError::unavailable().into_resp()
        }
    };
    Ok(resp.into_lambda()?)
}
