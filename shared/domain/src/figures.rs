//! The figures of a division for a period (arts. 5, 16), from its statistics cell's day counters
//! ([`crate::stats`]): flows summed over the period's days, gauges (open, open and overdue) as
//! they stood at its last day, and the honest on-time rate.
//!
//! The honest on-time rate of a period: deadlines met on time ÷ (met on time + met late + missed
//! and ended unmet + still open past the deadline at the period's end). An open overdue deadline
//! counts against the rate of every period that ends while it is late.

use std::collections::BTreeMap;
use std::ops::Bound;

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::deadline::DeadlineKind;

/// A cell's counters by Shanghai day, by metric code (as [`crate::stats::Metric::code`]).
pub type DayCounters = BTreeMap<NaiveDate, BTreeMap<String, i64>>;

/// The most periods one series may have (a leap year of days, with room).
pub const MAX_PERIODS: usize = 400;

/// Why a period or series cannot be formed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FiguresError {
    #[error("the period ends before it starts")]
    Reversed,
    #[error("more than {MAX_PERIODS} periods")]
    TooManyPeriods,
    #[error("unknown granularity {0:?}")]
    UnknownGranularity(String),
}

/// How a range is split into periods (calendar units, Asia/Shanghai dates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Day,
    Month,
    Quarter,
    Year,
}

impl Granularity {
    /// Parses the API's code (`day`, `month`, `quarter`, `year`).
    ///
    /// # Errors
    /// [`FiguresError::UnknownGranularity`].
    pub fn parse(s: &str) -> Result<Self, FiguresError> {
        match s {
            "day" => Ok(Self::Day),
            "month" => Ok(Self::Month),
            "quarter" => Ok(Self::Quarter),
            "year" => Ok(Self::Year),
            other => Err(FiguresError::UnknownGranularity(other.to_owned())),
        }
    }

    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Month => "month",
            Self::Quarter => "quarter",
            Self::Year => "year",
        }
    }

    /// The first day of the unit holding `day`.
    fn start_of(self, day: NaiveDate) -> NaiveDate {
        let (y, m) = (day.year(), day.month());
        let first = |month: u32| NaiveDate::from_ymd_opt(y, month, 1).unwrap_or(day);
        match self {
            Self::Day => day,
            Self::Month => first(m),
            Self::Quarter => first((m - 1) / 3 * 3 + 1),
            Self::Year => first(1),
        }
    }

    /// The first day of the next unit after the one starting at `start`.
    fn next(self, start: NaiveDate) -> Option<NaiveDate> {
        match self {
            Self::Day => start.succ_opt(),
            Self::Month => start.checked_add_months(Months::new(1)),
            Self::Quarter => start.checked_add_months(Months::new(3)),
            Self::Year => start.checked_add_months(Months::new(12)),
        }
    }
}

/// An inclusive range of Shanghai days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// The days `[from, to]`.
    ///
    /// # Errors
    /// [`FiguresError::Reversed`] when `to < from`.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, FiguresError> {
        if to < from {
            return Err(FiguresError::Reversed);
        }
        Ok(Self { from, to })
    }

    /// The calendar unit of `granularity` holding `day` (e.g. its month).
    pub fn unit(granularity: Granularity, day: NaiveDate) -> Self {
        let from = granularity.start_of(day);
        let to = granularity
            .next(from)
            .and_then(|n| n.pred_opt())
            .unwrap_or(day);
        Self { from, to }
    }

    /// This range split into calendar units of `granularity`, the first and last clipped to it.
    ///
    /// # Errors
    /// [`FiguresError::TooManyPeriods`] past [`MAX_PERIODS`].
    pub fn split(self, granularity: Granularity) -> Result<Vec<Period>, FiguresError> {
        let mut out = Vec::new();
        let mut start = self.from;
        while start <= self.to {
            if out.len() == MAX_PERIODS {
                return Err(FiguresError::TooManyPeriods);
            }
            let unit = Self::unit(granularity, start);
            let to = unit.to.min(self.to);
            out.push(Period { from: start, to });
            match to.succ_opt() {
                Some(next) => start = next,
                None => break,
            }
        }
        Ok(out)
    }
}

