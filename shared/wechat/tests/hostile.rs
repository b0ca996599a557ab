//! Hostile input: every case must be refused with the right typed error, never a panic.
//!
//! Each `case!` is one test. Cases that need a *validly signed* bad ciphertext sign it with the
//! token, i.e. they model a sender who has the token but not the AES key, or a broken peer.

use aes::Aes256;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockEncryptMut, KeyIvInit};
use secrecy::SecretString;
use wechat::signature::sign_hex;
use wechat::{Callback, CallbackQuery, InMemoryNonceStore, Platform, WechatError};

const TOKEN: &str = "hostile-token";
const KEY: &str = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR";
const APPID: &str = "wx0123456789abcdef";
const NOW: i64 = 1_750_000_000;
const NONCE: &str = "482910374";

fn cb() -> Callback {
    Callback::new(SecretString::from(TOKEN), APPID, Some(KEY)).expect("callback")
}

fn plain_cb() -> Callback {
    Callback::new(SecretString::from(TOKEN), APPID, None).expect("callback")
}

fn platform() -> Platform {
    Platform::from(
        wechat::CallbackKeys::new(SecretString::from(TOKEN), APPID, Some(KEY)).expect("platform"),
    )
}

fn text_xml() -> String {
    "<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[oUser123]]></FromUserName>\
     <CreateTime>1750000000</CreateTime><MsgType><![CDATA[text]]></MsgType>\
     <Content><![CDATA[举报]]></Content><MsgId>1</MsgId></xml>"
        .to_owned()
}

