//! Judgment: accept, out of scope, duplicate, need material, and who may judge.

use super::*;

#[test]
fn accepting_meets_the_judgment_deadline_and_names_the_handling_bureau() {
    let w = World::new();
    let mut clue = w.clue("c1").received();
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
    let mut clue = w.clue("c1").received();
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
    let mut clue = w.clue("c1").received();
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
    let mut other = w.clue("c2").received();
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
    let earlier = w.clue("c0").on(at(2026, 2, 3)).received();
    let mut clue = w.clue("c1").received();
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
    let clue = w.clue("c1").received();
    let other_reporter = w.clue("c0").by(2).on(at(2026, 2, 3)).received();
    let later = w.clue("c2").on(at(2026, 3, 10)).received();
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
    let mut clue = w.clue("c1").received();
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
    let mut clue = w.clue("c1").received();
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
    let mut closed = w.clue("c2").received();
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
    let clue = w.clue("c1").received();
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
