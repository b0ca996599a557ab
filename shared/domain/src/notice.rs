//! The notices pushed to reporters: annex 3 of the regulation, rendered character for character
//! (the texts kept in `tests/fixtures/notices.md`, which the tests compare against), filling only the date, region and department slots.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::text::DepartmentName;

/// The eight notice texts, by their key in `notices.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKey {
    Receipt,
    OutOfScopeWithDepartment,
    OutOfScope,
    Duplicate,
    NeedMaterial,
    Accept,
    NoViolation,
    ViolationFound,
}

impl NoticeKey {
    /// Every key, in the order of `notices.md`.
    pub const ALL: [NoticeKey; 8] = [
        Self::Receipt,
        Self::OutOfScopeWithDepartment,
        Self::OutOfScope,
        Self::Duplicate,
        Self::NeedMaterial,
        Self::Accept,
        Self::NoViolation,
        Self::ViolationFound,
    ];

    /// The key as written in `notices.md`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Receipt => "receipt",
            Self::OutOfScopeWithDepartment => "out_of_scope_with_department",
            Self::OutOfScope => "out_of_scope",
            Self::Duplicate => "duplicate",
            Self::NeedMaterial => "need_material",
            Self::Accept => "accept",
            Self::NoViolation => "no_violation",
            Self::ViolationFound => "violation_found",
        }
    }

    /// A short Chinese label for lists and subscribe-message fields.
    pub fn label(self) -> &'static str {
        match self {
            Self::Receipt => "已接收",
            Self::OutOfScopeWithDepartment | Self::OutOfScope => "不属于接收范围",
            Self::Duplicate => "重复举报",
            Self::NeedMaterial => "需补充材料",
            Self::Accept => "已受理，将核查处理",
            Self::NoViolation => "经核查不存在违法行为",
            Self::ViolationFound => "经核查存在违法行为",
        }
    }
}

/// A notice with its slots filled: what decides which text is pushed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "key", rename_all = "snake_case")]
pub enum NoticeContent {
    /// Art. 11: the clue is stored.
    Receipt,
    /// Art. 12(3): not in scope; the competent department when the officer named one.
    OutOfScope { department: Option<DepartmentName> },
    /// Art. 12(4): a repeat; `earlier_received_on` is the reporter's earlier clue's receipt date.
    Duplicate { earlier_received_on: NaiveDate },
    /// Art. 12(5): material missing; `received_on` is this clue's receipt date.
    NeedMaterial { received_on: NaiveDate },
    /// Art. 12(1)/(2): accepted; `region` of the handling bureau.
    Accept { region: String },
    /// Art. 14(1).
    NoViolation,
    /// Art. 14(2); `region` of the handling bureau.
    ViolationFound { region: String },
}

const THANKS: &str = "感谢您对国土资源工作的支持！";

/// A date as annex 3 writes it: `2026年3月9日`, no leading zeros.
pub fn format_date(date: NaiveDate) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

impl NoticeContent {
    /// Which of the eight texts this is.
    pub fn key(&self) -> NoticeKey {
        match self {
            Self::Receipt => NoticeKey::Receipt,
            Self::OutOfScope {
                department: Some(_),
            } => NoticeKey::OutOfScopeWithDepartment,
            Self::OutOfScope { department: None } => NoticeKey::OutOfScope,
            Self::Duplicate { .. } => NoticeKey::Duplicate,
            Self::NeedMaterial { .. } => NoticeKey::NeedMaterial,
            Self::Accept { .. } => NoticeKey::Accept,
            Self::NoViolation => NoticeKey::NoViolation,
            Self::ViolationFound { .. } => NoticeKey::ViolationFound,
        }
    }

    /// The text pushed to the reporter, exactly as annex 3 has it.
    pub fn render(&self) -> String {
        match self {
            Self::Receipt => {
                format!("您好，12336国土资源违法线索举报微信平台已接收您举报的违法线索。{THANKS}")
            }
            Self::OutOfScope {
                department: Some(department),
            } => format!(
                "您好，您举报的违法线索不属于12336国土资源违法线索举报微信平台接收范围，您可向{department}举报此问题。{THANKS}"
            ),
            Self::OutOfScope { department: None } => format!(
                "您好，您举报的违法线索不属于12336国土资源违法线索举报微信平台接收范围。{THANKS}"
            ),
            Self::Duplicate {
                earlier_received_on,
            } => format!(
                "您好，12336国土资源违法线索举报微信平台已于{}接收您举报的该线索，请不要重复提交。{THANKS}",
                format_date(*earlier_received_on)
            ),
            Self::NeedMaterial { received_on } => format!(
                "您好，12336国土资源违法线索举报微信平台已于{}接收您举报的线索，但材料不够清晰完整，请您补充相关材料后重新提交。{THANKS}",
                format_date(*received_on)
            ),
            Self::Accept { region } => format!(
                "您好，{region}国土资源主管部门将对您举报的违法线索作进一步核查处理。{THANKS}"
            ),
            Self::NoViolation => {
                format!("经核查，您举报的违法线索不存在国土资源违法行为。{THANKS}")
            }
            Self::ViolationFound { region } => format!(
                "经核查，您举报的违法线索存在国土资源违法行为，{region}国土资源主管部门将依法依规予以处理。{THANKS}"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table of annex 3's canonical texts (a copy of the spec's `notices.md` kept in the
    /// repository as a fixture, so a clone alone runs every test).
    const SPEC: &str = "tests/fixtures/notices.md";

    fn spec_table() -> Option<Vec<(String, String)>> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SPEC);
        let text = std::fs::read_to_string(path).ok()?;
        let rows = text
            .lines()
            .filter(|l| l.starts_with("| `"))
            .filter_map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                // ["", key, when, text, ""]
                let key = cells.get(1)?.trim_matches('`').to_owned();
                let body = cells.get(3)?.to_string();
                Some((key, body))
            })
            .collect();
        Some(rows)
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    fn sample(key: NoticeKey) -> NoticeContent {
        match key {
            NoticeKey::Receipt => NoticeContent::Receipt,
            NoticeKey::OutOfScopeWithDepartment => NoticeContent::OutOfScope {
                department: Some(DepartmentName::parse("{department}").expect("name")),
            },
            NoticeKey::OutOfScope => NoticeContent::OutOfScope { department: None },
            NoticeKey::Duplicate => NoticeContent::Duplicate {
                earlier_received_on: date(2026, 3, 9),
            },
            NoticeKey::NeedMaterial => NoticeContent::NeedMaterial {
                received_on: date(2026, 3, 9),
            },
            NoticeKey::Accept => NoticeContent::Accept {
                region: "{region}".into(),
            },
            NoticeKey::NoViolation => NoticeContent::NoViolation,
            NoticeKey::ViolationFound => NoticeContent::ViolationFound {
                region: "{region}".into(),
            },
        }
    }

