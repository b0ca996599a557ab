//! The reporting rules both channels apply before a report is stored: the county-level division
//! it happened in, the text policy on every field (markup refused), a position that does not
//! contradict the county, the category, consent and the notice version, the real-name fields'
//! shapes, and which evidence may go with it. A refusal is a [`ReportError`] with a stable code
//! and the reporter's message; the API maps it to a status in one table.

use serde::{Deserialize, Serialize};

use crate::division::DivisionCode;
use crate::divisions::Divisions;
use crate::event::{Channel, Evidence, EvidenceLeftOut, Gps, Location};
use crate::identity::{self, IdentityError};
use crate::ids::{AttachmentId, ClueId, ReporterKey};
use crate::scope::{Category, CategoryChoice};
use crate::text::{Address, Facts, Subject, TextError};

/// The most attachments one clue carries.
pub const MAX_ATTACHMENTS: usize = 20;

/// The longest notice version id a report may name.
pub const MAX_NOTICE_VERSION_LEN: usize = 64;

/// What a reporter reports, validated, whichever channel: the clue's content before it has an
/// id, evidence or a number (the store adds the first two, the receipt the last).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub location: Location,
    pub subject: Option<Subject>,
    pub category: CategoryChoice,
    pub facts: Facts,
    /// Files sent that are not among the evidence, and why (the reporter is shown them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence_left_out: Vec<EvidenceLeftOut>,
    /// The reporting notice version the reporter agreed to.
    pub notice_version: String,
    pub consent: bool,
    pub channel: Channel,
    /// The `need_material` clue this one resubmits.
    pub resubmission_of: Option<ClueId>,
}

/// A real-name reporter's identity fields, checked by shape (all optional).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatedIdentity {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
}

/// Why a report is refused before anything is stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("not a reportable county-level division")]
    UnknownDivision,
    #[error("{0}")]
    Text(#[from] TextError),
    #[error("the position is not a coordinate")]
    InvalidGps,
    #[error("the position is outside {0}")]
    GpsOutsideDivision(DivisionCode),
    #[error("no such category")]
    UnknownCategory,
    #[error("the reporting notice was not agreed to")]
    ConsentRequired,
    #[error("the reporting notice version is not the one in force")]
    StaleNotice,
    #[error("{0}")]
    Identity(#[from] IdentityError),
    #[error("more than {MAX_ATTACHMENTS} attachments")]
    TooManyAttachments,
    #[error("an attachment is unknown or another reporter's")]
    AttachmentNotFound,
    #[error("an attachment is still being checked")]
    AttachmentPending,
    #[error("an attachment was rejected")]
    AttachmentRejected,
    #[error("the resubmitted clue is unknown")]
    ClueNotFound,
}

impl ReportError {
    /// The stable error code (API bodies): one per field for the text policy, and
    /// `markup_not_allowed` for markup in any field.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownDivision => "unknown_division",
            Self::Text(TextError::Markup { .. }) => "markup_not_allowed",
            Self::Text(e) => match e.field() {
                "address" => "invalid_address",
                "subject" => "invalid_subject",
                "facts" => "invalid_facts",
                "message" => "invalid_message",
                _ => "invalid_text",
            },
            Self::InvalidGps => "invalid_gps",
            Self::GpsOutsideDivision(_) => "gps_outside_division",
            Self::UnknownCategory => "unknown_category",
            Self::ConsentRequired => "consent_required",
            Self::StaleNotice => "stale_notice",
            Self::Identity(e) => e.code(),
            Self::TooManyAttachments => "too_many_attachments",
            Self::AttachmentNotFound => "attachment_not_found",
            Self::AttachmentPending => "attachment_pending",
            Self::AttachmentRejected => "attachment_rejected",
            Self::ClueNotFound => "clue_not_found",
        }
    }

    /// The answer the reporter reads.
    pub fn reporter_message(&self) -> String {
        match self {
            Self::UnknownDivision => "请选择县级行政区（县、市、区）作为违法行为发生地".into(),
            Self::Text(e) => e.reporter_message(),
            Self::InvalidGps => "位置坐标不正确".into(),
            // A position outside the chosen county contradicts it: the reporter fixes the place
            // or leaves the position out.
            Self::GpsOutsideDivision(d) => format!(
                "您的位置不在{}范围内。请重新选择违法行为发生地，或不填写位置后提交。",
                Divisions::embedded()
                    .full_name(d)
                    .unwrap_or_else(|| d.to_string())
            ),
            Self::UnknownCategory => "违法类型不正确".into(),
            Self::ConsentRequired => "请先阅读并同意《举报说明》".into(),
            Self::StaleNotice => "该地区的《举报说明》已更新，请重新阅读并同意后提交".into(),
            Self::Identity(e) => e.reporter_message(),
            Self::TooManyAttachments => format!("证据材料最多{MAX_ATTACHMENTS}个"),
            Self::AttachmentNotFound => "证据材料不存在，请重新上传".into(),
            Self::AttachmentPending => "证据材料仍在检查中，请稍后再提交".into(),
            Self::AttachmentRejected => "有证据材料未通过检查，请删除后重新提交".into(),
            Self::ClueNotFound => "未找到".into(),
        }
    }
}

