//! Identifiers: opaque ids (clue, officer, attachment, notice, reminder), the reporter's keyed hash and the
//! human-readable clue number. None of them carries personal information.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::division::DivisionCode;

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} must have 1 to {max} characters of A-Z, a-z, 0-9, '-', '_' or ':'")]
    Malformed { kind: &'static str, max: usize },
    #[error("a reporter key is 64 lowercase hex characters")]
    ReporterKey,
    #[error("a clue number has the form <county code>-<yyyymmdd>-<sequence>")]
    ClueNo,
}

fn opaque_ok(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b':')
}

macro_rules! opaque_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses an opaque id: 1–128 characters of `A-Za-z0-9-_:`.
            ///
            /// # Errors
            /// [`IdError::Malformed`].
            pub fn parse(s: &str) -> Result<Self, IdError> {
                if opaque_ok(s, 128) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(IdError::Malformed { kind: $kind, max: 128 })
                }
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

opaque_id!(
    /// A clue's internal id (e.g. a ULID chosen by the caller).
    ClueId, "clue id"
);
opaque_id!(
    /// An officer's id: the Cognito `sub`.
    OfficerId, "officer id"
);
opaque_id!(
    /// An uploaded evidence object's id.
    AttachmentId, "attachment id"
);
opaque_id!(
    /// A notice owed to one reporter about one clue.
    NoticeId, "notice id"
);
opaque_id!(
    /// An officer reminder (stable per clue, deadline, recipient and kind).
    ReminderId, "reminder id"
);

/// The reporter as the clue knows them: a keyed hash (HMAC-SHA-256, hex) of the WeChat openid,
/// computed outside the domain with a secret key. Comparable for equality, reveals nothing.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReporterKey(String);

impl ReporterKey {
    /// Parses 64 lowercase hex characters.
    ///
    /// # Errors
    /// [`IdError::ReporterKey`].
    pub fn parse(s: &str) -> Result<Self, IdError> {
        if s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(Self(s.to_owned()))
        } else {
            Err(IdError::ReporterKey)
        }
    }

    /// The hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ReporterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReporterKey({}…)", &self.0[..8.min(self.0.len())])
    }
}

impl TryFrom<String> for ReporterKey {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<ReporterKey> for String {
    fn from(k: ReporterKey) -> String {
        k.0
    }
}

/// The number a reporter sees and quotes: `<county code>-<yyyymmdd>-<sequence>`, e.g.
/// `330106-20261124-0007`. It holds no personal information; the sequence comes from an
/// atomic per-county, per-day counter in the store.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClueNo(String);

impl ClueNo {
    /// Builds the number of the `seq`-th clue (from 1) of `division` received on `date`
    /// (Asia/Shanghai).
    pub fn new(division: DivisionCode, date: NaiveDate, seq: u32) -> Self {
        Self(format!(
            "{}-{:04}{:02}{:02}-{:04}",
            division,
            date.year(),
            date.month(),
            date.day(),
            seq
        ))
    }

    /// Parses a quoted clue number.
    ///
    /// # Errors
    /// [`IdError::ClueNo`] when the shape, division code or date is wrong.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let mut parts = s.split('-');
        let (Some(div), Some(date), Some(seq), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(IdError::ClueNo);
        };
        if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdError::ClueNo);
        }
        let division = DivisionCode::parse(div).map_err(|_| IdError::ClueNo)?;
        let date = NaiveDate::parse_from_str(date, "%Y%m%d").map_err(|_| IdError::ClueNo)?;
        if seq.len() < 4 || seq.len() > 9 || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdError::ClueNo);
        }
        let seq: u32 = seq.parse().map_err(|_| IdError::ClueNo)?;
        if seq == 0 {
            return Err(IdError::ClueNo);
        }
        Ok(Self::new(division, date, seq))
    }

    /// The number as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClueNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ClueNo {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<ClueNo> for String {
    fn from(n: ClueNo) -> String {
        n.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clue_numbers_round_trip() {
        let div = DivisionCode::parse("330106").expect("code");
        let date = NaiveDate::from_ymd_opt(2026, 3, 9).expect("date");
        let no = ClueNo::new(div, date, 7);
        assert_eq!(no.as_str(), "330106-20260309-0007");
        assert_eq!(ClueNo::parse(no.as_str()), Ok(no));
        assert_eq!(
            ClueNo::parse("330106-20260309-12345").map(|n| n.to_string()),
            Ok("330106-20260309-12345".to_owned())
        );
    }

    #[test]
    fn malformed_clue_numbers_are_refused() {
        for bad in [
            "",
            "330106",
            "330106-20260230-0001",
            "33010x-20260309-0001",
            "330106-20260309-0000",
            "330106-20260309-01",
            "330106-20260309-0001-1",
            "330106-2026039-0001",
        ] {
            assert_eq!(ClueNo::parse(bad), Err(IdError::ClueNo), "{bad}");
        }
    }

    #[test]
    fn opaque_ids_refuse_odd_characters() {
        assert!(ClueId::parse("01JABCDEF").is_ok());
        assert!(ClueId::parse("").is_err());
        assert!(ClueId::parse("a/b").is_err());
        assert!(ClueId::parse(&"a".repeat(129)).is_err());
        assert!(OfficerId::parse("6f1c2d3e-aaaa-bbbb-cccc-0123456789ab").is_ok());
    }

    #[test]
    fn reporter_keys_are_64_hex() {
        assert!(ReporterKey::parse(&"ab".repeat(32)).is_ok());
        assert_eq!(
            ReporterKey::parse(&"AB".repeat(32)),
            Err(IdError::ReporterKey)
        );
        assert_eq!(
            ReporterKey::parse("oABC123openid"),
            Err(IdError::ReporterKey)
        );
        let key = ReporterKey::parse(&"ab".repeat(32)).expect("key");
        assert_eq!(format!("{key:?}"), "ReporterKey(abababab…)");
    }
}