/// The honest on-time rate's parts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct OnTimeRate {
    /// Deadlines met on time in the period.
    pub on_time: i64,
    /// Met on time + met late + missed and ended unmet + open past the deadline at the end.
    pub counted: i64,
    /// `on_time / counted`, none when nothing was counted.
    pub rate: Option<f64>,
}

impl OnTimeRate {
    fn of(on_time: i64, counted: i64) -> Self {
        #[allow(clippy::cast_precision_loss)]
        let rate = (counted > 0).then(|| on_time as f64 / counted as f64);
        Self {
            on_time,
            counted,
            rate,
        }
    }
}

/// The deadline figures of one kind (or all kinds).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeadlineFigures {
    /// Met on time in the period.
    pub on_time: i64,
    /// Met late in the period.
    pub late: i64,
    /// Recorded missed by the sweep in the period (passed while open).
    pub missed: i64,
    /// Recorded missed and ended unmet in the period (discharged, or the clue closed).
    pub missed_unmet: i64,
    /// Missed, unmet, of open clues, at the period's end.
    pub open_overdue: i64,
    pub on_time_rate: OnTimeRate,
}

/// The figures of one division for one period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub period: Option<Period>,
    pub received: i64,
    /// Received, by category stat code (annex code, `extra:<code>`, `uncertain`).
    pub by_category: BTreeMap<String, i64>,
    /// Received, by channel (`h5`, `chat`).
    pub by_channel: BTreeMap<String, i64>,
    /// Judged, by outcome (`accept`, `out_of_scope`, `duplicate`, `need_material`).
    pub judged: BTreeMap<String, i64>,
    /// Judged `accept`.
    pub accepted: i64,
    pub escalated: i64,
    pub designated: i64,
    pub merged: i64,
    /// Verification results, by result (`no_violation`, `violation_found`).
    pub verified: BTreeMap<String, i64>,
    pub transferred_on_platform: i64,
    pub transferred_off_platform: i64,
    pub supervised: i64,
    /// By deadline kind code (every kind present).
    pub deadlines: BTreeMap<String, DeadlineFigures>,
    /// All kinds together.
    pub deadlines_total: DeadlineFigures,
    /// Clues still open at the period's end.
    pub open: i64,
    /// Open clues with a missed, unmet deadline at the period's end.
    pub open_overdue: i64,
}

/// Whether a metric code is a gauge (its value is the sum of every day up to a date).
pub fn is_gauge(code: &str) -> bool {
    code == "open" || code == "open_overdue" || code.starts_with("open_overdue.")
}

impl Figures {
    /// The figures for `period` from a cell's day counters (which must hold every day up to
    /// `period.to` for the gauges to be right).
    pub fn of(days: &DayCounters, period: Period) -> Self {
        let flows = sum(days.range(period.from..=period.to).map(|(_, c)| c), false);
        let gauges = sum(days.range(..=period.to).map(|(_, c)| c), true);
        Self::from_sums(period, &flows, &gauges)
    }

