//! The `intake` Lambda: the reporter H5 API. Start-up and the mapping of API Gateway events (see
//! the library docs); the WeChat callback is the `callback` function's.

use std::sync::Arc;

use anyhow::Context;
use intake::App;
use intake::startup::{self, AwsReporting, CoreConfig};
use lambda_http::Error;
use outbox::SqsNoticeQueue;
use runtime::{optional_env, required_env};
use session::SessionKey;
use store::{DynamoClueStore, ReportingStore};
use wechat::{ApiClient, ApiConfig, InMemoryTokenCache};

/// What template.yaml gives this function besides the core's configuration.
struct Config {
    core: CoreConfig,
    session_secret_arn: String,
    oauth_state_secret_arn: String,
    wechat_api_base: String,
    wechat_oauth_base: Option<String>,
}

impl Config {
    fn from_env() -> Result<Self, runtime::ConfigError> {
        Ok(Self {
            core: CoreConfig::from_env()?,
            session_secret_arn: required_env("REPORTER_SESSION_SECRET_ARN")?,
            oauth_state_secret_arn: required_env("REPORTER_OAUTH_STATE_SECRET_ARN")?,
            wechat_api_base: required_env("WECHAT_API_BASE")?,
            wechat_oauth_base: optional_env("WECHAT_OAUTH_BASE"),
        })
    }
}

type IntakeApp = App<DynamoClueStore, ReportingStore, SqsNoticeQueue, intake::ports::SqsMediaQueue>;

/// Everything that needs the secrets: built on the first request (see [`main`]).
async fn build(config: &Config, aws: &aws_config::SdkConfig) -> anyhow::Result<IntakeApp> {
    let secrets = aws_sdk_secretsmanager::Client::new(aws);
    // Separate secrets, each rotating on its own (issue 16, point 4).
    let (wx, session, oauth_state, reporting): (_, _, _, AwsReporting) = tokio::try_join!(
        startup::wechat_secret(&secrets, &config.core.wechat_secret_arn),
        startup::keyring(
            &secrets,
            "REPORTER_SESSION_SECRET_ARN",
            &config.session_secret_arn
        ),
        startup::keyring(
            &secrets,
            "REPORTER_OAUTH_STATE_SECRET_ARN",
            &config.oauth_state_secret_arn
        ),
        startup::reporting(&config.core, aws, &secrets),
    )?;
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
        ApiConfig::new(api_base, &wx.appid, wx.secret()),
        InMemoryTokenCache::new(),
    )
    .context("building the WeChat client")?;
    Ok(App {
        reporting: Arc::new(reporting),
        oauth,
        oauth_base,
        appid: wx.appid,
        session: SessionKey::new(&session, &oauth_state),
    })
}

/// Init reads the configuration (a missing variable fails the cold start) and the SDK config;
/// the secrets are read on the first request ([`startup::serve`]).
#[tokio::main]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    let config = Config::from_env()?;
    let aws = runtime::aws_config().await;
    startup::serve(&config, &aws, build).await
}
