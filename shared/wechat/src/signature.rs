//! SHA-1 signatures over sorted strings, compared in constant time; timestamp freshness.

use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

use crate::WechatError;

/// Largest accepted distance between a request's `timestamp` and `now`, either way (5 minutes).
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// SHA-1 of the parts sorted bytewise and concatenated, as WeChat signs callbacks:
/// `sha1(sort(token, timestamp, nonce[, encrypt]))`.
pub fn sign(parts: &[&str]) -> [u8; 20] {
    let mut sorted: Vec<&str> = parts.to_vec();
    sorted.sort_unstable();
    let mut h = Sha1::new();
    for p in sorted {
        h.update(p.as_bytes());
    }
    h.finalize().into()
}

/// [`sign`] as 40 lowercase hex digits, the form WeChat sends.
pub fn sign_hex(parts: &[&str]) -> String {
    hex::encode(sign(parts))
}

/// Check a hex signature against the parts in constant time.
///
/// # Errors
/// [`WechatError::BadSignature`] when `given` is not 40 hex digits or does not match.
pub fn verify(given: &str, parts: &[&str]) -> Result<(), WechatError> {
    let mut got = [0u8; 20];
    if given.len() != 40 || hex::decode_to_slice(given, &mut got).is_err() {
        return Err(WechatError::BadSignature);
    }
    let want = sign(parts);
    if bool::from(want.ct_eq(&got)) {
        Ok(())
    } else {
        Err(WechatError::BadSignature)
    }
}

/// Parse a callback `timestamp` and check it is within [`MAX_CLOCK_SKEW_SECS`] of `now`
/// (seconds since the epoch). Pure: the caller passes the clock.
///
/// # Errors
/// [`WechatError::StaleTimestamp`] when it is not a plain decimal number or too far from `now`.
pub fn check_timestamp(timestamp: &str, now: i64) -> Result<i64, WechatError> {
    if timestamp.is_empty()
        || timestamp.len() > 12
        || !timestamp.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(WechatError::StaleTimestamp);
    }
    let ts: i64 = timestamp.parse().map_err(|_| WechatError::StaleTimestamp)?;
    if (now - ts).abs() > MAX_CLOCK_SKEW_SECS {
        return Err(WechatError::StaleTimestamp);
    }
    Ok(ts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wechatpy_check_signature_vector_is_accepted() {
        // wechatpy tests/test_utils.py: token 'test', timestamp '1410685589', nonce 'test'.
        let parts = ["test", "1410685589", "test"];
        assert!(verify("f21891de399b4e33a1a93c9a7b8a8fffb5a443ff", &parts).is_ok());
        assert!(matches!(
            verify("f21891de399b4e33a1a93c9a7b8a8fffb5a443fe", &parts),
            Err(WechatError::BadSignature)
        ));
    }

    #[test]
    fn wechatpy_signer_vector_sorts_before_hashing() {
        // wechatpy WeChatSigner test: add 789, 456, 123.
        assert_eq!(
            sign_hex(&["789", "456", "123"]),
            "f7c3bc1d808e04732adf679965ccc34ca7ae3441"
        );
    }

    #[test]
    fn uppercase_hex_is_the_same_signature() {
        let sig = sign_hex(&["a", "b"]).to_uppercase();
        assert!(verify(&sig, &["a", "b"]).is_ok());
    }

    #[test]
    fn timestamps_within_five_minutes_either_way_are_fresh() {
        assert!(check_timestamp("1000", 1300).is_ok());
        assert!(check_timestamp("1300", 1000).is_ok());
        assert!(check_timestamp("1000", 1301).is_err());
        assert!(check_timestamp("1301", 1000).is_err());
        assert!(check_timestamp("-5", 0).is_err());
        assert!(check_timestamp("+5", 0).is_err());
        assert!(check_timestamp("99999999999999999999", 0).is_err());
    }
}
