//! 通报 bulletins in the domain: who generates, reviews and issues them, who reads them, the
//! period and title rules, and how a figure column sums its counters.

use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeZone, Utc};
use domain::bulletin::{
    Bulletin, BulletinError, BulletinId, BulletinStatus, DivisionLine, FIGURE_COLUMNS, FigureValue,
    Snapshot, Standing, children, parse_title, period,
};
use domain::figures::{DayCounters, Figures, Period};
use domain::{Bureau, BureauDirectory, BureauId, BureauKind, BureauLevel, DivisionCode, Officer};
use domain::{OfficerId, Role};

fn bid(s: &str) -> BureauId {
    BureauId::parse(s).expect("bureau id")
}

fn land(id: &str, level: BureauLevel, division: &str) -> Bureau {
    Bureau {
        id: bid(id),
        name: format!("{id}局"),
        region: id.to_owned(),
        level,
        kind: BureauKind::Land,
        division: Some(DivisionCode::parse(division).expect("code")),
        city_direct: false,
    }
}

fn directory() -> BureauDirectory {
    BureauDirectory::new([
        land("land-330000", BureauLevel::Province, "330000"),
        land("land-330100", BureauLevel::City, "330100"),
        land("land-330106", BureauLevel::County, "330106"),
        land("land-330110", BureauLevel::County, "330110"),
        land("land-330200", BureauLevel::City, "330200"),
        land("land-330203", BureauLevel::County, "330203"),
    ])
    .expect("directory")
}

fn officer(id: &str, bureau: &str, roles: &[Role]) -> Officer {
    Officer {
        id: OfficerId::parse(id).expect("id"),
        bureau: bid(bureau),
        roles: roles.iter().copied().collect(),
    }
}

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).expect("date")
}

fn draft(by: &Officer) -> Bulletin {
    let dir = directory();
    let (_, kids) = Bulletin::check_generate(by, &dir).expect("may generate");
    Bulletin::draft(
        BulletinId::derive(&by.bureau, "k1"),
        by,
        "2026年第一季度通报".into(),
        period(day(1, 1), day(3, 31)).expect("period"),
        Snapshot::default(),
        kids.iter().map(|b| b.id.clone()).collect(),
        Utc.with_ymd_and_hms(2026, 4, 1, 2, 0, 0)
            .single()
            .expect("t"),
    )
}

#[test]
fn a_city_issues_to_its_counties_and_a_province_to_its_cities() {
    let dir = directory();
    let ids = |b: &str| -> Vec<String> {
        let issuer = dir.get(&bid(b)).expect("bureau");
        children(issuer, &dir)
            .iter()
            .map(|b| b.id.to_string())
            .collect()
    };
    assert_eq!(ids("land-330100"), ["land-330106", "land-330110"]);
    assert_eq!(ids("land-330000"), ["land-330100", "land-330200"]);
    assert!(ids("land-330106").is_empty());
    let county_leader = officer("xh", "land-330106", &[Role::Leader]);
    assert_eq!(
        Bulletin::check_generate(&county_leader, &dir).err(),
        Some(BulletinError::NotAnUpperBureau)
    );
    let city_handler = officer("hz-h", "land-330100", &[Role::Handler]);
    assert_eq!(
        Bulletin::check_generate(&city_handler, &dir).err(),
        Some(BulletinError::NotPermitted)
    );
}

#[test]
fn a_draft_is_reviewed_then_issued_and_only_then_seen_by_the_children() {
    let supervisor = officer("hz-s", "land-330100", &[Role::Supervisor]);
    let leader = officer("hz-l", "land-330100", &[Role::Leader]);
    let mut b = draft(&supervisor);
    let xihu = bid("land-330106");
    let ningbo = bid("land-330200");
    assert_eq!(b.standing(&bid("land-330100")), Standing::Issuer);
    assert_eq!(
        b.standing(&xihu),
        Standing::None,
        "a draft is the issuer's alone"
    );

    let now = Utc
        .with_ymd_and_hms(2026, 4, 2, 2, 0, 0)
        .single()
        .expect("t");
    assert_eq!(
        b.issue(&leader, now),
        Err(BulletinError::WrongStatus(BulletinStatus::Draft)),
        "a draft is reviewed first"
    );
    b.review(&leader).expect("review");
    assert_eq!((b.status, b.version), (BulletinStatus::Reviewed, 2));
    let child = officer("xh-l", "land-330106", &[Role::Leader, Role::Supervisor]);
    assert_eq!(b.issue(&child, now), Err(BulletinError::NotPermitted));
    b.issue(&supervisor, now).expect("issue");
    assert_eq!((b.status, b.version), (BulletinStatus::Issued, 3));
    assert_eq!(b.issued_at, Some(now));
    assert_eq!(b.standing(&xihu), Standing::Recipient);
    assert_eq!(b.standing(&ningbo), Standing::None, "another city's bureau");
    assert_eq!(
        b.edit(&leader, Some("改".into()), None),
        Err(BulletinError::WrongStatus(BulletinStatus::Issued)),
        "an issued bulletin no longer changes"
    );
}

