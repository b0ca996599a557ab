//! The surge review list (issue 16, point 2): clues filed while their county received more than
//! a surge's worth in an hour are never refused for what others did; each is marked here for the
//! bureau's review.
//!
//! | item | `pk` | `sk` | TTL |
//! |---|---|---|---|
//! | surge mark | `SURGE#<province, 2 digits>` | `<clue no>` (`<county>-<yyyymmdd>-<seq>`) | 180 days |
//!
//! The sort key is the clue number, so one `begins_with` on a bureau's division prefix (2 digits
//! for a province, 4 for a city, 6 for a county) lists its territory, county by county, newest
//! first; marking the same clue again (a retried filing) writes the same item.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};
use domain::{ClueId, ClueNo, DivisionCode, DivisionLevel};
use serde::Serialize;

use crate::error::StoreError;
use crate::item::{Item, get_s, n, s};
use crate::keys::{EXPIRES_AT, PK, SK, instant};
use crate::reporting::ReportingStore;

/// How long a surge mark stays listed.
pub const SURGE_TTL: Duration = Duration::days(180);

/// One clue filed during a surge in its county.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SurgeMark {
    pub clue_id: ClueId,
    pub clue_no: ClueNo,
    pub division: DivisionCode,
    /// When it was first marked (RFC 3339, UTC).
    pub marked_at: String,
}

/// A page of surge marks, newest first within each county.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurgePage {
    pub items: Vec<SurgeMark>,
    /// The cursor of the next page (a clue number), if any.
    pub next: Option<String>,
}

fn pk_surge(division: &DivisionCode) -> String {
    format!("SURGE#{}", &division.as_str()[..2])
}

/// The sort-key prefix of the clues inside `division`.
fn prefix(division: &DivisionCode) -> &str {
    let code = division.as_str();
    match division.level() {
        DivisionLevel::Province => &code[..2],
        DivisionLevel::City => &code[..4],
        DivisionLevel::County => code,
    }
}

impl TryFrom<&Item> for SurgeMark {
    type Error = StoreError;
    fn try_from(item: &Item) -> Result<Self, StoreError> {
        let sk = get_s(item, SK)?;
        let bad = |reason: &str| StoreError::malformed(format!("SURGE/{sk}"), reason);
        Ok(Self {
            clue_id: ClueId::parse(get_s(item, "clue_id")?).map_err(|_| bad("clue_id"))?,
            clue_no: ClueNo::parse(sk).map_err(|_| bad("clue number"))?,
            division: DivisionCode::parse(get_s(item, "division")?).map_err(|_| bad("division"))?,
            marked_at: get_s(item, "marked_at")?.to_owned(),
        })
    }
}

impl ReportingStore {
    /// Marks a clue filed during a surge in its county for the bureau's review. Idempotent: the
    /// same clue keeps one item and its first time.
    ///
    /// # Errors
    /// DynamoDB failures.
    pub async fn mark_surge(
        &self,
        clue_id: &ClueId,
        clue_no: &ClueNo,
        division: &DivisionCode,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.db
            .update_item()
            .table_name(&self.table)
            .key(PK, s(pk_surge(division)))
            .key(SK, s(clue_no.as_str()))
            .update_expression(
                "SET clue_id = :id, division = :d, marked_at = if_not_exists(marked_at, :at), #t = :type, #e = :exp",
            )
            .expression_attribute_names("#t", "type")
            .expression_attribute_names("#e", EXPIRES_AT)
            .expression_attribute_values(":id", s(clue_id.as_str()))
            .expression_attribute_values(":d", s(division.as_str()))
            .expression_attribute_values(":at", s(instant(now)))
            .expression_attribute_values(":type", s("surge"))
            .expression_attribute_values(":exp", n((now + SURGE_TTL).timestamp()))
            .send()
            .await
            .map_err(|e| StoreError::sdk("UpdateItem", e))?;
        Ok(())
    }

    /// The surge marks of the clues inside `territory` (a province, city or county), newest first
    /// within each county, at most `limit`, after `cursor` (a clue number from an earlier page).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a cursor outside the territory; DynamoDB failures.
    pub async fn surge_marks(
        &self,
        territory: &DivisionCode,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<SurgePage, StoreError> {
        let pk = pk_surge(territory);
        let prefix = prefix(territory);
        let mut q = self
            .db
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(pk.clone()))
            .expression_attribute_values(":prefix", s(prefix))
            .scan_index_forward(false)
            .limit(limit.clamp(1, 100));
        if let Some(c) = cursor {
            let c = ClueNo::parse(c).map_err(|_| StoreError::Invalid("cursor"))?;
            if !c.as_str().starts_with(prefix) {
                return Err(StoreError::Invalid("cursor"));
            }
            q = q
                .exclusive_start_key(PK, s(pk))
                .exclusive_start_key(SK, s(c.as_str()));
        }
        let out = q.send().await.map_err(|e| StoreError::sdk("Query", e))?;
        let items = out
            .items()
            .iter()
            .map(SurgeMark::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        let next = out
            .last_evaluated_key()
            .and_then(|k| k.get(SK))
            .and_then(|v: &AttributeValue| v.as_s().ok())
            .cloned();
        Ok(SurgePage { items, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_territory_lists_by_its_significant_digits() {
        let code = |c: &str| DivisionCode::parse(c).expect("code");
        assert_eq!(prefix(&code("330000")), "33");
        assert_eq!(prefix(&code("330100")), "3301");
        assert_eq!(prefix(&code("330106")), "330106");
        assert_eq!(pk_surge(&code("330106")), "SURGE#33");
    }
}
