//! Which files are evidence: types, size limits, and detection by content.

/// One allowed type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub content_type: &'static str,
    pub max_bytes: u64,
}

const MIB: u64 = 1024 * 1024;

/// Every allowed type.
pub const KINDS: [Kind; 5] = [
    Kind {
        content_type: "image/jpeg",
        max_bytes: 10 * MIB,
    },
    Kind {
        content_type: "image/png",
        max_bytes: 10 * MIB,
    },
    Kind {
        content_type: "image/webp",
        max_bytes: 10 * MIB,
    },
    Kind {
        content_type: "application/pdf",
        max_bytes: 20 * MIB,
    },
    Kind {
        content_type: "video/mp4",
        max_bytes: 100 * MIB,
    },
];

/// The largest object of any type.
pub const MAX_BYTES: u64 = 100 * MIB;

/// The allowed type named `content_type` (parameters such as `; charset` refused).
pub fn by_type(content_type: &str) -> Option<Kind> {
    KINDS.into_iter().find(|k| k.content_type == content_type)
}

/// The type the first bytes of a file show, if it is one of [`KINDS`].
pub fn detect(head: &[u8]) -> Option<Kind> {
    let ct = if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if head.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        "image/png"
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        "image/webp"
    } else if head.starts_with(b"%PDF-") {
        "application/pdf"
    } else if head.len() >= 12 && &head[4..8] == b"ftyp" {
        "video/mp4"
    } else {
        return None;
    };
    by_type(ct)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_known_by_their_magic_bytes_not_their_names() {
        assert_eq!(
            detect(&[0xFF, 0xD8, 0xFF, 0xE0]).map(|k| k.content_type),
            Some("image/jpeg")
        );
        assert_eq!(
            detect(b"\x89PNG\r\n\x1a\n....").map(|k| k.content_type),
            Some("image/png")
        );
        assert_eq!(
            detect(b"%PDF-1.7\n").map(|k| k.content_type),
            Some("application/pdf")
        );
        assert_eq!(
            detect(b"RIFF\0\0\0\0WEBPVP8 ").map(|k| k.content_type),
            Some("image/webp")
        );
        assert_eq!(
            detect(b"\0\0\0\x18ftypmp42").map(|k| k.content_type),
            Some("video/mp4")
        );
        assert_eq!(detect(b"<html><script>alert(1)</script>"), None);
        assert_eq!(detect(b""), None);
        assert_eq!(detect(b"MZ\x90\0"), None);
    }

    #[test]
    fn only_listed_types_are_allowed() {
        assert!(by_type("image/jpeg").is_some());
        assert!(by_type("text/html").is_none());
        assert!(by_type("image/jpeg; charset=utf-8").is_none());
    }
}
