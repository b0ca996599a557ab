//! `demo-clues`: fills a freshly deployed local stack with about a year of demo clues across the
//! demo province (Hangzhou, Ningbo, Wenzhou), each received and handled through the store's real
//! commands at past instants, with the real deadline sweep run at the end of every day, so the
//! statistics, the inboxes and the overdue lists have something to show. Every counter comes from
//! those commands; nothing is written around them. One county (余杭区, 330110) falls behind: many
//! of its recent clues stay unjudged past the deadline.
//!
//! ```text
//! demo-clues --stack .dev/stack.json [--days 330]
//! ```
//!
//! The sequence is fixed (a seeded generator), so every run tells the same story relative to
//! today. Identities are made up (`oDemo…` openids); the store's reporter-key secret here is a
//! local demo value, not the stack's.

use std::collections::{BTreeMap, HashMap};

use anyhow::{Context, Result, bail};
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use domain::calendar::{shanghai_date, shanghai_instant};
use domain::command::JudgmentRequest;
use domain::event::{Channel, DeliveryStatus, Location, Missing, VerificationResult};
use domain::scope::{Category, CategoryChoice};
use domain::text::{Address, DepartmentName, Facts, Reason, Subject};
use domain::{
    Actor, BureauId, ClueId, ClueSummary, Command, DivisionCode, Officer, OfficerId, Role,
};
use outbox::MemoryNoticeQueue;
use store::roles::*;
use store::{
    DynamoClueStore, IdempotencyKey, ReporterIdentity, StoreConfig, StoreError, Submission,
};

/// A local demo value (the reporter keys of demo clues are not the intake's).
const DEMO_REPORTER_SECRET: &[u8] = b"demo-clues-reporter-key-secret-local-only";

/// The demo counties and how many reports each gets (relative).
const COUNTIES: [(&str, u64); 7] = [
    ("330102", 3),
    ("330106", 3),
    ("330110", 5),
    ("330203", 3),
    ("330205", 2),
    ("330302", 3),
    ("330303", 2),
];

/// The county that falls behind.
const LAGGING: &str = "330110";

/// The county the browser tests file into: its demo clues are all judged, so a new clue shows on
/// the first page of its inbox.
const KEPT_CLEAR: &str = "330106";

const ADDRESSES: [&str; 6] = [
    "某村东侧基本农田",
    "工业园区北侧空地",
    "某街道河道旁林地",
    "某村集体土地西侧",
    "矿山公园南侧山体",
    "城郊结合部农田",
];
const SUBJECTS: [&str; 4] = ["某建材公司", "某村民", "某物流公司", "某石料厂"];
const FACTS: [&str; 5] = [
    "在农田上堆放建材并硬化地面，面积约两亩。",
    "未经批准建设厂房，已封顶。",
    "夜间在山体违法开采石料，运输车辆频繁进出。",
    "占用耕地建设仓库，正在施工。",
    "在林地内挖土取土，破坏植被。",
];

/// xorshift64*: a fixed, dependency-free sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// One planned step of a clue's handling.
#[derive(Debug, Clone)]
enum Step {
    Judge(Outcome),
    Escalate,
    Designate(BureauId),
    Verify {
        result: VerificationResult,
        ended_days_ago: i64,
    },
    TransferOff,
}

#[derive(Debug, Clone)]
enum Outcome {
    Accept,
    OutOfScope,
    NeedMaterial,
    Duplicate(Box<ClueSummary>),
}

struct Demo {
    store: DynamoClueStore,
    rng: Rng,
    /// (instant, sequence) → (clue, step), run in order.
    plan: BTreeMap<(DateTime<Utc>, u64), (ClueId, Step)>,
    seq: u64,
    /// Each reporter's latest clue, for duplicates.
    last_of_reporter: HashMap<u64, ClueSummary>,
    received: u64,
    applied: u64,
    refused: u64,
}

