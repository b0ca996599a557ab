//! One function: its process and the Lambda Runtime API it talks to.
//!
//! Like a Lambda execution environment, a [`Function`] starts its binary on the first invocation
//! (cold start) with `AWS_LAMBDA_RUNTIME_API` pointing at a Runtime API served for that process
//! alone, keeps it for the next invocations (warm), and replaces it after a crash, an init error
//! or a timeout. Invocations are serialised: one environment per function, as with a reserved
//! concurrency of 1.
//!
//! Every invocation ends with Lambda's `REPORT` line: duration, billed duration, memory size,
//! peak RSS (`Max Memory Used`) and, on a cold start, `Init Duration`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{Mutex, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::stack::FunctionSpec;

/// Lambda's limit for the init phase.
const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// What an invocation came to.
#[derive(Debug)]
pub enum Outcome {
    /// The function answered (`/response`).
    Response(Bytes),
    /// The function reported an error (`/error`): Lambda's "Unhandled" function error.
    FunctionError(Value),
    /// The process exited or reported an init error before answering.
    Crashed(String),
    /// No answer within the function's timeout; the process was stopped.
    TimedOut,
}

/// An invocation's result with Lambda's figures.
#[derive(Debug)]
pub struct Invocation {
    pub request_id: String,
    pub outcome: Outcome,
    pub duration: Duration,
    pub init_duration: Option<Duration>,
    pub max_memory_mb: Option<u64>,
}

/// What the control endpoint shows about an invocation.
#[derive(Debug, Clone, Serialize)]
pub struct InvocationRecord {
    pub function: String,
    pub source: String,
    pub request_id: String,
    pub outcome: String,
    pub duration_ms: f64,
    pub init_duration_ms: Option<f64>,
    pub max_memory_mb: Option<u64>,
    pub event: Value,
    pub response: Value,
    pub at: String,
}

/// Figures per function, for the control endpoint and the benchmark.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    pub invocations: u64,
    pub cold_starts: u64,
    pub last_init_ms: Option<f64>,
    pub last_duration_ms: Option<f64>,
    pub max_memory_mb: Option<u64>,
}

struct Pending {
    request_id: String,
    payload: Bytes,
    deadline_ms: u64,
    respond: oneshot::Sender<(Outcome, Instant)>,
}

/// Where a handed-out invocation's outcome goes, with when it was handed out.
type Responder = (Instant, oneshot::Sender<(Outcome, Instant)>);

/// State shared between one process's Runtime API handlers and the invoker.
struct RuntimeApi {
    function_arn: String,
    next: Mutex<mpsc::Receiver<Pending>>,
    inflight: StdMutex<HashMap<String, Responder>>,
    ready: watch::Sender<bool>,
    init_error: StdMutex<Option<Value>>,
}

/// A running process of the function.
struct Instance {
    pid: u32,
    queue: mpsc::Sender<Pending>,
    api: Arc<RuntimeApi>,
    exited: watch::Receiver<Option<String>>,
    kill: Option<oneshot::Sender<()>>,
    server: JoinHandle<()>,
    init_duration: Option<Duration>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(kill) = self.kill.take() {
            let _ = kill.send(());
        }
        self.server.abort();
    }
}

/// A function of the stack, run the way Lambda runs it.
pub struct Function {
    pub spec: FunctionSpec,
    binary: PathBuf,
    base_env: BTreeMap<String, String>,
    instance: Mutex<Option<Instance>>,
    stats: StdMutex<Stats>,
    log: Arc<StdMutex<VecDeque<InvocationRecord>>>,
    /// Where metric lines (embedded metric format) on stdout go, for the alarms.
    emf: Arc<crate::alarms::EmfMetrics>,
}

impl Function {
    pub fn new(
        spec: FunctionSpec,
        binary: PathBuf,
        base_env: BTreeMap<String, String>,
        log: Arc<StdMutex<VecDeque<InvocationRecord>>>,
        emf: Arc<crate::alarms::EmfMetrics>,
    ) -> Self {
        Self {
            spec,
            binary,
            base_env,
            instance: Mutex::new(None),
            stats: StdMutex::new(Stats::default()),
            log,
            emf,
        }
    }

