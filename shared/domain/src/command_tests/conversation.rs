//! Messages between reporter and officer, recusal and assignment.

use super::*;

#[test]
fn reporter_and_officer_talk_until_the_clue_is_closed() {
    let w = World::new();
    let mut clue = w.clue("c1").received();
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
    let mut clue = w.clue("c1").received();
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
