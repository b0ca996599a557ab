//! The reporter's identity, kept apart from the clue: the keyed hash that clues carry, the
//! envelope encryption of the identity itself, and the masked view officers see by default.
//!
//! - [`ReporterKeyer`]: HMAC-SHA-256 of the openid with a configured secret → [`ReporterKey`].
//! - [`seal`] / [`open`]: AES-256-GCM with a KMS data key; the clue id is the associated data, so
//!   a ciphertext moved to another clue's vault item does not decrypt.
//! - [`VaultContext`]: the KMS encryption context of each data key (`{"clue_id": <id>}`, or
//!   `{"officer_id": <sub>}` for an officer's WeChat binding): one data key per vault item, which
//!   KMS decrypts only with the same context (the key policy requires it), so every `Decrypt` is
//!   tied to one clue in CloudTrail.
//! - [`MaskedIdentity`]: `张*`, `138****5678`, `110***********1234`, computed once at receipt.

use std::fmt;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use domain::{ClueId, OfficerId, ReporterKey};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;

/// Who reported, as WeChat and the form tell us. Never logged: `Debug` prints only which fields
/// are present.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReporterIdentity {
    /// The WeChat openid (needed to push notices).
    pub openid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
}

impl ReporterIdentity {
    /// An anonymous reporter: only the openid.
    pub fn anonymous(openid: impl Into<String>) -> Self {
        Self {
            openid: openid.into(),
            name: None,
            phone: None,
            id_number: None,
        }
    }

    /// Whether the reporter gave their real name (notice item 3).
    pub fn is_real_name(&self) -> bool {
        self.name.as_deref().is_some_and(|n| !n.trim().is_empty())
    }

    /// The masked view.
    pub fn masked(&self) -> MaskedIdentity {
        MaskedIdentity {
            name: self.name.as_deref().map(mask_name),
            phone: self.phone.as_deref().map(mask_phone),
            id_number: self.id_number.as_deref().map(mask_id_number),
        }
    }
}

impl fmt::Debug for ReporterIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReporterIdentity")
            .field("openid", &"<redacted>")
            .field("name", &self.name.as_ref().map(|_| "<redacted>"))
            .field("phone", &self.phone.as_ref().map(|_| "<redacted>"))
            .field("id_number", &self.id_number.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// The identity as every officer of the handling bureau may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaskedIdentity {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
}

/// `张三` → `张*`, `欧阳娜娜` → `欧***`: the first character, then one `*` per other character.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let rest = chars.count().max(1);
            format!("{first}{}", "*".repeat(rest))
        }
    }
}

/// `13812345678` → `138****5678`; other lengths keep only the last four characters.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.trim().chars().collect();
    let n = chars.len();
    if n == 11 {
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[7..].iter().collect();
        format!("{head}****{tail}")
    } else if n > 4 {
        let tail: String = chars[n - 4..].iter().collect();
        format!("{}{tail}", "*".repeat(n - 4))
    } else {
        "*".repeat(n)
    }
}

/// `11010519491231002X` → `110***********002X`: the first three and last four characters.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.trim().chars().collect();
    let n = chars.len();
    if n > 7 {
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[n - 4..].iter().collect();
        format!("{head}{}{tail}", "*".repeat(n - 7))
    } else {
        "*".repeat(n)
    }
}

/// The HKDF purpose of the reporter-key secret's versions ([`reporter_key_secrets`]).
pub const REPORTER_KEY_PURPOSE: &str = "12336 reporter key";

/// The reporter-key secrets of every live version of the `<stack>/reporter-key` secret, the
/// current one first, for [`ReporterKeyer::versioned`] and the store's configuration.
pub fn reporter_key_secrets(ring: &keyring::Keyring) -> Vec<Vec<u8>> {
    ring.derive_all(REPORTER_KEY_PURPOSE)
        .iter()
        .map(|k| k.to_vec())
        .collect()
}

/// Computes reporter keys: HMAC-SHA-256 of the openid with a secret from configuration. The same
/// openid always gives the same key; without the secret the key reveals nothing.
///
/// The secret rotates (issue 16, point 4): a keyer holds the current version, which keys new
/// clues, drafts, limits and uploads, and the previous live versions, under which a reporter's
/// earlier clues, block-list entries and limit counters are still found ([`Self::keys`]).
#[derive(Clone)]
pub struct ReporterKeyer {
    /// The current secret first, then the previous live ones, newest first.
    secrets: Vec<Vec<u8>>,
}

