//! [`DynamoClueStore`] as [`ClueReads`], [`DeadlineIndex`], [`NoticeOutbox`] and
//! [`IdentityVault`]: clues, timelines and messages, and the sparse indexes.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use domain::timeline::{Head, TimelineEntry, verify};
use domain::{BureauId, ClueId, ClueNo, ReporterKey};

use super::{DynamoClueStore, Query, SkCond};
use crate::error::StoreError;
use crate::item::*;
use crate::keys::*;
use crate::model::{Page, PageRequest};
use crate::vault::MaskedIdentity;
use crate::{ClueReads, DeadlineIndex, IdentityVault, NoticeOutbox};

impl ClueReads for DynamoClueStore {
    async fn clue(&self, id: &ClueId) -> Result<StoredClue, StoreError> {
        let item = self
            .get("clue", pk_clue(id), SK_CLUE)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("clue {id}")))?;
        StoredClue::try_from(item)
    }

    async fn clue_by_no(&self, no: &ClueNo) -> Result<Option<StoredClue>, StoreError> {
        let q = Query::index("clue_by_no", GSI3, gsi_clue_no(no), None);
        let (items, _) = self.query_page(&q, Some(1), None).await?;
        items
            .into_iter()
            .next()
            .map(StoredClue::try_from)
            .transpose()
    }

    async fn reporter_clues(
        &self,
        reporter: &ReporterKey,
        page: PageRequest,
    ) -> Result<Page<StoredClue>, StoreError> {
        let mut q = Query::index("reporter_clues", GSI1, gsi_reporter(reporter), None);
        q.forward = false;
        self.query_paged(&q, page).await
    }

    async fn inbox(
        &self,
        bureau: &BureauId,
        state: &str,
        page: PageRequest,
    ) -> Result<Page<StoredClue>, StoreError> {
        if !state_code_ok(state) {
            return Err(StoreError::Invalid("clue state"));
        }
        let q = Query::index("inbox", GSI2, gsi_inbox(bureau, state), None);
        self.query_paged(&q, page).await
    }

    async fn timeline(&self, id: &ClueId) -> Result<Vec<TimelineEntry>, StoreError> {
        let q = Query::table(
            "timeline",
            pk_clue(id),
            Some(SkCond::Begins(SK_EVENT.to_owned())),
        );
        self.query_all(&q)
            .await?
            .iter()
            .map(entry_from_item)
            .collect()
    }

    async fn verify_timeline(&self, id: &ClueId) -> Result<Head, StoreError> {
        // One Query reads the clue item (its head) and the whole timeline: `CLUE` < `DL#` < `EV#`.
        let q = Query::table(
            "verify_timeline",
            pk_clue(id),
            Some(SkCond::Between(SK_CLUE.to_owned(), format!("{SK_EVENT}~"))),
        );
        let items = self.query_all(&q).await?;
        let mut head = None;
        let mut entries = Vec::new();
        for item in items {
            let sk = get_s(&item, SK)?;
            if sk == SK_CLUE {
                head = Some(StoredClue::try_from(item)?.head);
            } else if sk.starts_with(SK_EVENT) {
                entries.push(entry_from_item(&item)?);
            }
        }
        let head = head.ok_or_else(|| StoreError::NotFound(format!("clue {id}")))?;
        verify(&entries, Some(&head)).map_err(|source| StoreError::Tampered {
            clue: id.to_string(),
            source,
        })
    }

    async fn merge_group(&self, primary: &ClueId) -> Result<Vec<StoredClue>, StoreError> {
        let head = self.clue(primary).await?;
        let mut loaded = BTreeMap::new();
        self.load_clues(
            head.clue.members.iter().map(|m| m.clue.clone()),
            &mut loaded,
        )
        .await?;
        let mut group = vec![head.clone()];
        group.extend(
            head.clue
                .members
                .iter()
                .filter_map(|m| loaded.remove(&m.clue)),
        );
        Ok(group)
    }

    async fn messages(&self, id: &ClueId) -> Result<Vec<Message>, StoreError> {
        let q = Query::table(
            "messages",
            pk_clue(id),
            Some(SkCond::Begins(SK_MESSAGE.to_owned())),
        );
        self.query_all(&q)
            .await?
            .into_iter()
            .map(Message::try_from)
            .collect()
    }
}

impl DeadlineIndex for DynamoClueStore {
    async fn deadlines_due(
        &self,
        from: Option<DateTime<Utc>>,
        to: DateTime<Utc>,
    ) -> Result<Vec<DeadlineEntry>, StoreError> {
        let lo = from.map_or_else(|| "0".to_owned(), instant);
        let hi = format!("{}~", instant(to));
        let q = Query::index(
            "deadlines",
            GSI1,
            DUE.to_owned(),
            Some(SkCond::Between(lo, hi)),
        );
        self.query_all(&q)
            .await?
            .into_iter()
            .map(DeadlineEntry::try_from)
            .collect()
    }

    async fn reminders_due(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<DeadlineEntry>, StoreError> {
        let hi = format!("{}~", instant(to));
        let q = Query::index(
            "deadlines",
            GSI2,
            REMIND.to_owned(),
            Some(SkCond::Between(instant(from), hi)),
        );
        self.query_all(&q)
            .await?
            .into_iter()
            .map(DeadlineEntry::try_from)
            .collect()
    }
}

impl NoticeOutbox for DynamoClueStore {
    async fn undelivered_notices(
        &self,
        owed_before: DateTime<Utc>,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let q = Query::index(
            "outbox",
            GSI3,
            OUTBOX.to_owned(),
            Some(SkCond::Between("0".to_owned(), instant(owed_before))),
        );
        self.query_all(&q)
            .await?
            .into_iter()
            .map(OutboxEntry::try_from)
            .collect()
    }
}

impl IdentityVault for DynamoClueStore {
    async fn masked_identity(&self, id: &ClueId) -> Result<MaskedIdentity, StoreError> {
        let item = self
            .get("vault", pk_vault(id), SK_VAULT)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("identity of clue {id}")))?;
        get_json(&item, "masked")
    }

    async fn recipient_openid(&self, id: &ClueId) -> Result<String, StoreError> {
        Ok(self.decrypt_identity(id).await?.openid)
    }
}
