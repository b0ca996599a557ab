//! 督办 lists: each supervision of a clue as an index item, written in the command's own
//! transaction (derived from the clue like the deadline index items), so the supervising bureau
//! lists what it supervises with the answers, and the handling bureau what it must answer.
//!
//! | item | `pk` | `sk` | GSI1 (supervising bureau, always) | GSI2 (handling bureau, while open) |
//! |---|---|---|---|---|
//! | a supervision | `CLUE#<id>` | `SUPERVISION#<opened>` | `SUPERVISING#<bureau>` / `<opened>#<clue>` | `SUPERVISED#<bureau>` / `<due_on>#<clue>` |
//!
//! Attributes: `clue_id`, `clue_no`, `handler`, `state`, `data` (the record with its answers),
//! `recused` (officers who may not see the clue).
//!
//! | pattern | how | requests |
//! |---|---|---|
//! | a bureau's supervisions, newest first, a page | Query GSI1 `SUPERVISING#<bureau>` descending, `sk < cursor` | 1 per page |
//! | the open supervisions a bureau must answer, earliest due first | Query GSI2 `SUPERVISED#<bureau>` | 1 per 1 MB |

use domain::supervision::SupervisionRecord;
use std::collections::BTreeSet;

use domain::{BureauId, Clue, ClueId, ClueNo, OfficerId};
use serde::Serialize;

use crate::SupervisionLists;
use crate::dynamo::{DynamoClueStore, Query, SkCond};
use crate::error::StoreError;
use crate::item::{Item, get_json, get_s, key, s, to_json};
use crate::keys::{GSI1, GSI1PK, GSI1SK, GSI2, GSI2PK, GSI2SK, instant, pk_clue};

/// One supervision as the lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupervisionEntry {
    pub clue_id: ClueId,
    pub clue_no: ClueNo,
    /// The bureau handling the clue now.
    pub handler: BureauId,
    /// The clue's state code.
    pub state: String,
    pub supervision: SupervisionRecord,
    /// Officers recused from the clue (they do not see it, art. 18).
    #[serde(skip)]
    pub recused: BTreeSet<OfficerId>,
}

/// One page of a bureau's supervisions; `next` is the cursor of the following page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupervisionPage {
    pub items: Vec<SupervisionEntry>,
    pub next: Option<String>,
}

pub(crate) fn pk_supervising(bureau: &BureauId) -> String {
    format!("SUPERVISING#{bureau}")
}

pub(crate) fn pk_supervised(bureau: &BureauId) -> String {
    format!("SUPERVISED#{bureau}")
}

/// The index items of a clue's supervisions (the plan puts the changed ones and deletes none:
/// a supervision stays listed for the bureau that opened it).
pub(crate) fn supervision_items(clue: &Clue) -> Result<Vec<Item>, StoreError> {
    clue.supervisions
        .iter()
        .map(|sup| {
            let opened = instant(sup.opened_at);
            let mut item = key(pk_clue(&clue.id), format!("SUPERVISION#{opened}"));
            item.extend([
                ("type".to_owned(), s("supervision")),
                ("clue_id".to_owned(), s(clue.id.as_str())),
                ("clue_no".to_owned(), s(clue.clue_no.as_str())),
                ("handler".to_owned(), s(clue.handler.as_str())),
                ("state".to_owned(), s(clue.state.code())),
                ("data".to_owned(), s(to_json(sup)?)),
                ("recused".to_owned(), s(to_json(&clue.recused)?)),
                (GSI1PK.to_owned(), s(pk_supervising(&sup.by))),
                (GSI1SK.to_owned(), s(format!("{opened}#{}", clue.id))),
            ]);
            if sup.is_open() {
                item.extend([
                    (GSI2PK.to_owned(), s(pk_supervised(&clue.handler))),
                    (GSI2SK.to_owned(), s(format!("{}#{}", sup.due_on, clue.id))),
                ]);
            }
            Ok(item)
        })
        .collect()
}

impl TryFrom<Item> for SupervisionEntry {
    type Error = StoreError;

    fn try_from(item: Item) -> Result<Self, Self::Error> {
        let bad = |e: String| StoreError::malformed("SUPERVISION", e);
        Ok(Self {
            clue_id: ClueId::parse(get_s(&item, "clue_id")?).map_err(|e| bad(e.to_string()))?,
            clue_no: ClueNo::parse(get_s(&item, "clue_no")?).map_err(|e| bad(e.to_string()))?,
            handler: BureauId::parse(get_s(&item, "handler")?).map_err(|e| bad(e.to_string()))?,
            state: get_s(&item, "state")?.to_owned(),
            supervision: get_json(&item, "data")?,
            recused: get_json(&item, "recused")?,
        })
    }
}

impl SupervisionLists for DynamoClueStore {
    async fn supervisions_by(
        &self,
        bureau: &BureauId,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<SupervisionPage, StoreError> {
        let cursor = crate::keys::sort_key_cursor(cursor)?;
        let mut q = Query::index(
            "supervising",
            GSI1,
            pk_supervising(bureau),
            cursor.map(|c| SkCond::Below(c.to_owned())),
        );
        q.forward = false;
        let (items, next) = self.query_page(&q, Some(limit.clamp(1, 100)), None).await?;
        let items = items
            .into_iter()
            .map(SupervisionEntry::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        let next = next.and_then(|k| k.get(GSI1SK).and_then(|v| v.as_s().ok()).cloned());
        Ok(SupervisionPage { items, next })
    }

    async fn supervisions_of(
        &self,
        bureau: &BureauId,
    ) -> Result<Vec<SupervisionEntry>, StoreError> {
        self.query_all(&Query::index(
            "supervised",
            GSI2,
            pk_supervised(bureau),
            None,
        ))
        .await?
        .into_iter()
        .map(SupervisionEntry::try_from)
        .collect()
    }
}
