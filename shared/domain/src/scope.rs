//! What the platform accepts: annex 1's ten categories, art. 7's five exclusions, each city's
//! filed scope versions (art. 8) and the reporting notice rendered from them (art. 9, annex 2).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::division::{DivisionCode, DivisionLevel};

/// The two groups of annex 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CategoryGroup {
    Land,
    Mineral,
}

impl CategoryGroup {
    /// The group's heading in annex 1.
    pub fn name(self) -> &'static str {
        match self {
            Self::Land => "土地违法行为",
            Self::Mineral => "矿产资源违法行为",
        }
    }
}

/// The ten violation categories of annex 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    IllegalLandApproval,
    IllegalLandOccupation,
    IllegalLandTransfer,
    FarmlandDestruction,
    OtherLand,
    IllegalExploration,
    IllegalMining,
    IllegalRightApproval,
    IllegalRightTransfer,
    OtherMineral,
}

impl Category {
    /// All ten, in annex 1's order.
    pub const ALL: [Category; 10] = [
        Self::IllegalLandApproval,
        Self::IllegalLandOccupation,
        Self::IllegalLandTransfer,
        Self::FarmlandDestruction,
        Self::OtherLand,
        Self::IllegalExploration,
        Self::IllegalMining,
        Self::IllegalRightApproval,
        Self::IllegalRightTransfer,
        Self::OtherMineral,
    ];

    /// The category's code in the API (its serde name).
    pub fn code(self) -> &'static str {
        match self {
            Self::IllegalLandApproval => "illegal_land_approval",
            Self::IllegalLandOccupation => "illegal_land_occupation",
            Self::IllegalLandTransfer => "illegal_land_transfer",
            Self::FarmlandDestruction => "farmland_destruction",
            Self::OtherLand => "other_land",
            Self::IllegalExploration => "illegal_exploration",
            Self::IllegalMining => "illegal_mining",
            Self::IllegalRightApproval => "illegal_right_approval",
            Self::IllegalRightTransfer => "illegal_right_transfer",
            Self::OtherMineral => "other_mineral",
        }
    }

    /// Parses an API code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// Land or mineral.
    pub fn group(self) -> CategoryGroup {
        match self {
            Self::IllegalLandApproval
            | Self::IllegalLandOccupation
            | Self::IllegalLandTransfer
            | Self::FarmlandDestruction
            | Self::OtherLand => CategoryGroup::Land,
            _ => CategoryGroup::Mineral,
        }
    }

    /// The Chinese name of annex 1.
    pub fn name(self) -> &'static str {
        match self {
            Self::IllegalLandApproval => "违法批地",
            Self::IllegalLandOccupation => "违法占地",
            Self::IllegalLandTransfer => "违法转让土地使用权",
            Self::FarmlandDestruction => "破坏耕地",
            Self::OtherLand => "其他土地违法行为",
            Self::IllegalExploration => "违法勘查",
            Self::IllegalMining => "违法开采",
            Self::IllegalRightApproval => "违法批准探矿权、采矿权",
            Self::IllegalRightTransfer => "违法转让矿业权",
            Self::OtherMineral => "其他矿产资源违法行为",
        }
    }

    /// The description of annex 1.
    pub fn description(self) -> &'static str {
        match self {
            Self::IllegalLandApproval => {
                "无权批准征收、使用土地的单位或者个人非法批准占用土地，超越批准权限非法批准占用土地；不按照土地利用总体规划确定的用途批准用地；违反法律法规规定的程序批准征收、使用土地；违法违规供地等违法行为。"
            }
            Self::IllegalLandOccupation => {
                "未经批准或者采取欺骗手段骗取批准，非法占用土地；农村村民未经批准或者采取欺骗手段骗取批准，非法占用土地建住宅；超过批准的数量占用土地；依法收回违法批准、使用的土地，有关当事人拒不归还等违法行为。"
            }
            Self::IllegalLandTransfer => {
                "买卖或者以其他形式非法转让土地；未经批准，违法转让以划拨方式取得的国有土地使用权；不符合法律规定的条件，违法转让以出让方式取得的国有土地使用权；将农民集体所有的土地使用权违法出让、转让或者出租用于非农业建设等违法行为。"
            }
            Self::FarmlandDestruction => {
                "破坏一般耕地行为；破坏永久基本农田行为；建设项目施工和地质勘查临时占用耕地的土地使用者自临时用地期满之日起1年内未恢复种植条件等违法行为。"
            }
            Self::OtherLand => {
                "依法收回国有土地使用权，当事人拒不交出土地；不按照批准的用途使用国有土地；在临时使用的土地上修建永久性建筑物、构筑物等违法行为。"
            }
            Self::IllegalExploration => {
                "未取得勘查许可证擅自进行勘查工作；勘查许可证有效期已满，未办理延续登记手续而继续进行矿产资源勘查；超越批准的勘查区块范围进行勘查工作；擅自进行滚动勘探开发、边探边采或者试采等违法行为。"
            }
            Self::IllegalMining => {
                "未依法取得采矿许可证擅自采矿；采矿许可证有效期已满，未办理延续登记手续而继续采矿；采矿许可证被依法注销、吊销后继续采矿；未按采矿许可证规定的矿种采矿（共生、伴生矿除外）；持勘查许可证采矿；非法转让采矿权的受让方未进行采矿权变更登记采矿；擅自进入国家规划矿区和对国民经济具有重要价值的矿区范围采矿；擅自开采国家规定实行保护性开采的特定矿种；采矿权人超出采矿许可证载明的矿区范围开采矿产资源；采取破坏性的开采方法开采矿产资源等违法行为。"
            }
            Self::IllegalRightApproval => "违法审批发放勘查许可证、采矿许可证等违法行为。",
            Self::IllegalRightTransfer => {
                "买卖、出租或者以其他形式转让矿产资源；将探矿权、采矿权倒卖牟利；未经批准擅自转让探矿权、采矿权；以承包等方式擅自转让采矿权等违法行为。"
            }
            Self::OtherMineral => {
                "采取破坏性的开采方法开采矿产资源，造成矿产资源严重破坏；未足额缴纳矿产资源补偿费等违法行为。"
            }
        }
    }
}

