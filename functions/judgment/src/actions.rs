//! The officer's actions on a clue (arts. 12–15, 18–20): one request each, carrying the clue
//! version the officer saw and an idempotency key, turned into one domain command that the store
//! decides and writes in one transaction. The notices it owes are queued after the commit.

use api::{ApiError, Req};
use chrono::NaiveDate;
use domain::command::{JudgmentRequest, TransferRequest};
use domain::event::{Missing, VerificationResult};
use domain::scope::Exclusion;
use domain::text::{DepartmentName, MessageText, Reason};
use domain::{BureauId, ClueId, Command, Officer, OfficerId};
use serde::Deserialize;
use serde_json::Value;
use store::IdempotencyKey;

/// Every action of `POST /api/officer/clues/{id}/{action}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Judge,
    Escalate,
    Designate,
    Merge,
    Unmerge,
    Verify,
    Transfer,
    Message,
    MessagesRead,
    Recuse,
    Assign,
    Reveal,
    Supervise,
    SupervisionAnswer,
    SupervisionClose,
    Block,
    Unblock,
}

impl Action {
    /// Every action, in the order the console lists them.
    pub const ALL: [Action; 17] = [
        Self::Judge,
        Self::Escalate,
        Self::Designate,
        Self::Merge,
        Self::Unmerge,
        Self::Verify,
        Self::Transfer,
        Self::Message,
        Self::MessagesRead,
        Self::Recuse,
        Self::Assign,
        Self::Reveal,
        Self::Supervise,
        Self::SupervisionAnswer,
        Self::SupervisionClose,
        Self::Block,
        Self::Unblock,
    ];

    /// The path segment of the action.
    pub fn name(self) -> &'static str {
        match self {
            Self::Judge => "judge",
            Self::Escalate => "escalate",
            Self::Designate => "designate",
            Self::Merge => "merge",
            Self::Unmerge => "unmerge",
            Self::Verify => "verify",
            Self::Transfer => "transfer",
            Self::Message => "messages",
            Self::MessagesRead => "messages-read",
            Self::Recuse => "recuse",
            Self::Assign => "assign",
            Self::Reveal => "reveal",
            Self::Supervise => "supervise",
            Self::SupervisionAnswer => "supervision-answer",
            Self::SupervisionClose => "supervision-close",
            Self::Block => "block",
            Self::Unblock => "unblock",
        }
    }

    /// The action of a path segment.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == s)
    }

    /// Whether only a leader of the handling bureau may ask for it (escalation and transfer are
    /// a leader's approval; assignment after a recusal, art. 18; the block list, art. 19).
    pub fn needs_leader(self) -> bool {
        matches!(
            self,
            Self::Escalate
                | Self::Transfer
                | Self::Assign
                | Self::Unmerge
                | Self::Block
                | Self::Unblock
        )
    }

    /// Whether the action is taken by an upper bureau reading the clue (supervision) rather
    /// than by the handling bureau.
    pub fn by_supervisor(self) -> bool {
        matches!(self, Self::Supervise | Self::SupervisionClose)
    }
}

/// What every action body carries.
#[derive(Debug, Deserialize)]
struct Envelope {
    version: Option<u64>,
}

/// The parsed request of an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A domain command complete in itself.
    Command(Command),
    /// `duplicate` of the same reporter's earlier clue: the caller loads that clue (which the
    /// officer must be able to see) and builds the command from its stored view.
    Duplicate {
        earlier: ClueId,
        note: Option<Reason>,
    },
    /// Merge into `primary` (another reporter's clue in the same county), loaded likewise.
    Merge { primary: ClueId, reason: Reason },
    /// Take a merged clue out of its primary's group (the primary is loaded by the caller).
    Unmerge { reason: Reason },
    /// Assign the clue to an officer, as the table knows them.
    Assign { officer: OfficerId },
    /// Block or unblock the reporter of the clue (art. 19), with the reason.
    Block { block: bool, reason: Reason },
}

/// A request body field error.
fn bad(code: &'static str, message: &str) -> ApiError {
    ApiError::new(400, code, message)
}

fn field<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    body.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

fn reason(body: &Value, name: &str) -> Result<Reason, ApiError> {
    let text = field(body, name).ok_or_else(|| bad("reason_required", "请填写理由"))?;
    Reason::parse(text).map_err(|e| ApiError::new(422, "invalid_text", e.to_string()))
}

fn optional_reason(body: &Value, name: &str) -> Result<Option<Reason>, ApiError> {
    field(body, name)
        .map(|t| Reason::parse(t).map_err(|e| ApiError::new(422, "invalid_text", e.to_string())))
        .transpose()
}

