//! Every transition the regulation allows, and the ones it refuses.

use std::collections::BTreeSet;

use chrono::{NaiveDate, TimeZone, Utc};

use super::*;
use crate::bureau::JurisdictionError;
use crate::bureau::tests::{code, directory, id};
use crate::clue::ClosedOutcome;
use crate::deadline::{DueOn, ReporterDeadline};
use crate::divisions::Divisions;
use crate::event::Gps;
use crate::scope::Category;
use crate::text::Address;

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
        location: Location {
            division: code(division),
            address: Address::parse("留下街道某村东侧农田").expect("address"),
            gps: Gps::new(30.25, 120.05),
        },
        subject: Some(Subject::parse("某建材公司").expect("subject")),
        category: CategoryChoice::Annex(Category::FarmlandDestruction),
        facts: Facts::parse("在基本农田上堆放建材并硬化地面。").expect("facts"),
        evidence: Vec::new(),
        evidence_left_out: Vec::new(),
        notice_version: scope_for(division).reporting_notice().version_id,
        consent: true,
        channel: Channel::H5,
        real_name: false,
        resubmission_of: None,
    }
}

fn received(w: &World, clue: &str, n: u8, division: &str, when: DateTime<Utc>) -> Clue {
    let events = receive(
        submission(clue, n, division),
        &scope_for(division),
        &as_reporter(n),
        when,
        &w.rules(),
    )
    .expect("receipt");
    Clue::from_receipt(&events).expect("clue")
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

// ---------------------------------------------------------------- receipt

#[test]
fn a_received_clue_gets_its_deadlines_and_the_receipt_notice() {
    let w = World::new();
    // Monday 2026-03-09: 7 working days end on Wednesday 03-18, 2 on Wednesday 03-11.
    let events = receive(
        submission("c1", 1, "330106"),
        &scope_for("330106"),
        &as_reporter(1),
        at(2026, 3, 9),
        &w.rules(),
    )
    .expect("receipt");
    let clue = Clue::from_receipt(&events).expect("clue");
    assert_eq!(clue.state, ClueState::Received);
    assert_eq!(clue.handler, id("land-330106"));
    assert_eq!(clue.version, 1);
    let judgment = clue
        .open_deadline(DeadlineKind::Judgment)
        .expect("judgment deadline");
    assert_eq!(judgment.due, Some(end_of(2026, 3, 18)));
    assert_eq!(
        judgment.remind_at,
        Some(
            Utc.with_ymd_and_hms(2026, 3, 16, 16, 0, 0)
                .single()
                .expect("t")
        )
    );
    let escalation = clue
        .open_deadline(DeadlineKind::Escalation)
        .expect("escalation deadline");
    assert_eq!(escalation.due, Some(end_of(2026, 3, 11)));
    assert_eq!(
        notices(&events),
        vec![(
            clue.id.clone(),
            "您好，12336国土资源违法线索举报微信平台已接收您举报的违法线索。感谢您对国土资源工作的支持！".to_owned()
        )]
    );
    assert_eq!(clue.notices[0].record.id.as_str(), "c1:1:0");
}

#[test]
fn a_clue_in_a_city_direct_city_goes_to_the_city_bureau() {
    let w = World::new();
    let clue = received(&w, "c1", 1, "330203", at(2026, 3, 9));
    assert_eq!(clue.handler, id("land-330200"));
}

#[test]
fn a_receipt_is_refused_without_consent_or_with_a_stale_notice() {
    let w = World::new();
    let scope = scope_for("330106");
    let mut cmd = submission("c1", 1, "330106");
    cmd.consent = false;
    assert_eq!(
        receive(cmd, &scope, &as_reporter(1), at(2026, 3, 9), &w.rules()),
        Err(DomainError::ConsentRequired)
    );
    let mut cmd = submission("c1", 1, "330106");
    cmd.notice_version = "330100-v0-deadbeef".into();
    assert!(matches!(
        receive(cmd, &scope, &as_reporter(1), at(2026, 3, 9), &w.rules()),
        Err(DomainError::Scope(crate::scope::ScopeError::StaleNotice(_)))
    ));
    // The notice of another city does not cover this location.
    let cmd = submission("c1", 1, "330106");
    assert_eq!(
        receive(
            cmd,
            &scope_for("330203"),
            &as_reporter(1),
            at(2026, 3, 9),
            &w.rules()
        ),
        Err(DomainError::WrongCityNotice)
    );
}

#[test]
fn a_receipt_is_refused_for_a_location_that_is_not_a_county() {
    let w = World::new();
    for bad in ["330100", "330000", "330199"] {
        let mut cmd = submission("c1", 1, "330106");
        cmd.location.division = code(bad);
        assert_eq!(
            receive(
                cmd,
                &scope_for("330106"),
                &as_reporter(1),
                at(2026, 3, 9),
                &w.rules()
            ),
            Err(DomainError::NotReportableLocation(code(bad))),
            "{bad}"
        );
    }
}

#[test]
fn a_receipt_is_refused_for_another_reporter_or_an_unknown_city_category() {
    let w = World::new();
    let cmd = submission("c1", 1, "330106");
    assert_eq!(
        receive(
            cmd,
            &scope_for("330106"),
            &as_reporter(2),
            at(2026, 3, 9),
            &w.rules()
        ),
        Err(DomainError::NotTheReporter)
    );
    let mut cmd = submission("c1", 1, "330106");
    cmd.category = CategoryChoice::CityExtra("sand".into());
    assert!(matches!(
        receive(
            cmd,
            &scope_for("330106"),
            &as_reporter(1),
            at(2026, 3, 9),
            &w.rules()
        ),
        Err(DomainError::Scope(
            crate::scope::ScopeError::UnknownCategory(_)
        ))
    ));
}

#[test]
fn a_clue_received_where_no_bureau_is_on_the_platform_is_refused() {
    let w = World::new();
    let mut cmd = submission("c1", 1, "340102");
    cmd.notice_version = scope_for("340102").reporting_notice().version_id;
    assert!(matches!(
        receive(
            cmd,
            &scope_for("340102"),
            &as_reporter(1),
            at(2026, 3, 9),
            &w.rules()
        ),
        Err(DomainError::Jurisdiction(
            JurisdictionError::NoHandlingBureau(_)
        ))
    ));
}

#[test]
fn a_receipt_in_a_year_without_calendar_data_is_stored_with_pending_deadlines() {
    let w = World::new();
    // 2026-12-28: seven working days run into 2027, which the calendar does not cover.
    let mut clue = received(&w, "c1", 1, "330106", at(2026, 12, 28));
    let j = clue
        .open_deadline(DeadlineKind::Judgment)
        .expect("judgment");
    assert!(j.is_pending());
    assert_eq!(j.due, None);
    // Resolving while 2027 is still missing is an explicit error, never a guess.
    assert_eq!(
        clue.decide(
            &Command::ResolveDeadlines,
            &Actor::System,
            at(2026, 12, 29),
            &w.rules()
        ),
        Err(DomainError::YearNotCovered(2027))
    );
    // Judged two working days later: fewer than seven have passed, so it is on time for sure.
    run(
        &w,
        &mut clue,
        judge(JudgmentRequest::Accept),
        &xihu(),
        at(2026, 12, 30),
    )
    .expect("judge");
    assert!(matches!(
        clue.deadlines
            .iter()
            .find(|d| d.kind == DeadlineKind::Judgment)
            .map(|d| d.status),
        Some(DeadlineStatus::Met { on_time: true, .. })
    ));
}

// ---------------------------------------------------------------- judgment

#[test]
fn accepting_meets_the_judgment_deadline_and_names_the_handling_bureau() {
    let w = World::new();
    let mut clue = received(&w, "c1", 1, "330106", at(2026, 3, 9));
    let events = run(
        &w,
        &mut clue,
        judge(JudgmentRequest::Accept),
        &xihu(),
        at(2026, 3, 12),
    )
    .expect("accept");
    assert_eq!(clue.state, ClueState::Accepted);
    assert_eq!(
        notices(&events)[0].1,
        "您好，杭州市西湖区国土资源主管部门将对您举报的违法线索作进一步核查处理。感谢您对国土资源工作的支持！"
    );
    let j = clue
        .deadlines
        .iter()
        .find(|d| d.kind == DeadlineKind::Judgment)
        .expect("j");
    assert_eq!(
        j.status,
        DeadlineStatus::Met {
            at: at(2026, 3, 12),
            on_time: true
        }
    );
    let e = clue
        .deadlines
        .iter()
        .find(|d| d.kind == DeadlineKind::Escalation)
        .expect("e");
    assert_eq!(
        e.status,
        DeadlineStatus::Discharged {
            at: at(2026, 3, 12)
        }
    );
    assert!(clue.open_deadlines().next().is_none());
    assert_eq!(clue.notices[1].record.id.as_str(), "c1:2:0");
}

#[test]
fn a_late_judgment_is_recorded_as_late() {
    let w = World::new();
    let mut clue = received(&w, "c1", 1, "330106", at(2026, 3, 9));
    run(
        &w,
        &mut clue,
        judge(JudgmentRequest::Accept),
        &xihu(),
        at(2026, 3, 19),
    )
    .expect("accept");
    assert!(clue.met_late(DeadlineKind::Judgment));
}

#[test]
fn out_of_scope_names_the_department_only_when_known() {
    let w = World::new();
    let mut clue = received(&w, "c1", 1, "330106", at(2026, 3, 9));
    let events = run(
        &w,
        &mut clue,
        judge(JudgmentRequest::OutOfScope {
            exclusion: Some(Exclusion::NotLandDuty),
            department: Some(DepartmentName::parse("杭州市西湖区住房和城乡建设局").expect("d")),
        }),
        &xihu(),
        at(2026, 3, 10),
    )
    .expect("judge");
    assert_eq!(
        clue.state,
        ClueState::Closed {
            outcome: ClosedOutcome::OutOfScope
        }
    );
    assert_eq!(
        notices(&events)[0].1,
        "您好，您举报的违法线索不属于12336国土资源违法线索举报微信平台接收范围，您可向杭州市西湖区住房和城乡建设局举报此问题。感谢您对国土资源工作的支持！"
    );
    let mut other = received(&w, "c2", 1, "330106", at(2026, 3, 9));
    let events = run(
        &w,
        &mut other,
        judge(JudgmentRequest::OutOfScope {
            exclusion: None,
            department: None,
        }),
        &xihu(),
        at(2026, 3, 10),
    )
    .expect("judge");
    assert_eq!(
        notices(&events)[0].1,
        "您好，您举报的违法线索不属于12336国土资源违法线索举报微信平台接收范围。感谢您对国土资源工作的支持！"
    );
}

#[test]
fn a_duplicate_names_the_earlier_clues_receipt_date() {
    let w = World::new();
    let earlier = received(&w, "c0", 1, "330106", at(2026, 2, 3));
    let mut clue = received(&w, "c1", 1, "330106", at(2026, 3, 9));
    let events = run(
        &w,
        &mut clue,
        judge(JudgmentRequest::Duplicate {
            earlier: Box::new(earlier.summary()),
        }),
        &xihu(),
        at(2026, 3, 10),
    )
    .expect("duplicate");
    assert_eq!(
        clue.state,
        ClueState::Closed {
            outcome: ClosedOutcome::Duplicate
        }
    );
    assert_eq!(
        notices(&events)[0].1,
        "您好，12336国土资源违法线索举报微信平台已于2026年2月3日接收您举报的该线索，请不要重复提交。感谢您对国土资源工作的支持！"
    );
}

#[test]
fn a_duplicate_must_be_an_earlier_clue_of_the_same_reporter() {
    let w = World::new();
    let clue = received(&w, "c1", 1, "330106", at(2026, 3, 9));
    let other_reporter = received(&w, "c0", 2, "330106", at(2026, 2, 3));
    let later = received(&w, "c2", 1, "330106", at(2026, 3, 10));
    for earlier in [other_reporter.summary(), later.summary(), clue.summary()] {
        let cmd = judge(JudgmentRequest::Duplicate {
            earlier: Box::new(earlier),
        });
        assert_eq!(
            clue.decide(&cmd, &xihu(), at(2026, 3, 11), &w.rules()),
            Err(DomainError::BadDuplicate)
        );
    }
}

#[test]
fn need_material_names_this_clues_date_and_what_is_missing() {
    let w = World::new();
    let mut clue = received(&w, "c1", 1, "330106", at(2026, 3, 9));
    let refused = clue.decide(
        &judge(JudgmentRequest::NeedMaterial { missing: vec![] }),
        &xihu(),
        at(2026, 3, 10),
        &w.rules(),
    );
    assert_eq!(refused, Err(DomainError::NothingMissing));
    let events = run(
        &w,
        &mut clue,
        judge(JudgmentRequest::NeedMaterial {
            missing: vec![Missing::Facts, Missing::Location, Missing::Facts],
        }),
        &xihu(),
        at(2026, 3, 10),
    )
    .expect("need material");
    assert_eq!(
        notices(&events)[0].1,
        "您好，12336国土资源违法线索举报微信平台已于2026年3月9日接收您举报的线索，但材料不够清晰完整，请您补充相关材料后重新提交。感谢您对国土资源工作的支持！"
    );
    assert_eq!(
        clue.judgment,
        Some(Judgment::NeedMaterial {
            missing: vec![Missing::Location, Missing::Facts]
        })
    );
}

#[test]
fn a_closed_clue_cannot_be_judged_again() {
    let w = World::new();
    let mut clue = received(&w, "c1", 1, "330106", at(2026, 3, 9));
    run(
        &w,
        &mut clue,
        judge(JudgmentRequest::Accept),
        &xihu(),
        at(2026, 3, 10),
    )
    .expect("accept");
    assert_eq!(
        clue.decide(
            &judge(JudgmentRequest::Accept),
            &xihu(),
            at(2026, 3, 11),
            &w.rules()
        ),
        Err(DomainError::InvalidTransition {
            command: "judge",
            state: "accepted"
        })
    );
    let mut closed = received(&w, "c2", 1, "330106", at(2026, 3, 9));
    run(
        &w,
        &mut closed,
        judge(JudgmentRequest::OutOfScope {
            exclusion: None,
            department: None,
        }),
        &xihu(),
        at(2026, 3, 10),
    )
    .expect("judge");
    for cmd in [judge(JudgmentRequest::Accept), escalate()] {
        assert!(matches!(
            closed.decide(&cmd, &xihu(), at(2026, 3, 11), &w.rules()),
            Err(DomainError::InvalidTransition {
                state: "closed",
                ..
            })
        ));
    }
}

#[test]
fn only_a_handling_officer_of_the_handling_bureau_judges() {
    let w = World::new();
    let clue = received(&w, "c1", 1, "330106", at(2026, 3, 9));
    let cmd = judge(JudgmentRequest::Accept);
    let now = at(2026, 3, 10);
    let other_county = officer("yuhang", "land-330110", &[Role::Handler]);
    let city = officer("hz", "land-330100", &[Role::Handler, Role::Leader]);
    let admin_only = officer("admin", "land-330106", &[Role::Admin]);
    assert_eq!(
        clue.decide(&cmd, &other_county, now, &w.rules()),
        Err(DomainError::NotHandlingBureau)
    );
    assert_eq!(
        clue.decide(&cmd, &city, now, &w.rules()),
        Err(DomainError::NotHandlingBureau)
    );
    assert_eq!(
        clue.decide(&cmd, &admin_only, now, &w.rules()),
        Err(DomainError::MissingRole(Role::Handler))
    );
    assert_eq!(
        clue.decide(&cmd, &as_reporter(1), now, &w.rules()),
        Err(DomainError::NotAnOfficer)
    );
    assert_eq!(
        clue.decide(&cmd, &Actor::System, now, &w.rules()),
        Err(DomainError::NotAnOfficer)
    );
    let leader = officer("lead", "land-330106", &[Role::Leader]);
    assert!(clue.decide(&cmd, &leader, now, &w.rules()).is_ok());
}

// ---------------------------------------------------------------- escalation and designation

#[test]
fn escalation_goes_up_one_level_at_a_time_and_stops_at_the_ministry() {
    let w = World::new();
    let mut clue = received(&w, "c1", 1, "330106", at(2026, 3, 9));
    run(&w, &mut clue, escalate(), &xihu(), at(2026, 3, 10)).expect("to city");
    assert_eq!(clue.state, ClueState::Escalated);
    assert_eq!(clue.handler, id("land-330100"));
    let esc = clue
        .deadlines
        .iter()
        .find(|d| d.kind == DeadlineKind::Escalation)
        .expect("e");
    assert_eq!(
        esc.status,
        DeadlineStatus::Met {
            at: at(2026, 3, 10),
            on_time: true
        }
    );
    let j = clue
        .deadlines
        .iter()
        .find(|d| d.kind == DeadlineKind::Judgment)
        .expect("j");
    assert!(matches!(j.status, DeadlineStatus::Discharged { .. }));
    // The county no longer acts on it.
    assert_eq!(
        clue.decide(&escalate(), &xihu(), at(2026, 3, 10), &w.rules()),
        Err(DomainError::NotHandlingBureau)
    );
    let city = officer("hz", "land-330100", &[Role::Handler]);
    run(&w, &mut clue, escalate(), &city, at(2026, 3, 11)).expect("to province");
    let province = officer("zj", "land-330000", &[Role::Handler]);
    run(&w, &mut clue, escalate(), &province, at(2026, 3, 12)).expect("to ministry");
    assert_eq!(clue.handler, id("ministry"));
    let ministry = officer("mnr", "ministry", &[Role::Handler]);
    assert_eq!(
        clue.decide(&escalate(), &ministry, at(2026, 3, 13), &w.rules()),
        Err(DomainError::Jurisdiction(JurisdictionError::AboveMinistry))
    );
}

#[test]
fn a_late_escalation_is_recorded_as_late() {
    let w = World::new();
    let mut clue = received(&w, "c1", 1, "330106", at(2026, 3, 9));
    run(&w, &mut clue, escalate(), &xihu(), at(2026, 3, 12)).expect("escalate");
    assert!(clue.met_late(DeadlineKind::Escalation));
}

#[test]
fn designation_restarts_the_judgment_clock_at_the_designated_bureau() {
    let w = World::new();
    let mut clue = received(&w, "c1", 1, "330106", at(2026, 3, 9));
    run(&w, &mut clue, escalate(), &xihu(), at(2026, 3, 10)).expect("escalate");
    let city = officer("hz", "land-330100", &[Role::Handler]);
    let designate = |to: &str| Command::Designate {
        to: id(to),
        reason: None,
    };
    assert!(matches!(
        clue.decide(
            &designate("land-330203"),
            &city,
            at(2026, 3, 11),
            &w.rules()
        ),
        Err(DomainError::Jurisdiction(
            JurisdictionError::OutsideTerritory { .. }
        ))
    ));
    run(
        &w,
        &mut clue,
        designate("land-330110"),
        &city,
        at(2026, 3, 11),
    )
    .expect("designate");
    assert_eq!(clue.state, ClueState::Received);
    assert_eq!(clue.handler, id("land-330110"));
    assert!(clue.designated);
    // Wednesday 03-11 + 7 working days = Friday 03-20.
    let j = clue
        .open_deadline(DeadlineKind::Judgment)
        .expect("new judgment deadline");
    assert_eq!(j.due, Some(end_of(2026, 3, 20)));
    assert_eq!(j.bureau, id("land-330110"));
    let yuhang = officer("yh", "land-330110", &[Role::Handler]);
    assert_eq!(
        clue.decide(&escalate(), &yuhang, at(2026, 3, 12), &w.rules()),
        Err(DomainError::AlreadyDesignated)
    );
    let events = run(
        &w,
        &mut clue,
        judge(JudgmentRequest::Accept),
        &yuhang,
        at(2026, 3, 12),
    )
    .expect("accept");
    assert!(
        notices(&events)[0]
            .1
            .contains("杭州市余杭区国土资源主管部门")
    );
}

#[test]
fn designation_needs_an_escalated_clue() {
    let w = World::new();
    let clue = received(&w, "c1", 1, "330106", at(2026, 3, 9));
    let cmd = Command::Designate {
        to: id("land-330110"),
        reason: None,
    };
    assert_eq!(
        clue.decide(&cmd, &xihu(), at(2026, 3, 10), &w.rules()),
        Err(DomainError::InvalidTransition {
            command: "designate",
            state: "received"
        })
    );
}

#[test]
fn an_upper_bureau_may_designate_itself() {
    let w = World::new();
    let mut clue = received(&w, "c1", 1, "330106", at(2026, 3, 9));
    run(&w, &mut clue, escalate(), &xihu(), at(2026, 3, 10)).expect("escalate");
    let city = officer("hz", "land-330100", &[Role::Handler]);
    let cmd = Command::Designate {
        to: id("land-330100"),
        reason: Some(reason("本级直接管辖")),
    };
    run(&w, &mut clue, cmd, &city, at(2026, 3, 10)).expect("self");
    assert_eq!(clue.handler, id("land-330100"));
    let events = run(
        &w,
        &mut clue,
        judge(JudgmentRequest::Accept),
        &city,
        at(2026, 3, 11),
    )
    .expect("accept");
    assert!(notices(&events)[0].1.contains("，杭州市国土资源主管部门将"));
}

// ---------------------------------------------------------------- merging

fn merge_into(primary: &Clue) -> Command {
    Command::Merge {
        primary: Box::new(primary.summary()),
        reason: None,
    }
}

#[test]
fn merged_reporters_each_receive_the_primarys_notices_with_their_own_clue() {
    let w = World::new();
    let mut primary = received(&w, "p", 1, "330106", at(2026, 3, 9));
    let mut member = received(&w, "m", 2, "330106", at(2026, 3, 10));
    let events = run(
        &w,
        &mut member,
        merge_into(&primary),
        &xihu(),
        at(2026, 3, 11),
    )
    .expect("merge");
    primary.apply(&events).expect("apply to primary");
    assert_eq!(
        member.state,
        ClueState::Merged {
            primary: primary.id.clone()
        }
    );
    assert_eq!(primary.members.len(), 1);
    assert!(primary.members[0].judgment.is_some());

    let events = run(
        &w,
        &mut primary,
        judge(JudgmentRequest::Accept),
        &xihu(),
        at(2026, 3, 12),
    )
    .expect("accept");
    member.apply(&events).expect("apply to member");
    let sent = notices(&events);
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].0, primary.id);
    assert_eq!(sent[1].0, member.id);
    assert_eq!(sent[0].1, sent[1].1);
    // The member's own judgment deadline is met too, and no longer owed by the primary.
    assert!(member.open_deadline(DeadlineKind::Judgment).is_none());
    assert!(primary.members[0].judgment.is_none());

    let verify = Command::RecordVerification {
        result: VerificationResult::ViolationFound,
        ended_on: date(2026, 3, 20),
        note: None,
    };
    let events = run(&w, &mut primary, verify, &xihu(), at(2026, 3, 23)).expect("verify");
    let sent = notices(&events);
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].0, member.id);
    assert_eq!(
        sent[1].1,
        "经核查，您举报的违法线索存在国土资源违法行为，杭州市西湖区国土资源主管部门将依法依规予以处理。感谢您对国土资源工作的支持！"
    );
}

