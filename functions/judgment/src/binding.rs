//! An officer's WeChat binding (`/api/officer/wechat-binding`): see it (masked), get a
//! single-use code to send as "绑定 <code>" to the official account, or unbind.

use api::{ApiError, Resp};
use chrono::{DateTime, Utc};
use domain::Officer;
use domain::wechat_binding::{BindingCode, CODE_LEN, COMMAND};
use serde_json::json;
use store::StoreError;
use store::roles::*;

use crate::store_error;

/// Draws of a fresh code before giving up (a clash of 40-bit codes is already unlikely).
const DRAWS: usize = 3;

/// `GET`: `{"bound": false}` or the masked openid and when it was bound.
pub async fn show<S: BindingCodes>(store: &S, officer: &Officer) -> Result<Resp, ApiError> {
    let binding = store
        .wechat_binding(&officer.id)
        .await
        .map_err(store_error)?;
    Ok(Resp::json(
        200,
        &match binding {
            Some(b) => json!({
                "bound": true,
                "openid_masked": b.openid_masked,
                "bound_at": b.bound_at,
            }),
            None => json!({ "bound": false }),
        },
    ))
}

/// `POST`: a new binding code (201), valid for ten minutes, used once.
pub async fn issue<S: BindingCodes>(
    store: &S,
    officer: &Officer,
    now: DateTime<Utc>,
) -> Result<Resp, ApiError> {
    for _ in 0..DRAWS {
        let mut bytes = [0u8; CODE_LEN];
        getrandom::fill(&mut bytes).map_err(|_| ApiError::unavailable())?;
        let code = BindingCode::from_random(bytes);
        match store.issue_binding_code(officer, &code, now).await {
            Ok(expires_at) => {
                let command = format!("{COMMAND} {}", code.as_str());
                return Ok(Resp::json(
                    201,
                    &json!({
                        "code": code.as_str(),
                        "command": command,
                        "expires_at": expires_at,
                        "instructions": format!(
                            "请在 10 分钟内用要绑定的微信关注“12336 国土资源违法举报”公众号，并发送“{command}”。"
                        ),
                    }),
                ));
            }
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(store_error(e)),
        }
    }
    Err(ApiError::unavailable())
}

/// `DELETE`: removes the binding; `{"unbound": false}` when there was none.
pub async fn remove<S: BindingCodes>(store: &S, officer: &Officer) -> Result<Resp, ApiError> {
    let unbound = store
        .unbind_wechat(&officer.id)
        .await
        .map_err(store_error)?;
    Ok(Resp::json(200, &json!({ "unbound": unbound })))
}
