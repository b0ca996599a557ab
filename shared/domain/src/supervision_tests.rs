//! 督办: who supervises, answers and closes; the supervision deadline and its statistics; the
//! supervision ends with the clue.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::*;
use crate::actor::Officer;
use crate::bureau::BureauDirectory;
use crate::bureau::tests::{code, directory, id};
use crate::calendar::WorkingCalendar;
use crate::command::{Command, JudgmentRequest, ReceiveClue, receive};
use crate::divisions::Divisions;
use crate::event::{Channel, Gps, Location, Missing};
use crate::ids::{ClueId, ClueNo, ReporterKey};
use crate::scope::{Category, CategoryChoice, ScopeVersion};
use crate::stats::{Metric, metrics_of};
use crate::text::{Address, Facts};

/// 10:00 Asia/Shanghai on a date.
fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 2, 0, 0)
        .single()
        .expect("time")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn rules(bureaus: &BureauDirectory) -> Rules<'_> {
    Rules {
        calendar: WorkingCalendar::embedded(),
        bureaus,
        divisions: Divisions::embedded(),
    }
}

fn officer(name: &str, bureau: &str, roles: &[Role]) -> Actor {
    Actor::Officer {
        officer: Officer {
            id: OfficerId::parse(name).expect("officer id"),
            bureau: id(bureau),
            roles: roles.iter().copied().collect::<BTreeSet<_>>(),
        },
    }
}

fn xihu() -> Actor {
    officer("xihu-handler", "land-330106", &[Role::Handler])
}

fn city() -> Actor {
    officer("hz-sup", "land-330100", &[Role::Supervisor])
}

fn province() -> Actor {
    officer("zj-sup", "land-330000", &[Role::Supervisor])
}

/// A clue in 西湖区 received on Monday 2026-03-09.
fn received(bureaus: &BureauDirectory) -> Clue {
    let reporter = ReporterKey::parse(&"01".repeat(32)).expect("key");
    let scope = ScopeVersion::default_for(code("330100"), at(2024, 1, 1));
    let events = receive(
        ReceiveClue {
            clue_id: ClueId::parse("c1").expect("id"),
            clue_no: ClueNo::new(code("330106"), date(2026, 3, 9), 1),
            reporter: reporter.clone(),
            report: crate::report::Report {
                location: Location {
                    division: code("330106"),
                    address: Address::parse("留下街道某村东侧农田").expect("address"),
                    gps: Gps::new(30.25, 120.05),
                },
                subject: None,
                category: CategoryChoice::Annex(Category::FarmlandDestruction),
                facts: Facts::parse("在基本农田上堆放建材并硬化地面。").expect("facts"),
                evidence_left_out: Vec::new(),
                notice_version: scope.reporting_notice().version_id,
                consent: true,
                channel: Channel::H5,
                resubmission_of: None,
            },
            evidence: Vec::new(),
            real_name: false,
        },
        &scope,
        &Actor::Reporter { reporter },
        at(2026, 3, 9),
        &rules(bureaus),
    )
    .expect("receipt");
    Clue::from_receipt(&events).expect("clue")
}

