//! Statistics counters and figures equal a recount from the timelines after a scripted random
//! workload of 500 commands across the province (three counties in two cities, every outcome,
//! some late): every counter of every cell and day, every figure of every level and period, and
//! the on-time rate by its formula.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use domain::command::JudgmentRequest;
use domain::deadline::DeadlineKind;
use domain::event::{DeliveryStatus, Missing, VerificationResult};
use domain::figures::{DayCounters, Figures, Granularity, Period, series};
use domain::rollup::{ReadPlan, rollups};
use domain::stats::{gauge_deltas, metrics_of, stat_day, territory_cells};
use domain::text::{DepartmentName, MessageText, Reason};
use domain::{Actor, Clue, ClueId, Command, DeadlineStatus, DivisionCode, Role};
use store::{StoreError, roles::*};
use support::*;

/// xorshift64*: a fixed, dependency-free sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const COUNTIES: [&str; 3] = ["330106", "330110", "330203"];

async fn one_command(
    env: &Env,
    rng: &mut Rng,
    clues: &mut Vec<ClueId>,
    step: usize,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if clues.is_empty() || rng.below(4) == 0 {
        let id = format!("clue-{step:03}");
        let county = COUNTIES[rng.below(3)];
        let sub = env.submission(&id, county, now).await;
        let reporter = 1 + rng.below(8) as u32;
        env.store
            .receive(sub, identity(reporter), now, &key(&format!("k-{step}")))
            .await?;
        clues.push(cid(&id));
        return Ok(());
    }
    let id = clues[rng.below(clues.len())].clone();
    let clue = env.store.clue(&id).await?.clue;
    let h = handler(clue.handler.as_str());
    let officer = as_officer(&h);
    let reason = |s: &str| Reason::parse(s).expect("reason");
    let (command, actor) = match rng.below(12) {
        0 | 1 => {
            let judgment = match rng.below(5) {
                0 | 1 => JudgmentRequest::Accept,
                2 => JudgmentRequest::OutOfScope {
                    exclusion: None,
                    department: None,
                },
                3 => {
                    // The reporter's latest earlier clue (eight reporters share the clues).
                    let mine = clues.iter().position(|c| *c == id).unwrap_or(0);
                    let mut earlier = None;
                    for other in clues[..mine].iter().rev().take(12) {
                        let other = env.store.clue(other).await?.clue;
                        if other.reporter == clue.reporter {
                            earlier = Some(other.summary());
                            break;
                        }
                    }
                    let Some(earlier) = earlier else {
                        return Ok(());
                    };
                    JudgmentRequest::Duplicate {
                        earlier: Box::new(earlier),
                    }
                }
                _ => JudgmentRequest::NeedMaterial {
                    missing: vec![Missing::Facts],
                },
            };
            (
                Command::Judge {
                    judgment,
                    note: None,
                },
                officer,
            )
        }
        2 => (
            Command::Escalate {
                reason: reason("跨区域"),
            },
            officer,
        ),
        3 => {
            let county =
                domain::DivisionCode::parse(clue.location.division.as_str()).expect("code");
            let to = match county.as_str() {
                "330203" => bid("land-330200"),
                c => bid(&format!("land-{c}")),
            };
            (Command::Designate { to, reason: None }, officer)
        }
        4 => (
            Command::RecordVerification {
                result: if rng.below(2) == 0 {
                    VerificationResult::NoViolation
                } else {
                    VerificationResult::ViolationFound
                },
                ended_on: domain::calendar::shanghai_date(now),
                note: None,
            },
            officer,
        ),
        5 => (
            Command::PostMessage {
                text: MessageText::parse("请尽快处理").expect("text"),
            },
            Actor::Reporter {
                reporter: clue.reporter.clone(),
            },
        ),
        6 => {
            let Some(n) = clue.notices.iter().find(|n| {
                matches!(
                    n.delivery,
                    DeliveryStatus::Queued | DeliveryStatus::Failed { .. }
                )
            }) else {
                return Ok(());
            };
            let status = if rng.below(3) == 0 {
                DeliveryStatus::Failed {
                    reason: "45015".into(),
                }
            } else {
                DeliveryStatus::Sent {
                    msgid: format!("m{step}"),
                    possible_duplicate: false,
                }
            };
            (
                Command::RecordDelivery {
                    notice: n.record.id.clone(),
                    status,
                },
                Actor::System,
            )
        }
        7 => {
            let primary = clues[rng.below(clues.len())].clone();
            let primary = env.store.clue(&primary).await?.clue.summary();
            (
                Command::Merge {
                    primary: Box::new(primary),
                    reason: None,
                },
                officer,
            )
        }
        8 | 10 => (
            Command::RecordMissed {
                kind: if rng.below(3) == 0 {
                    DeadlineKind::VerificationNotice
                } else {
                    DeadlineKind::Judgment
                },
            },
            Actor::System,
        ),
        11 => (
            Command::Transfer {
                transfer: domain::TransferRequest::OffPlatform {
                    department: DepartmentName::parse("杭州市西湖区住房和城乡建设局")
                        .expect("name"),
                    handed_over_on: domain::calendar::shanghai_date(now),
                    note: None,
                },
            },
            officer,
        ),
        _ => {
            let sup = officer_of("sup", "land-330000", &[Role::Supervisor]);
            (
                Command::Supervise {
                    due_on: domain::calendar::shanghai_date(now) + Duration::days(5),
                    note: reason("督办"),
                },
                sup,
            )
        }
    };
    env.store
        .execute(&id, command, &actor, now, &key(&format!("k-{step}")))
        .await?;
    Ok(())
}

