//! The local host: runs the same function binaries that run on Lambda, driven by the events the
//! deployed template declares, against the emulator.
//!
//! It reads the stack description written by `infra/stack/deploy.py` (the transformed template
//! plus physical names) and
//! - serves the Lambda Runtime API to each function process ([`function`]);
//! - serves the HTTP API's routes as payload v2 events, with the JWT authorizer ([`gateway`], [`jwt`]);
//! - polls the SQS queues of the event source mappings ([`sqs`]);
//! - fires the schedules at their rate and on demand ([`schedule`]);
//! - evaluates the CloudWatch alarms on queue depth, which the emulator never does ([`alarms`]);
//! - answers a local control endpoint ([`control`]) for tests and the benchmark.
//!
//! # Layout
//! - [`stack`]: reading the stack and resolving the template's intrinsics.
//! - [`Config`], [`start`], [`Running`]: putting it together.

pub mod alarms;
pub mod control;
pub mod function;
pub mod gateway;
pub mod jwt;
pub mod schedule;
pub mod sqs;
pub mod stack;

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};

use crate::function::{Function, InvocationRecord};
use crate::stack::{ScheduleSpec, Stack};

/// How to run the host.
#[derive(Debug, Clone)]
pub struct Config {
    /// `stack.json` written by the deploy.
    pub stack: PathBuf,
    /// Where the function binaries are (`target/debug`).
    pub target_dir: PathBuf,
    pub api: SocketAddr,
    pub control: SocketAddr,
    pub body_limit: usize,
    /// Schedules fire only on demand.
    pub no_schedule_timers: bool,
    /// How often the alarms are evaluated (one sample stands for one of the alarm's periods).
    pub alarm_interval: std::time::Duration,
}

/// Alarms are evaluated every 5 s unless told otherwise.
pub const DEFAULT_ALARM_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// What the control endpoint needs.
pub struct Host {
    pub stack: Stack,
    pub functions: BTreeMap<String, Arc<Function>>,
    pub schedules: Vec<ScheduleSpec>,
    pub log: Arc<Mutex<VecDeque<InvocationRecord>>>,
    pub alarms: Arc<alarms::Alarms>,
}

/// The host, serving. Dropping it does not stop it: the tasks live as long as the runtime.
pub struct Running {
    pub api: SocketAddr,
    pub control: SocketAddr,
    pub host: Arc<Host>,
}

/// `addr` with an unspecified IP (0.0.0.0, ::) replaced by loopback: where to reach it here.
fn loopback(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    }
}

async fn bind(addr: SocketAddr, what: &str) -> Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            anyhow::anyhow!(
                "{what} port {} is in use: stop what holds it or choose another address",
                addr.port()
            )
        } else {
            anyhow::anyhow!("bind {what} on {addr}: {e}")
        }
    })
}

/// Starts every part of the host.
///
/// # Errors
/// If the stack cannot be read, a function binary is missing, or a port is taken.
pub async fn start(config: Config) -> Result<Running> {
    let stack = Stack::load(&config.stack)?;
    let log = Arc::new(Mutex::new(VecDeque::new()));
    let emf = Arc::new(alarms::EmfMetrics::default());
    let base_env: BTreeMap<String, String> = [
        ("AWS_REGION", stack.region.as_str()),
        ("AWS_DEFAULT_REGION", stack.region.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_SESSION_TOKEN", "test"),
        ("AWS_ENDPOINT_URL", stack.endpoint.as_str()),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023"),
        ("LAMBDA_TASK_ROOT", "/var/task"),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime"),
        ("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ("LANG", "C.UTF-8"),
        ("TZ", ":UTC"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();

    let mut functions = BTreeMap::new();
    for spec in stack.functions()? {
        let binary = stack::binary_path(&config.target_dir, &spec);
        if !binary.exists() {
            bail!(
                "{}: binary {} not found; build the functions first (cargo build --workspace --bins)",
                spec.logical_id,
                binary.display()
            );
        }
        functions.insert(
            spec.logical_id.clone(),
            Arc::new(Function::new(
                spec,
                binary,
                base_env.clone(),
                log.clone(),
                emf.clone(),
            )),
        );
    }
    let schedules = stack.schedules()?;
    let apis = stack.http_apis()?;
    let mappings = stack.queue_mappings()?;
    if apis.len() > 1 {
        bail!(
            "the template has {} HTTP APIs; the local host serves one",
            apis.len()
        );
    }

    let api_listener = bind(config.api, "API").await?;
    let control_listener = bind(config.control, "control").await?;
    let api_addr = api_listener.local_addr()?;
    let control_addr = control_listener.local_addr()?;

    if let Some(api) = apis.into_iter().next() {
        for r in &api.routes {
            let auth = r
                .authorizer
                .as_deref()
                .map(|a| format!(" [JWT {a}]"))
                .unwrap_or_default();
            println!(
                "[gateway] {} {} -> {}{auth}",
                r.method, r.path, r.function_logical_id
            );
        }
        let gw = Arc::new(gateway::Gateway {
            api,
            account: stack.account.clone(),
            functions: functions.clone(),
            jwt: jwt::JwtVerifier::new(
                stack.param("PublicOrigin"),
                &format!("http://{}", loopback(api_addr)),
            ),
            body_limit: config.body_limit,
        });
        let app = axum::Router::new().fallback(gateway::handle).with_state(gw);
        tokio::spawn(async move {
            let _ = axum::serve(
                api_listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await;
        });
    }

    let aws = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(stack.region.clone()))
        .endpoint_url(&stack.endpoint)
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test",
            "test",
            None,
            None,
            "local-host",
        ))
        .load()
        .await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    for m in mappings.into_iter().filter(|m| m.enabled) {
        let function = functions
            .get(&m.function_logical_id)
            .cloned()
            .context("mapping to an unknown function")?;
        tokio::spawn(sqs::poll(sqs.clone(), m, function, stack.region.clone()));
    }
    if !config.no_schedule_timers {
        for s in &schedules {
            let function = functions
                .get(&s.function_logical_id)
                .cloned()
                .context("schedule of an unknown function")?;
            tokio::spawn(schedule::run(s.clone(), function));
        }
    }

    let alarm_specs = stack.alarms()?;
    for a in &alarm_specs {
        println!(
            "[alarm] {}: {} {:?} {} (every {:?})",
            a.name,
            a.watched.describe(),
            a.comparison,
            a.threshold,
            config.alarm_interval
        );
    }
    let alarms = Arc::new(alarms::Alarms::new(alarm_specs, sqs.clone(), emf.clone()));
    tokio::spawn(alarms.clone().run(config.alarm_interval));

    let host = Arc::new(Host {
        stack,
        functions,
        schedules,
        log,
        alarms,
    });
    let control = control::router(host.clone());
    tokio::spawn(async move {
        let _ = axum::serve(control_listener, control).await;
    });
    Ok(Running {
        api: api_addr,
        control: control_addr,
        host,
    })
}
