//! Who files and acknowledges a city's scope, and what a filing becomes.

use std::collections::BTreeSet;

use chrono::TimeZone;

use super::*;
use crate::bureau::tests::{code, directory, id};
use crate::scope::{CategoryChoice, Exclusion};

fn officer(name: &str, bureau: &str, roles: &[Role]) -> Officer {
    Officer {
        id: crate::ids::OfficerId::parse(name).expect("officer id"),
        bureau: id(bureau),
        roles: roles.iter().copied().collect::<BTreeSet<_>>(),
    }
}

fn at(d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, d, 2, 0, 0)
        .single()
        .expect("t")
}

fn widened(effective_from: DateTime<Utc>) -> ScopeProposal {
    ScopeProposal {
        extra_categories: vec![ExtraCategory {
            code: "river_sand".into(),
            name: "非法采挖河道砂石".into(),
            description: "未经许可在河道内采挖砂石".into(),
        }],
        exclusions: Exclusion::ALL
            .into_iter()
            .map(|exclusion| ExclusionRule {
                exclusion,
                narrowed_to: None,
            })
            .collect(),
        effective_from,
        reference: "杭规资备〔2026〕3号".into(),
    }
}

#[test]
fn a_city_leader_files_a_wider_scope_with_its_province_from_a_future_time() {
    let bureaus = directory();
    let history = ScopeHistory::new(code("330100"), at(1)).expect("history");
    let city = bureaus.get(&id("land-330100")).expect("city");
    let leader = officer("hz-l", "land-330100", &[Role::Leader]);
    let v = file(&history, widened(at(12)), &leader, city, at(10)).expect("filed");
    assert_eq!(v.version, 2);
    let filing = v.filing.clone().expect("filing");
    assert_eq!(filing.province, code("330000"));
    assert_eq!(
        filing.filed_on,
        chrono::NaiveDate::from_ymd_opt(2026, 3, 10).expect("d")
    );
    assert!(
        v.check_category(&CategoryChoice::CityExtra("river_sand".into()))
            .is_ok()
    );
    assert!(v.reporting_notice().text.contains("非法采挖河道砂石"));
    let mut h = history.clone();
    h.add(v).expect("adds");
    assert_eq!(h.in_force(at(11)).version, 1, "before the effective time");
    assert_eq!(h.in_force(at(12)).version, 2);

    let handler = officer("hz-h", "land-330100", &[Role::Handler, Role::Supervisor]);
    let county_leader = officer("xh-l", "land-330106", &[Role::Leader]);
    let county = bureaus.get(&id("land-330106")).expect("county");
    assert_eq!(
        file(&history, widened(at(12)), &handler, city, at(10)),
        Err(FilingError::NotCityLeader)
    );
    assert_eq!(
        file(&history, widened(at(12)), &county_leader, county, at(10)),
        Err(FilingError::NotCityLeader)
    );
    assert_eq!(
        file(&history, widened(at(9)), &leader, city, at(10)),
        Err(FilingError::EffectiveInPast)
    );
    let mut blank = widened(at(12));
    blank.reference = "  ".into();
    assert_eq!(
        file(&history, blank, &leader, city, at(10)),
        Err(FilingError::BadReference)
    );
    let mut bad = widened(at(12));
    bad.extra_categories[0].code = "Bad Code".into();
    assert_eq!(
        file(&history, bad, &leader, city, at(10)).map_err(|e| e.code()),
        Err("bad_extra_category")
    );
}

#[test]
fn only_the_citys_own_province_acknowledges() {
    let bureaus = directory();
    let province = bureaus.get(&id("land-330000")).expect("province");
    let ok = officer("zj-s", "land-330000", &[Role::Supervisor]);
    assert_eq!(may_acknowledge(&ok, province, code("330100")), Ok(()));
    let handler = officer("zj-h", "land-330000", &[Role::Handler]);
    assert_eq!(
        may_acknowledge(&handler, province, code("330100")),
        Err(FilingError::NotProvince)
    );
    let other = bureaus.get(&id("land-320000")).expect("jiangsu");
    let js = officer("js-s", "land-320000", &[Role::Supervisor]);
    assert_eq!(
        may_acknowledge(&js, other, code("330100")),
        Err(FilingError::NotProvince)
    );
    let city = bureaus.get(&id("land-330100")).expect("city");
    let hz = officer("hz-l", "land-330100", &[Role::Leader]);
    assert_eq!(
        may_acknowledge(&hz, city, code("330100")),
        Err(FilingError::NotProvince)
    );
}
