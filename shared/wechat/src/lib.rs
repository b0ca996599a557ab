//! The WeChat official-account protocol for 12336, stricter than the reference SDKs.
//!
//! - Callback (`Callback`): server verification, SHA-1 signatures compared in constant time,
//!   a ±5 min timestamp window (pure: `now` is a parameter), replay refusal through a
//!   [`NonceStore`], safe-mode AES-256-CBC with strict padding, length and AppID checks,
//!   and encrypted replies. Signatures are always verified before anything is decrypted.
//! - XML: a small reader that refuses DTDs, entity declarations and unknown entity
//!   references, with size, depth and element-count limits; typed messages and events; a
//!   CDATA-safe text reply builder.
//! - API client (`ApiClient`): `stable_token` with a pluggable [`AccessTokenCache`], OAuth
//!   `code` → openid, media download, customer-service and subscription messages; errors
//!   classified as retryable, token-expired or permanent.
//! - `Platform`: WeChat's side of the callback, for the simulator and tests.
//!
//! Nothing here panics on input, and every refusal is a [`WechatError`] with a stable
//! [`WechatError::code`].
//!
//! # Layout
//! - [`error`]: [`WechatError`], [`ErrorClass`], errcode classification.
//! - [`signature`]: SHA-1 over sorted parts, constant-time verification, timestamp window.
//! - [`crypto`]: [`AesKey`], safe-mode encryption and decryption.
//! - [`xml`]: the hardened reader and CDATA writer.
//! - [`message`]: [`Inbound`] messages and [`Event`]s, [`TextReply`], [`Reply`].
//! - [`account`]: [`CallbackKeys`], the Token, AppID and EncodingAESKey both ends share.
//! - [`callback`]: [`Callback`], [`CallbackQuery`], [`Mode`].
//! - [`nonce`]: [`NonceStore`] and [`InMemoryNonceStore`].
//! - [`token`]: [`AccessTokenCache`] and [`InMemoryTokenCache`].
//! - [`client`]: [`ApiClient`], [`ApiConfig`], [`SubscribeMessage`].
//! - [`platform`]: [`Platform`], what WeChat does (sign and encrypt pushes, open replies).

pub mod account;
pub mod callback;
pub mod client;
pub mod crypto;
pub mod error;
pub mod message;
pub mod nonce;
pub mod platform;
pub mod signature;
pub mod token;
pub mod xml;

pub use account::CallbackKeys;
pub use callback::{Authenticated, Callback, CallbackQuery, Mode, Opened};
pub use client::{ApiClient, ApiConfig, Media, OAuthUser, SubscribeMessage};
pub use crypto::AesKey;
pub use error::{ErrorClass, WechatError};
pub use message::{Body, Event, Inbound, PopupChoice, Reply, SubscribeStatus, TextReply};
pub use nonce::{InMemoryNonceStore, NonceStore};
pub use platform::{Platform, Push};
pub use token::{AccessTokenCache, CachedToken, InMemoryTokenCache};
