//! `notify`: consumes `notice.fifo` and sends each notice to its reporter through WeChat.
//!
//! A message carries ids only (no PII). Each record is handled on its own: a record that fails
//! is reported in `batchItemFailures`, so only it returns to the queue (and, after the queue's
//! `maxReceiveCount`, moves to the dead-letter queue) while the others are deleted.
//! For now a well-formed notice is acknowledged; the notify issue brings the sending.
//!
//! # Layout
//! - [`NoticeMessage`]: the message body.
//! - [`handler`]: one span per record, partial batch failures.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use runtime::{ConfigError, lambda_runtime, required_env};
use serde::Deserialize;
use tracing::Instrument;

#[derive(Debug)]
#[expect(dead_code, reason = "read at start-up now, used by the notify issue")]
struct Config {
    table_name: String,
    pii_key_id: String,
    wechat_secret_arn: String,
    wechat_api_base: String,
}

impl Config {
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: required_env("TABLE_NAME")?,
            pii_key_id: required_env("PII_KEY_ID")?,
            wechat_secret_arn: required_env("WECHAT_SECRET_ARN")?,
            wechat_api_base: required_env("WECHAT_API_BASE")?,
        })
    }
}

#[expect(
    dead_code,
    reason = "clients are created at start-up, used by the notify issue"
)]
struct App {
    config: Config,
    dynamodb: aws_sdk_dynamodb::Client,
}

/// The body of a `notice.fifo` message: which outbox item to send. Ids only.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoticeMessage {
    notice_id: String,
    #[serde(default)]
    clue_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
enum RecordError {
    #[error("message body is not a notice")]
    Malformed(#[source] serde_json::Error),
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    let config = Config::from_env()?;
    let aws = runtime::aws_config().await;
    let app = App {
        config,
        dynamodb: aws_sdk_dynamodb::Client::new(&aws),
    };
    lambda_runtime::run(service_fn(|ev| handler(ev, &app))).await
}

async fn handler(event: LambdaEvent<SqsEvent>, app: &App) -> Result<SqsBatchResponse, Error> {
    let mut response = SqsBatchResponse::default();
    for record in event.payload.records {
        let message_id = record.message_id.clone().unwrap_or_default();
        let span = tracing::info_span!("notice", %message_id);
        if let Err(e) = handle(&record, app).instrument(span).await {
            tracing::warn!(%message_id, error = %e, "notice not handled; it returns to the queue");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message_id;
            response.batch_item_failures.push(failure);
        }
    }
    Ok(response)
}

async fn handle(record: &SqsMessage, _app: &App) -> Result<(), RecordError> {
    let notice = parse(record.body.as_deref().unwrap_or_default())?;
    tracing::info!(notice_id = %notice.notice_id, clue_id = ?notice.clue_id, "notice received");
    Ok(())
}

fn parse(body: &str) -> Result<NoticeMessage, RecordError> {
    serde_json::from_str(body).map_err(RecordError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notice_message_carries_ids_only() {
        let n = parse(r#"{"notice_id":"n1","clue_id":"c1"}"#).expect("notice");
        assert_eq!(n.notice_id, "n1");
        assert!(parse(r#"{"notice_id":"n1","openid":"o-secret"}"#).is_err());
    }

    #[test]
    fn a_body_that_is_not_a_notice_is_a_failure() {
        assert!(matches!(parse("not json"), Err(RecordError::Malformed(_))));
    }
}