fn run(
    bureaus: &BureauDirectory,
    clue: &mut Clue,
    command: &Command,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<Event>, DomainError> {
    let events = clue.decide(command, actor, now, &rules(bureaus))?;
    clue.apply(&events).expect("apply");
    Ok(events)
}

/// The clue, supervised by the city on 2026-03-10 until `due_on`.
fn supervised(bureaus: &BureauDirectory, due_on: NaiveDate) -> Clue {
    let mut clue = received(bureaus);
    run(
        bureaus,
        &mut clue,
        &supervise(due_on),
        &city(),
        at(2026, 3, 10),
    )
    .expect("supervise");
    clue
}

fn supervise(due_on: NaiveDate) -> Command {
    Command::Supervise {
        due_on,
        note: Reason::parse("群众反映强烈，请于期限内报告进展").expect("note"),
    }
}

fn answer(text: &str) -> Command {
    Command::AnswerSupervision {
        text: MessageText::parse(text).expect("text"),
    }
}

fn codes(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(|e| e.kind.code()).collect()
}

#[test]
fn supervising_opens_a_deadline_on_the_set_day_reminded_a_working_day_before() {
    let b = directory();
    let mut clue = received(&b);
    // Due Monday 2026-03-23: the working day before is Friday 03-20.
    let events = run(
        &b,
        &mut clue,
        &supervise(date(2026, 3, 23)),
        &city(),
        at(2026, 3, 10),
    )
    .expect("supervise");
    assert_eq!(codes(&events), ["supervision_opened", "deadline_opened"]);
    let d = clue
        .open_deadline(DeadlineKind::Supervision)
        .expect("supervision deadline");
    assert_eq!(
        d.bureau,
        id("land-330106"),
        "the handling bureau owes the answer"
    );
    let end = Utc
        .with_ymd_and_hms(2026, 3, 23, 15, 59, 59)
        .single()
        .expect("t")
        + chrono::Duration::milliseconds(999);
    assert_eq!(d.due, Some(end));
    let friday = Utc.with_ymd_and_hms(2026, 3, 19, 16, 0, 0).single();
    assert_eq!(d.remind_at, friday);
    let open = clue.open_supervision().expect("open");
    assert_eq!(
        (open.by.as_str(), open.opened_at),
        ("land-330100", at(2026, 3, 10))
    );
    // One at a time, even from another bureau above.
    assert_eq!(
        clue.decide(
            &supervise(date(2026, 3, 25)),
            &province(),
            at(2026, 3, 11),
            &rules(&b)
        ),
        Err(DomainError::AlreadySupervised(id("land-330100")))
    );
}

#[test]
fn the_handling_bureau_answers_several_times_and_the_first_answer_meets_the_deadline() {
    let b = directory();
    let mut clue = supervised(&b, date(2026, 3, 23));
    // Neither the supervising bureau nor a sibling county answers.
    let sibling = officer("yh", "land-330110", &[Role::Handler]);
    for actor in [city(), sibling] {
        assert_eq!(
            clue.decide(&answer("已现场核查"), &actor, at(2026, 3, 11), &rules(&b)),
            Err(DomainError::NotHandlingBureau)
        );
    }
    let first = run(
        &b,
        &mut clue,
        &answer("已现场核查，正在调查"),
        &xihu(),
        at(2026, 3, 12),
    )
    .expect("answer");
    assert_eq!(codes(&first), ["supervision_answered", "deadline_closed"]);
    assert_eq!(
        metrics_of(&first[1].kind, &clue.category),
        [Metric::OnTime("supervision".into())]
    );
    let second =
        run(&b, &mut clue, &answer("已立案"), &xihu(), at(2026, 3, 30)).expect("second answer");
    assert_eq!(
        codes(&second),
        ["supervision_answered"],
        "the deadline was met once"
    );
    let open = clue.open_supervision().expect("still open");
    let texts: Vec<&str> = open.answers.iter().map(|a| a.text.as_str()).collect();
    assert_eq!(texts, ["已现场核查，正在调查", "已立案"]);
    assert_eq!(open.answers[0].officer.as_str(), "xihu-handler");
    assert!(clue.open_deadline(DeadlineKind::Supervision).is_none());
}

#[test]
fn an_answer_after_the_due_day_is_late_and_a_miss_counts_once() {
    let b = directory();
    let mut clue = supervised(&b, date(2026, 3, 13));
    let missed = run(
        &b,
        &mut clue,
        &Command::RecordMissed {
            kind: DeadlineKind::Supervision,
        },
        &Actor::System,
        at(2026, 3, 14),
    )
    .expect("missed");
    assert_eq!(
        metrics_of(&missed[0].kind, &clue.category),
        [Metric::Missed("supervision".into())]
    );
    assert!(
        clue.decide(
            &Command::RecordMissed {
                kind: DeadlineKind::Supervision
            },
            &Actor::System,
            at(2026, 3, 15),
            &rules(&b)
        )
        .is_err(),
        "recorded once"
    );
    let late = run(&b, &mut clue, &answer("已整改"), &xihu(), at(2026, 3, 16)).expect("answer");
    assert_eq!(
        metrics_of(&late[1].kind, &clue.category),
        [Metric::Late("supervision".into())]
    );
}

#[test]
fn only_the_supervising_bureau_closes_and_then_a_new_supervision_may_open() {
    let b = directory();
    let mut clue = supervised(&b, date(2026, 3, 23));
    let close = Command::CloseSupervision { note: None };
    for actor in [
        province(),
        xihu(),
        officer("hz-h", "land-330100", &[Role::Handler]),
    ] {
        assert_eq!(
            clue.decide(&close, &actor, at(2026, 3, 11), &rules(&b)),
            Err(DomainError::NotSupervisor)
        );
    }
    let events = run(&b, &mut clue, &close, &city(), at(2026, 3, 11)).expect("close");
    assert_eq!(codes(&events), ["deadline_closed", "supervision_closed"]);
    assert!(matches!(
        clue.deadlines.last().map(|d| d.status),
        Some(DeadlineStatus::Discharged { .. })
    ));
    assert_eq!(clue.supervisions[0].end, Some(SupervisionEnd::Closed));
    assert_eq!(
        clue.decide(&answer("进展"), &xihu(), at(2026, 3, 12), &rules(&b)),
        Err(DomainError::NotSupervised)
    );
    assert_eq!(
        clue.decide(&close, &city(), at(2026, 3, 12), &rules(&b)),
        Err(DomainError::NotSupervised)
    );
    run(
        &b,
        &mut clue,
        &supervise(date(2026, 3, 27)),
        &province(),
        at(2026, 3, 12),
    )
    .expect("the province supervises next");
    assert_eq!(clue.supervisions.len(), 2);
}

#[test]
fn closing_the_clue_ends_its_supervision() {
    let b = directory();
    let mut clue = supervised(&b, date(2026, 3, 23));
    let judge = Command::Judge {
        judgment: JudgmentRequest::NeedMaterial {
            missing: vec![Missing::Facts],
        },
        note: None,
    };
    let events = run(&b, &mut clue, &judge, &xihu(), at(2026, 3, 11)).expect("judge");
    let tail: Vec<_> = codes(&events).into_iter().rev().take(2).collect();
    assert_eq!(tail, ["supervision_closed", "deadline_closed"]);
    let ended = &clue.supervisions[0];
    assert_eq!(ended.end, Some(SupervisionEnd::ClueClosed));
    assert!(clue.open_deadline(DeadlineKind::Supervision).is_none());
    // Accepting keeps the clue open: a supervision of an accepted clue goes on.
    let mut open = supervised(&b, date(2026, 3, 23));
    let accept = Command::Judge {
        judgment: JudgmentRequest::Accept,
        note: None,
    };
    run(&b, &mut open, &accept, &xihu(), at(2026, 3, 11)).expect("accept");
    assert!(open.open_supervision().is_some());
}
