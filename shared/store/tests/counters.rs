//! Statistics counters equal a recount from the timelines after a scripted random sequence of
//! commands across three counties.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use domain::command::JudgmentRequest;
use domain::deadline::DeadlineKind;
use domain::event::{DeliveryStatus, Missing, VerificationResult};
use domain::stats::{metrics_of, stat_day, territory_cells};
use domain::text::{MessageText, Reason};
use domain::{Actor, ClueId, Command, DivisionCode, Role};
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
    let (command, actor) = match rng.below(10) {
        0 | 1 => {
            let judgment = match rng.below(4) {
                0 | 1 => JudgmentRequest::Accept,
                2 => JudgmentRequest::OutOfScope {
                    exclusion: None,
                    department: None,
                },
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
        8 => (
            Command::RecordMissed {
                kind: DeadlineKind::Judgment,
            },
            Actor::System,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_equal_a_recount_from_the_timelines() {
    bounded(400, async {
        let env = Env::start().await;
        let mut rng = Rng(0x1233_6000_2026_0309);
        let mut clues = Vec::new();
        let start = at(3, 2);
        let (mut done, mut refused) = (0, 0);
        for step in 0..200 {
            let now = start + Duration::hours(3 * step as i64);
            match one_command(&env, &mut rng, &mut clues, step, now).await {
                Ok(()) => done += 1,
                Err(StoreError::Domain(_)) | Err(StoreError::MergeGroupFull(_)) => refused += 1,
                Err(e) => panic!("step {step}: {e:?}"),
            }
        }
        assert!(
            done > 100,
            "most commands apply ({done} done, {refused} refused)"
        );

        // Recount from every clue's (verified) timeline.
        let mut expected: BTreeMap<(DivisionCode, chrono::NaiveDate, String), i64> =
            BTreeMap::new();
        let mut states = BTreeMap::new();
        for id in &clues {
            env.store.verify_timeline(id).await.expect("verifies");
            let clue = env.store.clue(id).await.expect("clue").clue;
            *states.entry(clue.state.code()).or_insert(0) += 1;
            for entry in env.store.timeline(id).await.expect("timeline") {
                let day = stat_day(entry.event.at);
                for metric in metrics_of(&entry.event.kind, &clue.category) {
                    for cell in territory_cells(&clue.location.division) {
                        *expected.entry((cell, day, metric.code())).or_insert(0) += 1;
                    }
                }
            }
        }
        println!("{done} commands applied, {refused} refused; clues by state: {states:?}");
        assert!(
            states.len() >= 4,
            "the script reaches most states: {states:?}"
        );
        let first = start.date_naive();
        let last = (start + Duration::days(30)).date_naive();
        let cells: BTreeSet<DivisionCode> = expected.keys().map(|(c, _, _)| *c).collect();
        assert_eq!(
            cells.len(),
            6,
            "three counties, two cities, the province: {cells:?}"
        );
        let days: BTreeSet<chrono::NaiveDate> = expected.keys().map(|(_, d, _)| *d).collect();
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
            assert_eq!(stored, want, "cell {cell}");
            // …and day by day.
            for day in &days {
                let stored = env.store.read_stats(cell, *day, *day).await.expect("stats");
                let want: BTreeMap<String, i64> = expected
                    .iter()
                    .filter(|((c, d, _), _)| c == cell && d == day)
                    .map(|((_, _, m), n)| (m.clone(), *n))
                    .collect();
                assert_eq!(stored, want, "cell {cell} on {day}");
            }
        }
    })
    .await;
}
