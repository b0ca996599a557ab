//! Replay protection: remember each (timestamp, nonce) for longer than the accepted window.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Remembers keys for a while. A DynamoDB adapter (conditional put + TTL) lives in the store.
pub trait NonceStore: Send + Sync {
    /// The adapter's error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Record `key` for at least `ttl`. `Ok(true)` the first time, `Ok(false)` if it is
    /// already recorded and not expired.
    fn first_use(
        &self,
        key: &str,
        ttl: Duration,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;
}

/// A process-local [`NonceStore`] for tests and the local stack. Expired keys are pruned
/// whenever the map doubles, so memory stays proportional to the live window.
#[derive(Debug, Default)]
pub struct InMemoryNonceStore {
    inner: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    until: HashMap<String, Instant>,
    prune_at: usize,
}

/// [`InMemoryNonceStore`] never fails.
#[derive(Debug, thiserror::Error)]
#[error("in-memory nonce store failed")]
pub struct InMemoryNonceError;

impl InMemoryNonceStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn first_use_at(
        &self,
        key: &str,
        ttl: Duration,
        now: Instant,
    ) -> Result<bool, InMemoryNonceError> {
        // A poisoned lock only means another thread panicked mid-insert; the map is still valid.
        let mut seen = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if seen.until.len() >= seen.prune_at.max(1024) {
            seen.until.retain(|_, until| *until > now);
            seen.prune_at = seen.until.len() * 2;
        }
        match seen.until.get(key) {
            Some(until) if *until > now => Ok(false),
            _ => {
                seen.until.insert(key.to_owned(), now + ttl);
                Ok(true)
            }
        }
    }
}

impl NonceStore for InMemoryNonceStore {
    type Error = InMemoryNonceError;

    async fn first_use(&self, key: &str, ttl: Duration) -> Result<bool, Self::Error> {
        self.first_use_at(key, ttl, Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_fresh_once_then_again_after_its_ttl() {
        let s = InMemoryNonceStore::new();
        let t0 = Instant::now();
        let ttl = Duration::from_secs(10);
        assert!(matches!(s.first_use_at("k", ttl, t0), Ok(true)));
        assert!(matches!(
            s.first_use_at("k", ttl, t0 + Duration::from_secs(9)),
            Ok(false)
        ));
        assert!(matches!(
            s.first_use_at("k", ttl, t0 + Duration::from_secs(11)),
            Ok(true)
        ));
    }

    #[test]
    fn expired_keys_are_pruned() {
        let s = InMemoryNonceStore::new();
        let t0 = Instant::now();
        for i in 0..5000 {
            let _ = s.first_use_at(&i.to_string(), Duration::from_secs(1), t0);
        }
        let later = t0 + Duration::from_secs(5);
        for i in 5000..10000 {
            let _ = s.first_use_at(&i.to_string(), Duration::from_secs(1), later);
        }
        let len = s.inner.lock().map(|g| g.until.len()).unwrap_or(0);
        assert!(len < 10000, "{len}");
    }
}
