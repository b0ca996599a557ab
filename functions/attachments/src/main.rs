//! `attachments`: two event sources, one binary (see the library docs).
//! - HTTP API: `POST /api/reporter/uploads` and `GET /api/reporter/uploads/{id}`.
//! - the attachment-events queue: S3 `ObjectCreated` notifications and chat-photo downloads;
//!   partial batch failures so only failed records are retried.

use anyhow::Context;
use attachments::presign::{Signer, bucket_url, presign_post};
use attachments::process::Objects;
use attachments::queue::{self, Message};
use attachments::{kind, limits};
use aws_credential_types::provider::ProvideCredentials;
use aws_lambda_events::event::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use base64::Engine;
use chrono::Utc;
use domain::AttachmentId;
use keyring::Keyring;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use runtime::secrets::secret_string;
use runtime::{lambda_runtime, optional_env, required_env};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::json;
use session::{SESSION_COOKIE, SessionKey};
use store::attachments::incoming_key;
use store::{
    Attachment, AttachmentSource, AttachmentStatus, ReporterKeyer, ReporterKeys, ReportingStore,
};
use tokio::sync::OnceCell;
use wechat::{ApiClient, ApiConfig};

struct App {
    bucket: String,
    upload_url: String,
    s3: aws_sdk_s3::Client,
    aws: aws_config::SdkConfig,
    records: ReportingStore,
    session: SessionKey,
    keyer: ReporterKeyer,
    wechat: ApiClient<ReportingStore>,
}

/// What invokes this function: the queue (with `Records`) or the HTTP API.
#[derive(Deserialize)]
#[serde(untagged)]
enum Event {
    Sqs(SqsEvent),
    Http(Box<ApiGatewayV2httpRequest>),
}

#[derive(Serialize)]
#[serde(untagged)]
enum Output {
    Sqs(SqsBatchResponse),
    Http(Box<ApiGatewayV2httpResponse>),
}

#[derive(Deserialize)]
struct WechatSecret {
    appid: String,
    secret: String,
}

/// Everything that needs the secrets: built on the first event (see [`main`]).
async fn build(aws: aws_config::SdkConfig) -> anyhow::Result<App> {
    let table = required_env("TABLE_NAME")?;
    let bucket = required_env("ATTACHMENT_BUCKET")?;
    let secrets = aws_sdk_secretsmanager::Client::new(&aws);
    let (session_arn, key_arn) = (
        required_env("REPORTER_SESSION_SECRET_ARN")?,
        required_env("REPORTER_KEY_SECRET_ARN")?,
    );
    let (session, reporter_key) = tokio::try_join!(
        secret_string(&secrets, &session_arn),
        secret_string(&secrets, &key_arn),
    )?;
    let session = Keyring::from_json(&session).context(
        "REPORTER_SESSION_SECRET_ARN holds no {\"version\", \"current\", \"previous\"} of at least 32 characters each",
    )?;
    let reporter_key = Keyring::from_json(&reporter_key).context(
        "REPORTER_KEY_SECRET_ARN holds no {\"version\", \"current\", \"previous\"} of at least 32 characters each",
    )?;
    let wx: WechatSecret =
        serde_json::from_str(&secret_string(&secrets, &required_env("WECHAT_SECRET_ARN")?).await?)
            .context("WECHAT_SECRET_ARN holds no {appid, secret} JSON")?;
    let records = ReportingStore::new(aws_sdk_dynamodb::Client::new(&aws), &table);
    let api_base: url::Url = required_env("WECHAT_API_BASE")?
        .parse()
        .context("WECHAT_API_BASE is not a URL")?;
    let wechat = ApiClient::new(
        ApiConfig::new(api_base, wx.appid, SecretString::from(wx.secret)),
        records.clone(),
    )?;
    let region = aws
        .region()
        .map_or_else(|| "us-east-1".to_owned(), |r| r.to_string());
    let endpoint = optional_env("UPLOAD_ENDPOINT")
        .or_else(|| optional_env("AWS_ENDPOINT_URL_S3"))
        .or_else(|| optional_env("AWS_ENDPOINT_URL"));
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&aws)
            .force_path_style(endpoint.is_some())
            .build(),
    );
    Ok(App {
        upload_url: bucket_url(endpoint.as_deref(), &bucket, &region),
        bucket,
        s3,
        aws,
        records,
        // Attachments opens sessions; it holds no OAuth state key.
        session: SessionKey::sessions_only(&session),
        keyer: ReporterKeyer::versioned(store::vault::reporter_key_secrets(&reporter_key))?,
        wechat,
    })
}

