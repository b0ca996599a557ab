//! GB/T 2260 administrative division codes: parsed once, valid forever after.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The level of an administrative division, read off the shape of its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DivisionLevel {
    /// `xx0000`: a province, autonomous region or municipality.
    Province,
    /// `xxxx00`: a prefecture-level city (or a pseudo-city grouping such as `429000`).
    City,
    /// any other six digits: a county-level division.
    County,
}

/// Why a string is not a division code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DivisionCodeError {
    #[error("a division code has exactly six digits, got {0} characters")]
    Length(usize),
    #[error("a division code has only ASCII digits")]
    NotDigits,
    #[error("a division code does not start with 00")]
    Zero,
}

/// A GB/T 2260 division code: six ASCII digits; `xx0000` is a province, `xxxx00` a city,
/// anything else a county-level division. The inner value is private, so any value that exists
/// is well formed (whether the division exists is the [`crate::divisions`] registry's question).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DivisionCode([u8; 6]);

impl DivisionCode {
    /// Parses six ASCII digits.
    ///
    /// # Errors
    /// [`DivisionCodeError`] for any other input (wrong length, non-digits, a `00` province part).
    pub fn parse(s: &str) -> Result<Self, DivisionCodeError> {
        let chars = s.chars().count();
        if chars != 6 {
            return Err(DivisionCodeError::Length(chars));
        }
        let bytes = s.as_bytes();
        if bytes.len() != 6 || !bytes.iter().all(u8::is_ascii_digit) {
            return Err(DivisionCodeError::NotDigits);
        }
        if &bytes[..2] == b"00" {
            return Err(DivisionCodeError::Zero);
        }
        let mut code = [0u8; 6];
        code.copy_from_slice(bytes);
        Ok(Self(code))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        // The bytes are ASCII digits by construction.
        std::str::from_utf8(&self.0).unwrap_or("000000")
    }

    /// The level this code's shape denotes.
    pub fn level(&self) -> DivisionLevel {
        if &self.0[2..] == b"0000" {
            DivisionLevel::Province
        } else if &self.0[4..] == b"00" {
            DivisionLevel::City
        } else {
            DivisionLevel::County
        }
    }

    /// The province this code belongs to (itself for a province).
    pub fn province(&self) -> DivisionCode {
        let mut code = self.0;
        code[2..].copy_from_slice(b"0000");
        DivisionCode(code)
    }

    /// The city-level code of this code (`xxxx00`); `None` for a province.
    pub fn city(&self) -> Option<DivisionCode> {
        match self.level() {
            DivisionLevel::Province => None,
            _ => {
                let mut code = self.0;
                code[4..].copy_from_slice(b"00");
                Some(DivisionCode(code))
            }
        }
    }

    /// The code one level up by shape: county → city, city → province, province → none.
    pub fn parent(&self) -> Option<DivisionCode> {
        match self.level() {
            DivisionLevel::Province => None,
            DivisionLevel::City => Some(self.province()),
            DivisionLevel::County => self.city(),
        }
    }

    /// Whether `other` lies inside (or is) the area this code denotes.
    pub fn contains(&self, other: &DivisionCode) -> bool {
        match self.level() {
            DivisionLevel::Province => self.0[..2] == other.0[..2],
            DivisionLevel::City => self.0[..4] == other.0[..4],
            DivisionLevel::County => self == other,
        }
    }
}

impl fmt::Display for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DivisionCode({})", self.as_str())
    }
}

impl std::str::FromStr for DivisionCode {
    type Err = DivisionCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for DivisionCode {
    type Error = DivisionCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<DivisionCode> for String {
    fn from(code: DivisionCode) -> String {
        code.as_str().to_owned()
    }
}

impl AsRef<str> for DivisionCode {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> DivisionCode {
        DivisionCode::parse(s).expect("valid code in test")
    }

    #[test]
    fn levels_are_read_off_the_shape() {
        assert_eq!(code("330000").level(), DivisionLevel::Province);
        assert_eq!(code("330100").level(), DivisionLevel::City);
        assert_eq!(code("330106").level(), DivisionLevel::County);
        assert_eq!(code("429004").level(), DivisionLevel::County);
    }

    #[test]
    fn parents_go_up_one_level() {
        assert_eq!(code("330106").parent(), Some(code("330100")));
        assert_eq!(code("330100").parent(), Some(code("330000")));
        assert_eq!(code("330000").parent(), None);
        assert_eq!(code("330106").province(), code("330000"));
    }

    #[test]
    fn containment_follows_the_prefix() {
        assert!(code("330000").contains(&code("330106")));
        assert!(code("330100").contains(&code("330106")));
        assert!(!code("330200").contains(&code("330106")));
        assert!(!code("320000").contains(&code("330106")));
        assert!(code("330106").contains(&code("330106")));
        assert!(!code("330106").contains(&code("330100")));
    }

    #[test]
    fn malformed_codes_are_typed_errors() {
        assert_eq!(DivisionCode::parse(""), Err(DivisionCodeError::Length(0)));
        assert_eq!(
            DivisionCode::parse("33010"),
            Err(DivisionCodeError::Length(5))
        );
        assert_eq!(
            DivisionCode::parse("3301066"),
            Err(DivisionCodeError::Length(7))
        );
        assert_eq!(
            DivisionCode::parse("33o106"),
            Err(DivisionCodeError::NotDigits)
        );
        assert_eq!(
            DivisionCode::parse("３３０１０６"),
            Err(DivisionCodeError::NotDigits)
        );
        assert_eq!(DivisionCode::parse("000000"), Err(DivisionCodeError::Zero));
        assert_eq!(
            DivisionCode::parse("-30106"),
            Err(DivisionCodeError::NotDigits)
        );
    }

    #[test]
    fn serde_round_trips_and_refuses_bad_codes() {
        let json = serde_json::to_string(&code("330106")).expect("serialize");
        assert_eq!(json, "\"330106\"");
        let back: DivisionCode = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, code("330106"));
        assert!(serde_json::from_str::<DivisionCode>("\"33x106\"").is_err());
    }
}
