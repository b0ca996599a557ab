//! Resubmission, delivery records, identity reveal, replay from history, the sweep and the reporter's deadlines.

use super::*;

#[test]
fn a_need_material_clue_is_resubmitted_once_by_its_reporter() {
    let w = World::new();
    let mut clue = w.clue("c1").received();
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
    let mut clue = w.clue("c1").received();
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
    let clue = w.clue("c1").received();
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
    let mut clue = w.clue("c1").received();
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
    let received = w.clue("c1").received();
    assert_eq!(
        received.reporter_deadlines(),
        vec![ReporterDeadline {
            kind: DeadlineKind::Judgment,
            due: DueOn::Date(date(2026, 3, 18)),
            status: DeadlineStatus::Open,
        }]
    );
    // Accepted 03-10: the judgment met on time; the result notice counts from verification's end.
    let mut clue = w.clue("c1").accepted();
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
    let clue = w.clue("c1").on(at(2026, 12, 28)).received();
    assert_eq!(
        clue.reporter_deadlines(),
        vec![ReporterDeadline {
            kind: DeadlineKind::Judgment,
            due: DueOn::Pending,
            status: DeadlineStatus::Open,
        }]
    );
}
