//! What happened to a clue: the events commands decide and the timeline records. Events are
//! facts in the past tense; applying them in order rebuilds the clue.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::bureau::BureauId;
use crate::deadline::{Deadline, DeadlineKind, DeadlineStatus};
use crate::division::DivisionCode;
use crate::ids::{AttachmentId, ClueId, ClueNo, NoticeId, OfficerId, ReporterKey};
use crate::notice::{NoticeContent, NoticeKey};
use crate::scope::{CategoryChoice, Exclusion};
use crate::text::{Address, DepartmentName, Facts, MessageText, Reason, Subject};

/// A GPS position (WGS-84), when the reporter shares one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Gps {
    pub lat: f64,
    pub lng: f64,
}

impl Eq for Gps {}

impl Gps {
    /// A position with finite latitude in [-90, 90] and longitude in [-180, 180].
    pub fn new(lat: f64, lng: f64) -> Option<Self> {
        let ok = lat.is_finite()
            && lng.is_finite()
            && (-90.0..=90.0).contains(&lat)
            && (-180.0..=180.0).contains(&lng);
        ok.then_some(Self { lat, lng })
    }
}

/// Where the violation happens (违法行为发生地).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// A county-level division (or a city without counties).
    pub division: DivisionCode,
    pub address: Address,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gps: Option<Gps>,
}

/// One evidence object attached to a clue; its hash is the chain of custody.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub attachment: AttachmentId,
    /// SHA-256 of the stored bytes, hex.
    pub sha256: String,
    pub content_type: String,
    pub size: u64,
}

/// A file the reporter sent with a report that is not among its evidence (a guided-chat photo
/// that could not be kept, or was still being processed when the reporter filed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceLeftOut {
    /// Its number as the reporter counted them (1-based).
    pub number: u32,
    pub reason: LeftOutReason,
}

/// Why a file is not among the evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeftOutReason {
    DownloadFailed,
    TooLarge,
    Empty,
    NotAnImage,
    /// Still being downloaded or checked when the reporter filed without waiting.
    StillProcessing,
}

impl LeftOutReason {
    /// Stable code for the API.
    pub fn code(self) -> &'static str {
        match self {
            Self::DownloadFailed => "download_failed",
            Self::TooLarge => "too_large",
            Self::Empty => "empty",
            Self::NotAnImage => "not_an_image",
            Self::StillProcessing => "still_processing",
        }
    }

    /// The reason as the reporter reads it.
    pub fn text(self) -> &'static str {
        match self {
            Self::DownloadFailed => "照片下载失败",
            Self::TooLarge => "照片文件过大",
            Self::Empty => "照片文件为空",
            Self::NotAnImage => "文件不是允许的照片格式",
            Self::StillProcessing => "提交时仍在处理中，未随举报提交",
        }
    }
}

/// How the reporter reached the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The H5 form inside WeChat.
    H5,
    /// The guided chat in the official account.
    Chat,
}

impl Channel {
    /// Stable code for statistics (the serde name).
    pub fn code(self) -> &'static str {
        match self {
            Self::H5 => "h5",
            Self::Chat => "chat",
        }
    }
}

/// Everything the clue is received with (art. 10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub clue_no: ClueNo,
    pub reporter: ReporterKey,
    pub location: Location,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Subject>,
    pub category: CategoryChoice,
    pub facts: Facts,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    /// Files the reporter sent that are not among the evidence, and why (the reporter is told).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence_left_out: Vec<EvidenceLeftOut>,
    /// The reporting notice version the reporter agreed to.
    pub notice_version: String,
    /// The bureau that handles it by jurisdiction.
    pub handler: BureauId,
    pub channel: Channel,
    /// Whether the reporter gave a real name (the identity itself is in the vault).
    pub real_name: bool,
    /// The `need_material` clue this one resubmits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resubmission_of: Option<ClueId>,
}

/// What the material lacks, for a `need_material` judgment (art. 12(5)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missing {
    /// 缺少违法行为发生地.
    Location,
    /// 主要违法事实描述不够清晰完整.
    Facts,
}

