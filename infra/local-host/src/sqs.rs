//! SQS event source mappings: long-poll the queue, invoke with a batch, delete what succeeded.
//!
//! With `ReportBatchItemFailures`, only the messages the function did not list in
//! `batchItemFailures` are deleted; the others become visible again after the queue's
//! visibility timeout and, past `maxReceiveCount`, the queue's redrive policy moves them to the
//! dead-letter queue (the emulator applies it, as SQS does). A function error, crash or timeout
//! leaves the whole batch on the queue, as Lambda does.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use serde_json::{Map, Value, json};

use crate::function::{Function, Outcome};
use crate::stack::QueueMappingSpec;

/// Long-poll wait per receive (short enough for a prompt shutdown).
const WAIT: i32 = 2;

pub async fn poll(
    sqs: aws_sdk_sqs::Client,
    mapping: QueueMappingSpec,
    function: Arc<Function>,
    region: String,
) {
    println!(
        "[sqs] {} -> {} (batch {}, partial failures: {})",
        mapping.queue_arn,
        mapping.function_logical_id,
        mapping.batch_size,
        mapping.report_batch_item_failures
    );
    loop {
        let received = sqs
            .receive_message()
            .queue_url(&mapping.queue_url)
            .max_number_of_messages(mapping.batch_size.clamp(1, 10))
            .wait_time_seconds(WAIT)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await;
        let messages = match received {
            Ok(r) => r.messages.unwrap_or_default(),
            Err(e) => {
                eprintln!(
                    "[sqs] receive from {} failed: {}",
                    mapping.queue_url,
                    aws_sdk_sqs::error::DisplayErrorContext(&e)
                );
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        let records: Vec<Value> = messages
            .iter()
            .map(|m| record(m, &mapping.queue_arn, &region))
            .collect();
        let event = json!({ "Records": records });
        let inv = function
            .invoke(&event, &format!("sqs:{}", mapping.queue_arn), None)
            .await;
        let failed: Option<HashSet<String>> = match &inv.outcome {
            Outcome::Response(bytes) if mapping.report_batch_item_failures => {
                failures(bytes, &messages)
            }
            Outcome::Response(_) => Some(HashSet::new()),
            _ => None, // whole batch returns to the queue
        };
        let Some(failed) = failed else { continue };
        let entries: Vec<DeleteMessageBatchRequestEntry> = messages
            .iter()
            .enumerate()
            .filter(|(_, m)| !failed.contains(m.message_id.as_deref().unwrap_or_default()))
            .filter_map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(m.receipt_handle.clone()?)
                    .build()
                    .ok()
            })
            .collect();
        if !entries.is_empty()
            && let Err(e) = sqs
                .delete_message_batch()
                .queue_url(&mapping.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
        {
            eprintln!(
                "[sqs] delete from {} failed: {}",
                mapping.queue_url,
                aws_sdk_sqs::error::DisplayErrorContext(&e)
            );
        }
    }
}

/// Ids the function reported as failed; `None` (retry all) when the response is malformed or
/// names a message that was not in the batch, as Lambda treats it.
fn failures(bytes: &[u8], messages: &[aws_sdk_sqs::types::Message]) -> Option<HashSet<String>> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    if v.is_null() {
        return Some(HashSet::new());
    }
    let ids: HashSet<&str> = messages
        .iter()
        .filter_map(|m| m.message_id.as_deref())
        .collect();
    let mut failed = HashSet::new();
    for f in v
        .get("batchItemFailures")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let id = f
            .get("itemIdentifier")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !ids.contains(id) {
            return None;
        }
        failed.insert(id.to_owned());
    }
    Some(failed)
}

fn record(m: &aws_sdk_sqs::types::Message, queue_arn: &str, region: &str) -> Value {
    let attributes: BTreeMap<String, String> = m
        .attributes
        .as_ref()
        .map(|a| {
            a.iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    let mut message_attributes = Map::new();
    for (name, a) in m.message_attributes.iter().flatten() {
        use base64::Engine;
        message_attributes.insert(
            name.clone(),
            json!({
                "stringValue": a.string_value,
                "binaryValue": a.binary_value.as_ref().map(|b| base64::engine::general_purpose::STANDARD.encode(b.as_ref())),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": a.data_type,
            }),
        );
    }
    json!({
        "messageId": m.message_id,
        "receiptHandle": m.receipt_handle,
        "body": m.body,
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": m.md5_of_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    })
}
