//! The shared WeChat access token on the table (`attachments::token_cache`): what one function
//! instance stores, another reads back, token and expiry alike; another AppID has none.

use attachments::token_cache::TableTokenCache;
use chrono::{TimeZone, Utc};
use secrecy::{ExposeSecret, SecretString};
use store::ReportingStore;
use testkit::store_env::Env;
use wechat::{AccessTokenCache, CachedToken};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_token_stored_by_one_instance_is_read_by_another() {
    // Arrange: two instances on the same table, nothing stored yet
    let env = Env::start().await;
    let one = TableTokenCache(ReportingStore::new(env.db.clone(), &env.table));
    let another = TableTokenCache(ReportingStore::new(env.db.clone(), &env.table));
    assert!(another.get("wxappid").await.expect("get").is_none());
    let expires_at = Utc.timestamp_opt(1_900_000_000, 0).single().expect("t");

    // Act
    one.put(
        "wxappid",
        &CachedToken {
            token: SecretString::from("token-1"),
            expires_at,
        },
    )
    .await
    .expect("put");

    // Assert
    let read = another.get("wxappid").await.expect("get").expect("stored");
    assert_eq!(read.token.expose_secret(), "token-1");
    assert_eq!(read.expires_at, expires_at);
    assert!(another.get("otherappid").await.expect("get").is_none());
}
