//! What one attachment-events queue record asks for: S3 `ObjectCreated` notifications, a
//! chat-photo download, or S3's test event.

use domain::AttachmentId;
use serde::Deserialize;

/// One queue record, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Objects stored in the bucket: their keys, decoded.
    Stored(Vec<String>),
    /// A guided-chat photo to download with `media/get`.
    Media(AttachmentId),
    /// S3's test message, sent once when a notification configuration is put on the bucket.
    S3Test,
}

/// An S3 event notification, read leniently: only what processing needs.
#[derive(Deserialize)]
struct Notification {
    #[serde(rename = "Records")]
    records: Vec<NotificationRecord>,
}

#[derive(Deserialize)]
struct NotificationRecord {
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
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct S3TestEvent {
    #[allow(dead_code)]
    event: String,
}

#[derive(Deserialize)]
struct MediaMessage {
    wechat_media: MediaRequest,
}

#[derive(Deserialize)]
struct MediaRequest {
    attachment_id: AttachmentId,
}

/// Reads a record body; `None` when it is none of the above (the record is retried, then goes
/// to the dead-letter queue).
pub fn parse(body: &str) -> Option<Message> {
    if let Ok(n) = serde_json::from_str::<Notification>(body) {
        return Some(Message::Stored(
            n.records
                .iter()
                .map(|r| decode_key(&r.s3.object.key))
                .collect(),
        ));
    }
    if let Ok(m) = serde_json::from_str::<MediaMessage>(body) {
        return Some(Message::Media(m.wechat_media.attachment_id));
    }
    if serde_json::from_str::<S3TestEvent>(body).is_ok() {
        return Some(Message::S3Test);
    }
    None
}

/// An object key as S3 notifications encode it (`+` for space, `%XX`), decoded.
pub fn decode_key(key: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_decoded_as_s3_encodes_them() {
        assert_eq!(
            decode_key("incoming%2Fa+b%E7%85%A7.jpg"),
            "incoming/a b照.jpg"
        );
    }

    #[test]
    fn each_kind_of_record_is_told_apart() {
        let stored = r#"{"Records":[{"eventName":"ObjectCreated:Post","s3":{"object":{"key":"incoming/k/a1","size":3}}}]}"#;
        assert_eq!(
            parse(stored),
            Some(Message::Stored(vec!["incoming/k/a1".to_owned()]))
        );
        assert_eq!(
            parse(r#"{"wechat_media":{"attachment_id":"wx01","media_id":"m"}}"#),
            Some(Message::Media(AttachmentId::parse("wx01").expect("id")))
        );
        assert_eq!(
            parse(r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"b"}"#),
            Some(Message::S3Test)
        );
        assert_eq!(parse(r#"{"hello":1}"#), None);
        assert_eq!(parse("not json"), None);
    }
}
