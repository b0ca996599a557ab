//! The sign-in steps: password and TOTP, first-login password change, TOTP enrolment, refresh
//! and sign-out. Failures answer `invalid_credentials` whatever failed (unknown user, password,
//! code, a code used before), and count towards the lock-out.

use api::{ApiError, Req, Resp};
use chrono::{DateTime, Duration, Utc};
use domain::OfficerId;
use serde::Deserialize;
use serde_json::json;
use store::accounts::{Account, AuditEntry, Challenge, Failure};

use store::Accounts;

use crate::token::AccessClaims;
use crate::{App, REFRESH_COOKIE, internal, parse_body, password, random_token, store_error, totp};

const CHANGE_PASSWORD: &str = "change_password";
const ENROL_TOTP: &str = "enrol_totp";
/// How long a challenge between two steps is valid.
const CHALLENGE_SECONDS: i64 = 600;

fn invalid_credentials() -> ApiError {
    ApiError::new(401, "invalid_credentials", "用户名、密码或动态验证码错误")
}

fn invalid_challenge() -> ApiError {
    ApiError::new(401, "invalid_challenge", "登录步骤已失效，请重新登录")
}

fn invalid_refresh() -> ApiError {
    ApiError::new(401, "invalid_refresh", "登录已过期，请重新登录")
}

