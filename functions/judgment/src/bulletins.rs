//! 通报 bulletins (`/api/officer/bulletins*`): an upper bureau generates one for a period (a
//! snapshot of its child divisions' figures and the overdue list), reviews and issues it; its
//! child bureaus read it (the first read is their receipt); both download it as XLSX or CSV.

use std::io::Cursor;

use api::router::Matched;
use api::{ApiError, Req, Resp};
use chrono::{DateTime, NaiveDate, Utc};
use domain::bulletin::{
    Bulletin, BulletinError, BulletinId, DivisionLine, MAX_OVERDUE_LINES, OverdueLine, Snapshot,
    Standing, SupervisedLine, parse_title, period,
};
use domain::calendar::shanghai_date;
use domain::figures::{Figures, Period};
use domain::rollup::ReadPlan;
use domain::{Bureau, BureauDirectory, Officer};
use serde_json::{Value, json};
use store::StoreError;
use store::bulletins::Written;
use store::roles::*;

use crate::actions;
use crate::store_error;

/// The overdue entries read per request while building a snapshot.
const OVERDUE_PAGE: i32 = 100;

fn bulletin_error(e: &BulletinError) -> ApiError {
    match e {
        BulletinError::InvalidPeriod => ApiError::bad_request(
            "invalid_period",
            "统计期间无效：起始日期不得晚于截止日期，且不超过 366 天",
        ),
        BulletinError::InvalidTitle => {
            ApiError::new(422, "invalid_title", "标题应为 1 到 100 个字符")
        }
        BulletinError::NotAnUpperBureau => ApiError::forbidden(
            "not_an_upper_bureau",
            "只有下辖机关的市、省级机关可以发布通报",
        ),
        BulletinError::NotPermitted => ApiError::forbidden(
            "not_permitted",
            "只有发布机关的领导或督办人员可以执行此操作",
        ),
        BulletinError::WrongStatus(s) => ApiError::new(
            409,
            "not_allowed_in_status",
            format!("通报当前状态（{}）不允许此操作", s.label()),
        ),
        BulletinError::InvalidId => not_found(),
    }
}

fn not_found() -> ApiError {
    ApiError::not_found("bulletin_not_found")
}

fn day(body: &Value, name: &str) -> Result<NaiveDate, ApiError> {
    body.get(name)
        .and_then(Value::as_str)
        .and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
        .ok_or_else(|| ApiError::bad_request("invalid_date", "日期格式应为 YYYY-MM-DD"))
}

/// The lines of `bureaus` over `period` (those on a division), from the statistics counters as
/// the read plan of the period reads them (month rollups, days only for the edge months).
async fn lines<S: Bulletins + Statistics + SupervisionLists + SweepIndex + Directory>(
    store: &S,
    bureaus: &[&Bureau],
    period: Period,
) -> Result<Vec<DivisionLine>, ApiError> {
    let cells: Vec<_> = bureaus
        .iter()
        .filter_map(|b| b.division)
        .map(|cell| (cell, ReadPlan::for_period(period)))
        .collect();
    let days = store.read_counters_of(&cells).await.map_err(store_error)?;
    Ok(bureaus
        .iter()
        .filter_map(|b| {
            let cell = b.division?;
            Some(DivisionLine {
                bureau: b.id.clone(),
                name: b.region.clone(),
                figures: days
                    .get(&cell)
                    .map_or_else(Figures::default, |d| Figures::of(d, period)),
            })
        })
        .collect())
}

