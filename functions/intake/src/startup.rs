//! Start-up shared by the two edges' binaries (`intake`, `callback`): what template.yaml gives
//! both ([`CoreConfig`]), the official account's secret ([`WechatSecret`]) and the reporting core
//! on DynamoDB, SQS and KMS ([`reporting`]), so neither binary repeats the other's wiring.

use keyring::Keyring;
use outbox::SqsNoticeQueue;
use runtime::secrets::{SecretError, secret_string};
use runtime::{ConfigError, optional_env, required_env};
use secrecy::SecretString;
use store::{DynamoClueStore, ReporterKeyer, ReportingStore, StoreConfig, StoreError};

use crate::ports::SqsMediaQueue;
use crate::{PublicOrigin, Reporting, surge};

/// The reporting core on AWS.
pub type AwsReporting = Reporting<DynamoClueStore, ReportingStore, SqsNoticeQueue, SqsMediaQueue>;

/// What template.yaml gives both edges.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    pub table_name: String,
    pub notice_queue_url: String,
    pub attachment_events_queue_url: String,
    pub pii_key_id: String,
    pub wechat_secret_arn: String,
    pub reporter_key_secret_arn: String,
    pub public_origin: PublicOrigin,
    pub stack_name: String,
    pub surge_per_hour: u32,
}

impl CoreConfig {
    /// # Errors
    /// [`ConfigError`] naming the missing or invalid variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: required_env("TABLE_NAME")?,
            notice_queue_url: required_env("NOTICE_QUEUE_URL")?,
            attachment_events_queue_url: required_env("ATTACHMENT_EVENTS_QUEUE_URL")?,
            pii_key_id: required_env("PII_KEY_ID")?,
            wechat_secret_arn: required_env("WECHAT_SECRET_ARN")?,
            reporter_key_secret_arn: required_env("REPORTER_KEY_SECRET_ARN")?,
            public_origin: PublicOrigin::parse(&required_env("PUBLIC_ORIGIN")?).map_err(|e| {
                ConfigError::Invalid {
                    name: "PUBLIC_ORIGIN",
                    source: Box::new(e),
                }
            })?,
            stack_name: required_env("STACK_NAME")?,
            surge_per_hour: match optional_env("DIVISION_SURGE_PER_HOUR") {
                None => surge::DEFAULT_PER_HOUR,
                Some(v) => v.parse().map_err(|e| ConfigError::Invalid {
                    name: "DIVISION_SURGE_PER_HOUR",
                    source: Box::new(e),
                })?,
            },
        })
    }
}

/// The official account's credentials (`<stack>/wechat`).
#[derive(serde::Deserialize)]
pub struct WechatSecret {
    pub appid: String,
    secret: String,
    token: String,
    #[serde(default)]
    pub encoding_aes_key: Option<String>,
}

impl WechatSecret {
    /// The AppSecret (OAuth code exchange, API calls).
    pub fn secret(&self) -> SecretString {
        SecretString::from(self.secret.clone())
    }

    /// The callback's token (signatures).
    pub fn token(&self) -> SecretString {
        SecretString::from(self.token.clone())
    }
}

/// Why start-up failed (the binaries answer 503 and try again on the next request).
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("{0} holds no {1}")]
    Malformed(&'static str, &'static str),
    #[error("the reporting store cannot be built")]
    Store(#[source] StoreError),
}

/// Reads and parses the official account's secret.
///
/// # Errors
/// [`StartupError`] for a failed read or a document without the fields.
pub async fn wechat_secret(
    secrets: &aws_sdk_secretsmanager::Client,
    arn: &str,
) -> Result<WechatSecret, StartupError> {
    serde_json::from_str(&secret_string(secrets, arn).await?).map_err(|_| {
        StartupError::Malformed(
            "WECHAT_SECRET_ARN",
            "{appid, secret, token, encoding_aes_key} JSON",
        )
    })
}

/// A versioned secret (`{"version", "current", "previous"}`) named by the variable `name`.
///
/// # Errors
/// [`StartupError`] for a failed read or a malformed document.
pub async fn keyring(
    secrets: &aws_sdk_secretsmanager::Client,
    name: &'static str,
    arn: &str,
) -> Result<Keyring, StartupError> {
    Keyring::from_json(&secret_string(secrets, arn).await?).map_err(|_| {
        StartupError::Malformed(
            name,
            "{\"version\", \"current\", \"previous\"} of at least 32 characters each",
        )
    })
}

