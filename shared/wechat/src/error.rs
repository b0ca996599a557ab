//! The crate's one error type, with stable codes and a retry class.

/// Boxed cause from a pluggable adapter (nonce store, token cache).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in this crate.
///
/// Inbound (callback) failures are refusals of the request: answer them with an opaque 4xx and log
/// [`WechatError::code`]. Outbound (API) failures carry an [`ErrorClass`] that tells a sender
/// whether to retry, refresh the token, or give up.
#[derive(Debug, thiserror::Error)]
pub enum WechatError {
    // --- inbound: signatures and freshness -------------------------------------------------
    /// A signature (`signature` or `msg_signature`) is missing, malformed or does not match.
    #[error("signature does not match")]
    BadSignature,
    /// The `timestamp` is not a number, or lies outside the accepted window around `now`.
    #[error("timestamp outside the accepted window")]
    StaleTimestamp,
    /// This (timestamp, nonce) pair was seen before within the window.
    #[error("nonce already used")]
    ReplayedNonce,
    /// A query parameter the mode needs is absent, empty or implausibly long, or a plain-mode
    /// request reached an endpoint configured for safe mode (a downgrade).
    #[error("missing or invalid query parameter {0}")]
    BadParam(&'static str),

    // --- inbound: safe-mode decryption ------------------------------------------------------
    /// The `Encrypt` field (or the EncodingAESKey) is not valid base64.
    #[error("invalid base64")]
    BadBase64,
    /// The ciphertext or the inner length field has an impossible length.
    #[error("invalid ciphertext or message length")]
    BadLength,
    /// The PKCS#7 (32-byte block) padding is invalid.
    #[error("invalid padding")]
    BadPadding,
    /// The decrypted payload names another app id.
    #[error("payload is for another app id")]
    WrongAppId,
    /// The EncodingAESKey is not 43 base64 characters encoding 32 bytes.
    #[error("invalid EncodingAESKey")]
    BadAesKey,
    /// A message that should be text is not UTF-8.
    #[error("message is not valid UTF-8")]
    InvalidUtf8,

    // --- inbound: XML -----------------------------------------------------------------------
    /// The document has a DTD, an entity declaration, a non-predefined entity reference or a
    /// processing instruction.
    #[error("forbidden XML construct")]
    XmlForbidden,
    /// The body is larger than [`crate::xml::MAX_XML_BYTES`] or nests too deeply / too widely.
    #[error("XML document too large")]
    XmlTooLarge,
    /// The XML is not well formed.
    #[error("malformed XML")]
    XmlSyntax(#[source] quick_xml::Error),
    /// The XML is well formed but not a WeChat message (wrong root, missing or bad field).
    #[error("unexpected XML structure: {0}")]
    XmlMalformed(&'static str),

    // --- adapters ---------------------------------------------------------------------------
    /// The nonce store failed.
    #[error("nonce store failed")]
    NonceStore(#[source] BoxError),
    /// The access-token cache failed.
    #[error("access token cache failed")]
    TokenCache(#[source] BoxError),
    /// The account's credentials (AppID and secret) could not be read, e.g. from Secrets
    /// Manager when a client is built on first use. Retryable.
    #[error("wechat credentials unavailable")]
    Credentials(#[source] BoxError),

    // --- outbound: API ----------------------------------------------------------------------
    /// WeChat answered with a non-zero `errcode`.
    #[error("wechat api error {errcode}: {errmsg}")]
    Api {
        /// WeChat's numeric error code.
        errcode: i64,
        /// WeChat's message (English, for logs).
        errmsg: String,
    },
    /// The request did not complete within the configured timeout.
    #[error("wechat api timed out")]
    Timeout(#[source] reqwest::Error),
    /// The request failed below HTTP (connect, TLS, reset).
    #[error("wechat api transport failed")]
    Transport(#[source] reqwest::Error),
    /// WeChat answered with a non-2xx HTTP status.
    #[error("wechat api answered HTTP {0}")]
    HttpStatus(u16),
    /// The answer was not the JSON we expected.
    #[error("unexpected wechat api response")]
    Decode(#[source] BoxError),
    /// The configured base URL cannot be joined with an API path.
    #[error("invalid api url")]
    Url(#[source] url::ParseError),
}

/// What a sender should do about a failed API call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Try again later (busy, quota, timeout, 5xx, transport).
    Retryable,
    /// The access token is no longer valid: refresh it, then retry once.
    TokenExpired,
    /// Retrying will not help (user unsubscribed or refused, bad openid, no permission, bad input).
    Permanent,
}

/// Error codes that mean the access token is invalid or expired.
pub const TOKEN_EXPIRED_CODES: [i64; 3] = [40001, 42001, 40014];
/// Error codes that mean "try later": system busy, daily quota reached, minute quota reached.
pub const RETRYABLE_CODES: [i64; 3] = [-1, 45009, 45011];

/// Classify a WeChat `errcode`.
pub fn classify_errcode(errcode: i64) -> ErrorClass {
    if TOKEN_EXPIRED_CODES.contains(&errcode) {
        ErrorClass::TokenExpired
    } else if RETRYABLE_CODES.contains(&errcode) {
        ErrorClass::Retryable
    } else {
        ErrorClass::Permanent
    }
}

impl WechatError {
    /// A stable, snake_case code for logs and metrics. Codes never change meaning.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadSignature => "bad_signature",
            Self::StaleTimestamp => "stale_timestamp",
            Self::ReplayedNonce => "replayed_nonce",
            Self::BadParam(_) => "bad_param",
            Self::BadBase64 => "bad_base64",
            Self::BadLength => "bad_length",
            Self::BadPadding => "bad_padding",
            Self::WrongAppId => "wrong_app_id",
            Self::BadAesKey => "bad_aes_key",
            Self::InvalidUtf8 => "invalid_utf8",
            Self::XmlForbidden => "xml_forbidden",
            Self::XmlTooLarge => "xml_too_large",
            Self::XmlSyntax(_) => "xml_syntax",
            Self::XmlMalformed(_) => "xml_malformed",
            Self::NonceStore(_) => "nonce_store",
            Self::TokenCache(_) => "token_cache",
            Self::Credentials(_) => "credentials",
            Self::Api { .. } => "api_error",
            Self::Timeout(_) => "timeout",
            Self::Transport(_) => "transport",
            Self::HttpStatus(_) => "http_status",
            Self::Decode(_) => "decode",
            Self::Url(_) => "url",
        }
    }

    /// WeChat's `errcode`, when the failure is an API answer.
    pub fn errcode(&self) -> Option<i64> {
        match self {
            Self::Api { errcode, .. } => Some(*errcode),
            _ => None,
        }
    }

    /// Whether retrying can help. Inbound refusals and configuration errors are permanent.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Api { errcode, .. } => classify_errcode(*errcode),
            Self::Timeout(_) | Self::Transport(_) | Self::Decode(_) => ErrorClass::Retryable,
            Self::NonceStore(_) | Self::TokenCache(_) | Self::Credentials(_) => {
                ErrorClass::Retryable
            }
            Self::HttpStatus(s) if *s >= 500 || *s == 429 => ErrorClass::Retryable,
            _ => ErrorClass::Permanent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errcodes_are_classified_for_the_notify_function() {
        assert_eq!(classify_errcode(-1), ErrorClass::Retryable);
        assert_eq!(classify_errcode(45009), ErrorClass::Retryable);
        for c in [40001, 42001, 40014] {
            assert_eq!(classify_errcode(c), ErrorClass::TokenExpired);
        }
        for c in [43004, 40003, 43101, 48001, 40037, 47003] {
            assert_eq!(classify_errcode(c), ErrorClass::Permanent);
        }
    }

    #[test]
    fn server_errors_are_retryable_and_client_errors_are_not() {
        assert_eq!(WechatError::HttpStatus(502).class(), ErrorClass::Retryable);
        assert_eq!(WechatError::HttpStatus(404).class(), ErrorClass::Permanent);
        assert_eq!(WechatError::BadSignature.class(), ErrorClass::Permanent);
    }
}
