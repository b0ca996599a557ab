//! The reporter's H5 session, shared by `intake` and `attachments`.
//!
//! - [`ReporterSecret`]: one random secret (Secrets Manager, `<stack>/reporter`) from which every
//!   key is derived by HMAC-SHA-256 with a label: the session key, the OAuth state key and the
//!   reporter key (the store's keyed hash of the openid). Rotating it ends every session.
//! - [`SessionKey::seal`] / [`SessionKey::open`]: the session cookie is AES-256-GCM over
//!   `{openid, exp}`: the openid is neither readable nor forgeable by the browser, and a cookie
//!   is refused after its expiry.
//! - [`SessionKey::sign_state`] / [`SessionKey::verify_state`]: the OAuth `state` carries the
//!   return hash and an expiry, HMAC-signed and bound to a per-login nonce cookie (login CSRF).
//!
//! Nothing here logs; errors say only which check failed.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "rs";
/// Name of the per-login nonce cookie that binds the OAuth `state` to this browser.
pub const LOGIN_COOKIE: &str = "rs_login";
/// How long a session lasts (seconds).
pub const SESSION_SECS: i64 = 2 * 3600;
/// How long an OAuth round trip may take (seconds).
pub const STATE_SECS: i64 = 600;
/// The longest return hash kept through OAuth (WeChat limits `state` to 128 bytes).
pub const MAX_RETURN: usize = 48;

/// Why a cookie or state was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("the reporter secret is too short")]
    WeakSecret,
    #[error("malformed session")]
    Malformed,
    #[error("session does not verify")]
    Forged,
    #[error("session expired")]
    Expired,
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length.
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    for p in parts {
        mac.update(&(p.len() as u64).to_be_bytes());
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// The reporter secret: at least 32 bytes of randomness, from Secrets Manager.
#[derive(Clone)]
pub struct ReporterSecret(Vec<u8>);

impl std::fmt::Debug for ReporterSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReporterSecret(<redacted>)")
    }
}

impl ReporterSecret {
    /// # Errors
    /// [`SessionError::WeakSecret`] below 32 bytes.
    pub fn new(secret: impl Into<Vec<u8>>) -> Result<Self, SessionError> {
        let s = secret.into();
        if s.len() < 32 {
            return Err(SessionError::WeakSecret);
        }
        Ok(Self(s))
    }

    /// Reads `{"key": "<random>"}` (the template's generated secret string).
    ///
    /// # Errors
    /// [`SessionError::Malformed`] or [`SessionError::WeakSecret`].
    pub fn from_json(json: &str) -> Result<Self, SessionError> {
        #[derive(Deserialize)]
        struct Doc {
            key: String,
        }
        let doc: Doc = serde_json::from_str(json).map_err(|_| SessionError::Malformed)?;
        Self::new(doc.key.into_bytes())
    }

    fn derive(&self, label: &str) -> [u8; 32] {
        hmac(&self.0, &[b"12336-reporter", label.as_bytes()])
    }

    /// The store's reporter-key secret (HMAC of openids).
    pub fn reporter_key_secret(&self) -> Vec<u8> {
        self.derive("reporter-key").to_vec()
    }

    /// The session and state keys.
    pub fn session_key(&self) -> SessionKey {
        SessionKey {
            seal: self.derive("session-seal"),
            sign: self.derive("oauth-state"),
        }
    }
}

/// Seals session cookies and signs OAuth states.
#[derive(Clone)]
pub struct SessionKey {
    seal: [u8; 32],
    sign: [u8; 32],
}

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(<redacted>)")
    }
}

/// A valid session: who the reporter is.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub openid: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("openid", &"<redacted>")
            .field("exp", &self.exp)
            .finish()
    }
}