    /// The figures from summed flows (over the period) and gauges (up to its end).
    pub fn from_sums(
        period: Period,
        flows: &BTreeMap<String, i64>,
        gauges: &BTreeMap<String, i64>,
    ) -> Self {
        let get = |m: &BTreeMap<String, i64>, code: &str| m.get(code).copied().unwrap_or(0);
        let by_prefix = |prefix: &str| -> BTreeMap<String, i64> {
            flows
                .iter()
                .filter_map(|(k, v)| {
                    k.strip_prefix(prefix)
                        .and_then(|rest| rest.strip_prefix('.'))
                        .map(|rest| (rest.to_owned(), *v))
                })
                .filter(|(_, v)| *v != 0)
                .collect()
        };
        let mut deadlines = BTreeMap::new();
        let mut total = DeadlineFigures::default();
        for kind in DeadlineKind::ALL {
            let k = kind.code();
            let mut d = DeadlineFigures {
                on_time: get(flows, &format!("on_time.{k}")),
                late: get(flows, &format!("late.{k}")),
                missed: get(flows, &format!("missed.{k}")),
                missed_unmet: get(flows, &format!("missed_unmet.{k}")),
                open_overdue: get(gauges, &format!("open_overdue.{k}")),
                on_time_rate: OnTimeRate::default(),
            };
            d.on_time_rate = rate_of(&d);
            total.on_time += d.on_time;
            total.late += d.late;
            total.missed += d.missed;
            total.missed_unmet += d.missed_unmet;
            total.open_overdue += d.open_overdue;
            deadlines.insert(k.to_owned(), d);
        }
        total.on_time_rate = rate_of(&total);
        let judged = by_prefix("judged");
        Self {
            period: Some(period),
            received: get(flows, "received"),
            by_category: by_prefix("category"),
            by_channel: by_prefix("channel"),
            accepted: judged.get("accept").copied().unwrap_or(0),
            judged,
            escalated: get(flows, "escalated"),
            designated: get(flows, "designated"),
            merged: get(flows, "merged"),
            verified: by_prefix("verified"),
            transferred_on_platform: get(flows, "transferred.on_platform"),
            transferred_off_platform: get(flows, "transferred.off_platform"),
            supervised: get(flows, "supervised"),
            deadlines,
            deadlines_total: total,
            open: get(gauges, "open"),
            open_overdue: get(gauges, "open_overdue"),
        }
    }
}

fn rate_of(d: &DeadlineFigures) -> OnTimeRate {
    OnTimeRate::of(
        d.on_time,
        d.on_time + d.late + d.missed_unmet + d.open_overdue,
    )
}

/// Sums the flow (`gauges == false`) or gauge counters of some days.
fn sum<'a>(
    days: impl Iterator<Item = &'a BTreeMap<String, i64>>,
    gauges: bool,
) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for counters in days {
        for (k, v) in counters.iter().filter(|(k, _)| is_gauge(k) == gauges) {
            *out.entry(k.clone()).or_insert(0) += v;
        }
    }
    out
}