/// The H5 form's body: what a reporter sends, unchecked.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportForm {
    pub division: String,
    pub address: String,
    #[serde(default)]
    pub gps: Option<GpsForm>,
    #[serde(default)]
    pub subject: Option<String>,
    pub category: CategoryForm,
    pub facts: String,
    #[serde(default)]
    pub attachments: Vec<String>,
    pub notice_version: String,
    pub consent: bool,
    #[serde(default)]
    pub identity: Option<IdentityForm>,
    #[serde(default)]
    pub resubmission_of: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpsForm {
    pub lat: f64,
    pub lng: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryForm {
    pub kind: String,
    #[serde(default)]
    pub code: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityForm {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub id_number: Option<String>,
}

/// A form that passed every rule: the report, the attachments it names, the stated identity.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedForm {
    pub report: Report,
    pub attachments: Vec<AttachmentId>,
    pub identity: StatedIdentity,
}

fn opt_text(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// A county-level division the platform knows.
///
/// # Errors
/// [`ReportError::UnknownDivision`].
pub fn reportable_division(code: &str) -> Result<DivisionCode, ReportError> {
    DivisionCode::parse(code)
        .ok()
        .filter(|d| Divisions::embedded().is_reportable_location(d))
        .ok_or(ReportError::UnknownDivision)
}

/// A position, refused when it contradicts the county (README: "GPS contradicting the county").
///
/// # Errors
/// [`ReportError::InvalidGps`], [`ReportError::GpsOutsideDivision`].
pub fn position(division: &DivisionCode, form: &GpsForm) -> Result<Gps, ReportError> {
    let gps = Gps::new(form.lat, form.lng).ok_or(ReportError::InvalidGps)?;
    if crate::geo::contradicts(division, &gps) {
        return Err(ReportError::GpsOutsideDivision(*division));
    }
    Ok(gps)
}

/// The category chosen: an annex category by code, a city's extra category (a lowercase code
/// of at most 64 characters; the scope decides at receipt whether the city has it), or
/// "不确定".
///
/// # Errors
/// [`ReportError::UnknownCategory`].
pub fn category(form: CategoryForm) -> Result<CategoryChoice, ReportError> {
    match (form.kind.as_str(), form.code) {
        ("uncertain", None) => Ok(CategoryChoice::Uncertain),
        ("annex", Some(c)) => Category::from_code(&c)
            .map(CategoryChoice::Annex)
            .ok_or(ReportError::UnknownCategory),
        ("city_extra", Some(c))
            if !c.is_empty()
                && c.len() <= 64
                && c.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') =>
        {
            Ok(CategoryChoice::CityExtra(c))
        }
        _ => Err(ReportError::UnknownCategory),
    }
}

/// The real-name fields with the identity rules ([`crate::identity`]); empty fields are absent.
///
/// # Errors
/// [`ReportError::Identity`].
pub fn stated_identity(form: Option<IdentityForm>) -> Result<StatedIdentity, ReportError> {
    let f = form.unwrap_or_default();
    Ok(StatedIdentity {
        name: opt_text(f.name)
            .map(|n| identity::person_name(&n))
            .transpose()?,
        phone: opt_text(f.phone)
            .map(|p| identity::phone_number(&p))
            .transpose()?,
        id_number: opt_text(f.id_number)
            .map(|n| identity::resident_id(&n))
            .transpose()?,
    })
}

/// The notice version a report names: refused as stale when it cannot be one (the receipt checks
/// it against the version in force).
///
/// # Errors
/// [`ReportError::StaleNotice`].
pub fn notice_version(v: String) -> Result<String, ReportError> {
    if v.is_empty() || v.len() > MAX_NOTICE_VERSION_LEN {
        return Err(ReportError::StaleNotice);
    }
    Ok(v)
}

impl ReportForm {
    /// Checks every field, in the form's order; the first refusal is the answer (the receipt
    /// checks consent, scope and the notice in force again).
    ///
    /// # Errors
    /// The first [`ReportError`].
    pub fn check(self) -> Result<CheckedForm, ReportError> {
        let division = reportable_division(&self.division)?;
        let address = Address::parse(&self.address)?;
        let gps = self
            .gps
            .as_ref()
            .map(|g| position(&division, g))
            .transpose()?;
        let subject = opt_text(self.subject)
            .map(|s| Subject::parse(&s))
            .transpose()?;
        let facts = Facts::parse(&self.facts)?;
        let category = category(self.category)?;
        if !self.consent {
            return Err(ReportError::ConsentRequired);
        }
        let notice_version = notice_version(self.notice_version)?;
        let attachments = self
            .attachments
            .iter()
            .map(|a| AttachmentId::parse(a).map_err(|_| ReportError::AttachmentNotFound))
            .collect::<Result<Vec<_>, _>>()?;
        let resubmission_of = self
            .resubmission_of
            .map(|s| ClueId::parse(&s).map_err(|_| ReportError::ClueNotFound))
            .transpose()?;
        let identity = stated_identity(self.identity)?;
        Ok(CheckedForm {
            report: Report {
                location: Location {
                    division,
                    address,
                    gps,
                },
                subject,
                category,
                facts,
                evidence_left_out: Vec::new(),
                notice_version,
                consent: self.consent,
                channel: Channel::H5,
                resubmission_of,
            },
            attachments,
            identity,
        })
    }
}

/// Where an attachment a report names stands in processing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachmentStanding {
    /// Still being checked.
    Pending,
    /// Refused by the checks.
    Rejected,
    /// Kept as this evidence.
    Ready(Evidence),
}

/// An attachment a report names, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedAttachment {
    pub owner: ReporterKey,
    pub standing: AttachmentStanding,
}

