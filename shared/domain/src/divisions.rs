//! The registry of China's GB/T 2260 administrative divisions, embedded from `divisions.json`.
//!
//! The file (`infra/data/divisions/divisions.json`) is generated from a pinned package and
//! normalised so that every code in it is a real GB/T 2260 province, city or county-level division
//! (`infra/data/divisions/SOURCE.md`). Two kinds of city-level entries need care, and the registry
//! answers for them so callers need not:
//! - *pseudo-cities*: groupings with a city-shaped code that are not prefecture-level cities:
//!   the municipalities' `xx0100` 市辖区 / `500200` 县 and the `xx90xx` 省直辖县级行政区划
//!   (e.g. `429000`, parent of `429004` 仙桃市). They exist in the data as parents but are never
//!   locations, and [`Divisions::full_name`] leaves their names out.
//! - *cities without counties* (东莞 `441900`, 中山 `442000`, 儋州 `460400`, 嘉峪关 `620200`,
//!   三沙 `460300`): listed explicitly by the file; the city code itself is the reportable location.

use std::sync::OnceLock;

use serde::Deserialize;

use crate::division::{DivisionCode, DivisionCodeError, DivisionLevel};

/// The data file, compiled in.
const EMBEDDED_JSON: &str = include_str!("../../../infra/data/divisions/divisions.json");

/// Province-level codes of the four municipalities (北京, 天津, 上海, 重庆), fixed by GB/T 2260.
const MUNICIPALITIES: [&str; 4] = ["11", "12", "31", "50"];

/// Why a divisions file was refused.
#[derive(Debug, thiserror::Error)]
pub enum DivisionsError {
    #[error("divisions data is not JSON of the expected shape")]
    Json(#[source] serde_json::Error),
    #[error("{code:?} in the divisions data is not a division code")]
    Code {
        code: String,
        #[source]
        source: DivisionCodeError,
    },
    #[error("division {0} has an empty or padded name")]
    Name(DivisionCode),
    #[error("division {0} is listed twice")]
    Duplicate(DivisionCode),
    #[error("division {code} has no parent in the data (expected {expected})")]
    MissingParent {
        code: DivisionCode,
        expected: DivisionCode,
    },
    #[error(
        "{0} is listed as a city without counties but is not a prefecture-level city in the data"
    )]
    NotACity(DivisionCode),
    #[error("city {0} is listed as having no counties but has some")]
    HasCounties(DivisionCode),
    #[error("city {0} has no counties and is not listed as a city without counties")]
    NoCounties(DivisionCode),
    #[error("divisions data lists no divisions")]
    Empty,
}

/// One administrative division as the registry knows it. Values exist only inside a
/// [`Divisions`], so the parent is always present in the same registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Division {
    code: DivisionCode,
    name: String,
    parent: Option<DivisionCode>,
    pseudo_city: bool,
    without_counties: bool,
}

impl Division {
    /// The GB/T 2260 code.
    pub fn code(&self) -> DivisionCode {
        self.code
    }

    /// The official Chinese name, as in the data (e.g. `西湖区`, `市辖区`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The level by the code's shape.
    pub fn level(&self) -> DivisionLevel {
        self.code.level()
    }

    /// The parent in the data: the province for a city; for a county its city-level code when the
    /// data has it (including a pseudo-city such as `429000`), else its province.
    pub fn parent(&self) -> Option<DivisionCode> {
        self.parent
    }

    /// Whether this is a city-level grouping that is not a prefecture-level city (module docs).
    pub fn is_pseudo_city(&self) -> bool {
        self.pseudo_city
    }

    /// Whether this is a prefecture-level city with no county-level divisions under it.
    pub fn is_city_without_counties(&self) -> bool {
        self.without_counties
    }

    /// Whether a clue's location may be this division: a county-level division, or a city
    /// without counties.
    pub fn is_reportable_location(&self) -> bool {
        match self.level() {
            DivisionLevel::County => true,
            DivisionLevel::City => self.without_counties,
            DivisionLevel::Province => false,
        }
    }
}

/// The shape of `divisions.json`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    source: Option<String>,
    cities_without_counties: Vec<String>,
    divisions: Vec<(String, String)>,
}

