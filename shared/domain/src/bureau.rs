//! Bureaus (land-and-resources authorities and enforcement departments) and jurisdiction
//! between them: who handles a location, who is above whom, who may designate whom (arts. 4, 5, 20).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::division::{DivisionCode, DivisionLevel};

/// A bureau's stable identifier, e.g. `land-330106` or `enf-330106`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BureauId(String);

/// Why a string is not a bureau id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a bureau id has 1 to 64 characters of a-z, 0-9, '-' or '_'")]
pub struct BureauIdError;

impl BureauId {
    /// Parses an id: 1–64 characters of `a-z0-9-_`.
    ///
    /// # Errors
    /// [`BureauIdError`] for anything else.
    pub fn parse(s: &str) -> Result<Self, BureauIdError> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(BureauIdError)
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BureauId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for BureauId {
    type Error = BureauIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<BureauId> for String {
    fn from(id: BureauId) -> String {
        id.0
    }
}

/// The administrative level of a bureau, ordered from the bottom up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BureauLevel {
    County,
    City,
    Province,
    Ministry,
}

impl BureauLevel {
    /// The division level a bureau of this level sits on (`None` for the ministry).
    pub fn division_level(self) -> Option<DivisionLevel> {
        match self {
            Self::County => Some(DivisionLevel::County),
            Self::City => Some(DivisionLevel::City),
            Self::Province => Some(DivisionLevel::Province),
            Self::Ministry => None,
        }
    }
}

/// What a bureau is: a land-and-resources authority, or an enforcement department that took
/// over investigation duties (art. 20).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BureauKind {
    Land,
    Enforcement,
}

/// Why a bureau definition or a jurisdiction question has no valid answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JurisdictionError {
    #[error("bureau {0} is not known")]
    UnknownBureau(BureauId),
    #[error("a {level:?} bureau must sit on a division of that level")]
    LevelMismatch { level: BureauLevel },
    #[error("only a city land bureau can be configured city_direct")]
    CityDirectNotCity,
    #[error("only the ministry has no division, and only land bureaus are the ministry")]
    MinistryShape,
    #[error("a bureau needs a name and a region name")]
    MissingName,
    #[error("bureau {0} is defined twice")]
    DuplicateBureau(BureauId),
    #[error("two land bureaus sit on division {0}")]
    DuplicateLandBureau(DivisionCode),
    #[error("division {0} is not a county-level location")]
    NotCountyLevel(DivisionCode),
    #[error("no land bureau handles division {0}")]
    NoHandlingBureau(DivisionCode),
    #[error("the ministry is the top: nothing is above it")]
    AboveMinistry,
    #[error("no land bureau above {0} is on the platform")]
    NoParent(BureauId),
    #[error("bureau {target} is outside the territory of {upper}")]
    OutsideTerritory { upper: BureauId, target: BureauId },
}

/// A land-and-resources authority or an enforcement department on the platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bureau {
    pub id: BureauId,
    /// Full name, e.g. `杭州市西湖区自然资源和规划局`.
    pub name: String,
    /// The region name used in notices (`{region}`), e.g. `杭州市西湖区`.
    pub region: String,
    pub level: BureauLevel,
    pub kind: BureauKind,
    /// The division the bureau sits on; `None` only for the ministry.
    pub division: Option<DivisionCode>,
    /// A city bureau that handles its counties' clues itself (art. 5, second paragraph).
    #[serde(default)]
    pub city_direct: bool,
}

impl Bureau {
    /// Checks that the definition is coherent: level and division agree, only the ministry has
    /// no division, only city land bureaus may be `city_direct`, names are present.
    ///
    /// # Errors
    /// The first incoherence found, as a [`JurisdictionError`].
    pub fn validate(&self) -> Result<(), JurisdictionError> {
        if self.name.trim().is_empty() || self.region.trim().is_empty() {
            return Err(JurisdictionError::MissingName);
        }
        match (self.level.division_level(), self.division) {
            (None, None) if self.kind == BureauKind::Land => {}
            (None, _) | (Some(_), None) => return Err(JurisdictionError::MinistryShape),
            (Some(expected), Some(code)) if code.level() != expected => {
                return Err(JurisdictionError::LevelMismatch { level: self.level });
            }
            _ => {}
        }
        if self.city_direct && !(self.level == BureauLevel::City && self.kind == BureauKind::Land) {
            return Err(JurisdictionError::CityDirectNotCity);
        }
        Ok(())
    }

    /// Whether `code` lies in this bureau's territory (the ministry's is the whole country).
    pub fn territory_contains(&self, code: &DivisionCode) -> bool {
        match &self.division {
            None => true,
            Some(own) => own.contains(code),
        }
    }

