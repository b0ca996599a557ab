//! Every transition the regulation allows, and the ones it refuses: the shared fixtures (a
//! world of bureaus, actors, a [`ClueBuilder`]) here, one file per part of the workflow.

use std::collections::BTreeSet;

use chrono::{NaiveDate, TimeZone, Utc};

use super::*;
use crate::bureau::JurisdictionError;
use crate::bureau::tests::{code, directory, id};
use crate::clue::ClosedOutcome;
use crate::deadline::{DueOn, ReporterDeadline};
use crate::divisions::Divisions;
use crate::event::{Channel, Gps};
use crate::scope::{Category, CategoryChoice};
use crate::text::{Address, Facts, Subject};

/// 10:00 Asia/Shanghai on a date (02:00 UTC).
fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 2, 0, 0)
        .single()
        .expect("time")
}

/// The end of a Shanghai day, as deadlines are.
fn end_of(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 15, 59, 59)
        .single()
        .expect("time")
        + chrono::Duration::milliseconds(999)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

struct World {
    bureaus: BureauDirectory,
}

impl World {
    fn new() -> Self {
        Self {
            bureaus: directory(),
        }
    }

    fn rules(&self) -> Rules<'_> {
        Rules {
            calendar: WorkingCalendar::embedded(),
            bureaus: &self.bureaus,
            divisions: Divisions::embedded(),
        }
    }
}

fn reporter(n: u8) -> ReporterKey {
    ReporterKey::parse(&format!("{n:02x}").repeat(32)).expect("key")
}

fn as_reporter(n: u8) -> Actor {
    Actor::Reporter {
        reporter: reporter(n),
    }
}

fn officer(name: &str, bureau: &str, roles: &[Role]) -> Actor {
    Actor::Officer {
        officer: Officer {
            id: crate::ids::OfficerId::parse(name).expect("officer id"),
            bureau: id(bureau),
            roles: roles.iter().copied().collect::<BTreeSet<_>>(),
        },
    }
}

fn xihu() -> Actor {
    officer("xihu-handler", "land-330106", &[Role::Handler])
}

fn scope_for(division: &str) -> ScopeVersion {
    let city = code(division).city().expect("city");
    ScopeVersion::default_for(city, at(2024, 1, 1))
}

fn submission(clue: &str, n: u8, division: &str) -> ReceiveClue {
    ReceiveClue {
        clue_id: ClueId::parse(clue).expect("id"),
        clue_no: ClueNo::new(code(division), date(2026, 3, 9), 1),
        reporter: reporter(n),
        report: crate::report::Report {
            location: Location {
                division: code(division),
                address: Address::parse("留下街道某村东侧农田").expect("address"),
                gps: Gps::new(30.25, 120.05),
            },
            subject: Some(Subject::parse("某建材公司").expect("subject")),
            category: CategoryChoice::Annex(Category::FarmlandDestruction),
            facts: Facts::parse("在基本农田上堆放建材并硬化地面。").expect("facts"),
            evidence_left_out: Vec::new(),
            notice_version: scope_for(division).reporting_notice().version_id,
            consent: true,
            channel: Channel::H5,
            resubmission_of: None,
        },
        evidence: Vec::new(),
        real_name: false,
    }
}

/// A clue as a test needs it, built by the domain's own decisions: by default reporter 1's, in
/// 西湖区 (330106), received on 2026-03-09 ([`World::clue`]).
struct ClueBuilder<'w> {
    world: &'w World,
    id: &'w str,
    reporter: u8,
    division: &'w str,
    when: DateTime<Utc>,
}

impl World {
    /// Clue `id`, with the defaults of [`ClueBuilder`].
    fn clue<'w>(&'w self, id: &'w str) -> ClueBuilder<'w> {
        ClueBuilder {
            world: self,
            id,
            reporter: 1,
            division: "330106",
            when: at(2026, 3, 9),
        }
    }
}

impl<'w> ClueBuilder<'w> {
    /// Reported by reporter `n`.
    fn by(self, n: u8) -> Self {
        Self {
            reporter: n,
            ..self
        }
    }

    /// Located in county-level `division`.
    fn in_division(self, division: &'w str) -> Self {
        Self { division, ..self }
    }

    /// Received at `when`.
    fn on(self, when: DateTime<Utc>) -> Self {
        Self { when, ..self }
    }

    /// The clue as received.
    fn received(self) -> Clue {
        let events = receive(
            submission(self.id, self.reporter, self.division),
            &scope_for(self.division),
            &as_reporter(self.reporter),
            self.when,
            &self.world.rules(),
        )
        .expect("receipt");
        Clue::from_receipt(&events).expect("clue")
    }

    /// The clue as received, then accepted by 西湖区's handler the next day (a 西湖区 clue).
    fn accepted(self) -> Clue {
        let (world, when) = (self.world, self.when);
        let mut c = self.received();
        run(
            world,
            &mut c,
            judge(JudgmentRequest::Accept),
            &xihu(),
            when + chrono::Duration::days(1),
        )
        .expect("accept");
        c
    }
}

/// Decides and applies; returns the events.
fn run(
    w: &World,
    clue: &mut Clue,
    command: Command,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<Event>, DomainError> {
    let events = clue.decide(&command, actor, now, &w.rules())?;
    clue.apply(&events).expect("apply");
    Ok(events)
}

fn notices(events: &[Event]) -> Vec<(ClueId, String)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::NoticeOwed { notice } => Some((e.clue.clone(), notice.text.clone())),
            _ => None,
        })
        .collect()
}

fn judge(judgment: JudgmentRequest) -> Command {
    Command::Judge {
        judgment,
        note: None,
    }
}

fn reason(s: &str) -> Reason {
    Reason::parse(s).expect("reason")
}

fn escalate() -> Command {
    Command::Escalate {
        reason: reason("跨行政区域"),
    }
}

mod conversation;
mod escalation;
mod judgment;
mod later_steps;
mod merging;
mod receipt;
mod supervision;
mod transfer;
mod verification;