impl ReporterKeyer {
    /// A keyer with one version, `secret` (at least 16 bytes).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a shorter secret.
    pub fn new(secret: impl Into<Vec<u8>>) -> Result<Self, StoreError> {
        Self::versioned(vec![secret.into()])
    }

    /// A keyer with the current secret first, then the previous live ones (each at least 16
    /// bytes).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for none or a shorter secret.
    pub fn versioned(secrets: Vec<Vec<u8>>) -> Result<Self, StoreError> {
        if secrets.is_empty() || secrets.iter().any(|s| s.len() < 16) {
            return Err(StoreError::Invalid(
                "reporter key secret (at least 16 bytes)",
            ));
        }
        Ok(Self { secrets })
    }

    fn mac(secret: &[u8], parts: &[&[u8]]) -> [u8; 32] {
        keyring::hmac_fields(secret, parts)
    }

    fn key_with(secret: &[u8], openid: &str) -> ReporterKey {
        let hex = hex::encode(Self::mac(secret, &[b"reporter", openid.as_bytes()]));
        match ReporterKey::parse(&hex) {
            Ok(k) => k,
            Err(_) => unreachable!("64 lowercase hex characters"),
        }
    }

    /// The reporter key of `openid` under the current version.
    pub fn key(&self, openid: &str) -> ReporterKey {
        Self::key_with(&self.secrets[0], openid)
    }

    /// The reporter keys of `openid` under every live version, the current one first.
    pub fn keys(&self, openid: &str) -> ReporterKeys {
        ReporterKeys(
            self.secrets
                .iter()
                .map(|s| Self::key_with(s, openid))
                .collect(),
        )
    }

    /// A keyed fingerprint of an identity, for idempotency comparisons without storing PII.
    pub(crate) fn fingerprint(&self, identity: &ReporterIdentity) -> String {
        let json = serde_json::to_vec(identity).unwrap_or_default();
        hex::encode(Self::mac(&self.secrets[0], &[b"identity", &json]))
    }
}

/// One reporter's keys under every live version of the reporter-key secret, the current one
/// first: new data is keyed under [`Self::current`]; what was keyed under an earlier version is
/// still theirs ([`Self::holds`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReporterKeys(Vec<ReporterKey>);

impl ReporterKeys {
    /// The keys as given, the current one first (at least one).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for none.
    pub fn new(keys: Vec<ReporterKey>) -> Result<Self, StoreError> {
        if keys.is_empty() {
            return Err(StoreError::Invalid("reporter keys"));
        }
        Ok(Self(keys))
    }

    /// The key new data is keyed under.
    pub fn current(&self) -> &ReporterKey {
        &self.0[0]
    }

    /// The keys of earlier versions, newest first.
    pub fn previous(&self) -> &[ReporterKey] {
        &self.0[1..]
    }

    /// Every key, the current one first.
    pub fn all(&self) -> &[ReporterKey] {
        &self.0
    }

    /// Whether `key` is this reporter's under any live version.
    pub fn holds(&self, key: &ReporterKey) -> bool {
        self.0.contains(key)
    }
}

impl fmt::Debug for ReporterKeyer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReporterKeyer(<secret>)")
    }
}

/// What a vault data key protects, as its KMS encryption context (one pair).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VaultContext {
    name: &'static str,
    value: String,
}

impl VaultContext {
    /// The context name of a clue's vault item.
    pub const CLUE: &'static str = "clue_id";
    /// The context name of an officer's WeChat binding.
    pub const OFFICER: &'static str = "officer_id";

    /// The context of clue `id`'s vault item.
    pub fn clue(id: &ClueId) -> Self {
        Self {
            name: Self::CLUE,
            value: id.as_str().to_owned(),
        }
    }

    /// The context of an officer's sealed WeChat binding.
    pub fn officer(id: &OfficerId) -> Self {
        Self {
            name: Self::OFFICER,
            value: id.to_string(),
        }
    }

    /// The context's key (`clue_id`, `officer_id`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The context's value.
    pub fn value(&self) -> &str {
        &self.value
    }
}

/// A plaintext AES-256 data key (from KMS `GenerateDataKey` or `Decrypt`).
#[derive(Clone)]
pub struct DataKey {
    pub(crate) plaintext: [u8; 32],
    /// The KMS ciphertext blob of the key, stored with each vault item.
    pub(crate) encrypted: Vec<u8>,
}

