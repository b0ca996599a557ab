//! The `judgment` Lambda: start-up and the mapping of API Gateway events (see the library docs).

use api::Req;
use judgment::App;
use judgment::evidence::EvidenceBucket;
use judgment::exports::ExportDesk;
use lambda_http::{Body, Error, Request, Response, service_fn};
use outbox::SqsNoticeQueue;
use runtime::required_env;
use store::{DynamoClueStore, ReportingStore, StoreConfig};

/// What template.yaml gives this function. The officer API never receives reporters, so it holds
/// no reporter-key secret (least privilege; see [`StoreConfig::without_reporter_keys`]).
fn build(aws: &aws_config::SdkConfig) -> anyhow::Result<App<DynamoClueStore, SqsNoticeQueue>> {
    let db = aws_sdk_dynamodb::Client::new(aws);
    let table = required_env("TABLE_NAME")?;
    let store = DynamoClueStore::new(
        db.clone(),
        aws_sdk_kms::Client::new(aws),
        StoreConfig::without_reporter_keys(table.clone(), required_env("PII_KEY_ID")?),
    )?;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(aws)
            .force_path_style(std::env::var_os("AWS_ENDPOINT_URL").is_some())
            .build(),
    );
    let notices = SqsNoticeQueue::new(
        aws_sdk_sqs::Client::new(aws),
        required_env("NOTICE_QUEUE_URL")?,
    );
    Ok(App::new(store, notices)
        .with_reporting(ReportingStore::new(db, table))
        .with_evidence(EvidenceBucket {
            s3: s3.clone(),
            bucket: required_env("ATTACHMENT_BUCKET")?,
        })
        .with_exports(ExportDesk {
            sqs: aws_sdk_sqs::Client::new(aws),
            queue_url: required_env("EXPORT_QUEUE_URL")?,
            s3,
            bucket: required_env("EXPORT_BUCKET")?,
        }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    let aws = runtime::aws_config().await;
    let app = build(&aws).map_err(|e| format!("{e:#}"))?;
    lambda_http::run(service_fn(|req| handler(req, &app))).await
}

async fn handler(
    req: Request,
    app: &App<DynamoClueStore, SqsNoticeQueue>,
) -> Result<Response<Body>, Error> {
    let resp = app
        .handle(&Req::from_lambda(&req), chrono::Utc::now())
        .await;
    Ok(resp.into_lambda()?)
}
