//! `/_sim/*`: control and observation endpoints for tests, and the simulator page's backend.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{Multipart, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use wechat::{Body, Event, Inbound, PopupChoice, SubscribeStatus};

use crate::api::{issue_code as new_code, store_media};
use crate::state::{Faults, Sim, User, random_id, unix_now};

const PAGE: &str = include_str!("page.html");

/// `GET /`: the simulator page.
pub async fn page() -> Html<&'static str> {
    Html(PAGE)
}

/// `GET /_sim/config`: what the page needs to know (no secrets).
pub async fn config(State(sim): State<Arc<Sim>>) -> Json<Value> {
    let c = &sim.config;
    Json(json!({
        "appid": c.appid,
        "account_id": c.account_id,
        "callback_url": c.callback_url,
        "h5_url": c.h5_url,
        "safe_mode": c.aes_key.is_some(),
        "template_ids": c.template_ids,
    }))
}

/// `GET /_sim/faults`.
pub async fn get_faults(State(sim): State<Arc<Sim>>) -> Json<Faults> {
    Json(sim.world().faults.clone())
}

/// `POST /_sim/faults`: replace the fault configuration (omitted fields are zero).
pub async fn set_faults(State(sim): State<Arc<Sim>>, Json(f): Json<Faults>) -> Response {
    let probs = [f.system_busy, f.quota, f.timeout, f.server_error];
    if probs.iter().any(|p| !(0.0..=1.0).contains(p)) || probs.iter().sum::<f64>() > 1.0 + 1e-9 {
        return (
            StatusCode::BAD_REQUEST,
            "probabilities must be in [0, 1] and sum to at most 1",
        )
            .into_response();
    }
    sim.world().faults = f.clone();
    Json(f).into_response()
}

/// `GET /_sim/messages?openid=&after=`: what was delivered (all users without `openid`).
pub async fn messages(
    State(sim): State<Arc<Sim>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let after: u64 = q.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let w = sim.world();
    let list: Vec<_> = w
        .delivered
        .iter()
        .filter(|d| d.seq > after)
        .filter(|d| q.get("openid").is_none_or(|o| &d.openid == o))
        .cloned()
        .collect();
    Json(list).into_response()
}

/// `GET /_sim/users`.
pub async fn users(State(sim): State<Arc<Sim>>) -> Json<Vec<User>> {
    Json(sim.world().users.clone())
}

/// Body of `POST /_sim/users`.
#[derive(Debug, Deserialize)]
pub struct NewUser {
    nickname: Option<String>,
    openid: Option<String>,
}

/// `POST /_sim/users`: create a user (openid generated unless given).
pub async fn create_user(State(sim): State<Arc<Sim>>, Json(req): Json<NewUser>) -> Response {
    let openid = req
        .openid
        .filter(|o| !o.is_empty())
        .unwrap_or_else(|| format!("o{}", random_id(27)));
    if openid.len() > 64
        || !openid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return (StatusCode::BAD_REQUEST, "openid: 1-64 of [A-Za-z0-9_-]").into_response();
    }
    let nickname = req
        .nickname
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "微信用户".into());
    let user = User { openid, nickname };
    let mut w = sim.world();
    if !w.users.iter().any(|u| u.openid == user.openid) {
        w.users.push(user.clone());
    }
    Json(user).into_response()
}

/// `POST /_sim/tokens/expire`: every issued access token expires now (42001 on use).
pub async fn expire_tokens(State(sim): State<Arc<Sim>>) -> Json<Value> {
    let now = Instant::now();
    let mut w = sim.world();
    let n = w.tokens.len();
    for t in w.tokens.values_mut() {
        t.expires = now;
    }
    Json(json!({ "expired": n }))
}

/// Body of `POST /_sim/oauth/code`.
#[derive(Debug, Deserialize)]
pub struct CodeRequest {
    openid: String,
}

/// `POST /_sim/oauth/code`: a code as the authorize step would issue (for tests).
pub async fn issue_code(State(sim): State<Arc<Sim>>, Json(req): Json<CodeRequest>) -> Json<Value> {
    Json(json!({ "code": new_code(&sim, &req.openid) }))
}

/// `POST /_sim/reset`: forget deliveries, codes, tokens and faults (users and media stay).
pub async fn reset(State(sim): State<Arc<Sim>>) -> StatusCode {
    let mut w = sim.world();
    w.delivered.clear();
    w.codes.clear();
    w.tokens.clear();
    w.current = None;
    w.faults = Faults::default();
    StatusCode::NO_CONTENT
}

/// Body of `POST /_sim/chat`: what the user does in the chat.
#[derive(Debug, Deserialize)]
pub struct ChatRequest {
    openid: String,
    /// `text`, `image`, `location`, `subscribe`, `unsubscribe`, `click`, `view`,
    /// `subscribe_popup`.
    #[serde(rename = "type")]
    kind: String,
    content: Option<String>,
    media_id: Option<String>,
    key: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    label: Option<String>,
    /// For `subscribe_popup`: accept (default) or reject every configured template.
    accept: Option<bool>,
}

fn bad(msg: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "ok": false, "error": msg })),
    )
        .into_response()
}

