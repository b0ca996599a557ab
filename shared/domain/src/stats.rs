//! Statistics as counters: which metrics each event increments, the gauges a change of a clue
//! moves (open, open and overdue), and the territory cells (county, city, province) and day they
//! count in, so figures for any area and period are a sum of cells.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::shanghai_date;
use crate::clue::Clue;
use crate::deadline::{DeadlineKind, DeadlineStatus};
use crate::division::{DivisionCode, DivisionLevel};
use crate::event::{EventKind, Transfer};
use crate::scope::CategoryChoice;

/// One counted fact.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "metric", content = "of", rename_all = "snake_case")]
pub enum Metric {
    Received,
    /// Received, by category code ([`CategoryChoice::stat_code`]).
    ReceivedInCategory(String),
    /// Received, by channel code ([`crate::event::Channel::code`]).
    ReceivedByChannel(String),
    /// Judged, by outcome code (`accept`, `out_of_scope`, `duplicate`, `need_material`).
    Judged(String),
    Escalated,
    Designated,
    Merged,
    /// Verified, by result code (`no_violation`, `violation_found`).
    Verified(String),
    TransferredOnPlatform,
    TransferredOffPlatform,
    /// A deadline met on time, by kind code.
    OnTime(String),
    /// A deadline met late, by kind code.
    Late(String),
    /// A deadline recorded as missed by the sweep (passed while open), by kind code.
    Missed(String),
    NoticeOwed,
    Message,
    Supervised,
    /// Gauge: clues still open (received, escalated, accepted); +1 on receipt, −1 when closed
    /// or merged (+1 again when unmerged).
    Open,
    /// Gauge: open clues with at least one deadline recorded missed and still unmet.
    OpenOverdue,
    /// Gauge: deadlines recorded missed, still unmet, of open clues, by kind code.
    OpenOverdueOf(String),
    /// A deadline recorded missed that ended unmet (discharged, or its clue closed), by kind
    /// code; counted on the day it ended.
    MissedUnmet(String),
}

impl Metric {
    /// The counter's attribute name, e.g. `judged.accept`, `on_time.judgment`.
    pub fn code(&self) -> String {
        match self {
            Self::Received => "received".into(),
            Self::ReceivedInCategory(c) => format!("category.{c}"),
            Self::ReceivedByChannel(c) => format!("channel.{c}"),
            Self::Judged(o) => format!("judged.{o}"),
            Self::Escalated => "escalated".into(),
            Self::Designated => "designated".into(),
            Self::Merged => "merged".into(),
            Self::Verified(r) => format!("verified.{r}"),
            Self::TransferredOnPlatform => "transferred.on_platform".into(),
            Self::TransferredOffPlatform => "transferred.off_platform".into(),
            Self::OnTime(k) => format!("on_time.{k}"),
            Self::Late(k) => format!("late.{k}"),
            Self::Missed(k) => format!("missed.{k}"),
            Self::NoticeOwed => "notice_owed".into(),
            Self::Message => "message".into(),
            Self::Supervised => "supervised".into(),
            Self::Open => "open".into(),
            Self::OpenOverdue => "open_overdue".into(),
            Self::OpenOverdueOf(k) => format!("open_overdue.{k}"),
            Self::MissedUnmet(k) => format!("missed_unmet.{k}"),
        }
    }
}