fn unmerge_from(primary: &Clue) -> Command {
    Command::Unmerge {
        primary: Box::new(primary.summary()),
        reason: reason("经核实并非同一违法行为"),
    }
}

#[test]
fn a_leader_unmerges_a_clue_which_is_handled_on_its_own_again() {
    let w = World::new();
    let leader = officer("xihu-leader", "land-330106", &[Role::Handler, Role::Leader]);
    let mut primary = received(&w, "p", 1, "330106", at(2026, 3, 9));
    let mut member = received(&w, "m", 2, "330106", at(2026, 3, 10));
    let mut other = received(&w, "o", 3, "330106", at(2026, 3, 10));
    let events = run(
        &w,
        &mut member,
        merge_into(&primary),
        &xihu(),
        at(2026, 3, 11),
    )
    .expect("merge");
    primary.apply(&events).expect("apply");
    // Only a leader, only a merged clue, only from its own primary.
    let refused = run(
        &w,
        &mut member,
        unmerge_from(&primary),
        &xihu(),
        at(2026, 3, 11),
    );
    assert_eq!(refused, Err(DomainError::MissingRole(Role::Leader)));
    let refused = run(
        &w,
        &mut other,
        unmerge_from(&primary),
        &leader,
        at(2026, 3, 11),
    );
    assert!(matches!(
        refused,
        Err(DomainError::InvalidTransition { .. })
    ));
    let refused = run(
        &w,
        &mut member,
        unmerge_from(&other),
        &leader,
        at(2026, 3, 11),
    );
    assert!(matches!(
        refused,
        Err(DomainError::InvalidTransition { .. })
    ));

    // Before the primary's judgment: back to received, its own judgment deadline still owed.
    let events = run(
        &w,
        &mut member,
        unmerge_from(&primary),
        &leader,
        at(2026, 3, 11),
    )
    .expect("unmerge");
    primary.apply(&events).expect("apply");
    assert_eq!(member.state, ClueState::Received);
    assert!(member.open_deadline(DeadlineKind::Judgment).is_some());
    assert!(primary.members.is_empty());

    // After the primary's acceptance: accepted on its own (its reporter was told already).
    let events = run(
        &w,
        &mut member,
        merge_into(&primary),
        &xihu(),
        at(2026, 3, 11),
    )
    .expect("merge again");
    primary.apply(&events).expect("apply");
    let events = run(
        &w,
        &mut primary,
        judge(JudgmentRequest::Accept),
        &xihu(),
        at(2026, 3, 12),
    )
    .expect("accept");
    member.apply(&events).expect("apply");
    let events = run(
        &w,
        &mut member,
        unmerge_from(&primary),
        &leader,
        at(2026, 3, 12),
    )
    .expect("unmerge");
    primary.apply(&events).expect("apply");
    assert_eq!(member.state, ClueState::Accepted);
    assert!(primary.members.is_empty());

    // Out of a closed primary's group: refused.
    let events = run(
        &w,
        &mut other,
        merge_into(&primary),
        &xihu(),
        at(2026, 3, 12),
    )
    .expect("merge other");
    primary.apply(&events).expect("apply");
    let verify = Command::RecordVerification {
        result: VerificationResult::NoViolation,
        ended_on: date(2026, 3, 20),
        note: None,
    };
    let events = run(&w, &mut primary, verify, &xihu(), at(2026, 3, 23)).expect("verify");
    other.apply(&events).expect("apply");
    let refused = run(
        &w,
        &mut other,
        unmerge_from(&primary),
        &leader,
        at(2026, 3, 23),
    );
    assert_eq!(refused, Err(DomainError::UnmergeFromClosed));
}