/// All divisions of one data file, sorted by code, each code once, each parent present.
#[derive(Debug, Clone)]
pub struct Divisions {
    source: Option<String>,
    /// Sorted by code, unique.
    divisions: Vec<Division>,
    /// `children[i]`: indices into `divisions` of the children of `divisions[i]`, ascending.
    children: Vec<Vec<usize>>,
}

impl Divisions {
    /// The registry compiled into this binary, parsed on first use.
    ///
    /// # Panics
    /// Only if the compiled-in `divisions.json` is invalid, which this module's tests rule out.
    /// Use [`Divisions::try_embedded`] to handle that case instead.
    pub fn embedded() -> &'static Divisions {
        match Self::try_embedded() {
            Ok(divisions) => divisions,
            Err(e) => panic!("the embedded divisions.json is invalid: {e}"),
        }
    }

    /// The registry compiled into this binary, parsed on first use.
    ///
    /// # Errors
    /// The [`DivisionsError`] of parsing the compiled-in file (never, if the tests passed).
    pub fn try_embedded() -> Result<&'static Divisions, &'static DivisionsError> {
        static EMBEDDED: OnceLock<Result<Divisions, DivisionsError>> = OnceLock::new();
        EMBEDDED
            .get_or_init(|| Self::from_json(EMBEDDED_JSON))
            .as_ref()
    }

    /// Parses and checks a file in the format of `divisions.json`: `{"source": "...",
    /// "cities_without_counties": ["441900", ...], "divisions": [["110000", "北京市"], ...]}`
    /// (`source` optional, divisions in any order).
    ///
    /// # Errors
    /// [`DivisionsError`] if the JSON is malformed or has other fields, a code is malformed or
    /// listed twice, a name is empty, a city has no province, a county has neither its city nor
    /// its province, or the cities without counties disagree with the data (a listed city has
    /// counties, is a pseudo-city or is missing; an unlisted city has no counties).
    pub fn from_json(json: &str) -> Result<Divisions, DivisionsError> {
        let file: File = serde_json::from_str(json).map_err(DivisionsError::Json)?;
        if file.divisions.is_empty() {
            return Err(DivisionsError::Empty);
        }

        let mut divisions = Vec::with_capacity(file.divisions.len());
        for (code, name) in file.divisions {
            let code = parse_code(&code)?;
            if name.is_empty() || name.trim() != name {
                return Err(DivisionsError::Name(code));
            }
            divisions.push(Division {
                code,
                name,
                parent: None,
                pseudo_city: is_pseudo_city_code(&code),
                without_counties: false,
            });
        }
        divisions.sort_by_key(|d| d.code);
        if let Some(pair) = divisions.windows(2).find(|w| w[0].code == w[1].code) {
            return Err(DivisionsError::Duplicate(pair[0].code));
        }

        let index_of = |divisions: &[Division], code: &DivisionCode| {
            divisions.binary_search_by_key(code, |d| d.code).ok()
        };

        let mut listed = Vec::with_capacity(file.cities_without_counties.len());
        for code in &file.cities_without_counties {
            let code = parse_code(code)?;
            if listed.contains(&code) {
                return Err(DivisionsError::Duplicate(code));
            }
            listed.push(code);
            match index_of(&divisions, &code).and_then(|i| divisions.get_mut(i)) {
                Some(d) if d.level() == DivisionLevel::City && !d.pseudo_city => {
                    d.without_counties = true
                }
                _ => return Err(DivisionsError::NotACity(code)),
            }
        }

        let mut children = vec![Vec::new(); divisions.len()];
        for i in 0..divisions.len() {
            let Some(code) = divisions.get(i).map(|d| d.code) else {
                continue;
            };
            let parent = match code.level() {
                DivisionLevel::Province => None,
                DivisionLevel::City => {
                    let province = code.province();
                    let p =
                        index_of(&divisions, &province).ok_or(DivisionsError::MissingParent {
                            code,
                            expected: province,
                        })?;
                    Some(p)
                }
                DivisionLevel::County => {
                    let city = code.city().unwrap_or_else(|| code.province());
                    let p = index_of(&divisions, &city)
                        .or_else(|| index_of(&divisions, &code.province()))
                        .ok_or(DivisionsError::MissingParent {
                            code,
                            expected: city,
                        })?;
                    Some(p)
                }
            };
            if let Some(p) = parent {
                if let Some(siblings) = children.get_mut(p) {
                    siblings.push(i);
                }
                let parent_code = divisions.get(p).map(|d| d.code);
                if let Some(d) = divisions.get_mut(i) {
                    d.parent = parent_code;
                }
            }
        }

        for (d, kids) in divisions.iter().zip(&children) {
            if d.level() != DivisionLevel::City {
                continue;
            }
            let has_counties = !kids.is_empty();
            if d.without_counties && has_counties {
                return Err(DivisionsError::HasCounties(d.code));
            }
            if !d.without_counties && !has_counties {
                return Err(DivisionsError::NoCounties(d.code));
            }
        }

        Ok(Divisions {
            source: file.source,
            divisions,
            children,
        })
    }

    /// Where the data came from, as the file states it.
    pub fn source(&self) -> Option<&str> {
        self.source.as_deref()
    }

    /// How many divisions (provinces, cities and counties) the registry holds.
    pub fn len(&self) -> usize {
        self.divisions.len()
    }

    /// Always `false` for a registry built by [`Divisions::from_json`], which refuses empty data.
    pub fn is_empty(&self) -> bool {
        self.divisions.is_empty()
    }

    /// All divisions, sorted by code.
    pub fn iter(&self) -> impl Iterator<Item = &Division> + '_ {
        self.divisions.iter()
    }

    /// The division with this code, if it exists in the data.
    pub fn get(&self, code: &DivisionCode) -> Option<&Division> {
        self.index(code).and_then(|i| self.divisions.get(i))
    }

    /// The provinces, sorted by code.
    pub fn provinces(&self) -> impl Iterator<Item = &Division> + '_ {
        self.divisions
            .iter()
            .filter(|d| d.level() == DivisionLevel::Province)
    }

    /// The direct children in the data (whose [`Division::parent`] is `code`), sorted by code;
    /// empty for a county, a city without counties or an unknown code. A municipality's child is
    /// its pseudo-city (`110000` → `110100`), whose children are the districts.
    pub fn children(&self, code: &DivisionCode) -> impl Iterator<Item = &Division> + '_ {
        self.index(code)
            .and_then(|i| self.children.get(i))
            .into_iter()
            .flatten()
            .filter_map(|&i| self.divisions.get(i))
    }

    /// The full name from the province down, as a reporter reads it: `浙江省杭州市西湖区`,
    /// `北京市东城区`, `湖北省仙桃市`, `广东省东莞市`. Pseudo-cities' names are left out, and so is a
    /// name that repeats the one above it. `None` for an unknown code.
    pub fn full_name(&self, code: &DivisionCode) -> Option<String> {
        let mut path = vec![self.get(code)?];
        while let Some(parent) = path
            .last()
            .and_then(|d| d.parent)
            .and_then(|p| self.get(&p))
        {
            path.push(parent);
        }
        let mut full = String::new();
        let mut last: Option<&str> = None;
        for d in path.iter().rev() {
            if d.pseudo_city || last == Some(d.name.as_str()) {
                continue;
            }
            full.push_str(&d.name);
            last = Some(&d.name);
        }
        Some(full)
    }

    /// Whether a clue's location may be `code`: a county-level division in the data, or a city
    /// without counties. `false` for provinces, other cities, pseudo-cities and unknown codes.
    pub fn is_reportable_location(&self, code: &DivisionCode) -> bool {
        self.get(code).is_some_and(Division::is_reportable_location)
    }

    /// Whether `code` is a pseudo-city in the data (see the module docs).
    pub fn is_pseudo_city(&self, code: &DivisionCode) -> bool {
        self.get(code).is_some_and(Division::is_pseudo_city)
    }

    /// The reportable locations a free text names (e.g. a chat message `杭州市西湖区留下街道` or a
    /// WeChat location label), best first: a location whose name appears in the text scores its
    /// name's length, plus its city's and province's when those appear too. Only the best-scoring
    /// locations are returned: one for a clear text, several for an ambiguous one (`城区`),
    /// none when no location name appears.
    pub fn resolve_text(&self, text: &str) -> Vec<DivisionCode> {
        let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let mut best: Vec<DivisionCode> = Vec::new();
        let mut best_score = 0usize;
        for d in self.divisions.iter().filter(|d| d.is_reportable_location()) {
            if !text.contains(d.name.as_str()) {
                continue;
            }
            let mut score = d.name.chars().count();
            let mut parent = d.parent.and_then(|p| self.get(&p));
            while let Some(p) = parent {
                if !p.pseudo_city {
                    if text.contains(p.name.as_str()) {
                        score += p.name.chars().count();
                    } else if let Some(short) = short_name(&p.name)
                        && text.contains(short)
                    {
                        score += short.chars().count();
                    }
                }
                parent = p.parent.and_then(|c| self.get(&c));
            }
            if score > best_score {
                best_score = score;
                best.clear();
            }
            if score == best_score {
                best.push(d.code);
            }
        }
        best
    }

    fn index(&self, code: &DivisionCode) -> Option<usize> {
        self.divisions.binary_search_by_key(code, |d| d.code).ok()
    }
}

