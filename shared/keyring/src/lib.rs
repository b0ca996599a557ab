//! The platform's own keys (issue 16, point 4): the workspace's one HMAC-SHA-256 helper, HKDF
//! derivation of a key per purpose, and rotation.
//!
//! - [`hmac_sha256`] (one message, as AWS Signature V4 uses it) and [`hmac_fields`] (several
//!   fields, each length-prefixed, so `("ab", "c")` and `("a", "bc")` never collide).
//! - [`derive`]: HKDF-SHA-256 (RFC 5869) of a secret into the 32-byte key of one purpose.
//! - [`Keyring`]: one secret's rotation, read from its Secrets Manager document
//!   `{"version": "2", "current": "<random>", "previous": {"1": "<random>"}}`: the current key
//!   seals, signs and names new data; the previous ones are still accepted (sessions and OAuth
//!   states during their grace period) and still looked up (reporter keys of earlier versions).
//!
//! Nothing here logs; `Debug` never shows key material.

use std::collections::BTreeMap;

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// The shortest secret accepted (bytes).
pub const MIN_SECRET: usize = 32;

/// HKDF's salt: the platform's name, so the same secret used elsewhere gives other keys.
const SALT: &[u8] = b"12336 keyring v1";

/// HMAC-SHA-256 of one message.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = mac(key);
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA-256 of several fields, each preceded by its length (8 bytes, big-endian).
pub fn hmac_fields(key: &[u8], fields: &[&[u8]]) -> [u8; 32] {
    let mut mac = mac(key);
    for f in fields {
        mac.update(&(f.len() as u64).to_be_bytes());
        mac.update(f);
    }
    mac.finalize().into_bytes().into()
}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length: `new_from_slice` cannot fail for it.
    match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    }
}

/// The 32-byte key of `purpose` derived from `secret` (HKDF-SHA-256, RFC 5869).
pub fn derive(secret: &[u8], purpose: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    // 32 bytes is far below HKDF-SHA-256's limit of 255 × 32: `expand` cannot fail for it.
    match Hkdf::<Sha256>::new(Some(SALT), secret).expand(purpose.as_bytes(), &mut out) {
        Ok(()) => out,
        Err(_) => unreachable!("32 bytes is a valid HKDF-SHA-256 length"),
    }
}

/// Why a secret document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyringError {
    #[error("the secret is not a {{\"version\", \"current\", \"previous\"}} JSON document")]
    Malformed,
    #[error("a key of the secret is shorter than {MIN_SECRET} bytes")]
    Weak,
    #[error("a version is empty, repeated or has characters other than [0-9A-Za-z_-]")]
    BadVersion,
}

/// One version of a secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Version {
    /// The version's name (`1`, `2`, …): stored next to what it keyed.
    pub name: String,
    secret: Vec<u8>,
}

impl Version {
    /// The key of `purpose` under this version.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        derive(&self.secret, purpose)
    }
}

impl std::fmt::Debug for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Version({}, <redacted>)", self.name)
    }
}

/// A secret's live versions: the current one first, then the previous ones, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyring {
    versions: Vec<Version>,
}

