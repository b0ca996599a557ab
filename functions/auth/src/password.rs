//! Passwords: argon2id hashes (PHC strings), the password policy, and a fixed dummy hash so that
//! an unknown user name costs the same time as a wrong password.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Why a new password is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("密码至少12位")]
    TooShort,
    #[error("密码不能超过128位")]
    TooLong,
    #[error("密码须同时包含字母和数字")]
    TooSimple,
    #[error("密码不能包含用户名")]
    ContainsUsername,
    #[error("新密码不能与原密码相同")]
    Unchanged,
}

/// Hashing failed (no randomness, parameters): a server fault, never the caller's.
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): ~30 ms on one Lambda vCPU.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The argon2id PHC string of `password` with a fresh random salt.
///
/// # Errors
/// [`HashError`] when no randomness is available.
pub fn hash(password: &str) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| HashError(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| HashError(e.to_string()))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `password` matches the PHC string `phc` (a malformed hash matches nothing).
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
}

/// Spends the time of one verification for a user name that does not exist.
pub fn verify_dummy(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash("dummy password for unknown users").unwrap_or_default());
    let _ = verify(password, phc);
}

/// Checks a new password: 12–128 characters, letters and digits, not containing the user name,
/// not the current one.
///
/// # Errors
/// The first rule broken.
pub fn check_policy(new: &str, username: &str, current_hash: &str) -> Result<(), PolicyError> {
    let len = new.chars().count();
    if len < 12 {
        return Err(PolicyError::TooShort);
    }
    if len > 128 {
        return Err(PolicyError::TooLong);
    }
    if !(new.chars().any(char::is_alphabetic) && new.chars().any(|c| c.is_ascii_digit())) {
        return Err(PolicyError::TooSimple);
    }
    if !username.is_empty() && new.to_lowercase().contains(&username.to_lowercase()) {
        return Err(PolicyError::ContainsUsername);
    }
    if verify(new, current_hash) {
        return Err(PolicyError::Unchanged);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_argon2id_and_verifies_only_its_password() {
        let h = hash("Correct-horse-42").expect("hash");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("Correct-horse-42", &h));
        assert!(!verify("Correct-horse-43", &h));
        assert!(!verify("Correct-horse-42", "not a hash"));
        assert_ne!(h, hash("Correct-horse-42").expect("hash"), "salted");
    }

    #[test]
    fn the_policy_refuses_weak_or_unchanged_passwords() {
        let current = hash("Old-password-2026").expect("hash");
        assert_eq!(
            check_policy("short1", "u", &current),
            Err(PolicyError::TooShort)
        );
        assert_eq!(
            check_policy("onlyletterslong", "u", &current),
            Err(PolicyError::TooSimple)
        );
        assert_eq!(
            check_policy("xh-handler-2026-a", "xh-handler", &current),
            Err(PolicyError::ContainsUsername)
        );
        assert_eq!(
            check_policy("Old-password-2026", "u", &current),
            Err(PolicyError::Unchanged)
        );
        assert_eq!(check_policy("新的密码很安全2026年", "u", &current), Ok(()));
    }
}