fn date(body: &Value, name: &'static str) -> Result<NaiveDate, ApiError> {
    let text = field(body, name).ok_or_else(|| bad("field_required", "缺少日期"))?;
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| bad("invalid_date", "日期格式应为 YYYY-MM-DD"))
}

fn clue_id(body: &Value, name: &str) -> Result<ClueId, ApiError> {
    let text = field(body, name).ok_or_else(|| bad("field_required", "缺少线索"))?;
    ClueId::parse(text).map_err(|_| bad("invalid_clue_id", "线索标识无效"))
}

fn bureau_id(body: &Value, name: &str) -> Result<BureauId, ApiError> {
    let text = field(body, name).ok_or_else(|| bad("field_required", "缺少机关"))?;
    BureauId::parse(text).map_err(|_| bad("invalid_bureau_id", "机关标识无效"))
}

fn department(body: &Value, name: &str) -> Result<Option<DepartmentName>, ApiError> {
    field(body, name)
        .map(|t| {
            DepartmentName::parse(t).map_err(|e| ApiError::new(422, "invalid_text", e.to_string()))
        })
        .transpose()
}

fn enum_field<T: for<'de> Deserialize<'de>>(
    body: &Value,
    name: &str,
    code: &'static str,
) -> Result<Option<T>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|_| bad(code, "取值无效")),
    }
}

/// The JSON object body of a request.
///
/// # Errors
/// 415 `unsupported_media_type` for another content type; 400 `bad_json`.
pub fn body(req: &Req) -> Result<Value, ApiError> {
    let content_type = req.header("content-type").unwrap_or("");
    if !content_type.starts_with("application/json") {
        return Err(ApiError::new(
            415,
            "unsupported_media_type",
            "请求须为 application/json",
        ));
    }
    let body: Value =
        serde_json::from_slice(&req.body).map_err(|_| bad("bad_json", "请求格式错误"))?;
    if !body.is_object() {
        return Err(bad("bad_json", "请求格式错误"));
    }
    Ok(body)
}

/// The JSON body, its `version` and the idempotency key of a request.
///
/// # Errors
/// 400 `bad_json`, `version_required`, `idempotency_key_required`, `invalid_idempotency_key`.
pub fn envelope(
    req: &Req,
    officer: &Officer,
) -> Result<(Value, Option<u64>, IdempotencyKey), ApiError> {
    let body = body(req)?;
    let Envelope { version } =
        serde_json::from_value(body.clone()).map_err(|_| bad("bad_json", "版本号格式错误"))?;
    let raw = req
        .header("idempotency-key")
        .ok_or_else(|| bad("idempotency_key_required", "缺少 Idempotency-Key 请求头"))?;
    if raw.is_empty() || raw.len() > 80 {
        return Err(bad("invalid_idempotency_key", "Idempotency-Key 无效"));
    }
    // Keys are the officer's own: two officers' keys never collide.
    let key = IdempotencyKey::parse(&format!("officer:{}:{raw}", officer.id))
        .map_err(|_| bad("invalid_idempotency_key", "Idempotency-Key 无效"))?;
    Ok((body, version, key))
}

