//! `auth`: the platform's own OIDC issuer for officers (`/auth/*`, `/.well-known/*`).
//!
//! Officers sign in with user name, password (argon2id) and a TOTP code; the first sign-in
//! changes the temporary password and enrols the TOTP secret (QR code). Access tokens are short
//! RS256 JWTs signed in KMS ([`token`]); the refresh token is an opaque random value in an
//! HttpOnly, Secure, SameSite=Strict cookie, stored hashed, single use (rotated on refresh),
//! revoked on sign-out. Every sign-in, failure, lock-out and admin change is audited
//! (`store::accounts`). An unknown user name gets exactly the answer of a wrong password.
//!
//! # Routes
//! | route | what |
//! |---|---|
//! | `POST /auth/sign-in` `{username, password, code?}` | tokens, or the next step (`change_password`, `enrol_totp`) with a challenge |
//! | `POST /auth/password` `{challenge, new_password}` | first-login password change |
//! | `POST /auth/totp` `{challenge, code}` | confirms TOTP enrolment; tokens |
//! | `POST /auth/refresh` (cookie) | a new access token; the refresh token rotated |
//! | `POST /auth/sign-out` (cookie) | revokes the refresh token, clears the cookie |
//! | `GET /.well-known/openid-configuration`, `GET /.well-known/jwks.json` | for the JWT authorizer |
//! | `/auth/admin/*` (behind the authorizer) | see [`admin`] |

pub mod admin;
pub mod password;
pub mod signin;
pub mod token;
pub mod totp;

use api::{ApiError, Req, Resp};
use chrono::{DateTime, Utc};
use serde_json::json;
use store::Accounts;

use crate::token::KmsSigner;

/// The name of the refresh-token cookie.
pub const REFRESH_COOKIE: &str = "officer_refresh";

/// Settings from the template.
#[derive(Debug, Clone)]
pub struct Config {
    /// The issuer URL (the platform's public origin): `iss` of every token.
    pub issuer: String,
    /// The audience the HTTP API's authorizer accepts.
    pub audience: String,
    pub access_seconds: i64,
    pub refresh_seconds: i64,
    /// Consecutive failures that lock an account, and for how long.
    pub max_failures: u32,
    pub lock_seconds: i64,
}

impl Config {
    /// The defaults of the template: 10-minute access tokens, 12-hour refresh, 5 failures lock
    /// for 15 minutes.
    pub fn new(issuer: &str, audience: &str) -> Self {
        Self {
            issuer: issuer.trim_end_matches('/').to_owned(),
            audience: audience.to_owned(),
            access_seconds: 600,
            refresh_seconds: 12 * 3600,
            max_failures: 5,
            lock_seconds: 15 * 60,
        }
    }
}

/// Everything a request needs, built once per cold start.
pub struct App<S> {
    /// The accounts (officers, sign-in state, tokens, audit log).
    pub store: S,
    pub signer: KmsSigner,
    pub config: Config,
}

/// The API error of a store failure (never the caller's).
pub(crate) fn store_error(e: store::StoreError) -> ApiError {
    tracing::error!(code = e.code(), error = %e, "store failed");
    ApiError::unavailable()
}

/// The API error of a fault of this function (KMS, hashing).
pub(crate) fn internal(what: &str, e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "{what} failed");
    ApiError::unavailable()
}

/// 32 random bytes, base64url: refresh tokens, challenges, temporary passwords.
pub(crate) fn random_token() -> Result<String, ApiError> {
    use base64::Engine;
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| internal("randomness", e))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw))
}

pub(crate) fn parse_body<T: serde::de::DeserializeOwned>(req: &Req) -> Result<T, ApiError> {
    serde_json::from_slice(&req.body)
        .map_err(|_| ApiError::bad_request("invalid_request", "请求格式不正确"))
}

impl<S: Accounts> App<S> {
    /// Answers one request at `now`. Every answer is `no-store`.
    pub async fn handle(&self, req: &Req, now: DateTime<Utc>) -> Resp {
        let resp = match self.route(req, now).await {
            Ok(resp) => resp,
            Err(e) => e.into_resp(),
        };
        if resp.headers.iter().any(|(k, _)| k == "cache-control") {
            resp
        } else {
            resp.with_header("cache-control", "no-store")
        }
    }

    async fn route(&self, req: &Req, now: DateTime<Utc>) -> Result<Resp, ApiError> {
        match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/.well-known/openid-configuration") => Ok(self.discovery()),
            ("GET", "/.well-known/jwks.json") => {
                let jwk = self
                    .signer
                    .public_jwk()
                    .await
                    .map_err(|e| internal("public key", e))?;
                Ok(Resp::json(200, &json!({ "keys": [jwk.jwk] }))
                    .with_header("cache-control", "max-age=300"))
            }
            ("POST", "/auth/sign-in") => self.sign_in(req, now).await,
            ("POST", "/auth/password") => self.change_password(req, now).await,
            ("POST", "/auth/totp") => self.confirm_totp(req, now).await,
            ("POST", "/auth/refresh") => self.refresh(req, now).await,
            ("POST", "/auth/sign-out") => self.sign_out(req, now).await,
            (_, p) if p.starts_with("/auth/admin/") => self.admin(req, now).await,
            _ => Err(ApiError::not_found("no_route")),
        }
    }

    fn discovery(&self) -> Resp {
        let iss = &self.config.issuer;
        Resp::json(
            200,
            &json!({
                "issuer": iss,
                "jwks_uri": format!("{iss}/.well-known/jwks.json"),
                "token_endpoint": format!("{iss}/auth/sign-in"),
                "response_types_supported": ["token"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["none"],
            }),
        )
        .with_header("cache-control", "max-age=300")
    }
}
