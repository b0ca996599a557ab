//! The `judgment` Lambda: start-up and the mapping of API Gateway events (see the library docs).

use api::Req;
use judgment::App;
use lambda_http::{Body, Error, Request, Response, service_fn};
use runtime::required_env;
use store::{DynamoClueStore, StoreConfig};

/// What template.yaml gives this function. The officer API never receives reporters, so it holds
/// no reporter-key secret (least privilege; see [`StoreConfig::without_reporter_keys`]).
fn build(aws: &aws_config::SdkConfig) -> anyhow::Result<App> {
    let store = DynamoClueStore::new(
        aws_sdk_dynamodb::Client::new(aws),
        aws_sdk_kms::Client::new(aws),
        StoreConfig::without_reporter_keys(
            required_env("TABLE_NAME")?,
            required_env("PII_KEY_ID")?,
        ),
    )?;
    Ok(App { store })
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    let aws = runtime::aws_config().await;
    let app = build(&aws).map_err(|e| format!("{e:#}"))?;
    lambda_http::run(service_fn(|req| handler(req, &app))).await
}

async fn handler(req: Request, app: &App) -> Result<Response<Body>, Error> {
    let resp = app
        .handle(&Req::from_lambda(&req), chrono::Utc::now())
        .await;
    Ok(resp.into_lambda()?)
}
