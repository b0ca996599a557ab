//! The guided chat, the second reporting channel (WORKFLOW.md §1): the official account asks
//! step by step for the place, address, subject, facts and photos, shows the city's reporting
//! notice and asks for consent, then hands over the same submission as the H5 form. Pure: the
//! intake function stores the draft per reporter and performs the effects.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::division::DivisionCode;
use crate::divisions::Divisions;
use crate::event::Gps;
use crate::scope::ReportingNotice;
use crate::text::{Address, Facts, Subject, TextError};

/// A draft left alone this long is dropped (the reporter starts again).
pub const INACTIVITY: Duration = Duration::minutes(30);
/// The most photos one chat report carries.
pub const MAX_PHOTOS: usize = 9;
/// The word that starts a report.
pub const START_WORD: &str = "举报";
/// The word that cancels a report at any step.
pub const CANCEL_WORD: &str = "取消";

/// What the reporter sent.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatInput {
    Text(String),
    /// A WeChat location message: coordinates and the label WeChat resolved.
    Location {
        lat: f64,
        lng: f64,
        label: String,
    },
    Image {
        media_id: String,
    },
    /// The menu entry that starts a chat report.
    Start,
}

/// Where the dialogue stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    Place,
    ChoosePlace { candidates: Vec<DivisionCode> },
    Address,
    Subject,
    Facts,
    Evidence,
    Consent { notice_version: String },
}

/// What has been collected so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatDraft {
    pub step: Step,
    pub division: Option<DivisionCode>,
    pub address: Option<Address>,
    pub gps: Option<Gps>,
    pub subject: Option<Subject>,
    pub facts: Option<Facts>,
    pub media: Vec<String>,
    pub updated_at: DateTime<Utc>,
}

/// A complete chat report, ready to become a clue (category "不确定": the chat does not ask).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatSubmission {
    pub division: DivisionCode,
    pub address: Address,
    pub gps: Option<Gps>,
    pub subject: Option<Subject>,
    pub facts: Facts,
    /// WeChat media ids of the photos, to download into the evidence bucket.
    pub media: Vec<String>,
    pub notice_version: String,
}

/// What the intake function knows when a message arrives.
pub struct ChatContext<'a> {
    pub divisions: &'a Divisions,
    /// The reporting notice in force for the draft's city, once the place is known.
    pub notice: Option<&'a ReportingNotice>,
    /// Where the reporter can read that notice (the H5 page).
    pub notice_url: Option<&'a str>,
}

/// The result of one message.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatTurn {
    /// The draft to keep; `None` when no report is in progress any more.
    pub draft: Option<ChatDraft>,
    /// The text to answer, if the dialogue has something to say.
    pub reply: Option<String>,
    /// A finished report to submit.
    pub submit: Option<ChatSubmission>,
}

impl ChatTurn {
    fn keep(draft: ChatDraft, reply: impl Into<String>) -> Self {
        Self {
            draft: Some(draft),
            reply: Some(reply.into()),
            submit: None,
        }
    }

    fn end(reply: impl Into<String>) -> Self {
        Self {
            draft: None,
            reply: Some(reply.into()),
            submit: None,
        }
    }
}

const ASK_PLACE: &str = "请发送违法行为发生地：可发送位置，或输入县（市、区）名称，如“浙江省杭州市西湖区”。回复“取消”可随时取消。";
const ASK_ADDRESS: &str = "请输入详细地址，如乡镇（街道）、村、路名及周边标志。";
const ASK_SUBJECT: &str = "请输入违法主体（被举报的个人、单位或组织名称），不清楚请回复“无”。";
const ASK_FACTS: &str = "请描述主要违法事实：什么时间、做了什么、持续多久、涉及多大面积等。";
const ASK_EVIDENCE: &str = "可发送照片作为证据材料（最多9张）。发送完毕或没有照片，请回复“完成”。";

fn text_error(e: &TextError) -> String {
    match e {
        TextError::Empty { .. } => "内容不能为空，请重新输入。".to_owned(),
        TextError::TooLong { max, .. } => format!("内容过长，最多{max}个字，请精简后重新输入。"),
        TextError::ControlCharacter { .. } => "内容含有无法识别的字符，请重新输入。".to_owned(),
    }
}

fn start(now: DateTime<Utc>) -> ChatTurn {
    ChatTurn::keep(
        ChatDraft {
            step: Step::Place,
            division: None,
            address: None,
            gps: None,
            subject: None,
            facts: None,
            media: Vec::new(),
            updated_at: now,
        },
        ASK_PLACE,
    )
}

