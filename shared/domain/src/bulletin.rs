//! 通报 bulletins (art. 16): an upper bureau's snapshot of its child divisions' handling over a
//! period, a draft until reviewed, then issued to the child bureaus, who read it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::actor::{Officer, Role};
use crate::bureau::{Bureau, BureauDirectory, BureauId, BureauLevel};
use crate::calendar::shanghai_date;
use crate::figures::{Figures, Period};
use crate::ids::{ClueId, ClueNo, OfficerId};
use crate::supervision::{SupervisionEnd, SupervisionRecord};

/// The longest period one bulletin covers (a leap year).
pub const MAX_PERIOD_DAYS: i64 = 366;

/// The most overdue lines one bulletin lists (the item stays far below DynamoDB's 400 KB).
pub const MAX_OVERDUE_LINES: usize = 500;

/// The figure columns of a bulletin, in order: code and heading ([`DivisionLine::value`]).
pub const FIGURE_COLUMNS: [(&str, &str); 16] = [
    ("received", "收到举报"),
    ("accepted", "受理"),
    ("out_of_scope", "不属于接收范围"),
    ("duplicate", "重复举报"),
    ("need_material", "补充材料"),
    ("escalated", "逐级提请"),
    ("violation_found", "核查属实"),
    ("no_violation", "未发现违法"),
    ("transferred", "移交"),
    ("on_time", "按期办理"),
    ("late", "超期办理"),
    ("missed", "逾期未办"),
    ("open", "尚未办结"),
    ("open_overdue", "超期未结"),
    ("on_time_rate", "按期率(%)"),
    ("supervised", "督办"),
];

/// One figure of a line: a count, or the on-time rate in percent (one decimal; none when
/// nothing was counted).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum FigureValue {
    Count(i64),
    Percent(Option<f64>),
}

/// Why a bulletin request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BulletinError {
    #[error("the period must start on or before its end and span at most {MAX_PERIOD_DAYS} days")]
    InvalidPeriod,
    #[error("the title must be 1 to 100 characters without control characters")]
    InvalidTitle,
    #[error("only a city or province bureau with bureaus below it issues bulletins")]
    NotAnUpperBureau,
    #[error("only leaders and supervisors of the issuing bureau may do this")]
    NotPermitted,
    #[error("the bulletin is {0:?}: not allowed now")]
    WrongStatus(BulletinStatus),
    #[error("malformed bulletin id")]
    InvalidId,
}

/// A bulletin's id: `bl-` and 24 hex digits, derived from the issuer and the request's
/// idempotency key so a retried generation finds the same bulletin.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BulletinId(String);

impl BulletinId {
    /// The id of the bulletin `issuer` generates under `key`.
    pub fn derive(issuer: &BureauId, key: &str) -> Self {
        let mut h = Sha256::new();
        h.update(issuer.as_str().as_bytes());
        h.update([0]);
        h.update(key.as_bytes());
        Self(format!("bl-{}", &hex::encode(h.finalize())[..24]))
    }

    /// Parses an id.
    ///
    /// # Errors
    /// [`BulletinError::InvalidId`].
    pub fn parse(s: &str) -> Result<Self, BulletinError> {
        match s.strip_prefix("bl-") {
            Some(h)
                if h.len() == 24 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) =>
            {
                Ok(Self(s.to_owned()))
            }
            _ => Err(BulletinError::InvalidId),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for BulletinId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for BulletinId {
    type Error = BulletinError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<BulletinId> for String {
    fn from(id: BulletinId) -> String {
        id.0
    }
}

/// The period of a bulletin: [`Period::new`] and at most [`MAX_PERIOD_DAYS`] days.
///
/// # Errors
/// [`BulletinError::InvalidPeriod`] when reversed or longer.
pub fn period(from: NaiveDate, to: NaiveDate) -> Result<Period, BulletinError> {
    let p = Period::new(from, to).map_err(|_| BulletinError::InvalidPeriod)?;
    if (p.to - p.from).num_days() < MAX_PERIOD_DAYS {
        Ok(p)
    } else {
        Err(BulletinError::InvalidPeriod)
    }
}

/// Where a bulletin is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BulletinStatus {
    /// Generated or edited, not yet reviewed.
    Draft,
    /// Reviewed by a leader or supervisor of the issuer; may be issued.
    Reviewed,
    /// Sent to the child bureaus; no longer changes.
    Issued,
}

impl BulletinStatus {
    pub fn code(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Reviewed => "reviewed",
            Self::Issued => "issued",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Draft => "草稿",
            Self::Reviewed => "已审核",
            Self::Issued => "已印发",
        }
    }
}

/// One division's line: its bureau and its figures over the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DivisionLine {
    pub bureau: BureauId,
    pub name: String,
    pub figures: Figures,
}

