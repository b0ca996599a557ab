//! Test support for crates that need the AWS emulator.
//!
//! ```no_run
//! let moto = testkit::MotoServer::start();
//! let stack = testkit::deploy_template(&moto);
//! let table = stack.table_name(); // created from template.yaml, in this test's own moto
//! ```
//!
//! Each [`MotoServer`] is a fresh `moto_server` process on a free loopback port, killed when the
//! value is dropped, so tests never share emulator state. [`deploy_template`] runs the project's
//! deploy tool (`infra/stack/deploy.py`) on `template.yaml`: tests get the real table, queues,
//! bucket, user pool… never a second copy of their definitions.
//!
//! Both need the project's Python venv (`.venv`), which `infra/dev test` creates.
//!
//! # Layout
//! - [`MotoServer`]: start, endpoint, stop on drop.
//! - [`deploy_template`], [`Deploy`]: deploy `template.yaml` into a moto server.
//! - [`disable_event_source_mappings`]: the test consumes the queues, not the emulator.
//! - [`Stack`]: the deployed stack's physical names and attributes.
//! - [`requests`]: DynamoDB requests counted by operation and by the sending task's label.
//! - [`store_env`]: the store on moto with fixtures (`use testkit::store_env as support;`).

pub mod requests;
pub mod store_env;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Root of the workspace (the directory holding `template.yaml`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("testkit lives two levels below the workspace root")
        .to_path_buf()
}

/// The project's venv Python tool `name` (`.venv/bin/<name>`), or a panic that says how to get it.
pub fn venv_bin(name: &str) -> PathBuf {
    let path = workspace_root().join(".venv/bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run `infra/dev test` (or `infra/dev venv`) to create the project's venv",
        path.display()
    );
    path
}

/// A loopback TCP port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral loopback port")
}