/// Advances the dialogue by one message.
pub fn advance(
    draft: Option<ChatDraft>,
    input: ChatInput,
    now: DateTime<Utc>,
    ctx: &ChatContext<'_>,
) -> ChatTurn {
    let text = match &input {
        ChatInput::Text(t) => Some(t.trim()),
        _ => None,
    };
    let live = draft.filter(|d| now.signed_duration_since(d.updated_at) <= INACTIVITY);
    if text == Some(CANCEL_WORD) {
        return match live {
            Some(_) => ChatTurn::end("已取消本次举报。如需举报，请回复“举报”。"),
            None => ChatTurn {
                draft: None,
                reply: None,
                submit: None,
            },
        };
    }
    if matches!(input, ChatInput::Start) || text == Some(START_WORD) {
        return start(now);
    }
    let Some(mut draft) = live else {
        // No report in progress: the intake answers with its welcome/help text.
        return ChatTurn {
            draft: None,
            reply: None,
            submit: None,
        };
    };
    draft.updated_at = now;
    match (draft.step.clone(), input) {
        (Step::Place, ChatInput::Location { lat, lng, label }) => {
            draft.gps = Gps::new(lat, lng);
            let found = ctx.divisions.resolve_text(&label);
            if let [one] = found.as_slice() {
                draft.division = Some(*one);
                // WeChat's label is the street address: keep it and go on.
                if let Ok(address) = Address::parse(&label) {
                    draft.address = Some(address);
                    draft.step = Step::Subject;
                    return ChatTurn::keep(draft, ASK_SUBJECT);
                }
                draft.step = Step::Address;
                return ChatTurn::keep(draft, ASK_ADDRESS);
            }
            place_candidates(draft, found, ctx)
        }
        (Step::Place, ChatInput::Text(t)) => {
            let found = ctx.divisions.resolve_text(&t);
            place_candidates(draft, found, ctx)
        }
        (Step::ChoosePlace { candidates }, ChatInput::Text(t)) => {
            let chosen = t
                .trim()
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| candidates.get(i));
            match chosen {
                Some(code) => {
                    draft.division = Some(*code);
                    draft.step = Step::Address;
                    ChatTurn::keep(draft, ASK_ADDRESS)
                }
                None => place_candidates(draft, candidates, ctx),
            }
        }
        (Step::Address, ChatInput::Text(t)) => match Address::parse(&t) {
            Ok(address) => {
                draft.address = Some(address);
                draft.step = Step::Subject;
                ChatTurn::keep(draft, ASK_SUBJECT)
            }
            Err(e) => ChatTurn::keep(draft, text_error(&e)),
        },
        (Step::Subject, ChatInput::Text(t)) => {
            let t = t.trim();
            if matches!(t, "无" | "没有" | "不清楚" | "不知道") {
                draft.subject = None;
            } else {
                match Subject::parse(t) {
                    Ok(s) => draft.subject = Some(s),
                    Err(e) => return ChatTurn::keep(draft, text_error(&e)),
                }
            }
            draft.step = Step::Facts;
            ChatTurn::keep(draft, ASK_FACTS)
        }
        (Step::Facts, ChatInput::Text(t)) => match Facts::parse(&t) {
            Ok(facts) => {
                draft.facts = Some(facts);
                draft.step = Step::Evidence;
                ChatTurn::keep(draft, ASK_EVIDENCE)
            }
            Err(e) => ChatTurn::keep(draft, text_error(&e)),
        },
        (Step::Evidence, ChatInput::Image { media_id }) => {
            if draft.media.len() >= MAX_PHOTOS {
                return ChatTurn::keep(draft, "最多可发送9张照片，请回复“完成”继续。");
            }
            draft.media.push(media_id);
            let n = draft.media.len();
            ChatTurn::keep(draft, format!("已收到第{n}张照片。继续发送或回复“完成”。"))
        }
        (Step::Evidence, ChatInput::Text(t)) if t.trim() == "完成" => offer_notice(draft, ctx),
        (Step::Consent { notice_version }, ChatInput::Text(t)) if t.trim() == "同意" => {
            match submission(&draft, notice_version) {
                Some(submit) => ChatTurn {
                    draft: None,
                    reply: None,
                    submit: Some(submit),
                },
                None => start(now),
            }
        }
        (step, _) => {
            let again = match step {
                Step::Place => ASK_PLACE.to_owned(),
                Step::ChoosePlace { candidates } => {
                    return place_candidates(draft, candidates, ctx);
                }
                Step::Address => ASK_ADDRESS.to_owned(),
                Step::Subject => ASK_SUBJECT.to_owned(),
                Step::Facts => ASK_FACTS.to_owned(),
                Step::Evidence => ASK_EVIDENCE.to_owned(),
                Step::Consent { .. } => {
                    "同意《举报说明》请回复“同意”，不同意请回复“取消”。".to_owned()
                }
            };
            ChatTurn::keep(draft, again)
        }
    }
}