/// The reporter's choice of category: one of annex 1, one the city added, or "不确定".
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "code", rename_all = "snake_case")]
pub enum CategoryChoice {
    Annex(Category),
    /// A category the city's scope version added (its code).
    CityExtra(String),
    /// 不确定: the reporter does not know.
    Uncertain,
}

impl CategoryChoice {
    /// The Chinese label shown in lists.
    pub const UNCERTAIN_LABEL: &'static str = "不确定";

    /// A stable code for statistics: the annex code, `extra:<code>`, or `uncertain`.
    pub fn stat_code(&self) -> String {
        match self {
            Self::Annex(c) => c.code().to_owned(),
            Self::CityExtra(code) => format!("extra:{code}"),
            Self::Uncertain => "uncertain".to_owned(),
        }
    }
}

/// The five exclusions of art. 7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    /// Should go (or went) to administrative reconsideration, litigation or arbitration.
    LegalProceedings,
    /// Accusations against land-system officials.
    OfficialMisconduct,
    /// Ownership disputes, compensation distribution or arrears for local government.
    OwnershipDispute,
    /// National security or state secrets.
    StateSecrets,
    /// Outside the land authorities' duties.
    NotLandDuty,
}

impl Exclusion {
    /// All five, in art. 7's order.
    pub const ALL: [Exclusion; 5] = [
        Self::LegalProceedings,
        Self::OfficialMisconduct,
        Self::OwnershipDispute,
        Self::StateSecrets,
        Self::NotLandDuty,
    ];

    /// Art. 7's wording, without the closing punctuation.
    pub fn text(self) -> &'static str {
        match self {
            Self::LegalProceedings => {
                "依法应当通过申请行政复议、行政诉讼、仲裁等途径解决或者已经进入上述程序的"
            }
            Self::OfficialMisconduct => "检举揭发国土资源系统干部违法违纪问题的",
            Self::OwnershipDispute => {
                "土地权属纠纷、征地补偿费分配或者拖欠，依法应由地方政府或者其他部门处理的"
            }
            Self::StateSecrets => "用地用矿涉及国家安全、国家秘密的",
            Self::NotLandDuty => "不属于国土资源主管部门职责范围的",
        }
    }
}

/// A category a city added to its scope (art. 8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraCategory {
    /// `a-z0-9_`, unique within the city.
    pub code: String,
    pub name: String,
    pub description: String,
}

/// One exclusion as a city applies it: kept as art. 7 words it, or narrowed to a text of the
/// city's. An exclusion the city dropped is simply absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExclusionRule {
    pub exclusion: Exclusion,
    /// The narrowed wording, if the city narrowed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narrowed_to: Option<String>,
}

