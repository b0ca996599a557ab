//! The HTTP API: routes of the template's API turned into API Gateway payload v2 events, the JWT
//! authorizer, and the answers API Gateway gives when things go wrong.
//!
//! | case | answer |
//! |---|---|
//! | no route matches | 404 `{"message":"Not Found"}` |
//! | missing or invalid token on an authorized route | 401 `{"message":"Unauthorized"}` |
//! | body over the payload limit | 413 `{"message":"Request Entity Too Large"}` |
//! | function error | 500 `{"message":"Internal Server Error"}` |
//! | function crashed / init failed / bad response | 502 `{"message":"Internal Server Error"}` |
//! | function timed out (or > 30 s) | 504 `{"message":"Service Unavailable"}` |

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Map, Value, json};

use crate::function::{Function, Outcome};
use crate::jwt::JwtVerifier;
use crate::stack::{HttpApiSpec, RouteSpec};

/// API Gateway's integration timeout for HTTP APIs.
pub const INTEGRATION_TIMEOUT: Duration = Duration::from_secs(30);
/// Lambda's synchronous invocation payload limit (6 MB): a bigger event is refused with 413.
pub const LAMBDA_PAYLOAD_LIMIT: usize = 6 * 1024 * 1024;
/// Request bodies above this are refused before they are read in full.
pub const DEFAULT_BODY_LIMIT: usize = LAMBDA_PAYLOAD_LIMIT;

pub struct Gateway {
    pub api: HttpApiSpec,
    pub account: String,
    pub functions: BTreeMap<String, Arc<Function>>,
    pub jwt: JwtVerifier,
    pub body_limit: usize,
}

fn message(status: StatusCode, text: &str) -> Response {
    let mut resp = (status, axum::Json(json!({ "message": text }))).into_response();
    resp.headers_mut()
        .insert("apigw-requestid", HeaderValue::from_static("local"));
    resp
}

/// A matched route and the path parameters it binds.
pub fn match_route<'a>(
    routes: &'a [RouteSpec],
    method: &str,
    path: &str,
) -> Option<(&'a RouteSpec, Map<String, Value>)> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    type Candidate<'r> = (&'r RouteSpec, Map<String, Value>, (u8, usize, u8));
    let mut best: Option<Candidate<'a>> = None;
    for route in routes {
        if route.method != "ANY" && route.method != method {
            continue;
        }
        let Some((params, rank)) = match_path(&route.path, &segments) else {
            continue;
        };
        // Most specific first: no greedy variable, then more literal segments, then an exact method.
        let score = (rank.0, rank.1, u8::from(route.method != "ANY"));
        if best.as_ref().is_none_or(|(_, _, s)| score > *s) {
            best = Some((route, params, score));
        }
    }
    best.map(|(r, p, _)| (r, p))
}

/// (no greedy variable, literal segments) when the template path matches.
fn match_path(template: &str, segments: &[&str]) -> Option<(Map<String, Value>, (u8, usize))> {
    let parts: Vec<&str> = template.trim_start_matches('/').split('/').collect();
    let mut params = Map::new();
    let mut literals = 0;
    for (i, part) in parts.iter().enumerate() {
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix("+}")) {
            let rest = segments.get(i..)?.join("/");
            if rest.is_empty() {
                return None;
            }
            params.insert(name.to_owned(), Value::String(rest));
            return Some((params, (0, literals)));
        }
        let seg = segments.get(i)?;
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            if seg.is_empty() {
                return None;
            }
            params.insert(name.to_owned(), Value::String(percent_decode(seg)));
        } else if part != seg {
            return None;
        } else {
            literals += 1;
        }
    }
    (parts.len() == segments.len()).then_some((params, (1, literals)))
}

/// A path segment's `%XX` escapes decoded, as API Gateway does for path parameters.
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

fn is_text(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return true };
    let ct = ct.to_ascii_lowercase();
    ct.starts_with("text/")
        || ct.contains("json")
        || ct.contains("xml")
        || ct.contains("javascript")
        || ct.starts_with("application/x-www-form-urlencoded")
}