fn place_candidates(
    mut draft: ChatDraft,
    found: Vec<DivisionCode>,
    ctx: &ChatContext<'_>,
) -> ChatTurn {
    match found.as_slice() {
        [] => {
            draft.step = Step::Place;
            ChatTurn::keep(
                draft,
                "未能识别违法行为发生地，请输入县（市、区）的完整名称，如“浙江省杭州市西湖区”。",
            )
        }
        [one] => {
            draft.division = Some(*one);
            draft.step = Step::Address;
            ChatTurn::keep(draft, ASK_ADDRESS)
        }
        many => {
            let candidates: Vec<DivisionCode> = many.iter().take(MAX_PHOTOS).copied().collect();
            let mut reply = String::from("找到多个同名地区，请回复序号：");
            for (i, code) in candidates.iter().enumerate() {
                let name = ctx
                    .divisions
                    .full_name(code)
                    .unwrap_or_else(|| code.to_string());
                reply.push_str(&format!("\n{}. {name}", i + 1));
            }
            draft.step = Step::ChoosePlace { candidates };
            ChatTurn::keep(draft, reply)
        }
    }
}

fn offer_notice(mut draft: ChatDraft, ctx: &ChatContext<'_>) -> ChatTurn {
    let Some(notice) = ctx.notice else {
        return ChatTurn::end("该地区暂未开通网上举报，请通过其他渠道反映。");
    };
    let link = ctx
        .notice_url
        .map(|u| format!("请阅读《举报说明》：{u}\n"))
        .unwrap_or_default();
    draft.step = Step::Consent {
        notice_version: notice.version_id.clone(),
    };
    ChatTurn::keep(
        draft,
        format!("{link}已阅读并同意该《举报说明》请回复“同意”，提交举报；不同意请回复“取消”。"),
    )
}

