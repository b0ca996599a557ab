//! The benchmark input (`benches/fixture.json`, read by both the criterion bench and
//! `benches/wechatpy_bench.py`) is exactly what `Platform::push` makes from its parameters,
//! and it opens to the expected message.

use secrecy::SecretString;
use serde_json::Value;
use wechat::{Body, Callback, CallbackQuery, Platform};

fn fixture() -> Value {
    serde_json::from_str(include_str!("../benches/fixture.json")).expect("fixture")
}

#[test]
fn the_bench_fixture_is_a_genuine_push() {
    let f = fixture();
    let s = |k: &str| f[k].as_str().expect(k).to_owned();
    let platform = Platform::from(
        wechat::CallbackKeys::new(
            SecretString::from(s("token")),
            s("appid"),
            Some(&s("encoding_aes_key")),
        )
        .expect("p"),
    );
    let ts = f["timestamp"].as_i64().expect("ts");
    let push = platform.push(
        &s("message_xml"),
        &s("account_id"),
        &s("openid"),
        ts,
        &s("nonce"),
        [b'r'; 16],
    );
    let query: Value = push
        .query
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::String(v.clone())))
        .collect::<serde_json::Map<_, _>>()
        .into();
    assert_eq!(query, f["query"], "regenerate benches/fixture.json");
    assert_eq!(push.body, s("body"), "regenerate benches/fixture.json");

    let cb = Callback::new(
        SecretString::from(s("token")),
        s("appid"),
        Some(&s("encoding_aes_key")),
    )
    .expect("cb");
    let q: CallbackQuery = serde_json::from_value(f["query"].clone()).expect("query");
    let opened = cb
        .open_unchecked_replay(&q, s("body").as_bytes(), ts)
        .expect("open");
    assert!(matches!(opened.message.body, Body::Text { .. }));
}
