//! 通报 bulletins: the bulletin (one item, its JSON body, versioned), one recipient item per
//! child bureau written when it is issued, and the recipient's read receipt on that item.
//!
//! | item | `pk` | `sk` | attributes |
//! |---|---|---|---|
//! | bulletin | `BULLETIN#<id>` | `META` | `version`, `status`, `body` (JSON), `last_key`; GSI1 `BULLETINS#<issuer>` / `<created_at>#<id>` |
//! | recipient (from issue on) | `BULLETIN#<id>` | `TO#<bureau>` | `read_by`, `read_at` once read; GSI1 `BULLETINS_TO#<bureau>` / `<issued_at>#<id>` |
//!
//! | pattern | how | requests |
//! |---|---|---|
//! | create (idempotent: the id derives from the key) | PutItem `attribute_not_exists(pk)` | 1 |
//! | one bulletin | GetItem | 1 |
//! | change (edit, review) | PutItem `version = :seen` | 1 |
//! | issue | TransactWriteItems: the bulletin (`version = :seen`) + one put per recipient | 1 |
//! | an issuer's / a recipient's list, newest first | Query GSI1 | 1 per page |
//! | read receipt (first read only) | UpdateItem `attribute_not_exists(read_at)` | 1 |
//! | receipts of a bulletin | Query `BULLETIN#<id>`, `TO#` | 1 |

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::sweep::is_conditional;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use chrono::{DateTime, Utc};
use domain::bulletin::{Bulletin, BulletinId, BulletinStatus, Receipt};
use domain::{BureauId, OfficerId};

use crate::Bulletins;
use crate::dynamo::{DynamoClueStore, Query, SkCond};
use crate::error::StoreError;
use crate::item::{Item, get_json, get_s, key, n, parse_instant, s, to_json};
use crate::keys::{GSI1, GSI1PK, GSI1SK, instant};
use crate::meter::{item_size, write_units};

const SK_META: &str = "META";
const SK_TO: &str = "TO#";

fn pk_bulletin(id: &BulletinId) -> String {
    format!("BULLETIN#{id}")
}

/// The most bulletins one list answers.
pub const MAX_LIST: i32 = 100;

/// What the store answers for a write keyed by an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// The change is stored.
    Done,
    /// The same key already made this change: nothing written again.
    Replayed,
}

/// A bulletin as a recipient lists it: the bulletin and whether its bureau has read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub bulletin: Bulletin,
    pub read: Option<Receipt>,
}

fn bulletin_item(b: &Bulletin, last_key: &str) -> Result<Item, StoreError> {
    let mut item = key(pk_bulletin(&b.id), SK_META);
    item.extend([
        ("type".to_owned(), s("bulletin")),
        ("version".to_owned(), n(b.version)),
        ("status".to_owned(), s(b.status.code())),
        ("body".to_owned(), s(to_json(b)?)),
        ("last_key".to_owned(), s(last_key)),
        (GSI1PK.to_owned(), s(format!("BULLETINS#{}", b.issuer))),
        (
            GSI1SK.to_owned(),
            s(format!("{}#{}", instant(b.created_at), b.id)),
        ),
    ]);
    Ok(item)
}

fn receipt_of(item: &Item) -> Result<Option<Receipt>, StoreError> {
    if !item.contains_key("read_at") {
        return Ok(None);
    }
    let bad = |e: String| StoreError::malformed("bulletin recipient", e);
    Ok(Some(Receipt {
        bureau: BureauId::parse(get_s(item, "bureau")?).map_err(|e| bad(e.to_string()))?,
        officer: OfficerId::parse(get_s(item, "read_by")?).map_err(|e| bad(e.to_string()))?,
        at: parse_instant(item, "read_at")?,
    }))
}

impl DynamoClueStore {
    /// Puts `item` unless an item of its key exists: `false` then.
    ///
    /// # Errors
    /// Write failures.
    pub(crate) async fn put_if_absent(
        &self,
        op: &'static str,
        item: Item,
    ) -> Result<bool, StoreError> {
        let size = item_size(&item);
        match self
            .db
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
        {
            Ok(_) => {
                self.meter().record(op, 1, None, write_units(size));
                Ok(true)
            }
            Err(e) if is_conditional(&e) => Ok(false),
            Err(e) => Err(StoreError::sdk("PutItem", e)),
        }
    }

    /// The items of GSI1 partition `partition` (newest first, at most [`MAX_LIST`]), each with
    /// its bulletin read from the table (the index may lag: the table's item is the truth).
    async fn listed(
        &self,
        op: &'static str,
        partition: String,
    ) -> Result<Vec<(Item, Bulletin)>, StoreError> {
        let mut q = Query::index(op, GSI1, partition, None);
        q.forward = false;
        let (items, _) = self.query_page(&q, Some(MAX_LIST), None).await?;
        let mut out = Vec::with_capacity(items.len());
        for i in items {
            let id = BulletinId::parse(
                get_s(&i, "pk")?
                    .strip_prefix("BULLETIN#")
                    .unwrap_or_default(),
            )
            .map_err(|e| StoreError::malformed("bulletin", e))?;
            if let Some((b, _)) = self.bulletin(&id).await? {
                out.push((i, b));
            }
        }
        Ok(out)
    }
}