/// The snapshot of `issuer` with `children` over `period`: the whole territory's line, one per
/// child, and the overdue entries the sweep recorded for the issuer whose due day lies in the
/// period (latest due first; the first [`MAX_OVERDUE_LINES`] listed, all counted).
async fn snapshot<S: Bulletins + Statistics + SupervisionLists + SweepIndex + Directory>(
    store: &S,
    issuer: &Bureau,
    children: &[&Bureau],
    bureaus: &BureauDirectory,
    period: Period,
) -> Result<Snapshot, ApiError> {
    let mut all = vec![issuer];
    all.extend(children);
    let mut divisions = lines(store, &all, period).await?;
    let total = (issuer.division.is_some() && !divisions.is_empty()).then(|| divisions.remove(0));
    let mut snap = Snapshot {
        total,
        divisions,
        ..Snapshot::default()
    };
    let mut cursor: Option<String> = None;
    'pages: loop {
        let page = store
            .overdue_entries(&issuer.id, OVERDUE_PAGE, cursor.as_deref())
            .await
            .map_err(store_error)?;
        for e in page.items {
            let due_day = shanghai_date(e.due);
            if due_day < period.from {
                break 'pages;
            }
            if due_day > period.to {
                continue;
            }
            snap.overdue_total += 1;
            if snap.overdue.len() < MAX_OVERDUE_LINES {
                snap.overdue.push(OverdueLine {
                    clue_id: e.clue_id,
                    clue_no: e.clue_no,
                    kind: e.kind.label().to_owned(),
                    bureau: bureaus
                        .get(&e.bureau)
                        .map_or_else(|_| e.bureau.to_string(), |b| b.region.clone()),
                    due: e.due,
                });
            }
        }
        match page.next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    // The 督办 cases the issuer opened that ran during the period, with their answers.
    let mut cursor: Option<String> = None;
    loop {
        let page = store
            .supervisions_by(&issuer.id, OVERDUE_PAGE, cursor.as_deref())
            .await
            .map_err(store_error)?;
        for e in page.items {
            let bureau = bureaus
                .get(&e.handler)
                .map_or_else(|_| e.handler.to_string(), |b| b.region.clone());
            if snap.supervised.len() < MAX_OVERDUE_LINES
                && let Some(line) =
                    SupervisedLine::of(e.clue_id, e.clue_no, bureau, &e.supervision, &period)
            {
                snap.supervised.push(line);
            }
        }
        match page.next {
            Some(n) if snap.supervised.len() < MAX_OVERDUE_LINES => cursor = Some(n),
            _ => break,
        }
    }
    snap.supervised.sort_by_key(|s| s.opened_at);
    Ok(snap)
}

fn summary(b: &Bulletin) -> Value {
    json!({
        "id": b.id,
        "issuer": b.issuer,
        "title": b.title,
        "from": b.period.from,
        "to": b.period.to,
        "status": b.status.code(),
        "status_label": b.status.label(),
        "version": b.version,
        "created_at": b.created_at,
        "issued_at": b.issued_at,
    })
}

fn full(b: &Bulletin, bureaus: &BureauDirectory) -> Value {
    let columns: Vec<Value> = domain::bulletin::FIGURE_COLUMNS
        .iter()
        .map(|(code, label)| json!({"code": code, "label": label}))
        .collect();
    let line =
        |l: &DivisionLine| json!({"bureau": l.bureau, "name": l.name, "values": l.columns()});
    let mut v = summary(b);
    v["issuer_name"] = json!(bureaus.get(&b.issuer).map_or("", |x| x.name.as_str()));
    v["columns"] = json!(columns);
    v["total"] = b.snapshot.total.as_ref().map_or(Value::Null, line);
    v["divisions"] = b.snapshot.divisions.iter().map(line).collect();
    v["overdue"] = json!(b.snapshot.overdue);
    v["overdue_total"] = json!(b.snapshot.overdue_total);
    v["supervised"] = json!(b.snapshot.supervised);
    v["recipients"] = json!(b.recipients);
    v["reviewed_by"] = json!(b.reviewed_by);
    v
}

/// Loads bulletin `raw` as `officer`'s bureau stands towards it; 404 for anyone else.
async fn load<S: Bulletins + Statistics + SupervisionLists + SweepIndex + Directory>(
    store: &S,
    officer: &Officer,
    raw: &str,
) -> Result<(Bulletin, String, Standing), ApiError> {
    let id = BulletinId::parse(raw).map_err(|_| not_found())?;
    let (b, last_key) = store
        .bulletin(&id)
        .await
        .map_err(store_error)?
        .ok_or_else(not_found)?;
    match b.standing(&officer.bureau) {
        Standing::None => Err(not_found()),
        s => Ok((b, last_key, s)),
    }
}

