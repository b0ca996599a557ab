//! The simulated world, behind one mutex (the simulator is for tests and local use).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use wechat::Platform;

use crate::Config;

/// How long an OAuth code stays valid (WeChat: 5 minutes).
pub const CODE_TTL: Duration = Duration::from_secs(300);

/// A simulated WeChat user.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct User {
    /// The user's openid for the account.
    pub openid: String,
    /// Display name in the simulator.
    pub nickname: String,
}

/// A message the account "delivered" to a user through the API.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Delivered {
    /// Sequence number (1-based, across all users).
    pub seq: u64,
    /// Seconds since the epoch.
    pub at: i64,
    /// `custom` (message/custom/send) or `subscribe` (message/subscribe/bizsend).
    pub kind: String,
    /// Recipient openid.
    pub openid: String,
    /// The text, for custom text messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The template, for subscription messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    /// The request body as received.
    pub body: serde_json::Value,
    /// The `msgid` answered (subscription messages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msgid: Option<String>,
}

/// Fault injection for the sending and media endpoints. Probabilities are drawn in this order
/// from one uniform number: `system_busy` (-1), `quota` (45009), `timeout` (the answer is held
/// `timeout_ms` before a -1), `server_error` (HTTP 502). `openid_errors` always answers the
/// given errcode for that recipient (e.g. 43004 not following, 43101 refused).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Faults {
    /// Probability of errcode -1 (system busy).
    pub system_busy: f64,
    /// Probability of errcode 45009 (daily quota reached).
    pub quota: f64,
    /// Probability of a response held for `timeout_ms`.
    pub timeout: f64,
    /// Probability of HTTP 502.
    pub server_error: f64,
    /// How long a "timeout" answer is held (default 15 s).
    pub timeout_ms: Option<u64>,
    /// Recipient openid → errcode answered every time.
    pub openid_errors: HashMap<String, i64>,
    /// Recipient openid → errcode answered to customer-service messages only (e.g. 45015: the
    /// 48-hour window since the user's last message is closed).
    pub custom_errors: HashMap<String, i64>,
}

/// What a fault draw decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this errcode.
    Errcode(i64),
    /// Hold the answer this long, then answer -1.
    Hold(Duration),
    /// HTTP 502.
    ServerError,
}

impl Faults {
    /// Draw a fault for a call to `openid` (if any) with uniform `u` in `[0, 1)`.
    pub fn draw(&self, openid: Option<&str>, u: f64) -> Option<Fault> {
        if let Some(code) = openid.and_then(|o| self.openid_errors.get(o)) {
            return Some(Fault::Errcode(*code));
        }
        let mut edge = self.system_busy;
        if u < edge {
            return Some(Fault::Errcode(-1));
        }
        edge += self.quota;
        if u < edge {
            return Some(Fault::Errcode(45009));
        }
        edge += self.timeout;
        if u < edge {
            return Some(Fault::Hold(Duration::from_millis(
                self.timeout_ms.unwrap_or(15_000),
            )));
        }
        edge += self.server_error;
        if u < edge {
            return Some(Fault::ServerError);
        }
        None
    }
}

#[derive(Debug)]
pub(crate) struct TokenEntry {
    pub expires: Instant,
    /// Replaced by a forced refresh: answers 40001.
    pub revoked: bool,
}

#[derive(Debug)]
pub(crate) struct CodeEntry {
    pub openid: String,
    pub issued: Instant,
    pub used: bool,
}

#[derive(Debug, Default)]
pub(crate) struct World {
    pub tokens: HashMap<String, TokenEntry>,
    pub current: Option<String>,
    pub codes: HashMap<String, CodeEntry>,
    pub media: HashMap<String, (String, Vec<u8>)>,
    pub users: Vec<User>,
    pub delivered: Vec<Delivered>,
    pub faults: Faults,
    pub seq: u64,
}

/// The simulator: configuration, WeChat's side of the callback, and the world.
#[derive(Debug)]
pub struct Sim {
    pub(crate) config: Config,
    pub(crate) platform: Platform,
    pub(crate) http: reqwest::Client,
    world: Mutex<World>,
}

impl Sim {
    /// A fresh world with two default users.
    ///
    /// # Errors
    /// When the EncodingAESKey is invalid or the HTTP client cannot be built.
    pub fn new(config: Config) -> anyhow::Result<Self> {
        let platform = Platform::from(
            wechat::CallbackKeys::new(
                config.token.clone(),
                config.appid.clone(),
                config.aes_key.as_deref(),
            )
            .map_err(|e| anyhow::anyhow!("SIM_AES_KEY: {e}"))?,
        );
        // WeChat waits 5 s for the account's answer.
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()?;
        let world = World {
            users: default_users(),
            ..World::default()
        };
        Ok(Self {
            config,
            platform,
            http,
            world: Mutex::new(world),
        })
    }

    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn default_users() -> Vec<User> {
    vec![
        User {
            openid: "oSim12336_zhangsan_000000001".into(),
            nickname: "张三".into(),
        },
        User {
            openid: "oSim12336_lisi_0000000000002".into(),
            nickname: "李四".into(),
        },
    ]
}

/// `n` random characters from the URL-safe alphabet (like WeChat's ids).
pub fn random_id(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bytes = vec![0u8; n];
    if getrandom::fill(&mut bytes).is_err() {
        // Only for uniqueness within one run; fall back to a counter-ish value.
        let t = now_nanos();
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (t >> (i % 16 * 4)) as u8 ^ i as u8;
        }
    }
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % 64] as char)
        .collect()
}

/// A uniform number in `[0, 1)`.
pub fn uniform() -> f64 {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        b = now_nanos().to_le_bytes()[..8].try_into().unwrap_or([0; 8]);
    }
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

fn now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// Seconds since the epoch.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_bands_follow_the_configured_probabilities() {
        let f = Faults {
            system_busy: 0.1,
            quota: 0.2,
            timeout: 0.1,
            server_error: 0.1,
            timeout_ms: Some(5),
            ..Faults::default()
        };
        assert_eq!(f.draw(None, 0.05), Some(Fault::Errcode(-1)));
        assert_eq!(f.draw(None, 0.25), Some(Fault::Errcode(45009)));
        assert_eq!(
            f.draw(None, 0.35),
            Some(Fault::Hold(Duration::from_millis(5)))
        );
        assert_eq!(f.draw(None, 0.45), Some(Fault::ServerError));
        assert_eq!(f.draw(None, 0.55), None);
    }

    #[test]
    fn per_openid_errors_win() {
        let f = Faults {
            openid_errors: HashMap::from([("o1".to_owned(), 43004)]),
            ..Faults::default()
        };
        assert_eq!(f.draw(Some("o1"), 0.9), Some(Fault::Errcode(43004)));
        assert_eq!(f.draw(Some("o2"), 0.9), None);
    }

    #[test]
    fn the_default_aes_key_is_a_valid_encoding_aes_key() {
        assert!(wechat::AesKey::from_encoding_aes_key(crate::defaults::AES_KEY).is_ok());
    }
}