/// The acting officer of a bureau (a handler and leader of it).
fn officer_of(bureau: &BureauId) -> Result<Actor> {
    let id = OfficerId::parse(&format!("demo-{}", bureau.as_str()))
        .map_err(|e| anyhow::anyhow!("officer id: {e:?}"))?;
    Ok(Actor::Officer {
        officer: Officer {
            id,
            bureau: bureau.clone(),
            roles: [Role::Handler, Role::Leader].into_iter().collect(),
        },
    })
}

impl Demo {
    fn schedule(&mut self, at: DateTime<Utc>, clue: &ClueId, step: Step) {
        self.seq += 1;
        self.plan.insert((at, self.seq), (clue.clone(), step));
    }

    fn key(&mut self, what: &str) -> Result<IdempotencyKey> {
        self.seq += 1;
        IdempotencyKey::parse(&format!("demo-{what}-{}", self.seq))
            .map_err(|e| anyhow::anyhow!("idempotency key: {e:?}"))
    }

    /// Receives one clue at `at` in `county` and plans its handling.
    async fn receive(
        &mut self,
        n: u64,
        county: &str,
        at: DateTime<Utc>,
        today: NaiveDate,
    ) -> Result<()> {
        let division = DivisionCode::parse(county).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let city = division.city().context("a county has a city")?;
        let history = self.store.scope_history(city).await?;
        let id = ClueId::parse(&format!("demo-{n:04}")).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let text = |r: &mut Rng, items: &[&str]| (*r.pick(items)).to_owned();
        let address = text(&mut self.rng, &ADDRESSES);
        let subject = text(&mut self.rng, &SUBJECTS);
        let facts = text(&mut self.rng, &FACTS);
        let category = *self.rng.pick(&Category::ALL);
        let channel = if self.rng.below(3) == 0 {
            Channel::Chat
        } else {
            Channel::H5
        };
        let sub = Submission {
            clue_id: id.clone(),
            report: domain::report::Report {
                location: Location {
                    division,
                    address: Address::parse(&address).map_err(|e| anyhow::anyhow!("{e:?}"))?,
                    gps: None,
                },
                subject: Some(Subject::parse(&subject).map_err(|e| anyhow::anyhow!("{e:?}"))?),
                category: CategoryChoice::Annex(category),
                facts: Facts::parse(&facts).map_err(|e| anyhow::anyhow!("{e:?}"))?,
                evidence_left_out: Vec::new(),
                notice_version: history.in_force(at).reporting_notice().version_id,
                consent: true,
                channel,
                resubmission_of: None,
            },
            evidence: Vec::new(),
        };
        let reporter = 1 + self.rng.below(40);
        let identity = ReporterIdentity {
            openid: format!("oDemo{reporter:04}reporterOpenid"),
            name: None,
            phone: None,
            id_number: None,
        };
        let key = self.key("receive")?;
        self.store.receive(sub, identity, at, &key).await?;
        self.received += 1;
        self.deliver(&id, at).await?;
        let stored = self.store.clue(&id).await?.clue;
        let earlier = self.last_of_reporter.insert(reporter, stored.summary());
        self.plan_handling(&id, &stored.handler, county, at, today, earlier);
        Ok(())
    }

