//! Supervision by the bureaus above.

use super::*;

#[test]
fn only_bureaus_above_supervise_and_the_due_date_is_ahead() {
    let w = World::new();
    let mut clue = w.clue("c1").received();
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
