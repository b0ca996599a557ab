//! Support of the local stack tests: the local host as a child process, the AWS SDK config
//! for the emulator, officers with sign-in accounts.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use testkit::Stack;

/// The region the tests deploy to: the platform runs in the AWS China regions.
pub const REGION: &str = "cn-north-1";
/// The platform's public origin in these tests: the officer token issuer.
pub const ORIGIN: &str = "https://12336.example.cn";

/// The directory holding the function binaries: the one this test binary was built into.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .to_path_buf();
    for f in [
        "intake",
        "callback",
        "attachments",
        "auth",
        "judgment",
        "deadline-sweep",
        "notify",
        "export",
        "web",
    ] {
        assert!(
            dir.join(f).exists(),
            "{} is missing: build the functions first (cargo build --workspace --bins; infra/dev test does)",
            dir.join(f).display()
        );
    }
    dir
}

/// A running local host; killed on drop.
pub struct LocalHost {
    child: Child,
    pub api: String,
    pub control: String,
    pub output: Arc<Mutex<Vec<String>>>,
}

impl LocalHost {
    pub fn start(stack: &Stack, target_dir: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_local-host"))
            .arg("--stack")
            .arg(stack.path())
            .arg("--target-dir")
            .arg(target_dir)
            .args([
                "--api",
                "127.0.0.1:0",
                "--control",
                "127.0.0.1:0",
                "--no-schedule-timers",
                // alarms are evaluated when a test asks (`POST /alarms/evaluate`)
                "--alarm-interval",
                "3600",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start local-host");
        let output = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let output = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if line.starts_with("api=") {
                        let _ = tx.send(line.clone());
                    }
                    output.lock().expect("lock").push(line);
                }
            });
        }
        {
            let output = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    output.lock().expect("lock").push(line);
                }
            });
        }
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| {
                panic!(
                    "local-host did not start:\n{}",
                    output.lock().expect("lock").join("\n")
                )
            });
        let mut parts = line.split_whitespace();
        let api = parts
            .next()
            .and_then(|p| p.strip_prefix("api="))
            .expect("api")
            .to_owned();
        let control = parts
            .next()
            .and_then(|p| p.strip_prefix("control="))
            .expect("control")
            .to_owned();
        Self {
            child,
            api: format!("http://{api}"),
            control: format!("http://{control}"),
            output,
        }
    }

    /// Evaluates the alarms now; the state of the alarm `logical`.
    pub async fn alarm_state(&self, logical: &str) -> String {
        let v: Value = reqwest::Client::new()
            .post(format!("{}/alarms/evaluate", self.control))
            .send()
            .await
            .expect("control")
            .json()
            .await
            .expect("json");
        v.as_array()
            .into_iter()
            .flatten()
            .find(|a| a["logical_id"] == logical)
            .and_then(|a| a["state"].as_str())
            .unwrap_or_else(|| panic!("no alarm {logical} in {v}"))
            .to_owned()
    }

    /// Evaluates the alarms until `logical` is in `state` (the function's output reaches the
    /// host a moment after its answer); bounded.
    pub async fn wait_alarm(&self, logical: &str, state: &str) {
        let mut last = String::new();
        for _ in 0..50 {
            last = self.alarm_state(logical).await;
            if last == state {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("{logical} stayed {last}, expected {state}");
    }

    pub async fn invocations(&self, function: &str) -> Vec<Value> {
        let url = format!("{}/invocations?function={function}", self.control);
        let v: Value = reqwest::get(url)
            .await
            .expect("control")
            .json()
            .await
            .expect("json");
        v.as_array().cloned().unwrap_or_default()
    }

    /// Waits until an invocation of `function` satisfies `pred`.
    pub async fn wait_invocation(
        &self,
        function: &str,
        what: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let started = Instant::now();
        loop {
            if let Some(inv) = self
                .invocations(function)
                .await
                .into_iter()
                .find(|i| pred(i))
            {
                return inv;
            }
            assert!(
                started.elapsed() < Duration::from_secs(40),
                "{function} never received {what}; host output:\n{}",
                self.output.lock().expect("lock").join("\n")
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for LocalHost {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn aws(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .load()
        .await
}

pub fn now_unix() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs(),
    )
    .expect("i64")
}

/// Puts `bureau` (a `domain::Bureau` as JSON) and an officer `id` of it with `roles` and a
/// sign-in account `user`/`password` (password changed, TOTP enrolled) into the stack's table;
/// the TOTP secret.
pub async fn create_officer(
    stack: &Stack,
    bureau: Value,
    id: &str,
    roles: &[domain::Role],
    user: &str,
    password: &str,
) -> String {
    use store::Accounts;
    let aws = aws(stack.endpoint()).await;
    let store = store::DynamoClueStore::new(
        aws_sdk_dynamodb::Client::new(&aws),
        aws_sdk_kms::Client::new(&aws),
        store::StoreConfig::without_reporter_keys(stack.table_name(), stack.physical_id("PiiKey")),
    )
    .expect("store");
    let bureau: domain::Bureau = serde_json::from_value(bureau).expect("bureau");
    store.put_bureau(&bureau).await.expect("bureau");
    let officer = domain::Officer {
        id: domain::OfficerId::parse(id).expect("id"),
        bureau: bureau.id.clone(),
        roles: roles.iter().copied().collect(),
    };
    let hash = auth::password::hash(password).expect("hash");
    assert!(
        store
            .create_officer_account(&officer, user, &hash)
            .await
            .expect("create")
    );
    store
        .set_password(&officer.id, &hash, false)
        .await
        .expect("password");
    let secret = auth::totp::new_secret().expect("secret");
    store
        .set_totp_pending(&officer.id, &secret)
        .await
        .expect("pending");
    assert!(
        store
            .confirm_totp(&officer.id, &secret, 1)
            .await
            .expect("confirm")
    );
    secret
}