impl ExclusionRule {
    /// The wording shown in the reporting notice.
    pub fn text(&self) -> &str {
        self.narrowed_to.as_deref().unwrap_or(self.exclusion.text())
    }
}

/// The record of a scope change filed with the province (备案, art. 8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filing {
    /// The province the change was filed with.
    pub province: DivisionCode,
    pub filed_on: NaiveDate,
    /// The filing's document number.
    pub reference: String,
}

/// Why a scope version or a category choice is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("scopes are set by city-level divisions, {0} is not one")]
    NotCity(DivisionCode),
    #[error("a widened or narrowed scope must be filed with the province (art. 8)")]
    NotFiled,
    #[error("the filing names province {filed}, but the city belongs to {expected}")]
    WrongProvince {
        filed: DivisionCode,
        expected: DivisionCode,
    },
    #[error("scope versions go up by one: expected {expected}, got {got}")]
    VersionOrder { expected: u32, got: u32 },
    #[error("a new scope version cannot take effect before the current one")]
    EffectiveOrder,
    #[error("an added category needs a code of a-z, 0-9, _ and a name, and codes are unique")]
    BadExtra,
    #[error("an exclusion appears twice, or a narrowing is empty")]
    BadExclusion,
    #[error("category {0} is not in this city's scope")]
    UnknownCategory(String),
    #[error("scope version {0} is not the one in force")]
    StaleNotice(String),
}

/// A city's scope as it stands from `effective_from`: annex 1 plus what the city added, and the
/// exclusions it applies. Version 1 is the default and needs no filing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeVersion {
    pub city: DivisionCode,
    pub version: u32,
    pub effective_from: DateTime<Utc>,
    #[serde(default)]
    pub extra_categories: Vec<ExtraCategory>,
    pub exclusions: Vec<ExclusionRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filing: Option<Filing>,
}

impl ScopeVersion {
    /// The default scope (annex 1, all of art. 7), version 1.
    pub fn default_for(city: DivisionCode, effective_from: DateTime<Utc>) -> Self {
        Self {
            city,
            version: 1,
            effective_from,
            extra_categories: Vec::new(),
            exclusions: Exclusion::ALL
                .into_iter()
                .map(|exclusion| ExclusionRule {
                    exclusion,
                    narrowed_to: None,
                })
                .collect(),
            filing: None,
        }
    }

    /// Whether this version differs from the default (and so must be filed).
    pub fn is_default(&self) -> bool {
        self.extra_categories.is_empty()
            && self.exclusions.len() == Exclusion::ALL.len()
            && self.exclusions.iter().all(|e| e.narrowed_to.is_none())
    }

    /// Checks the version on its own: a city code, well-formed extras and exclusions, and a
    /// filing with the city's own province when it departs from the default.
    ///
    /// # Errors
    /// The first problem, as a [`ScopeError`].
    pub fn validate(&self) -> Result<(), ScopeError> {
        if self.city.level() != DivisionLevel::City {
            return Err(ScopeError::NotCity(self.city));
        }
        let mut codes: Vec<&str> = Vec::new();
        for extra in &self.extra_categories {
            let ok_code = !extra.code.is_empty()
                && extra.code.len() <= 40
                && extra
                    .code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !ok_code || extra.name.trim().is_empty() || codes.contains(&extra.code.as_str()) {
                return Err(ScopeError::BadExtra);
            }
            codes.push(&extra.code);
        }
        let mut seen = Vec::new();
        for rule in &self.exclusions {
            let empty_narrowing = rule
                .narrowed_to
                .as_deref()
                .is_some_and(|t| t.trim().is_empty());
            if seen.contains(&rule.exclusion) || empty_narrowing {
                return Err(ScopeError::BadExclusion);
            }
            seen.push(rule.exclusion);
        }
        if !self.is_default() {
            let filing = self.filing.as_ref().ok_or(ScopeError::NotFiled)?;
            if filing.province != self.city.province() {
                return Err(ScopeError::WrongProvince {
                    filed: filing.province,
                    expected: self.city.province(),
                });
            }
            if filing.reference.trim().is_empty() {
                return Err(ScopeError::NotFiled);
            }
        }
        Ok(())
    }

    /// Checks that a reporter's category choice is in this scope.
    ///
    /// # Errors
    /// [`ScopeError::UnknownCategory`] for a city extra this version does not have.
    pub fn check_category(&self, choice: &CategoryChoice) -> Result<(), ScopeError> {
        match choice {
            CategoryChoice::Annex(_) | CategoryChoice::Uncertain => Ok(()),
            CategoryChoice::CityExtra(code) => {
                if self.extra_categories.iter().any(|e| &e.code == code) {
                    Ok(())
                } else {
                    Err(ScopeError::UnknownCategory(code.clone()))
                }
            }
        }
    }