    pub fn stats(&self) -> Stats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Stops the process, if any (the next invocation is a cold start).
    pub async fn stop(&self) {
        self.instance.lock().await.take();
    }

    /// Invokes the function with `event`, like a synchronous Lambda `Invoke`, capped at `cap`
    /// (API Gateway's 30 s) when given.
    pub async fn invoke(&self, event: &Value, source: &str, cap: Option<Duration>) -> Invocation {
        let request_id = uuid::Uuid::new_v4().to_string();
        let payload = Bytes::from(serde_json::to_vec(event).unwrap_or_default());
        let timeout = cap.map_or(self.spec.timeout, |c| c.min(self.spec.timeout));
        let mut slot = self.instance.lock().await;

        let mut init_duration = None;
        let alive = slot.as_ref().is_some_and(|i| i.exited.borrow().is_none());
        if !alive {
            slot.take();
            match self.start().await {
                Ok(instance) => {
                    init_duration = instance.init_duration;
                    *slot = Some(instance);
                }
                Err(reason) => {
                    let inv = Invocation {
                        request_id,
                        outcome: Outcome::Crashed(reason),
                        duration: Duration::ZERO,
                        init_duration: None,
                        max_memory_mb: None,
                    };
                    self.record(&inv, event, source);
                    return inv;
                }
            }
        }
        let Some(instance) = slot.as_mut() else {
            unreachable!("an instance was just started")
        };

        let (tx, rx) = oneshot::channel();
        let deadline_ms = now_ms() + timeout.as_millis() as u64;
        let sent_at = Instant::now();
        let _ = instance
            .queue
            .send(Pending {
                request_id: request_id.clone(),
                payload,
                deadline_ms,
                respond: tx,
            })
            .await;
        let mut exited = instance.exited.clone();
        let (outcome, handed_at) = tokio::select! {
            r = rx => r.unwrap_or((Outcome::Crashed("runtime dropped the invocation".into()), sent_at)),
            _ = tokio::time::sleep(timeout) => (Outcome::TimedOut, sent_at),
            r = exited.wait_for(Option::is_some) => {
                let why = r.map(|v| v.clone().unwrap_or_default()).unwrap_or_default();
                (Outcome::Crashed(why), sent_at)
            }
        };
        let duration = handed_at.elapsed().min(sent_at.elapsed());
        let max_memory_mb = peak_rss_mb(instance.pid);
        if matches!(outcome, Outcome::TimedOut | Outcome::Crashed(_)) {
            slot.take(); // kill; the next invocation starts a new environment
        }
        drop(slot);
        let inv = Invocation {
            request_id,
            outcome,
            duration,
            init_duration,
            max_memory_mb,
        };
        self.report(&inv, timeout);
        self.record(&inv, event, source);
        inv
    }

    fn report(&self, inv: &Invocation, timeout: Duration) {
        let ms = inv.duration.as_secs_f64() * 1000.0;
        let mut line = format!(
            "REPORT RequestId: {}\tDuration: {ms:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB",
            inv.request_id,
            (ms.ceil() as u64).max(1),
            self.spec.memory_mb,
            inv.max_memory_mb.unwrap_or(0),
        );
        if let Some(init) = inv.init_duration {
            line.push_str(&format!(
                "\tInit Duration: {:.2} ms",
                init.as_secs_f64() * 1000.0
            ));
        }
        match &inv.outcome {
            Outcome::TimedOut => {
                line.push_str(&format!("\tStatus: timeout ({} s)", timeout.as_secs()))
            }
            Outcome::Crashed(why) => line.push_str(&format!(
                "\tStatus: error\tError Type: Runtime.ExitError ({why})"
            )),
            _ => {}
        }
        println!("[{}] {line}", self.spec.logical_id);
        if let Ok(mut s) = self.stats.lock() {
            s.invocations += 1;
            s.last_duration_ms = Some(ms);
            if let Some(init) = inv.init_duration {
                s.cold_starts += 1;
                s.last_init_ms = Some(init.as_secs_f64() * 1000.0);
            }
            if inv.max_memory_mb.is_some() {
                s.max_memory_mb = inv.max_memory_mb.max(s.max_memory_mb);
            }
        }
    }