/// Waits until something accepts TCP connections on `addr`.
///
/// # Errors
/// Returns `Err` with the time waited if nothing listens before `timeout`.
pub fn wait_for_port(addr: SocketAddr, timeout: Duration) -> Result<(), Duration> {
    let started = Instant::now();
    while started.elapsed() < timeout {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(started.elapsed())
}

/// A moto server process of this test alone (`infra/stack/moto_server.py`: DynamoDB requests
/// serialised), on a free loopback port. Dropping it kills it.
pub struct MotoServer {
    child: Child,
    port: u16,
}

impl MotoServer {
    /// Starts moto and waits until it accepts connections.
    ///
    /// # Panics
    /// If the venv is missing or moto does not come up within 30 s (tests want a loud failure).
    pub fn start() -> Self {
        // moto with DynamoDB requests serialised, as DynamoDB's transactions need (see the script).
        let python = venv_bin("python");
        let script = workspace_root().join("infra/stack/moto_server.py");
        for _attempt in 0..3 {
            let port = free_port();
            let mut child = Command::new(&python)
                .arg(&script)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn moto_server");
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let started = Instant::now();
            loop {
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    return Self { child, port };
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break; // lost the port race: try another one
                }
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "moto_server did not start"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("moto_server exited three times at start")
    }

    /// `http://127.0.0.1:<port>`, the value for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Disables every SQS event source mapping in the emulator: moto runs the template's mappings
/// itself (and, without Docker, loses the messages), so a test that is the queue's consumer (as
/// the local host is in `infra/dev up`) turns them off first.
///
/// # Panics
/// If the emulator refuses (tests want a loud failure).
pub fn disable_event_source_mappings(endpoint: &str) {
    let script = format!(
        "import boto3; c = boto3.client('lambda', endpoint_url='{endpoint}', \
         region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test')\n\
         for m in c.list_event_source_mappings()['EventSourceMappings']: \
         c.update_event_source_mapping(UUID=m['UUID'], Enabled=False)\n"
    );
    let out = Command::new(venv_bin("python"))
        .args(["-c", &script])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "disabling the emulator's event source mappings failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Deploys `template.yaml` with its default parameters into `moto`.
///
/// # Panics
/// If the deploy or its check that every resource exists fails.
pub fn deploy_template(moto: &MotoServer) -> Stack {
    Deploy::new(&moto.endpoint())
        .run()
        .expect("deploy template.yaml to moto")
}

/// A deploy of `template.yaml` with chosen parameters.
pub struct Deploy {
    endpoint: String,
    stack_name: String,
    region: String,
    params: Vec<(String, String)>,
    out_dir: PathBuf,
}

static DEPLOYS: AtomicU32 = AtomicU32::new(0);

impl Deploy {
    pub fn new(endpoint: &str) -> Self {
        let n = DEPLOYS.fetch_add(1, Ordering::Relaxed);
        let out_dir = std::env::temp_dir().join(format!("12336-stack-{}-{n}", std::process::id()));
        Self {
            endpoint: endpoint.to_owned(),
            stack_name: "test12336".to_owned(),
            region: "us-east-1".to_owned(),
            params: Vec::new(),
            out_dir,
        }
    }

    /// Sets a template parameter (e.g. `QueueVisibilityTimeout`).
    pub fn param(mut self, key: &str, value: &str) -> Self {
        self.params.push((key.to_owned(), value.to_owned()));
        self
    }

    /// The region to deploy to (default `us-east-1`); `cn-north-1` / `cn-northwest-1` deploy
    /// in partition `aws-cn`, as the platform runs in production.
    pub fn region(mut self, region: &str) -> Self {
        self.region = region.to_owned();
        self
    }

    pub fn stack_name(mut self, name: &str) -> Self {
        self.stack_name = name.to_owned();
        self
    }

    /// Runs `infra/stack/deploy.py deploy` and reads what it wrote.
    ///
    /// # Errors
    /// The deploy tool's output when it fails (including the list of missing resources).
    pub fn run(self) -> Result<Stack, String> {
        std::fs::create_dir_all(&self.out_dir).map_err(|e| e.to_string())?;
        let out = self.out_dir.join("stack.json");
        let root = workspace_root();
        let mut cmd = Command::new(venv_bin("python"));
        cmd.arg(root.join("infra/stack/deploy.py"))
            .args([
                "deploy",
                "--endpoint",
                &self.endpoint,
                "--stack-name",
                &self.stack_name,
                "--region",
                &self.region,
                "--out",
            ])
            .arg(&out);
        for (k, v) in &self.params {
            cmd.arg("--param").arg(format!("{k}={v}"));
        }
        let output = cmd.output().map_err(|e| format!("run deploy.py: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "deploy.py failed:\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Stack::load(&out)
    }
}

/// A deployed stack, as written by the deploy tool (`stack.json`).
#[derive(Debug, Clone)]
pub struct Stack {
    path: PathBuf,
    json: serde_json::Value,
}

impl Stack {
    /// Reads a `stack.json`.
    ///
    /// # Errors
    /// If the file is missing or not JSON.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let json = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Self {
            path: path.to_path_buf(),
            json,
        })
    }

    /// Where the stack description lives (what the local host reads).
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn json(&self) -> &serde_json::Value {
        &self.json
    }

    pub fn endpoint(&self) -> &str {
        self.json["endpoint"].as_str().unwrap_or_default()
    }

    /// What `Ref` of the logical resource gives (table name, queue URL, pool id…).
    ///
    /// # Panics
    /// If the template has no such resource.
    pub fn physical_id(&self, logical: &str) -> String {
        self.json["resources"][logical]["ref"]
            .as_str()
            .unwrap_or_else(|| panic!("no resource {logical} in the stack"))
            .to_owned()
    }

    /// `Fn::GetAtt logical.attr`.
    pub fn attribute(&self, logical: &str, attr: &str) -> String {
        self.json["resources"][logical]["attrs"][attr]
            .as_str()
            .unwrap_or_else(|| panic!("no attribute {logical}.{attr} in the stack"))
            .to_owned()
    }

    /// The one DynamoDB table (resource `Table`).
    pub fn table_name(&self) -> String {
        self.physical_id("Table")
    }

    /// Logical ids of every resource of the transformed template.
    pub fn logical_ids(&self) -> Vec<String> {
        self.json["template"]["Resources"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Runs `deploy.py verify`: every resource of the template still exists in the emulator.
    ///
    /// # Errors
    /// The list of missing or wrong resources.
    pub fn verify(&self) -> Result<(), String> {
        let output = Command::new(venv_bin("python"))
            .arg(workspace_root().join("infra/stack/deploy.py"))
            .args(["verify", "--stack"])
            .arg(&self.path)
            .output()
            .map_err(|e| format!("run deploy.py verify: {e}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }
}
