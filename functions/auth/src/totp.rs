//! The second factor: RFC 6238 TOTP (SHA-1, 6 digits, 30 s; what authenticator apps expect),
//! codes accepted one step either side, the step a code belongs to (so that a used code is
//! refused), and the enrolment QR code as SVG.

use totp_rs::{Algorithm, Secret, TOTP};

/// Seconds per step.
pub const STEP: u64 = 30;

/// Why a secret cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TotpError {
    #[error("no randomness: {0}")]
    Random(String),
    #[error("unusable TOTP secret: {0}")]
    Secret(String),
    #[error("QR code: {0}")]
    Qr(String),
}

/// A new random 160-bit secret, base32 (RFC 4648, no padding) as apps take it.
///
/// # Errors
/// [`TotpError::Random`].
pub fn new_secret() -> Result<String, TotpError> {
    let mut raw = [0u8; 20];
    getrandom::fill(&mut raw).map_err(|e| TotpError::Random(e.to_string()))?;
    Ok(Secret::Raw(raw.to_vec()).to_encoded().to_string())
}

fn totp(secret_b32: &str, issuer: &str, account: &str) -> Result<TOTP, TotpError> {
    let bytes = Secret::Encoded(secret_b32.to_owned())
        .to_bytes()
        .map_err(|e| TotpError::Secret(format!("{e:?}")))?;
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        STEP,
        bytes,
        Some(issuer.to_owned()),
        account.replace(':', "_"),
    )
    .map_err(|e| TotpError::Secret(e.to_string()))
}

/// The time step of `code` for `secret_b32` at `now_unix` (the current step or one either
/// side), or `None` if the code is wrong.
///
/// # Errors
/// [`TotpError::Secret`] for a stored secret that cannot be decoded.
pub fn matching_step(
    secret_b32: &str,
    code: &str,
    now_unix: u64,
) -> Result<Option<u64>, TotpError> {
    let t = totp(secret_b32, "12336", "officer")?;
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let now = now_unix / STEP;
    for step in [now.saturating_sub(1), now, now + 1] {
        let expected = t.generate(step * STEP);
        let same = expected
            .bytes()
            .zip(code.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if same == 0 && expected.len() == code.len() {
            return Ok(Some(step));
        }
    }
    Ok(None)
}

/// The code of `secret_b32` at `at_unix` (the seed script and the tests sign in with it).
///
/// # Errors
/// [`TotpError::Secret`].
pub fn code_at(secret_b32: &str, at_unix: u64) -> Result<String, TotpError> {
    Ok(totp(secret_b32, "12336", "officer")?.generate(at_unix))
}

/// The `otpauth://` URI an authenticator app scans: issuer `issuer`, account `account`.
///
/// # Errors
/// [`TotpError::Secret`].
pub fn otpauth_uri(secret_b32: &str, issuer: &str, account: &str) -> Result<String, TotpError> {
    Ok(totp(secret_b32, issuer, account)?.get_url())
}

/// The QR code of `text` as a standalone SVG document.
///
/// # Errors
/// [`TotpError::Qr`] when the text is too long for a QR code.
pub fn qr_svg(text: &str) -> Result<String, TotpError> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(|e| TotpError::Qr(e.to_string()))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(220, 220)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 seed "12345678901234567890", truncated to 6 digits.
    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        let secret = Secret::Raw(b"12345678901234567890".to_vec())
            .to_encoded()
            .to_string();
        assert_eq!(code_at(&secret, 59).expect("code"), "287082");
        assert_eq!(code_at(&secret, 1_111_111_109).expect("code"), "081804");
        assert_eq!(code_at(&secret, 2_000_000_000).expect("code"), "279037");
    }

    #[test]
    fn a_code_matches_its_step_and_one_either_side_only() {
        let secret = new_secret().expect("secret");
        let now = 1_800_000_000;
        let code = code_at(&secret, now).expect("code");
        assert_eq!(
            matching_step(&secret, &code, now).expect("ok"),
            Some(now / STEP)
        );
        assert_eq!(
            matching_step(&secret, &code, now + STEP).expect("ok"),
            Some(now / STEP)
        );
        assert_eq!(
            matching_step(&secret, &code, now + 3 * STEP).expect("ok"),
            None
        );
        assert_eq!(matching_step(&secret, "12345", now).expect("ok"), None);
        assert_eq!(matching_step(&secret, "abcdef", now).expect("ok"), None);
    }

    #[test]
    fn enrolment_gives_an_otpauth_uri_and_its_qr_code() {
        let secret = new_secret().expect("secret");
        let uri = otpauth_uri(&secret, "12336", "xh-handler").expect("uri");
        assert!(uri.starts_with("otpauth://totp/12336:xh-handler?"), "{uri}");
        assert!(uri.contains(&format!("secret={secret}")), "{uri}");
        let svg = qr_svg(&uri).expect("svg");
        assert!(svg.contains("<svg") && svg.contains("</svg>"));
    }
}