impl DataKey {
    /// A data key from its plaintext and its KMS-encrypted blob.
    ///
    /// # Errors
    /// [`StoreError::Vault`] if the plaintext is not 32 bytes.
    pub fn new(plaintext: &[u8], encrypted: Vec<u8>) -> Result<Self, StoreError> {
        let plaintext: [u8; 32] = plaintext
            .try_into()
            .map_err(|_| StoreError::Vault("a data key has 32 bytes"))?;
        Ok(Self {
            plaintext,
            encrypted,
        })
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<secret>)")
    }
}

/// An identity encrypted under a data key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The KMS-encrypted data key.
    pub encrypted_key: Vec<u8>,
    /// 96-bit GCM nonce, random per item.
    pub nonce: Vec<u8>,
    /// Ciphertext and tag.
    pub ciphertext: Vec<u8>,
}

/// Encrypts `identity` for the vault of clue `aad`.
///
/// # Errors
/// [`StoreError::Vault`] if encryption fails.
pub fn seal(key: &DataKey, aad: &str, identity: &ReporterIdentity) -> Result<Sealed, StoreError> {
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key.plaintext));
    let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
    let plaintext = serde_json::to_vec(identity).map_err(|_| StoreError::Vault("serialize"))?;
    let ciphertext = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: &plaintext,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| StoreError::Vault("encrypt"))?;
    Ok(Sealed {
        encrypted_key: key.encrypted.clone(),
        nonce: nonce.to_vec(),
        ciphertext,
    })
}

/// Decrypts a sealed identity of clue `aad` with its (already decrypted) data key.
///
/// # Errors
/// [`StoreError::Vault`] if the key, nonce, associated data or ciphertext do not match.
pub fn open(key: &DataKey, aad: &str, sealed: &Sealed) -> Result<ReporterIdentity, StoreError> {
    if sealed.nonce.len() != 12 {
        return Err(StoreError::Vault("a nonce has 12 bytes"));
    }
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key.plaintext));
    let plaintext = cipher
        .decrypt(
            Nonce::from_slice(&sealed.nonce),
            Payload {
                msg: &sealed.ciphertext,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| StoreError::Vault("decrypt"))?;
    serde_json::from_slice(&plaintext).map_err(|_| StoreError::Vault("deserialize"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> ReporterIdentity {
        ReporterIdentity {
            openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into(),
            name: Some("张三".into()),
            phone: Some("13812345678".into()),
            id_number: Some("11010519491231002X".into()),
        }
    }

    fn key() -> DataKey {
        DataKey::new(&[7u8; 32], b"blob".to_vec()).expect("key")
    }

    #[test]
    fn masks_keep_only_what_an_officer_may_see() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("李"), "李*");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("057187654321"), "********4321");
        assert_eq!(mask_id_number("11010519491231002X"), "110***********002X");
        let masked = identity().masked();
        assert_eq!(masked.name.as_deref(), Some("张*"));
        assert_eq!(masked.phone.as_deref(), Some("138****5678"));
    }

    #[test]
    fn reporter_keys_are_stable_keyed_and_hex() {
        let a = ReporterKeyer::new(b"0123456789abcdef0123".to_vec()).expect("keyer");
        let b = ReporterKeyer::new(b"another-secret-of-20".to_vec()).expect("keyer");
        assert_eq!(a.key("openid-1"), a.key("openid-1"));
        assert_ne!(a.key("openid-1"), a.key("openid-2"));
        assert_ne!(a.key("openid-1"), b.key("openid-1"));
        assert!(!a.key("openid-1").as_str().contains("openid"));
        assert!(ReporterKeyer::new(b"short".to_vec()).is_err());
    }

    #[test]
    fn a_sealed_identity_opens_only_for_its_clue() {
        let sealed = seal(&key(), "clue-1", &identity()).expect("seal");
        assert_eq!(open(&key(), "clue-1", &sealed).expect("open"), identity());
        assert!(open(&key(), "clue-2", &sealed).is_err());
        let other = DataKey::new(&[8u8; 32], Vec::new()).expect("key");
        assert!(open(&other, "clue-1", &sealed).is_err());
        let text = String::from_utf8_lossy(&sealed.ciphertext);
        assert!(!text.contains("13812345678"));
    }

    #[test]
    fn debug_output_hides_the_identity() {
        let shown = format!("{:?}", identity());
        assert!(!shown.contains("张三"));
        assert!(!shown.contains("13812345678"));
        assert!(!shown.contains("oUpF8"));
    }
}
