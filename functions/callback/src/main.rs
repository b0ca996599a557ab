//! The `callback` Lambda: the WeChat callback (`GET`/`POST /wechat/callback`), a function of its
//! own (issue 16, point 2) so a flood on the H5 API cannot starve it: its own route throttle and
//! reserved concurrency (template.yaml). It serves [`intake::callback::CallbackApp`] over
//! intake's reporting core and needs only what the chat needs: the table, the vault key, the
//! two queues, the official account's secret and the reporter-key secret (no OAuth, no session
//! keys). Unsigned junk is refused before any table access (the app checks the route, the
//! body's size, the signature and the timestamp first).

use std::sync::Arc;

use intake::callback::{CallbackApp, callback_from_secret};
use intake::ports::SqsMediaQueue;
use intake::startup::{self, CoreConfig};
use lambda_http::Error;
use outbox::SqsNoticeQueue;
use store::{DynamoClueStore, ReportingStore};

type App = CallbackApp<DynamoClueStore, ReportingStore, SqsNoticeQueue, SqsMediaQueue>;

/// Everything that needs the secrets: built on the first request (see [`main`]).
async fn build(config: &CoreConfig, aws: &aws_config::SdkConfig) -> anyhow::Result<App> {
    let secrets = aws_sdk_secretsmanager::Client::new(aws);
    let (wx, reporting) = tokio::try_join!(
        startup::wechat_secret(&secrets, &config.wechat_secret_arn),
        startup::reporting(config, aws, &secrets),
    )?;
    // Plain mode (no EncodingAESKey) only on a local public origin: the start fails elsewhere.
    let callback = callback_from_secret(
        wx.token(),
        &wx.appid,
        wx.encoding_aes_key.as_deref(),
        &config.public_origin,
    )?;
    Ok(CallbackApp {
        reporting: Arc::new(reporting),
        callback,
    })
}

/// Init reads the configuration (a missing variable fails the cold start) and the SDK config;
/// the secrets are read on the first request ([`startup::serve`]).
#[tokio::main]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    let config = CoreConfig::from_env()?;
    let aws = runtime::aws_config().await;
    startup::serve(&config, &aws, build).await
}
