//! The local control endpoint (not part of AWS): what tests and the benchmark use to look inside
//! the host and to act "now".
//!
//! | request | does |
//! |---|---|
//! | `GET /functions` | each function: physical name, binary, invocations, cold starts, last init and duration, peak memory |
//! | `GET /invocations[?function=Logical]` | the last invocations: source, event, outcome, response, figures |
//! | `POST /functions/{logical}/invoke` | invokes with the JSON body as event (synchronous) |
//! | `POST /functions/{logical}/stop` | stops the function's process: the next invocation is a cold start |
//! | `POST /schedules/{name}/fire[?at=RFC3339]` | runs a schedule's target now, as of `at` (default: now) |
//! | `GET /alarms` | each alarm (queue depth, embedded-metric-format metrics): state, last sample, reason, since |
//! | `POST /alarms/evaluate` | samples every alarm now (one period) and answers the states |

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::Host;
use crate::function::{Invocation, Outcome};

pub fn router(host: Arc<Host>) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/functions", get(functions))
        .route("/invocations", get(invocations))
        .route("/functions/{logical}/invoke", post(invoke))
        .route("/functions/{logical}/stop", post(stop))
        .route("/schedules/{name}/fire", post(fire))
        .route("/alarms", get(alarms))
        .route("/alarms/evaluate", post(evaluate_alarms))
        .with_state(host)
}

async fn functions(State(host): State<Arc<Host>>) -> Json<Value> {
    let mut out = serde_json::Map::new();
    for (logical, f) in &host.functions {
        out.insert(
            logical.clone(),
            json!({ "name": f.spec.name, "binary": f.spec.binary, "memory_mb": f.spec.memory_mb, "stats": f.stats() }),
        );
    }
    Json(Value::Object(out))
}

async fn alarms(State(host): State<Arc<Host>>) -> Json<Value> {
    Json(json!(host.alarms.states()))
}

async fn evaluate_alarms(State(host): State<Arc<Host>>) -> Json<Value> {
    Json(json!(host.alarms.evaluate().await))
}

async fn invocations(
    State(host): State<Arc<Host>>,
    Query(q): Query<HashMap<String, String>>,
) -> Json<Value> {
    let log = host
        .log
        .lock()
        .map(|l| l.iter().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    let wanted = q.get("function");
    Json(json!(
        log.into_iter()
            .filter(|r| wanted.is_none_or(|w| &r.function == w))
            .collect::<Vec<_>>()
    ))
}

fn result(inv: Invocation) -> Response {
    let (outcome, response) = match inv.outcome {
        Outcome::Response(b) => ("ok", serde_json::from_slice(&b).unwrap_or(Value::Null)),
        Outcome::FunctionError(e) => ("function_error", e),
        Outcome::Crashed(why) => ("crashed", Value::String(why)),
        Outcome::TimedOut => ("timed_out", Value::Null),
    };
    Json(json!({
        "request_id": inv.request_id,
        "outcome": outcome,
        "response": response,
        "duration_ms": inv.duration.as_secs_f64() * 1000.0,
        "init_duration_ms": inv.init_duration.map(|d| d.as_secs_f64() * 1000.0),
        "max_memory_mb": inv.max_memory_mb,
    }))
    .into_response()
}

async fn invoke(
    State(host): State<Arc<Host>>,
    Path(logical): Path<String>,
    Json(event): Json<Value>,
) -> Response {
    match host.functions.get(&logical) {
        Some(f) => result(f.invoke(&event, "control", None).await),
        None => (StatusCode::NOT_FOUND, format!("no function {logical}")).into_response(),
    }
}

async fn stop(State(host): State<Arc<Host>>, Path(logical): Path<String>) -> Response {
    match host.functions.get(&logical) {
        Some(f) => {
            f.stop().await;
            StatusCode::NO_CONTENT.into_response()
        }
        None => (StatusCode::NOT_FOUND, format!("no function {logical}")).into_response(),
    }
}

async fn fire(
    State(host): State<Arc<Host>>,
    Path(name): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(spec) = host.schedules.iter().find(|s| s.name == name) else {
        return (StatusCode::NOT_FOUND, format!("no schedule {name}")).into_response();
    };
    let at = match q.get("at").map(|a| chrono::DateTime::parse_from_rfc3339(a)) {
        None => chrono::Utc::now(),
        Some(Ok(t)) => t.with_timezone(&chrono::Utc),
        Some(Err(e)) => return (StatusCode::BAD_REQUEST, format!("at: {e}")).into_response(),
    };
    let Some(function) = host.functions.get(&spec.function_logical_id) else {
        return (StatusCode::NOT_FOUND, "schedule target missing").into_response();
    };
    result(crate::schedule::fire(spec, function, at).await)
}