    /// Whether this bureau is strictly above `other`: a higher level whose territory holds it.
    pub fn is_above(&self, other: &Bureau) -> bool {
        self.level > other.level
            && match &other.division {
                None => false,
                Some(code) => self.territory_contains(code),
            }
    }
}

/// Every bureau on the platform, indexed for jurisdiction questions.
#[derive(Debug, Clone, Default)]
pub struct BureauDirectory {
    bureaus: BTreeMap<BureauId, Bureau>,
    land_by_division: BTreeMap<DivisionCode, BureauId>,
    ministry: Option<BureauId>,
}

impl BureauDirectory {
    /// Builds the directory from bureau definitions, validating each and their uniqueness.
    ///
    /// # Errors
    /// An invalid bureau, a duplicated id, or two land bureaus on one division.
    pub fn new(bureaus: impl IntoIterator<Item = Bureau>) -> Result<Self, JurisdictionError> {
        let mut dir = Self::default();
        for bureau in bureaus {
            bureau.validate()?;
            if dir.bureaus.contains_key(&bureau.id) {
                return Err(JurisdictionError::DuplicateBureau(bureau.id));
            }
            if bureau.kind == BureauKind::Land {
                match bureau.division {
                    None => dir.ministry = Some(bureau.id.clone()),
                    Some(code) => {
                        if dir
                            .land_by_division
                            .insert(code, bureau.id.clone())
                            .is_some()
                        {
                            return Err(JurisdictionError::DuplicateLandBureau(code));
                        }
                    }
                }
            }
            dir.bureaus.insert(bureau.id.clone(), bureau);
        }
        Ok(dir)
    }

    /// The bureau with this id.
    ///
    /// # Errors
    /// [`JurisdictionError::UnknownBureau`].
    pub fn get(&self, id: &BureauId) -> Result<&Bureau, JurisdictionError> {
        self.bureaus
            .get(id)
            .ok_or_else(|| JurisdictionError::UnknownBureau(id.clone()))
    }

    /// All bureaus, ordered by id.
    pub fn iter(&self) -> impl Iterator<Item = &Bureau> {
        self.bureaus.values()
    }

    /// The land bureau sitting on exactly this division, if any.
    pub fn land_bureau_of(&self, code: &DivisionCode) -> Option<&Bureau> {
        self.land_by_division
            .get(code)
            .and_then(|id| self.bureaus.get(id))
    }

    /// The ministry, if it is on the platform.
    pub fn ministry(&self) -> Option<&Bureau> {
        self.ministry.as_ref().and_then(|id| self.bureaus.get(id))
    }

    /// The bureau that handles a clue reported at a county-level `location` (art. 4, 5): the
    /// county bureau, unless the county's city bureau is `city_direct`, then the city bureau. A
    /// city without counties (e.g. 东莞市) is its own location and its city bureau handles it. A
    /// county whose bureau is not on the platform falls to its city bureau, which may always
    /// act directly (art. 5).
    ///
    /// # Errors
    /// [`JurisdictionError::NotCountyLevel`] for a province code, [`JurisdictionError::NoHandlingBureau`]
    /// when neither the county nor its city has a land bureau.
    pub fn handling_bureau(&self, location: &DivisionCode) -> Result<&Bureau, JurisdictionError> {
        if location.level() == DivisionLevel::Province {
            return Err(JurisdictionError::NotCountyLevel(*location));
        }
        let city = location.city().and_then(|c| self.land_bureau_of(&c));
        if let Some(city) = city.filter(|c| c.city_direct) {
            return Ok(city);
        }
        if location.level() == DivisionLevel::County
            && let Some(county) = self.land_bureau_of(location)
        {
            return Ok(county);
        }
        city.ok_or(JurisdictionError::NoHandlingBureau(*location))
    }

    /// The land bureau one level up from `bureau` (county → city → province → ministry); a
    /// level missing from the platform (e.g. counties directly under a province) is skipped.
    ///
    /// # Errors
    /// [`JurisdictionError::AboveMinistry`] for the ministry; [`JurisdictionError::NoParent`]
    /// when no land bureau above is on the platform.
    pub fn escalation_parent(&self, bureau: &BureauId) -> Result<&Bureau, JurisdictionError> {
        let bureau = self.get(bureau)?;
        let Some(code) = bureau.division else {
            return Err(JurisdictionError::AboveMinistry);
        };
        let mut candidates = Vec::with_capacity(2);
        if bureau.level == BureauLevel::County
            && let Some(city) = code.city()
        {
            candidates.push(city);
        }
        if bureau.level <= BureauLevel::City {
            candidates.push(code.province());
        }
        candidates
            .iter()
            .filter(|c| **c != code)
            .find_map(|c| self.land_bureau_of(c))
            .or_else(|| self.ministry())
            .ok_or_else(|| JurisdictionError::NoParent(bureau.id.clone()))
    }