fn officer_of(name: &str, bureau: &str, roles: &[Role]) -> Actor {
    as_officer(&officer(name, bureau, roles))
}

/// A clue's timeline and its snapshots.
type History = (
    Vec<domain::timeline::TimelineEntry>,
    Vec<(chrono::NaiveDate, Clue)>,
);

/// A clue as it stood after each command that touched its timeline, with that command's day.
fn snapshots(entries: &[domain::timeline::TimelineEntry]) -> Vec<(chrono::NaiveDate, Clue)> {
    let events: Vec<domain::Event> = entries.iter().map(|e| e.event.clone()).collect();
    let mut batches: Vec<&[domain::Event]> = Vec::new();
    let mut start = 0;
    for i in 1..=events.len() {
        if i == events.len() || events[i].at != events[start].at {
            batches.push(&events[start..i]);
            start = i;
        }
    }
    let mut out: Vec<(chrono::NaiveDate, Clue)> = Vec::new();
    for batch in batches {
        let clue = match out.last() {
            None => Clue::from_receipt(batch).expect("receipt"),
            Some((_, before)) => {
                let mut c = before.clone();
                c.apply(batch).expect("applies");
                c
            }
        };
        out.push((stat_day(batch[0].at), clue));
    }
    out
}

/// The clue as it stood at the end of `day` (none before its receipt).
fn as_of(snaps: &[(chrono::NaiveDate, Clue)], day: chrono::NaiveDate) -> Option<&Clue> {
    snaps.iter().rev().find(|(d, _)| *d <= day).map(|(_, c)| c)
}

/// The terms of the on-time rate for a cell's clues and a period, counted straight from the
/// clues' histories: (met on time, met late, missed and ended unmet, open past the deadline at
/// the end).
fn rate_terms(histories: &[History], cell: &DivisionCode, p: Period) -> (i64, i64, i64, i64) {
    let (mut on_time, mut late, mut unmet, mut open_overdue) = (0, 0, 0, 0);
    let unmet_at = |c: Option<&Clue>| -> i64 {
        c.map_or(0, |c| {
            c.deadlines
                .iter()
                .filter(|d| d.missed_at.is_some())
                .filter(|d| match d.status {
                    DeadlineStatus::Met { .. } => false,
                    DeadlineStatus::Discharged { .. } => true,
                    DeadlineStatus::Open => !c.state.is_open(),
                })
                .count() as i64
        })
    };
    for (timeline, snaps) in histories {
        let last = &snaps.last().expect("received").1;
        if !cell.contains(&last.location.division) {
            continue;
        }
        for e in timeline {
            let day = stat_day(e.event.at);
            if day < p.from || day > p.to {
                continue;
            }
            if let domain::EventKind::DeadlineClosed {
                status: DeadlineStatus::Met { on_time: t, .. },
                ..
            } = e.event.kind
            {
                if t {
                    on_time += 1;
                } else {
                    late += 1;
                }
            }
        }
        let end = as_of(snaps, p.to);
        let before = p.from.pred_opt().and_then(|d| as_of(snaps, d));
        unmet += unmet_at(end) - unmet_at(before);
        if let Some(c) = end.filter(|c| c.state.is_open()) {
            open_overdue += c
                .deadlines
                .iter()
                .filter(|d| d.is_open() && d.missed_at.is_some())
                .count() as i64;
        }
    }
    (on_time, late, unmet, open_overdue)
}

