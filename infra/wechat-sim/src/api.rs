//! The fake WeChat API. Answers follow WeChat: HTTP 200 with `{"errcode", "errmsg"}` on error.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::state::{
    CODE_TTL, CodeEntry, Delivered, Fault, Sim, TokenEntry, World, random_id, uniform, unix_now,
};

type Q = Query<HashMap<String, String>>;

/// `{"errcode": code, "errmsg": msg}` with HTTP 200, as WeChat answers errors.
pub fn wx_error(code: i64, msg: &str) -> Response {
    Json(json!({ "errcode": code, "errmsg": msg })).into_response()
}

fn ok() -> Response {
    Json(json!({ "errcode": 0, "errmsg": "ok" })).into_response()
}

/// Check `access_token`: 41001 missing, 40001 unknown or replaced, 42001 expired.
fn token_error(world: &World, q: &HashMap<String, String>) -> Option<Response> {
    let Some(t) = q.get("access_token").filter(|t| !t.is_empty()) else {
        return Some(wx_error(41001, "access_token missing"));
    };
    match world.tokens.get(t) {
        None => Some(wx_error(
            40001,
            "invalid credential, access_token is invalid or not latest",
        )),
        Some(e) if e.revoked => Some(wx_error(
            40001,
            "invalid credential, access_token is invalid or not latest",
        )),
        Some(e) if e.expires <= Instant::now() => Some(wx_error(42001, "access_token expired")),
        Some(_) => None,
    }
}

/// Draw a fault for a call to `openid`; hold the answer when the fault is a timeout.
async fn fault(sim: &Sim, openid: Option<&str>) -> Option<Response> {
    let faults = sim.world().faults.clone();
    match faults.draw(openid, uniform())? {
        Fault::Errcode(code) => Some(wx_error(code, errmsg_for(code))),
        Fault::Hold(d) => {
            tokio::time::sleep(d).await;
            Some(wx_error(-1, "system error"))
        }
        Fault::ServerError => Some((StatusCode::BAD_GATEWAY, "502 Bad Gateway").into_response()),
    }
}

fn errmsg_for(code: i64) -> &'static str {
    match code {
        -1 => "system error",
        45009 => "reach max api daily quota limit",
        43004 => "require subscribe",
        43101 => "user refuse to accept the msg",
        40003 => "invalid openid",
        48001 => "api unauthorized",
        45015 => "response out of time limit or subscription is canceled",
        43019 => "require remove blacklist",
        _ => "simulated error",
    }
}

#[derive(Debug, Deserialize)]
pub struct StableTokenRequest {
    grant_type: Option<String>,
    appid: Option<String>,
    secret: Option<String>,
    #[serde(default)]
    force_refresh: bool,
}

/// `POST /cgi-bin/stable_token`: the current token while valid; a new one when it expired or
/// on `force_refresh` (which revokes the old one).
pub async fn stable_token(
    State(sim): State<Arc<Sim>>,
    body: Option<Json<StableTokenRequest>>,
) -> Response {
    let Some(Json(req)) = body else {
        return wx_error(47001, "data format error");
    };
    if req.grant_type.as_deref() != Some("client_credential") {
        return wx_error(40002, "invalid grant_type");
    }
    issue_token(
        &sim,
        req.appid.as_deref(),
        req.secret.as_deref(),
        req.force_refresh,
    )
}

/// `GET /cgi-bin/token` (the older API), same rules without force refresh.
pub async fn legacy_token(State(sim): State<Arc<Sim>>, Query(q): Q) -> Response {
    issue_token(
        &sim,
        q.get("appid").map(String::as_str),
        q.get("secret").map(String::as_str),
        false,
    )
}

fn issue_token(sim: &Sim, appid: Option<&str>, secret: Option<&str>, force: bool) -> Response {
    if appid != Some(sim.config.appid.as_str()) {
        return wx_error(40013, "invalid appid");
    }
    if secret != Some(sim.config.secret.expose_secret()) {
        return wx_error(40125, "invalid appsecret");
    }
    let now = Instant::now();
    let mut w = sim.world();
    let current = w.current.clone().and_then(|t| {
        w.tokens
            .get(&t)
            .filter(|e| !e.revoked && e.expires > now)
            .map(|e| (t.clone(), e.expires))
    });
    let (token, expires) = match current {
        Some(c) if !force => c,
        _ => {
            if force
                && let Some(old) = w.current.clone()
                && let Some(e) = w.tokens.get_mut(&old)
            {
                e.revoked = true;
            }
            let token = format!("SIMTOKEN_{}", random_id(48));
            let expires = now + sim.config.token_ttl;
            w.tokens.insert(
                token.clone(),
                TokenEntry {
                    expires,
                    revoked: false,
                },
            );
            w.current = Some(token.clone());
            (token, expires)
        }
    };
    Json(json!({
        "access_token": token,
        "expires_in": expires.saturating_duration_since(now).as_secs(),
    }))
    .into_response()
}