impl Bulletins for DynamoClueStore {
    async fn create_bulletin(&self, b: &Bulletin, key_: &str) -> Result<Written, StoreError> {
        Ok(
            if self
                .put_if_absent("bulletin_create", bulletin_item(b, key_)?)
                .await?
            {
                Written::Done
            } else {
                Written::Replayed
            },
        )
    }

    async fn bulletin(&self, id: &BulletinId) -> Result<Option<(Bulletin, String)>, StoreError> {
        let Some(item) = self.get("bulletin", pk_bulletin(id), SK_META).await? else {
            return Ok(None);
        };
        let b: Bulletin = get_json(&item, "body")?;
        Ok(Some((b, get_s(&item, "last_key")?.to_owned())))
    }

    async fn update_bulletin(&self, b: &Bulletin, seen: u64, key_: &str) -> Result<(), StoreError> {
        let item = bulletin_item(b, key_)?;
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("version = :seen")
            .expression_attribute_values(":seen", n(seen))
            .build()
            .map_err(|e| StoreError::sdk("TransactWriteItems", e))?;
        let mut writes = vec![TransactWriteItem::builder().put(put).build()];
        if b.status == BulletinStatus::Issued {
            let at = b.issued_at.unwrap_or(b.created_at);
            for to in &b.recipients {
                let mut r = key(pk_bulletin(&b.id), format!("{SK_TO}{to}"));
                r.extend([
                    ("type".to_owned(), s("bulletin_recipient")),
                    ("bureau".to_owned(), s(to.as_str())),
                    (GSI1PK.to_owned(), s(format!("BULLETINS_TO#{to}"))),
                    (GSI1SK.to_owned(), s(format!("{}#{}", instant(at), b.id))),
                ]);
                let put = Put::builder()
                    .table_name(self.table())
                    .set_item(Some(r))
                    .condition_expression("attribute_not_exists(pk)")
                    .build()
                    .map_err(|e| StoreError::sdk("TransactWriteItems", e))?;
                writes.push(TransactWriteItem::builder().put(put).build());
            }
        }
        let n_items = writes.len() as u64;
        match self
            .db
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await
        {
            Ok(_) => {
                self.meter().record("bulletin_update", n_items, None, 0.0);
                Ok(())
            }
            Err(SdkError::ServiceError(se))
                if se.err().code() == Some("TransactionCanceledException") =>
            {
                Err(StoreError::Conflict)
            }
            Err(e) => Err(StoreError::sdk("TransactWriteItems", e)),
        }
    }

    async fn bulletins_of(&self, issuer: &BureauId) -> Result<Vec<Bulletin>, StoreError> {
        let listed = self
            .listed("bulletins", format!("BULLETINS#{issuer}"))
            .await?;
        Ok(listed.into_iter().map(|(_, b)| b).collect())
    }

    async fn bulletins_to(&self, bureau: &BureauId) -> Result<Vec<Received>, StoreError> {
        self.listed("bulletins_to", format!("BULLETINS_TO#{bureau}"))
            .await?
            .into_iter()
            .map(|(i, bulletin)| {
                Ok(Received {
                    read: receipt_of(&i)?,
                    bulletin,
                })
            })
            .collect()
    }

    async fn record_bulletin_read(
        &self,
        id: &BulletinId,
        bureau: &BureauId,
        officer: &OfficerId,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        match self
            .db
            .update_item()
            .table_name(self.table())
            .key("pk", s(pk_bulletin(id)))
            .key("sk", s(format!("{SK_TO}{bureau}")))
            .update_expression("SET read_by = :o, read_at = :t")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(read_at)")
            .expression_attribute_values(":o", s(officer.as_str()))
            .expression_attribute_values(":t", s(instant(at)))
            .send()
            .await
        {
            Ok(_) => {
                self.meter().record("bulletin_read", 1, None, 1.0);
                Ok(true)
            }
            Err(e) if is_conditional(&e) => {
                let exists = self
                    .get(
                        "bulletin_read",
                        pk_bulletin(id),
                        &format!("{SK_TO}{bureau}"),
                    )
                    .await?
                    .is_some();
                if exists {
                    Ok(false)
                } else {
                    Err(StoreError::NotFound(id.to_string()))
                }
            }
            Err(e) => Err(StoreError::sdk("UpdateItem", e)),
        }
    }

    async fn bulletin_receipts(
        &self,
        id: &BulletinId,
    ) -> Result<Vec<(BureauId, Option<Receipt>)>, StoreError> {
        let q = Query::table(
            "bulletin_receipts",
            pk_bulletin(id),
            Some(SkCond::Begins(SK_TO.to_owned())),
        );
        let items = self.query_all(&q).await?;
        items
            .iter()
            .map(|i| {
                let bureau = BureauId::parse(get_s(i, "bureau")?)
                    .map_err(|e| StoreError::malformed("bulletin recipient", e))?;
                Ok((bureau, receipt_of(i)?))
            })
            .collect()
    }
}