/// `GET /api/officer/bulletins`: the bulletins the caller's bureau generated and those issued to
/// it (with whether it has read each).
///
/// # Errors
/// Store failures.
pub async fn list<S: Bulletins + Statistics + SupervisionLists + SweepIndex + Directory>(
    store: &S,
    officer: &Officer,
) -> Result<Resp, ApiError> {
    let own = store
        .bulletins_of(&officer.bureau)
        .await
        .map_err(store_error)?;
    let received = store
        .bulletins_to(&officer.bureau)
        .await
        .map_err(store_error)?;
    Ok(Resp::json(
        200,
        &json!({
            "issued": own.iter().map(summary).collect::<Vec<_>>(),
            "received": received.iter().map(|r| {
                let mut v = summary(&r.bulletin);
                v["read_at"] = json!(r.read.as_ref().map(|x| x.at));
                v
            }).collect::<Vec<_>>(),
        }),
    ))
}

/// `POST /api/officer/bulletins` `{title, from, to}` with an `Idempotency-Key`: a new draft with
/// the snapshot of the period (201; a retry with the same key answers the same bulletin, 200).
///
/// # Errors
/// 400 `invalid_date`/`invalid_period`, 422 `invalid_title`, 403 `not_permitted` /
/// `not_an_upper_bureau`; store failures.
pub async fn generate<S: Bulletins + Statistics + SupervisionLists + SweepIndex + Directory>(
    store: &S,
    officer: &Officer,
    req: &Req,
    now: DateTime<Utc>,
) -> Result<Resp, ApiError> {
    let (body, _, key) = actions::envelope(req, officer)?;
    let bureaus = store.bureaus().await.map_err(store_error)?;
    let (issuer, children) =
        Bulletin::check_generate(officer, &bureaus).map_err(|e| bulletin_error(&e))?;
    let period = period(day(&body, "from")?, day(&body, "to")?).map_err(|e| bulletin_error(&e))?;
    let title = parse_title(body.get("title").and_then(Value::as_str).unwrap_or(""))
        .map_err(|e| bulletin_error(&e))?;
    let id = BulletinId::derive(&issuer.id, key.as_str());
    let snap = Box::pin(snapshot(store, issuer, &children, &bureaus, period)).await?;
    let recipients = children.iter().map(|c| c.id.clone()).collect();
    let b = Bulletin::draft(id.clone(), officer, title, period, snap, recipients, now);
    let (status, b) = match store
        .create_bulletin(&b, key.as_str())
        .await
        .map_err(store_error)?
    {
        Written::Done => (201, b),
        Written::Replayed => (
            200,
            store
                .bulletin(&id)
                .await
                .map_err(store_error)?
                .ok_or_else(not_found)?
                .0,
        ),
    };
    let mut v = full(&b, &bureaus);
    v["replayed"] = json!(status == 200);
    Ok(Resp::json(status, &v))
}

/// `GET /api/officer/bulletins/{id}`: the bulletin; the issuer also gets the read receipts, a
/// recipient's first read is recorded as its bureau's receipt.
///
/// # Errors
/// 404 `bulletin_not_found` outside the issuer and (once issued) its recipients.
pub async fn show<S: Bulletins + Statistics + SupervisionLists + SweepIndex + Directory>(
    store: &S,
    officer: &Officer,
    m: &Matched<crate::Route>,
    now: DateTime<Utc>,
) -> Result<Resp, ApiError> {
    let (b, _, standing) = load(store, officer, m.param("id")).await?;
    let bureaus = store.bureaus().await.map_err(store_error)?;
    let mut v = full(&b, &bureaus);
    match standing {
        Standing::Issuer => {
            let receipts = store.bulletin_receipts(&b.id).await.map_err(store_error)?;
            v["receipts"] = receipts
                .iter()
                .map(|(bureau, r)| {
                    json!({
                        "bureau": bureau,
                        "name": bureaus.get(bureau).map_or("", |x| x.region.as_str()),
                        "read_at": r.as_ref().map(|x| x.at),
                        "read_by": r.as_ref().map(|x| &x.officer),
                    })
                })
                .collect();
        }
        Standing::Recipient => {
            store
                .record_bulletin_read(&b.id, &officer.bureau, &officer.id, now)
                .await
                .map_err(store_error)?;
        }
        Standing::None => return Err(not_found()),
    }
    v["standing"] = json!(match standing {
        Standing::Issuer => "issuer",
        _ => "recipient",
    });
    Ok(Resp::json(200, &v))
}