/// The cookie the simulator page sets for the user whose "WeChat browser" opens pages (as in
/// WeChat, where the browser knows who is signed in).
pub const USER_COOKIE: &str = "sim_user";

/// The user of the simulated WeChat browser, from [`USER_COOKIE`].
fn browser_user(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == USER_COOKIE)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// `GET /connect/oauth2/authorize`: WeChat's consent step (snsapi_base: no consent page, a 302
/// back with a code). The user is the one the simulator page's "WeChat browser" belongs to
/// ([`USER_COOKIE`]) or `sim_openid`; without either, a page lets you pick one.
pub async fn authorize(State(sim): State<Arc<Sim>>, headers: HeaderMap, Query(q): Q) -> Response {
    if q.get("appid").map(String::as_str) != Some(sim.config.appid.as_str()) {
        return (
            StatusCode::BAD_REQUEST,
            Html("<h1>参数错误：appid 无效</h1>"),
        )
            .into_response();
    }
    let Some(redirect) = q
        .get("redirect_uri")
        .filter(|r| r.starts_with("http://") || r.starts_with("https://"))
    else {
        return (
            StatusCode::BAD_REQUEST,
            Html("<h1>redirect_uri 参数错误</h1>"),
        )
            .into_response();
    };
    if q.get("response_type").map(String::as_str) != Some("code") {
        return (
            StatusCode::BAD_REQUEST,
            Html("<h1>response_type 参数错误</h1>"),
        )
            .into_response();
    }
    let state = q.get("state").cloned().unwrap_or_default();
    let chosen = q
        .get("sim_openid")
        .filter(|o| !o.is_empty())
        .cloned()
        .or_else(|| {
            browser_user(&headers).filter(|o| sim.world().users.iter().any(|u| &u.openid == o))
        });
    let Some(openid) = chosen.as_deref() else {
        let users = sim.world().users.clone();
        let mut page = String::from(
            "<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'><title>微信授权（模拟）</title><h3>选择模拟用户</h3><ul>",
        );
        for u in users {
            let mut url = url::Url::parse("http://sim/connect/oauth2/authorize")
                .map_err(|_| ())
                .ok();
            if let Some(url) = url.as_mut() {
                for (k, v) in &q {
                    url.query_pairs_mut().append_pair(k, v);
                }
                url.query_pairs_mut().append_pair("sim_openid", &u.openid);
                let qs = url.query().unwrap_or_default().replace('\'', "%27");
                page.push_str(&format!(
                    "<li><a href='/connect/oauth2/authorize?{qs}'>{}</a></li>",
                    html_escape(&u.nickname)
                ));
            }
        }
        page.push_str("</ul>");
        return Html(page).into_response();
    };
    let code = issue_code(&sim, openid);
    let mut target = match url::Url::parse(redirect) {
        Ok(u) => u,
        Err(_) => {
            return (
                StatusCode::BAD_REQUEST,
                Html("<h1>redirect_uri 参数错误</h1>"),
            )
                .into_response();
        }
    };
    target
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &state);
    // WeChat answers the authorize step with a 302.
    (StatusCode::FOUND, [(header::LOCATION, target.to_string())]).into_response()
}

/// Issue a single-use OAuth code for `openid`.
pub fn issue_code(sim: &Sim, openid: &str) -> String {
    let code = random_id(32);
    sim.world().codes.insert(
        code.clone(),
        CodeEntry {
            openid: openid.to_owned(),
            issued: Instant::now(),
            used: false,
        },
    );
    code
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// `GET /sns/oauth2/access_token`: code → openid; 40029 unknown or expired, 40163 reused.
pub async fn oauth_access_token(State(sim): State<Arc<Sim>>, Query(q): Q) -> Response {
    if q.get("appid").map(String::as_str) != Some(sim.config.appid.as_str()) {
        return wx_error(40013, "invalid appid");
    }
    if q.get("secret").map(String::as_str) != Some(sim.config.secret.expose_secret()) {
        return wx_error(40125, "invalid appsecret");
    }
    if q.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return wx_error(40002, "invalid grant_type");
    }
    let Some(code) = q.get("code") else {
        return wx_error(41008, "missing code");
    };
    let mut w = sim.world();
    let Some(entry) = w.codes.get_mut(code) else {
        return wx_error(40029, "invalid code");
    };
    if entry.used {
        return wx_error(40163, "code been used");
    }
    if entry.issued.elapsed() > CODE_TTL {
        return wx_error(40029, "invalid code");
    }
    entry.used = true;
    Json(json!({
        "access_token": format!("SIMOAUTH_{}", random_id(40)),
        "expires_in": 7200,
        "refresh_token": format!("SIMREFRESH_{}", random_id(40)),
        "openid": entry.openid,
        "scope": "snsapi_base",
    }))
    .into_response()
}

/// Store a media file; returns its id.
pub fn store_media(sim: &Sim, content_type: String, bytes: Vec<u8>) -> String {
    let id = random_id(64);
    sim.world().media.insert(id.clone(), (content_type, bytes));
    id
}

