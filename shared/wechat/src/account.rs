//! The callback settings both ends of the callback share: the account's Token, AppID and, for
//! safe mode, EncodingAESKey (read once, for [`crate::Callback`] and [`crate::Platform`]).

use secrecy::SecretString;

use crate::WechatError;
use crate::crypto::AesKey;

/// An account's callback settings.
#[derive(Clone)]
pub struct CallbackKeys {
    pub(crate) token: SecretString,
    pub(crate) appid: String,
    pub(crate) aes_key: Option<AesKey>,
}

impl CallbackKeys {
    /// The account's Token, AppID and (for safe mode) EncodingAESKey.
    ///
    /// # Errors
    /// [`WechatError::BadAesKey`] if the EncodingAESKey is not 43 base64 characters.
    pub fn new(
        token: SecretString,
        appid: impl Into<String>,
        encoding_aes_key: Option<&str>,
    ) -> Result<Self, WechatError> {
        Ok(Self {
            token,
            appid: appid.into(),
            aes_key: encoding_aes_key
                .map(AesKey::from_encoding_aes_key)
                .transpose()?,
        })
    }

    /// The AppID payloads carry.
    pub fn appid(&self) -> &str {
        &self.appid
    }

    /// Whether the account is in safe mode (has an EncodingAESKey).
    pub fn safe_mode(&self) -> bool {
        self.aes_key.is_some()
    }
}

impl std::fmt::Debug for CallbackKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackKeys")
            .field("appid", &self.appid)
            .field("safe_mode", &self.safe_mode())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_aes_key_is_refused_and_none_is_plain_mode() {
        let token = || SecretString::from("the-token-value".to_owned());
        assert!(CallbackKeys::new(token(), "wx1", Some("short")).is_err());
        let plain = CallbackKeys::new(token(), "wx1", None).expect("plain");
        assert!(!plain.safe_mode());
        assert_eq!(plain.appid(), "wx1");
        let safe = CallbackKeys::new(token(), "wx1", Some(&"a".repeat(43))).expect("safe");
        assert!(safe.safe_mode());
        assert!(!format!("{safe:?}").contains("the-token-value"));
    }
}
