//! The shared WeChat access token on the table ([`store::ReportingStore::access_token`]) as the
//! WeChat client's [`wechat::AccessTokenCache`]: the adapter lives with its user, so the store
//! does not link the WeChat client.

use store::{ReportingStore, StoreError, StoredAccessToken};
use wechat::{AccessTokenCache, CachedToken};

/// Every instance of this function (and any other holding the table) shares one token.
#[derive(Debug, Clone)]
pub struct TableTokenCache(pub ReportingStore);

impl AccessTokenCache for TableTokenCache {
    type Error = StoreError;

    async fn get(&self, appid: &str) -> Result<Option<CachedToken>, StoreError> {
        Ok(self.0.access_token(appid).await?.map(|t| CachedToken {
            token: t.token,
            expires_at: t.expires_at,
        }))
    }

    async fn put(&self, appid: &str, token: &CachedToken) -> Result<(), StoreError> {
        self.0
            .put_access_token(
                appid,
                &StoredAccessToken {
                    token: token.token.clone(),
                    expires_at: token.expires_at,
                },
            )
            .await
    }
}
