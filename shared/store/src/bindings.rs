//! Officers' WeChat bindings (the openid a reminder is pushed to, sealed in the vault) and the
//! single-use binding codes an officer redeems from the chat. Items and costs: [`crate::reminders`].

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{ReturnValue, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use domain::wechat_binding::{BindingCode, BindingError, CODE_TTL, mask_openid};
use domain::{BureauId, Officer, OfficerId};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::BindingCodes;
use crate::dynamo::DynamoClueStore;
use crate::error::StoreError;
use crate::item::{b, get_s, key, n, parse_instant, s};
use crate::keys::*;
use crate::meter::{item_size, write_units};
use crate::reminders::{Tx, build_put, is_conditional, key_text};
use crate::vault::{ReporterIdentity, VaultContext, seal};

/// An officer's WeChat binding as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WechatBinding {
    pub officer: OfficerId,
    pub bureau: BureauId,
    pub openid_masked: String,
    pub bound_at: DateTime<Utc>,
}

pub(crate) fn code_hash(code: &BindingCode) -> String {
    hex::encode(Sha256::digest(
        [b"wxbind-code\0".as_slice(), code.as_str().as_bytes()].concat(),
    ))
}

pub(crate) fn binding_aad(officer: &OfficerId) -> String {
    format!("wxbind:{officer}")
}

impl BindingCodes for DynamoClueStore {
    async fn issue_binding_code(
        &self,
        officer: &Officer,
        code: &BindingCode,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, StoreError> {
        let expires = now + CODE_TTL;
        let mut item = key(pk_binding_code(&code_hash(code)), SK_WXCODE);
        item.extend([
            ("type".to_owned(), s("wxbind_code")),
            ("officer".to_owned(), s(officer.id.as_str())),
            ("bureau".to_owned(), s(officer.bureau.as_str())),
            ("issued_at".to_owned(), s(instant(now))),
            ("expires".to_owned(), s(instant(expires))),
            // Kept a day past expiry so a late attempt is told "expired", then removed.
            (
                EXPIRES_AT.to_owned(),
                n((expires + chrono::Duration::days(1)).timestamp()),
            ),
        ]);
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
                self.meter()
                    .record("wxbind_code", 1, None, write_units(size));
                Ok(expires)
            }
            Err(e) if is_conditional(&e) => Err(StoreError::Conflict),
            Err(e) => Err(StoreError::sdk("PutItem", e)),
        }
    }

    async fn redeem_binding_code(
        &self,
        code: &BindingCode,
        openid: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<OfficerId, BindingError>, StoreError> {
        let pk = pk_binding_code(&code_hash(code));
        let Some(item) = self.get("wxbind_code", pk.clone(), SK_WXCODE).await? else {
            return Ok(Err(BindingError::Unknown));
        };
        if item.contains_key("used_at") {
            return Ok(Err(BindingError::Used));
        }
        if parse_instant(&item, "expires")? <= now {
            return Ok(Err(BindingError::Expired));
        }
        let bad = |e: &dyn std::fmt::Display| StoreError::malformed(key_text(&item), e);
        let officer = OfficerId::parse(get_s(&item, "officer")?).map_err(|e| bad(&e))?;
        let bureau = BureauId::parse(get_s(&item, "bureau")?).map_err(|e| bad(&e))?;
        let data_key = self.data_key(&VaultContext::officer(&officer)).await?;
        let sealed = seal(
            &data_key,
            &binding_aad(&officer),
            &ReporterIdentity::anonymous(openid),
        )?;
        let mut binding = key(pk_officer(&officer), SK_WXBIND);
        binding.extend([
            ("type".to_owned(), s("wxbind")),
            ("alg".to_owned(), s("AES-256-GCM/KMS")),
            ("edk".to_owned(), b(&sealed.encrypted_key)),
            ("nonce".to_owned(), b(&sealed.nonce)),
            ("ct".to_owned(), b(&sealed.ciphertext)),
            ("masked".to_owned(), s(mask_openid(openid))),
            ("bureau".to_owned(), s(bureau.as_str())),
            ("bound_at".to_owned(), s(instant(now))),
            (GSI1PK.to_owned(), s(gsi_bound_officers(&bureau))),
            (GSI1SK.to_owned(), s(officer.as_str())),
        ]);
        let use_code = Update::builder()
            .table_name(self.table())
            .key(PK, s(pk))
            .key(SK, s(SK_WXCODE))
            .update_expression("SET used_at = :t")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(used_at)")
            .expression_attribute_values(":t", s(instant(now)))
            .build()
            .map_err(|e| StoreError::sdk("build update", e))?;
        let items = vec![
            TransactWriteItem::builder().update(use_code).build(),
            build_put(self.table(), binding, None)?,
        ];
        match self.transact_items("wxbind", items).await? {
            Tx::Done => Ok(Ok(officer)),
            Tx::Cancelled(codes)
                if codes.first().and_then(Option::as_deref) == Some("ConditionalCheckFailed") =>
            {
                Ok(Err(BindingError::Used))
            }
            Tx::Cancelled(_) => Err(StoreError::Conflict),
        }
    }

    async fn wechat_binding(
        &self,
        officer: &OfficerId,
    ) -> Result<Option<WechatBinding>, StoreError> {
        let Some(item) = self.get("wxbind", pk_officer(officer), SK_WXBIND).await? else {
            return Ok(None);
        };
        Ok(Some(WechatBinding {
            officer: officer.clone(),
            bureau: BureauId::parse(get_s(&item, "bureau")?)
                .map_err(|e| StoreError::malformed(key_text(&item), e))?,
            openid_masked: get_s(&item, "masked")?.to_owned(),
            bound_at: parse_instant(&item, "bound_at")?,
        }))
    }

    async fn unbind_wechat(&self, officer: &OfficerId) -> Result<bool, StoreError> {
        let out = self
            .db
            .delete_item()
            .table_name(self.table())
            .key(PK, s(pk_officer(officer)))
            .key(SK, s(SK_WXBIND))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| StoreError::sdk("DeleteItem", e))?;
        self.meter().record("wxbind", 1, None, 1.0);
        Ok(out.attributes.is_some_and(|a: HashMap<_, _>| !a.is_empty()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding_codes_are_stored_by_hash_only() {
        let code = BindingCode::from_random([3; 8]);
        let h = code_hash(&code);
        assert_eq!(h.len(), 64);
        assert!(!h.contains(code.as_str()));
    }
}
