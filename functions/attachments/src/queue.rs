//! What one attachment-events queue record asks for: S3 `ObjectCreated` notifications, a
//! chat-photo download ([`outbox::MediaMessage`]), evidence a filing keeps
//! ([`outbox::KeepMessage`]), or S3's test event.

use aws_lambda_events::s3::S3Entity;
use domain::AttachmentId;
use outbox::{KeepMessage, MediaMessage};
use percent_encoding::percent_decode_str;
use serde::Deserialize;

/// One queue record, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Objects stored in the bucket: their keys, decoded.
    Stored(Vec<String>),
    /// A guided-chat photo to download with `media/get`.
    Media(AttachmentId),
    /// Evidence a clue attaches: kept from the never-attached expiry.
    Keep(Vec<AttachmentId>),
    /// S3's test message, sent once when a notification configuration is put on the bucket.
    S3Test,
}

/// An S3 event notification: `Records[].s3` as `aws_lambda_events` reads it. The records are
/// read by their `s3` entity only, not as [`aws_lambda_events::s3::S3EventRecord`]: that type
/// requires `userIdentity` and `requestParameters`, which the emulator's notifications (moto)
/// leave out, and processing needs neither.
#[derive(Deserialize)]
struct Notification {
    #[serde(rename = "Records")]
    records: Vec<NotificationRecord>,
}

#[derive(Deserialize)]
struct NotificationRecord {
    s3: S3Entity,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct S3TestEvent {
    #[allow(dead_code)]
    event: String,
}

/// Reads a record body; `None` when it is none of the above (the record is retried, then goes
/// to the dead-letter queue).
pub fn parse(body: &str) -> Option<Message> {
    if let Ok(n) = serde_json::from_str::<Notification>(body) {
        return n
            .records
            .iter()
            .map(|r| r.s3.object.key.as_deref().map(decode_key))
            .collect::<Option<Vec<_>>>()
            .map(Message::Stored);
    }
    if let Ok(m) = MediaMessage::parse(body) {
        return Some(Message::Media(m.wechat_media.attachment_id));
    }
    if let Ok(m) = KeepMessage::parse(body) {
        return Some(Message::Keep(m.keep_evidence));
    }
    if serde_json::from_str::<S3TestEvent>(body).is_ok() {
        return Some(Message::S3Test);
    }
    None
}

/// An object key as S3 notifications encode it (`+` for space, `%XX`), decoded.
pub fn decode_key(key: &str) -> String {
    percent_decode_str(&key.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_decoded_as_s3_encodes_them() {
        assert_eq!(
            decode_key("incoming%2Fa+b%E7%85%A7.jpg"),
            "incoming/a b照.jpg"
        );
        assert_eq!(decode_key("a%2Bb%25c"), "a+b%c");
    }

    #[test]
    fn each_kind_of_record_is_told_apart() {
        // As the emulator sends it (no userIdentity / requestParameters), and as S3 does.
        let emulator = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"cn-north-1","eventTime":"2026-03-10T02:00:00.000Z","eventName":"ObjectCreated:Post","s3":{"s3SchemaVersion":"1.0","configurationId":"n","bucket":{"name":"b","arn":"arn:aws-cn:s3:::b"},"object":{"key":"incoming/k/a1","size":3,"eTag":"e"}}}]}"#;
        assert_eq!(
            parse(emulator),
            Some(Message::Stored(vec!["incoming/k/a1".to_owned()]))
        );
        let s3 = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"cn-north-1","eventTime":"2026-03-10T02:00:00.000Z","eventName":"ObjectCreated:Post","userIdentity":{"principalID":"p"},"requestParameters":{"sourceIPAddress":"1.2.3.4"},"responseElements":{"x-amz-request-id":"r"},"s3":{"s3SchemaVersion":"1.0","configurationId":"n","bucket":{"name":"b","ownerIdentity":{"principalID":"p"},"arn":"arn:aws-cn:s3:::b"},"object":{"key":"incoming/k/a+b%E7%85%A7","size":3,"eTag":"e","sequencer":"s"}}}]}"#;
        assert_eq!(
            parse(s3),
            Some(Message::Stored(vec!["incoming/k/a b照".to_owned()]))
        );
        let media = format!(
            r#"{{"wechat_media":{{"attachment_id":"wx01","media_id":"m","owner":"{}"}}}}"#,
            "ab".repeat(32)
        );
        assert_eq!(
            parse(&media),
            Some(Message::Media(AttachmentId::parse("wx01").expect("id")))
        );
        assert_eq!(
            parse(r#"{"keep_evidence":["wx01","up02"]}"#),
            Some(Message::Keep(vec![
                AttachmentId::parse("wx01").expect("id"),
                AttachmentId::parse("up02").expect("id")
            ]))
        );
        assert_eq!(parse(r#"{"keep_evidence":["../up02"]}"#), None);
        assert_eq!(
            parse(r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"}"#),
            Some(Message::S3Test)
        );
        assert_eq!(
            parse(r#"{"wechat_media":{"attachment_id":"wx01","media_id":"m"}}"#),
            None
        );
        assert_eq!(
            parse(r#"{"Records":[{"s3":{"bucket":{},"object":{"size":1}}}]}"#),
            None,
            "a record without a key"
        );
        assert_eq!(parse(r#"{"hello":1}"#), None);
        assert_eq!(parse("not json"), None);
    }
}