impl DivisionLine {
    /// The value of the [`FIGURE_COLUMNS`] column `code` (0 for an unknown code).
    pub fn value(&self, code: &str) -> FigureValue {
        let f = &self.figures;
        let judged = |o: &str| f.judged.get(o).copied().unwrap_or(0);
        let verified = |r: &str| f.verified.get(r).copied().unwrap_or(0);
        let t = &f.deadlines_total;
        FigureValue::Count(match code {
            "received" => f.received,
            "accepted" => f.accepted,
            "out_of_scope" | "duplicate" | "need_material" => judged(code),
            "escalated" => f.escalated,
            "violation_found" | "no_violation" => verified(code),
            "transferred" => f.transferred_on_platform + f.transferred_off_platform,
            "on_time" => t.on_time,
            "late" => t.late,
            "missed" => t.missed,
            "open" => f.open,
            "open_overdue" => f.open_overdue,
            "supervised" => f.supervised,
            "on_time_rate" => {
                return FigureValue::Percent(
                    t.on_time_rate.rate.map(|r| (r * 1000.0).round() / 10.0),
                );
            }
            _ => 0,
        })
    }

    /// The line's values in [`FIGURE_COLUMNS`] order.
    pub fn columns(&self) -> Vec<FigureValue> {
        FIGURE_COLUMNS.iter().map(|(c, _)| self.value(c)).collect()
    }
}

/// One missed deadline of a lower bureau, as the sweep recorded it for the issuer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverdueLine {
    pub clue_id: ClueId,
    pub clue_no: ClueNo,
    /// The deadline's label, e.g. `判定期限`.
    pub kind: String,
    /// The name of the bureau that owes it.
    pub bureau: String,
    pub due: DateTime<Utc>,
}

/// One 督办 case of the issuer that ran during the period, with the handling bureau's answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupervisedLine {
    pub clue_id: ClueId,
    pub clue_no: ClueNo,
    /// The name of the bureau handling the clue.
    pub bureau: String,
    pub note: String,
    pub opened_at: DateTime<Utc>,
    pub due_on: NaiveDate,
    /// The answers, oldest first.
    pub answers: Vec<SupervisedAnswer>,
    /// The end's label (`已结束督办`, `线索已办结`), `None` while it runs.
    pub ended: Option<String>,
}

/// One progress answer to a 督办.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupervisedAnswer {
    pub at: DateTime<Utc>,
    pub text: String,
}

impl SupervisedLine {
    /// The line of `record` (a supervision of clue `clue_no`, handled by `bureau`) when it ran
    /// during `period`: opened by its last day and not ended before its first (Shanghai days).
    pub fn of(
        clue_id: ClueId,
        clue_no: ClueNo,
        bureau: String,
        record: &SupervisionRecord,
        period: &Period,
    ) -> Option<Self> {
        let ran = shanghai_date(record.opened_at) <= period.to
            && record
                .ended_at
                .is_none_or(|e| shanghai_date(e) >= period.from);
        ran.then(|| Self {
            clue_id,
            clue_no,
            bureau,
            note: record.note.as_str().to_owned(),
            opened_at: record.opened_at,
            due_on: record.due_on,
            answers: record
                .answers
                .iter()
                .map(|a| SupervisedAnswer {
                    at: a.at,
                    text: a.text.as_str().to_owned(),
                })
                .collect(),
            ended: record.end.map(|e| {
                match e {
                    SupervisionEnd::Closed => "已结束督办",
                    SupervisionEnd::ClueClosed => "线索已办结",
                }
                .to_owned()
            }),
        })
    }
}

/// What a bulletin reports: its divisions' lines (the issuer's whole territory first, then each
/// child bureau), the overdue list (`overdue_total` may exceed the lines listed) and the 督办
/// cases that ran during the period with their answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Snapshot {
    pub total: Option<DivisionLine>,
    pub divisions: Vec<DivisionLine>,
    pub overdue: Vec<OverdueLine>,
    pub overdue_total: usize,
    #[serde(default)]
    pub supervised: Vec<SupervisedLine>,
}

/// A read receipt: who of a recipient bureau first opened the issued bulletin, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub bureau: BureauId,
    pub officer: OfficerId,
    pub at: DateTime<Utc>,
}

/// A bulletin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bulletin {
    pub id: BulletinId,
    pub issuer: BureauId,
    pub title: String,
    pub period: Period,
    pub status: BulletinStatus,
    /// Starts at 1; every change adds one.
    pub version: u64,
    pub snapshot: Snapshot,
    /// The child bureaus it goes to (set at generation, from the directory).
    pub recipients: Vec<BureauId>,
    pub created_by: OfficerId,
    pub created_at: DateTime<Utc>,
    pub reviewed_by: Option<OfficerId>,
    pub issued_by: Option<OfficerId>,
    pub issued_at: Option<DateTime<Utc>>,
}

/// How a bureau relates to a bulletin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// The issuing bureau: reads, edits, reviews, issues, sees receipts.
    Issuer,
    /// A recipient of an issued bulletin: reads it (the first read is recorded).
    Recipient,
    /// Anyone else (and recipients before issue): the bulletin does not exist for them.
    None,
}

/// Checks a title: 1–100 characters, no control characters.
///
/// # Errors
/// [`BulletinError::InvalidTitle`].
pub fn parse_title(title: &str) -> Result<String, BulletinError> {
    let t = title.trim();
    let n = t.chars().count();
    if (1..=100).contains(&n) && !t.chars().any(char::is_control) {
        Ok(t.to_owned())
    } else {
        Err(BulletinError::InvalidTitle)
    }
}

