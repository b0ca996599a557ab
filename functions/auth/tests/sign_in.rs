//! Officer sign-in against moto (template deployed, a P-256 signing key in KMS): first login
//! (new password, TOTP enrolment), tokens that verify with the JWKS, refusals with stable codes
//! (wrong password, unknown user alike, wrong or reused code, lock-out, disabled officer,
//! expired, rotated and revoked refresh), account administration, and the audit trail.

use testkit::store_env as support;

use api::{Req, Resp};
use auth::token::KmsSigner;
use auth::{App, Config, REFRESH_COOKIE, password, totp};
use aws_sdk_kms::types::{KeySpec, KeyUsageType};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::{Officer, Role};
use serde_json::{Value, json};
use store::{Accounts, DynamoClueStore};
use support::{Env, officer};

const ISSUER: &str = "https://12336.example.cn";
const AUDIENCE: &str = "12336-officer-console";

async fn app(env: &Env) -> App<DynamoClueStore> {
    let key = env
        .kms
        .create_key()
        .key_spec(KeySpec::Rsa2048)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .expect("signing key");
    let key_id = key.key_metadata().expect("metadata").key_id().to_owned();
    App {
        store: env.another_store(),
        signer: KmsSigner::new(env.kms.clone(), key_id),
        config: Config::new(ISSUER, AUDIENCE),
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0)
        .single()
        .expect("t")
}

fn post(path: &str, body: Value) -> Req {
    let mut r = Req::new("POST", path);
    r.body = body.to_string().into_bytes();
    r
}

fn with_cookie(mut r: Req, value: &str) -> Req {
    r.cookies
        .insert(REFRESH_COOKIE.to_owned(), value.to_owned());
    r
}

fn refused(resp: &Resp) -> (u16, String) {
    (resp.status, resp.error_code().unwrap_or_default())
}

/// The refresh token a response set, and the whole Set-Cookie value.
fn set_cookie(resp: &Resp) -> (String, String) {
    let header = resp
        .headers
        .iter()
        .find(|(k, _)| k == "set-cookie")
        .map(|(_, v)| v.clone())
        .expect("set-cookie");
    let value = header
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_owned())
        .expect("cookie value");
    (value, header)
}

fn code(secret: &str, at: DateTime<Utc>) -> String {
    totp::code_at(secret, u64::try_from(at.timestamp()).expect("t")).expect("code")
}

/// An officer whose account is set up (password changed, TOTP enrolled); its TOTP secret.
async fn enrolled(env: &Env, o: &Officer, username: &str, pw: &str) -> String {
    let s = &env.store;
    assert!(
        s.create_officer_account(o, username, &password::hash(pw).expect("hash"))
            .await
            .expect("create")
    );
    s.set_password(&o.id, &password::hash(pw).expect("hash"), false)
        .await
        .expect("pw");
    let secret = totp::new_secret().expect("secret");
    s.set_totp_pending(&o.id, &secret).await.expect("pending");
    assert!(s.confirm_totp(&o.id, &secret, 1).await.expect("confirm"));
    secret
}

fn sign_in(user: &str, pw: &str, code: Option<&str>) -> Req {
    post(
        "/auth/sign-in",
        json!({"username": user, "password": pw, "code": code}),
    )
}