/// The metrics one event increments, given the clue's category.
pub fn metrics_of(kind: &EventKind, category: &CategoryChoice) -> Vec<Metric> {
    match kind {
        EventKind::Received { receipt } => vec![
            Metric::Received,
            Metric::ReceivedInCategory(category.stat_code()),
            Metric::ReceivedByChannel(receipt.channel.code().into()),
        ],
        EventKind::Judged { judgment, .. } => vec![Metric::Judged(judgment.code().into())],
        EventKind::Escalated { .. } => vec![Metric::Escalated],
        EventKind::Designated { .. } => vec![Metric::Designated],
        EventKind::MergedInto { .. } => vec![Metric::Merged],
        EventKind::VerificationRecorded { result, .. } => {
            vec![Metric::Verified(result.code().into())]
        }
        EventKind::Transferred { transfer } => vec![match transfer {
            Transfer::OnPlatform { .. } => Metric::TransferredOnPlatform,
            Transfer::OffPlatform { .. } => Metric::TransferredOffPlatform,
        }],
        EventKind::DeadlineClosed {
            kind,
            status: DeadlineStatus::Met { on_time, .. },
        } => vec![deadline_metric(*kind, *on_time)],
        EventKind::DeadlineMissed { kind, .. } => vec![Metric::Missed(kind.code().into())],
        EventKind::NoticeOwed { .. } => vec![Metric::NoticeOwed],
        EventKind::MessagePosted { .. } => vec![Metric::Message],
        EventKind::SupervisionOpened { .. } => vec![Metric::Supervised],
        EventKind::DeadlineOpened { .. }
        | EventKind::DeadlineClosed { .. }
        | EventKind::DeadlineResolved { .. }
        | EventKind::DeadlineMoved { .. }
        | EventKind::MergeJoined { .. }
        | EventKind::Recused { .. }
        | EventKind::Assigned { .. }
        | EventKind::Resubmitted { .. }
        | EventKind::NoticeDelivery { .. }
        | EventKind::IdentityRevealed { .. }
        | EventKind::MessagesRead { .. }
        | EventKind::Unmerged { .. }
        | EventKind::MergeLeft { .. }
        | EventKind::SupervisionAnswered { .. }
        | EventKind::SupervisionClosed { .. } => Vec::new(),
    }
}

fn deadline_metric(kind: DeadlineKind, on_time: bool) -> Metric {
    if on_time {
        Metric::OnTime(kind.code().into())
    } else {
        Metric::Late(kind.code().into())
    }
}

/// The gauge-like measures of one clue as it stands: open (1/0), open and overdue (1/0), its
/// missed-and-unmet deadlines of an open clue by kind, and (cumulative) its missed deadlines
/// that ended unmet. A change of the clue moves each counter by the difference.
pub fn gauges(clue: &Clue) -> BTreeMap<Metric, i64> {
    let mut out = BTreeMap::new();
    let open = clue.state.is_open();
    if open {
        out.insert(Metric::Open, 1);
    }
    for d in clue.deadlines.iter().filter(|d| d.missed_at.is_some()) {
        let kind = d.kind.code().to_owned();
        match d.status {
            DeadlineStatus::Open if open => {
                out.insert(Metric::OpenOverdue, 1);
                *out.entry(Metric::OpenOverdueOf(kind)).or_insert(0) += 1;
            }
            DeadlineStatus::Met { .. } => {}
            DeadlineStatus::Open | DeadlineStatus::Discharged { .. } => {
                *out.entry(Metric::MissedUnmet(kind)).or_insert(0) += 1;
            }
        }
    }
    out
}

/// What one change of a clue (`before` → `after`; no `before` for a receipt) adds to each gauge
/// counter, by metric code; only non-zero deltas.
pub fn gauge_deltas(before: Option<&Clue>, after: &Clue) -> BTreeMap<String, i64> {
    let mut delta: BTreeMap<Metric, i64> = gauges(after);
    if let Some(before) = before {
        for (m, n) in gauges(before) {
            *delta.entry(m).or_insert(0) -= n;
        }
    }
    delta
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|(m, n)| (m.code(), n))
        .collect()
}

/// The territory cells a clue located at `division` counts in: its county (when county-level),
/// its city and its province, so each level reads its own cell.
pub fn territory_cells(division: &DivisionCode) -> Vec<DivisionCode> {
    let mut cells = Vec::with_capacity(3);
    if division.level() == DivisionLevel::County {
        cells.push(*division);
    }
    if let Some(city) = division.city() {
        cells.push(city);
    }
    cells.push(division.province());
    cells
}

/// The day (Asia/Shanghai) an event at `at` counts on.
pub fn stat_day(at: DateTime<Utc>) -> NaiveDate {
    shanghai_date(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_county_clue_counts_in_county_city_and_province() {
        let code = DivisionCode::parse("330106").expect("code");
        let cells: Vec<String> = territory_cells(&code)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(cells, ["330106", "330100", "330000"]);
        let dongguan = DivisionCode::parse("441900").expect("code");
        let cells: Vec<String> = territory_cells(&dongguan)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(cells, ["441900", "440000"]);
    }

    #[test]
    fn metric_codes_are_stable() {
        assert_eq!(Metric::Judged("accept".into()).code(), "judged.accept");
        assert_eq!(Metric::OnTime("judgment".into()).code(), "on_time.judgment");
        assert_eq!(
            Metric::ReceivedInCategory("uncertain".into()).code(),
            "category.uncertain"
        );
    }
}
