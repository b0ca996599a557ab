//! The `callback` Lambda: the WeChat callback (`GET`/`POST /wechat/callback`), a function of its
//! own (issue 16, point 2) so a flood on the H5 API cannot starve it: its own route throttle and
//! reserved concurrency (template.yaml). It serves [`intake::callback::CallbackApp`] over
//! intake's reporting core and needs only what the chat needs: the table, the vault key, the
//! two queues, the official account's secret and the reporter-key secret (no OAuth, no session
//! keys). Unsigned junk is refused before any table access (the app checks the route, the
//! body's size, the signature and the timestamp first).

use std::sync::Arc;

use intake::Req;
use intake::callback::{CallbackApp, callback_from_secret};
use intake::ports::SqsMediaQueue;
use intake::startup::{self, CoreConfig};
use lambda_http::{Body, Error, Request, Response, service_fn};
use outbox::SqsNoticeQueue;
use store::{DynamoClueStore, ReportingStore};
use tokio::sync::OnceCell;

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
/// the secrets are read on the first request. A failed read answers 503 and the next request
/// tries again (the app is built once, when it succeeds).
#[tokio::main]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    let config = CoreConfig::from_env()?;
    let aws = runtime::aws_config().await;
    let app = OnceCell::new();
    lambda_http::run(service_fn(|req| handler(req, &config, &aws, &app))).await
}

/// Maps the API Gateway request to a [`Req`] and the [`intake::Resp`] back.
async fn handler(
    req: Request,
    config: &CoreConfig,
    aws: &aws_config::SdkConfig,
    app: &OnceCell<App>,
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
