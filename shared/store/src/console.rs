//! What the officer console reads besides clues: whether an officer's account is active, and
//! the number of clues per state in a bureau's inbox (one `COUNT` query per state on GSI2).
//!
//! | pattern | how | requests |
//! |---|---|---|
//! | an officer and whether the account is active | GetItem `OFFICER#<sub>`/`OFFICER` (attribute `disabled`) | 1 |
//! | a bureau's clues per state | Query GSI2 `INBOX#<bureau>#<state>`, `Select COUNT`, per state | 5 |

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{ReturnConsumedCapacity, Select};
use domain::{BureauId, Officer, OfficerId};

use crate::Console;
use crate::dynamo::{DynamoClueStore, reported};
use crate::error::StoreError;
use crate::item::{get_json, s};
use crate::keys::{GSI2, GSI2PK, SK_OFFICER, gsi_inbox, pk_officer};

/// Every state code of the inbox, in the console's tab order.
pub const INBOX_STATES: [&str; 5] = ["received", "escalated", "accepted", "closed", "merged"];

impl DynamoClueStore {
    /// How many items a GSI2 partition holds (`Select COUNT`, every page): one helper for the
    /// console's counts (inbox states, unread reminders).
    ///
    /// # Errors
    /// Store errors.
    pub(crate) async fn count_gsi2(&self, op: &'static str, pk: String) -> Result<u64, StoreError> {
        let mut total = 0u64;
        let mut start = None;
        loop {
            let out = self
                .db
                .query()
                .table_name(self.table())
                .index_name(GSI2)
                .key_condition_expression("#p = :p")
                .expression_attribute_names("#p", GSI2PK)
                .expression_attribute_values(":p", s(pk.clone()))
                .select(Select::Count)
                .set_exclusive_start_key(start)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(|e| StoreError::sdk("Query", e))?;
            self.meter()
                .record(op, 0, reported(out.consumed_capacity()), 0.5);
            total += u64::try_from(out.count()).unwrap_or(0);
            match out.last_evaluated_key {
                Some(k) => start = Some(k),
                None => return Ok(total),
            }
        }
    }
}

impl Console for DynamoClueStore {
    async fn officer_account_state(
        &self,
        id: &OfficerId,
    ) -> Result<Option<(Officer, bool)>, StoreError> {
        let Some(item) = self.get("officer", pk_officer(id), SK_OFFICER).await? else {
            return Ok(None);
        };
        let officer: Officer = get_json(&item, "data")?;
        let disabled = item
            .get("disabled")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false);
        Ok(Some((officer, !disabled)))
    }

    async fn inbox_counts(
        &self,
        bureau: &BureauId,
    ) -> Result<BTreeMap<&'static str, u64>, StoreError> {
        let mut counts = BTreeMap::new();
        for state in INBOX_STATES {
            counts.insert(
                state,
                self.count_gsi2("inbox_count", gsi_inbox(bureau, state))
                    .await?,
            );
        }
        Ok(counts)
    }
}