/// `POST /api/officer/bulletins/{id}/{edit|review|issue}` `{version, title?, refresh?}` with an
/// `Idempotency-Key`: the issuer's changes (edit: title and/or a refreshed snapshot, back to
/// draft; review: draft → reviewed; issue: reviewed → issued to the child bureaus).
///
/// # Errors
/// 404 for anyone but the issuer and recipients, 403 `not_permitted` for the others,
/// 400 `version_required`, 409 `stale_version` / `not_allowed_in_status`.
pub async fn act<S: Bulletins + Statistics + SupervisionLists + SweepIndex + Directory>(
    store: &S,
    officer: &Officer,
    m: &Matched<crate::Route>,
    req: &Req,
    now: DateTime<Utc>,
) -> Result<Resp, ApiError> {
    let (mut b, last_key, _) = load(store, officer, m.param("id")).await?;
    let (body, version, key) = actions::envelope(req, officer)?;
    let bureaus = store.bureaus().await.map_err(store_error)?;
    if last_key == key.as_str() {
        let mut v = full(&b, &bureaus);
        v["replayed"] = json!(true);
        return Ok(Resp::json(200, &v));
    }
    let version =
        version.ok_or_else(|| ApiError::bad_request("version_required", "缺少通报版本号"))?;
    let seen = b.version;
    match m.param("action") {
        "edit" => {
            let title = body
                .get("title")
                .and_then(Value::as_str)
                .map(parse_title)
                .transpose()
                .map_err(|e| bulletin_error(&e))?;
            let snap = if body.get("refresh").and_then(Value::as_bool) == Some(true) {
                let (issuer, children) =
                    Bulletin::check_generate(officer, &bureaus).map_err(|e| bulletin_error(&e))?;
                Some(Box::pin(snapshot(store, issuer, &children, &bureaus, b.period)).await?)
            } else {
                None
            };
            b.edit(officer, title, snap)
        }
        "review" => b.review(officer),
        "issue" => b.issue(officer, now),
        _ => return Err(ApiError::not_found("no_route")),
    }
    .map_err(|e| bulletin_error(&e))?;
    if version != seen {
        return Err(stale());
    }
    match store.update_bulletin(&b, seen, key.as_str()).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => return Err(stale()),
        Err(e) => return Err(store_error(e)),
    }
    let mut v = full(&b, &bureaus);
    v["replayed"] = json!(false);
    Ok(Resp::json(200, &v))
}

fn stale() -> ApiError {
    ApiError::new(409, "stale_version", "通报已被他人修改，请刷新后重试")
}

/// `GET /api/officer/bulletins/{id}/export?format=xlsx|csv`: the bulletin as a file, for the
/// issuer and its recipients.
///
/// # Errors
/// 400 `invalid_format`; 404 as [`show`]; 503 when the file cannot be written.
pub async fn download<S: Bulletins + Statistics + SupervisionLists + SweepIndex + Directory>(
    store: &S,
    officer: &Officer,
    m: &Matched<crate::Route>,
    req: &Req,
) -> Result<Resp, ApiError> {
    let format = sheets::Format::parse(req.query("format").unwrap_or("xlsx"))
        .ok_or_else(|| ApiError::bad_request("invalid_format", "格式应为 xlsx 或 csv"))?;
    let (b, _, _) = load(store, officer, m.param("id")).await?;
    let bureaus = store.bureaus().await.map_err(store_error)?;
    let issuer_name = bureaus.get(&b.issuer).map_or("", |x| x.name.as_str());
    let written = sheets::Export::new(format, Cursor::new(Vec::new())).and_then(|mut x| {
        sheets::bulletin::write(&b, issuer_name, &mut x)?;
        x.finish()
    });
    let bytes = written
        .map_err(|e| {
            tracing::error!(error = %e, bulletin = %b.id, "export failed");
            ApiError::unavailable()
        })?
        .into_inner();
    let filename = format!("{}.{}", b.id, format.extension());
    Ok(Resp::file(format.download_content_type(), &filename, bytes))
}
