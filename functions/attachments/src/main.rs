//! `attachments`: two event sources, one binary (see the library docs).
//! - HTTP API: `POST /api/reporter/uploads` and `GET /api/reporter/uploads/{id}`.
//! - the attachment-events queue: S3 `ObjectCreated` notifications and chat-photo downloads;
//!   partial batch failures so only failed records are retried.

use anyhow::Context;
use api::{ApiError, Req, Resp};
use attachments::presign::{Signer, bucket_url, presign_post};
use attachments::process::Objects;
use attachments::queue::{self, Message};
use attachments::routes::{ROUTES, Route, rejection_message};
use attachments::token_cache::TableTokenCache;
use attachments::{kind, limits};
use aws_credential_types::provider::ProvideCredentials;
use aws_lambda_events::event::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
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
    wechat: ApiClient<TableTokenCache>,
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
        TableTokenCache(records.clone()),
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
        Event::Http(req) => {
            Output::Http(Box::new(on_http(app, &Req::from_v2(*req)).await.into_v2()))
        }
    })
}

/// The reporter of a request, by the session cookie.
fn reporter(app: &App, req: &Req) -> Result<ReporterKeys, ApiError> {
    let session = req
        .cookie(SESSION_COOKIE)
        .and_then(|v| app.session.open(v, Utc::now().timestamp()).ok())
        .ok_or_else(ApiError::unauthenticated)?;
    Ok(app.keyer.keys(&session.openid))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadForm {
    file_name: String,
    content_type: String,
    size: u64,
}

async fn on_http(app: &App, req: &Req) -> Resp {
    let answer = async {
        let matched = ROUTES.route(&req.method, &req.path)?;
        let keys = reporter(app, req)?;
        match matched.route {
            Route::Authorise => authorise(app, req, keys).await,
            Route::Status => status(app, &keys, matched.param("id")).await,
        }
    };
    answer.await.unwrap_or_else(ApiError::into_resp)
}

async fn authorise(app: &App, req: &Req, keys: ReporterKeys) -> Result<Resp, ApiError> {
    let owner = keys.current().clone();
    if req.body.len() > 8 * 1024 {
        return Err(ApiError::new(413, "body_too_large", "请求内容过大"));
    }
    let form = serde_json::from_slice::<UploadForm>(&req.body)
        .map_err(|_| ApiError::bad_request("bad_json", "请求格式错误"))?;
    if form.file_name.chars().count() > 200 {
        return Err(ApiError::bad_request("invalid_file_name", "文件名过长"));
    }
    let k = kind::by_type(&form.content_type).ok_or_else(|| {
        ApiError::bad_request(
            "type_not_allowed",
            "仅支持JPG、PNG、WEBP照片，MP4视频和PDF文件",
        )
    })?;
    if form.size == 0 || form.size > k.max_bytes {
        return Err(ApiError::bad_request(
            "too_large",
            format!("该类型文件最大{}MB", k.max_bytes / 1024 / 1024),
        ));
    }
    let now = Utc::now();
    match limits::admit(&app.records, &keys, now).await {
        Ok(Ok(())) => {}
        Ok(Err(refusal)) => {
            tracing::info!(code = refusal.code(), "upload not authorised");
            return Err(ApiError::new(
                refusal.status(),
                refusal.code(),
                refusal.message(),
            ));
        }
        Err(e) => {
            tracing::error!(code = e.code(), "upload limits not read");
            return Err(ApiError::unavailable());
        }
    }
    let id = AttachmentId::parse(&format!("a{}", uuid::Uuid::new_v4().simple()))
        .map_err(|_| ApiError::new(500, "internal", "服务暂时不可用"))?;
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
        return Err(ApiError::unavailable());
    }
    let provider = app
        .aws
        .credentials_provider()
        .ok_or_else(ApiError::unavailable)?;
    let creds = provider.provide_credentials().await.map_err(|e| {
        tracing::error!(error = %e, "no credentials to sign uploads");
        ApiError::unavailable()
    })?;
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
    Ok(Resp::json(
        201,
        &json!({"attachment_id": id.to_string(), "url": post.url, "fields": post.fields}),
    ))
}

async fn status(app: &App, keys: &ReporterKeys, id: &str) -> Result<Resp, ApiError> {
    let id = AttachmentId::parse(id).map_err(|_| ApiError::not_found("attachment_not_found"))?;
    match app.records.attachment(&id).await {
        Ok(Some(a)) if keys.holds(&a.owner) => Ok(match a.status {
            AttachmentStatus::Rejected { reason } => Resp::json(
                200,
                &json!({"status": "rejected", "reason": rejection_message(&reason), "code": reason}),
            ),
            s => Resp::json(200, &json!({"status": s.code()})),
        }),
        Ok(_) => Err(ApiError::not_found("attachment_not_found")),
        Err(e) => {
            tracing::error!(code = e.code(), "attachment read failed");
            Err(ApiError::unavailable())
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
            Some(Message::Keep(ids)) => match objects.keep(&ids).await {
                Ok(()) => true,
                Err(e) => {
                    tracing::warn!(%message_id, error = %e, "keeping evidence failed; retried");
                    false
                }
            },
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