/// Init checks the configuration and loads the SDK config; the three secrets are read on the
/// first event, so a cold start makes no Secrets Manager round trips before the runtime asks for
/// work. A failed read fails that invocation (a queue batch comes back; an HTTP caller gets
/// 502) and the next one tries again; the app is built once, when it succeeds.
#[tokio::main]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    for name in [
        "TABLE_NAME",
        "ATTACHMENT_BUCKET",
        "REPORTER_SESSION_SECRET_ARN",
        "REPORTER_KEY_SECRET_ARN",
        "WECHAT_SECRET_ARN",
        "WECHAT_API_BASE",
    ] {
        required_env(name)?;
    }
    let aws = runtime::aws_config().await;
    let app = OnceCell::new();
    lambda_runtime::run(service_fn(|ev| handler(ev, &aws, &app))).await
}

async fn handler(
    event: LambdaEvent<Event>,
    aws: &aws_config::SdkConfig,
    app: &OnceCell<App>,
) -> Result<Output, Error> {
    let app = app
        .get_or_try_init(|| build(aws.clone()))
        .await
        .map_err(|e| format!("start-up (secrets) failed: {e:#}"))?;
    Ok(match event.payload {
        Event::Sqs(sqs) => Output::Sqs(on_messages(app, sqs).await),
        Event::Http(req) => Output::Http(Box::new(on_http(app, &req).await)),
    })
}

fn respond(status: i64, body: serde_json::Value) -> ApiGatewayV2httpResponse {
    let mut resp = ApiGatewayV2httpResponse::default();
    resp.status_code = status;
    if let Ok(v) = "application/json".parse() {
        resp.headers.insert("content-type", v);
    }
    resp.body = Some(body.to_string().into());
    resp
}

fn error(status: i64, code: &str, message: &str) -> ApiGatewayV2httpResponse {
    respond(status, json!({"error": {"code": code, "message": message}}))
}

fn reporter(app: &App, req: &ApiGatewayV2httpRequest) -> Option<ReporterKeys> {
    let mut raw: Vec<String> = req.cookies.clone().unwrap_or_default();
    if let Some(h) = req.headers.get("cookie").and_then(|v| v.to_str().ok()) {
        raw.extend(h.split(';').map(|s| s.trim().to_owned()));
    }
    let value = raw.iter().find_map(|c| {
        c.split_once('=')
            .filter(|(k, _)| k.trim() == SESSION_COOKIE)
            .map(|(_, v)| v.trim().to_owned())
    })?;
    let s = app.session.open(&value, Utc::now().timestamp()).ok()?;
    Some(app.keyer.keys(&s.openid))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadForm {
    file_name: String,
    content_type: String,
    size: u64,
}

async fn on_http(app: &App, req: &ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
    let method = req.request_context.http.method.as_str().to_owned();
    let path = req.raw_path.clone().unwrap_or_default();
    let Some(keys) = reporter(app, req) else {
        return error(401, "unauthenticated", "请在微信中打开并登录");
    };
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').skip(3).collect();
    match (method.as_str(), segs.as_slice()) {
        ("POST", ["uploads"]) => authorise(app, req, keys).await,
        ("GET", ["uploads", id]) => status(app, &keys, id).await,
        _ => error(404, "no_route", "未找到"),
    }
}

async fn authorise(
    app: &App,
    req: &ApiGatewayV2httpRequest,
    keys: ReporterKeys,
) -> ApiGatewayV2httpResponse {
    let owner = keys.current().clone();
    let body = req.body.as_deref().unwrap_or_default();
    let bytes = if req.is_base64_encoded {
        match base64::engine::general_purpose::STANDARD.decode(body) {
            Ok(b) => b,
            Err(_) => return error(400, "bad_json", "请求格式错误"),
        }
    } else {
        body.as_bytes().to_vec()
    };
    if bytes.len() > 8 * 1024 {
        return error(413, "body_too_large", "请求内容过大");
    }
    let Ok(form) = serde_json::from_slice::<UploadForm>(&bytes) else {
        return error(400, "bad_json", "请求格式错误");
    };
    if form.file_name.chars().count() > 200 {
        return error(400, "invalid_file_name", "文件名过长");
    }
    let Some(k) = kind::by_type(&form.content_type) else {
        return error(
            400,
            "type_not_allowed",
            "仅支持JPG、PNG、WEBP照片，MP4视频和PDF文件",
        );
    };
    if form.size == 0 || form.size > k.max_bytes {
        return error(
            400,
            "too_large",
            &format!("该类型文件最大{}MB", k.max_bytes / 1024 / 1024),
        );
    }
    let now = Utc::now();
    match limits::admit(&app.records, &keys, now).await {
        Ok(Ok(())) => {}
        Ok(Err(refusal)) => {
            tracing::info!(code = refusal.code(), "upload not authorised");
            return error(
                i64::from(refusal.status()),
                refusal.code(),
                refusal.message(),
            );
        }
        Err(e) => {
            tracing::error!(code = e.code(), "upload limits not read");
            return error(503, "unavailable", "服务暂时不可用，请稍后再试");
        }
    }
    let id = match AttachmentId::parse(&format!("a{}", uuid::Uuid::new_v4().simple())) {
        Ok(id) => id,
        Err(_) => return error(500, "internal", "服务暂时不可用"),
    };
    let record = Attachment {
        id: id.clone(),
        owner: owner.clone(),
        declared_type: k.content_type.to_owned(),
        declared_size: form.size,
        source: AttachmentSource::Upload,
        status: AttachmentStatus::Pending,
        created_at: now,
    };
    if let Err(e) = app.records.create_attachment(&record).await {
        tracing::error!(code = e.code(), "attachment record not created");
        return error(503, "unavailable", "服务暂时不可用，请稍后再试");
    }
    let Some(provider) = app.aws.credentials_provider() else {
        return error(503, "unavailable", "服务暂时不可用，请稍后再试");
    };
    let creds = match provider.provide_credentials().await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "no credentials to sign uploads");
            return error(503, "unavailable", "服务暂时不可用，请稍后再试");
        }
    };
    let signer = Signer {
        access_key_id: creds.access_key_id().to_owned(),
        secret_access_key: creds.secret_access_key().to_owned(),
        session_token: creds.session_token().map(str::to_owned),
        region: app
            .aws
            .region()
            .map_or_else(|| "us-east-1".to_owned(), |r| r.to_string()),
    };
    let post = presign_post(
        &signer,
        app.upload_url.clone(),
        &app.bucket,
        &incoming_key(&owner, &id),
        k.content_type,
        k.max_bytes,
        now,
    );
    respond(
        201,
        json!({"attachment_id": id.to_string(), "url": post.url, "fields": post.fields}),
    )
}

