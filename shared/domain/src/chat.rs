//! The guided chat, the second reporting channel (WORKFLOW.md §1): the official account asks
//! step by step for the place, address, subject, facts and photos, shows the city's reporting
//! notice and asks for consent, then hands over the same submission as the H5 form. Pure: the
//! intake function stores the draft per reporter and performs the effects.
//!
//! Photos are downloaded and checked after they are sent, so the intake tells the dialogue what
//! became of each ([`PhotoState`]): the summary after "完成" names every photo not kept and why,
//! or still pending; "同意" waits for pending photos (or "直接提交" files without them); only
//! ready photos are filed, and the receipt answer names the others ([`left_out_text`]). Adding a
//! photo to a clue after it is filed is not supported, so nothing claims it.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::bureau::BureauDirectory;
use crate::division::DivisionCode;
use crate::divisions::Divisions;
use crate::event::{EvidenceLeftOut, Gps, LeftOutReason};
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
    /// WeChat media ids of the photos kept as evidence (ready when the reporter agreed).
    pub media: Vec<String>,
    /// The photos that do not go with the report, by their number in the chat (1-based).
    pub left_out: Vec<(usize, PhotoState)>,
    pub notice_version: String,
}

impl ChatSubmission {
    /// The report the chat files: category "不确定", consent given by the dialogue's step.
    pub fn report(&self) -> crate::report::Report {
        crate::report::Report {
            location: crate::event::Location {
                division: self.division,
                address: self.address.clone(),
                gps: self.gps,
            },
            subject: self.subject.clone(),
            category: crate::scope::CategoryChoice::Uncertain,
            facts: self.facts.clone(),
            evidence_left_out: self.evidence_left_out(),
            notice_version: self.notice_version.clone(),
            consent: true,
            channel: crate::event::Channel::Chat,
            resubmission_of: None,
        }
    }

    /// The photos left out, as the clue records them.
    pub fn evidence_left_out(&self) -> Vec<EvidenceLeftOut> {
        self.left_out
            .iter()
            .filter_map(|(n, state)| {
                let reason = match state {
                    PhotoState::Ready => return None,
                    PhotoState::Pending => LeftOutReason::StillProcessing,
                    PhotoState::Refused(PhotoRefusal::DownloadFailed) => {
                        LeftOutReason::DownloadFailed
                    }
                    PhotoState::Refused(PhotoRefusal::TooLarge) => LeftOutReason::TooLarge,
                    PhotoState::Refused(PhotoRefusal::Empty) => LeftOutReason::Empty,
                    PhotoState::Refused(PhotoRefusal::NotAnImage) => LeftOutReason::NotAnImage,
                };
                Some(EvidenceLeftOut {
                    number: u32::try_from(*n).unwrap_or(u32::MAX),
                    reason,
                })
            })
            .collect()
    }
}

/// What became of one chat photo: the `attachments` function downloads it (`media/get`) and
/// checks it by content after the reporter sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoState {
    /// Not downloaded or checked yet.
    Pending,
    /// Kept as evidence.
    Ready,
    /// Not kept.
    Refused(PhotoRefusal),
}

/// Why a chat photo was not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoRefusal {
    /// WeChat would not give it (expired or unknown media id), for good.
    DownloadFailed,
    /// Over the size limit.
    TooLarge,
    /// Empty.
    Empty,
    /// Its content is not an allowed image.
    NotAnImage,
}

impl PhotoRefusal {
    /// From the attachment record's stable reason code (`download_failed`, `too_large`,
    /// `empty`; any other code is a content-check refusal).
    pub fn from_code(code: &str) -> Self {
        match code {
            "download_failed" => Self::DownloadFailed,
            "too_large" => Self::TooLarge,
            "empty" => Self::Empty,
            _ => Self::NotAnImage,
        }
    }

