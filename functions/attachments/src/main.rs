//! `attachments`: two event sources, one binary.
//! - `POST /api/reporter/attachments` (HTTP API): authorises an evidence upload. Not built yet:
//!   answers 501 until the attachments issue brings presigned uploads.
//! - the attachment-events queue (S3 `ObjectCreated` notifications of the bucket): processes each
//!   stored object; partial batch failures so only failed records are retried.
//!
//! # Layout
//! - [`Event`] / [`Output`]: the two shapes this function receives and returns.
//! - [`on_objects`]: the queue consumer.

use aws_lambda_events::event::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use runtime::{ConfigError, lambda_runtime, required_env};
use serde::{Deserialize, Serialize};

#[derive(Debug)]
#[expect(
    dead_code,
    reason = "read at start-up now, used by the attachments issue"
)]
struct Config {
    table_name: String,
    bucket: String,
}

impl Config {
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: required_env("TABLE_NAME")?,
            bucket: required_env("ATTACHMENT_BUCKET")?,
        })
    }
}

#[expect(
    dead_code,
    reason = "clients are created at start-up, used by the attachments issue"
)]
struct App {
    config: Config,
    dynamodb: aws_sdk_dynamodb::Client,
    s3: aws_sdk_s3::Client,
}

/// What invokes this function: the queue (with `Records`) or the HTTP API.
#[derive(Deserialize)]
#[serde(untagged)]
enum Event {
    Sqs(SqsEvent),
    Http(Box<ApiGatewayV2httpRequest>),
}

#[derive(Serialize)]
#[serde(untagged)]
enum Output {
    Sqs(SqsBatchResponse),
    Http(Box<ApiGatewayV2httpResponse>),
}

/// An S3 event notification, read leniently: only what processing needs. (Emulators and S3
/// itself differ in the optional fields, so the full `S3Event` shape is not required.)
#[derive(Deserialize)]
struct Notification {
    #[serde(rename = "Records")]
    records: Vec<NotificationRecord>,
}

#[derive(Deserialize)]
struct NotificationRecord {
    #[serde(rename = "eventName")]
    event_name: String,
    s3: Entity,
}

#[derive(Deserialize)]
struct Entity {
    object: StoredObject,
}

#[derive(Deserialize)]
struct StoredObject {
    /// URL-encoded, as S3 sends it.
    key: String,
    #[serde(default)]
    size: u64,
}

/// An object key as S3 notifications encode it (`+` for space, `%XX`), decoded.
fn decode_key(key: &str) -> String {
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.map(|h| u8::from_str_radix(h, 16))) {
            (b'%', Some(Ok(b))) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// S3's test message, sent once when a notification configuration is put on the bucket.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct S3TestEvent {
    event: String,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    let config = Config::from_env()?;
    let aws = runtime::aws_config().await;
    let app = App {
        config,
        dynamodb: aws_sdk_dynamodb::Client::new(&aws),
        s3: aws_sdk_s3::Client::new(&aws),
    };
    lambda_runtime::run(service_fn(|ev| handler(ev, &app))).await
}

async fn handler(event: LambdaEvent<Event>, _app: &App) -> Result<Output, Error> {
    Ok(match event.payload {
        Event::Sqs(sqs) => Output::Sqs(on_objects(sqs)),
        Event::Http(req) => {
            tracing::info!(
                route = req.route_key.as_deref().unwrap_or_default(),
                "upload authorisation requested"
            );
            Output::Http(Box::new(not_implemented()))
        }
    })
}

fn not_implemented() -> ApiGatewayV2httpResponse {
    let mut resp = ApiGatewayV2httpResponse::default();
    resp.status_code = 501;
    resp.headers.insert(
        "content-type",
        "application/json".parse().expect("static header"),
    );
    resp.body = Some(r#"{"message":"upload authorisation is not available yet"}"#.into());
    resp
}

/// Handles each queue record on its own; a record that cannot be read is a batch item failure.
fn on_objects(event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let message_id = record.message_id.clone().unwrap_or_default();
        let body = record.body.as_deref().unwrap_or_default();
        if let Ok(s3) = serde_json::from_str::<Notification>(body) {
            for record in s3.records {
                let key = decode_key(&record.s3.object.key);
                let size = record.s3.object.size;
                tracing::info!(%message_id, %key, size, event = %record.event_name, "stored object received");
            }
        } else if let Ok(test) = serde_json::from_str::<S3TestEvent>(body) {
            tracing::info!(%message_id, event = %test.event, "bucket notification test event");
        } else {
            tracing::warn!(%message_id, "record is not an S3 notification; it returns to the queue");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message_id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::sqs::SqsMessage;

    fn sqs(bodies: &[&str]) -> SqsEvent {
        let mut event = SqsEvent::default();
        for (i, body) in bodies.iter().enumerate() {
            let mut m = SqsMessage::default();
            m.message_id = Some(format!("m{i}"));
            m.body = Some((*body).to_owned());
            event.records.push(m);
        }
        event
    }

    #[test]
    fn keys_are_decoded_as_s3_encodes_them() {
        assert_eq!(
            decode_key("incoming%2Fa+b%E7%85%A7.jpg"),
            "incoming/a b照.jpg"
        );
    }

    #[test]
    fn an_http_api_request_is_not_taken_for_a_queue_batch() {
        let req = r#"{"version":"2.0","routeKey":"POST /api/reporter/attachments","rawPath":"/api/reporter/attachments","rawQueryString":"","headers":{},"requestContext":{"accountId":"1","apiId":"a","domainName":"d","domainPrefix":"d","http":{"method":"POST","path":"/api/reporter/attachments","protocol":"HTTP/1.1","sourceIp":"127.0.0.1","userAgent":"t"},"requestId":"r","routeKey":"POST /api/reporter/attachments","stage":"$default","time":"t","timeEpoch":0},"isBase64Encoded":false}"#;
        assert!(matches!(
            serde_json::from_str::<Event>(req),
            Ok(Event::Http(_))
        ));
        assert!(matches!(
            serde_json::from_str::<Event>(r#"{"Records":[]}"#),
            Ok(Event::Sqs(_))
        ));
    }

    #[test]
    fn only_unreadable_records_are_reported_as_failures() {
        let created = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2026-01-01T00:00:00.000Z","eventName":"ObjectCreated:Put","userIdentity":{"principalId":"x"},"requestParameters":{"sourceIPAddress":"127.0.0.1"},"responseElements":{},"s3":{"s3SchemaVersion":"1.0","configurationId":"c","bucket":{"name":"b","ownerIdentity":{"principalId":"x"},"arn":"arn:aws:s3:::b"},"object":{"key":"incoming/a.jpg","size":3,"eTag":"e","sequencer":"1"}}}]}"#;
        let test = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-01-01T00:00:00Z","Bucket":"b"}"#;
        let resp = on_objects(sqs(&[created, test, "garbage"]));
        let failed: Vec<_> = resp
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["m2"]);
    }
}