    /// The chain of land bureaus above `bureau`, nearest first, up to the ministry: the
    /// supervisors who see its territory and receive its overdue reports.
    pub fn supervisors_of(&self, bureau: &BureauId) -> Vec<&Bureau> {
        let mut chain = Vec::new();
        let mut current = bureau.clone();
        while let Ok(parent) = self.escalation_parent(&current) {
            chain.push(parent);
            current = parent.id.clone();
        }
        chain
    }

    /// Whether `upper` may designate `target` to handle an escalated clue: the target must be
    /// the upper bureau itself or a bureau inside its territory (art. 4, 12(2)).
    ///
    /// # Errors
    /// Unknown bureaus, or [`JurisdictionError::OutsideTerritory`].
    pub fn check_designation(
        &self,
        upper: &BureauId,
        target: &BureauId,
    ) -> Result<(), JurisdictionError> {
        let upper_b = self.get(upper)?;
        let target_b = self.get(target)?;
        if upper == target || upper_b.is_above(target_b) {
            Ok(())
        } else {
            Err(JurisdictionError::OutsideTerritory {
                upper: upper.clone(),
                target: target.clone(),
            })
        }
    }

    /// Whether `location` lies inside `bureau`'s territory.
    ///
    /// # Errors
    /// [`JurisdictionError::UnknownBureau`].
    pub fn in_territory(
        &self,
        bureau: &BureauId,
        location: &DivisionCode,
    ) -> Result<bool, JurisdictionError> {
        Ok(self.get(bureau)?.territory_contains(location))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn code(s: &str) -> DivisionCode {
        DivisionCode::parse(s).expect("valid code in test")
    }

    pub(crate) fn id(s: &str) -> BureauId {
        BureauId::parse(s).expect("valid id in test")
    }

    fn land(idv: &str, level: BureauLevel, division: Option<&str>, region: &str) -> Bureau {
        Bureau {
            id: id(idv),
            name: format!("{region}自然资源局"),
            region: region.to_owned(),
            level,
            kind: BureauKind::Land,
            division: division.map(code),
            city_direct: false,
        }
    }

    /// Zhejiang with Hangzhou (counties handle) and Ningbo (`city_direct`), plus Hubei's
    /// province-administered Xiantao and an enforcement department in Xihu.
    pub(crate) fn directory() -> BureauDirectory {
        let mut ningbo = land("land-330200", BureauLevel::City, Some("330200"), "宁波市");
        ningbo.city_direct = true;
        BureauDirectory::new([
            land("ministry", BureauLevel::Ministry, None, "自然资源部"),
            land(
                "land-330000",
                BureauLevel::Province,
                Some("330000"),
                "浙江省",
            ),
            land("land-330100", BureauLevel::City, Some("330100"), "杭州市"),
            land(
                "land-330106",
                BureauLevel::County,
                Some("330106"),
                "杭州市西湖区",
            ),
            land(
                "land-330110",
                BureauLevel::County,
                Some("330110"),
                "杭州市余杭区",
            ),
            ningbo,
            land(
                "land-330203",
                BureauLevel::County,
                Some("330203"),
                "宁波市海曙区",
            ),
            land(
                "land-420000",
                BureauLevel::Province,
                Some("420000"),
                "湖北省",
            ),
            land("land-429004", BureauLevel::County, Some("429004"), "仙桃市"),
            land(
                "land-320000",
                BureauLevel::Province,
                Some("320000"),
                "江苏省",
            ),
            land("land-320100", BureauLevel::City, Some("320100"), "南京市"),
            Bureau {
                id: id("enf-330106"),
                name: "杭州市西湖区综合行政执法局".into(),
                region: "杭州市西湖区".into(),
                level: BureauLevel::County,
                kind: BureauKind::Enforcement,
                division: Some(code("330106")),
                city_direct: false,
            },
        ])
        .expect("valid directory")
    }

    #[test]
    fn the_county_bureau_handles_its_county() {
        let dir = directory();
        assert_eq!(
            dir.handling_bureau(&code("330106")).map(|b| &b.id),
            Ok(&id("land-330106"))
        );
    }

    #[test]
    fn a_city_direct_city_handles_its_counties_itself() {
        let dir = directory();
        assert_eq!(
            dir.handling_bureau(&code("330203")).map(|b| &b.id),
            Ok(&id("land-330200"))
        );
        assert_eq!(
            dir.handling_bureau(&code("330212")).map(|b| &b.id),
            Ok(&id("land-330200"))
        );
    }

    #[test]
    fn a_county_without_a_bureau_falls_to_its_city() {
        let dir = directory();
        assert_eq!(
            dir.handling_bureau(&code("330108")).map(|b| &b.id),
            Ok(&id("land-330100"))
        );
        assert_eq!(
            dir.handling_bureau(&code("340102")).map(|b| &b.id),
            Err(JurisdictionError::NoHandlingBureau(code("340102")))
        );
        assert_eq!(
            dir.handling_bureau(&code("330000")).map(|b| &b.id),
            Err(JurisdictionError::NotCountyLevel(code("330000")))
        );
    }

    #[test]
    fn escalation_goes_one_level_at_a_time_up_to_the_ministry() {
        let dir = directory();
        let up = |b: &str| dir.escalation_parent(&id(b)).map(|b| b.id.clone());
        assert_eq!(up("land-330106"), Ok(id("land-330100")));
        assert_eq!(up("land-330100"), Ok(id("land-330000")));
        assert_eq!(up("land-330000"), Ok(id("ministry")));
        assert_eq!(up("ministry"), Err(JurisdictionError::AboveMinistry));
        // Xiantao sits under a pseudo-city: its parent is the province.
        assert_eq!(up("land-429004"), Ok(id("land-420000")));
        // An enforcement department escalates into the land hierarchy.
        assert_eq!(up("enf-330106"), Ok(id("land-330100")));
        let chain: Vec<_> = dir
            .supervisors_of(&id("land-330106"))
            .iter()
            .map(|b| b.id.clone())
            .collect();
        assert_eq!(
            chain,
            vec![id("land-330100"), id("land-330000"), id("ministry")]
        );
    }

    #[test]
    fn designation_stays_inside_the_territory() {
        let dir = directory();
        assert_eq!(
            dir.check_designation(&id("land-330100"), &id("land-330110")),
            Ok(())
        );
        assert_eq!(
            dir.check_designation(&id("land-330100"), &id("land-330100")),
            Ok(())
        );
        assert_eq!(
            dir.check_designation(&id("land-330000"), &id("land-330203")),
            Ok(())
        );
        assert_eq!(
            dir.check_designation(&id("ministry"), &id("land-320100")),
            Ok(())
        );
        assert_eq!(
            dir.check_designation(&id("land-330100"), &id("enf-330106")),
            Ok(())
        );
        assert!(matches!(
            dir.check_designation(&id("land-330100"), &id("land-330203")),
            Err(JurisdictionError::OutsideTerritory { .. })
        ));
        assert!(matches!(
            dir.check_designation(&id("land-330000"), &id("land-320100")),
            Err(JurisdictionError::OutsideTerritory { .. })
        ));
        // A lower bureau never designates an upper one.
        assert!(matches!(
            dir.check_designation(&id("land-330106"), &id("land-330100")),
            Err(JurisdictionError::OutsideTerritory { .. })
        ));
        assert!(matches!(
            dir.check_designation(&id("land-330100"), &id("nope")),
            Err(JurisdictionError::UnknownBureau(_))
        ));
    }

    #[test]
    fn territory_membership() {
        let dir = directory();
        assert_eq!(
            dir.in_territory(&id("land-330000"), &code("330203")),
            Ok(true)
        );
        assert_eq!(
            dir.in_territory(&id("land-330100"), &code("330203")),
            Ok(false)
        );
        assert_eq!(dir.in_territory(&id("ministry"), &code("650102")), Ok(true));
    }

    #[test]
    fn incoherent_bureaus_are_refused() {
        let mut b = land("x", BureauLevel::County, Some("330100"), "杭州市");
        assert_eq!(
            b.validate(),
            Err(JurisdictionError::LevelMismatch {
                level: BureauLevel::County
            })
        );
        b.level = BureauLevel::City;
        b.city_direct = true;
        assert_eq!(b.validate(), Ok(()));
        b.level = BureauLevel::County;
        b.division = Some(code("330106"));
        assert_eq!(b.validate(), Err(JurisdictionError::CityDirectNotCity));
        let ministry_with_division = land("m", BureauLevel::Ministry, Some("330000"), "部");
        assert_eq!(
            ministry_with_division.validate(),
            Err(JurisdictionError::MinistryShape)
        );
        let nameless = land("n", BureauLevel::Province, Some("330000"), " ");
        assert_eq!(nameless.validate(), Err(JurisdictionError::MissingName));
        let dup = BureauDirectory::new([
            land("a", BureauLevel::Province, Some("330000"), "浙江省"),
            land("b", BureauLevel::Province, Some("330000"), "浙江省"),
        ]);
        assert_eq!(
            dup.map(|_| ()),
            Err(JurisdictionError::DuplicateLandBureau(code("330000")))
        );
        assert!(BureauId::parse("Land 1").is_err());
        assert!(BureauId::parse("").is_err());
    }
}
