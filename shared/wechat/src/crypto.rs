//! Safe-mode payload encryption: AES-256-CBC, IV = first 16 key bytes, PKCS#7 over 32-byte
//! blocks, plaintext `random(16) ‖ len(4, big-endian) ‖ msg ‖ appid`, base64 outside.

use aes::Aes256;
use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, InnerIvInit, KeyInit};
use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use subtle::ConstantTimeEq;

use crate::WechatError;

/// WeChat pads to multiples of 32 bytes (not AES's 16).
pub const PAD_BLOCK: usize = 32;
/// Upper bound for one ciphertext; larger is refused before decoding.
pub const MAX_CIPHERTEXT_B64: usize = 96 * 1024;

/// EncodingAESKeys are 43 base64 characters whose last 2 bits are ignored (WeChat's own sample
/// key `…ABCDEFG` has them set), so the key decoder tolerates trailing bits; ciphertexts are
/// decoded strictly.
const KEY_ENGINE: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// The AES-256 key derived from the account's EncodingAESKey, with its round keys expanded
/// once, and the IV (its first 16 bytes).
#[derive(Clone)]
pub struct AesKey {
    cipher: Aes256,
    iv: [u8; 16],
}

impl std::fmt::Debug for AesKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AesKey(..)")
    }
}

impl AesKey {
    /// Derive the key: `base64decode(encoding_aes_key + "=")`, which must be 32 bytes.
    ///
    /// # Errors
    /// [`WechatError::BadAesKey`] unless the input is exactly 43 base64 characters.
    pub fn from_encoding_aes_key(encoding_aes_key: &str) -> Result<Self, WechatError> {
        if encoding_aes_key.len() != 43 {
            return Err(WechatError::BadAesKey);
        }
        let mut padded = String::with_capacity(44);
        padded.push_str(encoding_aes_key);
        padded.push('=');
        let bytes = KEY_ENGINE
            .decode(padded.as_bytes())
            .map_err(|_| WechatError::BadAesKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| WechatError::BadAesKey)?;
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&key[..16]);
        Ok(Self {
            cipher: Aes256::new(&key.into()),
            iv,
        })
    }

    /// Encrypt `msg` for `appid` with the given 16 random bytes; returns base64.
    ///
    /// The random prefix is a parameter so tests can fix it; use [`random_prefix`] otherwise.
    pub fn encrypt(&self, msg: &[u8], appid: &str, random: [u8; 16]) -> String {
        let body_len = 16 + 4 + msg.len() + appid.len();
        let pad = PAD_BLOCK - body_len % PAD_BLOCK; // 1..=32
        let mut buf = Vec::with_capacity(body_len + pad);
        buf.extend_from_slice(&random);
        // Messages are capped far below 4 GiB by the callers; saturate rather than wrap.
        let len = u32::try_from(msg.len()).unwrap_or(u32::MAX);
        buf.extend_from_slice(&len.to_be_bytes());
        buf.extend_from_slice(msg);
        buf.extend_from_slice(appid.as_bytes());
        // `pad` is at most 32, so the cast is lossless.
        buf.resize(body_len + pad, pad as u8);
        let n = buf.len();
        let enc = cbc::Encryptor::<Aes256>::inner_iv_init(self.cipher.clone(), &self.iv.into());
        // The buffer is a whole number of blocks, so NoPadding cannot fail; fall back to an
        // empty ciphertext rather than panic if that invariant were ever broken.
        match enc.encrypt_padded_mut::<NoPadding>(&mut buf, n) {
            Ok(ct) => base64_simd::STANDARD.encode_to_string(ct),
            Err(_) => String::new(),
        }
    }

    /// Decrypt a base64 `Encrypt` value and check it was made for `appid`.
    ///
    /// Checks, in order: size, base64, whole 32-byte blocks, padding, inner length, app id,
    /// UTF-8. Call it only after the signature over the ciphertext has been verified.
    ///
    /// # Errors
    /// [`WechatError::BadBase64`], [`WechatError::BadLength`], [`WechatError::BadPadding`],
    /// [`WechatError::WrongAppId`] or [`WechatError::InvalidUtf8`].
    pub fn decrypt(&self, encrypted_b64: &str, appid: &str) -> Result<String, WechatError> {
        if encrypted_b64.len() > MAX_CIPHERTEXT_B64 {
            return Err(WechatError::BadLength);
        }
        let mut buf = base64_simd::STANDARD
            .decode_to_vec(encrypted_b64.as_bytes())
            .map_err(|_| WechatError::BadBase64)?;
        if buf.is_empty() || buf.len() % PAD_BLOCK != 0 {
            return Err(WechatError::BadLength);
        }
        let dec = cbc::Decryptor::<Aes256>::inner_iv_init(self.cipher.clone(), &self.iv.into());
        let plain = dec
            .decrypt_padded_mut::<NoPadding>(&mut buf)
            .map_err(|_| WechatError::BadLength)?;
        let content = strip_padding(plain)?;
        if content.len() < 20 {
            return Err(WechatError::BadLength);
        }
        let len_bytes: [u8; 4] = [content[16], content[17], content[18], content[19]];
        let msg_len = u32::from_be_bytes(len_bytes) as usize;
        let rest = &content[20..];
        if msg_len > rest.len() {
            return Err(WechatError::BadLength);
        }
        let (msg, tail) = rest.split_at(msg_len);
        if tail.len() != appid.len() || !bool::from(tail.ct_eq(appid.as_bytes())) {
            return Err(WechatError::WrongAppId);
        }
        String::from_utf8(msg.to_vec()).map_err(|_| WechatError::InvalidUtf8)
    }
}

