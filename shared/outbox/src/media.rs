//! The attachment-events queue's messages from the reporting side: the guided chat asks
//! `attachments` to download a WeChat photo into the reporter's upload area ([`MediaMessage`]),
//! and a filing asks it to keep the evidence it attaches ([`KeepMessage`]). Ids only: no openid
//! (the owner is the reporter key).

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

/// The body of a request to keep evidence a clue is about to attach: `{"keep_evidence": [ids]}`.
/// Processed evidence is stored tagged as never attached, and the bucket's lifecycle expires it;
/// keeping it removes that tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeepMessage {
    pub keep_evidence: Vec<AttachmentId>,
}

impl KeepMessage {
    /// Parses a message body.
    ///
    /// # Errors
    /// [`crate::QueueError::Malformed`] for anything but `{"keep_evidence": [ids]}`.
    pub fn parse(body: &str) -> Result<Self, crate::QueueError> {
        serde_json::from_str(body).map_err(crate::QueueError::Malformed)
    }

    /// The body as sent.
    pub fn body(&self) -> String {
        // Validated ids: serialization cannot fail.
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

    #[test]
    fn a_keep_message_reads_back_and_is_not_a_media_message() {
        let m = KeepMessage {
            keep_evidence: vec![
                AttachmentId::parse("wx01").expect("id"),
                AttachmentId::parse("up02").expect("id"),
            ],
        };
        assert_eq!(m.body(), r#"{"keep_evidence":["wx01","up02"]}"#);
        assert_eq!(KeepMessage::parse(&m.body()).expect("parse"), m);
        assert!(MediaMessage::parse(&m.body()).is_err());
        assert!(KeepMessage::parse(r#"{"keep_evidence":["../x"]}"#).is_err());
        assert!(KeepMessage::parse(r#"{"keep_evidence":[],"x":1}"#).is_err());
    }
}