async fn status(app: &App, keys: &ReporterKeys, id: &str) -> ApiGatewayV2httpResponse {
    let Ok(id) = AttachmentId::parse(id) else {
        return error(404, "attachment_not_found", "未找到");
    };
    match app.records.attachment(&id).await {
        Ok(Some(a)) if keys.holds(&a.owner) => match a.status {
            AttachmentStatus::Rejected { reason } => {
                let message = match reason.as_str() {
                    "too_large" => "文件过大",
                    "empty" => "文件为空",
                    "download_failed" => "照片下载失败",
                    _ => "文件类型不符合要求（仅支持照片、视频和PDF）",
                };
                respond(
                    200,
                    json!({"status": "rejected", "reason": message, "code": reason}),
                )
            }
            s => respond(200, json!({"status": s.code()})),
        },
        Ok(_) => error(404, "attachment_not_found", "未找到"),
        Err(e) => {
            tracing::error!(code = e.code(), "attachment read failed");
            error(503, "unavailable", "服务暂时不可用，请稍后再试")
        }
    }
}

/// Handles each queue record on its own; one that fails (or cannot be read) is a batch item
/// failure and comes back.
async fn on_messages(app: &App, event: SqsEvent) -> SqsBatchResponse {
    let objects = Objects {
        s3: &app.s3,
        bucket: &app.bucket,
    };
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let message_id = record.message_id.clone().unwrap_or_default();
        let body = record.body.as_deref().unwrap_or_default();
        let ok = match queue::parse(body) {
            Some(Message::Stored(keys)) => {
                let mut ok = true;
                for key in keys {
                    match objects.process(&app.records, &key).await {
                        Ok(outcome) => tracing::info!(%message_id, ?outcome, "object processed"),
                        Err(e) => {
                            tracing::error!(%message_id, error = %e, "object processing failed");
                            ok = false;
                        }
                    }
                }
                ok
            }
            Some(Message::Media(attachment)) => {
                match objects
                    .fetch_media(&app.records, &app.wechat, &attachment)
                    .await
                {
                    Ok(()) => true,
                    Err(e) => {
                        tracing::warn!(%message_id, error = %e, "chat photo download failed; retried");
                        false
                    }
                }
            }
            Some(Message::S3Test) => true,
            None => {
                tracing::warn!(%message_id, "unreadable record; it returns to the queue");
                false
            }
        };
        if !ok {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message_id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_http_api_request_is_not_taken_for_a_queue_batch() {
        let req = r#"{"version":"2.0","routeKey":"POST /api/reporter/uploads","rawPath":"/api/reporter/uploads","rawQueryString":"","headers":{},"requestContext":{"accountId":"1","apiId":"a","domainName":"d","domainPrefix":"d","http":{"method":"POST","path":"/api/reporter/uploads","protocol":"HTTP/1.1","sourceIp":"127.0.0.1","userAgent":"t"},"requestId":"r","routeKey":"POST /api/reporter/uploads","stage":"$default","time":"t","timeEpoch":0},"isBase64Encoded":false}"#;
        assert!(matches!(
            serde_json::from_str::<Event>(req),
            Ok(Event::Http(_))
        ));
        assert!(matches!(
            serde_json::from_str::<Event>(r#"{"Records":[]}"#),
            Ok(Event::Sqs(_))
        ));
    }
}
