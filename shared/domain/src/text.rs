//! Bounded, trimmed free text (address, subject, facts, messages, reasons): parsed once, so a
//! value that exists is never empty, never oversize and holds no control characters.

use std::fmt;

/// Why a text was refused, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("{field} is empty")]
    Empty { field: &'static str },
    #[error("{field} has {len} characters, at most {max} are allowed")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{field} contains a control character")]
    ControlCharacter { field: &'static str },
}

impl TextError {
    /// The field the error is about (for API error bodies).
    pub fn field(&self) -> &'static str {
        match self {
            Self::Empty { field }
            | Self::TooLong { field, .. }
            | Self::ControlCharacter { field } => field,
        }
    }
}

fn parse_bounded(
    field: &'static str,
    max: usize,
    multiline: bool,
    s: &str,
) -> Result<String, TextError> {
    let trimmed = s.trim();
    if trimmed.is_empty() {
        return Err(TextError::Empty { field });
    }
    let len = trimmed.chars().count();
    if len > max {
        return Err(TextError::TooLong { field, len, max });
    }
    let allowed = |c: char| !c.is_control() || (multiline && (c == '\n' || c == '\t' || c == '\r'));
    if !trimmed.chars().all(allowed) {
        return Err(TextError::ControlCharacter { field });
    }
    Ok(trimmed.to_owned())
}

macro_rules! bounded_text {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:literal, multiline = $multi:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The most characters this text may have.
            pub const MAX_CHARS: usize = $max;

            /// Trims `s` and checks it is non-empty, at most [`Self::MAX_CHARS`] characters and
            /// free of control characters.
            ///
            /// # Errors
            /// [`TextError`] naming the field.
            pub fn parse(s: &str) -> Result<Self, TextError> {
                parse_bounded($field, $max, $multi, s).map(Self)
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = TextError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(t: $name) -> String {
                t.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({} chars)", stringify!($name), self.0.chars().count())
            }
        }
    };
}

bounded_text!(
    /// The free address of a location (违法行为发生地), e.g. `留下街道某村东侧`.
    Address, "address", 200, multiline = false
);
bounded_text!(
    /// The suspected person, company or organisation (违法主体).
    Subject, "subject", 100, multiline = false
);
bounded_text!(
    /// The reporter's description of what happened (主要违法事实).
    Facts, "facts", 5000, multiline = true
);
bounded_text!(
    /// A message between officer and reporter (沟通).
    MessageText, "message", 2000, multiline = true
);
bounded_text!(
    /// Why an officer did something (escalation, recusal, reveal, judgment note).
    Reason, "reason", 1000, multiline = true
);
bounded_text!(
    /// The name of a competent department or off-platform recipient, e.g. `杭州市西湖区住房和城乡建设局`.
    DepartmentName, "department", 100, multiline = false
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_kept() {
        let facts = Facts::parse("  有人在基本农田上建房。\n已持续三个月。 ").expect("valid");
        assert_eq!(facts.as_str(), "有人在基本农田上建房。\n已持续三个月。");
    }

    #[test]
    fn empty_text_is_refused_with_its_field() {
        assert_eq!(
            Facts::parse(" \n\t "),
            Err(TextError::Empty { field: "facts" })
        );
        assert_eq!(
            Address::parse(""),
            Err(TextError::Empty { field: "address" })
        );
    }

    #[test]
    fn oversize_text_is_refused_counting_characters_not_bytes() {
        let just = "违".repeat(Facts::MAX_CHARS);
        assert!(Facts::parse(&just).is_ok());
        let over = "违".repeat(Facts::MAX_CHARS + 1);
        assert_eq!(
            Facts::parse(&over),
            Err(TextError::TooLong {
                field: "facts",
                len: 5001,
                max: 5000
            })
        );
    }

    #[test]
    fn control_characters_are_refused_but_newlines_in_multiline_fields_pass() {
        assert_eq!(
            Subject::parse("某公司\u{0}"),
            Err(TextError::ControlCharacter { field: "subject" })
        );
        assert_eq!(
            Address::parse("一\n二"),
            Err(TextError::ControlCharacter { field: "address" })
        );
        assert!(MessageText::parse("一\n二").is_ok());
    }

    #[test]
    fn serde_refuses_invalid_text() {
        assert!(serde_json::from_str::<Facts>("\"   \"").is_err());
        let f: Facts = serde_json::from_str("\"事实\"").expect("valid");
        assert_eq!(f.as_str(), "事实");
    }
}