    /// The texts as committed here, slot markers kept: the check when the spec is not beside us.
    const EXPECTED: [(&str, &str); 8] = [
        (
            "receipt",
            "您好，12336国土资源违法线索举报微信平台已接收您举报的违法线索。感谢您对国土资源工作的支持！",
        ),
        (
            "out_of_scope_with_department",
            "您好，您举报的违法线索不属于12336国土资源违法线索举报微信平台接收范围，您可向{department}举报此问题。感谢您对国土资源工作的支持！",
        ),
        (
            "out_of_scope",
            "您好，您举报的违法线索不属于12336国土资源违法线索举报微信平台接收范围。感谢您对国土资源工作的支持！",
        ),
        (
            "duplicate",
            "您好，12336国土资源违法线索举报微信平台已于{date}接收您举报的该线索，请不要重复提交。感谢您对国土资源工作的支持！",
        ),
        (
            "need_material",
            "您好，12336国土资源违法线索举报微信平台已于{date}接收您举报的线索，但材料不够清晰完整，请您补充相关材料后重新提交。感谢您对国土资源工作的支持！",
        ),
        (
            "accept",
            "您好，{region}国土资源主管部门将对您举报的违法线索作进一步核查处理。感谢您对国土资源工作的支持！",
        ),
        (
            "no_violation",
            "经核查，您举报的违法线索不存在国土资源违法行为。感谢您对国土资源工作的支持！",
        ),
        (
            "violation_found",
            "经核查，您举报的违法线索存在国土资源违法行为，{region}国土资源主管部门将依法依规予以处理。感谢您对国土资源工作的支持！",
        ),
    ];

    fn with_slot_markers(key: NoticeKey) -> String {
        sample(key).render().replace("2026年3月9日", "{date}")
    }

    #[test]
    fn every_notice_matches_the_committed_table() {
        for (key, (name, text)) in NoticeKey::ALL.iter().zip(EXPECTED) {
            assert_eq!(key.as_str(), name);
            assert_eq!(sample(*key).key(), *key);
            assert_eq!(with_slot_markers(*key), text, "notice {name}");
        }
    }

    #[test]
    fn every_notice_matches_the_spec_table_character_for_character() {
        let Some(table) = spec_table() else {
            panic!("shared/domain/tests/fixtures/notices.md is missing");
        };
        assert_eq!(table.len(), 8, "notices.md has eight notice rows");
        for (key, text) in table {
            let notice = NoticeKey::ALL
                .iter()
                .find(|k| k.as_str() == key)
                .unwrap_or_else(|| panic!("unknown key {key} in notices.md"));
            assert_eq!(with_slot_markers(*notice), text, "notice {key}");
        }
    }

    #[test]
    fn dates_have_no_leading_zeros() {
        assert_eq!(format_date(date(2026, 3, 9)), "2026年3月9日");
        assert_eq!(format_date(date(2025, 12, 31)), "2025年12月31日");
        let n = NoticeContent::Duplicate {
            earlier_received_on: date(2026, 1, 5),
        };
        assert!(n.render().contains("已于2026年1月5日接收"));
    }

    #[test]
    fn filled_slots_render_real_names() {
        let accept = NoticeContent::Accept {
            region: "杭州市西湖区".into(),
        };
        assert_eq!(
            accept.render(),
            "您好，杭州市西湖区国土资源主管部门将对您举报的违法线索作进一步核查处理。感谢您对国土资源工作的支持！"
        );
        let oos = NoticeContent::OutOfScope {
            department: Some(DepartmentName::parse("杭州市西湖区住房和城乡建设局").expect("name")),
        };
        assert!(
            oos.render()
                .contains("您可向杭州市西湖区住房和城乡建设局举报此问题。")
        );
    }
}