#[test]
fn merged_reporters_get_their_own_dates_in_duplicate_and_need_material_notices() {
    let w = World::new();
    let earlier = received(&w, "e", 1, "330106", at(2026, 2, 3));
    let mut primary = received(&w, "p", 1, "330106", at(2026, 3, 9));
    let mut member = received(&w, "m", 2, "330106", at(2026, 3, 10));
    let events = run(
        &w,
        &mut member,
        merge_into(&primary),
        &xihu(),
        at(2026, 3, 10),
    )
    .expect("merge");
    primary.apply(&events).expect("apply");
    let events = run(
        &w,
        &mut primary,
        judge(JudgmentRequest::Duplicate {
            earlier: Box::new(earlier.summary()),
        }),
        &xihu(),
        at(2026, 3, 11),
    )
    .expect("duplicate");
    let sent = notices(&events);
    assert!(sent[0].1.contains("已于2026年2月3日接收"));
    assert!(sent[1].1.contains("已于2026年3月10日接收"));
}

#[test]
fn merging_into_an_accepted_clue_tells_the_new_reporter_at_once() {
    let w = World::new();
    let mut primary = received(&w, "p", 1, "330106", at(2026, 3, 9));
    run(
        &w,
        &mut primary,
        judge(JudgmentRequest::Accept),
        &xihu(),
        at(2026, 3, 10),
    )
    .expect("accept");
    let mut member = received(&w, "m", 2, "330106", at(2026, 3, 11));
    let events = run(
        &w,
        &mut member,
        merge_into(&primary),
        &xihu(),
        at(2026, 3, 12),
    )
    .expect("merge");
    primary.apply(&events).expect("apply");
    assert_eq!(notices(&events).len(), 1);
    assert!(
        notices(&events)[0]
            .1
            .contains("杭州市西湖区国土资源主管部门将对您举报")
    );
    assert!(member.open_deadlines().next().is_none());
    assert!(primary.members[0].judgment.is_none());
}

