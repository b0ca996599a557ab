//! Month rollups of the statistics counters and the read plan over them. Every increment of a
//! cell's day counter (`DAY#yyyy-mm-dd`) goes, in the same transaction, to the cell's month
//! counter (`MONTH#yyyy-mm`), so a month item always equals the sum of its days. The figures of a
//! range then read whole months from month items and only the days of the months a period
//! boundary cuts: a province's year is ~12 items per cell instead of 365.
//!
//! [`ReadPlan::assemble`] yields a [`DayCounters`] in which each whole month is keyed by its first
//! day; since no month read whole crosses a boundary of the plan's periods, [`Figures::of`] and
//! [`series`] give the very figures the day counters give.
//!
//! [`Figures::of`]: crate::figures::Figures::of
//! [`series`]: crate::figures::series

use std::collections::BTreeMap;

use chrono::{Datelike, Months, NaiveDate};

use crate::figures::{DayCounters, Granularity, Period};

/// The first day of the month holding `day`: the key of its month rollup.
pub fn month_of(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// The last day of the month holding `day`.
pub fn month_end(day: NaiveDate) -> NaiveDate {
    month_of(day)
        .checked_add_months(Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(day)
}

/// The month rollups of some day counters: each month's sum, keyed by its first day.
pub fn rollups(days: &DayCounters) -> BTreeMap<NaiveDate, BTreeMap<String, i64>> {
    let mut out: BTreeMap<NaiveDate, BTreeMap<String, i64>> = BTreeMap::new();
    for (day, counters) in days {
        let month = out.entry(month_of(*day)).or_default();
        for (k, v) in counters {
            *month.entry(k.clone()).or_insert(0) += v;
        }
    }
    out
}

/// Which counter items of one cell give the figures of a range (its flows, and its gauges, which
/// sum every day since the first counted one): month items from the first up to
/// [`Self::months_through`], except the months whose days are read instead, and the day items of
/// [`Self::days`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadPlan {
    /// The last month (its first day) read from its month item; none when no month before the
    /// range's end is whole (cannot happen after the first counted day).
    pub months_through: Option<NaiveDate>,
    /// The day ranges read from day items: at most two, ascending, disjoint, each starting on a
    /// month's first day (the months a period boundary cuts).
    pub days: Vec<Period>,
    /// The range's last day.
    pub to: NaiveDate,
    /// No counter exists after [`Self::to`] (the range ends today or later), so the store may
    /// read the last day range and the month items in one sorted key range. Only a cost: a day
    /// read past the range is left out by [`Self::assemble`].
    pub open_end: bool,
}

impl ReadPlan {
    /// The plan for `range` split by `granularity` ([`crate::figures::series`]): with `Day`,
    /// every day of the range (and of its first month before it); otherwise only the days of the
    /// first month when the range starts inside it and of the last month when it ends inside it.
    pub fn for_series(range: Period, granularity: Granularity) -> Self {
        let (from, to) = (range.from, range.to);
        let mut days = Vec::with_capacity(2);
        if granularity == Granularity::Day {
            days.push(Period {
                from: month_of(from),
                to,
            });
        } else {
            if from != month_of(from) {
                days.push(Period {
                    from: month_of(from),
                    to: month_end(from).min(to),
                });
            }
            if to != month_end(to) && (days.is_empty() || month_of(to) != month_of(from)) {
                days.push(Period {
                    from: month_of(to),
                    to,
                });
            }
        }
        let months_through = if to == month_end(to) {
            Some(month_of(to))
        } else {
            month_of(to).checked_sub_months(Months::new(1))
        };
        Self {
            months_through,
            days,
            to,
            open_end: false,
        }
    }

    /// This plan, knowing that no day after `today` has been counted yet.
    #[must_use]
    pub fn counted_up_to(mut self, today: NaiveDate) -> Self {
        self.open_end = self.to >= today;
        self
    }

    /// The plan for the figures of `range` as one period ([`crate::figures::Figures::of`]).
    pub fn for_period(range: Period) -> Self {
        Self::for_series(range, Granularity::Month)
    }

    /// Whether the month starting on `month` is read from its month item.
    pub fn reads_month(&self, month: NaiveDate) -> bool {
        self.months_through.is_some_and(|last| month <= last)
            && !self.days.iter().any(|r| r.from <= month && month <= r.to)
    }

    /// Whether the day item of `day` is read.
    pub fn reads_day(&self, day: NaiveDate) -> bool {
        self.days.iter().any(|r| r.from <= day && day <= r.to)
    }

    /// The counters for the figures: the month items the plan reads, keyed by their first day,
    /// and its day items (whatever else is passed in is left out).
    pub fn assemble(
        &self,
        months: impl IntoIterator<Item = (NaiveDate, BTreeMap<String, i64>)>,
        days: impl IntoIterator<Item = (NaiveDate, BTreeMap<String, i64>)>,
    ) -> DayCounters {
        let mut out: DayCounters = months
            .into_iter()
            .filter(|(m, _)| *m == month_of(*m) && self.reads_month(*m))
            .collect();
        out.extend(days.into_iter().filter(|(d, _)| self.reads_day(*d)));
        out
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::figures::{Figures, series};

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn p(from: &str, to: &str) -> Period {
        Period::new(d(from), d(to)).expect("period")
    }

    #[test]
    fn a_calendar_year_reads_twelve_month_items_and_no_day() {
        let plan = ReadPlan::for_series(p("2026-01-01", "2026-12-31"), Granularity::Month);
        assert_eq!(plan.months_through, Some(d("2026-12-01")));
        assert!(plan.days.is_empty());
        assert!(
            plan.reads_month(d("2025-03-01")),
            "months before, for the gauges"
        );
    }

    #[test]
    fn a_year_to_date_reads_the_days_of_the_current_month_only() {
        let plan = ReadPlan::for_period(p("2026-01-01", "2026-12-03"));
        assert_eq!(plan.months_through, Some(d("2026-11-01")));
        assert_eq!(plan.days, vec![p("2026-12-01", "2026-12-03")]);
    }

    #[test]
    fn a_range_inside_months_reads_the_days_of_both_edge_months() {
        let plan = ReadPlan::for_series(p("2026-02-15", "2026-07-03"), Granularity::Quarter);
        assert_eq!(
            plan.days,
            vec![p("2026-02-01", "2026-02-28"), p("2026-07-01", "2026-07-03")]
        );
        assert!(!plan.reads_month(d("2026-02-01")));
        assert!(plan.reads_month(d("2026-03-01")));
        assert!(plan.reads_month(d("2026-06-01")));
        assert!(!plan.reads_month(d("2026-07-01")));
        let inside = ReadPlan::for_period(p("2026-02-10", "2026-02-20"));
        assert_eq!(inside.days, vec![p("2026-02-01", "2026-02-20")]);
        assert_eq!(inside.months_through, Some(d("2026-01-01")));
    }

    #[test]
    fn a_range_up_to_today_has_an_open_end() {
        let range = p("2026-01-01", "2026-12-03");
        let plan = ReadPlan::for_period(range);
        assert!(!plan.open_end);
        assert!(plan.clone().counted_up_to(d("2026-12-03")).open_end);
        assert!(!plan.counted_up_to(d("2026-12-04")).open_end);
    }

    #[test]
    fn a_daily_series_reads_every_day_from_its_first_month() {
        let plan = ReadPlan::for_series(p("2026-03-10", "2026-05-31"), Granularity::Day);
        assert_eq!(plan.days, vec![p("2026-03-01", "2026-05-31")]);
        assert!(plan.reads_month(d("2026-02-01")));
        assert!(!plan.reads_month(d("2026-04-01")));
    }

    fn arb_days() -> impl Strategy<Value = DayCounters> {
        let counters = prop::collection::btree_map(
            prop::sample::select(vec![
                "received",
                "open",
                "open_overdue",
                "open_overdue.judgment",
                "on_time.judgment",
                "late.judgment",
                "missed_unmet.judgment",
                "judged.accept",
            ])
            .prop_map(str::to_owned),
            -3i64..5,
            1..4,
        );
        prop::collection::btree_map(
            (0i64..700).prop_map(|n| d("2025-06-01") + chrono::Duration::days(n)),
            counters,
            0..80,
        )
    }

    proptest! {
        #[test]
        fn planned_reads_give_the_figures_of_every_day(
            days in arb_days(),
            start in 0i64..700,
            len in 0i64..400,
            g in prop::sample::select(vec![
                Granularity::Day, Granularity::Month, Granularity::Quarter, Granularity::Year,
            ]),
        ) {
            let from = d("2025-06-01") + chrono::Duration::days(start);
            let range = Period::new(from, from + chrono::Duration::days(len)).expect("range");
            let before_end: DayCounters =
                days.range(..=range.to).map(|(k, v)| (*k, v.clone())).collect();
            let months = rollups(&days);
            let plan = ReadPlan::for_series(range, g);
            let read = plan.assemble(months.clone(), before_end.clone());
            prop_assert_eq!(
                series(&read, range, g).expect("series"),
                series(&before_end, range, g).expect("series")
            );
            let whole = ReadPlan::for_period(range).assemble(months, before_end.clone());
            prop_assert_eq!(Figures::of(&whole, range), Figures::of(&before_end, range));
        }
    }
}