fn strip_padding(plain: &[u8]) -> Result<&[u8], WechatError> {
    let Some(&last) = plain.last() else {
        return Err(WechatError::BadPadding);
    };
    let pad = usize::from(last);
    if pad == 0 || pad > PAD_BLOCK || pad > plain.len() {
        return Err(WechatError::BadPadding);
    }
    let (content, padding) = plain.split_at(plain.len() - pad);
    if padding.iter().any(|&b| b != last) {
        return Err(WechatError::BadPadding);
    }
    Ok(content)
}

/// 16 random bytes from the OS, for [`AesKey::encrypt`].
pub fn random_prefix() -> [u8; 16] {
    let mut r = [0u8; 16];
    fill_random(&mut r);
    r
}

/// Fill `buf` from the OS generator. If the OS generator fails (it does not on Linux once
/// booted), fall back to a hash of the time so the value is at least unpredictable-ish rather
/// than panicking; the prefix is not a secret, only a diversifier.
pub(crate) fn fill_random(buf: &mut [u8]) {
    if getrandom::fill(buf).is_err() {
        use sha1::Digest;
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let h = sha1::Sha1::digest(t.to_le_bytes());
        for (i, b) in buf.iter_mut().enumerate() {
            *b = h[i % h.len()];
        }
    }
}

/// A random decimal nonce like WeChat's (up to 10 digits).
pub fn random_nonce() -> String {
    let mut b = [0u8; 4];
    fill_random(&mut b);
    u32::from_le_bytes(b).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const WECHATPY_KEY: &str = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR";

    #[test]
    fn key_must_be_43_base64_chars() {
        assert!(AesKey::from_encoding_aes_key(WECHATPY_KEY).is_ok());
        assert!(
            AesKey::from_encoding_aes_key("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG").is_ok()
        );
        assert!(AesKey::from_encoding_aes_key("short").is_err());
        assert!(AesKey::from_encoding_aes_key(&format!("{}=", &WECHATPY_KEY[..42])).is_err());
        assert!(AesKey::from_encoding_aes_key(&"!".repeat(43)).is_err());
    }

    #[test]
    fn round_trip_keeps_message_and_pads_to_32() {
        let key = AesKey::from_encoding_aes_key(WECHATPY_KEY).expect("key");
        for n in [0usize, 1, 11, 12, 13, 44, 100, 1000] {
            let msg = "字".repeat(n);
            let ct = key.encrypt(msg.as_bytes(), "wxid", [7; 16]);
            let raw = base64_simd::STANDARD.decode_to_vec(&ct).expect("b64");
            assert_eq!(raw.len() % 32, 0);
            assert_eq!(key.decrypt(&ct, "wxid").expect("decrypt"), msg);
        }
    }

    #[test]
    fn debug_does_not_print_the_key() {
        let key = AesKey::from_encoding_aes_key(WECHATPY_KEY).expect("key");
        assert_eq!(format!("{key:?}"), "AesKey(..)");
    }
}