/// `POST /_sim/chat`: build the message, sign and encrypt it as WeChat does, push it to the
/// callback, and return the account's (decrypted) reply.
pub async fn chat(State(sim): State<Arc<Sim>>, Json(req): Json<ChatRequest>) -> Response {
    let body = match req.kind.as_str() {
        "text" => match req.content {
            Some(c) if !c.is_empty() => Body::Text { content: c },
            _ => return bad("content required"),
        },
        "image" => match req.media_id {
            Some(id) if sim.world().media.contains_key(&id) => Body::Image {
                pic_url: format!("{}/_sim/media?media_id={id}", sim.config.public_url),
                media_id: id,
            },
            _ => return bad("unknown media_id"),
        },
        "location" => match (req.latitude, req.longitude) {
            (Some(latitude), Some(longitude)) if latitude.is_finite() && longitude.is_finite() => {
                Body::Location {
                    latitude,
                    longitude,
                    scale: Some(15),
                    label: req.label.unwrap_or_default(),
                }
            }
            _ => return bad("latitude and longitude required"),
        },
        "subscribe" => Body::Event(Event::Subscribe {
            event_key: req.key,
            ticket: None,
        }),
        "unsubscribe" => Body::Event(Event::Unsubscribe),
        "click" => Body::Event(Event::Click {
            key: req.key.unwrap_or_default(),
        }),
        "view" => Body::Event(Event::View {
            url: req.key.unwrap_or_default(),
            menu_id: None,
        }),
        "subscribe_popup" => {
            let status = if req.accept.unwrap_or(true) {
                SubscribeStatus::Accept
            } else {
                SubscribeStatus::Reject
            };
            Body::Event(Event::SubscribeMsgPopup {
                items: sim
                    .config
                    .template_ids
                    .iter()
                    .map(|t| PopupChoice {
                        template_id: t.clone(),
                        status: status.clone(),
                        scene: Some(0),
                    })
                    .collect(),
            })
        }
        _ => return bad("unknown type"),
    };
    let is_message = !matches!(body, Body::Event(_));
    let now = unix_now();
    let msg_id = is_message.then(|| {
        let mut b = [0u8; 8];
        let _ = getrandom::fill(&mut b);
        (u64::from_le_bytes(b) >> 2) as i64
    });
    let inbound = Inbound {
        to_user: sim.config.account_id.clone(),
        from_user: req.openid.clone(),
        create_time: now,
        msg_id,
        body,
    };
    push(&sim, &inbound, now).await
}

async fn push(sim: &Sim, inbound: &Inbound, now: i64) -> Response {
    // Whoever chats is a user of the account from then on (so notices to them are delivered).
    {
        let mut w = sim.world();
        if !w.users.iter().any(|u| u.openid == inbound.from_user) {
            w.users.push(User {
                openid: inbound.from_user.clone(),
                nickname: "微信用户".into(),
            });
        }
    }
    let Some(callback) = sim.config.callback_url.clone() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "ok": false, "error": "未配置 SIM_CALLBACK_URL" })),
        )
            .into_response();
    };
    let nonce = wechat::crypto::random_nonce();
    let p = sim.platform.push(
        &inbound.to_xml(),
        &sim.config.account_id,
        &inbound.from_user,
        now,
        &nonce,
        wechat::crypto::random_prefix(),
    );
    let resp = sim
        .http
        .post(&callback)
        .query(&p.query)
        .header(header::CONTENT_TYPE, "text/xml")
        .body(p.body)
        .send()
        .await;
    let resp = match resp {
        Ok(r) => r,
        Err(e) => {
            let what = if e.is_timeout() {
                "公众号 5 秒内未响应"
            } else {
                "无法连接公众号回调地址"
            };
            return Json(json!({ "ok": false, "error": what, "msg_id": inbound.msg_id }))
                .into_response();
        }
    };
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.unwrap_or_default();
    if !(200..300).contains(&status) {
        return Json(
            json!({ "ok": false, "status": status, "error": format!("回调返回 HTTP {status}") }),
        )
        .into_response();
    }
    match sim.platform.open_reply(&bytes, unix_now()) {
        Ok(None) => Json(json!({ "ok": true, "status": status, "reply": null, "msg_id": inbound.msg_id })).into_response(),
        Ok(Some(r)) => Json(json!({
            "ok": true,
            "status": status,
            "msg_id": inbound.msg_id,
            "reply": { "msg_type": r.msg_type, "content": r.content, "to_user": r.to_user, "from_user": r.from_user },
        }))
        .into_response(),
        Err(e) => Json(json!({ "ok": false, "status": status, "error": format!("回复无法解析：{}", e.code()) })).into_response(),
    }
}

/// `POST /_sim/chat/image` (multipart: `openid`, `media`): upload like `media/upload`, then
/// push an image message.
pub async fn chat_image(State(sim): State<Arc<Sim>>, mut form: Multipart) -> Response {
    let mut openid = None;
    let mut media = None;
    while let Ok(Some(field)) = form.next_field().await {
        match field.name() {
            Some("openid") => openid = field.text().await.ok(),
            Some("media") => {
                let ct = field.content_type().unwrap_or("image/jpeg").to_owned();
                if let Ok(b) = field.bytes().await {
                    media = Some((ct, b.to_vec()));
                }
            }
            _ => {}
        }
    }
    let (Some(openid), Some((ct, bytes))) = (openid, media) else {
        return bad("openid and media required");
    };
    if bytes.is_empty() {
        return bad("empty media");
    }
    let id = store_media(&sim, ct, bytes);
    let now = unix_now();
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    let inbound = Inbound {
        to_user: sim.config.account_id.clone(),
        from_user: openid,
        create_time: now,
        msg_id: Some((u64::from_le_bytes(b) >> 2) as i64),
        body: Body::Image {
            pic_url: format!("{}/_sim/media?media_id={id}", sim.config.public_url),
            media_id: id,
        },
    };
    push(&sim, &inbound, now).await
}

/// `GET /_sim/media?media_id=`: view an uploaded file without a token (for the page).
pub async fn media(
    State(sim): State<Arc<Sim>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let found = q
        .get("media_id")
        .and_then(|id| sim.world().media.get(id).cloned());
    match found {
        Some((ct, bytes)) => ([(header::CONTENT_TYPE, ct)], bytes).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