/// `POST /cgi-bin/media/upload?type=image` (multipart field `media`).
pub async fn media_upload(
    State(sim): State<Arc<Sim>>,
    Query(q): Q,
    mut form: Multipart,
) -> Response {
    if let Some(r) = token_error(&sim.world(), &q) {
        return r;
    }
    let kind = q.get("type").cloned().unwrap_or_default();
    if !["image", "voice", "video", "thumb"].contains(&kind.as_str()) {
        return wx_error(40004, "invalid media type");
    }
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() != Some("media") {
            continue;
        }
        let ct = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_owned();
        let Ok(bytes) = field.bytes().await else {
            return wx_error(40005, "invalid file type");
        };
        if bytes.is_empty() {
            return wx_error(44001, "empty media data");
        }
        let id = store_media(&sim, ct, bytes.to_vec());
        return Json(json!({ "type": kind, "media_id": id, "created_at": unix_now() }))
            .into_response();
    }
    wx_error(41005, "media data missing")
}

/// `GET /cgi-bin/media/get`: the bytes with their content type, or 40007.
pub async fn media_get(State(sim): State<Arc<Sim>>, Query(q): Q) -> Response {
    if let Some(r) = token_error(&sim.world(), &q) {
        return r;
    }
    if let Some(r) = fault(&sim, None).await {
        return r;
    }
    let found = q
        .get("media_id")
        .and_then(|id| sim.world().media.get(id).cloned());
    match found {
        Some((ct, bytes)) => ([(header::CONTENT_TYPE, ct)], bytes).into_response(),
        None => wx_error(40007, "invalid media_id"),
    }
}

fn record(
    sim: &Sim,
    kind: &str,
    openid: &str,
    content: Option<String>,
    template_id: Option<String>,
    body: Value,
) -> u64 {
    let mut w = sim.world();
    w.seq += 1;
    let seq = w.seq;
    w.delivered.push(Delivered {
        seq,
        at: unix_now(),
        kind: kind.to_owned(),
        openid: openid.to_owned(),
        content,
        template_id,
        body,
        msgid: (kind == "subscribe").then(|| msgid_of(seq).to_string()),
    });
    seq
}

/// The `msgid` answered for delivery `seq` (a large number, as WeChat's are).
fn msgid_of(seq: u64) -> u64 {
    3_000_000_000_000 + seq
}

fn known_user(sim: &Sim, openid: &str) -> bool {
    sim.world().users.iter().any(|u| u.openid == openid)
}

/// `POST /cgi-bin/message/custom/send` (text only is modelled; others are recorded as sent).
pub async fn custom_send(
    State(sim): State<Arc<Sim>>,
    Query(q): Q,
    body: Option<Json<Value>>,
) -> Response {
    if let Some(r) = token_error(&sim.world(), &q) {
        return r;
    }
    let Some(Json(body)) = body else {
        return wx_error(47001, "data format error");
    };
    let Some(touser) = body
        .get("touser")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return wx_error(40003, "invalid openid");
    };
    if let Some(r) = fault(&sim, Some(&touser)).await {
        return r;
    }
    if !known_user(&sim, &touser) {
        return wx_error(40003, "invalid openid");
    }
    let custom_error = sim.world().faults.custom_errors.get(&touser).copied();
    if let Some(code) = custom_error {
        return wx_error(code, errmsg_for(code));
    }
    let msgtype = body
        .get("msgtype")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let content = match msgtype {
        "text" => match body.pointer("/text/content").and_then(Value::as_str) {
            Some(c) if !c.is_empty() => Some(c.to_owned()),
            _ => return wx_error(44004, "empty content"),
        },
        "" => return wx_error(40008, "invalid message type"),
        _ => None,
    };
    record(&sim, "custom", &touser, content, None, body);
    ok()
}

/// `POST /cgi-bin/message/subscribe/bizsend`.
pub async fn subscribe_send(
    State(sim): State<Arc<Sim>>,
    Query(q): Q,
    body: Option<Json<Value>>,
) -> Response {
    if let Some(r) = token_error(&sim.world(), &q) {
        return r;
    }
    let Some(Json(body)) = body else {
        return wx_error(47001, "data format error");
    };
    let Some(touser) = body
        .get("touser")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return wx_error(40003, "invalid openid");
    };
    if let Some(r) = fault(&sim, Some(&touser)).await {
        return r;
    }
    if !known_user(&sim, &touser) {
        return wx_error(40003, "invalid openid");
    }
    let template = body
        .get("template_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if template.is_empty() {
        return wx_error(40037, "invalid template_id");
    }
    let Some(data) = body.get("data").and_then(Value::as_object) else {
        return wx_error(47003, "argument invalid! data is empty");
    };
    if data
        .values()
        .any(|v| v.get("value").and_then(Value::as_str).is_none())
    {
        return wx_error(47003, "argument invalid! data.value is empty");
    }
    let seq = record(&sim, "subscribe", &touser, None, Some(template), body);
    Json(json!({ "errcode": 0, "errmsg": "ok", "msgid": msgid_of(seq) })).into_response()
}