/// A judgment outcome other than escalation (escalation is its own command and event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Judgment {
    /// In scope, our jurisdiction: we will verify.
    Accept,
    /// Not in scope: which exclusion applies (if one does) and the competent department, if known.
    OutOfScope {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exclusion: Option<Exclusion>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        department: Option<DepartmentName>,
    },
    /// Same reporter, essentially the same as an earlier clue.
    Duplicate {
        earlier: ClueId,
        earlier_no: ClueNo,
        earlier_received_on: NaiveDate,
    },
    /// Place missing or facts unclear: the reporter may resubmit.
    NeedMaterial { missing: Vec<Missing> },
}

impl Judgment {
    /// Stable code for statistics and the API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::OutOfScope { .. } => "out_of_scope",
            Self::Duplicate { .. } => "duplicate",
            Self::NeedMaterial { .. } => "need_material",
        }
    }
}

/// The result of verification (art. 14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationResult {
    NoViolation,
    ViolationFound,
}

impl VerificationResult {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::NoViolation => "no_violation",
            Self::ViolationFound => "violation_found",
        }
    }
}

/// A hand-over to an enforcement department (art. 20).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Transfer {
    /// The department uses the platform: it becomes the handler.
    OnPlatform { from: BureauId, to: BureauId },
    /// Handed over outside the platform: the bureau stays responsible for notices.
    OffPlatform {
        department: DepartmentName,
        handed_over_on: NaiveDate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<Reason>,
    },
}

/// One side of a conversation about a clue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "party", rename_all = "snake_case")]
pub enum Party {
    Reporter,
    Officer {
        officer: OfficerId,
        bureau: BureauId,
    },
}

/// A clue merged into a primary: what the primary needs to inform that reporter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeMember {
    pub clue: ClueId,
    pub clue_no: ClueNo,
    pub received_at: DateTime<Utc>,
    /// The member's own judgment deadline, while still owed: closed with the primary's judgment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judgment: Option<Deadline>,
}

/// 督办: an upper bureau's follow-up on a clue (art. 16).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supervision {
    pub by: BureauId,
    pub due_on: NaiveDate,
    pub note: Reason,
}

/// A notice owed to the reporter of the clue whose timeline holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeRecord {
    pub id: NoticeId,
    pub content: NoticeContent,
    /// The rendered text, verbatim annex 3.
    pub text: String,
    /// The clue whose change owed it (the primary, for merged reporters).
    pub source: ClueId,
}

impl NoticeRecord {
    /// Which of the eight texts.
    pub fn key(&self) -> NoticeKey {
        self.content.key()
    }
}

/// Where a notice's delivery stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DeliveryStatus {
    Queued,
    /// WeChat accepted the notice (`msgid` as WeChat gave it, or the platform's send id when
    /// WeChat gives none). `possible_duplicate`: an earlier attempt may have reached WeChat
    /// without its outcome being recorded (a crash between the send and the record), so the
    /// reporter may have received this notice twice.
    Sent {
        msgid: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        possible_duplicate: bool,
    },
    Failed {
        reason: String,
    },
    Undeliverable {
        reason: String,
    },
}

