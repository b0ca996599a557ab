//! The notify test bench: moto (serialised, `template.yaml` deployed with short queue timings),
//! the fake WeChat API in-process on port 0, the store, and a poller that feeds `notice.fifo` to
//! the [`Notifier`] as Lambda's SQS event source does (batches of 10, partial batch failures,
//! delete what succeeded).
#![allow(dead_code)]

pub use testkit::store_env as fixtures;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::SqsMessage;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use fixtures::{SECRET, bureaus};
use notify::{
    Backoff, BatchReport, Notifier, ReminderTemplate, Sender, SqsVisibility, SystemClock, Template,
};
use outbox::SqsNoticeQueue;
use secrecy::SecretString;
use serde_json::{Value, json};
use store::{DynamoClueStore, StoreConfig};
use wechat::{ApiClient, ApiConfig, InMemoryTokenCache};

pub const MAX_RECEIVE_COUNT: u32 = 6;

pub type Api = ApiClient<InMemoryTokenCache>;

pub struct Bench {
    _moto: testkit::MotoServer,
    pub endpoint: String,
    pub store: DynamoClueStore,
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub dlq_url: String,
    pub stack_path: std::path::PathBuf,
    pub sim_url: String,
    pub http: reqwest::Client,
}

pub fn template() -> Template {
    Template {
        template_id: "tpl_clue_result".into(),
        clue_no_field: "character_string1".into(),
        outcome_field: "phrase2".into(),
        date_field: "time3".into(),
        page_url: "http://h5.local/h5/index.html#/notices/{clue}/{notice}".into(),
    }
}

pub fn reminder_template() -> ReminderTemplate {
    ReminderTemplate {
        template_id: "tpl_officer_reminder".into(),
        clue_no_field: "character_string1".into(),
        kind_field: "phrase2".into(),
        due_field: "time3".into(),
        page_url: "http://console.local/officer/index.html#/reminders/{reminder}".into(),
    }
}

impl Bench {
    pub async fn start() -> Self {
        let (moto, stack) = tokio::task::spawn_blocking(|| {
            let moto = testkit::MotoServer::start();
            let stack = testkit::Deploy::new(&moto.endpoint())
                .param("QueueVisibilityTimeout", "30")
                .param("MaxReceiveCount", &MAX_RECEIVE_COUNT.to_string())
                .run()
                .expect("deploy template.yaml");
            testkit::disable_event_source_mappings(&moto.endpoint());
            (moto, stack)
        })
        .await
        .expect("start moto");
        let endpoint = moto.endpoint();
        let creds = Credentials::new("test", "test", None, None, "tests");
        let db = fixtures::dynamodb_client(&endpoint);
        let kms = fixtures::kms_client(&endpoint);
        let sqs = aws_sdk_sqs::Client::from_conf(
            aws_sdk_sqs::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .endpoint_url(&endpoint)
                .region(Region::new("us-east-1"))
                .credentials_provider(creds)
                .build(),
        );
        let store = DynamoClueStore::new(
            db,
            kms,
            StoreConfig::new(
                stack.table_name(),
                stack.physical_id("PiiKey"),
                SECRET.to_vec(),
            ),
        )
        .expect("store");
        for b in bureaus() {
            store.put_bureau(&b).await.expect("bureau");
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let (addr, _task) =
            wechat_sim::spawn(listener, wechat_sim::Config::default()).expect("sim");
        Self {
            _moto: moto,
            endpoint,
            store,
            sqs,
            queue_url: stack.physical_id("NoticeQueue"),
            dlq_url: stack.physical_id("NoticeDeadLetterQueue"),
            stack_path: stack.path().to_path_buf(),
            sim_url: format!("http://{addr}"),
            http: reqwest::Client::new(),
        }
    }

    /// A WeChat API client on the simulator; answers slower than `timeout` are timeouts.
    pub fn api(&self, timeout: Duration) -> Api {
        let mut cfg = ApiConfig::new(
            url::Url::parse(&format!("{}/", self.sim_url)).expect("url"),
            wechat_sim::defaults::APPID,
            SecretString::from(wechat_sim::defaults::SECRET),
        );
        cfg.timeout = timeout;
        ApiClient::new(cfg, InMemoryTokenCache::new()).expect("api client")
    }

    pub fn notifier<S: Sender>(
        &self,
        sender: S,
    ) -> Notifier<&DynamoClueStore, S, SystemClock, SqsVisibility> {
        Notifier {
            store: &self.store,
            sender,
            clock: SystemClock,
            visibility: SqsVisibility {
                client: self.sqs.clone(),
                queue_url: self.queue_url.clone(),
            },
            template: template(),
            reminders: reminder_template(),
            backoff: Backoff {
                base: Duration::from_secs(1),
                max: Duration::from_secs(2),
            },
        }
    }

    pub fn queue(&self) -> SqsNoticeQueue {
        SqsNoticeQueue::new(self.sqs.clone(), &self.queue_url)
    }

    // ------------------------------------------------------------------ the fake WeChat API

    pub async fn sim_post(&self, path: &str, body: Value) -> Value {
        self.http
            .post(format!("{}{path}", self.sim_url))
            .json(&body)
            .send()
            .await
            .expect("sim")
            .json()
            .await
            .unwrap_or(Value::Null)
    }

    pub async fn add_user(&self, openid: &str) {
        self.sim_post(
            "/_sim/users",
            json!({ "openid": openid, "nickname": "举报人" }),
        )
        .await;
    }

    pub async fn set_faults(&self, faults: Value) {
        let r = self.sim_post("/_sim/faults", faults).await;
        assert!(r.is_object(), "faults refused: {r}");
    }

    pub async fn expire_tokens(&self) {
        self.sim_post("/_sim/tokens/expire", json!({})).await;
    }

    /// Everything the fake API delivered, in order.
    pub async fn delivered(&self) -> Vec<wechat_sim::Delivered> {
        self.http
            .get(format!("{}/_sim/messages", self.sim_url))
            .send()
            .await
            .expect("sim")
            .json()
            .await
            .expect("messages")
    }

    // ------------------------------------------------------------------ the queue

    /// Receives up to 10 messages as Lambda's event source does.
    pub async fn receive(&self, queue_url: &str, wait: i32) -> Vec<SqsMessage> {
        let out = self
            .sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .wait_time_seconds(wait)
            .send()
            .await
            .expect("receive");
        out.messages()
            .iter()
            .map(|m| {
                let mut r = SqsMessage::default();
                r.message_id = m.message_id().map(str::to_owned);
                r.receipt_handle = m.receipt_handle().map(str::to_owned);
                r.body = m.body().map(str::to_owned);
                r.attributes = m
                    .attributes()
                    .map(|a| {
                        a.iter()
                            .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
                            .collect::<HashMap<_, _>>()
                    })
                    .unwrap_or_default();
                r
            })
            .collect()
    }

    /// Deletes the records not reported as failures.
    pub async fn delete_done(&self, records: &[SqsMessage], failed: &[String]) {
        let entries: Vec<_> = records
            .iter()
            .filter(|r| !failed.contains(r.message_id.as_ref().expect("id")))
            .enumerate()
            .map(|(i, r)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(r.receipt_handle.clone().expect("handle"))
                    .build()
                    .expect("entry")
            })
            .collect();
        if entries.is_empty() {
            return;
        }
        let out = self
            .sqs
            .delete_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .expect("delete");
        assert!(out.failed().is_empty(), "delete failed: {:?}", out.failed());
    }