/// The counters without their zeros (an `ADD` that brought a counter back to 0 leaves it there).
fn nonzero(c: DayCounters) -> DayCounters {
    c.into_iter()
        .map(|(d, m)| (d, m.into_iter().filter(|(_, n)| *n != 0).collect()))
        .filter(|(_, m): &(_, BTreeMap<String, i64>)| !m.is_empty())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_and_figures_equal_a_recount_from_the_timelines() {
    bounded(900, async {
        let env = Env::start().await;
        let mut rng = Rng(0x1233_6000_2026_0309);
        let mut clues = Vec::new();
        let start = at(3, 2);
        let (mut done, mut refused) = (0, 0);
        for step in 0..500 {
            let now = start + Duration::hours(5 * step as i64);
            match one_command(&env, &mut rng, &mut clues, step, now).await {
                Ok(()) => done += 1,
                Err(StoreError::Domain(_)) | Err(StoreError::MergeGroupFull(_)) => refused += 1,
                Err(e) => panic!("step {step}: {e:?}"),
            }
        }
        assert!(
            done > 250,
            "most commands apply ({done} done, {refused} refused)"
        );

        // Recount from every clue's (verified) timeline: each event's metrics on its day, and the
        // gauges moved by each command on its day.
        let mut expected: BTreeMap<(DivisionCode, chrono::NaiveDate, String), i64> =
            BTreeMap::new();
        let mut states = BTreeMap::new();
        let mut histories = Vec::new();
        for id in &clues {
            env.store.verify_timeline(id).await.expect("verifies");
            let clue = env.store.clue(id).await.expect("clue").clue;
            *states.entry(clue.state.code()).or_insert(0) += 1;
            let timeline = env.store.timeline(id).await.expect("timeline");
            let cells = territory_cells(&clue.location.division);
            for entry in &timeline {
                let day = stat_day(entry.event.at);
                for metric in metrics_of(&entry.event.kind, &clue.category) {
                    for cell in &cells {
                        *expected.entry((*cell, day, metric.code())).or_insert(0) += 1;
                    }
                }
            }
            let snaps = snapshots(&timeline);
            assert_eq!(
                snaps.last().map(|(_, c)| c),
                Some(&clue),
                "replays to the stored clue"
            );
            let mut before: Option<&Clue> = None;
            for (day, c) in &snaps {
                for (code, by) in gauge_deltas(before, c) {
                    for cell in &cells {
                        *expected.entry((*cell, *day, code.clone())).or_insert(0) += by;
                    }
                }
                before = Some(c);
            }
            histories.push((timeline, snaps));
        }
        expected.retain(|_, n| *n != 0);
        let mut totals: BTreeMap<String, i64> = BTreeMap::new();
        for ((cell, _, m), n) in &expected {
            if cell.as_str() == "330000" {
                *totals.entry(m.clone()).or_insert(0) += n;
            }
        }
        println!("{done} commands applied, {refused} refused; clues by state: {states:?}");
        println!("province totals: {totals:?}");
        assert!(
            states.len() >= 4,
            "the script reaches most states: {states:?}"
        );
        for m in [
            "judged.accept",
            "judged.out_of_scope",
            "judged.duplicate",
            "judged.need_material",
            "verified.no_violation",
            "verified.violation_found",
            "transferred.off_platform",
            "late.judgment",
            "on_time.judgment",
            "missed.judgment",
            "escalated",
        ] {
            assert!(
                totals.get(m).is_some_and(|n| *n > 0),
                "the workload reaches {m}"
            );
        }
        let first = start.date_naive();
        let last = (start + Duration::hours(5 * 500)).date_naive();
        let cells: BTreeSet<DivisionCode> = expected.keys().map(|(c, _, _)| *c).collect();
        assert_eq!(
            cells.len(),
            6,
            "three counties, two cities, the province: {cells:?}"
        );
        let days: BTreeSet<chrono::NaiveDate> = expected.keys().map(|(_, d, _)| *d).collect();
        let range = Period::new(first, last).expect("range");
        let mut periods = range.split(Granularity::Month).expect("months");
        periods.extend(range.split(Granularity::Quarter).expect("quarters"));
        periods.push(range);
        periods.extend(
            days.iter()
                .step_by(7)
                .map(|d| Period::unit(Granularity::Day, *d)),
        );
        let mut rates_seen = 0;
        for cell in &cells {
            // The whole period in one read…
            let stored = env
                .store
                .read_stats(cell, first, last)
                .await
                .expect("stats");
            let mut want: BTreeMap<String, i64> = BTreeMap::new();
            for ((_, _, m), n) in expected.iter().filter(|((c, _, _), _)| c == cell) {
                *want.entry(m.clone()).or_insert(0) += n;
            }
            want.retain(|_, n| *n != 0);
            let stored: BTreeMap<String, i64> =
                stored.into_iter().filter(|(_, n)| *n != 0).collect();
            assert_eq!(stored, want, "cell {cell}");
            // …and day by day, as the figures read them.
            let stored_days = env.store.stat_days(cell, last).await.expect("days");
            let mut want_days = DayCounters::new();
            for ((_, d, m), n) in expected.iter().filter(|((c, _, _), _)| c == cell) {
                want_days.entry(*d).or_default().insert(m.clone(), *n);
            }
            let stored_days: DayCounters = stored_days
                .into_iter()
                .map(|(d, c)| (d, c.into_iter().filter(|(_, n)| *n != 0).collect()))
                .filter(|(_, c): &(_, BTreeMap<String, i64>)| !c.is_empty())
                .collect();
            assert_eq!(stored_days, want_days, "cell {cell} day by day");
            // Each month item equals the sum of its day items (written in the same transactions).
            let stored_months = nonzero(env.store.stat_months(cell, last).await.expect("months"));
            assert_eq!(
                stored_months,
                nonzero(rollups(&want_days)),
                "cell {cell}: month items are their days' sums"
            );
            assert!(stored_months.len() >= 3, "the workload spans months");
            // The series the dashboard reads through the plan (month items and edge days)
            // equals the series of every day.
            for g in [Granularity::Month, Granularity::Quarter, Granularity::Day] {
                let planned = env
                    .store
                    .stat_counters(cell, &ReadPlan::for_series(range, g))
                    .await
                    .expect("planned");
                assert_eq!(
                    series(&planned, range, g).expect("series"),
                    series(&want_days, range, g).expect("series"),
                    "cell {cell} {g:?}"
                );
            }
            // Every figure of every period, and the on-time rate by its formula.
            for p in &periods {
                let figures = Figures::of(&stored_days, *p);
                assert_eq!(figures, Figures::of(&want_days, *p), "cell {cell} {p:?}");
                let planned = env
                    .store
                    .stat_counters(cell, &ReadPlan::for_period(*p))
                    .await
                    .expect("planned");
                assert_eq!(Figures::of(&planned, *p), figures, "planned {cell} {p:?}");
                let (on_time, late, unmet, open_overdue) = rate_terms(&histories, cell, *p);
                let total = &figures.deadlines_total;
                assert_eq!(
                    (
                        total.on_time,
                        total.late,
                        total.missed_unmet,
                        total.open_overdue
                    ),
                    (on_time, late, unmet, open_overdue),
                    "cell {cell} {p:?}"
                );
                let counted = on_time + late + unmet + open_overdue;
                assert_eq!(total.on_time_rate.counted, counted);
                if counted > 0 {
                    rates_seen += 1;
                    assert_eq!(
                        total.on_time_rate.rate,
                        Some(on_time as f64 / counted as f64),
                        "cell {cell} {p:?}"
                    );
                }
                let open_at_end = histories
                    .iter()
                    .filter_map(|(_, snaps)| as_of(snaps, p.to))
                    .filter(|c| cell.contains(&c.location.division) && c.state.is_open())
                    .collect::<Vec<_>>();
                assert_eq!(figures.open, open_at_end.len() as i64, "open {cell} {p:?}");
                assert_eq!(
                    figures.open_overdue,
                    open_at_end
                        .iter()
                        .filter(|c| c
                            .deadlines
                            .iter()
                            .any(|d| d.is_open() && d.missed_at.is_some()))
                        .count() as i64,
                    "open overdue {cell} {p:?}"
                );
            }
        }
        assert!(rates_seen > 20, "the rate is checked on many periods");
    })
    .await;
}

/// A stack whose counters were written before the month rollups: its month items are missing or
/// hold only the increments since the rollups were deployed. The backfill sets each to the sum of
/// its days, once; a second run writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backfill_makes_month_items_the_sums_of_their_days_once() {
    bounded(300, async {
        let env = Env::start().await;
        let a = env.receive("roll-a", 1, "330106", at(3, 30)).await;
        let b = env.receive("roll-b", 2, "330106", at(4, 2)).await;
        let h = as_officer(&handler("land-330106"));
        env.store
            .execute(
                &a.clue_id,
                Command::Judge {
                    judgment: JudgmentRequest::Accept,
                    note: None,
                },
                &h,
                at(4, 1),
                &key("roll-1"),
            )
            .await
            .expect("accept");
        // The old stack: no month items for March; April's holds only what came after the
        // deployment (here: half of a judgment's increments).
        let cells = [code("330106"), code("330100"), code("330000")];
        for cell in &cells {
            env.db
                .delete_item()
                .table_name(&env.table)
                .key(
                    "pk",
                    aws_sdk_dynamodb::types::AttributeValue::S(format!("STAT#{cell}")),
                )
                .key(
                    "sk",
                    aws_sdk_dynamodb::types::AttributeValue::S("MONTH#2026-03".into()),
                )
                .send()
                .await
                .expect("delete");
            env.db
                .put_item()
                .table_name(&env.table)
                .item(
                    "pk",
                    aws_sdk_dynamodb::types::AttributeValue::S(format!("STAT#{cell}")),
                )
                .item(
                    "sk",
                    aws_sdk_dynamodb::types::AttributeValue::S("MONTH#2026-04".into()),
                )
                .item(
                    "judged.accept",
                    aws_sdk_dynamodb::types::AttributeValue::N("1".into()),
                )
                .item(
                    "rollup_rev",
                    aws_sdk_dynamodb::types::AttributeValue::N("1".into()),
                )
                .send()
                .await
                .expect("put");
        }
        let end = at(12, 31).date_naive();
        let report = env.store.backfill_month_rollups().await.expect("backfill");
        assert_eq!(report.months_checked, 6, "two months in three cells");
        assert_eq!(report.months_written, 6);
        for cell in &cells {
            let days = env.store.stat_days(cell, end).await.expect("days");
            let months = env.store.stat_months(cell, end).await.expect("months");
            assert_eq!(nonzero(months), nonzero(rollups(&days)), "{cell}");
        }
        let again = env.store.backfill_month_rollups().await.expect("again");
        assert_eq!(again.months_checked, 6);
        assert_eq!(again.months_written, 0, "idempotent");
        // Commands after the backfill keep the months equal to their days.
        env.store
            .execute(
                &b.clue_id,
                Command::Judge {
                    judgment: JudgmentRequest::Accept,
                    note: None,
                },
                &h,
                at(4, 3),
                &key("roll-2"),
            )
            .await
            .expect("accept");
        let months = env.store.stat_months(&cells[0], end).await.expect("months");
        let april = at(4, 1).date_naive();
        assert_eq!(months[&april].get("judged.accept"), Some(&2));
        assert_eq!(months[&april].get("received"), Some(&1));
        assert_eq!(
            env.store
                .backfill_month_rollups()
                .await
                .expect("third")
                .months_written,
            0
        );
    })
    .await;
}