impl DeliveryStatus {
    /// Sent or given up: nothing more will be attempted.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Sent { .. } | Self::Undeliverable { .. })
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    Received {
        receipt: Box<Receipt>,
    },
    DeadlineOpened {
        deadline: Deadline,
    },
    DeadlineClosed {
        kind: DeadlineKind,
        status: DeadlineStatus,
    },
    /// An open deadline passed unmet; recorded once by the sweep (for supervisors and figures).
    DeadlineMissed {
        kind: DeadlineKind,
        due: DateTime<Utc>,
    },
    /// A pending deadline's due instant became known (the calendar gained its year).
    DeadlineResolved {
        kind: DeadlineKind,
        due: DateTime<Utc>,
        remind_at: DateTime<Utc>,
    },
    /// A dated open deadline moved because its calendar year was uploaded or amended; `from` is
    /// the due instant before, `source` the notice the changed year's data comes from.
    DeadlineMoved {
        kind: DeadlineKind,
        from: DateTime<Utc>,
        due: DateTime<Utc>,
        remind_at: DateTime<Utc>,
        source: String,
    },
    Judged {
        judgment: Judgment,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<Reason>,
    },
    Escalated {
        from: BureauId,
        to: BureauId,
        reason: Reason,
    },
    Designated {
        by: BureauId,
        to: BureauId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<Reason>,
    },
    MergedInto {
        primary: ClueId,
        primary_no: ClueNo,
    },
    MergeJoined {
        member: MergeMember,
        /// The officer's reason (kept on the primary: the reporters' timelines do not show it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<Reason>,
    },
    VerificationRecorded {
        result: VerificationResult,
        ended_on: NaiveDate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<Reason>,
    },
    Transferred {
        transfer: Transfer,
    },
    MessagePosted {
        from: Party,
        text: MessageText,
    },
    Recused {
        officer: OfficerId,
        reason: Reason,
    },
    Assigned {
        officer: OfficerId,
    },
    SupervisionOpened {
        supervision: Supervision,
    },
    /// The handling bureau's progress answer to the open supervision.
    SupervisionAnswered {
        text: MessageText,
    },
    /// The open supervision ended (closed by the supervising bureau, or with the clue).
    SupervisionClosed {
        end: crate::supervision::SupervisionEnd,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<Reason>,
    },
    Resubmitted {
        new_clue: ClueId,
        new_clue_no: ClueNo,
    },
    NoticeOwed {
        notice: NoticeRecord,
    },
    NoticeDelivery {
        notice: NoticeId,
        status: DeliveryStatus,
    },
    IdentityRevealed {
        officer: OfficerId,
        reason: Reason,
    },
    /// A leader took this clue out of `primary`'s merge group.
    Unmerged {
        primary: ClueId,
        reason: Reason,
    },
    /// On the primary: `member` left the merge group.
    MergeLeft {
        member: ClueId,
    },
    /// An officer of the handling bureau read the reporter's messages, up to the `up_to`-th.
    MessagesRead {
        officer: OfficerId,
        up_to: u32,
    },
}

impl EventKind {
    /// Stable code of the kind (the serde tag).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Received { .. } => "received",
            Self::DeadlineOpened { .. } => "deadline_opened",
            Self::DeadlineClosed { .. } => "deadline_closed",
            Self::DeadlineResolved { .. } => "deadline_resolved",
            Self::DeadlineMissed { .. } => "deadline_missed",
            Self::DeadlineMoved { .. } => "deadline_moved",
            Self::Judged { .. } => "judged",
            Self::Escalated { .. } => "escalated",
            Self::Designated { .. } => "designated",
            Self::MergedInto { .. } => "merged_into",
            Self::MergeJoined { .. } => "merge_joined",
            Self::VerificationRecorded { .. } => "verification_recorded",
            Self::Transferred { .. } => "transferred",
            Self::MessagePosted { .. } => "message_posted",
            Self::Recused { .. } => "recused",
            Self::Assigned { .. } => "assigned",
            Self::SupervisionOpened { .. } => "supervision_opened",
            Self::SupervisionAnswered { .. } => "supervision_answered",
            Self::SupervisionClosed { .. } => "supervision_closed",
            Self::Resubmitted { .. } => "resubmitted",
            Self::NoticeOwed { .. } => "notice_owed",
            Self::NoticeDelivery { .. } => "notice_delivery",
            Self::IdentityRevealed { .. } => "identity_revealed",
            Self::MessagesRead { .. } => "messages_read",
            Self::Unmerged { .. } => "unmerged",
            Self::MergeLeft { .. } => "merge_left",
        }
    }

    /// Whether the reporter sees this event on their public timeline ("我的举报"): receipt,
    /// outcomes, notices and messages; never officers' internals (recusals, reveals, assignment).
    pub fn is_public(&self) -> bool {
        matches!(
            self,
            Self::Received { .. }
                | Self::Judged { .. }
                | Self::VerificationRecorded { .. }
                | Self::MergedInto { .. }
                | Self::Resubmitted { .. }
                | Self::NoticeOwed { .. }
                | Self::NoticeDelivery { .. }
                | Self::MessagePosted { .. }
        )
    }
}

/// An event as decided: which clue's timeline it goes on, when, by whom, what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub clue: ClueId,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub kind: EventKind,
}