    /// The reporting notice (annex 2) rendered from this version.
    pub fn reporting_notice(&self) -> ReportingNotice {
        let text = render_reporting_notice(self);
        let digest = Sha256::digest(text.as_bytes());
        let version_id = format!(
            "{}-v{}-{}",
            self.city,
            self.version,
            &hex::encode(digest)[..8]
        );
        ReportingNotice { version_id, text }
    }
}

/// The line a reporter ticks before reporting.
pub const CONSENT_LINE: &str = "已阅读并同意该《举报说明》。";

const ORDINALS: [&str; 10] = [
    "（一）",
    "（二）",
    "（三）",
    "（四）",
    "（五）",
    "（六）",
    "（七）",
    "（八）",
    "（九）",
    "（十）",
];

fn ordinal(i: usize) -> String {
    ORDINALS
        .get(i)
        .map_or_else(|| format!("（{}）", i + 1), |s| (*s).to_owned())
}

fn render_reporting_notice(scope: &ScopeVersion) -> String {
    let names = |group: CategoryGroup| {
        Category::ALL
            .into_iter()
            .filter(|c| c.group() == group)
            .map(Category::name)
            .collect::<Vec<_>>()
            .join("，")
    };
    let mut out = String::new();
    out.push_str("举报说明\n\n");
    out.push_str("12336国土资源违法线索举报微信平台，主要接收举报自然人、法人或者其他组织违反土地、矿产资源法律法规的违法线索，由违法行为发生地的县级国土资源主管部门负责接收、判定、核查、处理和反馈。举报反映的违法线索发生地、违法主体、主要违法事实等情况应基本清楚。\n\n");
    out.push_str("一、本平台主要接收以下情形的举报\n");
    out.push_str(&format!("{}{}\n", ordinal(0), CategoryGroup::Land.name()));
    out.push_str(&format!("{}\n", names(CategoryGroup::Land)));
    out.push_str(&format!(
        "{}{}\n",
        ordinal(1),
        CategoryGroup::Mineral.name()
    ));
    out.push_str(&format!("{}\n", names(CategoryGroup::Mineral)));
    if !scope.extra_categories.is_empty() {
        out.push_str(&format!("{}本市拓展接收的情形\n", ordinal(2)));
        let extras: Vec<&str> = scope
            .extra_categories
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        out.push_str(&format!("{}\n", extras.join("，")));
    }
    out.push_str("\n二、本平台不接收以下情形的举报：\n");
    let count = scope.exclusions.len();
    for (i, rule) in scope.exclusions.iter().enumerate() {
        let end = if i + 1 == count { "。" } else { "；" };
        out.push_str(&format!("{}{}{}\n", ordinal(i), rule.text(), end));
    }
    out.push_str("\n三、提倡实名举报。\n\n");
    out.push_str("四、违法线索提交成功后，国土资源主管部门将在法定工作时间内依法及时处理，请不要重复提交。\n\n");
    out.push_str("五、请自觉遵守相关法律法规，如实文明举报。上传不良信息恶意举报的用户，将承担由此引发的一切法律责任。\n\n");
    out.push_str(CONSENT_LINE);
    out
}

/// A city's reporting notice as shown to reporters, with the version id the consent records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportingNotice {
    /// `<city>-v<version>-<first 8 hex of the text's SHA-256>`: names the exact text agreed to.
    pub version_id: String,
    pub text: String,
}

/// A city's scope versions, oldest first: the in-force one at any instant, and the rules for
/// adding a new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeHistory {
    versions: Vec<ScopeVersion>,
}

impl ScopeHistory {
    /// A history starting with the default scope.
    pub fn new(city: DivisionCode, since: DateTime<Utc>) -> Result<Self, ScopeError> {
        let first = ScopeVersion::default_for(city, since);
        first.validate()?;
        Ok(Self {
            versions: vec![first],
        })
    }

    /// Adds a new version: it must be valid, numbered one above the last, for the same city,
    /// take effect no earlier than the last, and (if not default) be filed with the province.
    ///
    /// # Errors
    /// A [`ScopeError`]; the history is unchanged.
    pub fn add(&mut self, next: ScopeVersion) -> Result<(), ScopeError> {
        next.validate()?;
        let last = self.latest();
        if next.city != last.city {
            return Err(ScopeError::NotCity(next.city));
        }
        if next.version != last.version + 1 {
            return Err(ScopeError::VersionOrder {
                expected: last.version + 1,
                got: next.version,
            });
        }
        if next.effective_from < last.effective_from {
            return Err(ScopeError::EffectiveOrder);
        }
        self.versions.push(next);
        Ok(())
    }