    /// The reason as the reporter reads it.
    pub fn reason(self) -> &'static str {
        match self {
            Self::DownloadFailed => "照片下载失败",
            Self::TooLarge => "照片文件过大",
            Self::Empty => "照片文件为空",
            Self::NotAnImage => "文件不是允许的照片格式",
        }
    }
}

/// One line per photo that is not kept (or not yet), numbered as the chat counted them.
fn photo_lines(photos: &[(usize, PhotoState)]) -> String {
    photos
        .iter()
        .filter_map(|(n, state)| match state {
            PhotoState::Ready => None,
            PhotoState::Pending => Some(format!("\n第{n}张照片仍在处理中")),
            PhotoState::Refused(r) => Some(format!("\n第{n}张照片未能保存：{}", r.reason())),
        })
        .collect()
}

/// The text that tells the reporter which chat photos do not go with the filed report (empty
/// when all do).
pub fn left_out_text(left_out: &[(usize, PhotoState)]) -> String {
    let refused: Vec<_> = left_out
        .iter()
        .filter(|(_, s)| matches!(s, PhotoState::Refused(_)))
        .copied()
        .collect();
    let pending: Vec<_> = left_out
        .iter()
        .filter(|(_, s)| *s == PhotoState::Pending)
        .map(|(n, _)| format!("第{n}张"))
        .collect();
    let mut text = String::new();
    if !refused.is_empty() {
        text.push_str("\n以下照片未能保存，未作为证据提交：");
        text.push_str(&photo_lines(&refused));
    }
    if !pending.is_empty() {
        text.push_str(&format!(
            "\n{}照片提交时仍在处理中，未随举报提交；如需补充，可在“我的举报”中留言说明。",
            pending.join("、")
        ));
    }
    text
}

/// What the intake function knows when a message arrives.
pub struct ChatContext<'a> {
    pub divisions: &'a Divisions,
    /// The bureaus on the platform: a place none of them handles is refused before the
    /// reporter writes anything ([`crate::service`]).
    pub bureaus: &'a BureauDirectory,
    /// The reporting notice in force for the draft's city, once the place is known.
    pub notice: Option<&'a ReportingNotice>,
    /// Where the reporter can read that notice (the H5 page).
    pub notice_url: Option<&'a str>,
    /// What became of the draft's photos, in the order of [`ChatDraft::media`]; a photo with no
    /// entry counts as pending. Needed from the evidence step on.
    pub photos: &'a [PhotoState],
}

/// The word that files a report without the photos still being processed.
pub const SUBMIT_NOW_WORD: &str = "直接提交";

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