    /// Messages in a queue: (visible, in flight).
    pub async fn depth(&self, queue_url: &str) -> (u64, u64) {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let out = self
            .sqs
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .expect("attributes");
        let get = |a: A| {
            out.attributes()
                .and_then(|m| m.get(&a))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (
            get(A::ApproximateNumberOfMessages),
            get(A::ApproximateNumberOfMessagesNotVisible),
        )
    }

    /// Runs `workers` pollers on `notice.fifo` until it is empty (nothing visible or in flight)
    /// or `limit` passes; `between` runs after every batch (e.g. to expire the token once).
    pub async fn drain<S: Sender>(
        &self,
        notifier: &Notifier<&DynamoClueStore, S, SystemClock, SqsVisibility>,
        workers: usize,
        limit: Duration,
        expire_token_after_batch: Option<usize>,
    ) -> DrainReport {
        let started = Instant::now();
        let batches = std::sync::atomic::AtomicUsize::new(0);
        let totals = std::sync::Mutex::new(DrainReport::default());
        let worker = || async {
            loop {
                assert!(started.elapsed() < limit, "queue not drained in {limit:?}");
                let records = self.receive(&self.queue_url, 1).await;
                if records.is_empty() {
                    if self.depth(&self.queue_url).await == (0, 0) {
                        return;
                    }
                    continue;
                }
                let (response, report) = notifier.handle(&records).await;
                let failed: Vec<String> = response
                    .batch_item_failures
                    .iter()
                    .map(|f| f.item_identifier.clone())
                    .collect();
                self.delete_done(&records, &failed).await;
                let n = batches.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                if expire_token_after_batch == Some(n) {
                    self.expire_tokens().await;
                }
                let mut t = totals.lock().expect("lock");
                t.batches += 1;
                t.records += records.len();
                t.add(&report);
            }
        };
        // The pollers run concurrently, as Lambda's event source runs several instances.
        futures_util::future::join_all((0..workers).map(|_| worker())).await;
        let mut t = totals.into_inner().expect("lock");
        t.elapsed = started.elapsed();
        t
    }

    /// Runs `infra/stack/redrive.py` on this stack (what `infra/dev redrive` runs).
    pub fn redrive(&self) -> String {
        let out = std::process::Command::new(testkit::venv_bin("python"))
            .arg(testkit::workspace_root().join("infra/stack/redrive.py"))
            .arg("--stack")
            .arg(&self.stack_path)
            .output()
            .expect("run redrive.py");
        assert!(
            out.status.success(),
            "redrive failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

#[derive(Debug, Default, Clone)]
pub struct DrainReport {
    pub batches: usize,
    pub records: usize,
    pub sent: usize,
    pub already_final: usize,
    pub undeliverable: usize,
    pub retried: usize,
    pub held_back: usize,
    pub elapsed: Duration,
}

impl DrainReport {
    fn add(&mut self, r: &BatchReport) {
        self.sent += r.sent;
        self.already_final += r.already_final;
        self.undeliverable += r.undeliverable;
        self.retried += r.retried;
        self.held_back += r.held_back;
    }
}

/// The notice texts of annex 3 (the repository's copy of the spec's `notices.md`), by key, slots
/// as written (`{date}`…).
pub fn spec_texts() -> BTreeMap<String, String> {
    let path = testkit::workspace_root().join("shared/domain/tests/fixtures/notices.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| l.starts_with("| `"))
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            Some((
                cells.get(1)?.trim_matches('`').to_owned(),
                (*cells.get(3)?).to_owned(),
            ))
        })
        .collect()
}

/// The notice id in a subscribe message's link.
pub fn notice_of(d: &wechat_sim::Delivered) -> Option<String> {
    let page = d.body.get("page")?.as_str()?;
    Some(page.rsplit('/').next()?.to_owned())
}
