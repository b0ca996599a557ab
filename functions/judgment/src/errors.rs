//! How store and domain refusals become the officer API's stable 4xx answers (and everything
//! else an opaque 503, with the cause in the log only).

use api::ApiError;
use domain::DomainError;
use domain::bureau::JurisdictionError;
use store::StoreError;

/// The API error of a domain refusal: 403 for who may not, 409 for a state that does not allow
/// it, 422 for content the rules refuse.
pub fn domain_error(e: &DomainError) -> ApiError {
    let message = e.to_string();
    match e {
        DomainError::InvalidTransition { .. } => {
            ApiError::new(409, "not_allowed_in_state", "线索当前状态不允许此操作")
        }
        DomainError::AlreadySupervised(_) => {
            ApiError::new(409, "already_supervised", "该线索已在督办中")
        }
        DomainError::NotSupervised => ApiError::new(409, "not_supervised", "该线索当前未被督办"),
        DomainError::NothingUnread => ApiError::new(409, "nothing_unread", "没有未读的举报人留言"),
        DomainError::Recused => ApiError::forbidden("recused", "您已申请回避该线索"),
        DomainError::NotAnOfficer
        | DomainError::NotHandlingBureau
        | DomainError::MissingRole(_)
        | DomainError::NotSupervisor => ApiError::forbidden(e.code(), "您无权对该线索执行此操作"),
        DomainError::Jurisdiction(JurisdictionError::OutsideTerritory { .. }) => {
            ApiError::new(422, "outside_territory", "指定的机关不在本机关辖区内")
        }
        _ => ApiError::new(422, e.code(), message),
    }
}

/// The API error of a store failure. Conflicts are answered by the caller (with the clue's
/// current state); here they are a plain 409.
pub fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound(_) => ApiError::not_found("not_found"),
        StoreError::Invalid(what) => ApiError::bad_request("invalid", format!("参数无效：{what}")),
        StoreError::Conflict => {
            ApiError::new(409, "stale_version", "线索已被他人修改，请刷新后重试")
        }
        StoreError::IdempotencyMismatch => ApiError::new(
            409,
            "idempotency_key_reused",
            "该幂等键已用于另一操作，请重新提交",
        ),
        StoreError::Domain(d) => domain_error(&d),
        StoreError::MergeGroupFull(n) => ApiError::new(
            422,
            "merge_group_full",
            format!("主线索已合并 {n} 条线索，不能再合并"),
        ),
        e => {
            tracing::error!(code = e.code(), error = %e, "store failed");
            ApiError::unavailable()
        }
    }
}

/// 404 for a clue the caller may not know of (never 403: no existence leak).
pub fn clue_not_found() -> ApiError {
    ApiError::not_found("clue_not_found")
}
