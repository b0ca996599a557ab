//! Transfer to the enforcement department, on or off the platform.

use super::*;

#[test]
fn an_on_platform_transfer_makes_the_enforcement_department_the_handler() {
    let w = World::new();
    let mut clue = w.clue("c1").received();
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
    let mut clue = w.clue("c1").accepted();
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