#[test]
fn merges_the_regulation_does_not_allow_are_refused() {
    let w = World::new();
    let now = at(2026, 3, 12);
    let primary = received(&w, "p", 1, "330106", at(2026, 3, 9));
    let clue = received(&w, "c", 2, "330106", at(2026, 3, 10));
    // Into itself.
    assert_eq!(
        clue.decide(&merge_into(&clue), &xihu(), now, &w.rules()),
        Err(DomainError::MergeIntoSelf)
    );
    // Same reporter: a duplicate, not a merge.
    let same = received(&w, "s", 1, "330106", at(2026, 3, 10));
    assert_eq!(
        same.decide(&merge_into(&primary), &xihu(), now, &w.rules()),
        Err(DomainError::MergeSameReporter)
    );
    // Another county.
    let elsewhere = received(&w, "x", 3, "330110", at(2026, 3, 10));
    let yuhang = officer("yh", "land-330110", &[Role::Handler]);
    assert_eq!(
        elsewhere.decide(&merge_into(&primary), &yuhang, now, &w.rules()),
        Err(DomainError::MergeAcrossBureaus)
    );
    // Into a merged clue.
    let mut merged = received(&w, "mm", 4, "330106", at(2026, 3, 10));
    run(&w, &mut merged, merge_into(&primary), &xihu(), now).expect("merge");
    assert_eq!(
        clue.decide(&merge_into(&merged), &xihu(), now, &w.rules()),
        Err(DomainError::MergeIntoMerged)
    );
    // Into a closed clue.
    let mut closed = received(&w, "cl", 5, "330106", at(2026, 3, 10));
    run(
        &w,
        &mut closed,
        judge(JudgmentRequest::OutOfScope {
            exclusion: None,
            department: None,
        }),
        &xihu(),
        now,
    )
    .expect("close");
    assert_eq!(
        clue.decide(&merge_into(&closed), &xihu(), now, &w.rules()),
        Err(DomainError::MergeIntoClosed)
    );
    // A primary with members is not merged elsewhere.
    let mut with_members = received(&w, "wm", 6, "330106", at(2026, 3, 10));
    let mut joiner = received(&w, "j", 7, "330106", at(2026, 3, 10));
    let events = run(&w, &mut joiner, merge_into(&with_members), &xihu(), now).expect("merge");
    with_members.apply(&events).expect("apply");
    assert_eq!(
        with_members.decide(&merge_into(&primary), &xihu(), now, &w.rules()),
        Err(DomainError::HasMembers)
    );
    // An accepted clue only into an accepted one.
    let mut accepted = received(&w, "ac", 8, "330106", at(2026, 3, 10));
    run(
        &w,
        &mut accepted,
        judge(JudgmentRequest::Accept),
        &xihu(),
        now,
    )
    .expect("accept");
    assert_eq!(
        accepted.decide(&merge_into(&primary), &xihu(), now, &w.rules()),
        Err(DomainError::MergeStateMismatch)
    );
    // A merged clue is not judged.
    assert!(matches!(
        merged.decide(&judge(JudgmentRequest::Accept), &xihu(), now, &w.rules()),
        Err(DomainError::InvalidTransition {
            state: "merged",
            ..
        })
    ));
}