/// How many attachments a report may name.
///
/// # Errors
/// [`ReportError::TooManyAttachments`].
pub fn check_attachment_count(n: usize) -> Result<(), ReportError> {
    if n > MAX_ATTACHMENTS {
        return Err(ReportError::TooManyAttachments);
    }
    Ok(())
}

/// The evidence an attachment gives `reporter`'s report: only their own, only when ready.
///
/// # Errors
/// [`ReportError::AttachmentNotFound`] (unknown or another reporter's),
/// [`ReportError::AttachmentPending`], [`ReportError::AttachmentRejected`].
pub fn evidence(
    reporter: &ReporterKey,
    stored: Option<NamedAttachment>,
) -> Result<Evidence, ReportError> {
    match stored {
        Some(a) if &a.owner == reporter => match a.standing {
            AttachmentStanding::Ready(e) => Ok(e),
            AttachmentStanding::Pending => Err(ReportError::AttachmentPending),
            AttachmentStanding::Rejected => Err(ReportError::AttachmentRejected),
        },
        _ => Err(ReportError::AttachmentNotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(edit: impl FnOnce(&mut serde_json::Value)) -> Result<CheckedForm, ReportError> {
        let mut v = serde_json::json!({
            "division": "330106",
            "address": "留下街道某村东侧农田",
            "gps": {"lat": 30.25, "lng": 120.05},
            "subject": "  ",
            "category": {"kind": "annex", "code": "farmland_destruction"},
            "facts": "在基本农田上堆放建材并硬化地面。",
            "attachments": ["a1"],
            "notice_version": "v1",
            "consent": true,
            "identity": {"name": "张三", "phone": "138 0013 8000", "id_number": " "},
            "resubmission_of": null,
        });
        edit(&mut v);
        serde_json::from_value::<ReportForm>(v)
            .expect("form")
            .check()
    }

    fn code_of(edit: impl FnOnce(&mut serde_json::Value)) -> &'static str {
        form(edit).map(|_| "ok").unwrap_or_else(|e| e.code())
    }

    #[test]
    fn a_good_form_becomes_a_report_its_attachments_and_the_stated_identity() {
        let c = form(|_| {}).expect("checked");
        assert_eq!(c.report.location.division.as_str(), "330106");
        assert_eq!(c.report.subject, None, "a blank subject is no subject");
        assert_eq!(
            c.report.category,
            CategoryChoice::Annex(Category::FarmlandDestruction)
        );
        assert_eq!(c.report.channel, Channel::H5);
        assert_eq!(c.attachments, [AttachmentId::parse("a1").expect("id")]);
        assert_eq!(c.identity.name.as_deref(), Some("张三"));
        assert_eq!(c.identity.phone.as_deref(), Some("13800138000"));
        assert_eq!(c.identity.id_number, None);
    }

    #[test]
    fn each_rule_refuses_with_its_own_code() {
        use serde_json::json;
        let cases = [
            ("unknown_division", "/division", json!("330100")),
            ("unknown_division", "/division", json!("99")),
            ("markup_not_allowed", "/address", json!("<b>某村</b>")),
            ("invalid_address", "/address", json!("")),
            ("markup_not_allowed", "/facts", json!("<script>x</script>")),
            ("invalid_gps", "/gps", json!({"lat": 91.0, "lng": 0.0})),
            (
                "gps_outside_division",
                "/gps",
                json!({"lat": 39.9, "lng": 116.4}),
            ),
            (
                "unknown_category",
                "/category",
                json!({"kind": "annex", "code": "no_such"}),
            ),
            (
                "unknown_category",
                "/category",
                json!({"kind": "city_extra", "code": "Bad-Code"}),
            ),
            (
                "unknown_category",
                "/category",
                json!({"kind": "uncertain", "code": "x"}),
            ),
            ("consent_required", "/consent", json!(false)),
            ("stale_notice", "/notice_version", json!("")),
            ("stale_notice", "/notice_version", json!("v".repeat(65))),
            ("invalid_phone", "/identity/phone", json!("12345")),
            (
                "invalid_id_number",
                "/identity/id_number",
                json!("110101199003070000"),
            ),
            ("markup_not_allowed", "/identity/name", json!("<b>张三</b>")),
            ("attachment_not_found", "/attachments", json!(["../x"])),
            ("clue_not_found", "/resubmission_of", json!("../c")),
            ("ok", "/category", json!({"kind": "uncertain"})),
            (
                "ok",
                "/category",
                json!({"kind": "city_extra", "code": "mine_2"}),
            ),
            ("ok", "/gps", json!(null)),
        ];
        for (want, path, value) in cases {
            let got = code_of(|v| *v.pointer_mut(path).expect(path) = value.clone());
            assert_eq!(got, want, "{path} = {value}");
        }
    }

    #[test]
    fn a_position_outside_the_county_names_the_county() {
        let e = form(|v| v["gps"] = serde_json::json!({"lat": 39.9, "lng": 116.4}))
            .expect_err("outside");
        assert!(e.reporter_message().contains("西湖区"), "{e}");
    }

    #[test]
    fn evidence_is_the_reporters_own_and_only_when_ready() {
        let me = ReporterKey::parse(&"ab".repeat(32)).expect("key");
        let other = ReporterKey::parse(&"cd".repeat(32)).expect("key");
        let ready = Evidence {
            attachment: AttachmentId::parse("a1").expect("id"),
            sha256: "00".repeat(32),
            content_type: "image/jpeg".into(),
            size: 3,
        };
        let named = |owner: &ReporterKey, standing| {
            Some(NamedAttachment {
                owner: owner.clone(),
                standing,
            })
        };
        assert_eq!(
            evidence(&me, named(&me, AttachmentStanding::Ready(ready.clone()))),
            Ok(ready.clone())
        );
        assert_eq!(
            evidence(&me, named(&other, AttachmentStanding::Ready(ready))),
            Err(ReportError::AttachmentNotFound)
        );
        assert_eq!(evidence(&me, None), Err(ReportError::AttachmentNotFound));
        assert_eq!(
            evidence(&me, named(&me, AttachmentStanding::Pending)),
            Err(ReportError::AttachmentPending)
        );
        assert_eq!(
            evidence(&me, named(&me, AttachmentStanding::Rejected)),
            Err(ReportError::AttachmentRejected)
        );
        assert_eq!(check_attachment_count(MAX_ATTACHMENTS), Ok(()));
        assert_eq!(
            check_attachment_count(MAX_ATTACHMENTS + 1),
            Err(ReportError::TooManyAttachments)
        );
    }
}
