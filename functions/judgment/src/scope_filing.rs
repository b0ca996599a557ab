//! Scope filing (arts. 8, 9): `GET /api/officer/scope` (a city's versions with their reporting
//! notices and acknowledgments, for the city and its counties; the filings of its cities, for a
//! province), `POST /api/officer/scope` (a city leader files a new version from an effective
//! time on) and `POST /api/officer/scope/{city}/{version}/acknowledge` (the province).

use api::{ApiError, Req, Resp};
use chrono::{DateTime, Utc};
use domain::scope_filing::{FilingError, ScopeProposal, file, may_acknowledge};
use domain::{BureauLevel, DivisionCode, Officer, Role};
use serde_json::{Value, json};
use store::StoreError;
use store::roles::*;
use store::scope_filing::FiledScope;

use crate::store_error;

fn filing_error(e: &FilingError) -> ApiError {
    match e {
        FilingError::NotCityLeader | FilingError::NotProvince => {
            ApiError::forbidden(e.code(), "本机关无权执行此操作")
        }
        _ => ApiError::new(422, e.code(), e.to_string()),
    }
}

async fn bureau_of<S: ScopeFilings + Scopes + Directory>(
    store: &S,
    o: &Officer,
) -> Result<domain::Bureau, ApiError> {
    let bureaus = store.bureaus().await.map_err(store_error)?;
    Ok(bureaus
        .get(&o.bureau)
        .map_err(|_| ApiError::forbidden("no_bureau", "账号所属机关不在平台上"))?
        .clone())
}

async fn own_bureau<S: ScopeFilings + Scopes + Directory>(
    store: &S,
    o: &Officer,
) -> Result<(domain::Bureau, DivisionCode), ApiError> {
    let bureau = bureau_of(store, o).await?;
    let division = bureau
        .division
        .ok_or_else(|| ApiError::not_found("no_scope"))?;
    Ok((bureau, division))
}

fn filed_view(f: &FiledScope) -> Value {
    json!({
        "city": f.scope.city,
        "version": f.scope.version,
        "effective_from": f.scope.effective_from,
        "extra_categories": f.scope.extra_categories,
        "exclusions": f.scope.exclusions.iter().map(|r| json!({
            "exclusion": r.exclusion, "text": r.text(), "narrowed": r.narrowed_to.is_some(),
        })).collect::<Vec<_>>(),
        "filing": f.scope.filing,
        "notice_version": f.notice_version,
        "notice_text": f.notice_text,
        "acknowledged": f.acknowledged,
    })
}

/// `GET /api/officer/scope`.
///
/// # Errors
/// 403 `no_bureau`; 404 `no_scope` (the ministry); store failures.
pub async fn show<S: ScopeFilings + Scopes + Directory>(
    store: &S,
    o: &Officer,
    now: DateTime<Utc>,
) -> Result<Resp, ApiError> {
    let (bureau, division) = own_bureau(store, o).await?;
    if bureau.level == BureauLevel::Province {
        let filings = store
            .province_filings(&division)
            .await
            .map_err(store_error)?;
        return Ok(Resp::json(
            200,
            &json!({
                "level": "province",
                "may_acknowledge": o.has(Role::Leader) || o.has(Role::Supervisor),
                "filings": filings.iter().map(filed_view).collect::<Vec<_>>(),
            }),
        ));
    }
    let city = division
        .city()
        .ok_or_else(|| ApiError::not_found("no_scope"))?;
    let history = store.scope_history(city).await.map_err(store_error)?;
    let filed = store.filed_scopes(&city).await.map_err(store_error)?;
    let in_force = history.in_force(now).version;
    let versions: Vec<Value> = history
        .versions()
        .iter()
        .map(|v| {
            let notice = v.reporting_notice();
            let stored = filed.iter().find(|f| f.scope.version == v.version);
            let mut view = filed_view(&FiledScope {
                scope: v.clone(),
                notice_version: notice.version_id,
                notice_text: notice.text,
                acknowledged: stored.and_then(|f| f.acknowledged.clone()),
            });
            view["in_force"] = json!(v.version == in_force);
            view["upcoming"] = json!(v.effective_from > now);
            view
        })
        .collect();
    Ok(Resp::json(
        200,
        &json!({
            "level": if bureau.level == BureauLevel::City { "city" } else { "county" },
            "city": city,
            "may_file": bureau.level == BureauLevel::City && o.has(Role::Leader),
            "versions": versions,
        }),
    ))
}

/// `POST /api/officer/scope`: the caller's city files `ScopeProposal`. Filing the same proposal
/// again (a retry) answers the version already filed.
///
/// # Errors
/// 400 `bad_json`; 403 `not_city_leader`; 409 `scope_changed` (another filing won);
/// 422 `effective_in_past`, `bad_reference`, `bad_extra_category`, `bad_exclusion`,
/// `effective_order`.
pub async fn submit<S: ScopeFilings + Scopes + Directory>(
    store: &S,
    o: &Officer,
    req: &Req,
    now: DateTime<Utc>,
) -> Result<Resp, ApiError> {
    let body = crate::actions::body(req)?;
    let proposal: ScopeProposal = serde_json::from_value(body)
        .map_err(|e| ApiError::bad_request("bad_json", format!("备案内容格式错误：{e}")))?;
    let (bureau, division) = own_bureau(store, o).await?;
    let city = division
        .city()
        .filter(|_| bureau.level == BureauLevel::City)
        .ok_or_else(|| filing_error(&FilingError::NotCityLeader))?;
    let history = store.scope_history(city).await.map_err(store_error)?;
    let latest = history.latest();
    let same = latest.filing.as_ref().is_some_and(|f| {
        f.reference == proposal.reference.trim()
            && latest.effective_from == proposal.effective_from
            && latest.extra_categories == proposal.extra_categories
            && latest.exclusions == proposal.exclusions
    });
    let (version, status) = if same {
        (latest.clone(), 200)
    } else {
        let version = file(&history, proposal, o, &bureau, now).map_err(|e| filing_error(&e))?;
        match store.add_scope_version(version.clone()).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                return Err(ApiError::new(
                    409,
                    "scope_changed",
                    "接收范围已被他人更新，请刷新后重试",
                ));
            }
            Err(e) => return Err(store_error(e)),
        }
        (version, 201)
    };
    tracing::info!(city = %city, version = version.version, officer = %o.id, "scope version filed");
    let notice = version.reporting_notice();
    Ok(Resp::json(
        status,
        &filed_view(&FiledScope {
            scope: version,
            notice_version: notice.version_id,
            notice_text: notice.text,
            acknowledged: None,
        }),
    ))
}

/// `POST /api/officer/scope/{city}/{version}/acknowledge`.
///
/// # Errors
/// 403 `not_province`; 404 `filing_not_found`; store failures.
pub async fn acknowledge<S: ScopeFilings + Scopes + Directory>(
    store: &S,
    o: &Officer,
    city: &str,
    version: &str,
    now: DateTime<Utc>,
) -> Result<Resp, ApiError> {
    let not_found = || ApiError::not_found("filing_not_found");
    let city = DivisionCode::parse(city).map_err(|_| not_found())?;
    let version: u32 = version.parse().map_err(|_| not_found())?;
    let bureau = bureau_of(store, o).await?;
    may_acknowledge(o, &bureau, city).map_err(|e| filing_error(&e))?;
    match store.acknowledge_filing(&city, version, o, now).await {
        Ok(f) => Ok(Resp::json(200, &filed_view(&f))),
        Err(StoreError::NotFound(_)) => Err(not_found()),
        Err(e) => Err(store_error(e)),
    }
}