// ---------------------------------------------------------------- verification

fn accepted(w: &World, clue: &str) -> Clue {
    let mut c = received(w, clue, 1, "330106", at(2026, 3, 9));
    run(
        w,
        &mut c,
        judge(JudgmentRequest::Accept),
        &xihu(),
        at(2026, 3, 10),
    )
    .expect("accept");
    c
}

#[test]
fn recording_verification_closes_the_clue_and_checks_the_five_day_notice() {
    let w = World::new();
    let mut clue = accepted(&w, "c1");
    // Verification ended Friday 03-20; 5 working days end Friday 03-27.
    let cmd = Command::RecordVerification {
        result: VerificationResult::NoViolation,
        ended_on: date(2026, 3, 20),
        note: None,
    };
    let events = run(&w, &mut clue, cmd, &xihu(), at(2026, 3, 27)).expect("verify");
    assert_eq!(
        clue.state,
        ClueState::Closed {
            outcome: ClosedOutcome::NoViolation
        }
    );
    assert_eq!(
        notices(&events)[0].1,
        "经核查，您举报的违法线索不存在国土资源违法行为。感谢您对国土资源工作的支持！"
    );
    let v = clue
        .deadlines
        .iter()
        .find(|d| d.kind == DeadlineKind::VerificationNotice)
        .expect("v");
    assert_eq!(v.due, Some(end_of(2026, 3, 27)));
    assert_eq!(
        v.status,
        DeadlineStatus::Met {
            at: at(2026, 3, 27),
            on_time: true
        }
    );
}

