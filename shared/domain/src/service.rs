//! Where the platform serves: a place is served when a land bureau on the platform handles
//! it (art. 4, 5); elsewhere the reporter is told so before writing anything, and what to do.

use crate::bureau::BureauDirectory;
use crate::division::{DivisionCode, DivisionLevel};
use crate::divisions::Divisions;

/// Whether a clue reported at the county-level `location` has a bureau on the platform.
pub fn is_served(bureaus: &BureauDirectory, location: &DivisionCode) -> bool {
    bureaus.handling_bureau(location).is_ok()
}

/// Whether `code` (province, city or county) is served anywhere: for a county-level location
/// [`is_served`], for a province or city whether any reportable place below it is.
pub fn is_served_within(
    bureaus: &BureauDirectory,
    divisions: &Divisions,
    code: &DivisionCode,
) -> bool {
    if divisions.is_reportable_location(code) {
        return is_served(bureaus, code);
    }
    match code.level() {
        DivisionLevel::County => false,
        DivisionLevel::City | DivisionLevel::Province => divisions
            .children(code)
            .any(|d| is_served_within(bureaus, divisions, &d.code())),
    }
}

/// What a reporter reads about a place the platform does not serve yet (H5 form and chat).
pub fn not_served_text(place: &str) -> String {
    format!(
        "{place}的国土资源主管部门暂未接入本平台，暂不能在此网上举报。\
         请拨打12336国土资源违法举报电话，或直接向当地自然资源主管部门举报。"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bureau::{Bureau, BureauId, BureauKind, BureauLevel};

    fn code(s: &str) -> DivisionCode {
        DivisionCode::parse(s).expect("code")
    }

    fn xihu_only() -> BureauDirectory {
        BureauDirectory::new([Bureau {
            id: BureauId::parse("b-330106").expect("id"),
            name: "杭州市西湖区自然资源局".into(),
            region: "杭州市西湖区".into(),
            kind: BureauKind::Land,
            level: BureauLevel::County,
            division: Some(code("330106")),
            city_direct: false,
        }])
        .expect("directory")
    }

    #[test]
    fn a_place_is_served_only_with_a_handling_bureau() {
        let dir = xihu_only();
        let div = Divisions::embedded();
        assert!(is_served(&dir, &code("330106")));
        assert!(!is_served(&dir, &code("330108")), "滨江区 has no bureau");
        assert!(!is_served(&dir, &code("110101")), "北京市东城区");
        assert!(is_served_within(&dir, div, &code("330100")));
        assert!(is_served_within(&dir, div, &code("330000")));
        assert!(!is_served_within(&dir, div, &code("110000")));
        assert!(!is_served_within(&dir, div, &code("330200")));
        assert!(not_served_text("北京市东城区").contains("12336"));
    }
}
