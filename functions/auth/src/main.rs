//! The `auth` Lambda: start-up and the mapping of API Gateway events (see the library docs).

use anyhow::Context;
use api::Req;
use auth::token::KmsSigner;
use auth::{App, Config};
use lambda_http::{Body, Error, Request, Response, service_fn};
use runtime::required_env;
use store::{DynamoClueStore, StoreConfig};

/// What template.yaml gives this function.
fn build(aws: &aws_config::SdkConfig) -> anyhow::Result<App<DynamoClueStore>> {
    let kms = aws_sdk_kms::Client::new(aws);
    let store = DynamoClueStore::new(
        aws_sdk_dynamodb::Client::new(aws),
        kms.clone(),
        StoreConfig::without_reporter_keys(
            required_env("TABLE_NAME")?,
            required_env("PII_KEY_ID")?,
        ),
    )?;
    let mut config = Config::new(&required_env("ISSUER")?, &required_env("AUDIENCE")?);
    if let Some(s) = runtime::optional_env("ACCESS_TOKEN_SECONDS") {
        config.access_seconds = s.parse().context("ACCESS_TOKEN_SECONDS")?;
    }
    if let Some(s) = runtime::optional_env("REFRESH_TOKEN_SECONDS") {
        config.refresh_seconds = s.parse().context("REFRESH_TOKEN_SECONDS")?;
    }
    Ok(App {
        store,
        signer: KmsSigner::new(kms, required_env("SIGNING_KEY_ID")?),
        config,
    })
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    let aws = runtime::aws_config().await;
    let app = build(&aws).map_err(|e| format!("{e:#}"))?;
    lambda_http::run(service_fn(|req| handler(req, &app))).await
}

async fn handler(req: Request, app: &App<DynamoClueStore>) -> Result<Response<Body>, Error> {
    let resp = app
        .handle(&Req::from_lambda(&req), chrono::Utc::now())
        .await;
    Ok(resp.into_lambda()?)
}