/// Verifies `token` with the app's JWKS as the authorizer would; its claims.
async fn verified_claims(app: &App<DynamoClueStore>, token: &str) -> Value {
    let jwks = app
        .handle(&Req::new("GET", "/.well-known/jwks.json"), t0())
        .await
        .json_body();
    let jwk = &jwks["keys"][0];
    let header: Value = serde_json::from_slice(
        &B64.decode(token.split('.').next().expect("header"))
            .expect("b64"),
    )
    .expect("header");
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"], jwk["kid"]);
    let key = jsonwebtoken::DecodingKey::from_rsa_components(
        jwk["n"].as_str().expect("n"),
        jwk["e"].as_str().expect("e"),
    )
    .expect("key");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.validate_exp = false; // the test clock is fixed in the past
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .expect("the signature verifies with the JWKS key")
        .claims
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_sign_in_changes_the_password_enrols_totp_and_gets_a_verifiable_token() {
    // Arrange
    let env = Env::start().await;
    let app = app(&env).await;
    let o = officer("o-new", "land-330106", &[Role::Handler]);
    let temp = "Temp-password-2026";
    assert!(
        env.store
            .create_officer_account(&o, "xh-new", &password::hash(temp).expect("hash"))
            .await
            .expect("create")
    );
    let now = t0();

    // Act + Assert: the temporary password leads to the password change
    let r = app.handle(&sign_in("xh-new", temp, None), now).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json_body()["next"], "change_password");
    let challenge = r.json_body()["challenge"].as_str().expect("c").to_owned();

    // a weak password is refused; the same challenge still works
    let r = app
        .handle(
            &post(
                "/auth/password",
                json!({"challenge": challenge, "new_password": "short"}),
            ),
            now,
        )
        .await;
    assert_eq!(refused(&r), (400, "weak_password".to_owned()));
    let r = app
        .handle(
            &post(
                "/auth/password",
                json!({"challenge": challenge, "new_password": "Neues-Passwort-2026"}),
            ),
            now,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body = r.json_body();
    assert_eq!(body["next"], "enrol_totp");
    assert!(body["qr_svg"].as_str().expect("svg").contains("<svg"));
    assert!(
        body["otpauth_uri"]
            .as_str()
            .expect("uri")
            .starts_with("otpauth://totp/12336:xh-new?")
    );
    let secret = body["secret"].as_str().expect("secret").to_owned();
    let challenge = body["challenge"].as_str().expect("c").to_owned();
    // the used challenge is gone
    let r = app
        .handle(
            &post(
                "/auth/password",
                json!({"challenge": "x".repeat(43), "new_password": "Neues-Passwort-2027"}),
            ),
            now,
        )
        .await;
    assert_eq!(refused(&r), (401, "invalid_challenge".to_owned()));

    // a wrong enrolment code is refused, the right one signs in
    let r = app
        .handle(
            &post(
                "/auth/totp",
                json!({"challenge": challenge, "code": "000000"}),
            ),
            now,
        )
        .await;
    assert_eq!(refused(&r), (401, "invalid_code".to_owned()));
    let r = app
        .handle(
            &post(
                "/auth/totp",
                json!({"challenge": challenge, "code": code(&secret, now)}),
            ),
            now,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, cookie) = set_cookie(&r);
    for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/auth"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    let token = r.json_body()["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let claims = verified_claims(&app, &token).await;
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["aud"], AUDIENCE);
    assert_eq!(claims["sub"], "o-new");
    assert_eq!(claims["exp"], now.timestamp() + 600);

    // the old password no longer works, the new one with a later code does
    let later = now + Duration::seconds(60);
    let r = app
        .handle(&sign_in("xh-new", temp, Some(&code(&secret, later))), later)
        .await;
    assert_eq!(refused(&r), (401, "invalid_credentials".to_owned()));
    let r = app
        .handle(
            &sign_in("xh-new", "Neues-Passwort-2026", Some(&code(&secret, later))),
            later,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // discovery names the issuer and its JWKS
    let d = app
        .handle(&Req::new("GET", "/.well-known/openid-configuration"), now)
        .await
        .json_body();
    assert_eq!(d["issuer"], ISSUER);
    assert_eq!(d["jwks_uri"], format!("{ISSUER}/.well-known/jwks.json"));

    // audited, without secrets
    let audit = env
        .store
        .audit_of_day(now.date_naive())
        .await
        .expect("audit");
    let kinds: Vec<&str> = audit.iter().map(|a| a.kind).collect();
    for k in [
        "password_changed",
        "totp_enrolled",
        "sign_in",
        "sign_in_failed",
    ] {
        assert!(kinds.contains(&k), "{kinds:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_refused_alike_a_code_is_used_once_and_repeated_failures_lock() {
    // Arrange
    let env = Env::start().await;
    let app = app(&env).await;
    let o = officer("o-lock", "land-330106", &[Role::Handler]);
    let pw = "Richtiges-Passwort-1";
    let secret = enrolled(&env, &o, "xh-lock", pw).await;
    let now = t0();

    // Act + Assert: wrong password and unknown user get the very same answer
    let wrong = app
        .handle(
            &sign_in("xh-lock", "Falsches-Passwort-1", Some(&code(&secret, now))),
            now,
        )
        .await;
    let unknown = app
        .handle(
            &sign_in("nobody", "Falsches-Passwort-1", Some("123456")),
            now,
        )
        .await;
    assert_eq!(refused(&wrong), (401, "invalid_credentials".to_owned()));
    assert_eq!((wrong.status, &wrong.body), (unknown.status, &unknown.body));

    // a wrong code, no code
    for c in [Some("000000"), None] {
        let r = app.handle(&sign_in("xh-lock", pw, c), now).await;
        assert_eq!(refused(&r), (401, "invalid_credentials".to_owned()));
    }
    // the right code signs in once; the same code again is refused
    let c = code(&secret, now);
    let r = app.handle(&sign_in("xh-lock", pw, Some(&c)), now).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.handle(&sign_in("xh-lock", pw, Some(&c)), now).await;
    assert_eq!(refused(&r), (401, "invalid_credentials".to_owned()));

    // five consecutive failures lock: then even the right password and code are refused
    let t = now + Duration::seconds(30);
    for _ in 0..4 {
        let r = app
            .handle(&sign_in("xh-lock", "nope-nope-123", None), t)
            .await;
        assert_eq!(refused(&r), (401, "invalid_credentials".to_owned()));
    }
    let t = now + Duration::seconds(60);
    let r = app
        .handle(&sign_in("xh-lock", pw, Some(&code(&secret, t))), t)
        .await;
    assert_eq!(refused(&r), (423, "account_locked".to_owned()));
    // a wrong password on a locked account says nothing about the lock
    let r = app
        .handle(&sign_in("xh-lock", "nope-nope-123", None), t)
        .await;
    assert_eq!(refused(&r), (401, "invalid_credentials".to_owned()));
    let audit = env
        .store
        .audit_of_day(now.date_naive())
        .await
        .expect("audit");
    assert!(audit.iter().any(|a| a.kind == "locked"));
    assert!(
        audit
            .iter()
            .any(|a| a.kind == "sign_in_failed" && a.officer.is_none()),
        "the unknown user's attempt is audited without an officer"
    );

    // after the lock, the officer signs in again
    let t = now + Duration::minutes(16);
    let r = app
        .handle(&sign_in("xh-lock", pw, Some(&code(&secret, t))), t)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rotates_expires_and_sign_out_and_disabling_end_it() {
    // Arrange
    let env = Env::start().await;
    let app = app(&env).await;
    let o = officer("o-refresh", "land-330106", &[Role::Handler]);
    let pw = "Richtiges-Passwort-2";
    let secret = enrolled(&env, &o, "xh-refresh", pw).await;
    let now = t0();
    let r = app
        .handle(&sign_in("xh-refresh", pw, Some(&code(&secret, now))), now)
        .await;
    let (first, _) = set_cookie(&r);

    // Act + Assert: a refresh gives a token and a new cookie; the old one is used up
    let refresh = |c: &str| with_cookie(Req::new("POST", "/auth/refresh"), c);
    let r = app.handle(&refresh(&first), now).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.json_body()["access_token"].is_string());
    let (second, _) = set_cookie(&r);
    assert_ne!(first, second);
    let r = app.handle(&refresh(&first), now).await;
    assert_eq!(refused(&r), (401, "invalid_refresh".to_owned()));
    let r = app.handle(&Req::new("POST", "/auth/refresh"), now).await;
    assert_eq!(refused(&r), (401, "invalid_refresh".to_owned()));

    // expired after 12 hours
    let r = app
        .handle(
            &refresh(&second),
            now + Duration::hours(12) + Duration::seconds(1),
        )
        .await;
    assert_eq!(refused(&r), (401, "invalid_refresh".to_owned()));

    // sign-out revokes
    let t = now + Duration::minutes(1);
    let r = app
        .handle(&sign_in("xh-refresh", pw, Some(&code(&secret, t))), t)
        .await;
    let (third, _) = set_cookie(&r);
    let r = app
        .handle(&with_cookie(Req::new("POST", "/auth/sign-out"), &third), t)
        .await;
    assert_eq!(r.status, 200);
    assert!(set_cookie(&r).1.contains("Max-Age=0"));
    let r = app.handle(&refresh(&third), t).await;
    assert_eq!(refused(&r), (401, "invalid_refresh".to_owned()));

    // a disabled officer can neither refresh nor sign in, and is not active for the API
    let t = now + Duration::minutes(2);
    let r = app
        .handle(&sign_in("xh-refresh", pw, Some(&code(&secret, t))), t)
        .await;
    let (fourth, _) = set_cookie(&r);
    assert!(
        env.store
            .set_officer_disabled(&o.id, true)
            .await
            .expect("disable")
    );
    assert_eq!(env.store.active_officer(&o.id).await.expect("read"), None);
    let r = app.handle(&refresh(&fourth), t).await;
    assert_eq!(refused(&r), (403, "account_disabled".to_owned()));
    let t = now + Duration::minutes(3);
    let r = app
        .handle(&sign_in("xh-refresh", pw, Some(&code(&secret, t))), t)
        .await;
    assert_eq!(refused(&r), (403, "account_disabled".to_owned()));
    assert!(
        env.store
            .set_officer_disabled(&o.id, false)
            .await
            .expect("enable")
    );
    assert_eq!(
        env.store.active_officer(&o.id).await.expect("read"),
        Some(o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bureau_admin_creates_and_disables_officers_of_their_bureau_only() {
    // Arrange
    let env = Env::start().await;
    let app = app(&env).await;
    let admin = officer("o-admin", "land-330106", &[Role::Admin]);
    let plain = officer("o-plain", "land-330106", &[Role::Handler]);
    let foreign = officer("o-foreign", "land-330200", &[Role::Handler]);
    enrolled(&env, &admin, "xh-admin", "Admin-passwort-1").await;
    enrolled(&env, &plain, "xh-plain", "Plain-passwort-1").await;
    enrolled(&env, &foreign, "nb-foreign", "Foreign-passwort-1").await;
    let now = t0();
    let as_officer = |o: &Officer, mut r: Req| {
        r.claims.insert("sub".to_owned(), o.id.as_str().to_owned());
        r
    };
    let create = json!({"username": "xh-created", "roles": ["handler"]});

    // Act + Assert
    let r = app
        .handle(
            &as_officer(&plain, post("/auth/admin/officers", create.clone())),
            now,
        )
        .await;
    assert_eq!(refused(&r), (403, "not_admin".to_owned()));
    let r = app
        .handle(
            &as_officer(&admin, post("/auth/admin/officers", create.clone())),
            now,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let created = r.json_body();
    let temp = created["temporary_password"].as_str().expect("temp");
    let r = app.handle(&sign_in("xh-created", temp, None), now).await;
    assert_eq!(r.json_body()["next"], "change_password", "{}", r.body);
    let r = app
        .handle(
            &as_officer(&admin, post("/auth/admin/officers", create)),
            now,
        )
        .await;
    assert_eq!(refused(&r), (409, "username_taken".to_owned()));
    let r = app
        .handle(
            &as_officer(
                &admin,
                post(
                    "/auth/admin/officers",
                    json!({"username": "X Y", "roles": ["handler"]}),
                ),
            ),
            now,
        )
        .await;
    assert_eq!(refused(&r), (400, "invalid_username".to_owned()));

    let r = app
        .handle(
            &as_officer(
                &admin,
                post("/auth/admin/officers/o-foreign/disable", json!({})),
            ),
            now,
        )
        .await;
    assert_eq!(refused(&r), (404, "unknown_officer".to_owned()));
    assert!(
        env.store
            .active_officer(&foreign.id)
            .await
            .expect("read")
            .is_some()
    );
    let r = app
        .handle(
            &as_officer(
                &admin,
                post("/auth/admin/officers/o-plain/disable", json!({})),
            ),
            now,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        env.store
            .active_officer(&plain.id)
            .await
            .expect("read")
            .is_none()
    );
    let audit = env
        .store
        .audit_of_day(now.date_naive())
        .await
        .expect("audit");
    let disabled = audit
        .iter()
        .find(|a| a.kind == "officer_disabled")
        .expect("audited");
    assert_eq!(disabled.actor.as_ref(), Some(&admin.id));
    assert_eq!(disabled.officer.as_ref(), Some(&plain.id));
    assert!(audit.iter().any(|a| a.kind == "officer_created"));
}