impl SessionKey {
    /// The cookie value of a session for `openid` from `now` (seconds).
    pub fn seal(&self, openid: &str, now: i64) -> String {
        let session = Session {
            openid: openid.to_owned(),
            exp: now + SESSION_SECS,
        };
        let plain = serde_json::to_vec(&session).unwrap_or_default();
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.seal));
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let Ok(ct) = cipher.encrypt(&nonce, plain.as_slice()) else {
            return String::new();
        };
        let mut out = nonce.to_vec();
        out.extend(ct);
        B64.encode(out)
    }

    /// The session a cookie value stands for.
    ///
    /// # Errors
    /// [`SessionError::Malformed`], [`SessionError::Forged`], [`SessionError::Expired`].
    pub fn open(&self, cookie: &str, now: i64) -> Result<Session, SessionError> {
        if cookie.len() > 1024 {
            return Err(SessionError::Malformed);
        }
        let raw = B64
            .decode(cookie.as_bytes())
            .map_err(|_| SessionError::Malformed)?;
        if raw.len() < 12 + 16 {
            return Err(SessionError::Malformed);
        }
        let (nonce, ct) = raw.split_at(12);
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.seal));
        let plain = cipher
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| SessionError::Forged)?;
        let session: Session =
            serde_json::from_slice(&plain).map_err(|_| SessionError::Malformed)?;
        if session.exp <= now || session.openid.is_empty() {
            return Err(SessionError::Expired);
        }
        Ok(session)
    }

    /// An OAuth `state` for `return_hash`, bound to `login_nonce` (also set as a cookie).
    pub fn sign_state(&self, return_hash: &str, login_nonce: &str, now: i64) -> String {
        let exp = (now + STATE_SECS).to_string();
        let r = B64.encode(return_hash.as_bytes());
        let mac = hmac(
            &self.sign,
            &[r.as_bytes(), exp.as_bytes(), login_nonce.as_bytes()],
        );
        format!("{r}.{exp}.{}", B64.encode(&mac[..16]))
    }

    /// The return hash of a valid state.
    ///
    /// # Errors
    /// [`SessionError::Malformed`], [`SessionError::Forged`] (also for another browser's
    /// nonce), [`SessionError::Expired`].
    pub fn verify_state(
        &self,
        state: &str,
        login_nonce: &str,
        now: i64,
    ) -> Result<String, SessionError> {
        let mut parts = state.split('.');
        let (Some(r), Some(exp), Some(tag), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(SessionError::Malformed);
        };
        let given = B64.decode(tag).map_err(|_| SessionError::Malformed)?;
        let mac = hmac(
            &self.sign,
            &[r.as_bytes(), exp.as_bytes(), login_nonce.as_bytes()],
        );
        if given.len() != 16 || !bool::from(given.ct_eq(&mac[..16])) {
            return Err(SessionError::Forged);
        }
        let exp: i64 = exp.parse().map_err(|_| SessionError::Malformed)?;
        if exp <= now {
            return Err(SessionError::Expired);
        }
        let r = B64.decode(r).map_err(|_| SessionError::Malformed)?;
        String::from_utf8(r).map_err(|_| SessionError::Malformed)
    }
}

/// A return hash safe to put in a redirect: `#/` followed by at most [`MAX_RETURN`] characters
/// of `A-Za-z0-9/-_:%.`; anything else becomes `#/`.
pub fn safe_return(hash: &str) -> String {
    let ok = hash.starts_with("#/")
        && hash.len() <= MAX_RETURN
        && hash[1..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-_:%.".contains(&b));
    if ok { hash.to_owned() } else { "#/".to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SessionKey {
        ReporterSecret::new(vec![7u8; 32])
            .expect("secret")
            .session_key()
    }

    #[test]
    fn a_session_opens_until_it_expires_and_not_with_another_key() {
        let k = key();
        let c = k.seal("oUser1", 1000);
        assert_eq!(k.open(&c, 1001).expect("open").openid, "oUser1");
        assert_eq!(k.open(&c, 1000 + SESSION_SECS), Err(SessionError::Expired));
        let other = ReporterSecret::new(vec![8u8; 32])
            .expect("secret")
            .session_key();
        assert_eq!(other.open(&c, 1001), Err(SessionError::Forged));
        assert_eq!(k.open("!!", 1001), Err(SessionError::Malformed));
        assert_eq!(k.open("", 1001), Err(SessionError::Malformed));
        let mut tampered = c.into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ascii");
        assert!(k.open(&tampered, 1001).is_err());
    }

    #[test]
    fn a_state_is_bound_to_its_login_nonce_and_expires() {
        let k = key();
        let s = k.sign_state("#/clue/abc", "n1", 1000);
        assert!(s.len() <= 128, "{}", s.len());
        assert_eq!(k.verify_state(&s, "n1", 1001).expect("ok"), "#/clue/abc");
        assert_eq!(k.verify_state(&s, "n2", 1001), Err(SessionError::Forged));
        assert_eq!(
            k.verify_state(&s, "n1", 1000 + STATE_SECS),
            Err(SessionError::Expired)
        );
        assert_eq!(
            k.verify_state("a.b", "n1", 1001),
            Err(SessionError::Malformed)
        );
    }

    #[test]
    fn only_plain_hashes_are_returned_to() {
        assert_eq!(safe_return("#/clue/01J-abc"), "#/clue/01J-abc");
        assert_eq!(safe_return("https://evil.example/"), "#/");
        assert_eq!(safe_return("#/<script>"), "#/");
        assert_eq!(safe_return(&format!("#/{}", "a".repeat(60))), "#/");
    }

    #[test]
    fn derived_keys_differ_by_purpose() {
        let s = ReporterSecret::from_json(r#"{"key":"0123456789abcdef0123456789abcdef"}"#)
            .expect("secret");
        assert_ne!(s.reporter_key_secret(), s.derive("session-seal").to_vec());
        assert!(ReporterSecret::from_json(r#"{"key":"short"}"#).is_err());
    }
}
