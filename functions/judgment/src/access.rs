//! Who may see and act on a clue (art. 5, 18): the handling bureau's officers act; a bureau
//! whose territory holds the clue's location reads it (supervision); a recused officer neither
//! sees nor acts; everyone else is told the clue does not exist.

use domain::{Bureau, BureauDirectory, Clue, Officer, Role};

/// What the caller may do with a clue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// An officer of the handling bureau: may act (the domain decides each action).
    Handle,
    /// An upper bureau (or the bureau that passed the clue up) whose territory holds the clue:
    /// reads, supervises.
    Read,
    /// The officer recused themselves from this clue.
    Recused,
    /// Outside the caller's territory: the clue does not exist for them.
    None,
}

impl Access {
    /// Whether the clue may be shown.
    pub fn sees(self) -> bool {
        matches!(self, Self::Handle | Self::Read)
    }
}

/// The caller's access to `clue`.
pub fn of(officer: &Officer, clue: &Clue, bureaus: &BureauDirectory) -> Access {
    if clue.recused.contains(&officer.id) {
        return Access::Recused;
    }
    if officer.bureau == clue.handler {
        return Access::Handle;
    }
    match bureaus.get(&officer.bureau) {
        Ok(own) if own.territory_contains(&clue.location.division) => Access::Read,
        _ => Access::None,
    }
}

/// Whether `officer` may read the inbox of `bureau`: their own, or one below their bureau.
pub fn reads_bureau(officer: &Officer, bureau: &Bureau, bureaus: &BureauDirectory) -> bool {
    if officer.bureau == bureau.id {
        return true;
    }
    bureaus
        .get(&officer.bureau)
        .is_ok_and(|own| own.is_above(bureau))
}

/// Actions the regulation gives to a bureau's leaders only (art. 18 assignment; escalation and
/// transfers are approved by a leader; the block list, art. 19).
pub fn needs_leader(action: &str) -> bool {
    matches!(
        action,
        "escalate" | "transfer" | "assign" | "block" | "unblock"
    )
}

/// Whether the officer holds the leader role.
pub fn is_leader(officer: &Officer) -> bool {
    officer.has(Role::Leader)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{BureauId, BureauKind, BureauLevel, DivisionCode, OfficerId};

    fn bureau(id: &str, level: BureauLevel, division: &str) -> Bureau {
        Bureau {
            id: BureauId::parse(id).expect("id"),
            name: format!("{id} 局"),
            region: id.to_owned(),
            level,
            kind: BureauKind::Land,
            division: Some(DivisionCode::parse(division).expect("code")),
            city_direct: false,
        }
    }

    fn directory() -> BureauDirectory {
        BureauDirectory::new([
            bureau("land-330000", BureauLevel::Province, "330000"),
            bureau("land-330100", BureauLevel::City, "330100"),
            bureau("land-330106", BureauLevel::County, "330106"),
            bureau("land-330110", BureauLevel::County, "330110"),
            bureau("land-330200", BureauLevel::City, "330200"),
        ])
        .expect("directory")
    }

    fn officer(id: &str, bureau: &str) -> Officer {
        Officer {
            id: OfficerId::parse(id).expect("id"),
            bureau: BureauId::parse(bureau).expect("bureau"),
            roles: [Role::Handler].into(),
        }
    }

    #[test]
    fn territory_decides_who_reads_and_the_handler_alone_acts() {
        let dir = directory();
        let xihu = dir
            .get(&BureauId::parse("land-330106").expect("id"))
            .expect("b")
            .clone();
        let yuhang = dir
            .get(&BureauId::parse("land-330110").expect("id"))
            .expect("b")
            .clone();
        let city = officer("hz", "land-330100");
        let province = officer("zj", "land-330000");
        let sibling = officer("yh", "land-330110");
        let other_city = officer("nb", "land-330200");
        assert!(reads_bureau(&city, &xihu, &dir));
        assert!(reads_bureau(&province, &xihu, &dir));
        assert!(!reads_bureau(&sibling, &xihu, &dir));
        assert!(!reads_bureau(&other_city, &yuhang, &dir));
        assert!(reads_bureau(&sibling, &yuhang, &dir));
        assert!(needs_leader("escalate") && !needs_leader("judge"));
    }
}
