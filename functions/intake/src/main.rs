//! `intake`: the WeChat callback (`/wechat/callback`) and the reporter H5 API (`/api/reporter/*`).
//!
//! For now it answers the health route; the intake issue brings the callback and the reporting
//! API. Start-up (config, clients) is already what it will be: read once per cold start.
//!
//! # Layout
//! - [`Config`]: the environment the template gives this function.
//! - [`handler`]: maps an API Gateway v2 request to a response.

use lambda_http::{Body, Error, Request, Response, service_fn};
use runtime::{ConfigError, required_env};

/// What template.yaml gives this function.
#[derive(Debug)]
#[expect(dead_code, reason = "read at start-up now, used by the intake issue")]
struct Config {
    table_name: String,
    notice_queue_url: String,
    pii_key_id: String,
    wechat_secret_arn: String,
    wechat_api_base: String,
}

impl Config {
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: required_env("TABLE_NAME")?,
            notice_queue_url: required_env("NOTICE_QUEUE_URL")?,
            pii_key_id: required_env("PII_KEY_ID")?,
            wechat_secret_arn: required_env("WECHAT_SECRET_ARN")?,
            wechat_api_base: required_env("WECHAT_API_BASE")?,
        })
    }
}

/// Everything a request needs, built once per cold start.
#[expect(
    dead_code,
    reason = "clients are created at start-up, used by the intake issue"
)]
struct App {
    config: Config,
    dynamodb: aws_sdk_dynamodb::Client,
    sqs: aws_sdk_sqs::Client,
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

async fn handler(req: Request, _app: &App) -> Result<Response<Body>, Error> {
    Ok(route(req.method().as_str(), req.uri().path()))
}

fn route(method: &str, path: &str) -> Response<Body> {
    match (method, path) {
        ("GET", "/api/reporter/health") => json(200, r#"{"status":"ok","function":"intake"}"#),
        _ => json(404, r#"{"message":"Not Found"}"#),
    }
}

fn json(status: u16, body: &'static str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_health_route_answers_ok() {
        let resp = route("GET", "/api/reporter/health");
        assert_eq!(resp.status(), 200);
    }

    #[test]
    fn an_unknown_reporter_route_is_not_found() {
        assert_eq!(route("GET", "/api/reporter/nope").status(), 404);
    }
}
