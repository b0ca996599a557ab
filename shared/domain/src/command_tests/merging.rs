//! Merging and unmerging clues: each reporter gets the primary's notices on their own clue.

use super::*;

fn merge_into(primary: &Clue) -> Command {
    Command::Merge {
        primary: Box::new(primary.summary()),
        reason: None,
    }
}

#[test]
fn merged_reporters_each_receive_the_primarys_notices_with_their_own_clue() {
    let w = World::new();
    let mut primary = w.clue("p").received();
    let mut member = w.clue("m").by(2).on(at(2026, 3, 10)).received();
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
    let mut primary = w.clue("p").received();
    let mut member = w.clue("m").by(2).on(at(2026, 3, 10)).received();
    let mut other = w.clue("o").by(3).on(at(2026, 3, 10)).received();
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
    let earlier = w.clue("e").on(at(2026, 2, 3)).received();
    let mut primary = w.clue("p").received();
    let mut member = w.clue("m").by(2).on(at(2026, 3, 10)).received();
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
    let mut primary = w.clue("p").received();
    run(
        &w,
        &mut primary,
        judge(JudgmentRequest::Accept),
        &xihu(),
        at(2026, 3, 10),
    )
    .expect("accept");
    let mut member = w.clue("m").by(2).on(at(2026, 3, 11)).received();
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
    let primary = w.clue("p").received();
    let clue = w.clue("c").by(2).on(at(2026, 3, 10)).received();
    // Into itself.
    assert_eq!(
        clue.decide(&merge_into(&clue), &xihu(), now, &w.rules()),
        Err(DomainError::MergeIntoSelf)
    );
    // Same reporter: a duplicate, not a merge.
    let same = w.clue("s").on(at(2026, 3, 10)).received();
    assert_eq!(
        same.decide(&merge_into(&primary), &xihu(), now, &w.rules()),
        Err(DomainError::MergeSameReporter)
    );
    // Another county.
    let elsewhere = w
        .clue("x")
        .by(3)
        .in_division("330110")
        .on(at(2026, 3, 10))
        .received();
    let yuhang = officer("yh", "land-330110", &[Role::Handler]);
    assert_eq!(
        elsewhere.decide(&merge_into(&primary), &yuhang, now, &w.rules()),
        Err(DomainError::MergeAcrossBureaus)
    );
    // Into a merged clue.
    let mut merged = w.clue("mm").by(4).on(at(2026, 3, 10)).received();
    run(&w, &mut merged, merge_into(&primary), &xihu(), now).expect("merge");
    assert_eq!(
        clue.decide(&merge_into(&merged), &xihu(), now, &w.rules()),
        Err(DomainError::MergeIntoMerged)
    );
    // Into a closed clue.
    let mut closed = w.clue("cl").by(5).on(at(2026, 3, 10)).received();
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
    let mut with_members = w.clue("wm").by(6).on(at(2026, 3, 10)).received();
    let mut joiner = w.clue("j").by(7).on(at(2026, 3, 10)).received();
    let events = run(&w, &mut joiner, merge_into(&with_members), &xihu(), now).expect("merge");
    with_members.apply(&events).expect("apply");
    assert_eq!(
        with_members.decide(&merge_into(&primary), &xihu(), now, &w.rules()),
        Err(DomainError::HasMembers)
    );
    // An accepted clue only into an accepted one.
    let mut accepted = w.clue("ac").by(8).on(at(2026, 3, 10)).received();
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