/// A user name: 3–64 of `a-z 0-9 . _ -`.
pub fn valid_username(u: &str) -> bool {
    (3..=64).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

/// The `Set-Cookie` of the refresh token (path `/auth`, so only these routes see it).
pub fn refresh_cookie(value: &str, max_age: i64) -> String {
    format!(
        "{REFRESH_COOKIE}={value}; Max-Age={max_age}; Path=/auth; HttpOnly; Secure; SameSite=Strict"
    )
}

#[derive(Deserialize)]
struct SignIn {
    username: String,
    password: String,
    #[serde(default)]
    code: Option<String>,
}

#[derive(Deserialize)]
struct NewPassword {
    challenge: String,
    new_password: String,
}

#[derive(Deserialize)]
struct ConfirmTotp {
    challenge: String,
    code: String,
}

fn unix(now: DateTime<Utc>) -> u64 {
    u64::try_from(now.timestamp()).unwrap_or(0)
}

impl<S: Accounts> App<S> {
    pub(crate) async fn audit(
        &self,
        now: DateTime<Utc>,
        kind: &'static str,
        officer: Option<&OfficerId>,
        actor: Option<&OfficerId>,
        detail: &str,
    ) -> Result<(), ApiError> {
        self.store
            .audit(&AuditEntry {
                at: now,
                kind,
                officer: officer.cloned(),
                actor: actor.cloned(),
                detail: detail.to_owned(),
            })
            .await
            .map_err(store_error)
    }

    /// Counts a failure (and audits it, and the lock it causes).
    async fn failed(&self, a: &Account, now: DateTime<Utc>, what: &str) -> ApiError {
        let counted = self
            .store
            .record_sign_in_failure(
                &a.id,
                now,
                self.config.max_failures,
                Duration::seconds(self.config.lock_seconds),
            )
            .await;
        let audited = async {
            self.audit(now, "sign_in_failed", Some(&a.id), None, what)
                .await?;
            if let Ok(Failure::Locked(until)) = counted {
                self.audit(
                    now,
                    "locked",
                    Some(&a.id),
                    None,
                    &format!("until {}", until.to_rfc3339()),
                )
                .await?;
            }
            Ok::<_, ApiError>(())
        }
        .await;
        match (counted, audited) {
            (Err(e), _) => store_error(e),
            (_, Err(e)) => e,
            _ => invalid_credentials(),
        }
    }

    pub(crate) async fn sign_in(&self, req: &Req, now: DateTime<Utc>) -> Result<Resp, ApiError> {
        let body: SignIn = parse_body(req)?;
        let username = body.username.trim().to_lowercase();
        if body.password.is_empty() || body.password.len() > 256 || username.len() > 64 {
            return Err(ApiError::bad_request(
                "invalid_request",
                "请输入用户名和密码",
            ));
        }
        let account = if valid_username(&username) {
            self.store
                .account_by_username(&username)
                .await
                .map_err(store_error)?
        } else {
            None
        };
        let Some(a) = account else {
            password::verify_dummy(&body.password);
            self.audit(now, "sign_in_failed", None, None, "unknown user name")
                .await?;
            return Err(invalid_credentials());
        };
        let password_ok = password::verify(&body.password, &a.password_hash);
        if a.locked_until.is_some_and(|t| t > now) {
            if !password_ok {
                self.audit(
                    now,
                    "sign_in_failed",
                    Some(&a.id),
                    None,
                    "password while locked",
                )
                .await?;
                return Err(invalid_credentials());
            }
            self.audit(now, "sign_in_failed", Some(&a.id), None, "locked")
                .await?;
            return Err(ApiError::new(
                423,
                "account_locked",
                "失败次数过多，账号已临时锁定，请15分钟后再试",
            ));
        }
        if !password_ok {
            return Err(self.failed(&a, now, "password").await);
        }
        if self.active(&a.id).await?.is_none() {
            self.audit(now, "sign_in_failed", Some(&a.id), None, "disabled")
                .await?;
            return Err(ApiError::forbidden(
                "account_disabled",
                "账号已停用，请联系本机关管理员",
            ));
        }
        if a.must_change_password {
            let challenge = self.challenge(&a.id, CHANGE_PASSWORD, now).await?;
            return Ok(Resp::json(
                200,
                &json!({"next": CHANGE_PASSWORD, "challenge": challenge}),
            ));
        }
        let Some(secret) = &a.totp_secret else {
            return self.enrolment(&a, now).await;
        };
        let step = match body
            .code
            .as_deref()
            .map(|c| totp::matching_step(secret, c, unix(now)))
        {
            Some(Ok(Some(step))) => step,
            Some(Err(e)) => return Err(internal("totp secret", e)),
            _ => return Err(self.failed(&a, now, "totp code").await),
        };
        if !self
            .store
            .record_sign_in_success(&a.id, step)
            .await
            .map_err(store_error)?
        {
            return Err(self.failed(&a, now, "totp code used before").await);
        }
        self.audit(now, "sign_in", Some(&a.id), None, "password and totp")
            .await?;
        self.tokens(&a.id, &a.username, now).await
    }

    async fn active(&self, id: &OfficerId) -> Result<Option<domain::Officer>, ApiError> {
        self.store.active_officer(id).await.map_err(store_error)
    }

    async fn challenge(
        &self,
        id: &OfficerId,
        purpose: &str,
        now: DateTime<Utc>,
    ) -> Result<String, ApiError> {
        let token = random_token()?;
        self.store
            .put_challenge(
                &token,
                &Challenge {
                    officer: id.clone(),
                    purpose: purpose.to_owned(),
                    expires_at: now + Duration::seconds(CHALLENGE_SECONDS),
                },
            )
            .await
            .map_err(store_error)?;
        Ok(token)
    }

    /// Takes a challenge of `purpose`; its account.
    async fn take(
        &self,
        token: &str,
        purpose: &str,
        now: DateTime<Utc>,
    ) -> Result<(Challenge, Account), ApiError> {
        if token.is_empty() || token.len() > 64 {
            return Err(invalid_challenge());
        }
        let c = self
            .store
            .take_challenge(token)
            .await
            .map_err(store_error)?
            .filter(|c| c.purpose == purpose && c.expires_at > now)
            .ok_or_else(invalid_challenge)?;
        let a = self
            .store
            .account(&c.officer)
            .await
            .map_err(store_error)?
            .ok_or_else(invalid_challenge)?;
        if self.active(&a.id).await?.is_none() {
            return Err(ApiError::forbidden(
                "account_disabled",
                "账号已停用，请联系本机关管理员",
            ));
        }
        Ok((c, a))
    }

    /// The enrolment step: a new pending secret, its otpauth URI and QR code (SVG).
    async fn enrolment(&self, a: &Account, now: DateTime<Utc>) -> Result<Resp, ApiError> {
        let secret = totp::new_secret().map_err(|e| internal("totp secret", e))?;
        self.store
            .set_totp_pending(&a.id, &secret)
            .await
            .map_err(store_error)?;
        let uri = totp::otpauth_uri(&secret, "12336", &a.username)
            .map_err(|e| internal("otpauth uri", e))?;
        let svg = totp::qr_svg(&uri).map_err(|e| internal("qr code", e))?;
        let challenge = self.challenge(&a.id, ENROL_TOTP, now).await?;
        Ok(Resp::json(
            200,
            &json!({
                "next": ENROL_TOTP, "challenge": challenge,
                "secret": secret, "otpauth_uri": uri, "qr_svg": svg,
            }),
        ))
    }

    pub(crate) async fn change_password(
        &self,
        req: &Req,
        now: DateTime<Utc>,
    ) -> Result<Resp, ApiError> {
        let body: NewPassword = parse_body(req)?;
        let (c, a) = self.take(&body.challenge, CHANGE_PASSWORD, now).await?;
        if let Err(e) = password::check_policy(&body.new_password, &a.username, &a.password_hash) {
            // the same challenge again: the officer corrects the password and retries
            self.store
                .put_challenge(&body.challenge, &c)
                .await
                .map_err(store_error)?;
            return Err(ApiError::bad_request("weak_password", e.to_string()));
        }
        let hash = password::hash(&body.new_password).map_err(|e| internal("hash", e))?;
        self.store
            .set_password(&a.id, &hash, false)
            .await
            .map_err(store_error)?;
        self.audit(now, "password_changed", Some(&a.id), None, "first sign-in")
            .await?;
        if a.totp_secret.is_none() {
            return self.enrolment(&a, now).await;
        }
        Ok(Resp::json(200, &json!({"next": "sign_in"})))
    }

    pub(crate) async fn confirm_totp(
        &self,
        req: &Req,
        now: DateTime<Utc>,
    ) -> Result<Resp, ApiError> {
        let body: ConfirmTotp = parse_body(req)?;
        let (c, a) = self.take(&body.challenge, ENROL_TOTP, now).await?;
        let Some(secret) = &a.totp_pending else {
            return Err(invalid_challenge());
        };
        let step = totp::matching_step(secret, &body.code, unix(now))
            .map_err(|e| internal("totp secret", e))?;
        let confirmed = match step {
            Some(step) => self
                .store
                .confirm_totp(&a.id, secret, step)
                .await
                .map_err(store_error)?,
            None => false,
        };
        if !confirmed {
            self.store
                .put_challenge(&body.challenge, &c)
                .await
                .map_err(store_error)?;
            let _ = self.failed(&a, now, "totp enrolment code").await;
            return Err(ApiError::new(
                401,
                "invalid_code",
                "动态验证码错误，请重新输入",
            ));
        }
        self.audit(now, "totp_enrolled", Some(&a.id), None, "")
            .await?;
        self.audit(now, "sign_in", Some(&a.id), None, "first sign-in")
            .await?;
        self.tokens(&a.id, &a.username, now).await
    }

    /// An access token and a new refresh token (cookie).
    async fn tokens(
        &self,
        id: &OfficerId,
        username: &str,
        now: DateTime<Utc>,
    ) -> Result<Resp, ApiError> {
        let cfg = &self.config;
        let claims = AccessClaims {
            iss: &cfg.issuer,
            sub: id.as_str(),
            aud: &cfg.audience,
            client_id: &cfg.audience,
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: now.timestamp() + cfg.access_seconds,
            jti: random_token()?,
            token_use: "access",
            preferred_username: username,
        };
        let access = self
            .signer
            .sign(&claims)
            .await
            .map_err(|e| internal("sign", e))?;
        let refresh = random_token()?;
        self.store
            .put_refresh_token(&refresh, id, now + Duration::seconds(cfg.refresh_seconds))
            .await
            .map_err(store_error)?;
        Ok(Resp::json(
            200,
            &json!({
                "access_token": access, "token_type": "Bearer",
                "expires_in": cfg.access_seconds, "officer": id.as_str(),
            }),
        )
        .with_header("set-cookie", refresh_cookie(&refresh, cfg.refresh_seconds)))
    }

    pub(crate) async fn refresh(&self, req: &Req, now: DateTime<Utc>) -> Result<Resp, ApiError> {
        let clear = refresh_cookie("", 0);
        let token = req.cookie(REFRESH_COOKIE).unwrap_or_default();
        if token.is_empty() || token.len() > 64 {
            return Ok(invalid_refresh()
                .into_resp()
                .with_header("set-cookie", clear));
        }
        let id = match self.store.take_refresh_token(token, now).await {
            Ok(Some(id)) => id,
            Ok(None) => {
                return Ok(invalid_refresh()
                    .into_resp()
                    .with_header("set-cookie", clear));
            }
            Err(e) => return Err(store_error(e)),
        };
        let account = self.store.account(&id).await.map_err(store_error)?;
        let (Some(a), Some(_)) = (account, self.active(&id).await?) else {
            self.audit(
                now,
                "sign_in_failed",
                Some(&id),
                None,
                "refresh of a disabled account",
            )
            .await?;
            return Ok(
                ApiError::forbidden("account_disabled", "账号已停用，请联系本机关管理员")
                    .into_resp()
                    .with_header("set-cookie", clear),
            );
        };
        self.audit(now, "refreshed", Some(&id), None, "").await?;
        self.tokens(&a.id, &a.username, now).await
    }

    pub(crate) async fn sign_out(&self, req: &Req, now: DateTime<Utc>) -> Result<Resp, ApiError> {
        let token = req.cookie(REFRESH_COOKIE).unwrap_or_default();
        if !token.is_empty() && token.len() <= 64 {
            match self.store.take_refresh_token(token, now).await {
                Ok(Some(id)) => self.audit(now, "signed_out", Some(&id), None, "").await?,
                Ok(None) => {}
                Err(e) => return Err(store_error(e)),
            }
        }
        Ok(Resp::json(200, &json!({"signed_out": true}))
            .with_header("set-cookie", refresh_cookie("", 0)))
    }
}
