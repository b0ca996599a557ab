//! An officer binds their WeChat so reminders reach them: the console issues a short-lived,
//! single-use code; the officer sends "绑定 <code>" to the official account. Pure: the code's
//! alphabet and parsing, the command in a chat text, the answers, the masked openid.

use chrono::Duration;

/// How long an issued code may be redeemed.
pub const CODE_TTL: Duration = Duration::minutes(10);

/// The command word an officer sends before the code.
pub const COMMAND: &str = "绑定";

/// 32 symbols without look-alikes (no I, O, 0, 1): each random byte maps to one without bias.
const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// Length of a code (8 symbols of 32: 40 bits).
pub const CODE_LEN: usize = 8;

/// A binding code: 8 symbols of [`ALPHABET`], upper case.
#[derive(Clone, PartialEq, Eq)]
pub struct BindingCode(String);

impl std::fmt::Debug for BindingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BindingCode(…)")
    }
}

impl BindingCode {
    /// The code of 8 random bytes (from the OS's generator, outside the domain).
    pub fn from_random(bytes: [u8; CODE_LEN]) -> Self {
        Self(
            bytes
                .iter()
                .map(|b| char::from(ALPHABET[usize::from(b % 32)]))
                .collect(),
        )
    }

    /// Parses a code as an officer types it: surrounding spaces ignored, any case.
    ///
    /// # Errors
    /// [`BindingError::Malformed`] for anything but 8 symbols of the alphabet.
    pub fn parse(s: &str) -> Result<Self, BindingError> {
        let s = s
            .trim_matches(|c: char| c.is_whitespace())
            .to_ascii_uppercase();
        if s.len() == CODE_LEN && s.bytes().all(|b| ALPHABET.contains(&b)) {
            Ok(Self(s))
        } else {
            Err(BindingError::Malformed)
        }
    }

    /// The code as shown to the officer.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a code did not bind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BindingError {
    #[error("not a binding code")]
    Malformed,
    #[error("no such binding code")]
    Unknown,
    #[error("the binding code expired")]
    Expired,
    #[error("the binding code was already used")]
    Used,
}

impl BindingError {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Malformed => "binding_code_malformed",
            Self::Unknown => "binding_code_unknown",
            Self::Expired => "binding_code_expired",
            Self::Used => "binding_code_used",
        }
    }

    /// The answer in the chat.
    pub fn reply(self) -> &'static str {
        match self {
            Self::Malformed | Self::Unknown => {
                "绑定码无效。请在办理系统“微信提醒”中获取绑定码，再回复“绑定 绑定码”。"
            }
            Self::Expired => "绑定码已过期，请在办理系统中重新获取。",
            Self::Used => "绑定码已使用，请在办理系统中重新获取。",
        }
    }
}

/// The answer after a successful binding.
pub const BOUND_REPLY: &str =
    "绑定成功。今后的办理提醒将推送到此微信；解除绑定请在办理系统中操作。";

/// The code of a chat text that is a binding command ("绑定 AB3D5F7H", "绑定AB3D5F7H"), or
/// `None` when the text is not one (it goes to the guided chat). Only "绑定" followed by
/// nothing or by ASCII letters and digits is a command: a reporter's facts that happen to start
/// with the word ("绑定了一块耕地…") stay in the chat.
pub fn bind_command(text: &str) -> Option<Result<BindingCode, BindingError>> {
    let rest = text
        .trim()
        .strip_prefix(COMMAND)?
        .trim_matches(|c: char| c.is_whitespace());
    if !rest.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some(BindingCode::parse(rest))
}

/// An openid as the console shows it: the first 3 and last 4 characters.
pub fn mask_openid(openid: &str) -> String {
    let chars: Vec<char> = openid.chars().collect();
    if chars.len() <= 8 {
        return "****".to_owned();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_use_the_unambiguous_alphabet_and_parse_back_in_any_case() {
        let c = BindingCode::from_random([0, 31, 32, 255, 8, 9, 100, 7]);
        assert_eq!(c.as_str(), "A9A9JKEH");
        assert_eq!(BindingCode::parse(" a9a9jkeh "), Ok(c));
        for bad in [
            "",
            "A9A9JK6",
            "A9A9JKEHX",
            "A9A9JK6I",
            "A9A9JK60",
            "绑定绑定绑定绑定",
        ] {
            assert_eq!(
                BindingCode::parse(bad),
                Err(BindingError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_binding_command_is_recognised_only_with_its_word() {
        assert_eq!(
            bind_command("绑定 A9A9JKEH").map(|r| r.map(|c| c.as_str().to_owned())),
            Some(Ok("A9A9JKEH".to_owned()))
        );
        assert!(matches!(bind_command("绑定A9A9JKEH"), Some(Ok(_))));
        assert!(matches!(bind_command("绑定\u{3000}a9a9jkeh"), Some(Ok(_))));
        assert_eq!(bind_command("绑定 123"), Some(Err(BindingError::Malformed)));
        assert_eq!(bind_command("举报"), None);
        assert_eq!(bind_command("我想绑定"), None);
        assert_eq!(bind_command("绑定"), Some(Err(BindingError::Malformed)));
        assert_eq!(bind_command("绑定了一块耕地，在村东头"), None);
        assert_eq!(bind_command("绑定 A9A9-JKEH"), None);
    }

    #[test]
    fn masked_openids_keep_only_their_ends() {
        assert_eq!(mask_openid("oABCDEFGHIJKLMN1234"), "oAB****1234");
        assert_eq!(mask_openid("short"), "****");
        assert!(!format!("{:?}", BindingCode::from_random([1; 8])).contains("BBBB"));
    }
}
