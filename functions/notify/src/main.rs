//! `notify`: consumes `notice.fifo` and sends each notice to its reporter through WeChat.
//!
//! Start-up reads the configuration and builds the clients; the WeChat credentials are read
//! once, on the first send ([`LazyWechat`]). The handler hands each batch to
//! [`notify::Notifier`] and returns its partial batch failures. The rules (exactly once, retries, order per clue) are in the library.

use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use notify::{Backoff, Notifier, ReminderTemplate, SqsVisibility, SystemClock, Template};
use runtime::secrets::secret_string;
use runtime::{ConfigError, lambda_runtime, optional_env, required_env};
use secrecy::SecretString;
use store::DynamoClueStore;
use wechat::{ApiClient, ApiConfig, InMemoryTokenCache, SubscribeMessage, WechatError};

#[derive(Debug)]
struct Config {
    table_name: String,
    pii_key_id: String,
    notice_queue_url: String,
    wechat_secret_arn: String,
    wechat_api_base: url::Url,
    template: Template,
    reminders: ReminderTemplate,
    backoff: Backoff,
}

fn seconds(name: &'static str, default: u64) -> Result<Duration, ConfigError> {
    match optional_env(name) {
        None => Ok(Duration::from_secs(default)),
        Some(v) => v
            .parse()
            .map(Duration::from_secs)
            .map_err(|e| ConfigError::Invalid {
                name,
                source: Box::new(e),
            }),
    }
}

impl Config {
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: required_env("TABLE_NAME")?,
            pii_key_id: required_env("PII_KEY_ID")?,
            notice_queue_url: required_env("NOTICE_QUEUE_URL")?,
            wechat_secret_arn: required_env("WECHAT_SECRET_ARN")?,
            wechat_api_base: runtime::parsed_env("WECHAT_API_BASE")?,
            template: Template {
                template_id: required_env("NOTICE_TEMPLATE_ID")?,
                clue_no_field: required_env("NOTICE_FIELD_CLUE_NO")?,
                outcome_field: required_env("NOTICE_FIELD_OUTCOME")?,
                date_field: required_env("NOTICE_FIELD_DATE")?,
                page_url: required_env("NOTICE_PAGE_URL")?,
            },
            reminders: ReminderTemplate {
                template_id: required_env("REMINDER_TEMPLATE_ID")?,
                clue_no_field: required_env("REMINDER_FIELD_CLUE_NO")?,
                kind_field: required_env("REMINDER_FIELD_KIND")?,
                due_field: required_env("REMINDER_FIELD_DUE")?,
                page_url: required_env("REMINDER_PAGE_URL")?,
            },
            backoff: Backoff {
                base: seconds("RETRY_BASE_SECONDS", 10)?,
                max: seconds("RETRY_MAX_SECONDS", 300)?,
            },
        })
    }
}

/// The account's credentials from the `WeChatSecret` (`{"appid", "secret", …}`).
#[derive(serde::Deserialize)]
struct WechatCredentials {
    appid: String,
    secret: String,
}

/// The WeChat API client, built on the first send of the process (then kept for every later
/// batch): reading the secret (a Secrets Manager request, and with it the SDK's TLS setup) and
/// building the client's HTTPS stack (the system's root certificates again) are most of what
/// notify's start-up did, so they stay out of init. A failed read is retryable: the batch's
/// messages come back, and the next send reads again.
struct LazyWechat {
    secrets: aws_sdk_secretsmanager::Client,
    secret_arn: String,
    api_base: url::Url,
    api: tokio::sync::OnceCell<ApiClient<InMemoryTokenCache>>,
}

impl LazyWechat {
    async fn api(&self) -> Result<&ApiClient<InMemoryTokenCache>, WechatError> {
        self.api
            .get_or_try_init(|| async {
                let secret = secret_string(&self.secrets, &self.secret_arn)
                    .await
                    .map_err(|e| WechatError::Credentials(Box::new(e)))?;
                let credentials: WechatCredentials = serde_json::from_str(&secret)
                    .map_err(|e| WechatError::Credentials(Box::new(e)))?;
                // stable_token hands every instance the same token, so a per-instance cache is
                // enough.
                ApiClient::new(
                    ApiConfig::new(
                        self.api_base.clone(),
                        credentials.appid,
                        SecretString::from(credentials.secret),
                    ),
                    InMemoryTokenCache::new(),
                )
            })
            .await
    }
}

impl notify::Sender for LazyWechat {
    async fn subscribe(&self, message: &SubscribeMessage) -> Result<Option<String>, WechatError> {
        self.api().await?.subscribe(message).await
    }

    async fn text(&self, openid: &str, text: &str) -> Result<(), WechatError> {
        notify::Sender::text(self.api().await?, openid, text).await
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    let config = Config::from_env()?;
    let aws = runtime::aws_config().await;
    // The vault gives notices their recipient; notify keys no reporters (it reads clues by id).
    let store = DynamoClueStore::on_table(
        aws_sdk_dynamodb::Client::new(&aws),
        config.table_name.clone(),
    )
    .with_vault(aws_sdk_kms::Client::new(&aws), config.pii_key_id.clone());
    let sender = LazyWechat {
        secrets: aws_sdk_secretsmanager::Client::new(&aws),
        secret_arn: config.wechat_secret_arn,
        api_base: config.wechat_api_base,
        api: tokio::sync::OnceCell::new(),
    };
    let notifier = Notifier {
        store,
        sender,
        clock: SystemClock,
        visibility: SqsVisibility {
            client: aws_sdk_sqs::Client::new(&aws),
            queue_url: config.notice_queue_url,
        },
        template: config.template,
        reminders: config.reminders,
        backoff: config.backoff,
    };
    lambda_runtime::run(service_fn(|ev| handler(ev, &notifier))).await
}

async fn handler<D, S, C, V>(
    event: LambdaEvent<SqsEvent>,
    notifier: &Notifier<D, S, C, V>,
) -> Result<SqsBatchResponse, Error>
where
    D: notify::NoticeDeliveries + notify::ReminderDeliveries,
    S: notify::Sender,
    C: notify::Clock,
    V: notify::Visibility,
{
    Ok(notifier.handle(&event.payload.records).await.0)
}
