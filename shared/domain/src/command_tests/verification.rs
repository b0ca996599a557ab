//! Recording verification: the clue closes and the five-day notice is checked.

use super::*;

#[test]
fn recording_verification_closes_the_clue_and_checks_the_five_day_notice() {
    let w = World::new();
    let mut clue = w.clue("c1").accepted();
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
    let mut clue = w.clue("c1").accepted();
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
    let clue = w.clue("c1").accepted();
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
    let fresh = w.clue("c2").received();
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