#[test]
fn a_verification_recorded_too_late_is_late() {
    let w = World::new();
    let mut clue = accepted(&w, "c1");
    let cmd = Command::RecordVerification {
        result: VerificationResult::ViolationFound,
        ended_on: date(2026, 3, 20),
        note: None,
    };
    run(&w, &mut clue, cmd, &xihu(), at(2026, 3, 30)).expect("verify");
    assert!(clue.met_late(DeadlineKind::VerificationNotice));
}

#[test]
fn verification_dates_must_be_real() {
    let w = World::new();
    let clue = accepted(&w, "c1");
    let cmd = |ended_on| Command::RecordVerification {
        result: VerificationResult::NoViolation,
        ended_on,
        note: None,
    };
    assert_eq!(
        clue.decide(
            &cmd(date(2026, 3, 20)),
            &xihu(),
            at(2026, 3, 19),
            &w.rules()
        ),
        Err(DomainError::FutureDate(date(2026, 3, 20)))
    );
    assert_eq!(
        clue.decide(&cmd(date(2026, 3, 1)), &xihu(), at(2026, 3, 19), &w.rules()),
        Err(DomainError::VerificationBeforeReceipt)
    );
    let fresh = received(&w, "c2", 1, "330106", at(2026, 3, 9));
    assert_eq!(
        fresh.decide(
            &cmd(date(2026, 3, 10)),
            &xihu(),
            at(2026, 3, 19),
            &w.rules()
        ),
        Err(DomainError::InvalidTransition {
            command: "record_verification",
            state: "received"
        })
    );
}

// ---------------------------------------------------------------- transfer

#[test]
fn an_on_platform_transfer_makes_the_enforcement_department_the_handler() {
    let w = World::new();
    let mut clue = received(&w, "c1", 1, "330106", at(2026, 3, 9));
    let to_land = Command::Transfer {
        transfer: TransferRequest::OnPlatform {
            to: id("land-330110"),
        },
    };
    assert_eq!(
        clue.decide(&to_land, &xihu(), at(2026, 3, 10), &w.rules()),
        Err(DomainError::BadTransferTarget)
    );
    let cmd = Command::Transfer {
        transfer: TransferRequest::OnPlatform {
            to: id("enf-330106"),
        },
    };
    run(&w, &mut clue, cmd, &xihu(), at(2026, 3, 10)).expect("transfer");
    assert_eq!(clue.handler, id("enf-330106"));
    assert!(clue.open_deadlines().all(|d| d.bureau == id("enf-330106")));
    assert_eq!(
        clue.decide(
            &judge(JudgmentRequest::Accept),
            &xihu(),
            at(2026, 3, 11),
            &w.rules()
        ),
        Err(DomainError::NotHandlingBureau)
    );
    let enforcement = officer("zf", "enf-330106", &[Role::Handler]);
    let events = run(
        &w,
        &mut clue,
        judge(JudgmentRequest::Accept),
        &enforcement,
        at(2026, 3, 11),
    )
    .expect("accept");
    assert!(
        notices(&events)[0]
            .1
            .contains("杭州市西湖区国土资源主管部门")
    );
}

#[test]
fn an_off_platform_hand_over_is_recorded_and_the_bureau_stays_responsible() {
    let w = World::new();
    let mut clue = accepted(&w, "c1");
    let cmd = Command::Transfer {
        transfer: TransferRequest::OffPlatform {
            department: DepartmentName::parse("杭州市西湖区综合行政执法局").expect("d"),
            handed_over_on: date(2026, 3, 11),
            note: None,
        },
    };
    run(&w, &mut clue, cmd, &xihu(), at(2026, 3, 11)).expect("hand over");
    assert_eq!(clue.handler, id("land-330106"));
    assert_eq!(clue.transfers.len(), 1);
}

// ---------------------------------------------------------------- messages, recusal, assignment

#[test]
fn reporter_and_officer_talk_until_the_clue_is_closed() {
    let w = World::new();
    let mut clue = received(&w, "c1", 1, "330106", at(2026, 3, 9));
    let msg = |t: &str| Command::PostMessage {
        text: MessageText::parse(t).expect("text"),
    };
    run(
        &w,
        &mut clue,
        msg("请问具体位置在哪里？"),
        &xihu(),
        at(2026, 3, 9),
    )
    .expect("officer");
    run(
        &w,
        &mut clue,
        msg("村东头第三块地"),
        &as_reporter(1),
        at(2026, 3, 9),
    )
    .expect("reporter");
    assert_eq!(
        clue.decide(
            &msg("我也知道"),
            &as_reporter(2),
            at(2026, 3, 9),
            &w.rules()
        ),
        Err(DomainError::NotTheReporter)
    );
    run(
        &w,
        &mut clue,
        judge(JudgmentRequest::OutOfScope {
            exclusion: None,
            department: None,
        }),
        &xihu(),
        at(2026, 3, 10),
    )
    .expect("close");
    assert!(matches!(
        clue.decide(&msg("还在吗"), &as_reporter(1), at(2026, 3, 11), &w.rules()),
        Err(DomainError::InvalidTransition { .. })
    ));
}