/// The text policy's answer (the same as the H5 form's), asking again.
fn text_error(e: &TextError) -> String {
    format!("{}。", e.reporter_message())
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
                if let Some(refused) = not_served(&mut draft, one, ctx) {
                    return refused;
                }
                if draft.gps.is_some_and(|g| crate::geo::contradicts(one, &g)) {
                    draft.gps = None;
                    return ChatTurn::keep(
                        draft,
                        "发送的位置与识别出的县（市、区）不一致，请重新发送位置，或输入县（市、区）名称。",
                    );
                }
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
                    if let Some(refused) = not_served(&mut draft, code, ctx) {
                        return refused;
                    }
                    // A position sent before, outside the county chosen: not kept.
                    if draft.gps.is_some_and(|g| crate::geo::contradicts(code, &g)) {
                        draft.gps = None;
                    }
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
        (Step::Consent { notice_version }, ChatInput::Text(t))
            if t.trim() == "同意" || t.trim() == SUBMIT_NOW_WORD =>
        {
            let photos = numbered(&draft, ctx);
            let pending: Vec<String> = photos
                .iter()
                .filter(|(_, s)| *s == PhotoState::Pending)
                .map(|(n, _)| format!("第{n}张"))
                .collect();
            if t.trim() == "同意" && !pending.is_empty() {
                return ChatTurn::keep(
                    draft,
                    format!(
                        "{}照片仍在处理中。请稍候再回复“同意”，照片保存后一并提交；\
                         如不等待，请回复“{SUBMIT_NOW_WORD}”，仍在处理中的照片将不随举报提交。",
                        pending.join("、")
                    ),
                );
            }
            match submission(&draft, notice_version, &photos) {
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
            if let Some(refused) = not_served(&mut draft, one, ctx) {
                return refused;
            }
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

/// A place no bureau on the platform handles: said at once (before the address and facts are
/// asked), with what to do, and the dialogue asks for the place again.
fn not_served(
    draft: &mut ChatDraft,
    place: &DivisionCode,
    ctx: &ChatContext<'_>,
) -> Option<ChatTurn> {
    if crate::service::is_served(ctx.bureaus, place) {
        return None;
    }
    let name = ctx
        .divisions
        .full_name(place)
        .unwrap_or_else(|| place.to_string());
    draft.step = Step::Place;
    draft.division = None;
    draft.gps = None;
    Some(ChatTurn::keep(
        draft.clone(),
        format!(
            "{}\n如在其他地区，请重新发送违法行为发生地；回复“取消”结束。",
            crate::service::not_served_text(&name)
        ),
    ))
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
    let photos = photo_summary(&draft, ctx);
    ChatTurn::keep(
        draft,
        format!(
            "{photos}{link}已阅读并同意该《举报说明》请回复“同意”，提交举报；不同意请回复“取消”。"
        ),
    )
}

/// Each photo of the draft with its state, numbered from 1.
fn numbered(draft: &ChatDraft, ctx: &ChatContext<'_>) -> Vec<(usize, PhotoState)> {
    (0..draft.media.len())
        .map(|i| {
            (
                i + 1,
                ctx.photos.get(i).copied().unwrap_or(PhotoState::Pending),
            )
        })
        .collect()
}

/// "已收到N张照片" and a line for each one not kept (or not yet), then a line break.
fn photo_summary(draft: &ChatDraft, ctx: &ChatContext<'_>) -> String {
    let photos = numbered(draft, ctx);
    if photos.is_empty() {
        return String::new();
    }
    let kept = photos
        .iter()
        .filter(|(_, s)| *s == PhotoState::Ready)
        .count();
    let mut text = format!("已收到{}张照片，已保存{kept}张。", photos.len());
    text.push_str(&photo_lines(&photos));
    if photos
        .iter()
        .any(|(_, s)| matches!(s, PhotoState::Refused(_)))
    {
        text.push_str("\n未能保存的照片不会作为证据提交。");
    }
    text.push('\n');
    text
}

fn submission(
    draft: &ChatDraft,
    notice_version: String,
    photos: &[(usize, PhotoState)],
) -> Option<ChatSubmission> {
    Some(ChatSubmission {
        division: draft.division?,
        address: draft.address.clone()?,
        gps: draft.gps,
        subject: draft.subject.clone(),
        facts: draft.facts.clone()?,
        media: draft
            .media
            .iter()
            .zip(photos)
            .filter(|(_, (_, s))| *s == PhotoState::Ready)
            .map(|(m, _)| m.clone())
            .collect(),
        left_out: photos
            .iter()
            .filter(|(_, s)| *s != PhotoState::Ready)
            .copied()
            .collect(),
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

    /// The platform of the tests: 杭州市's land bureau (so every county of 杭州 is served),
    /// nothing in 北京.
    fn hangzhou() -> BureauDirectory {
        use crate::bureau::{Bureau, BureauId, BureauKind, BureauLevel};
        BureauDirectory::new([Bureau {
            id: BureauId::parse("b-330100").expect("id"),
            name: "杭州市规划和自然资源局".into(),
            region: "杭州市".into(),
            level: BureauLevel::City,
            kind: BureauKind::Land,
            division: Some(DivisionCode::parse("330100").expect("code")),
            city_direct: false,
        }])
        .expect("directory")
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
        say_with(draft, input, minutes, notice, &[])
    }

    /// As [`say`], with the photos' states known to the intake.
    fn say_with(
        draft: Option<ChatDraft>,
        input: ChatInput,
        minutes: i64,
        notice: &ReportingNotice,
        photos: &[PhotoState],
    ) -> ChatTurn {
        let bureaus = hangzhou();
        let ctx = ChatContext {
            divisions: Divisions::embedded(),
            bureaus: &bureaus,
            notice: Some(notice),
            notice_url: Some("https://h5.example/notice?division=330106"),
            photos,
        };
        advance(draft, input, t0() + Duration::minutes(minutes), &ctx)
    }

    /// A draft at the evidence step with `n` photos `m1`…
    fn with_photos(n: usize, notice: &ReportingNotice) -> Option<ChatDraft> {
        let mut turn = say(None, text("举报"), 0, notice);
        for answer in ["杭州市西湖区", "某村", "无", "建房"] {
            turn = say(turn.draft, text(answer), 1, notice);
        }
        for i in 1..=n {
            turn = say(
                turn.draft,
                ChatInput::Image {
                    media_id: format!("m{i}"),
                },
                2,
                notice,
            );
        }
        turn.draft
    }

    #[test]
    fn the_summary_lists_each_photo_not_kept_and_why() {
        let n = notice();
        let photos = [
            PhotoState::Ready,
            PhotoState::Refused(PhotoRefusal::NotAnImage),
            PhotoState::Pending,
            PhotoState::Refused(PhotoRefusal::DownloadFailed),
        ];
        let turn = say_with(with_photos(4, &n), text("完成"), 3, &n, &photos);
        let reply = turn.reply.expect("reply");
        assert!(reply.starts_with("已收到4张照片，已保存1张。"), "{reply}");
        assert!(
            reply.contains("第2张照片未能保存：文件不是允许的照片格式"),
            "{reply}"
        );
        assert!(reply.contains("第3张照片仍在处理中"), "{reply}");
        assert!(reply.contains("第4张照片未能保存：照片下载失败"), "{reply}");
        assert!(!reply.contains("第1张"), "{reply}");
        assert!(reply.contains("回复“同意”"), "{reply}");
    }

    #[test]
    fn consent_waits_for_pending_photos_unless_the_reporter_submits_now() {
        let n = notice();
        let photos = [PhotoState::Ready, PhotoState::Pending];
        let turn = say_with(with_photos(2, &n), text("完成"), 3, &n, &photos);
        let wait = say_with(turn.draft, text("同意"), 4, &n, &photos);
        assert!(wait.submit.is_none());
        assert!(matches!(
            wait.draft.as_ref().map(|d| &d.step),
            Some(Step::Consent { .. })
        ));
        let reply = wait.reply.expect("reply");
        assert!(reply.starts_with("第2张照片仍在处理中"), "{reply}");
        assert!(reply.contains(SUBMIT_NOW_WORD), "{reply}");

        // Once it is ready, "同意" files both.
        let both = say_with(
            wait.draft.clone(),
            text("同意"),
            5,
            &n,
            &[PhotoState::Ready, PhotoState::Ready],
        );
        let submit = both.submit.expect("filed");
        assert_eq!(submit.media, vec!["m1".to_owned(), "m2".to_owned()]);
        assert!(submit.left_out.is_empty());

        // Or the reporter does not wait: the pending one is left out, and said to be.
        let now = say_with(wait.draft, text(SUBMIT_NOW_WORD), 5, &n, &photos);
        let submit = now.submit.expect("filed");
        assert_eq!(submit.media, vec!["m1".to_owned()]);
        assert_eq!(submit.left_out, vec![(2, PhotoState::Pending)]);
        let told = left_out_text(&submit.left_out);
        assert!(
            told.contains("第2张照片提交时仍在处理中，未随举报提交"),
            "{told}"
        );
    }

    #[test]
    fn refused_photos_are_not_filed_and_the_reporter_is_told_why() {
        let n = notice();
        let photos = [
            PhotoState::Refused(PhotoRefusal::TooLarge),
            PhotoState::Ready,
        ];
        let turn = say_with(with_photos(2, &n), text("完成"), 3, &n, &photos);
        let filed = say_with(turn.draft, text("同意"), 4, &n, &photos);
        let submit = filed.submit.expect("filed: nothing is pending");
        assert_eq!(submit.media, vec!["m2".to_owned()]);
        assert_eq!(
            submit.left_out,
            vec![(1, PhotoState::Refused(PhotoRefusal::TooLarge))]
        );
        let told = left_out_text(&submit.left_out);
        assert!(told.contains("未作为证据提交"), "{told}");
        assert!(told.contains("第1张照片未能保存：照片文件过大"), "{told}");
        assert!(!told.contains("处理中"), "{told}");
        assert_eq!(left_out_text(&[]), "");
    }

    #[test]
    fn photo_refusals_are_read_from_the_record_codes() {
        assert_eq!(
            PhotoRefusal::from_code("download_failed"),
            PhotoRefusal::DownloadFailed
        );
        assert_eq!(PhotoRefusal::from_code("too_large"), PhotoRefusal::TooLarge);
        assert_eq!(PhotoRefusal::from_code("empty"), PhotoRefusal::Empty);
        assert_eq!(
            PhotoRefusal::from_code("type_not_allowed"),
            PhotoRefusal::NotAnImage
        );
        assert_eq!(
            PhotoRefusal::from_code("type_mismatch"),
            PhotoRefusal::NotAnImage
        );
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
        let turn = say_with(turn.draft, text("完成"), 6, &n, &[PhotoState::Ready]);
        let reply = turn.reply.clone().expect("reply");
        assert!(reply.starts_with("已收到1张照片，已保存1张。\n"), "{reply}");
        assert!(reply.contains("https://h5.example/notice?division=330106"));
        assert!(reply.contains("回复“同意”"));
        let turn = say_with(turn.draft, text("同意"), 7, &n, &[PhotoState::Ready]);
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
    fn a_place_without_a_bureau_is_said_before_anything_is_written() {
        let n = notice();
        let turn = say(None, text("举报"), 0, &n);
        let turn = say(turn.draft, text("北京市东城区"), 1, &n);
        let reply = turn.reply.clone().expect("reply");
        assert!(
            reply.starts_with("北京市东城区的国土资源主管部门暂未接入本平台")
                && reply.contains("12336"),
            "{reply}"
        );
        let draft = turn.draft.expect("the dialogue goes on");
        assert_eq!((draft.step.clone(), draft.division), (Step::Place, None));
        // Another place, served, goes on to the address.
        let turn = say(Some(draft), text("浙江省杭州市西湖区"), 2, &n);
        assert_eq!(turn.reply.as_deref(), Some(ASK_ADDRESS));
        // A location message in a place without a bureau: the same answer.
        let turn = say(None, text("举报"), 3, &n);
        let turn = say(
            turn.draft,
            ChatInput::Location {
                lat: 39.93,
                lng: 116.42,
                label: "北京市东城区东华门街道".into(),
            },
            4,
            &n,
        );
        let d = turn.draft.expect("draft");
        assert_eq!((d.step, d.division, d.gps), (Step::Place, None, None));
    }

    #[test]
    fn a_location_outside_the_county_its_label_names_is_asked_again() {
        let n = notice();
        let turn = say(None, text("举报"), 0, &n);
        let turn = say(
            turn.draft,
            ChatInput::Location {
                lat: -33.92,
                lng: 18.42,
                label: "浙江省杭州市西湖区留下街道".into(),
            },
            1,
            &n,
        );
        assert!(turn.reply.as_deref().is_some_and(|r| r.contains("不一致")));
        let d = turn.draft.expect("draft");
        assert_eq!((d.step, d.division, d.gps), (Step::Place, None, None));
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