    fn record(&self, inv: &Invocation, event: &Value, source: &str) {
        let (outcome, response) = match &inv.outcome {
            Outcome::Response(b) => (
                "ok".to_owned(),
                serde_json::from_slice(b)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(b).into_owned())),
            ),
            Outcome::FunctionError(e) => ("function_error".to_owned(), e.clone()),
            Outcome::Crashed(why) => ("crashed".to_owned(), Value::String(why.clone())),
            Outcome::TimedOut => ("timed_out".to_owned(), Value::Null),
        };
        let record = InvocationRecord {
            function: self.spec.logical_id.clone(),
            source: source.to_owned(),
            request_id: inv.request_id.clone(),
            outcome,
            duration_ms: inv.duration.as_secs_f64() * 1000.0,
            init_duration_ms: inv.init_duration.map(|d| d.as_secs_f64() * 1000.0),
            max_memory_mb: inv.max_memory_mb,
            event: event.clone(),
            response,
            at: chrono::Utc::now().to_rfc3339(),
        };
        if let Ok(mut log) = self.log.lock() {
            if log.len() >= 1000 {
                log.pop_front();
            }
            log.push_back(record);
        }
    }

    /// Starts a process and waits for its first `/next` (the end of init).
    async fn start(&self) -> Result<Instance, String> {
        let (queue, next) = mpsc::channel(1);
        let (ready, mut ready_rx) = watch::channel(false);
        let api = Arc::new(RuntimeApi {
            function_arn: self.spec.arn.clone(),
            next: Mutex::new(next),
            inflight: StdMutex::new(HashMap::new()),
            ready,
            init_error: StdMutex::new(None),
        });
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .map_err(|e| format!("bind the Runtime API: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let server = tokio::spawn({
            let app = runtime_api_router(api.clone());
            async move {
                let _ = axum::serve(listener, app).await;
            }
        });

        let mut cmd = tokio::process::Command::new(&self.binary);
        cmd.env_clear()
            .envs(&self.base_env)
            .envs(&self.spec.env)
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", &self.spec.name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                self.spec.memory_mb.to_string(),
            )
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", self.spec.name),
            )
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                format!("local/[$LATEST]{}", uuid::Uuid::new_v4().simple()),
            )
            .env("_HANDLER", "bootstrap")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let started = Instant::now();
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("start {}: {e}", self.binary.display()))?;
        let pid = child.id().unwrap_or_default();
        for (stream, name) in [
            (
                child
                    .stdout
                    .take()
                    .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
                "out",
            ),
            (
                child
                    .stderr
                    .take()
                    .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
                "err",
            ),
        ] {
            if let Some(stream) = stream {
                let tag = self.spec.logical_id.clone();
                let emf = self.emf.clone();
                tokio::spawn(async move {
                    let mut lines = BufReader::new(stream).lines();
                    while let Ok(Some(line)) = lines.next_line().await {
                        if name == "err" {
                            eprintln!("[{tag}] {line}");
                        } else {
                            emf.observe(&line);
                            println!("[{tag}] {line}");
                        }
                    }
                });
            }
        }
        let (exit_tx, exited) = watch::channel(None);
        let (kill, kill_rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            tokio::select! {
                status = child.wait() => {
                    let why = match status {
                        Ok(s) => format!("Runtime exited with {s}"),
                        Err(e) => format!("Runtime wait failed: {e}"),
                    };
                    let _ = exit_tx.send(Some(why));
                }
                _ = kill_rx => {
                    let _ = child.kill().await;
                    let _ = exit_tx.send(Some("stopped".into()));
                }
            }
        });
        let mut instance = Instance {
            pid,
            queue,
            api: api.clone(),
            exited,
            kill: Some(kill),
            server,
            init_duration: None,
        };

        let mut exited = instance.exited.clone();
        tokio::select! {
            r = ready_rx.wait_for(|r| *r) => {
                r.map_err(|_| "runtime API closed".to_owned())?;
            }
            r = exited.wait_for(Option::is_some) => {
                let why = r.map(|v| v.clone().unwrap_or_default()).unwrap_or_default();
                let init_error = api.init_error.lock().ok().and_then(|e| e.clone());
                return Err(match init_error {
                    Some(e) => format!("Runtime.InitError {e} ({why})"),
                    None => format!("init failed: {why}"),
                });
            }
            _ = tokio::time::sleep(INIT_TIMEOUT) => {
                return Err(format!("init did not finish within {} s", INIT_TIMEOUT.as_secs()));
            }
        }
        let init = started.elapsed();
        instance.init_duration = Some(init);
        if let Some(e) = instance.api.init_error.lock().ok().and_then(|e| e.clone()) {
            return Err(format!("Runtime.InitError {e}"));
        }
        Ok(instance)
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