    /// The newest version (possibly not yet in force).
    pub fn latest(&self) -> &ScopeVersion {
        // Never empty: built with a first version, only ever appended to.
        &self.versions[self.versions.len() - 1]
    }

    /// The version in force at `at`.
    pub fn in_force(&self, at: DateTime<Utc>) -> &ScopeVersion {
        self.versions
            .iter()
            .rev()
            .find(|v| v.effective_from <= at)
            .unwrap_or(&self.versions[0])
    }

    /// Checks that a reporter consented to the notice in force at `at`.
    ///
    /// # Errors
    /// [`ScopeError::StaleNotice`] when `version_id` names another text.
    pub fn check_consent(
        &self,
        version_id: &str,
        at: DateTime<Utc>,
    ) -> Result<&ScopeVersion, ScopeError> {
        let scope = self.in_force(at);
        if scope.reporting_notice().version_id == version_id {
            Ok(scope)
        } else {
            Err(ScopeError::StaleNotice(version_id.to_owned()))
        }
    }

    /// All versions, oldest first.
    pub fn versions(&self) -> &[ScopeVersion] {
        &self.versions
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn code(s: &str) -> DivisionCode {
        DivisionCode::parse(s).expect("code")
    }

    fn t(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0)
            .single()
            .expect("time")
    }

    /// Annex 2 as the regulation prints it, with the PDF's breaks and spaces removed and its
    /// mixed half/full-width ordinals written full-width.
    const ANNEX_2: &str = "举报说明

12336国土资源违法线索举报微信平台，主要接收举报自然人、法人或者其他组织违反土地、矿产资源法律法规的违法线索，由违法行为发生地的县级国土资源主管部门负责接收、判定、核查、处理和反馈。举报反映的违法线索发生地、违法主体、主要违法事实等情况应基本清楚。

一、本平台主要接收以下情形的举报
（一）土地违法行为
违法批地，违法占地，违法转让土地使用权，破坏耕地，其他土地违法行为
（二）矿产资源违法行为
违法勘查，违法开采，违法批准探矿权、采矿权，违法转让矿业权，其他矿产资源违法行为

二、本平台不接收以下情形的举报：
（一）依法应当通过申请行政复议、行政诉讼、仲裁等途径解决或者已经进入上述程序的；
（二）检举揭发国土资源系统干部违法违纪问题的；
（三）土地权属纠纷、征地补偿费分配或者拖欠，依法应由地方政府或者其他部门处理的；
（四）用地用矿涉及国家安全、国家秘密的；
（五）不属于国土资源主管部门职责范围的。

三、提倡实名举报。

四、违法线索提交成功后，国土资源主管部门将在法定工作时间内依法及时处理，请不要重复提交。

五、请自觉遵守相关法律法规，如实文明举报。上传不良信息恶意举报的用户，将承担由此引发的一切法律责任。

已阅读并同意该《举报说明》。";

    #[test]
    fn the_default_scope_renders_annex_2() {
        let scope = ScopeVersion::default_for(code("330100"), t(2026, 1, 1));
        let notice = scope.reporting_notice();
        assert_eq!(notice.text, ANNEX_2);
        assert!(notice.version_id.starts_with("330100-v1-"));
        assert!(notice.text.ends_with(CONSENT_LINE));
    }

