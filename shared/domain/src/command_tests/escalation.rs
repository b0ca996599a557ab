//! Escalation one level at a time, and designation by a bureau above.

use super::*;

#[test]
fn escalation_goes_up_one_level_at_a_time_and_stops_at_the_ministry() {
    let w = World::new();
    let mut clue = w.clue("c1").received();
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
    let mut clue = w.clue("c1").received();
    run(&w, &mut clue, escalate(), &xihu(), at(2026, 3, 12)).expect("escalate");
    assert!(clue.met_late(DeadlineKind::Escalation));
}

#[test]
fn designation_restarts_the_judgment_clock_at_the_designated_bureau() {
    let w = World::new();
    let mut clue = w.clue("c1").received();
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
    let clue = w.clue("c1").received();
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
    let mut clue = w.clue("c1").received();
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