fn submission(draft: &ChatDraft, notice_version: String) -> Option<ChatSubmission> {
    Some(ChatSubmission {
        division: draft.division?,
        address: draft.address.clone()?,
        gps: draft.gps,
        subject: draft.subject.clone(),
        facts: draft.facts.clone()?,
        media: draft.media.clone(),
        notice_version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::ScopeVersion;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 9, 2, 0, 0)
            .single()
            .expect("time")
    }

    fn notice() -> ReportingNotice {
        ScopeVersion::default_for(DivisionCode::parse("330100").expect("code"), t0())
            .reporting_notice()
    }

    fn say(
        draft: Option<ChatDraft>,
        input: ChatInput,
        minutes: i64,
        notice: &ReportingNotice,
    ) -> ChatTurn {
        let ctx = ChatContext {
            divisions: Divisions::embedded(),
            notice: Some(notice),
            notice_url: Some("https://h5.example/notice?division=330106"),
        };
        advance(draft, input, t0() + Duration::minutes(minutes), &ctx)
    }

    fn text(s: &str) -> ChatInput {
        ChatInput::Text(s.to_owned())
    }

    #[test]
    fn a_whole_report_by_chat() {
        let n = notice();
        let turn = say(None, text("举报"), 0, &n);
        assert_eq!(turn.reply.as_deref(), Some(ASK_PLACE));
        let turn = say(turn.draft, text("杭州市西湖区"), 1, &n);
        assert_eq!(turn.reply.as_deref(), Some(ASK_ADDRESS));
        let turn = say(turn.draft, text("留下街道某村东侧"), 2, &n);
        let turn = say(turn.draft, text("无"), 3, &n);
        let turn = say(turn.draft, text("在基本农田上建厂房"), 4, &n);
        assert_eq!(turn.reply.as_deref(), Some(ASK_EVIDENCE));
        let turn = say(
            turn.draft,
            ChatInput::Image {
                media_id: "m1".into(),
            },
            5,
            &n,
        );
        assert_eq!(
            turn.reply.as_deref(),
            Some("已收到第1张照片。继续发送或回复“完成”。")
        );
        let turn = say(turn.draft, text("完成"), 6, &n);
        let reply = turn.reply.clone().expect("reply");
        assert!(reply.contains("https://h5.example/notice?division=330106"));
        assert!(reply.contains("回复“同意”"));
        let turn = say(turn.draft, text("同意"), 7, &n);
        assert_eq!(turn.draft, None);
        let submit = turn.submit.expect("submission");
        assert_eq!(submit.division.as_str(), "330106");
        assert_eq!(submit.address.as_str(), "留下街道某村东侧");
        assert_eq!(submit.subject, None);
        assert_eq!(submit.media, vec!["m1".to_owned()]);
        assert_eq!(submit.notice_version, n.version_id);
    }

    #[test]
    fn a_location_message_fills_place_and_address() {
        let n = notice();
        let turn = say(None, ChatInput::Start, 0, &n);
        let turn = say(
            turn.draft,
            ChatInput::Location {
                lat: 30.25,
                lng: 120.05,
                label: "浙江省杭州市西湖区留下街道".into(),
            },
            1,
            &n,
        );
        assert_eq!(turn.reply.as_deref(), Some(ASK_SUBJECT));
        let draft = turn.draft.expect("draft");
        assert_eq!(draft.division.map(|d| d.to_string()), Some("330106".into()));
        assert!(draft.gps.is_some());
    }

    #[test]
    fn an_ambiguous_place_is_chosen_by_number() {
        let n = notice();
        let turn = say(None, text("举报"), 0, &n);
        let turn = say(turn.draft, text("西湖区"), 1, &n);
        let reply = turn.reply.clone().expect("reply");
        assert!(
            reply.contains("1. ") && reply.contains("浙江省杭州市西湖区"),
            "{reply}"
        );
        let Some(Step::ChoosePlace { candidates }) = turn.draft.as_ref().map(|d| d.step.clone())
        else {
            panic!("expected a choice");
        };
        let pick = candidates
            .iter()
            .position(|c| c.as_str() == "330106")
            .expect("xihu among candidates")
            + 1;
        let wrong = say(turn.draft.clone(), text("99"), 2, &n);
        assert!(matches!(
            wrong.draft.map(|d| d.step),
            Some(Step::ChoosePlace { .. })
        ));
        let turn = say(turn.draft, text(&pick.to_string()), 2, &n);
        assert_eq!(turn.reply.as_deref(), Some(ASK_ADDRESS));
    }

    #[test]
    fn cancel_and_inactivity_end_the_report() {
        let n = notice();
        let turn = say(None, text("举报"), 0, &n);
        let cancelled = say(turn.draft.clone(), text("取消"), 1, &n);
        assert_eq!(cancelled.draft, None);
        assert!(cancelled.reply.expect("reply").contains("已取消"));
        // Left alone past the inactivity limit: the draft is gone.
        let stale = say(turn.draft, text("杭州市西湖区"), 31, &n);
        assert_eq!(stale.draft, None);
        assert_eq!(stale.reply, None);
    }

    #[test]
    fn bad_answers_are_asked_again_without_losing_the_draft() {
        let n = notice();
        let turn = say(None, text("举报"), 0, &n);
        let turn = say(turn.draft, text("火星"), 1, &n);
        assert!(turn.reply.clone().expect("reply").contains("未能识别"));
        let turn = say(turn.draft, text("杭州市西湖区"), 1, &n);
        let turn = say(
            turn.draft,
            ChatInput::Image {
                media_id: "x".into(),
            },
            2,
            &n,
        );
        assert_eq!(turn.reply.as_deref(), Some(ASK_ADDRESS));
        let long = "长".repeat(201);
        let turn = say(turn.draft, text(&long), 3, &n);
        assert!(turn.reply.clone().expect("reply").contains("最多200个字"));
        assert!(turn.draft.is_some());
    }

    #[test]
    fn no_more_than_nine_photos() {
        let n = notice();
        let mut turn = say(None, text("举报"), 0, &n);
        for answer in ["杭州市西湖区", "某村", "无", "建房"] {
            turn = say(turn.draft, text(answer), 1, &n);
        }
        for i in 0..10 {
            turn = say(
                turn.draft,
                ChatInput::Image {
                    media_id: format!("m{i}"),
                },
                2,
                &n,
            );
        }
        assert_eq!(turn.draft.as_ref().map(|d| d.media.len()), Some(MAX_PHOTOS));
        assert!(turn.reply.expect("reply").contains("最多可发送9张"));
    }
}
