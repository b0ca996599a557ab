//! The reporter's H5 session, shared by `intake` and `attachments`.
//!
//! - [`SessionKey`]: the cookie seal key and the OAuth state key, each derived (HKDF) from its
//!   own secret (Secrets Manager `<stack>/reporter-session` and `<stack>/reporter-oauth-state`,
//!   read as [`keyring::Keyring`]s), so a leak of one forges nothing of the other, and the
//!   reporter-key secret is a third one (`store::ReporterKeyer`). Each rotates with a grace
//!   period: the current version seals and signs, the previous versions are still accepted
//!   until the operator removes them (after [`SESSION_SECS`] for sessions, [`STATE_SECS`] for
//!   states, every cookie and state of the old version has expired anyway).
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
use keyring::{Keyring, hmac_fields};
use serde::{Deserialize, Serialize};
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
    #[error("malformed session")]
    Malformed,
    #[error("session does not verify")]
    Forged,
    #[error("session expired")]
    Expired,
}

/// The HKDF purpose of the session cookie's seal key.
const SEAL_PURPOSE: &str = "12336 reporter session seal";
/// The HKDF purpose of the OAuth state's signing key.
const STATE_PURPOSE: &str = "12336 reporter oauth state";

/// Seals session cookies and signs OAuth states: with the current version of each secret, and
/// accepts every live version's.
#[derive(Clone)]
pub struct SessionKey {
    /// The current seal key first.
    seal: Vec<[u8; 32]>,
    /// The current state key first.
    sign: Vec<[u8; 32]>,
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
    /// The keys of the session secret and of the OAuth state secret (two separate secrets).
    pub fn new(session: &Keyring, oauth_state: &Keyring) -> Self {
        Self {
            seal: session.derive_all(SEAL_PURPOSE),
            sign: oauth_state.derive_all(STATE_PURPOSE),
        }
    }

    /// The keys of a function that opens sessions but signs no OAuth state (`attachments`): it
    /// never holds the state secret, and every state it is shown is refused.
    pub fn sessions_only(session: &Keyring) -> Self {
        Self {
            seal: session.derive_all(SEAL_PURPOSE),
            sign: Vec::new(),
        }
    }

    /// The cookie value of a session for `openid` from `now` (seconds).
    pub fn seal(&self, openid: &str, now: i64) -> String {
        let session = Session {
            openid: openid.to_owned(),
            exp: now + SESSION_SECS,
        };
        let plain = serde_json::to_vec(&session).unwrap_or_default();
        let Some(key) = self.seal.first() else {
            return String::new();
        };
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key));
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
        let plain = self
            .seal
            .iter()
            .find_map(|key| {
                Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key))
                    .decrypt(Nonce::from_slice(nonce), ct)
                    .ok()
            })
            .ok_or(SessionError::Forged)?;
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
        let Some(key) = self.sign.first() else {
            return String::new();
        };
        let mac = hmac_fields(key, &[r.as_bytes(), exp.as_bytes(), login_nonce.as_bytes()]);
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
        let signed_by_a_live_key = given.len() == 16
            && self.sign.iter().any(|key| {
                let mac = hmac_fields(key, &[r.as_bytes(), exp.as_bytes(), login_nonce.as_bytes()]);
                bool::from(given.ct_eq(&mac[..16]))
            });
        if !signed_by_a_live_key {
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

    const A: &str = "0123456789abcdef0123456789abcdef";
    const B: &str = "fedcba9876543210fedcba9876543210";
    const C: &str = "00112233445566778899aabbccddeeff";

    fn ring(doc: &str) -> Keyring {
        Keyring::from_json(doc).expect("keyring")
    }

    fn one(secret: &str) -> Keyring {
        ring(&format!(r#"{{"current":"{secret}"}}"#))
    }

    fn key() -> SessionKey {
        SessionKey::new(&one(A), &one(B))
    }

    #[test]
    fn a_session_opens_until_it_expires_and_not_with_another_key() {
        let k = key();
        let c = k.seal("oUser1", 1000);
        assert_eq!(k.open(&c, 1001).expect("open").openid, "oUser1");
        assert_eq!(k.open(&c, 1000 + SESSION_SECS), Err(SessionError::Expired));
        let other = SessionKey::new(&one(C), &one(B));
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
    fn sessions_and_states_rotate_with_a_grace_period_each_under_its_own_secret() {
        // Before: version 1 of each secret.
        let before = key();
        let cookie = before.seal("oUser1", 1000);
        let state = before.sign_state("#/mine", "n1", 1000);
        // Rotated: version 2 current, version 1 still accepted.
        let rotated = SessionKey::new(
            &ring(&format!(
                r#"{{"version":"2","current":"{C}","previous":{{"1":"{A}"}}}}"#
            )),
            &ring(&format!(
                r#"{{"version":"2","current":"{C}","previous":{{"1":"{B}"}}}}"#
            )),
        );
        assert_eq!(rotated.open(&cookie, 1001).expect("grace").openid, "oUser1");
        assert_eq!(
            rotated.verify_state(&state, "n1", 1001).expect("grace"),
            "#/mine"
        );
        // New cookies and states are sealed and signed with version 2 only.
        let new_cookie = rotated.seal("oUser1", 1001);
        let new_state = rotated.sign_state("#/mine", "n1", 1001);
        assert_eq!(before.open(&new_cookie, 1002), Err(SessionError::Forged));
        assert_eq!(
            before.verify_state(&new_state, "n1", 1002),
            Err(SessionError::Forged)
        );
        // After the grace period the operator drops version 1: its cookies and states fail.
        let after = SessionKey::new(
            &ring(&format!(r#"{{"version":"2","current":"{C}"}}"#)),
            &ring(&format!(r#"{{"version":"2","current":"{C}"}}"#)),
        );
        assert_eq!(after.open(&cookie, 1001), Err(SessionError::Forged));
        assert_eq!(
            after.verify_state(&state, "n1", 1001),
            Err(SessionError::Forged)
        );
        assert_eq!(after.open(&new_cookie, 1002).expect("v2").openid, "oUser1");
    }

    #[test]
    fn the_seal_and_state_keys_differ_even_from_one_secret() {
        // The same secret given for both (a misconfiguration) still gives two keys: a state's
        // MAC is no cookie and a cookie's key signs no state.
        let same = SessionKey::new(&one(A), &one(A));
        assert_ne!(same.seal[0], same.sign[0]);
    }
}