    fn plan_handling(
        &mut self,
        id: &ClueId,
        handler: &BureauId,
        county: &str,
        at: DateTime<Utc>,
        today: NaiveDate,
        earlier: Option<ClueSummary>,
    ) {
        let age = (today - shanghai_date(at)).num_days();
        let r = self.rng.below(100);
        if county == KEPT_CLEAR && age < 12 {
            self.schedule(at + Duration::hours(2), id, Step::Judge(Outcome::Accept));
            return;
        }
        if (county == LAGGING && age <= 80 && r < 55) || (county != KEPT_CLEAR && age <= 4) {
            return; // not judged yet: the lagging county's backlog, or simply fresh
        }
        let mut t = at;
        if r >= 94 && handler.as_str() != "land-330200" {
            // Cross-region: the county's leader escalates, the city designates the county back.
            t += Duration::days(1);
            self.schedule(t, id, Step::Escalate);
            t += Duration::days(2);
            self.schedule(t, id, Step::Designate(handler.clone()));
        }
        let late = if county == LAGGING { 35 } else { 12 };
        t += if self.rng.below(100) < late {
            Duration::days(14 + self.rng.below(12) as i64)
        } else {
            Duration::hours(20 + self.rng.below(110) as i64)
        };
        let outcome = match self.rng.below(10) {
            0..=4 => Outcome::Accept,
            5 | 6 => Outcome::OutOfScope,
            7 | 8 => Outcome::NeedMaterial,
            _ => match earlier {
                Some(e) => Outcome::Duplicate(Box::new(e)),
                None => Outcome::Accept,
            },
        };
        let accepted = matches!(outcome, Outcome::Accept);
        self.schedule(t, id, Step::Judge(outcome));
        if !accepted {
            return;
        }
        if self.rng.below(10) == 0 {
            self.schedule(t + Duration::days(3), id, Step::TransferOff);
            return;
        }
        let verify_at = t + Duration::days(15 + self.rng.below(40) as i64);
        let ended_days_ago = if self.rng.below(8) == 0 {
            9 + self.rng.below(5) as i64
        } else {
            self.rng.below(3) as i64
        };
        let result = if self.rng.below(3) == 0 {
            VerificationResult::NoViolation
        } else {
            VerificationResult::ViolationFound
        };
        self.schedule(
            verify_at,
            id,
            Step::Verify {
                result,
                ended_days_ago,
            },
        );
    }