#[test]
fn a_recused_officer_can_neither_see_nor_act_and_a_leader_reassigns() {
    let w = World::new();
    let mut clue = received(&w, "c1", 1, "330106", at(2026, 3, 9));
    let leader = officer("lead", "land-330106", &[Role::Leader]);
    let Actor::Officer { officer: handler } = xihu() else {
        unreachable!()
    };
    run(
        &w,
        &mut clue,
        Command::Assign {
            officer: handler.clone(),
        },
        &leader,
        at(2026, 3, 9),
    )
    .expect("assign");
    assert_eq!(clue.assignee, Some(handler.id.clone()));
    run(
        &w,
        &mut clue,
        Command::Recuse {
            reason: reason("与被举报人系亲属"),
        },
        &xihu(),
        at(2026, 3, 9),
    )
    .expect("recuse");
    assert!(!clue.visible_to(&handler.id));
    assert_eq!(clue.assignee, None);
    for cmd in [
        judge(JudgmentRequest::Accept),
        escalate(),
        Command::RevealIdentity {
            reason: reason("核实"),
        },
    ] {
        assert_eq!(
            clue.decide(&cmd, &xihu(), at(2026, 3, 10), &w.rules()),
            Err(DomainError::Recused)
        );
    }
    assert_eq!(
        clue.decide(
            &Command::Recuse {
                reason: reason("再次")
            },
            &xihu(),
            at(2026, 3, 10),
            &w.rules()
        ),
        Err(DomainError::AlreadyRecused)
    );
    assert_eq!(
        clue.decide(
            &Command::Assign { officer: handler },
            &leader,
            at(2026, 3, 10),
            &w.rules()
        ),
        Err(DomainError::BadAssignee)
    );
    let Actor::Officer { officer: other } = officer("h2", "land-330106", &[Role::Handler]) else {
        unreachable!()
    };
    run(
        &w,
        &mut clue,
        Command::Assign {
            officer: other.clone(),
        },
        &leader,
        at(2026, 3, 10),
    )
    .expect("reassign");
    // Only a leader assigns.
    assert_eq!(
        clue.decide(
            &Command::Assign { officer: other },
            &officer("h2", "land-330106", &[Role::Handler]),
            at(2026, 3, 10),
            &w.rules()
        ),
        Err(DomainError::MissingRole(Role::Leader))
    );
}

// ---------------------------------------------------------------- supervision

#[test]
fn only_bureaus_above_supervise_and_the_due_date_is_ahead() {
    let w = World::new();
    let mut clue = received(&w, "c1", 1, "330106", at(2026, 3, 9));
    let cmd = |due_on| Command::Supervise {
        due_on,
        note: reason("群众反映强烈，请加快办理"),
    };
    let city = officer("hz-sup", "land-330100", &[Role::Supervisor]);
    run(
        &w,
        &mut clue,
        cmd(date(2026, 3, 20)),
        &city,
        at(2026, 3, 10),
    )
    .expect("supervise");
    assert_eq!(clue.supervisions[0].by, id("land-330100"));
    let other_province = officer("js", "land-320000", &[Role::Supervisor]);
    let same_level = officer("yh", "land-330110", &[Role::Supervisor]);
    let no_role = officer("hz-h", "land-330100", &[Role::Handler]);
    for actor in [other_province, same_level, no_role, xihu()] {
        assert_eq!(
            clue.decide(&cmd(date(2026, 3, 20)), &actor, at(2026, 3, 10), &w.rules()),
            Err(DomainError::NotSupervisor)
        );
    }
    assert_eq!(
        clue.decide(&cmd(date(2026, 3, 10)), &city, at(2026, 3, 10), &w.rules()),
        Err(DomainError::DueNotAfterToday(date(2026, 3, 10)))
    );
}

// ---------------------------------------------------------------- resubmission, delivery, reveal

#[test]
fn a_need_material_clue_is_resubmitted_once_by_its_reporter() {
    let w = World::new();
    let mut clue = received(&w, "c1", 1, "330106", at(2026, 3, 9));
    let resubmit = Command::Resubmit {
        new_clue: ClueId::parse("c2").expect("id"),
        new_clue_no: ClueNo::new(code("330106"), date(2026, 3, 12), 3),
    };
    assert!(matches!(
        clue.decide(&resubmit, &as_reporter(1), at(2026, 3, 10), &w.rules()),
        Err(DomainError::InvalidTransition { .. })
    ));
    run(
        &w,
        &mut clue,
        judge(JudgmentRequest::NeedMaterial {
            missing: vec![Missing::Location],
        }),
        &xihu(),
        at(2026, 3, 10),
    )
    .expect("judge");
    assert_eq!(
        clue.decide(&resubmit, &as_reporter(2), at(2026, 3, 12), &w.rules()),
        Err(DomainError::NotTheReporter)
    );
    run(
        &w,
        &mut clue,
        resubmit.clone(),
        &as_reporter(1),
        at(2026, 3, 12),
    )
    .expect("resubmit");
    assert_eq!(clue.resubmitted_as, Some(ClueId::parse("c2").expect("id")));
    assert_eq!(
        clue.decide(&resubmit, &as_reporter(1), at(2026, 3, 13), &w.rules()),
        Err(DomainError::AlreadyResubmitted)
    );
}

#[test]
fn deliveries_are_recorded_by_the_platform_and_a_sent_notice_is_final() {
    let w = World::new();
    let mut clue = received(&w, "c1", 1, "330106", at(2026, 3, 9));
    let notice = clue.notices[0].record.id.clone();
    let record = |status| Command::RecordDelivery {
        notice: notice.clone(),
        status,
    };
    assert_eq!(
        clue.decide(
            &record(DeliveryStatus::Sent {
                msgid: "1".into(),
                possible_duplicate: false
            }),
            &xihu(),
            at(2026, 3, 9),
            &w.rules()
        ),
        Err(DomainError::NotAnOfficer)
    );
    let unknown = Command::RecordDelivery {
        notice: NoticeId::parse("nope:1:0").expect("id"),
        status: DeliveryStatus::Queued,
    };
    assert_eq!(
        clue.decide(&unknown, &Actor::System, at(2026, 3, 9), &w.rules()),
        Err(DomainError::UnknownNotice)
    );
    run(
        &w,
        &mut clue,
        record(DeliveryStatus::Failed {
            reason: "-1".into(),
        }),
        &Actor::System,
        at(2026, 3, 9),
    )
    .expect("failed");
    run(
        &w,
        &mut clue,
        record(DeliveryStatus::Sent {
            msgid: "42".into(),
            possible_duplicate: false,
        }),
        &Actor::System,
        at(2026, 3, 9),
    )
    .expect("sent");
    assert_eq!(
        clue.notices[0].delivery,
        DeliveryStatus::Sent {
            msgid: "42".into(),
            possible_duplicate: false
        }
    );
    assert_eq!(
        clue.decide(
            &record(DeliveryStatus::Sent {
                msgid: "43".into(),
                possible_duplicate: false
            }),
            &Actor::System,
            at(2026, 3, 9),
            &w.rules()
        ),
        Err(DomainError::DeliveryFinal)
    );
}