/// The request of `action` from its body.
///
/// # Errors
/// 400/422 with a stable code for a missing or invalid field.
pub fn parse(action: Action, body: &Value) -> Result<Parsed, ApiError> {
    let plain = Parsed::Command;
    Ok(match action {
        Action::Judge => {
            let note = optional_reason(body, "note")?;
            let outcome =
                field(body, "outcome").ok_or_else(|| bad("outcome_required", "请选择判定结果"))?;
            let judgment = match outcome {
                "accept" => JudgmentRequest::Accept,
                "out_of_scope" => JudgmentRequest::OutOfScope {
                    exclusion: enum_field::<Exclusion>(body, "exclusion", "invalid_exclusion")?,
                    department: department(body, "department")?,
                },
                "duplicate" => {
                    return Ok(Parsed::Duplicate {
                        earlier: clue_id(body, "earlier_clue_id")?,
                        note,
                    });
                }
                "need_material" => {
                    let missing: Vec<Missing> =
                        enum_field(body, "missing", "invalid_missing")?.unwrap_or_default();
                    if missing.is_empty() {
                        return Err(bad("missing_required", "请说明缺少的材料"));
                    }
                    JudgmentRequest::NeedMaterial { missing }
                }
                "escalate" => {
                    return Err(bad("use_escalate", "逐级提请请使用提请上级操作"));
                }
                _ => return Err(bad("invalid_outcome", "判定结果无效")),
            };
            plain(Command::Judge { judgment, note })
        }
        Action::Escalate => plain(Command::Escalate {
            reason: reason(body, "reason")?,
        }),
        Action::Designate => plain(Command::Designate {
            to: bureau_id(body, "to")?,
            reason: optional_reason(body, "reason")?,
        }),
        Action::Merge => Parsed::Merge {
            primary: clue_id(body, "primary_clue_id")?,
            reason: reason(body, "reason")?,
        },
        Action::Unmerge => Parsed::Unmerge {
            reason: reason(body, "reason")?,
        },
        Action::Verify => {
            let result: VerificationResult = enum_field(body, "result", "invalid_result")?
                .ok_or_else(|| bad("result_required", "请选择核查结果"))?;
            plain(Command::RecordVerification {
                result,
                ended_on: date(body, "ended_on")?,
                note: optional_reason(body, "note")?,
            })
        }
        Action::Transfer => {
            let mode = field(body, "mode").ok_or_else(|| bad("mode_required", "请选择移交方式"))?;
            let transfer = match mode {
                "on_platform" => TransferRequest::OnPlatform {
                    to: bureau_id(body, "to")?,
                },
                "off_platform" => TransferRequest::OffPlatform {
                    department: department(body, "department")?
                        .ok_or_else(|| bad("department_required", "请填写接收部门"))?,
                    handed_over_on: date(body, "handed_over_on")?,
                    note: optional_reason(body, "note")?,
                },
                _ => return Err(bad("invalid_mode", "移交方式无效")),
            };
            plain(Command::Transfer { transfer })
        }
        Action::Message => {
            let text = field(body, "text").ok_or_else(|| bad("text_required", "请填写留言"))?;
            plain(Command::PostMessage {
                text: MessageText::parse(text)
                    .map_err(|e| ApiError::new(422, "invalid_text", e.to_string()))?,
            })
        }
        Action::MessagesRead => plain(Command::MarkMessagesRead),
        Action::Recuse => plain(Command::Recuse {
            reason: reason(body, "reason")?,
        }),
        Action::Assign => {
            let text =
                field(body, "officer_id").ok_or_else(|| bad("field_required", "请选择承办人"))?;
            Parsed::Assign {
                officer: OfficerId::parse(text)
                    .map_err(|_| bad("invalid_officer_id", "承办人无效"))?,
            }
        }
        Action::Reveal => plain(Command::RevealIdentity {
            reason: reason(body, "reason")?,
        }),
        Action::Supervise => plain(Command::Supervise {
            due_on: date(body, "due_on")?,
            note: reason(body, "note")?,
        }),
        Action::SupervisionAnswer => {
            let text = field(body, "text").ok_or_else(|| bad("text_required", "请填写办理进展"))?;
            plain(Command::AnswerSupervision {
                text: MessageText::parse(text)
                    .map_err(|e| ApiError::new(422, "invalid_text", e.to_string()))?,
            })
        }
        Action::SupervisionClose => plain(Command::CloseSupervision {
            note: optional_reason(body, "note")?,
        }),
        Action::Block | Action::Unblock => Parsed::Block {
            block: action == Action::Block,
            reason: reason(body, "reason")?,
        },
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use serde_json::json;

    #[test]
    fn every_action_has_a_distinct_path_segment() {
        let names: BTreeSet<_> = Action::ALL.iter().map(|a| a.name()).collect();
        assert_eq!(names.len(), Action::ALL.len());
        for a in Action::ALL {
            assert_eq!(Action::parse(a.name()), Some(a));
        }
        assert_eq!(Action::parse("delete"), None);
    }

    #[test]
    fn judgments_are_parsed_and_bad_fields_refused_with_codes() {
        let p = parse(Action::Judge, &json!({"outcome": "accept"})).expect("accept");
        assert!(matches!(
            p,
            Parsed::Command(Command::Judge {
                judgment: JudgmentRequest::Accept,
                ..
            })
        ));
        let cases = [
            (json!({}), "outcome_required"),
            (json!({"outcome": "maybe"}), "invalid_outcome"),
            (json!({"outcome": "need_material"}), "missing_required"),
            (
                json!({"outcome": "need_material", "missing": ["nose"]}),
                "invalid_missing",
            ),
            (json!({"outcome": "duplicate"}), "field_required"),
            (
                json!({"outcome": "duplicate", "earlier_clue_id": "../x"}),
                "invalid_clue_id",
            ),
        ];
        for (body, code) in cases {
            let e = parse(Action::Judge, &body).expect_err(code);
            assert_eq!(e.code, code, "{body}");
        }
        let e = parse(Action::Escalate, &json!({"reason": "  "})).expect_err("blank");
        assert_eq!(e.code, "reason_required");
        let e = parse(
            Action::Verify,
            &json!({"result": "no_violation", "ended_on": "2026/1/1"}),
        )
        .expect_err("date");
        assert_eq!(e.code, "invalid_date");
    }
}