fn to_query(pairs: &[(&'static str, String)]) -> CallbackQuery {
    let mut q = CallbackQuery::default();
    for (k, v) in pairs {
        let v = Some(v.clone());
        match *k {
            "signature" => q.signature = v,
            "timestamp" => q.timestamp = v,
            "nonce" => q.nonce = v,
            "echostr" => q.echostr = v,
            "encrypt_type" => q.encrypt_type = v,
            "msg_signature" => q.msg_signature = v,
            "openid" => q.openid = v,
            _ => {}
        }
    }
    q
}

/// A genuine safe-mode push of `xml` at `ts`.
fn push_at(xml: &str, ts: i64) -> (CallbackQuery, String) {
    let p = platform().push(xml, "gh_test", "oUser123", ts, NONCE, [9; 16]);
    (to_query(&p.query), p.body)
}

fn push(xml: &str) -> (CallbackQuery, String) {
    push_at(xml, NOW)
}

/// A correctly signed envelope around an arbitrary `Encrypt` value.
fn signed_envelope(encrypt: &str) -> (CallbackQuery, String) {
    signed_envelope_with(encrypt, &NOW.to_string(), NONCE)
}

fn signed_envelope_with(encrypt: &str, ts: &str, nonce: &str) -> (CallbackQuery, String) {
    let q = CallbackQuery {
        signature: Some(sign_hex(&[TOKEN, ts, nonce])),
        timestamp: Some(ts.into()),
        nonce: Some(nonce.into()),
        encrypt_type: Some("aes".into()),
        msg_signature: Some(sign_hex(&[TOKEN, ts, nonce, encrypt])),
        openid: Some("oUser123".into()),
        echostr: None,
    };
    let body = format!(
        "<xml><ToUserName><![CDATA[gh_test]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    );
    (q, body)
}

fn key_bytes(encoding_aes_key: &str) -> [u8; 32] {
    let mut s = encoding_aes_key.to_owned();
    s.push('=');
    let b = base64::engine::general_purpose::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    )
    .decode(s)
    .expect("key");
    b.try_into().expect("32 bytes")
}

/// AES-256-CBC over exactly `plain` (a multiple of 16 bytes), base64.
fn raw_encrypt_with(key: [u8; 32], plain: &[u8]) -> String {
    let mut buf = plain.to_vec();
    let n = buf.len();
    let mut iv = [0u8; 16];
    iv.copy_from_slice(&key[..16]);
    let ct = cbc::Encryptor::<Aes256>::new(&key.into(), &iv.into())
        .encrypt_padded_mut::<NoPadding>(&mut buf, n)
        .expect("block multiple");
    STANDARD.encode(ct)
}

fn raw_encrypt(plain: &[u8]) -> String {
    raw_encrypt_with(key_bytes(KEY), plain)
}

/// random(16) ‖ len ‖ msg ‖ appid, padded with `pad_byte` repeated `pad_len` times.
fn framed(len_field: u32, msg: &[u8], appid: &[u8], pad: Option<(u8, usize)>) -> Vec<u8> {
    let mut v = vec![1u8; 16];
    v.extend_from_slice(&len_field.to_be_bytes());
    v.extend_from_slice(msg);
    v.extend_from_slice(appid);
    let body = v.len();
    let (b, n) = pad.unwrap_or_else(|| {
        let n = 32 - body % 32;
        (n as u8, n)
    });
    v.extend(std::iter::repeat_n(b, n));
    v
}

fn framed_ok(msg: &[u8], appid: &[u8]) -> Vec<u8> {
    framed(msg.len() as u32, msg, appid, None)
}

fn open(q: &CallbackQuery, body: &str) -> Result<wechat::Opened, WechatError> {
    cb().open_unchecked_replay(q, body.as_bytes(), NOW)
}

fn open_bytes(q: &CallbackQuery, body: &[u8]) -> Result<wechat::Opened, WechatError> {
    cb().open_unchecked_replay(q, body, NOW)
}

fn encrypted_inner(xml: &[u8]) -> Result<wechat::Opened, WechatError> {
    let enc = raw_encrypt(&framed_ok(xml, APPID.as_bytes()));
    let (q, body) = signed_envelope(&enc);
    open(&q, &body)
}

fn code<T: std::fmt::Debug>(r: Result<T, WechatError>) -> String {
    match r {
        Ok(v) => format!("accepted: {v:?}"),
        Err(e) => e.code().to_owned(),
    }
}

macro_rules! case {
    ($name:ident, $expected:literal, $body:expr) => {
        #[test]
        fn $name() {
            let got = code($body);
            assert_eq!(got, $expected);
        }
    };
}

fn with<F: FnOnce(&mut CallbackQuery)>(f: F) -> Result<wechat::Opened, WechatError> {
    let (mut q, body) = push(&text_xml());
    f(&mut q);
    open(&q, &body)
}

#[test]
fn the_genuine_push_is_accepted() {
    let (q, body) = push(&text_xml());
    assert!(open(&q, &body).is_ok());
}

// --- parameters -----------------------------------------------------------------------------
case!(missing_timestamp, "bad_param", with(|q| q.timestamp = None));
case!(missing_nonce, "bad_param", with(|q| q.nonce = None));
case!(
    empty_nonce,
    "bad_param",
    with(|q| q.nonce = Some(String::new()))
);
case!(
    overlong_nonce,
    "bad_param",
    with(|q| q.nonce = Some("1".repeat(65)))
);
case!(
    missing_msg_signature,
    "bad_param",
    with(|q| q.msg_signature = None)
);
case!(
    empty_msg_signature,
    "bad_param",
    with(|q| q.msg_signature = Some(String::new()))
);
case!(
    unknown_encrypt_type,
    "bad_param",
    with(|q| q.encrypt_type = Some("des".into()))
);
case!(
    plain_mode_downgrade_is_refused,
    "bad_param",
    with(|q| q.encrypt_type = None)
);
case!(safe_push_to_plain_endpoint, "bad_param", {
    let (q, body) = push(&text_xml());
    plain_cb().open_unchecked_replay(&q, body.as_bytes(), NOW)
});

// --- signatures -----------------------------------------------------------------------------
case!(
    msg_signature_one_digit_off,
    "bad_signature",
    with(|q| {
        let s = q.msg_signature.take().unwrap_or_default();
        let last = if s.ends_with('0') { '1' } else { '0' };
        let flipped = format!("{}{last}", &s[..s.len() - 1]);
        q.msg_signature = Some(flipped);
    })
);
case!(
    msg_signature_not_hex,
    "bad_signature",
    with(|q| q.msg_signature = Some("z".repeat(40)))
);
case!(
    msg_signature_too_short,
    "bad_signature",
    with(|q| {
        q.msg_signature = q.msg_signature.as_ref().map(|s| s[..39].to_owned());
    })
);
case!(
    msg_signature_too_long,
    "bad_signature",
    with(|q| {
        q.msg_signature = q.msg_signature.as_ref().map(|s| format!("{s}0"));
    })
);
case!(
    msg_signature_multibyte,
    "bad_signature",
    with(|q| q.msg_signature = Some("签".repeat(13) + "a"))
);
case!(
    plain_signature_wrong_in_safe_mode,
    "bad_signature",
    with(|q| q.signature = Some("0".repeat(40)))
);
case!(signature_with_another_token, "bad_signature", {
    let other = Platform::from(
        wechat::CallbackKeys::new(SecretString::from("other"), APPID, Some(KEY)).expect("p"),
    );
    let p = other.push(&text_xml(), "gh_test", "oUser123", NOW, NONCE, [9; 16]);
    open(&to_query(&p.query), &p.body)
});
case!(encrypt_altered_after_signing, "bad_signature", {
    let (q, body) = push(&text_xml());
    let i = body.find("<Encrypt><![CDATA[").expect("enc") + 18;
    let mut b = body.into_bytes();
    b[i] = if b[i] == b'A' { b'B' } else { b'A' };
    open_bytes(&q, &b)
});
case!(
    timestamp_changed_after_signing,
    "bad_signature",
    with(|q| q.timestamp = Some((NOW + 1).to_string()))
);
case!(
    nonce_changed_after_signing,
    "bad_signature",
    with(|q| q.nonce = Some("482910375".into()))
);
case!(
    signature_of_plain_parts_used_as_msg_signature,
    "bad_signature",
    with(|q| {
        q.msg_signature = q.signature.clone();
    })
);

// --- timestamps -----------------------------------------------------------------------------
case!(stale_by_301_seconds, "stale_timestamp", {
    let (q, body) = push_at(&text_xml(), NOW - 301);
    open(&q, &body)
});
case!(future_by_301_seconds, "stale_timestamp", {
    let (q, body) = push_at(&text_xml(), NOW + 301);
    open(&q, &body)
});
case!(very_old_timestamp, "stale_timestamp", {
    let (q, body) = push_at(&text_xml(), 1_411_525_903);
    open(&q, &body)
});
case!(timestamp_not_a_number, "stale_timestamp", {
    let enc = platform()
        .push(&text_xml(), "gh", "o", NOW, NONCE, [9; 16])
        .body;
    let e = wechat::xml::parse(enc.as_bytes()).expect("x");
    let encrypted = e
        .text_of("Encrypt")
        .ok()
        .flatten()
        .unwrap_or_default()
        .to_owned();
    let (q, body) = signed_envelope_with(&encrypted, "now", NONCE);
    open(&q, &body)
});
case!(negative_timestamp, "stale_timestamp", {
    let (q, body) = signed_envelope_with("AAAA", "-1750000000", NONCE);
    open(&q, &body)
});
case!(plus_signed_timestamp, "stale_timestamp", {
    let (q, body) = signed_envelope_with("AAAA", "+1750000000", NONCE);
    open(&q, &body)
});
case!(timestamp_with_space, "stale_timestamp", {
    let (q, body) = signed_envelope_with("AAAA", " 1750000000", NONCE);
    open(&q, &body)
});
case!(timestamp_overflow, "stale_timestamp", {
    let (q, body) = signed_envelope_with("AAAA", "999999999999", NONCE);
    open(&q, &body)
});

// --- replay ---------------------------------------------------------------------------------
#[tokio::test]
async fn the_same_push_twice_is_a_replay() {
    let store = InMemoryNonceStore::new();
    let (q, body) = push(&text_xml());
    assert!(cb().receive(&q, body.as_bytes(), NOW, &store).await.is_ok());
    let again = cb().receive(&q, body.as_bytes(), NOW + 10, &store).await;
    assert_eq!(code(again), "replayed_nonce");
}

#[tokio::test]
async fn a_forged_push_does_not_burn_the_nonce() {
    let store = InMemoryNonceStore::new();
    let (q, body) = push(&text_xml());
    let mut forged = q.clone();
    forged.msg_signature = Some("0".repeat(40));
    assert_eq!(
        code(cb().receive(&forged, body.as_bytes(), NOW, &store).await),
        "bad_signature"
    );
    assert!(cb().receive(&q, body.as_bytes(), NOW, &store).await.is_ok());
}

#[tokio::test]
async fn a_new_message_with_the_same_nonce_and_timestamp_is_a_replay() {
    let store = InMemoryNonceStore::new();
    let (q1, b1) = push(&text_xml());
    let (q2, b2) = push(&text_xml().replace("举报", "再举报"));
    assert!(cb().receive(&q1, b1.as_bytes(), NOW, &store).await.is_ok());
    assert_eq!(
        code(cb().receive(&q2, b2.as_bytes(), NOW, &store).await),
        "replayed_nonce"
    );
}

// --- base64 ---------------------------------------------------------------------------------
case!(encrypt_not_base64, "bad_base64", {
    let (q, b) = signed_envelope("!!!!not base64!!!!");
    open(&q, &b)
});
case!(encrypt_truncated_base64, "bad_base64", {
    let enc = raw_encrypt(&framed_ok(text_xml().as_bytes(), APPID.as_bytes()));
    let (q, b) = signed_envelope(&enc[..enc.len() - 1]);
    open(&q, &b)
});
case!(encrypt_with_inner_whitespace, "bad_base64", {
    let enc = raw_encrypt(&framed_ok(text_xml().as_bytes(), APPID.as_bytes()));
    let (q, b) = signed_envelope(&format!("{} {}", &enc[..8], &enc[8..]));
    open(&q, &b)
});
case!(encrypt_url_safe_alphabet, "bad_base64", {
    let (q, b) = signed_envelope("ab-_ab-_ab-_ab-_ab-_ab-_ab-_ab-_ab-_ab-_ab-_");
    open(&q, &b)
});
case!(encrypt_missing_padding, "bad_base64", {
    let (q, b) = signed_envelope("QUJD"[..3].to_owned().as_str());
    open(&q, &b)
});
case!(encrypt_non_canonical_trailing_bits, "bad_base64", {
    let (q, b) = signed_envelope("QUJDRB==");
    open(&q, &b)
});

// --- lengths --------------------------------------------------------------------------------
case!(encrypt_empty, "bad_length", {
    let (q, b) = signed_envelope("");
    open(&q, &b)
});
case!(ciphertext_one_aes_block, "bad_length", {
    let (q, b) = signed_envelope(&STANDARD.encode([0u8; 16]));
    open(&q, &b)
});
case!(ciphertext_three_aes_blocks, "bad_length", {
    let (q, b) = signed_envelope(&STANDARD.encode([0u8; 48]));
    open(&q, &b)
});
case!(ciphertext_not_a_block_multiple, "bad_length", {
    let (q, b) = signed_envelope(&STANDARD.encode([0u8; 33]));
    open(&q, &b)
});
case!(ciphertext_over_the_size_limit, "xml_too_large", {
    let (q, b) = signed_envelope(&STANDARD.encode(vec![0u8; 70_000]));
    open(&q, &b)
});
case!(
    ciphertext_over_the_crypto_limit_even_if_xml_allowed,
    "bad_length",
    {
        // Direct call: the decryptor itself has a bound, independent of the XML limit.
        let key = wechat::AesKey::from_encoding_aes_key(KEY).expect("key");
        key.decrypt(&STANDARD.encode(vec![0u8; 80_000]), APPID)
    }
);
case!(length_field_beyond_content, "bad_length", {
    let msg = text_xml();
    let (q, b) = signed_envelope(&raw_encrypt(&framed(
        msg.len() as u32 + 64,
        msg.as_bytes(),
        APPID.as_bytes(),
        None,
    )));
    open(&q, &b)
});
case!(length_field_max, "bad_length", {
    let msg = text_xml();
    let (q, b) = signed_envelope(&raw_encrypt(&framed(
        u32::MAX,
        msg.as_bytes(),
        APPID.as_bytes(),
        None,
    )));
    open(&q, &b)
});
case!(content_shorter_than_the_header, "bad_length", {
    let mut p = vec![7u8; 10];
    p.extend(std::iter::repeat_n(22u8, 22));
    let (q, b) = signed_envelope(&raw_encrypt(&p));
    open(&q, &b)
});
case!(all_padding_block, "bad_length", {
    let (q, b) = signed_envelope(&raw_encrypt(&[32u8; 32]));
    open(&q, &b)
});

// --- padding --------------------------------------------------------------------------------
case!(padding_byte_zero, "bad_padding", {
    let msg = text_xml();
    let f = framed(
        msg.len() as u32,
        msg.as_bytes(),
        APPID.as_bytes(),
        Some((0, 32 - (20 + msg.len() + APPID.len()) % 32)),
    );
    let (q, b) = signed_envelope(&raw_encrypt(&f));
    open(&q, &b)
});
case!(padding_byte_too_large, "bad_padding", {
    // 64 bytes of padding value 33, after a whole number of blocks.
    let mut f = vec![1u8; 64];
    f.extend(std::iter::repeat_n(33u8, 32));
    let (q, b) = signed_envelope(&raw_encrypt(&f));
    open(&q, &b)
});
case!(padding_bytes_inconsistent, "bad_padding", {
    let msg = text_xml();
    let mut f = framed_ok(msg.as_bytes(), APPID.as_bytes());
    let n = f.len();
    let pad = f[n - 1];
    if pad > 1 {
        f[n - 2] = pad.wrapping_add(1);
    } else {
        f[n - 1] = 2;
    }
    let (q, b) = signed_envelope(&raw_encrypt(&f));
    open(&q, &b)
});
case!(
    pkcs7_with_16_byte_blocks_is_not_wechat_padding,
    "bad_padding",
    {
        // A 16-byte-block PKCS#7 tail (value 16+) ending a 32-multiple: 48 content bytes + pad 48?
        // Use a pad value of 40 (> 32): invalid for WeChat's 32-byte scheme.
        let mut f = vec![5u8; 24];
        f.extend(std::iter::repeat_n(40u8, 40));
        let (q, b) = signed_envelope(&raw_encrypt(&f));
        open(&q, &b)
    }
);
case!(ciphertext_truncated_to_its_first_blocks, "bad_padding", {
    let enc = raw_encrypt(&framed_ok(text_xml().as_bytes(), APPID.as_bytes()));
    let raw = STANDARD.decode(enc).expect("b64");
    let (q, b) = signed_envelope(&STANDARD.encode(&raw[..64]));
    open(&q, &b)
});

// --- app id ---------------------------------------------------------------------------------
case!(payload_for_another_appid, "wrong_app_id", {
    let (q, b) = signed_envelope(&raw_encrypt(&framed_ok(
        text_xml().as_bytes(),
        b"wx9999999999999999",
    )));
    open(&q, &b)
});
case!(appid_with_suffix, "wrong_app_id", {
    let (q, b) = signed_envelope(&raw_encrypt(&framed_ok(
        text_xml().as_bytes(),
        format!("{APPID}x").as_bytes(),
    )));
    open(&q, &b)
});
case!(appid_prefix_only, "wrong_app_id", {
    let (q, b) = signed_envelope(&raw_encrypt(&framed_ok(
        text_xml().as_bytes(),
        &APPID.as_bytes()[..10],
    )));
    open(&q, &b)
});
case!(appid_missing, "wrong_app_id", {
    let (q, b) = signed_envelope(&raw_encrypt(&framed_ok(text_xml().as_bytes(), b"")));
    open(&q, &b)
});
case!(appid_differs_in_case, "wrong_app_id", {
    let (q, b) = signed_envelope(&raw_encrypt(&framed_ok(
        text_xml().as_bytes(),
        APPID.to_uppercase().as_bytes(),
    )));
    open(&q, &b)
});

// --- utf-8 ----------------------------------------------------------------------------------
case!(decrypted_message_not_utf8, "invalid_utf8", {
    let (q, b) = signed_envelope(&raw_encrypt(&framed_ok(
        b"<xml>\xff\xfe</xml>",
        APPID.as_bytes(),
    )));
    open(&q, &b)
});
case!(decrypted_message_truncated_utf8, "invalid_utf8", {
    let (q, b) = signed_envelope(&raw_encrypt(&framed_ok(
        "<xml>举".as_bytes().split_at(7).0,
        APPID.as_bytes(),
    )));
    open(&q, &b)
});
case!(envelope_not_utf8, "invalid_utf8", {
    let (q, _) = push(&text_xml());
    open_bytes(&q, b"<xml><Encrypt>\xc3\x28</Encrypt></xml>")
});

// --- wrong key ------------------------------------------------------------------------------
#[test]
fn ciphertext_under_another_key_is_refused_by_a_crypto_check() {
    let other = key_bytes("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG");
    let (q, b) = signed_envelope(&raw_encrypt_with(
        other,
        &framed_ok(text_xml().as_bytes(), APPID.as_bytes()),
    ));
    let got = code(open(&q, &b));
    assert!(
        ["bad_padding", "bad_length", "wrong_app_id", "invalid_utf8"].contains(&got.as_str()),
        "{got}"
    );
}

// --- envelope XML ---------------------------------------------------------------------------
fn envelope(body: &str) -> Result<wechat::Opened, WechatError> {
    let (q, _) = push(&text_xml());
    open(&q, body)
}

case!(
    envelope_doctype,
    "xml_forbidden",
    envelope("<!DOCTYPE xml><xml><Encrypt>A</Encrypt></xml>")
);
case!(
    envelope_doctype_lowercase,
    "xml_forbidden",
    envelope("<!doctype xml><xml><Encrypt>A</Encrypt></xml>")
);
case!(
    envelope_billion_laughs,
    "xml_forbidden",
    envelope(
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]><xml><Encrypt>&lol2;</Encrypt></xml>"
    )
);
case!(
    envelope_xxe_file,
    "xml_forbidden",
    envelope(
        "<?xml version=\"1.0\"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><xml><Encrypt>&xxe;</Encrypt></xml>"
    )
);
case!(
    envelope_xxe_parameter_entity,
    "xml_forbidden",
    envelope(
        "<!DOCTYPE foo [<!ENTITY % p SYSTEM \"http://127.0.0.1/x.dtd\"> %p;]><xml><Encrypt>A</Encrypt></xml>"
    )
);
case!(
    envelope_undeclared_entity_reference,
    "xml_forbidden",
    envelope("<xml><Encrypt>&xxe;</Encrypt></xml>")
);
case!(
    envelope_html_entity,
    "xml_forbidden",
    envelope("<xml><Encrypt>&nbsp;</Encrypt></xml>")
);
case!(
    envelope_nul_char_ref,
    "xml_forbidden",
    envelope("<xml><Encrypt>&#0;</Encrypt></xml>")
);
case!(
    envelope_surrogate_char_ref,
    "xml_forbidden",
    envelope("<xml><Encrypt>&#xD800;</Encrypt></xml>")
);
case!(
    envelope_processing_instruction,
    "xml_forbidden",
    envelope("<xml><?php system('id'); ?><Encrypt>A</Encrypt></xml>")
);
case!(
    envelope_stylesheet_pi,
    "xml_forbidden",
    envelope("<?xml-stylesheet href=\"x\"?><xml><Encrypt>A</Encrypt></xml>")
);
case!(
    envelope_oversize,
    "xml_too_large",
    envelope(&format!(
        "<xml><Encrypt>{}</Encrypt></xml>",
        "A".repeat(65 * 1024)
    ))
);
case!(
    envelope_deep_nesting,
    "xml_too_large",
    envelope(&format!("{}{}", "<a>".repeat(20), "</a>".repeat(20)))
);
case!(
    envelope_too_many_elements,
    "xml_too_large",
    envelope(&format!("<xml>{}</xml>", "<a/>".repeat(2000)))
);
case!(envelope_empty, "xml_malformed", envelope(""));
case!(envelope_only_whitespace, "xml_malformed", envelope("   \n"));
case!(
    envelope_unclosed,
    "xml_malformed",
    envelope("<xml><Encrypt>AAAA")
);
case!(
    envelope_mismatched_end_tag,
    "xml_syntax",
    envelope("<xml><Encrypt>AAAA</Encrypt></lmx>")
);
case!(
    envelope_missing_encrypt,
    "xml_malformed",
    envelope("<xml><ToUserName>gh</ToUserName></xml>")
);
case!(
    envelope_duplicate_encrypt,
    "xml_malformed",
    envelope("<xml><Encrypt>A</Encrypt><Encrypt>B</Encrypt></xml>")
);
case!(
    envelope_wrong_root,
    "xml_malformed",
    envelope("<root><Encrypt>A</Encrypt></root>")
);
case!(
    envelope_two_roots,
    "xml_malformed",
    envelope("<xml><Encrypt>A</Encrypt></xml><xml/>")
);
case!(
    envelope_text_after_root,
    "xml_malformed",
    envelope("<xml><Encrypt>A</Encrypt></xml>trailing")
);
case!(
    envelope_not_xml_at_all,
    "xml_malformed",
    envelope("{\"Encrypt\":\"A\"}")
);

// --- decrypted (inner) XML ------------------------------------------------------------------
case!(inner_billion_laughs, "xml_forbidden", encrypted_inner(
    b"<!DOCTYPE lolz [<!ENTITY lol \"lol\">]><xml><ToUserName>gh</ToUserName><Content>&lol;</Content></xml>"
));
case!(inner_xxe, "xml_forbidden", encrypted_inner(
    b"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/shadow\">]><xml><Content>&e;</Content></xml>"
));
case!(inner_missing_from_user, "xml_malformed", encrypted_inner(
    b"<xml><ToUserName>gh</ToUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>"
));
case!(inner_create_time_not_a_number, "xml_malformed", encrypted_inner(
    b"<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>soon</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>"
));
case!(inner_text_without_content, "xml_malformed", encrypted_inner(
    b"<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType></xml>"
));
case!(inner_location_nan, "xml_malformed", encrypted_inner(
    b"<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>location</MsgType><Location_X>NaN</Location_X><Location_Y>1</Location_Y></xml>"
));
case!(inner_location_infinite, "xml_malformed", encrypted_inner(
    b"<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>location</MsgType><Location_X>inf</Location_X><Location_Y>1</Location_Y></xml>"
));
case!(inner_duplicate_from_user, "xml_malformed", encrypted_inner(
    b"<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><FromUserName>p</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>"
));
case!(inner_event_without_event, "xml_malformed", encrypted_inner(
    b"<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType></xml>"
));
case!(inner_popup_without_list_container, "xml_malformed", encrypted_inner(
    b"<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType><Event>subscribe_msg_popup_event</Event></xml>"
));

// --- server verification (GET) --------------------------------------------------------------
fn echo(f: impl FnOnce(&mut CallbackQuery)) -> Result<String, WechatError> {
    let mut q = to_query(&platform().echo_query(NOW, NONCE, "echo123"));
    f(&mut q);
    cb().verify_echo(&q, NOW).map(str::to_owned)
}

#[test]
fn genuine_echo_is_accepted() {
    assert_eq!(echo(|_| {}).expect("ok"), "echo123");
}
case!(
    echo_bad_signature,
    "bad_signature",
    echo(|q| q.signature = Some("1".repeat(40)))
);
case!(
    echo_missing_signature,
    "bad_param",
    echo(|q| q.signature = None)
);
case!(
    echo_missing_echostr,
    "bad_param",
    echo(|q| q.echostr = None)
);
case!(echo_stale, "stale_timestamp", {
    let q = to_query(&platform().echo_query(NOW - 3600, NONCE, "e"));
    cb().verify_echo(&q, NOW).map(str::to_owned)
});

// --- replies, as WeChat reads them ----------------------------------------------------------
fn sealed_reply(ts: i64) -> String {
    let reply = wechat::TextReply {
        to_user: "oUser123",
        from_user: "gh_test",
        create_time: ts,
        content: "收到",
    }
    .to_xml();
    cb().seal_reply_with(&reply, ts, "777", [3; 16])
}

#[test]
fn genuine_reply_is_opened() {
    let r = platform()
        .open_reply(sealed_reply(NOW).as_bytes(), NOW)
        .expect("ok")
        .expect("reply");
    assert_eq!(r.content.as_deref(), Some("收到"));
}
case!(reply_signature_tampered, "bad_signature", {
    let s = sealed_reply(NOW).replace("<Nonce><![CDATA[777]]>", "<Nonce><![CDATA[778]]>");
    platform().open_reply(s.as_bytes(), NOW)
});
case!(
    reply_stale,
    "stale_timestamp",
    platform().open_reply(sealed_reply(NOW - 900).as_bytes(), NOW)
);
case!(
    reply_with_doctype,
    "xml_forbidden",
    platform().open_reply(b"<!DOCTYPE x><xml/>", NOW)
);

// --- keys -----------------------------------------------------------------------------------
case!(
    aes_key_42_chars,
    "bad_aes_key",
    Callback::new(SecretString::from(TOKEN), APPID, Some(&KEY[..42]))
);
case!(
    aes_key_44_chars,
    "bad_aes_key",
    Callback::new(SecretString::from(TOKEN), APPID, Some(&format!("{KEY}A")))
);
case!(
    aes_key_bad_char,
    "bad_aes_key",
    Callback::new(
        SecretString::from(TOKEN),
        APPID,
        Some(&format!("{}*", &KEY[..42]))
    )
);

// --- never panic ----------------------------------------------------------------------------
#[test]
fn arbitrary_bytes_never_panic() {
    // A deterministic xorshift stream of bodies: random bytes, and random bytes spliced into a
    // genuine body, through the whole pipeline.
    let (q, genuine) = push(&text_xml());
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    for _ in 0..3000 {
        let len = (next() % 512) as usize;
        let mut body: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let _ = open_bytes(&q, &body);
        body = genuine.clone().into_bytes();
        let i = (next() as usize) % body.len();
        body[i] = next() as u8;
        let _ = open_bytes(&q, &body);
        let _ = wechat::message::parse_inbound(&body);
    }
}

// --- and what must NOT be refused -----------------------------------------------------------
#[test]
fn a_user_may_type_xml_looking_text() {
    // A citizen pasting "<!DOCTYPE …>" or "&lol;" into the chat is not an attack: it is CDATA.
    let content = "<!DOCTYPE x [<!ENTITY lol \"lol\">]> &lol; ]]> <?php ?>";
    let mut xml = String::from(
        "<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[oUser123]]></FromUserName><CreateTime>1750000000</CreateTime><MsgType><![CDATA[text]]></MsgType>",
    );
    wechat::xml::push_cdata_field(&mut xml, "Content", content);
    xml.push_str("</xml>");
    let (q, body) = push(&xml);
    let opened = open(&q, &body).expect("accepted");
    assert_eq!(
        opened.message.body,
        wechat::Body::Text {
            content: content.into()
        }
    );
}
