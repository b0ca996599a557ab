//! Known-answer tests: public vectors from wechatpy's test suite and WeChat's own sample
//! (the `WXBizMsgCrypt` demo published with the message encryption guide).

use secrecy::SecretString;
use wechat::{Body, Callback, CallbackQuery, Mode, Platform};

fn query(ts: &str, nonce: &str, msg_signature: &str) -> CallbackQuery {
    CallbackQuery {
        timestamp: Some(ts.into()),
        nonce: Some(nonce.into()),
        encrypt_type: Some("aes".into()),
        msg_signature: Some(msg_signature.into()),
        ..CallbackQuery::default()
    }
}

// wechatpy tests/test_crypto.py
const PY_TOKEN: &str = "123456";
const PY_KEY: &str = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR";
const PY_APPID: &str = "wx49f0ab532d5d035a";

#[test]
fn wechatpy_encrypted_message_decrypts_to_its_text() {
    // Arrange
    let cb = Callback::new(SecretString::from(PY_TOKEN), PY_APPID, Some(PY_KEY)).expect("cb");
    let body = "<xml><ToUserName><![CDATA[wx49f0ab532d5d035a]]></ToUserName>\n<Encrypt><![CDATA[RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0=]]></Encrypt>\n<AgentID><![CDATA[1]]></AgentID>\n</xml>";
    let q = query(
        "1411525903",
        "461056294",
        "74d92dfeb87ba7c714f89d98870ae5eb62dff26d",
    );

    // Act
    let opened = cb
        .open_unchecked_replay(&q, body.as_bytes(), 1_411_525_903)
        .expect("open");

    // Assert
    assert_eq!(opened.mode, Mode::Safe);
    assert_eq!(opened.message.from_user, "messense");
    assert_eq!(
        opened.message.body,
        Body::Text {
            content: "test".into()
        }
    );
}

#[test]
fn wechatpy_reply_encryption_is_reproduced_byte_for_byte() {
    let cb = Callback::new(SecretString::from(PY_TOKEN), PY_APPID, Some(PY_KEY)).expect("cb");
    let reply = "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n<ToUserName><![CDATA[messense]]></ToUserName>\n<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>";
    let sealed = cb.seal_reply_with(reply, 1_411_525_903, "461056294", *b"1234567890123456");
    assert_eq!(
        sealed,
        "<xml><Encrypt><![CDATA[9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3]]></Encrypt><MsgSignature><![CDATA[407518b7649e86ef23978113f92d27afa9296533]]></MsgSignature><TimeStamp>1411525903</TimeStamp><Nonce><![CDATA[461056294]]></Nonce></xml>"
    );
}

// WeChat's published sample (WXBizMsgCrypt demo).
const WX_TOKEN: &str = "spamtest";
const WX_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const WX_APPID: &str = "wx2c2769f8efd9abc2";

#[test]
fn wechat_documented_sample_push_is_accepted() {
    let cb = Callback::new(SecretString::from(WX_TOKEN), WX_APPID, Some(WX_KEY)).expect("cb");
    let body = "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName><CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[abcdteT]]></Content><MsgId>6054768590064713728</MsgId><Encrypt><![CDATA[hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=]]></Encrypt></xml>";
    let q = query(
        "1409735669",
        "1320562132",
        "5d197aaffba7e9b25a30732f161a50dee96bd5fa",
    );
    let opened = cb
        .open_unchecked_replay(&q, body.as_bytes(), 1_409_735_669)
        .expect("open");
    assert_eq!(opened.message.from_user, "oyORnuP8q7ou2gfYjqLzSIWZf0rs");
    assert_eq!(opened.message.to_user, "gh_10f6c3c3ac5a");
    assert_eq!(opened.message.msg_id, Some(6054768590064713728));
    assert_eq!(
        opened.message.body,
        Body::Text {
            content: "abcdteT".into()
        }
    );
}

#[test]
fn wechat_sample_reply_envelope_is_opened_by_the_platform_side() {
    // The sample's encrypted reply of the video message, as published with the same keys.
    let platform = Platform::from(
        wechat::CallbackKeys::new(SecretString::from(WX_TOKEN), WX_APPID, Some(WX_KEY)).expect("p"),
    );
    let envelope = "<xml>\n<Encrypt><![CDATA[3kKZ++U5ocvIF8dAHPct7xvUqEv6vplhuzA8Vwj7OnVcBu9fdmbbI41zclSfKqP6/bdYAxuE3x8jse43ImHaV07siJF473TsXhl8Yt8task0n9KC7BDA73mFTwlhYvuCIFnU6wFlzOkHyM5Bh2qpOHYk5nSMRyUG4BwmXpxq8TvLgJV1jj2DXdGW4qdknGLfJgDH5sCPJeBzNC8j8KtrJFxmG7qIwKHn3H5sqBf6UqhXFdbLuTWL3jwE7yMLhzOmiHi/MX/ZsVQ7sMuBiV6bW0wkgielESC3yNUPo4q/RMAFEH0fRLr76BR5Ct0nUbf9PdClc0RdlYcztyOs54X/KLbYRNCQ2kXxmJYL6ekdNe70PCAReIEfXEp+pGpry4ss8bD6LKAtNvBJUwHshZe6sbf+fOiDiuKEqp1wdQLmgN+8nX62LklySWr8QrNCpsmKClxco0kbVYNX/QVh5yd0UA1sAqIn6baZ9G+Z/OXG+Q4n9lUuzLprLhDBPaCvXm4N14oqXNcw7tqU2xfhYNIDaD72djyIc/4eyAi2ZsJ+3hb+jgiISR5WVveRWYYqGZGTW3u+27JiXEo0fs3DQDbGVIcYxaMgU/RRIDdXzZSFcf6Z1azjzCDyV9FFEsicghHn]]></Encrypt>\n<MsgSignature><![CDATA[096d8cda45e4678ca23460f6b8cd281b3faf1fc3]]></MsgSignature>\n<TimeStamp>1415979516</TimeStamp>\n<Nonce><![CDATA[1320562132]]></Nonce>\n</xml>";
    let reply = platform
        .open_reply(envelope.as_bytes(), 1_415_979_516)
        .expect("open")
        .expect("a reply");
    assert_eq!(reply.to_user, "oia2TjjewbmiOUlr6X-1crbLOvLw");
    assert_eq!(reply.msg_type, "video");
    assert_eq!(reply.create_time, 1_407_743_423);
}

#[test]
fn server_verification_echoes_the_echostr() {
    // wechatpy check_signature vector, as a GET verification.
    let cb = Callback::new(SecretString::from("test"), "wx", None).expect("cb");
    let q = CallbackQuery {
        signature: Some("f21891de399b4e33a1a93c9a7b8a8fffb5a443ff".into()),
        timestamp: Some("1410685589".into()),
        nonce: Some("test".into()),
        echostr: Some("5837397520665436492".into()),
        ..CallbackQuery::default()
    };
    assert_eq!(
        cb.verify_echo(&q, 1_410_685_600).expect("ok"),
        "5837397520665436492"
    );
}