/// The reporting core: the store with the vault and every live reporter-key version, the side
/// table, the notice and media queues.
///
/// # Errors
/// [`StartupError`] for an unreadable reporter-key secret.
pub async fn reporting(
    config: &CoreConfig,
    aws: &aws_config::SdkConfig,
    secrets: &aws_sdk_secretsmanager::Client,
) -> Result<AwsReporting, StartupError> {
    let ring = keyring(
        secrets,
        "REPORTER_KEY_SECRET_ARN",
        &config.reporter_key_secret_arn,
    )
    .await?;
    let key_secrets = store::vault::reporter_key_secrets(&ring);
    let (current_key, previous_keys) = key_secrets.split_first().ok_or(StartupError::Malformed(
        "REPORTER_KEY_SECRET_ARN",
        "version",
    ))?;
    let dynamodb = aws_sdk_dynamodb::Client::new(aws);
    let store = DynamoClueStore::new(
        dynamodb.clone(),
        aws_sdk_kms::Client::new(aws),
        StoreConfig::new(&config.table_name, &config.pii_key_id, current_key.clone())
            .with_previous_reporter_keys(previous_keys.to_vec()),
    )
    .map_err(StartupError::Store)?;
    let sqs = aws_sdk_sqs::Client::new(aws);
    Ok(Reporting {
        store,
        side: ReportingStore::new(dynamodb, &config.table_name),
        notices: SqsNoticeQueue::new(sqs.clone(), &config.notice_queue_url),
        media: SqsMediaQueue {
            client: sqs,
            url: config.attachment_events_queue_url.clone(),
        },
        keyer: ReporterKeyer::versioned(key_secrets.clone()).map_err(StartupError::Store)?,
        public: config.public_origin.clone(),
        surge: surge::Surge::new(config.surge_per_hour, &config.stack_name),
    })
}

/// An edge of the reporting core as Lambda runs it: one request in, one answer out.
pub trait Edge: Send + Sync {
    /// Answers one request.
    fn answer(
        &self,
        req: &crate::Req,
        now: chrono::DateTime<chrono::Utc>,
    ) -> impl std::future::Future<Output = crate::Resp> + Send;
}

impl<S, R, Q, M> Edge for crate::App<S, R, Q, M>
where
    S: store::ClueStore + store::ReminderIssuer,
    R: crate::ports::Side,
    Q: outbox::NoticeQueue,
    M: crate::ports::MediaQueue,
{
    async fn answer(&self, req: &crate::Req, now: chrono::DateTime<chrono::Utc>) -> crate::Resp {
        self.handle(req, now).await
    }
}

impl<S, R, Q, M> Edge for crate::callback::CallbackApp<S, R, Q, M>
where
    S: store::ClueStore,
    R: crate::ports::Side,
    Q: outbox::NoticeQueue,
    M: crate::ports::MediaQueue,
{
    async fn answer(&self, req: &crate::Req, now: chrono::DateTime<chrono::Utc>) -> crate::Resp {
        self.handle(req, now).await
    }
}

/// Runs an edge in Lambda. The app is built by `build` on the first request, not at init, so a
/// cold start costs no Secrets Manager round trips before the runtime asks for work; a failed
/// build answers 503 and the next request tries again (the app is built once, when it succeeds).
///
/// # Errors
/// The Lambda runtime's.
pub async fn serve<'a, C, A, F, Fut>(
    config: &'a C,
    aws: &'a aws_config::SdkConfig,
    build: F,
) -> Result<(), lambda_http::Error>
where
    C: Sync,
    A: Edge,
    F: Fn(&'a C, &'a aws_config::SdkConfig) -> Fut + Sync,
    Fut: std::future::Future<Output = anyhow::Result<A>> + Send + 'a,
{
    let app = tokio::sync::OnceCell::new();
    let (app, build) = (&app, &build);
    lambda_http::run(lambda_http::service_fn(
        move |req: lambda_http::Request| async move {
            let resp = match app.get_or_try_init(|| build(config, aws)).await {
                Ok(app) => {
                    app.answer(&crate::Req::from_lambda(&req), chrono::Utc::now())
                        .await
                }
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "start-up (secrets) failed; the next request retries");
                    crate::ApiError::unavailable().into_resp()
                }
            };
            resp.into_lambda().map_err(lambda_http::Error::from)
        },
    ))
    .await
}