/// Whether `officer` may write bulletins of `bureau`: a leader or supervisor of it.
fn may_write(officer: &Officer, bureau: &BureauId) -> bool {
    &officer.bureau == bureau && (officer.has(Role::Leader) || officer.has(Role::Supervisor))
}

/// The bureaus a bulletin of `issuer` goes to: the land bureaus one level below it inside its
/// territory (a province's cities, a city's counties), by id.
pub fn children<'a>(issuer: &Bureau, bureaus: &'a BureauDirectory) -> Vec<&'a Bureau> {
    let below = match issuer.level {
        BureauLevel::Province => BureauLevel::City,
        BureauLevel::City => BureauLevel::County,
        BureauLevel::County | BureauLevel::Ministry => return Vec::new(),
    };
    bureaus
        .iter()
        .filter(|b| b.level == below && b.kind == issuer.kind && issuer.is_above(b))
        .collect()
}

impl Bulletin {
    /// Checks that `officer` may generate a bulletin of their bureau, and returns its children.
    ///
    /// # Errors
    /// [`BulletinError::NotPermitted`], [`BulletinError::NotAnUpperBureau`].
    pub fn check_generate<'a>(
        officer: &Officer,
        bureaus: &'a BureauDirectory,
    ) -> Result<(&'a Bureau, Vec<&'a Bureau>), BulletinError> {
        if !may_write(officer, &officer.bureau) {
            return Err(BulletinError::NotPermitted);
        }
        let issuer = bureaus
            .get(&officer.bureau)
            .map_err(|_| BulletinError::NotAnUpperBureau)?;
        let kids = children(issuer, bureaus);
        if kids.is_empty() {
            return Err(BulletinError::NotAnUpperBureau);
        }
        Ok((issuer, kids))
    }

    /// A new draft.
    pub fn draft(
        id: BulletinId,
        officer: &Officer,
        title: String,
        period: Period,
        snapshot: Snapshot,
        recipients: Vec<BureauId>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            issuer: officer.bureau.clone(),
            title,
            period,
            status: BulletinStatus::Draft,
            version: 1,
            snapshot,
            recipients,
            created_by: officer.id.clone(),
            created_at: now,
            reviewed_by: None,
            issued_by: None,
            issued_at: None,
        }
    }

    /// How `bureau` stands towards this bulletin.
    pub fn standing(&self, bureau: &BureauId) -> Standing {
        if &self.issuer == bureau {
            Standing::Issuer
        } else if self.status == BulletinStatus::Issued && self.recipients.contains(bureau) {
            Standing::Recipient
        } else {
            Standing::None
        }
    }

    fn check_writer(&self, officer: &Officer) -> Result<(), BulletinError> {
        if may_write(officer, &self.issuer) {
            Ok(())
        } else {
            Err(BulletinError::NotPermitted)
        }
    }

    /// Changes the title (and, when given, the refreshed snapshot); a reviewed bulletin goes
    /// back to draft.
    ///
    /// # Errors
    /// [`BulletinError::NotPermitted`]; [`BulletinError::WrongStatus`] once issued.
    pub fn edit(
        &mut self,
        officer: &Officer,
        title: Option<String>,
        snapshot: Option<Snapshot>,
    ) -> Result<(), BulletinError> {
        self.check_writer(officer)?;
        if self.status == BulletinStatus::Issued {
            return Err(BulletinError::WrongStatus(self.status));
        }
        if let Some(t) = title {
            self.title = t;
        }
        if let Some(s) = snapshot {
            self.snapshot = s;
        }
        self.status = BulletinStatus::Draft;
        self.reviewed_by = None;
        self.version += 1;
        Ok(())
    }

    /// Marks a draft reviewed.
    ///
    /// # Errors
    /// [`BulletinError::NotPermitted`]; [`BulletinError::WrongStatus`] unless a draft.
    pub fn review(&mut self, officer: &Officer) -> Result<(), BulletinError> {
        self.check_writer(officer)?;
        if self.status != BulletinStatus::Draft {
            return Err(BulletinError::WrongStatus(self.status));
        }
        self.status = BulletinStatus::Reviewed;
        self.reviewed_by = Some(officer.id.clone());
        self.version += 1;
        Ok(())
    }

    /// Issues a reviewed bulletin to its recipients.
    ///
    /// # Errors
    /// [`BulletinError::NotPermitted`]; [`BulletinError::WrongStatus`] unless reviewed.
    pub fn issue(&mut self, officer: &Officer, now: DateTime<Utc>) -> Result<(), BulletinError> {
        self.check_writer(officer)?;
        if self.status != BulletinStatus::Reviewed {
            return Err(BulletinError::WrongStatus(self.status));
        }
        self.status = BulletinStatus::Issued;
        self.issued_by = Some(officer.id.clone());
        self.issued_at = Some(now);
        self.version += 1;
        Ok(())
    }
}