#[test]
fn an_edit_sends_a_reviewed_bulletin_back_to_draft() {
    let leader = officer("hz-l", "land-330100", &[Role::Leader]);
    let mut b = draft(&leader);
    b.review(&leader).expect("review");
    b.edit(&leader, Some("新标题".into()), None).expect("edit");
    assert_eq!(b.status, BulletinStatus::Draft);
    assert_eq!(b.reviewed_by, None);
    assert_eq!(b.title, "新标题");
    assert_eq!(b.version, 3);
}

#[test]
fn periods_titles_and_ids_are_checked() {
    assert_eq!(
        period(day(3, 2), day(3, 1)),
        Err(BulletinError::InvalidPeriod)
    );
    assert!(period(day(1, 1), day(12, 31)).is_ok());
    let long = period(
        day(1, 1),
        NaiveDate::from_ymd_opt(2027, 1, 2).expect("date"),
    );
    assert_eq!(long, Err(BulletinError::InvalidPeriod));
    assert_eq!(parse_title("  "), Err(BulletinError::InvalidTitle));
    assert_eq!(parse_title("a\u{7}b"), Err(BulletinError::InvalidTitle));
    assert_eq!(
        parse_title(&"通".repeat(101)),
        Err(BulletinError::InvalidTitle)
    );
    assert_eq!(parse_title(" 一季度 ").as_deref(), Ok("一季度"));
    let id = BulletinId::derive(&bid("land-330100"), "k1");
    assert_eq!(BulletinId::parse(id.as_str()), Ok(id.clone()));
    assert_ne!(id, BulletinId::derive(&bid("land-330000"), "k1"));
    assert_eq!(
        BulletinId::parse("bl-../../x"),
        Err(BulletinError::InvalidId)
    );
}

#[test]
fn the_columns_read_the_figures_of_the_period() {
    let counters = |pairs: &[(&str, i64)]| -> BTreeMap<String, i64> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    };
    // February counts outside the period; the open gauge sums every day up to its end.
    let days: DayCounters = [
        (day(2, 20), counters(&[("received", 5), ("open", 5)])),
        (
            day(3, 10),
            counters(&[
                ("received", 10),
                ("open", 10),
                ("judged.accept", 4),
                ("judged.out_of_scope", 2),
                ("on_time.judgment", 3),
                ("late.judgment", 1),
                ("transferred.on_platform", 1),
                ("transferred.off_platform", 1),
            ]),
        ),
        (day(3, 20), counters(&[("open", -6)])),
    ]
    .into_iter()
    .collect();
    let march = Period::new(day(3, 1), day(3, 31)).expect("period");
    let line = DivisionLine {
        bureau: bid("land-330106"),
        name: "西湖区".into(),
        figures: Figures::of(&days, march),
    };
    let by_code: BTreeMap<&str, FigureValue> = FIGURE_COLUMNS
        .iter()
        .map(|(c, _)| *c)
        .zip(line.columns())
        .collect();
    assert_eq!(by_code["received"], FigureValue::Count(10));
    assert_eq!(by_code["accepted"], FigureValue::Count(4));
    assert_eq!(by_code["out_of_scope"], FigureValue::Count(2));
    assert_eq!(by_code["transferred"], FigureValue::Count(2));
    assert_eq!(by_code["on_time"], FigureValue::Count(3));
    assert_eq!(by_code["late"], FigureValue::Count(1));
    assert_eq!(by_code["open"], FigureValue::Count(9));
    assert_eq!(by_code["on_time_rate"], FigureValue::Percent(Some(75.0)));
    assert_eq!(by_code["supervised"], FigureValue::Count(0));
    assert_eq!(line.value("no_such_column"), FigureValue::Count(0));
    let empty = DivisionLine {
        figures: Figures::default(),
        ..line
    };
    assert_eq!(empty.value("on_time_rate"), FigureValue::Percent(None));
}
