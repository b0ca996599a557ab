//! Lambda handlers run these futures on a multi-threaded runtime: they must be `Send`.

use secrecy::SecretString;
use wechat::{
    ApiClient, ApiConfig, Callback, CallbackQuery, InMemoryNonceStore, InMemoryTokenCache,
    SubscribeMessage,
};

fn assert_send<T: Send>(_: T) {}

#[test]
fn callback_and_client_futures_are_send() {
    let cb = Callback::new(SecretString::from("t"), "wx", None).expect("cb");
    let store = InMemoryNonceStore::new();
    let q = CallbackQuery::default();
    assert_send(cb.receive(&q, b"", 0, &store));

    let cfg = ApiConfig::new(
        "http://127.0.0.1:9/".parse().expect("url"),
        "wx",
        SecretString::from("s"),
    );
    let client = ApiClient::new(cfg, InMemoryTokenCache::new()).expect("client");
    assert_send(client.access_token());
    assert_send(client.send_text("o", "x"));
    let msg = SubscribeMessage {
        touser: "o".into(),
        template_id: "t".into(),
        page: None,
        data: Default::default(),
    };
    assert_send(client.send_subscribe(&msg));
    assert_send(client.media("m"));
    assert_send(client.oauth_openid("c"));
}