/// The API Gateway payload v2 event for a request.
#[allow(clippy::too_many_arguments)]
pub fn build_event(
    api_id: &str,
    account: &str,
    route: &RouteSpec,
    path_params: Map<String, Value>,
    method: &str,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
    source_ip: &str,
    claims: Option<Map<String, Value>>,
) -> Value {
    let mut hdrs = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in headers {
        let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == "cookie" {
            cookies.extend(
                v.split(';')
                    .map(|c| c.trim().to_owned())
                    .filter(|c| !c.is_empty()),
            );
            continue;
        }
        match hdrs.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                hdrs.insert(name.as_str().to_owned(), Value::String(v));
            }
        }
    }
    let mut qs = Map::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match qs.get_mut(k.as_ref()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                qs.insert(k.into_owned(), Value::String(v.into_owned()));
            }
        }
    }
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok());
    let (body_value, b64) = if body.is_empty() {
        (Value::Null, false)
    } else if is_text(content_type) && std::str::from_utf8(body).is_ok() {
        (
            Value::String(String::from_utf8_lossy(body).into_owned()),
            false,
        )
    } else {
        (Value::String(B64.encode(body)), true)
    };
    let now = chrono::Utc::now();
    let route_key = format!("{} {}", route.method, route.path);
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
        .to_owned();
    let mut ctx = json!({
        "accountId": account,
        "apiId": api_id,
        "domainName": host,
        "domainPrefix": host.split('.').next().unwrap_or_default(),
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or_default(),
        },
        "requestId": uuid::Uuid::new_v4().to_string(),
        "routeKey": route_key,
        "stage": "$default",
        "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
        "timeEpoch": now.timestamp_millis(),
    });
    if let Some(claims) = claims {
        ctx["authorizer"] = json!({ "jwt": { "claims": claims, "scopes": null } });
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": hdrs,
        "requestContext": ctx,
        "isBase64Encoded": b64,
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if !qs.is_empty() {
        event["queryStringParameters"] = Value::Object(qs);
    }
    if !path_params.is_empty() {
        event["pathParameters"] = Value::Object(path_params);
    }
    if !body_value.is_null() {
        event["body"] = body_value;
    }
    event
}

/// Maps a payload v2 function response to HTTP, as API Gateway does (a value without
/// `statusCode` is a 200 JSON body).
pub fn map_response(bytes: &[u8]) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(bytes) else {
        return message(StatusCode::BAD_GATEWAY, "Internal Server Error");
    };
    let Some(status) = v.get("statusCode") else {
        let mut resp = (StatusCode::OK, bytes.to_vec()).into_response();
        resp.headers_mut()
            .insert("content-type", HeaderValue::from_static("application/json"));
        return resp;
    };
    let Some(status) = status
        .as_u64()
        .and_then(|s| StatusCode::from_u16(s as u16).ok())
    else {
        return message(StatusCode::BAD_GATEWAY, "Internal Server Error");
    };
    let body = match v.get("body") {
        Some(Value::String(s)) if v["isBase64Encoded"] == true => match B64.decode(s) {
            Ok(b) => b,
            Err(_) => return message(StatusCode::BAD_GATEWAY, "Internal Server Error"),
        },
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => other.to_string().into_bytes(),
    };
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    for (k, val) in v["headers"].as_object().into_iter().flatten() {
        let text = val
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| val.to_string());
        if let (Ok(k), Ok(val)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&text),
        ) {
            h.insert(k, val);
        }
    }
    for (k, vals) in v["multiValueHeaders"].as_object().into_iter().flatten() {
        for val in vals
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if let (Ok(k), Ok(val)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(val),
            ) {
                h.append(k, val);
            }
        }
    }
    for c in v["cookies"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if let Ok(val) = HeaderValue::from_str(c) {
            h.append("set-cookie", val);
        }
    }
    h.insert("apigw-requestid", HeaderValue::from_static("local"));
    resp
}

