//! Verify + decrypt + parse of a typical encrypted text push (`benches/fixture.json`, the
//! same input `benches/wechatpy_bench.py` times). Run: `cargo bench -p wechat --bench decrypt`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use secrecy::SecretString;
use serde_json::Value;
use wechat::{Callback, CallbackQuery};

fn bench(c: &mut Criterion) {
    let f: Value = serde_json::from_str(include_str!("fixture.json")).expect("fixture");
    let s = |k: &str| f[k].as_str().expect(k).to_owned();
    let cb = Callback::new(
        SecretString::from(s("token")),
        s("appid"),
        Some(&s("encoding_aes_key")),
    )
    .expect("cb");
    let q: CallbackQuery = serde_json::from_value(f["query"].clone()).expect("query");
    let body = s("body");
    let now = f["timestamp"].as_i64().expect("timestamp");

    c.bench_function("verify+decrypt+parse text push", |b| {
        b.iter(|| {
            let opened = cb
                .open_unchecked_replay(black_box(&q), black_box(body.as_bytes()), now)
                .expect("open");
            black_box(opened)
        })
    });
}

/// The stages on their own, to see where the time goes.
fn parts(c: &mut Criterion) {
    let f: Value = serde_json::from_str(include_str!("fixture.json")).expect("fixture");
    let s = |k: &str| f[k].as_str().expect(k).to_owned();
    let key = wechat::AesKey::from_encoding_aes_key(&s("encoding_aes_key")).expect("k");
    let body = s("body");
    let env = wechat::xml::parse(body.as_bytes()).expect("x");
    let enc = env.text_of("Encrypt").ok().flatten().expect("e").to_owned();
    let plain = key.decrypt(&enc, &s("appid")).expect("d");
    c.bench_function("sha1 msg_signature", |b| {
        b.iter(|| {
            wechat::signature::sign(black_box(&[
                "bench-token-12336",
                "1750000000",
                "1320562132",
                &enc,
            ]))
        })
    });
    c.bench_function("parse envelope", |b| {
        b.iter(|| wechat::xml::parse(black_box(body.as_bytes())))
    });
    c.bench_function("decrypt", |b| {
        b.iter(|| key.decrypt(black_box(&enc), "wx2c2769f8efd9abc2"))
    });
    c.bench_function("parse inbound", |b| {
        b.iter(|| wechat::message::parse_inbound(black_box(plain.as_bytes())))
    });
}
criterion_group!(benches, bench, parts);
criterion_main!(benches);