/// A province's or city's name as people shorten it: `杭州市` → `杭州`, `广西壮族自治区` → `广西`.
/// `None` when nothing of at least two characters would remain.
fn short_name(name: &str) -> Option<&str> {
    const SUFFIXES: [&str; 9] = [
        "壮族自治区",
        "回族自治区",
        "维吾尔自治区",
        "特别行政区",
        "自治区",
        "自治州",
        "地区",
        "省",
        "市",
    ];
    let short = SUFFIXES.iter().find_map(|s| name.strip_suffix(s))?;
    (short.chars().count() >= 2).then_some(short)
}

fn parse_code(code: &str) -> Result<DivisionCode, DivisionsError> {
    DivisionCode::parse(code).map_err(|source| DivisionsError::Code {
        code: code.to_owned(),
        source,
    })
}

/// A city-level code that groups counties without being a prefecture-level city: a
/// municipality's `xx01`/`xx02`, or the GB/T 2260 `xx90` 省直辖县级行政区划.
fn is_pseudo_city_code(code: &DivisionCode) -> bool {
    if code.level() != DivisionLevel::City {
        return false;
    }
    let s = code.as_str();
    s.get(2..4) == Some("90") || s.get(..2).is_some_and(|p| MUNICIPALITIES.contains(&p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> DivisionCode {
        DivisionCode::parse(s).expect("valid code in test")
    }

    fn embedded() -> &'static Divisions {
        Divisions::try_embedded().expect("embedded divisions.json parses")
    }

    fn name_of(s: &str) -> Option<&'static str> {
        embedded().get(&code(s)).map(Division::name)
    }

    fn count(level: DivisionLevel) -> usize {
        embedded().iter().filter(|d| d.level() == level).count()
    }

    #[test]
    fn embedded_data_parses_and_names_its_source() {
        let divisions = Divisions::try_embedded().expect("embedded divisions.json parses");
        assert!(
            divisions
                .source()
                .is_some_and(|s| s.contains("china-division@2.7.0"))
        );
        assert!(std::ptr::eq(divisions, Divisions::embedded()));
    }

    #[test]
    fn counts_are_plausible_for_the_mainland() {
        // The source covers the 31 mainland provinces; HK, Macau and Taiwan have no codes in it.
        assert_eq!(embedded().provinces().count(), 31);
        assert!(
            count(DivisionLevel::City) > 330,
            "cities: {}",
            count(DivisionLevel::City)
        );
        assert!(
            count(DivisionLevel::County) > 2800,
            "counties: {}",
            count(DivisionLevel::County)
        );
        assert_eq!(
            embedded().len(),
            31 + count(DivisionLevel::City) + count(DivisionLevel::County)
        );
        assert!(!embedded().is_empty());
        assert!(embedded().get(&code("710000")).is_none());
        assert!(embedded().get(&code("810000")).is_none());
    }

    #[test]
    fn known_codes_have_their_names_and_parents() {
        let xihu = embedded().get(&code("330106")).expect("西湖区");
        assert_eq!(xihu.name(), "西湖区");
        assert_eq!(xihu.level(), DivisionLevel::County);
        assert_eq!(xihu.parent(), Some(code("330100")));
        assert_eq!(name_of("330100"), Some("杭州市"));
        assert_eq!(
            embedded().get(&code("330100")).and_then(Division::parent),
            Some(code("330000"))
        );
        assert_eq!(name_of("330000"), Some("浙江省"));
        assert_eq!(
            embedded().get(&code("330000")).and_then(Division::parent),
            None
        );

        assert_eq!(name_of("110101"), Some("东城区"));
        assert_eq!(
            embedded().get(&code("110101")).and_then(Division::parent),
            Some(code("110100"))
        );

        assert_eq!(name_of("429004"), Some("仙桃市"));
        assert_eq!(
            embedded().get(&code("429004")).and_then(Division::parent),
            Some(code("429000"))
        );
        assert_eq!(name_of("429000"), Some("省直辖县级行政区划"));
        assert_eq!(name_of("419001"), Some("济源市"));
        assert_eq!(name_of("441900"), Some("东莞市"));
    }

    #[test]
    fn full_names_skip_groupings_and_repeated_names() {
        let full = |s: &str| embedded().full_name(&code(s));
        assert_eq!(full("330106").as_deref(), Some("浙江省杭州市西湖区"));
        assert_eq!(full("330100").as_deref(), Some("浙江省杭州市"));
        assert_eq!(full("330000").as_deref(), Some("浙江省"));
        assert_eq!(full("110101").as_deref(), Some("北京市东城区"));
        assert_eq!(full("500229").as_deref(), Some("重庆市城口县"));
        assert_eq!(full("429004").as_deref(), Some("湖北省仙桃市"));
        assert_eq!(full("469024").as_deref(), Some("海南省临高县"));
        assert_eq!(full("659001").as_deref(), Some("新疆维吾尔自治区石河子市"));
        assert_eq!(full("441900").as_deref(), Some("广东省东莞市"));
        assert_eq!(full("330199"), None);
    }

    #[test]
    fn children_are_sorted_and_point_back_to_their_parent() {
        for parent in ["330000", "330100", "110000", "110100", "429000", "500000"] {
            let parent = code(parent);
            let kids: Vec<DivisionCode> =
                embedded().children(&parent).map(Division::code).collect();
            assert!(!kids.is_empty(), "{parent} has children");
            assert!(kids.windows(2).all(|w| w[0] < w[1]), "{parent}: {kids:?}");
            for kid in &kids {
                assert_eq!(embedded().get(kid).and_then(Division::parent), Some(parent));
            }
        }
        let zhejiang: Vec<DivisionCode> = embedded()
            .children(&code("330000"))
            .map(Division::code)
            .collect();
        assert_eq!(zhejiang.len(), 11);
        assert_eq!(zhejiang.first(), Some(&code("330100")));
        assert!(
            embedded()
                .children(&code("330100"))
                .any(|d| d.code() == code("330106"))
        );
        assert_eq!(embedded().children(&code("330106")).count(), 0);
        assert_eq!(embedded().children(&code("441900")).count(), 0);
        assert_eq!(embedded().children(&code("330199")).count(), 0);
    }

    #[test]
    fn every_division_hangs_on_its_shape_parent() {
        // Stricter than from_json, which lets a county hang on its province when the source has no
        // city for it: our file has every city, so every county's parent is `code.city()`.
        for d in embedded().iter() {
            let code = d.code();
            let expected = code.parent();
            assert_eq!(d.parent(), expected, "{code}");
            if let Some(parent) = expected {
                assert!(embedded().get(&parent).is_some(), "{code}");
                assert!(parent.contains(&code), "{code}");
            }
        }
    }

    #[test]
    fn the_file_lists_each_code_once_in_order() {
        let raw: serde_json::Value = serde_json::from_str(EMBEDDED_JSON).expect("valid json");
        let codes: Vec<&str> = raw["divisions"]
            .as_array()
            .expect("divisions array")
            .iter()
            .map(|pair| pair[0].as_str().expect("code string"))
            .collect();
        assert_eq!(codes.len(), embedded().len());
        assert!(codes.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
    }

    #[test]
    fn no_statistical_or_invented_codes_are_in_the_data() {
        // NBS development zone, 东莞's towns as invented by other packages, 嘉峪关's placeholder,
        // NBS-only codes, and the cities-without-counties repeated as their own county.
        for fake in [
            "130171", "441901", "441990", "620201", "232761", "632857", "460321",
        ] {
            assert!(embedded().get(&code(fake)).is_none(), "{fake}");
        }
    }

    #[test]
    fn reportable_locations_are_counties_and_cities_without_counties() {
        let reportable = |s: &str| embedded().is_reportable_location(&code(s));
        for yes in [
            "330106", "110101", "429004", "419001", "469024", "441900", "442000", "460400",
            "620200", "460300",
        ] {
            assert!(reportable(yes), "{yes}");
        }
        for no in [
            "330000", "330100", "110000", "110100", "429000", "659000", "330199",
        ] {
            assert!(!reportable(no), "{no}");
        }
        let cities_without_counties: Vec<DivisionCode> = embedded()
            .iter()
            .filter(|d| d.is_city_without_counties())
            .map(Division::code)
            .collect();
        let expected: Vec<DivisionCode> = ["441900", "442000", "460300", "460400", "620200"]
            .map(code)
            .to_vec();
        assert_eq!(cities_without_counties, expected);
    }

    #[test]
    fn pseudo_cities_are_the_groupings() {
        let pseudo = |s: &str| embedded().is_pseudo_city(&code(s));
        for yes in [
            "110100", "120100", "310100", "500100", "500200", "419000", "429000", "469000",
            "659000",
        ] {
            assert!(pseudo(yes), "{yes}");
        }
        for no in ["330100", "441900", "429004", "420000", "330199"] {
            assert!(!pseudo(no), "{no}");
        }
    }

    /// A data file with these cities without counties and these `(code, name)` divisions.
    fn data(without: &[&str], divisions: &[(&str, &str)]) -> String {
        let divisions: Vec<[&str; 2]> = divisions.iter().map(|&(c, n)| [c, n]).collect();
        serde_json::json!({ "cities_without_counties": without, "divisions": divisions })
            .to_string()
    }

    fn parse(without: &[&str], divisions: &[(&str, &str)]) -> Result<Divisions, DivisionsError> {
        Divisions::from_json(&data(without, divisions))
    }

    fn refused(without: &[&str], divisions: &[(&str, &str)]) -> DivisionsError {
        match parse(without, divisions) {
            Ok(d) => panic!("accepted {} divisions", d.len()),
            Err(e) => e,
        }
    }

    const GUANGDONG: [(&str, &str); 4] = [
        ("440000", "广东省"),
        ("441900", "东莞市"),
        ("440100", "广州市"),
        ("440106", "天河区"),
    ];

    #[test]
    fn from_json_accepts_unsorted_small_data() {
        let divisions = parse(&["441900"], &GUANGDONG).expect("valid");
        assert_eq!(divisions.len(), 4);
        assert_eq!(divisions.source(), None);
        let codes: Vec<DivisionCode> = divisions.iter().map(Division::code).collect();
        assert_eq!(codes, ["440000", "440100", "440106", "441900"].map(code));
        let tianhe = divisions.full_name(&code("440106"));
        assert_eq!(tianhe.as_deref(), Some("广东省广州市天河区"));
        assert!(divisions.is_reportable_location(&code("441900")));
        assert!(!divisions.is_reportable_location(&code("440100")));
    }

    #[test]
    fn from_json_tolerates_other_spellings_of_municipalities() {
        // A source naming 110100 北京市 still yields 北京市东城区, and 110100 is still a grouping.
        let named = [
            ("110000", "北京市"),
            ("110100", "北京市"),
            ("110101", "东城区"),
        ];
        let named = parse(&[], &named).expect("valid");
        assert_eq!(
            named.full_name(&code("110101")).as_deref(),
            Some("北京市东城区")
        );
        assert!(named.is_pseudo_city(&code("110100")));
        // A source without 110100 hangs the districts on the province.
        let flat = parse(&[], &[("110000", "北京市"), ("110101", "东城区")]).expect("valid");
        let dongcheng = flat.get(&code("110101")).expect("东城区");
        assert_eq!(dongcheng.parent(), Some(code("110000")));
        assert_eq!(
            flat.full_name(&code("110101")).as_deref(),
            Some("北京市东城区")
        );
    }

    #[test]
    fn from_json_rejects_malformed_json() {
        let no_list = r#"{"divisions": [["330000", "浙江省"]]}"#;
        let short = r#"{"cities_without_counties": [], "divisions": [["330000"]]}"#;
        let long = r#"{"cities_without_counties": [], "divisions": [["330000", "浙江省", "x"]]}"#;
        let number = r#"{"cities_without_counties": [], "divisions": [[330000, "浙江省"]]}"#;
        let extra = r#"{"cities_without_counties": [], "divisions": [], "extra": 1}"#;
        for json in ["", "{", "[]", no_list, short, long, number, extra] {
            let err = Divisions::from_json(json);
            assert!(
                matches!(err, Err(DivisionsError::Json(_))),
                "{json:?}: {err:?}"
            );
        }
    }

    #[test]
    fn from_json_rejects_bad_codes_and_names() {
        let err = refused(&[], &[("33o000", "浙江省")]);
        let DivisionsError::Code { code: bad, source } = err else {
            panic!("{err:?}")
        };
        assert_eq!(
            (bad.as_str(), source),
            ("33o000", DivisionCodeError::NotDigits)
        );

        let err = refused(&["4419"], &[("440000", "广东省")]);
        let DivisionsError::Code { code: bad, source } = err else {
            panic!("{err:?}")
        };
        assert_eq!(
            (bad.as_str(), source),
            ("4419", DivisionCodeError::Length(4))
        );

        for name in ["", " ", "浙江省 "] {
            let err = refused(&[], &[("330000", name)]);
            assert!(
                matches!(err, DivisionsError::Name(c) if c == code("330000")),
                "{err:?}"
            );
        }
        assert!(matches!(refused(&[], &[]), DivisionsError::Empty));
    }

    #[test]
    fn from_json_rejects_duplicates_and_orphans() {
        let err = refused(&[], &[("330000", "浙江省"), ("330000", "浙江")]);
        assert!(
            matches!(err, DivisionsError::Duplicate(c) if c == code("330000")),
            "{err:?}"
        );

        let err = refused(&[], &[("330100", "杭州市"), ("330106", "西湖区")]);
        let DivisionsError::MissingParent {
            code: orphan,
            expected,
        } = err
        else {
            panic!("{err:?}")
        };
        assert_eq!((orphan, expected), (code("330100"), code("330000")));

        let err = refused(&[], &[("330106", "西湖区")]);
        let DivisionsError::MissingParent {
            code: orphan,
            expected,
        } = err
        else {
            panic!("{err:?}")
        };
        assert_eq!((orphan, expected), (code("330106"), code("330100")));
    }

    #[test]
    fn from_json_checks_the_cities_without_counties() {
        let err = refused(&["440100"], &GUANGDONG);
        assert!(
            matches!(err, DivisionsError::HasCounties(c) if c == code("440100")),
            "{err:?}"
        );

        let err = refused(&[], &GUANGDONG);
        assert!(
            matches!(err, DivisionsError::NoCounties(c) if c == code("441900")),
            "{err:?}"
        );

        for not_a_city in ["440000", "440106", "442000"] {
            let err = refused(&["441900", not_a_city], &GUANGDONG);
            assert!(
                matches!(err, DivisionsError::NotACity(c) if c == code(not_a_city)),
                "{err:?}"
            );
        }

        let err = refused(&["441900", "441900"], &GUANGDONG);
        assert!(
            matches!(err, DivisionsError::Duplicate(c) if c == code("441900")),
            "{err:?}"
        );

        let hubei = [("420000", "湖北省"), ("429000", "省直辖县级行政区划")];
        let err = refused(&["429000"], &hubei);
        assert!(
            matches!(err, DivisionsError::NotACity(c) if c == code("429000")),
            "{err:?}"
        );
        let err = refused(&[], &hubei);
        assert!(
            matches!(err, DivisionsError::NoCounties(c) if c == code("429000")),
            "{err:?}"
        );
    }

    #[test]
    fn free_text_resolves_to_the_locations_it_names() {
        let d = Divisions::embedded();
        let code = |s: &str| DivisionCode::parse(s).expect("code");
        assert_eq!(
            d.resolve_text("浙江省杭州市西湖区留下街道"),
            vec![code("330106")]
        );
        assert_eq!(d.resolve_text("杭州 西湖区"), vec![code("330106")]);
        assert_eq!(d.resolve_text("广东省东莞市虎门镇"), vec![code("441900")]);
        assert_eq!(d.resolve_text("湖北仙桃市"), vec![code("429004")]);
        // Several 西湖区 exist (杭州, 南昌): without the city the text is ambiguous.
        let ambiguous = d.resolve_text("西湖区");
        assert!(ambiguous.len() >= 2, "{ambiguous:?}");
        assert!(ambiguous.contains(&code("330106")));
        assert!(d.resolve_text("我家门口").is_empty());
        assert!(d.resolve_text("").is_empty());
    }
}
