//! Receipt: deadlines, routing, the receipt notice, and the receipts the rules refuse.

use super::*;

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
    let clue = w.clue("c1").in_division("330203").received();
    assert_eq!(clue.handler, id("land-330200"));
}

#[test]
fn a_receipt_is_refused_without_consent_or_with_a_stale_notice() {
    let w = World::new();
    let scope = scope_for("330106");
    let mut cmd = submission("c1", 1, "330106");
    cmd.report.consent = false;
    assert_eq!(
        receive(cmd, &scope, &as_reporter(1), at(2026, 3, 9), &w.rules()),
        Err(DomainError::ConsentRequired)
    );
    let mut cmd = submission("c1", 1, "330106");
    cmd.report.notice_version = "330100-v0-deadbeef".into();
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
        cmd.report.location.division = code(bad);
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
    cmd.report.category = CategoryChoice::CityExtra("sand".into());
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
    cmd.report.notice_version = scope_for("340102").reporting_notice().version_id;
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
    let mut clue = w.clue("c1").on(at(2026, 12, 28)).received();
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

/// A 2027 document for tests (not the State Council's: 2027 is not published in the data).
fn test_2027(extra_holiday: Option<&str>) -> String {
    let mut holidays = vec![r#"{"date": "2027-01-01", "name": "元旦"}"#.to_owned()];
    if let Some(d) = extra_holiday {
        holidays.push(format!(r#"{{"date": "{d}", "name": "测试"}}"#));
    }
    format!(
        r#"{{"year": 2027, "source": "测试通知", "holidays": [{}], "makeup_workdays": []}}"#,
        holidays.join(",")
    )
}

#[test]
fn a_new_year_resolves_pending_deadlines_and_an_amendment_moves_only_what_it_touches() {
    let w = World::new();
    let with_2027 = WorkingCalendar::embedded()
        .with_years([test_2027(None)])
        .expect("2027");
    let amended = WorkingCalendar::embedded()
        .with_years([test_2027(Some("2027-01-05"))])
        .expect("amended");
    let rules = |calendar| Rules {
        calendar,
        bureaus: &w.bureaus,
        divisions: Divisions::embedded(),
    };
    let decide = |clue: &mut Clue, calendar, now| {
        let events = clue.decide(
            &Command::ResolveDeadlines,
            &Actor::System,
            now,
            &rules(calendar),
        )?;
        clue.apply(&events).expect("apply");
        Ok::<_, DomainError>(events)
    };
    // Received Monday 2026-12-28: escalation (2 WD) is due 2026-12-30, judgment (7 WD) pending.
    let mut a = w.clue("c1").on(at(2026, 12, 28)).received();
    let events = decide(&mut a, &with_2027, at(2026, 12, 29)).expect("resolve");
    assert_eq!(events.len(), 1);
    assert!(matches!(
        events[0].kind,
        EventKind::DeadlineResolved { kind: DeadlineKind::Judgment, due, .. } if due == end_of(2027, 1, 7)
    ));
    // Nothing to do a second time.
    assert!(decide(&mut a, &with_2027, at(2026, 12, 29)).is_err());
    // Received Wednesday 2026-12-30: escalation due 2027-01-04, judgment 2027-01-11.
    let mut b = w.clue("c2").by(2).on(at(2026, 12, 30)).received();
    decide(&mut b, &with_2027, at(2026, 12, 30)).expect("resolve b");
    // Amending 2027 with a holiday on 2027-01-05 moves a's judgment (01-07 -> 01-08) and b's
    // judgment (01-11 -> 01-12); a's escalation (2026) and b's escalation (01-04) stay.
    let moved = |events: &[Event]| -> Vec<(DeadlineKind, DateTime<Utc>, DateTime<Utc>)> {
        events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::DeadlineMoved {
                    kind,
                    from,
                    due,
                    source,
                    ..
                } => {
                    assert_eq!(source, "测试通知");
                    Some((*kind, *from, *due))
                }
                _ => None,
            })
            .collect()
    };
    let events = decide(&mut a, &amended, at(2026, 12, 31)).expect("amend a");
    assert_eq!(
        moved(&events),
        [(
            DeadlineKind::Judgment,
            end_of(2027, 1, 7),
            end_of(2027, 1, 8)
        )]
    );
    let events = decide(&mut b, &amended, at(2026, 12, 31)).expect("amend b");
    assert_eq!(
        moved(&events),
        [(
            DeadlineKind::Judgment,
            end_of(2027, 1, 11),
            end_of(2027, 1, 12)
        )]
    );
    assert_eq!(
        a.open_deadline(DeadlineKind::Judgment).and_then(|d| d.due),
        Some(end_of(2027, 1, 8))
    );
    // A recorded miss keeps its verdict: amending back does not move it.
    let missed = a
        .decide(
            &Command::RecordMissed {
                kind: DeadlineKind::Judgment,
            },
            &Actor::System,
            at(2027, 1, 11),
            &rules(&amended),
        )
        .expect("missed");
    a.apply(&missed).expect("apply");
    assert!(decide(&mut a, &with_2027, at(2027, 1, 11)).is_err());
    assert_eq!(
        a.open_deadline(DeadlineKind::Judgment).and_then(|d| d.due),
        Some(end_of(2027, 1, 8))
    );
}
