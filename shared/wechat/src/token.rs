//! Access-token caching: a small trait the store can implement over DynamoDB.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use secrecy::SecretString;

/// A cached access token and when WeChat said it expires.
#[derive(Debug, Clone)]
pub struct CachedToken {
    /// The token.
    pub token: SecretString,
    /// Expiry as reported (`now + expires_in`) when it was fetched.
    pub expires_at: DateTime<Utc>,
}

/// Shared storage for access tokens, keyed by AppID, so that every function instance uses
/// the same token instead of each fetching its own.
pub trait AccessTokenCache: Send + Sync {
    /// The adapter's error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The cached token for `appid`, if any (expired ones may be returned; the client checks).
    fn get(
        &self,
        appid: &str,
    ) -> impl Future<Output = Result<Option<CachedToken>, Self::Error>> + Send;

    /// Store `token` for `appid`, replacing any other.
    fn put(
        &self,
        appid: &str,
        token: &CachedToken,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// A process-local [`AccessTokenCache`].
#[derive(Debug, Default)]
pub struct InMemoryTokenCache {
    tokens: Mutex<HashMap<String, CachedToken>>,
}

/// [`InMemoryTokenCache`] never fails.
#[derive(Debug, thiserror::Error)]
#[error("in-memory token cache failed")]
pub struct InMemoryTokenCacheError;

impl InMemoryTokenCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }
}

impl AccessTokenCache for InMemoryTokenCache {
    type Error = InMemoryTokenCacheError;

    async fn get(&self, appid: &str) -> Result<Option<CachedToken>, Self::Error> {
        let map = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        Ok(map.get(appid).cloned())
    }

    async fn put(&self, appid: &str, token: &CachedToken) -> Result<(), Self::Error> {
        let mut map = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(appid.to_owned(), token.clone());
        Ok(())
    }
}
