//! `judgment`: the officer API (`/api/officer/*`), reached only with a valid Cognito token (the
//! HTTP API's JWT authorizer checks it before this function runs).
//!
//! For now it answers `GET /api/officer/me` with who is calling, from the authorizer's claims;
//! the judgment issue brings the rest. Start-up is already final: config and clients once.
//!
//! # Layout
//! - [`Officer`]: the caller, from the JWT claims.
//! - [`handler`]: maps an API Gateway v2 request to a response.

use std::collections::HashMap;

use lambda_http::request::RequestContext;
use lambda_http::{Body, Error, Request, RequestExt, Response, service_fn};
use runtime::{ConfigError, required_env};
use serde::Serialize;

#[derive(Debug)]
#[expect(dead_code, reason = "read at start-up now, used by the judgment issue")]
struct Config {
    table_name: String,
    notice_queue_url: String,
    pii_key_id: String,
}

impl Config {
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: required_env("TABLE_NAME")?,
            notice_queue_url: required_env("NOTICE_QUEUE_URL")?,
            pii_key_id: required_env("PII_KEY_ID")?,
        })
    }
}

#[expect(
    dead_code,
    reason = "clients are created at start-up, used by the judgment issue"
)]
struct App {
    config: Config,
    dynamodb: aws_sdk_dynamodb::Client,
    sqs: aws_sdk_sqs::Client,
}

/// The calling officer, as the authorizer's claims describe them.
#[derive(Debug, Serialize, PartialEq)]
struct Officer {
    sub: String,
    username: String,
    bureau_id: Option<String>,
    roles: Vec<String>,
}

impl Officer {
    /// `None` without a `sub`: the authorizer always provides one, so its absence means the route
    /// is not behind the authorizer.
    fn from_claims(claims: &HashMap<String, String>) -> Option<Self> {
        let sub = claims.get("sub")?.clone();
        let username = claims
            .get("cognito:username")
            .or_else(|| claims.get("username"))
            .cloned()
            .unwrap_or_else(|| sub.clone());
        Some(Self {
            sub,
            username,
            bureau_id: claims.get("custom:bureau_id").cloned(),
            roles: claims
                .get("custom:roles")
                .map(|r| {
                    r.split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    let config = Config::from_env()?;
    let aws = runtime::aws_config().await;
    let app = App {
        config,
        dynamodb: aws_sdk_dynamodb::Client::new(&aws),
        sqs: aws_sdk_sqs::Client::new(&aws),
    };
    lambda_http::run(service_fn(|req| handler(req, &app))).await
}

fn claims(req: &Request) -> HashMap<String, String> {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx
            .authorizer
            .as_ref()
            .and_then(|a| a.jwt.as_ref())
            .map(|jwt| jwt.claims.clone())
            .unwrap_or_default(),
        _ => HashMap::new(),
    }
}

async fn handler(req: Request, _app: &App) -> Result<Response<Body>, Error> {
    let officer = Officer::from_claims(&claims(&req));
    Ok(route(req.method().as_str(), req.uri().path(), officer))
}

fn route(method: &str, path: &str, officer: Option<Officer>) -> Response<Body> {
    let Some(officer) = officer else {
        return json(401, r#"{"message":"Unauthorized"}"#.to_owned());
    };
    match (method, path) {
        ("GET", "/api/officer/me") => {
            json(200, serde_json::to_string(&officer).unwrap_or_default())
        }
        _ => json(404, r#"{"message":"Not Found"}"#.to_owned()),
    }
}

fn json(status: u16, body: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn an_officer_is_read_from_cognito_id_token_claims() {
        let c = claims(&[
            ("sub", "abc"),
            ("cognito:username", "hz-handler"),
            ("custom:bureau_id", "330100"),
            ("custom:roles", "handler, leader"),
        ]);
        let officer = Officer::from_claims(&c).expect("officer");
        assert_eq!(officer.username, "hz-handler");
        assert_eq!(officer.bureau_id.as_deref(), Some("330100"));
        assert_eq!(officer.roles, ["handler", "leader"]);
    }

    #[test]
    fn without_claims_the_answer_is_unauthorized() {
        assert_eq!(route("GET", "/api/officer/me", None).status(), 401);
    }
}
