//! Scope filing (arts. 8, 9): a city's scope versions as filed, the filings a province lists and
//! acknowledges. A filed version is written by `add_scope_version` (one conditional put) with
//! its province's index keys, so the province finds it without reading every city.
//!
//! | item | `pk` | `sk` | GSI1 | attributes added here |
//! |---|---|---|---|---|
//! | a scope version | `SCOPE#<city>` | `V#<version>` | `FILINGS#<province>` / `<effective>#<city>#<version>` (filed ones) | `acknowledged_at`, `acknowledged_by` |
//!
//! | pattern | how | requests |
//! |---|---|---|
//! | a city's versions | Query `SCOPE#<city>` | 1 per 1 MB |
//! | a province's filings, newest effective first | Query GSI1 `FILINGS#<province>` descending | 1 per 1 MB |
//! | acknowledge (idempotent, first acknowledgment kept) | UpdateItem `if_not_exists`, `attribute_exists(pk)` | 1 |

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity, ReturnValue};
use chrono::{DateTime, Utc};
use domain::scope::{Filing, ScopeVersion};
use domain::{DivisionCode, Officer, OfficerId};
use serde::Serialize;

use crate::ScopeFilings;
use crate::dynamo::{DynamoClueStore, Query, reported};
use crate::error::StoreError;
use crate::item::{Item, get_json, get_s, parse_instant, s};
use crate::keys::{GSI1, GSI1PK, GSI1SK, instant, pk_scope, sk_scope};

/// The province's acknowledgment of a filing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Acknowledgment {
    pub by: OfficerId,
    pub at: DateTime<Utc>,
}

/// A scope version as stored, with its notice version and the acknowledgment if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FiledScope {
    pub scope: ScopeVersion,
    pub notice_version: String,
    pub notice_text: String,
    pub acknowledged: Option<Acknowledgment>,
}

fn pk_filings(province: &DivisionCode) -> String {
    format!("FILINGS#{province}")
}

/// The province index keys of a filed version (written with the version itself).
pub(crate) fn filing_index(
    version: &ScopeVersion,
    filing: &Filing,
) -> [(String, AttributeValue); 2] {
    [
        (GSI1PK.to_owned(), s(pk_filings(&filing.province))),
        (
            GSI1SK.to_owned(),
            s(format!(
                "{}#{}#{:06}",
                instant(version.effective_from),
                version.city,
                version.version
            )),
        ),
    ]
}

impl TryFrom<Item> for FiledScope {
    type Error = StoreError;

    fn try_from(item: Item) -> Result<Self, Self::Error> {
        let acknowledged = match item.get("acknowledged_by") {
            Some(_) => Some(Acknowledgment {
                by: OfficerId::parse(get_s(&item, "acknowledged_by")?)
                    .map_err(|e| StoreError::malformed("SCOPE", e))?,
                at: parse_instant(&item, "acknowledged_at")?,
            }),
            None => None,
        };
        Ok(Self {
            scope: get_json(&item, "data")?,
            notice_version: get_s(&item, "notice_version")?.to_owned(),
            notice_text: get_s(&item, "notice_text")?.to_owned(),
            acknowledged,
        })
    }
}

impl ScopeFilings for DynamoClueStore {
    async fn filed_scopes(&self, city: &DivisionCode) -> Result<Vec<FiledScope>, StoreError> {
        self.query_all(&Query::table("scope", pk_scope(city), None))
            .await?
            .into_iter()
            .map(FiledScope::try_from)
            .collect()
    }

    async fn province_filings(
        &self,
        province: &DivisionCode,
    ) -> Result<Vec<FiledScope>, StoreError> {
        let mut q = Query::index("filings", GSI1, pk_filings(province), None);
        q.forward = false;
        self.query_all(&q)
            .await?
            .into_iter()
            .map(FiledScope::try_from)
            .collect()
    }

    async fn acknowledge_filing(
        &self,
        city: &DivisionCode,
        version: u32,
        officer: &Officer,
        now: DateTime<Utc>,
    ) -> Result<FiledScope, StoreError> {
        let out = self
            .db
            .update_item()
            .table_name(self.table())
            .key("pk", s(pk_scope(city)))
            .key("sk", s(sk_scope(version)))
            .update_expression(
                "SET acknowledged_at = if_not_exists(acknowledged_at, :at), \
                 acknowledged_by = if_not_exists(acknowledged_by, :by)",
            )
            .condition_expression("attribute_exists(pk) AND attribute_exists(#g)")
            .expression_attribute_names("#g", GSI1PK)
            .expression_attribute_values(":at", s(instant(now)))
            .expression_attribute_values(":by", s(officer.id.as_str()))
            .return_values(ReturnValue::AllNew)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match out {
            Ok(out) => {
                self.meter()
                    .record("scope_ack", 1, reported(out.consumed_capacity()), 1.0);
                FiledScope::try_from(out.attributes.unwrap_or_default())
            }
            Err(SdkError::ServiceError(se))
                if se.err().code() == Some("ConditionalCheckFailedException") =>
            {
                Err(StoreError::NotFound(format!("scope {city} v{version}")))
            }
            Err(e) => Err(StoreError::sdk("UpdateItem", e)),
        }
    }
}