/// The axum handler for every request to the API.
pub async fn handle(
    State(gw): State<Arc<Gateway>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str().to_owned();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or_default().to_owned();

    let Some((route, params)) = match_route(&gw.api.routes, &method, &path) else {
        return message(StatusCode::NOT_FOUND, "Not Found");
    };
    let claims = match &route.authorizer {
        None => None,
        Some(name) => {
            let Some(auth) = gw.api.authorizers.get(name) else {
                return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
            };
            let token = parts
                .headers
                .get(auth.header.as_str())
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            match gw.jwt.verify(auth, token).await {
                Ok(claims) => Some(claims),
                Err(e) => {
                    println!("[gateway] {method} {path} -> 401 ({e})");
                    return message(StatusCode::UNAUTHORIZED, "Unauthorized");
                }
            }
        }
    };
    let body = match axum::body::to_bytes(body, gw.body_limit).await {
        Ok(b) => b,
        Err(_) => {
            // The rest of the body is not read: the connection cannot be reused.
            let mut resp = message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
            resp.headers_mut()
                .insert("connection", HeaderValue::from_static("close"));
            return resp;
        }
    };
    let event = build_event(
        &gw.api.api_id,
        &gw.account,
        route,
        params,
        &method,
        &path,
        &query,
        &parts.headers,
        &body,
        &peer.ip().to_string(),
        claims,
    );
    if serde_json::to_vec(&event)
        .map(|v| v.len())
        .unwrap_or_default()
        > LAMBDA_PAYLOAD_LIMIT
    {
        return message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
    }
    let Some(function) = gw.functions.get(&route.function_logical_id) else {
        return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    };
    let inv = function
        .invoke(
            &event,
            &format!("http:{method} {}", route.path),
            Some(INTEGRATION_TIMEOUT),
        )
        .await;
    let resp = match &inv.outcome {
        Outcome::Response(bytes) => map_response(bytes),
        Outcome::FunctionError(_) => {
            message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
        Outcome::Crashed(_) => message(StatusCode::BAD_GATEWAY, "Internal Server Error"),
        Outcome::TimedOut => message(StatusCode::GATEWAY_TIMEOUT, "Service Unavailable"),
    };
    println!(
        "[gateway] {method} {path} -> {} {}",
        resp.status().as_u16(),
        route.function_logical_id
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: &str, path: &str) -> RouteSpec {
        RouteSpec {
            method: method.into(),
            path: path.into(),
            function_logical_id: path.into(),
            authorizer: None,
        }
    }

    #[test]
    fn the_most_specific_route_wins() {
        let routes = [
            route("ANY", "/api/reporter/{proxy+}"),
            route("POST", "/api/reporter/attachments"),
            route("GET", "/"),
        ];
        let (r, _) = match_route(&routes, "POST", "/api/reporter/attachments").expect("match");
        assert_eq!(r.path, "/api/reporter/attachments");
        let (r, p) = match_route(&routes, "GET", "/api/reporter/attachments").expect("match");
        assert_eq!(r.path, "/api/reporter/{proxy+}");
        assert_eq!(p["proxy"], "attachments");
        assert!(match_route(&routes, "GET", "/nope").is_none());
        assert!(match_route(&routes, "POST", "/").is_none());
    }

    #[test]
    fn a_greedy_variable_needs_at_least_one_segment() {
        let routes = [route("GET", "/h5/{proxy+}")];
        assert!(match_route(&routes, "GET", "/h5/").is_none());
        let (_, p) = match_route(&routes, "GET", "/h5/a/b.js").expect("match");
        assert_eq!(p["proxy"], "a/b.js");
        let routes = [route("GET", "/c/{id}")];
        let (_, p) = match_route(&routes, "GET", "/c/a%2Fb%E7%85%A7").expect("match");
        assert_eq!(p["id"], "a/b照", "path parameters are percent-decoded");
    }

    #[test]
    fn a_response_without_status_code_is_a_json_200() {
        assert_eq!(map_response(br#"{"a":1}"#).status(), StatusCode::OK);
        let r = map_response(br#"{"statusCode":201,"headers":{"x-a":"b"},"body":"aGk=","isBase64Encoded":true,"cookies":["s=1"]}"#);
        assert_eq!(r.status(), StatusCode::CREATED);
        assert_eq!(r.headers()["set-cookie"], "s=1");
        assert_eq!(map_response(b"not json").status(), StatusCode::BAD_GATEWAY);
    }

    #[test]
    fn cookies_query_and_binary_bodies_are_shaped_like_api_gateway() {
        let mut headers = HeaderMap::new();
        headers.insert("cookie", HeaderValue::from_static("a=1; b=2"));
        headers.insert("content-type", HeaderValue::from_static("image/png"));
        let ev = build_event(
            "api",
            "1",
            &route("POST", "/x"),
            Map::new(),
            "POST",
            "/x",
            "q=a%20b&q=c+d&%E4%B8%BE=%E6%8A%A5&&e",
            &headers,
            &Bytes::from_static(&[0, 1]),
            "127.0.0.1",
            None,
        );
        assert_eq!(ev["cookies"], json!(["a=1", "b=2"]));
        assert!(ev["headers"].get("cookie").is_none());
        assert_eq!(ev["queryStringParameters"]["q"], "a b,c d");
        assert_eq!(ev["queryStringParameters"]["举"], "报");
        assert_eq!(ev["queryStringParameters"]["e"], "");
        assert_eq!(ev["isBase64Encoded"], true);
        assert_eq!(ev["body"], "AAE=");
    }
}
