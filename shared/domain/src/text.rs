//! The one text policy of the platform: bounded, trimmed free text (address, subject, facts,
//! messages, reasons) parsed once, for the H5 form, the guided chat and the officer API alike.
//!
//! A value that exists has visible content, is not oversize, carries no markup, no control
//! characters, and no character that hides or reorders text: bidi overrides and isolates,
//! zero-width and other format characters (Unicode general category Cf) and line/paragraph
//! separators are refused in single-line fields; in multi-line fields only the bidi controls and
//! the separators are (a zero-width joiner inside an emoji has its business there). A text made
//! only of invisible characters is empty. [`TextError::reporter_message`] is the answer the
//! reporter reads, the same in both channels.

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
    /// A format character (bidi override or isolate, zero-width, other Cf) or a line/paragraph
    /// separator where it has no business.
    #[error("{field} contains a format character")]
    FormatCharacter { field: &'static str },
    /// HTML markup (`<tag`, `</`, `<!`, `<?`) or a `javascript:` URL.
    #[error("{field} contains markup")]
    Markup { field: &'static str },
}

impl TextError {
    /// The field the error is about (for API error bodies).
    pub fn field(&self) -> &'static str {
        match self {
            Self::Empty { field }
            | Self::TooLong { field, .. }
            | Self::ControlCharacter { field }
            | Self::FormatCharacter { field }
            | Self::Markup { field } => field,
        }
    }

    /// The field as the reporter reads it.
    pub fn field_label(&self) -> &'static str {
        match self.field() {
            "address" => "详细地址",
            "subject" => "违法主体",
            "facts" => "主要违法事实",
            "message" => "留言",
            "name" => "姓名",
            "reason" => "理由",
            "department" => "部门名称",
            _ => "内容",
        }
    }

    /// The answer the reporter reads, the same in the H5 form and the guided chat.
    pub fn reporter_message(&self) -> String {
        let field = self.field_label();
        match self {
            Self::Empty { .. } => format!("请填写{field}"),
            Self::TooLong { max, .. } => format!("{field}最多{max}个字，请精简后重新填写"),
            Self::ControlCharacter { .. } | Self::FormatCharacter { .. } => {
                format!("{field}含有无法识别或不可见的字符，请删除后重新填写")
            }
            Self::Markup { .. } => format!("{field}不能包含网页代码"),
        }
    }
}

/// The format characters (Unicode 16 general category Cf), as ranges. Checked against the
/// `unicode-general-category` crate in the tests, so the binaries carry 24 ranges instead of
/// the whole category table.
const FORMAT_RANGES: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
];

/// A format character (general category Cf).
pub fn is_format(c: char) -> bool {
    let c = u32::from(c);
    FORMAT_RANGES.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// A bidi control: the embeddings, overrides and isolates, and the directional marks.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A character that shows nothing: white space, controls, format characters and the
/// letters that render blank (Hangul fillers, the blank Braille pattern).
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || is_format(c)
        || matches!(
            c,
            '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' | '\u{2800}' | '\u{034F}'
        )
}

/// Markup in a text: `<` before a letter, `/`, `!` or `?`, or a `javascript:` URL.
fn has_markup(s: &str) -> bool {
    let b = s.as_bytes();
    let tag = b.windows(2).any(|w| {
        w[0] == b'<' && (w[1].is_ascii_alphabetic() || matches!(w[1], b'/' | b'!' | b'?'))
    });
    tag || s.to_ascii_lowercase().contains("javascript:")
}

/// Applies the policy to one field's text; the trimmed text when it passes.
///
/// # Errors
/// The first rule `s` breaks, naming `field`.
pub fn check(
    field: &'static str,
    max: usize,
    multiline: bool,
    s: &str,
) -> Result<String, TextError> {
    let trimmed = s.trim();
    if !trimmed.chars().any(|c| !is_invisible(c)) {
        return Err(TextError::Empty { field });
    }
    let len = trimmed.chars().count();
    if len > max {
        return Err(TextError::TooLong { field, len, max });
    }
    for c in trimmed.chars() {
        let newline = c == '\n' || c == '\t' || c == '\r';
        if c.is_control() && !(multiline && newline) {
            return Err(TextError::ControlCharacter { field });
        }
        let separator = c == '\u{2028}' || c == '\u{2029}';
        if separator || is_bidi_control(c) || (!multiline && is_format(c)) {
            return Err(TextError::FormatCharacter { field });
        }
    }
    if has_markup(trimmed) {
        return Err(TextError::Markup { field });
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

            /// Trims `s` and applies the text policy ([`check`]): visible content, at most
            /// [`Self::MAX_CHARS`] characters, no control or hiding characters, no markup.
            ///
            /// # Errors
            /// [`TextError`] naming the field.
            pub fn parse(s: &str) -> Result<Self, TextError> {
                check($field, $max, $multi, s).map(Self)
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

    #[test]
    fn the_format_table_is_exactly_unicode_category_cf() {
        use unicode_general_category::{GeneralCategory, get_general_category};
        for c in (0..=0x10FFFF_u32).filter_map(char::from_u32) {
            assert_eq!(
                is_format(c),
                get_general_category(c) == GeneralCategory::Format,
                "U+{:04X}",
                u32::from(c)
            );
        }
    }

    #[test]
    fn hiding_characters_are_refused_in_single_line_fields() {
        for hidden in [
            "\u{202E}",
            "\u{202A}",
            "\u{2066}",
            "\u{2069}",
            "\u{200B}",
            "\u{200D}",
            "\u{FEFF}",
            "\u{2060}",
            "\u{00AD}",
            "\u{2028}",
            "\u{2029}",
            "\u{E0041}",
        ] {
            let text = format!("某村{hidden}东侧");
            assert_eq!(
                Address::parse(&text),
                Err(TextError::FormatCharacter { field: "address" }),
                "{}",
                text.escape_unicode()
            );
            assert!(Subject::parse(&format!("某{hidden}公司")).is_err());
        }
    }

    #[test]
    fn multiline_fields_refuse_bidi_controls_and_separators_but_keep_emoji_joiners() {
        for hidden in ["\u{202E}", "\u{2067}", "\u{200F}", "\u{2028}"] {
            assert_eq!(
                Facts::parse(&format!("有人建房{hidden}已三个月")),
                Err(TextError::FormatCharacter { field: "facts" })
            );
        }
        let family = "现场有人👨\u{200D}👩\u{200D}👧";
        assert_eq!(
            Facts::parse(family).map(String::from).as_deref(),
            Ok(family)
        );
    }

    #[test]
    fn text_of_invisible_characters_only_is_empty() {
        assert_eq!(
            Facts::parse("\u{200B}\u{200B}\u{2060}\n\u{3164}"),
            Err(TextError::Empty { field: "facts" })
        );
        assert_eq!(
            Address::parse(" \u{200B} "),
            Err(TextError::Empty { field: "address" })
        );
    }

    #[test]
    fn markup_is_refused_in_every_field_with_the_same_answer() {
        for f in [
            Address::parse("<script>alert(1)</script>").map(|_| ()),
            Subject::parse("<img src=x onerror=alert(1)>").map(|_| ()),
            Facts::parse("见 javascript:alert(1)").map(|_| ()),
            MessageText::parse("</p>").map(|_| ()),
        ] {
            let e = f.expect_err("markup");
            assert!(matches!(e, TextError::Markup { .. }), "{e:?}");
            assert!(e.reporter_message().ends_with("不能包含网页代码"));
        }
        assert!(Facts::parse("占地面积<5亩，a < b").is_ok());
    }
}
