//! Test fixtures: a clue as the domain receives it.

use chrono::{NaiveDate, TimeZone, Utc};
use domain::command::Rules;
use domain::event::{Channel, Location};
use domain::scope::{Category, CategoryChoice, ScopeVersion};
use domain::text::{Address, Facts};
use domain::timeline::Head;
use domain::{
    Actor, Bureau, BureauDirectory, BureauId, BureauKind, BureauLevel, Clue, ClueId, ClueNo,
    DivisionCode, Divisions, ReceiveClue, ReporterKey, WorkingCalendar,
};
use store::StoredClue;

/// Clue `id`, received on 2026-03-10 in Hangzhou Xihu as `330106-20260310-0001`.
pub(crate) fn stored_clue(id: &str) -> StoredClue {
    let division = DivisionCode::parse("330106").expect("code");
    let bureau = Bureau {
        id: BureauId::parse("land-330106").expect("id"),
        name: "杭州市西湖区自然资源和规划局".into(),
        region: "杭州市西湖区".into(),
        level: BureauLevel::County,
        kind: BureauKind::Land,
        division: Some(division),
        city_direct: false,
    };
    let bureaus = BureauDirectory::new([bureau]).expect("directory");
    let rules = Rules {
        calendar: WorkingCalendar::embedded(),
        bureaus: &bureaus,
        divisions: Divisions::embedded(),
    };
    let now = Utc
        .with_ymd_and_hms(2026, 3, 10, 2, 0, 0)
        .single()
        .expect("t");
    let scope = ScopeVersion::default_for(division.city().expect("city"), now);
    let reporter = ReporterKey::parse(&"ab".repeat(32)).expect("key");
    let cmd = ReceiveClue {
        clue_id: ClueId::parse(id).expect("id"),
        clue_no: ClueNo::new(
            division,
            NaiveDate::from_ymd_opt(2026, 3, 10).expect("d"),
            1,
        ),
        reporter: reporter.clone(),
        report: domain::report::Report {
            location: Location {
                division,
                address: Address::parse("留下街道某村东侧农田").expect("address"),
                gps: None,
            },
            subject: None,
            category: CategoryChoice::Annex(Category::FarmlandDestruction),
            facts: Facts::parse("在基本农田上堆放建材并硬化地面。").expect("facts"),
            evidence_left_out: Vec::new(),
            notice_version: scope.reporting_notice().version_id,
            consent: true,
            channel: Channel::H5,
            resubmission_of: None,
        },
        evidence: Vec::new(),
        real_name: false,
    };
    let events =
        domain::receive(cmd, &scope, &Actor::Reporter { reporter }, now, &rules).expect("receipt");
    StoredClue {
        clue: Clue::from_receipt(&events).expect("clue"),
        head: Head::genesis(),
    }
}