/// The figures of each period of `range` split by `granularity`, in order; one pass over the
/// days (the gauges carried from period to period).
///
/// # Errors
/// [`FiguresError::TooManyPeriods`].
pub fn series(
    days: &DayCounters,
    range: Period,
    granularity: Granularity,
) -> Result<Vec<Figures>, FiguresError> {
    let periods = range.split(granularity)?;
    let mut gauges = sum(days.range(..range.from).map(|(_, c)| c), true);
    let mut out = Vec::with_capacity(periods.len());
    for p in periods {
        let in_period: Vec<&BTreeMap<String, i64>> = days
            .range((Bound::Included(p.from), Bound::Included(p.to)))
            .map(|(_, c)| c)
            .collect();
        let flows = sum(in_period.iter().copied(), false);
        for (k, v) in sum(in_period.iter().copied(), true) {
            *gauges.entry(k).or_insert(0) += v;
        }
        out.push(Figures::from_sums(p, &flows, &gauges));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn ranges_split_into_clipped_calendar_units() {
        let range = Period::new(d("2026-02-15"), d("2026-07-03")).expect("range");
        let months = range.split(Granularity::Month).expect("months");
        assert_eq!(months.len(), 6);
        assert_eq!(
            months[0],
            Period::new(d("2026-02-15"), d("2026-02-28")).expect("p")
        );
        assert_eq!(
            months[5],
            Period::new(d("2026-07-01"), d("2026-07-03")).expect("p")
        );
        let quarters = range.split(Granularity::Quarter).expect("quarters");
        assert_eq!(
            quarters
                .iter()
                .map(|p| (p.from.to_string(), p.to.to_string()))
                .collect::<Vec<_>>(),
            [
                ("2026-02-15".to_owned(), "2026-03-31".to_owned()),
                ("2026-04-01".to_owned(), "2026-06-30".to_owned()),
                ("2026-07-01".to_owned(), "2026-07-03".to_owned()),
            ]
        );
        assert_eq!(range.split(Granularity::Year).expect("y").len(), 1);
        assert_eq!(range.split(Granularity::Day).expect("d").len(), 139);
        assert_eq!(
            Period::new(d("2026-01-02"), d("2026-01-01")),
            Err(FiguresError::Reversed)
        );
        let long = Period::new(d("2020-01-01"), d("2026-01-01")).expect("p");
        assert_eq!(
            long.split(Granularity::Day),
            Err(FiguresError::TooManyPeriods)
        );
    }

    fn day(counters: &[(&str, i64)]) -> BTreeMap<String, i64> {
        counters
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect()
    }

    #[test]
    fn flows_sum_in_the_period_and_gauges_stand_at_its_end() {
        let mut days = DayCounters::new();
        days.insert(
            d("2026-01-10"),
            day(&[
                ("received", 3),
                ("open", 3),
                ("category.01", 2),
                ("channel.h5", 3),
            ]),
        );
        days.insert(
            d("2026-02-03"),
            day(&[
                ("judged.accept", 1),
                ("judged.out_of_scope", 1),
                ("open", -1),
                ("on_time.judgment", 2),
                ("missed.judgment", 1),
                ("open_overdue", 1),
                ("open_overdue.judgment", 1),
            ]),
        );
        days.insert(
            d("2026-03-01"),
            day(&[
                ("late.judgment", 1),
                ("open_overdue", -1),
                ("open_overdue.judgment", -1),
            ]),
        );
        let feb = Figures::of(&days, Period::unit(Granularity::Month, d("2026-02-11")));
        assert_eq!(feb.received, 0);
        assert_eq!(feb.accepted, 1);
        assert_eq!(feb.judged.len(), 2);
        assert_eq!(feb.open, 2);
        assert_eq!(feb.open_overdue, 1);
        let j = &feb.deadlines["judgment"];
        assert_eq!((j.on_time, j.missed, j.open_overdue), (2, 1, 1));
        // 2 on time ÷ (2 on time + 1 open past its deadline at the end of February).
        assert_eq!(j.on_time_rate.counted, 3);
        assert_eq!(j.on_time_rate.rate, Some(2.0 / 3.0));
        let march = Figures::of(&days, Period::unit(Granularity::Month, d("2026-03-01")));
        assert_eq!(march.deadlines_total.on_time_rate.rate, Some(0.0));
        assert_eq!(march.open_overdue, 0);
        let jan = Figures::of(&days, Period::unit(Granularity::Month, d("2026-01-01")));
        assert_eq!(jan.by_channel, day(&[("h5", 3)]));
        assert_eq!(jan.by_category, day(&[("01", 2)]));
        assert_eq!(jan.deadlines_total.on_time_rate.rate, None);

        let range = Period::new(d("2026-01-01"), d("2026-03-31")).expect("q1");
        let by_month = series(&days, range, Granularity::Month).expect("series");
        assert_eq!(by_month, vec![jan, feb, march.clone()]);
        let whole = Figures::of(&days, range);
        assert_eq!(whole.received, 3);
        assert_eq!(whole.open, march.open);
    }

    #[test]
    fn granularity_codes_round_trip() {
        for g in [
            Granularity::Day,
            Granularity::Month,
            Granularity::Quarter,
            Granularity::Year,
        ] {
            assert_eq!(Granularity::parse(g.code()), Ok(g));
        }
        assert!(Granularity::parse("week").is_err());
    }
}