#[test]
fn identity_is_revealed_only_to_the_handling_bureau_with_a_reason_and_audited() {
    let w = World::new();
    let clue = received(&w, "c1", 1, "330106", at(2026, 3, 9));
    let cmd = Command::RevealIdentity {
        reason: reason("需电话核实违法地点"),
    };
    let events = clue
        .decide(&cmd, &xihu(), at(2026, 3, 10), &w.rules())
        .expect("reveal");
    assert!(
        matches!(&events[0].kind, EventKind::IdentityRevealed { reason, .. } if reason.as_str() == "需电话核实违法地点")
    );
    assert!(!events[0].kind.is_public());
    let city = officer("hz", "land-330100", &[Role::Leader, Role::Supervisor]);
    assert_eq!(
        clue.decide(&cmd, &city, at(2026, 3, 10), &w.rules()),
        Err(DomainError::NotHandlingBureau)
    );
}

#[test]
fn a_clue_rebuilt_from_its_history_equals_the_live_one() {
    let w = World::new();
    let rules = w.rules();
    let first = receive(
        submission("c1", 1, "330106"),
        &scope_for("330106"),
        &as_reporter(1),
        at(2026, 3, 9),
        &rules,
    )
    .expect("receipt");
    let mut clue = Clue::from_receipt(&first).expect("clue");
    let mut history = vec![first];
    for (cmd, actor, when) in [
        (escalate(), xihu(), at(2026, 3, 10)),
        (
            Command::Designate {
                to: id("land-330106"),
                reason: None,
            },
            officer("hz", "land-330100", &[Role::Handler]),
            at(2026, 3, 11),
        ),
        (judge(JudgmentRequest::Accept), xihu(), at(2026, 3, 12)),
    ] {
        history.push(run(&w, &mut clue, cmd, &actor, when).expect("command"));
    }
    let rebuilt = Clue::from_history(history.iter().map(Vec::as_slice)).expect("rebuild");
    assert_eq!(rebuilt, clue);
    assert_eq!(rebuilt.version, 4);
}

#[test]
fn the_sweep_records_a_missed_deadline_once_and_only_after_it_passed() {
    let w = World::new();
    let mut clue = received(&w, "c1", 1, "330106", at(2026, 3, 9));
    let missed = Command::RecordMissed {
        kind: DeadlineKind::Judgment,
    };
    assert_eq!(
        clue.decide(&missed, &Actor::System, at(2026, 3, 18), &w.rules()),
        Err(DomainError::NotYetDue)
    );
    assert_eq!(
        clue.decide(&missed, &xihu(), at(2026, 3, 19), &w.rules()),
        Err(DomainError::NotAnOfficer)
    );
    run(
        &w,
        &mut clue,
        missed.clone(),
        &Actor::System,
        at(2026, 3, 19),
    )
    .expect("missed");
    let j = clue
        .open_deadline(DeadlineKind::Judgment)
        .expect("still open");
    assert_eq!(j.missed_at, Some(at(2026, 3, 19)));
    assert!(matches!(
        clue.decide(&missed, &Actor::System, at(2026, 3, 20), &w.rules()),
        Err(DomainError::InvalidTransition { .. })
    ));
    // The escalation deadline only binds a bureau that escalates: never reported as missed.
    assert!(matches!(
        clue.decide(
            &Command::RecordMissed {
                kind: DeadlineKind::Escalation
            },
            &Actor::System,
            at(2026, 3, 19),
            &w.rules()
        ),
        Err(DomainError::InvalidTransition { .. })
    ));
    run(
        &w,
        &mut clue,
        judge(JudgmentRequest::Accept),
        &xihu(),
        at(2026, 3, 20),
    )
    .expect("late");
    assert!(clue.met_late(DeadlineKind::Judgment));
}

#[test]
fn the_reporter_sees_the_judgment_deadline_then_the_verification_notice_deadline() {
    let w = World::new();
    // Received Monday 03-09: judgment due Wednesday 03-18 (escalation is not shown).
    let received = received(&w, "c1", 1, "330106", at(2026, 3, 9));
    assert_eq!(
        received.reporter_deadlines(),
        vec![ReporterDeadline {
            kind: DeadlineKind::Judgment,
            due: DueOn::Date(date(2026, 3, 18)),
            status: DeadlineStatus::Open,
        }]
    );
    // Accepted 03-10: the judgment met on time; the result notice counts from verification's end.
    let mut clue = accepted(&w, "c1");
    let shown = clue.reporter_deadlines();
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert!(matches!(
        shown[0].status,
        DeadlineStatus::Met { on_time: true, .. }
    ));
    assert_eq!(
        shown[1],
        ReporterDeadline {
            kind: DeadlineKind::VerificationNotice,
            due: DueOn::AfterVerification,
            status: DeadlineStatus::Open,
        }
    );
    // Verification ended Friday 03-20: the notice is due Friday 03-27.
    let cmd = Command::RecordVerification {
        result: VerificationResult::NoViolation,
        ended_on: date(2026, 3, 20),
        note: None,
    };
    run(&w, &mut clue, cmd, &xihu(), at(2026, 3, 23)).expect("verify");
    let shown = clue.reporter_deadlines();
    assert_eq!(shown[1].kind, DeadlineKind::VerificationNotice);
    assert_eq!(shown[1].due, DueOn::Date(date(2026, 3, 27)));
}

#[test]
fn a_deadline_in_a_year_without_calendar_data_is_shown_pending() {
    let w = World::new();
    let clue = received(&w, "c1", 1, "330106", at(2026, 12, 28));
    assert_eq!(
        clue.reporter_deadlines(),
        vec![ReporterDeadline {
            kind: DeadlineKind::Judgment,
            due: DueOn::Pending,
            status: DeadlineStatus::Open,
        }]
    );
}