fn version_ok(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 16
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Keyring {
    /// A keyring of one version.
    ///
    /// # Errors
    /// [`KeyringError::Weak`], [`KeyringError::BadVersion`].
    pub fn single(version: &str, secret: impl Into<Vec<u8>>) -> Result<Self, KeyringError> {
        Self::new(vec![(version.to_owned(), secret.into())])
    }

    /// A keyring of `versions`, the current one first.
    ///
    /// # Errors
    /// [`KeyringError::Weak`], [`KeyringError::BadVersion`] (also for none or a repeated one).
    pub fn new(versions: Vec<(String, Vec<u8>)>) -> Result<Self, KeyringError> {
        if versions.is_empty() {
            return Err(KeyringError::BadVersion);
        }
        let mut out: Vec<Version> = Vec::with_capacity(versions.len());
        for (name, secret) in versions {
            if !version_ok(&name) || out.iter().any(|v| v.name == name) {
                return Err(KeyringError::BadVersion);
            }
            if secret.len() < MIN_SECRET {
                return Err(KeyringError::Weak);
            }
            out.push(Version { name, secret });
        }
        Ok(Self { versions: out })
    }

    /// Reads `{"version": "2", "current": "…", "previous": {"1": "…"}}`. `version` defaults to
    /// `1` and `previous` to none (the template's generated secret is `{"version": "1",
    /// "current": "…"}`); previous versions are tried newest first (by number, else by name).
    ///
    /// # Errors
    /// [`KeyringError`].
    pub fn from_json(json: &str) -> Result<Self, KeyringError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Doc {
            #[serde(default)]
            version: Option<String>,
            current: String,
            #[serde(default)]
            previous: BTreeMap<String, String>,
        }
        let doc: Doc = serde_json::from_str(json).map_err(|_| KeyringError::Malformed)?;
        let mut previous: Vec<(String, String)> = doc.previous.into_iter().collect();
        previous.sort_by(
            |(a, _), (b, _)| match (a.parse::<u64>(), b.parse::<u64>()) {
                (Ok(a), Ok(b)) => b.cmp(&a),
                _ => b.cmp(a),
            },
        );
        let mut versions = vec![(
            doc.version.unwrap_or_else(|| "1".to_owned()),
            doc.current.into_bytes(),
        )];
        versions.extend(previous.into_iter().map(|(v, s)| (v, s.into_bytes())));
        Self::new(versions)
    }

    /// The current version: it seals, signs and names new data.
    pub fn current(&self) -> &Version {
        &self.versions[0]
    }

    /// Every live version, the current one first.
    pub fn versions(&self) -> &[Version] {
        &self.versions
    }

    /// The key of `purpose` under every live version, the current one first.
    pub fn derive_all(&self, purpose: &str) -> Vec<[u8; 32]> {
        self.versions.iter().map(|v| v.derive(purpose)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "0123456789abcdef0123456789abcdef";
    const B: &str = "fedcba9876543210fedcba9876543210";

    #[test]
    fn hmac_matches_rfc_4231_and_fields_do_not_collide() {
        // RFC 4231 test case 2.
        assert_eq!(
            hmac_sha256(b"Jefe", b"what do ya want for nothing?"),
            [
                0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95,
                0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9,
                0x64, 0xec, 0x38, 0x43
            ]
        );
        assert_ne!(
            hmac_fields(b"k", &[b"ab", b"c"]),
            hmac_fields(b"k", &[b"a", b"bc"])
        );
    }

    #[test]
    fn derivation_separates_purposes_and_secrets() {
        let a = derive(A.as_bytes(), "session-seal");
        assert_eq!(a, derive(A.as_bytes(), "session-seal"));
        assert_ne!(a, derive(A.as_bytes(), "oauth-state"));
        assert_ne!(a, derive(B.as_bytes(), "session-seal"));
    }

    #[test]
    fn a_rotated_document_lists_the_current_version_first_then_the_newest_previous() {
        let k = Keyring::from_json(&format!(
            r#"{{"version":"10","current":"{A}","previous":{{"2":"{B}","9":"{B}x"}}}}"#
        ))
        .expect("keyring");
        let names: Vec<&str> = k.versions().iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["10", "9", "2"]);
        assert_eq!(k.derive_all("p").len(), 3);
        assert_eq!(k.derive_all("p")[0], derive(A.as_bytes(), "p"));
        let generated = Keyring::from_json(&format!(r#"{{"current":"{A}"}}"#)).expect("keyring");
        assert_eq!(generated.current().name, "1");
        assert!(!format!("{k:?}").contains(A));
    }

    #[test]
    fn weak_malformed_and_ambiguous_documents_are_refused() {
        for (doc, err) in [
            (r#"{"current":"short"}"#.to_owned(), KeyringError::Weak),
            (r#"{"key":"x"}"#.to_owned(), KeyringError::Malformed),
            ("[]".to_owned(), KeyringError::Malformed),
            (
                format!(r#"{{"current":"{A}","previous":{{"1":"{B}"}}}}"#),
                KeyringError::BadVersion,
            ),
            (
                format!(r#"{{"version":"a b","current":"{A}"}}"#),
                KeyringError::BadVersion,
            ),
            (
                format!(r#"{{"current":"{A}","previous":{{"0":"short"}}}}"#),
                KeyringError::Weak,
            ),
        ] {
            assert_eq!(Keyring::from_json(&doc), Err(err), "{doc}");
        }
    }
}
