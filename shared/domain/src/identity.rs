//! A real-name reporter's identity fields, checked by shape: a name under the text policy, a
//! phone number in a phone's shape, a resident ID number with its GB 11643 check digit.

use chrono::NaiveDate;

use crate::text::{TextError, check};

/// Why an identity field was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("name: {0}")]
    Name(TextError),
    #[error("the phone number has no phone shape")]
    Phone,
    #[error("the resident ID number is not a valid GB 11643 number")]
    IdNumber,
}

impl IdentityError {
    /// The stable error code (API bodies).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Name(TextError::Markup { .. }) => "markup_not_allowed",
            Self::Name(_) => "invalid_name",
            Self::Phone => "invalid_phone",
            Self::IdNumber => "invalid_id_number",
        }
    }

    /// The answer the reporter reads.
    pub fn reporter_message(&self) -> String {
        match self {
            Self::Name(e) => e.reporter_message(),
            Self::Phone => "手机号码格式不正确，请填写11位手机号码或带区号的固定电话".to_owned(),
            Self::IdNumber => "身份证号码不正确，请核对18位公民身份号码".to_owned(),
        }
    }
}

/// The most characters of a name.
pub const NAME_MAX_CHARS: usize = 50;

/// A name under the text policy (single line, visible, no markup), without `<>&"`.
///
/// # Errors
/// [`IdentityError::Name`].
pub fn person_name(s: &str) -> Result<String, IdentityError> {
    let name = check("name", NAME_MAX_CHARS, false, s).map_err(IdentityError::Name)?;
    if name.chars().any(|c| "<>&\"".contains(c)) {
        return Err(IdentityError::Name(TextError::Markup { field: "name" }));
    }
    Ok(name)
}

/// A phone number in a phone's shape, normalised to its digits (and a leading `+` for a foreign
/// number): a mainland mobile `1[3-9]` + 9 digits, a landline with its area code (`0` + 9–11
/// digits, an extension after `-` allowed), each optionally after `+86`/`0086`; or a foreign
/// number `+<country code ≠ 86>` with 7–15 digits in all. Spaces and hyphens between digits are
/// allowed.
///
/// # Errors
/// [`IdentityError::Phone`].
pub fn phone_number(s: &str) -> Result<String, IdentityError> {
    let s = s.trim();
    if s.is_empty() || s.len() > 24 {
        return Err(IdentityError::Phone);
    }
    let (plus, rest) = match s.strip_prefix('+') {
        Some(r) => (true, r),
        None => (false, s),
    };
    if !rest
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b' ' || b == b'-')
        || !rest.starts_with(|c: char| c.is_ascii_digit())
        || !rest.ends_with(|c: char| c.is_ascii_digit())
        || rest.contains("  ")
        || rest.contains("--")
    {
        return Err(IdentityError::Phone);
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    let national = if plus {
        match digits.strip_prefix("86") {
            Some(n) => n.to_owned(),
            None if (7..=15).contains(&digits.len()) && !digits.starts_with('0') => {
                return Ok(format!("+{digits}"));
            }
            None => return Err(IdentityError::Phone),
        }
    } else {
        digits
            .strip_prefix("0086")
            .map_or(digits.clone(), str::to_owned)
    };
    let b = national.as_bytes();
    let mobile = b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]);
    let landline = (10..=12).contains(&b.len()) && b[0] == b'0' && b[1] != b'0';
    // A landline extension: more digits after the number (up to 6).
    let with_extension = b.len() > 12 && b.len() <= 18 && b[0] == b'0' && b[1] != b'0';
    if mobile || landline || with_extension {
        Ok(national)
    } else {
        Err(IdentityError::Phone)
    }
}

/// GB 11643-1999 weights of the first 17 digits.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// The check character for each remainder modulo 11.
const CHECK: &[u8; 11] = b"10X98765432";

/// A resident ID number (公民身份号码, GB 11643-1999): 18 characters, a birth date that exists,
/// and the check character computed from the first 17 digits (ISO 7064 MOD 11-2). The
/// first-generation 15-digit numbers (no check digit; those cards expired in 2013) are refused.
/// A lower-case `x` is accepted and stored upper-case.
///
/// # Errors
/// [`IdentityError::IdNumber`].
pub fn resident_id(s: &str) -> Result<String, IdentityError> {
    let n = s.trim().to_ascii_uppercase();
    let b = n.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return Err(IdentityError::IdNumber);
    }
    let birth =
        NaiveDate::parse_from_str(&n[6..14], "%Y%m%d").map_err(|_| IdentityError::IdNumber)?;
    if birth < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN) {
        return Err(IdentityError::IdNumber);
    }
    let sum: u32 = b[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    let expected = CHECK[(sum % 11) as usize];
    if b[17] == expected {
        Ok(n)
    } else {
        Err(IdentityError::IdNumber)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_ids_need_their_check_digit() {
        // The standard's own example (GB 11643-1999, annex A).
        assert_eq!(
            resident_id("11010519491231002x").as_deref(),
            Ok("11010519491231002X")
        );
        assert!(resident_id("440524188001010014").is_err(), "born 1880");
        for bad in [
            "110105194912310021", // wrong check digit
            "11010519491331002X", // month 13
            "110105194912310",    // 15 digits
            "11010519491231002",  // 17
            "1101051949123100２X",
            "",
        ] {
            assert_eq!(resident_id(bad), Err(IdentityError::IdNumber), "{bad}");
        }
    }

    #[test]
    fn phone_numbers_need_a_phone_shape() {
        assert_eq!(phone_number("138 0013 8000").as_deref(), Ok("13800138000"));
        assert_eq!(
            phone_number("+86 138-0013-8000").as_deref(),
            Ok("13800138000")
        );
        assert_eq!(phone_number("0571-87654321").as_deref(), Ok("057187654321"));
        assert_eq!(
            phone_number("010-12345678-123").as_deref(),
            Ok("01012345678123")
        );
        assert_eq!(
            phone_number("+44 20 7946 0958").as_deref(),
            Ok("+442079460958")
        );
        for bad in [
            "12345",
            "---------",
            "+-+-+",
            "12800138000",
            "1380013800",
            "138001380000",
            "0012345678",
            "138 0013 8000\u{200B}",
            "１３８００１３８０００",
            "-13800138000",
            "+",
        ] {
            assert_eq!(phone_number(bad), Err(IdentityError::Phone), "{bad}");
        }
    }

    #[test]
    fn names_follow_the_text_policy() {
        assert_eq!(person_name(" 张三 ").as_deref(), Ok("张三"));
        assert!(matches!(
            person_name("张\u{202E}三"),
            Err(IdentityError::Name(TextError::FormatCharacter { .. }))
        ));
        assert!(matches!(
            person_name("\u{200B}"),
            Err(IdentityError::Name(TextError::Empty { .. }))
        ));
        assert!(person_name("张三&李四").is_err());
    }
}
