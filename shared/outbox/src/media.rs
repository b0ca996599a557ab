//! The attachment-events queue's chat-photo message: the guided chat asks `attachments` to
//! download a WeChat photo into the reporter's upload area. Ids only: no openid (the owner is the
//! reporter key).

use domain::{AttachmentId, ReporterKey};
use serde::{Deserialize, Serialize};

/// A request to download a WeChat photo into the bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRequest {
    pub attachment_id: AttachmentId,
    pub media_id: String,
    pub owner: ReporterKey,
}

/// The body of a [`MediaRequest`] message: `{"wechat_media": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaMessage {
    pub wechat_media: MediaRequest,
}

impl MediaMessage {
    /// Parses a message body.
    ///
    /// # Errors
    /// [`crate::QueueError::Malformed`] for anything but `{"wechat_media": {…}}`.
    pub fn parse(body: &str) -> Result<Self, crate::QueueError> {
        serde_json::from_str(body).map_err(crate::QueueError::Malformed)
    }

    /// The body as sent.
    pub fn body(&self) -> String {
        // Ids and a media id: serialization cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_media_message_reads_back_what_the_chat_sends() {
        let m = MediaMessage {
            wechat_media: MediaRequest {
                attachment_id: AttachmentId::parse("wx01").expect("id"),
                media_id: "m1".into(),
                owner: ReporterKey::parse(&"ab".repeat(32)).expect("key"),
            },
        };
        assert_eq!(
            m.body(),
            format!(
                r#"{{"wechat_media":{{"attachment_id":"wx01","media_id":"m1","owner":"{}"}}}}"#,
                "ab".repeat(32)
            )
        );
        assert_eq!(MediaMessage::parse(&m.body()).expect("parse"), m);
        assert!(MediaMessage::parse(r#"{"wechat_media":{"attachment_id":"wx01"}}"#).is_err());
        assert!(MediaMessage::parse(r#"{"Records":[]}"#).is_err());
    }
}