    /// Runs one planned step through the store, as the officer API would.
    async fn run(&mut self, at: DateTime<Utc>, id: &ClueId, step: Step) -> Result<()> {
        let clue = self.store.clue(id).await?.clue;
        let officer = officer_of(&clue.handler)?;
        let reason = |s: &str| Reason::parse(s).map_err(|e| anyhow::anyhow!("{e:?}"));
        let command = match step {
            Step::Judge(outcome) => Command::Judge {
                judgment: match outcome {
                    Outcome::Accept => JudgmentRequest::Accept,
                    Outcome::OutOfScope => JudgmentRequest::OutOfScope {
                        exclusion: None,
                        department: None,
                    },
                    Outcome::NeedMaterial => JudgmentRequest::NeedMaterial {
                        missing: vec![Missing::Facts],
                    },
                    Outcome::Duplicate(earlier) => JudgmentRequest::Duplicate { earlier },
                },
                note: None,
            },
            Step::Escalate => Command::Escalate {
                reason: reason("位于两区交界，管辖不明")?,
            },
            Step::Designate(to) => Command::Designate { to, reason: None },
            Step::Verify {
                result,
                ended_days_ago,
            } => Command::RecordVerification {
                result,
                ended_on: (shanghai_date(at) - Duration::days(ended_days_ago))
                    .max(shanghai_date(clue.received_at)),
                note: None,
            },
            Step::TransferOff => Command::Transfer {
                transfer: domain::TransferRequest::OffPlatform {
                    department: DepartmentName::parse("综合行政执法局")
                        .map_err(|e| anyhow::anyhow!("{e:?}"))?,
                    handed_over_on: shanghai_date(at),
                    note: None,
                },
            },
        };
        let key = self.key("act")?;
        match self.store.execute(id, command, &officer, at, &key).await {
            Ok(_) => {
                self.applied += 1;
                self.deliver(id, at).await
            }
            Err(StoreError::Domain(_)) => {
                self.refused += 1;
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Records the clue's queued notices as sent, as `notify` does once WeChat accepts them (the
    /// demo reporters do not exist at the simulator).
    async fn deliver(&mut self, id: &ClueId, at: DateTime<Utc>) -> Result<()> {
        let clue = self.store.clue(id).await?.clue;
        for n in clue
            .notices
            .iter()
            .filter(|n| matches!(n.delivery, DeliveryStatus::Queued))
        {
            let key = self.key("sent")?;
            let command = Command::RecordDelivery {
                notice: n.record.id.clone(),
                status: DeliveryStatus::Sent {
                    msgid: format!("demo-{}", self.seq),
                    possible_duplicate: false,
                },
            };
            self.store
                .execute(id, command, &Actor::System, at + Duration::minutes(1), &key)
                .await?;
        }
        Ok(())
    }
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let Some(stack) = arg(&args, "--stack") else {
        bail!("usage: demo-clues --stack .dev/stack.json [--days 330]");
    };
    let days: i64 = arg(&args, "--days").map_or(Ok(330), |d| d.parse())?;
    let stack: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stack).context("reading the stack")?)?;
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned).context("stack field");
    let endpoint = text(&stack["endpoint"])?;
    let region = text(&stack["region"])?;
    let table = text(&stack["resources"]["Table"]["ref"])?;
    let pii_key = text(&stack["resources"]["PiiKey"]["ref"])?;
    let creds = Credentials::new("test", "test", None, None, "demo-clues");
    let db = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&endpoint)
            .region(Region::new(region.clone()))
            .credentials_provider(creds.clone())
            .build(),
    );
    let kms = aws_sdk_kms::Client::from_conf(
        aws_sdk_kms::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(&endpoint)
            .region(Region::new(region))
            .credentials_provider(creds)
            .build(),
    );
    let store = DynamoClueStore::new(
        db,
        kms,
        StoreConfig::new(&table, &pii_key, DEMO_REPORTER_SECRET.to_vec()),
    )?;
    let mut demo = Demo {
        store,
        rng: Rng(0x1233_6de0_2026_0001),
        plan: BTreeMap::new(),
        seq: 0,
        last_of_reporter: HashMap::new(),
        received: 0,
        applied: 0,
        refused: 0,
    };
    let started = std::time::Instant::now();
    let queue = MemoryNoticeQueue::default();
    let now = Utc::now();
    let today = shanghai_date(now);
    let total_weight: u64 = COUNTIES.iter().map(|(_, w)| w).sum();
    let mut n = 0u64;
    let mut missed = 0u32;
    let at_time = |day: NaiveDate, h: u32, m: u32| {
        shanghai_instant(
            day,
            NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN),
        )
    };
    for offset in (0..=days).rev() {
        let day = today - Duration::days(offset);
        // Reports of the day: none to two (about a hundred in all, so `infra/dev up` stays
        // quick).
        let reports = match demo.rng.below(20) {
            0..=14 => 0,
            15..=18 => 1,
            _ => 2,
        };
        // The lagging county's recent surge, on about a third of the last 90 days.
        let surge = offset <= 90 && demo.rng.below(3) == 0;
        for i in 0..reports + u32::from(surge) {
            let at = at_time(day, 9 + 3 * i, 10 + 7 * i);
            if at >= now {
                continue;
            }
            let mut w = demo.rng.below(total_weight);
            let county = if surge && i == reports {
                LAGGING
            } else {
                COUNTIES
                    .iter()
                    .find(|(_, weight)| {
                        let hit = w < *weight;
                        w = w.saturating_sub(*weight);
                        hit
                    })
                    .map_or(COUNTIES[0].0, |(c, _)| *c)
            };
            n += 1;
            demo.receive(n, county, at, today).await?;
        }
        // Every planned step due by the end of the day (and before now), in order.
        let end = at_time(day, 23, 0).min(now);
        while let Some(entry) = demo.plan.first_entry() {
            if entry.key().0 > end {
                break;
            }
            let ((at, _), (id, step)) = entry.remove_entry();
            demo.run(at, &id, step).await?;
        }
        // The sweep, on Sunday nights and the last night (missed deadlines recorded at most a
        // week late; the overdue entries for the upper bureau).
        let sweep_at = at_time(day, 23, 30);
        let sweeps = day.weekday() == chrono::Weekday::Sun || offset <= 1;
        if sweeps && sweep_at < now {
            let report = deadline_sweep::sweep_deadlines(&demo.store, &queue, sweep_at)
                .await
                .map_err(|e| anyhow::anyhow!("sweep: {e}"))?;
            missed += report.missed;
        }
    }
    println!(
        "demo clues: {} received in {:.0?}, {} handling steps applied ({} refused by the rules), {} deadlines missed, over the {} days up to {today}",
        demo.received,
        started.elapsed(),
        demo.applied,
        demo.refused,
        missed,
        days
    );
    Ok(())
}