    #[test]
    fn annex_1_has_five_land_and_five_mineral_categories() {
        let land = Category::ALL
            .iter()
            .filter(|c| c.group() == CategoryGroup::Land)
            .count();
        assert_eq!(land, 5);
        assert_eq!(Category::ALL.len(), 10);
        for c in Category::ALL {
            assert_eq!(Category::from_code(c.code()), Some(c));
            assert!(c.description().ends_with("等违法行为。"), "{c:?}");
        }
        assert_eq!(Category::from_code("illegal_fishing"), None);
        let json = serde_json::to_string(&CategoryChoice::Annex(Category::FarmlandDestruction))
            .expect("json");
        assert_eq!(json, r#"{"kind":"annex","code":"farmland_destruction"}"#);
        let uncertain: CategoryChoice =
            serde_json::from_str(r#"{"kind":"uncertain"}"#).expect("json");
        assert_eq!(uncertain, CategoryChoice::Uncertain);
        assert!(serde_json::from_str::<CategoryChoice>(r#"{"kind":"annex","code":"x"}"#).is_err());
    }

    fn widened(version: u32) -> ScopeVersion {
        let mut v = ScopeVersion::default_for(code("330100"), t(2026, 6, 1));
        v.version = version;
        v.extra_categories.push(ExtraCategory {
            code: "illegal_sand_mining".into(),
            name: "河道非法采砂".into(),
            description: "在河道管理范围内未经许可采砂。".into(),
        });
        v.exclusions
            .retain(|e| e.exclusion != Exclusion::NotLandDuty);
        v.exclusions[2].narrowed_to = Some("土地权属纠纷依法应由地方政府处理的".into());
        v.filing = Some(Filing {
            province: code("330000"),
            filed_on: NaiveDate::from_ymd_opt(2026, 5, 20).expect("date"),
            reference: "浙自然资备〔2026〕3号".into(),
        });
        v
    }

    #[test]
    fn a_widened_and_narrowed_scope_changes_the_notice_and_its_version() {
        let v2 = widened(2);
        assert_eq!(v2.validate(), Ok(()));
        let notice = v2.reporting_notice();
        assert!(
            notice
                .text
                .contains("（三）本市拓展接收的情形\n河道非法采砂\n")
        );
        assert!(
            notice
                .text
                .contains("（三）土地权属纠纷依法应由地方政府处理的；")
        );
        assert!(
            notice
                .text
                .contains("（四）用地用矿涉及国家安全、国家秘密的。")
        );
        assert!(!notice.text.contains("不属于国土资源主管部门职责范围的"));
        assert!(notice.version_id.starts_with("330100-v2-"));
        let v1 = ScopeVersion::default_for(code("330100"), t(2026, 1, 1));
        assert_ne!(v1.reporting_notice().version_id, notice.version_id);
        assert_eq!(
            v2.check_category(&CategoryChoice::CityExtra("illegal_sand_mining".into())),
            Ok(())
        );
        assert_eq!(
            v1.check_category(&CategoryChoice::CityExtra("illegal_sand_mining".into())),
            Err(ScopeError::UnknownCategory("illegal_sand_mining".into()))
        );
    }

    #[test]
    fn a_changed_scope_must_be_filed_with_its_own_province() {
        let mut v = widened(2);
        v.filing = None;
        assert_eq!(v.validate(), Err(ScopeError::NotFiled));
        let mut v = widened(2);
        if let Some(f) = v.filing.as_mut() {
            f.province = code("320000");
        }
        assert_eq!(
            v.validate(),
            Err(ScopeError::WrongProvince {
                filed: code("320000"),
                expected: code("330000")
            })
        );
        let mut v = widened(2);
        v.city = code("330106");
        assert_eq!(v.validate(), Err(ScopeError::NotCity(code("330106"))));
        let mut v = widened(2);
        v.extra_categories.push(v.extra_categories[0].clone());
        assert_eq!(v.validate(), Err(ScopeError::BadExtra));
        let mut v = widened(2);
        v.exclusions.push(v.exclusions[0].clone());
        assert_eq!(v.validate(), Err(ScopeError::BadExclusion));
    }

    #[test]
    fn history_picks_the_version_in_force_and_checks_consent() {
        let mut h = ScopeHistory::new(code("330100"), t(2026, 1, 1)).expect("history");
        let v1_id = h.latest().reporting_notice().version_id;
        assert_eq!(
            h.add(widened(3)),
            Err(ScopeError::VersionOrder {
                expected: 2,
                got: 3
            })
        );
        let mut early = widened(2);
        early.effective_from = t(2025, 1, 1);
        assert_eq!(h.add(early), Err(ScopeError::EffectiveOrder));
        h.add(widened(2)).expect("v2");
        let v2_id = h.latest().reporting_notice().version_id;
        assert_eq!(h.in_force(t(2026, 3, 1)).version, 1);
        assert_eq!(h.in_force(t(2026, 7, 1)).version, 2);
        assert!(h.check_consent(&v1_id, t(2026, 3, 1)).is_ok());
        assert_eq!(
            h.check_consent(&v1_id, t(2026, 7, 1)).map(|v| v.version),
            Err(ScopeError::StaleNotice(v1_id.clone()))
        );
        assert!(h.check_consent(&v2_id, t(2026, 7, 1)).is_ok());
    }
}
