//! The `export` Lambda: start-up and the mapping of export-queue messages (see the library
//! docs). A message whose job fails is reported as a batch item failure and comes back after
//! the visibility timeout (then the DLQ); a message naming no job is dropped.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use export::{JobError, Worker};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use runtime::required_env;
use store::exports::ExportMessage;
use store::{DynamoClueStore, StoreConfig};

fn build(aws: &aws_config::SdkConfig) -> anyhow::Result<Worker<DynamoClueStore>> {
    let store = DynamoClueStore::new(
        aws_sdk_dynamodb::Client::new(aws),
        aws_sdk_kms::Client::new(aws),
        StoreConfig::without_reporter_keys(
            required_env("TABLE_NAME")?,
            required_env("PII_KEY_ID")?,
        ),
    )?;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(aws)
            .force_path_style(std::env::var_os("AWS_ENDPOINT_URL").is_some())
            .build(),
    );
    Ok(Worker {
        store,
        s3,
        bucket: required_env("EXPORT_BUCKET")?,
        scratch: std::env::temp_dir(),
    })
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    let aws = runtime::aws_config().await;
    let worker = build(&aws).map_err(|e| format!("{e:#}"))?;
    lambda_runtime::run(service_fn(|ev| handler(ev, &worker))).await
}

async fn handler(
    event: LambdaEvent<SqsEvent>,
    worker: &Worker<DynamoClueStore>,
) -> Result<SqsBatchResponse, Error> {
    let mut response = SqsBatchResponse::default();
    for record in &event.payload.records {
        let id = record.message_id.clone().unwrap_or_default();
        let job = record
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str::<ExportMessage>(b).ok());
        let Some(job) = job else {
            tracing::error!(message_id = %id, "malformed export message dropped");
            continue;
        };
        match worker.run(&job.job, chrono::Utc::now).await {
            Ok(()) => {}
            // No retry brings a job into existence.
            Err(e @ JobError::Gone(_)) => {
                tracing::error!(message_id = %id, error = %e, "export message for no job dropped");
            }
            Err(e) => {
                tracing::error!(message_id = %id, job = %job.job, error = %e, "export failed; retried");
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
            }
        }
    }
    Ok(response)
}