/// Peak resident set size of a process (`VmHWM`), in MB, as Lambda's "Max Memory Used".
fn peak_rss_mb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb.div_ceil(1024))
}

// ------------------------------------------------------------------------------ Runtime API

fn runtime_api_router(api: Arc<RuntimeApi>) -> Router {
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(response),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(api)
}

async fn next(State(api): State<Arc<RuntimeApi>>) -> Response {
    let _ = api.ready.send(true);
    let pending = api.next.lock().await.recv().await;
    let Some(p) = pending else {
        return StatusCode::GONE.into_response();
    };
    if let Ok(mut inflight) = api.inflight.lock() {
        inflight.insert(p.request_id.clone(), (Instant::now(), p.respond));
    }
    let mut headers = HeaderMap::new();
    let mut put = |k: &'static str, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            headers.insert(k, v);
        }
    };
    put("lambda-runtime-aws-request-id", p.request_id.clone());
    put("lambda-runtime-deadline-ms", p.deadline_ms.to_string());
    put(
        "lambda-runtime-invoked-function-arn",
        api.function_arn.clone(),
    );
    put(
        "lambda-runtime-trace-id",
        format!(
            "Root=1-{:08x}-{};Parent={};Sampled=0",
            now_ms() / 1000,
            &uuid::Uuid::new_v4().simple().to_string()[..24],
            &uuid::Uuid::new_v4().simple().to_string()[..16]
        ),
    );
    put("content-type", "application/json".to_owned());
    (StatusCode::OK, headers, p.payload).into_response()
}

fn complete(api: &RuntimeApi, id: &str, outcome: Outcome) -> Response {
    let entry = api.inflight.lock().ok().and_then(|mut m| m.remove(id));
    match entry {
        Some((handed_at, tx)) => {
            let _ = tx.send((outcome, handed_at));
            (StatusCode::ACCEPTED, axum::Json(json!({"status": "OK"}))).into_response()
        }
        None => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"errorMessage": format!("unknown request id {id}"), "errorType": "InvalidRequestID"})),
        )
            .into_response(),
    }
}

async fn response(
    State(api): State<Arc<RuntimeApi>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    complete(&api, &id, Outcome::Response(body))
}

async fn error(
    State(api): State<Arc<RuntimeApi>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let err = serde_json::from_slice(&body).unwrap_or_else(
        |_| json!({"errorType": "Unknown", "errorMessage": String::from_utf8_lossy(&body)}),
    );
    complete(&api, &id, Outcome::FunctionError(err))
}

async fn init_error(State(api): State<Arc<RuntimeApi>>, body: Bytes) -> Response {
    let err = serde_json::from_slice(&body).unwrap_or_else(
        |_| json!({"errorType": "Unknown", "errorMessage": String::from_utf8_lossy(&body)}),
    );
    eprintln!("init error: {err}");
    if let Ok(mut e) = api.init_error.lock() {
        *e = Some(err);
    }
    (StatusCode::ACCEPTED, axum::Json(json!({"status": "OK"}))).into_response()
}
