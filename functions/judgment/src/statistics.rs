//! A territory's statistics (`GET /api/officer/statistics`, arts. 5, 16): the figures of a
//! division in the caller's territory and of each child division for a period, and the series
//! per day / month / quarter / year for the trend chart; read from the counters' month rollups
//! and the days of the edge months (at most three Queries per cell shown, never per clue).

use api::{ApiError, Req, Resp};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use domain::calendar::shanghai_date;
use domain::figures::{Figures, FiguresError, Granularity, Period, series};
use domain::rollup::ReadPlan;
use domain::{BureauDirectory, DivisionCode, DivisionLevel, Divisions, Officer};
use serde_json::{Value, json};
use store::roles::*;

use crate::store_error;

/// What a statistics request asks for, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsQuery {
    pub division: DivisionCode,
    pub range: Period,
    pub granularity: Granularity,
}

/// The level's code in the API.
pub fn level_code(level: DivisionLevel) -> &'static str {
    match level {
        DivisionLevel::Province => "province",
        DivisionLevel::City => "city",
        DivisionLevel::County => "county",
    }
}

/// Parses and authorises the query: `division` defaults to the caller's bureau's and must lie
/// in its territory (else 404, as for a division that does not exist); `from`/`to` default to
/// this year up to today (Shanghai); `granularity` to `month`.
///
/// # Errors
/// 400 `invalid_division` / `invalid_date` / `invalid_period` / `invalid_granularity` /
/// `too_many_periods`; 404 `division_not_found`.
pub fn parse(
    req: &Req,
    officer: &Officer,
    bureaus: &BureauDirectory,
    divisions: &Divisions,
    now: DateTime<Utc>,
) -> Result<StatsQuery, ApiError> {
    let own = bureaus
        .get(&officer.bureau)
        .map_err(|_| ApiError::not_found("division_not_found"))?;
    let division = match (req.query("division"), own.division) {
        (Some(d), _) => DivisionCode::parse(d)
            .map_err(|_| ApiError::bad_request("invalid_division", "行政区划代码无效"))?,
        (None, Some(d)) => d,
        (None, None) => return Err(ApiError::not_found("division_not_found")),
    };
    if divisions.get(&division).is_none() || !own.territory_contains(&division) {
        return Err(ApiError::not_found("division_not_found"));
    }
    let date = |name: &str| -> Result<Option<NaiveDate>, ApiError> {
        req.query(name)
            .map(|d| {
                NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map_err(|_| ApiError::bad_request("invalid_date", "日期格式应为 YYYY-MM-DD"))
            })
            .transpose()
    };
    let today = shanghai_date(now);
    let to = date("to")?.unwrap_or(today);
    let from = match date("from")? {
        Some(f) => f,
        None => NaiveDate::from_ymd_opt(to.year(), 1, 1).unwrap_or(to),
    };
    let range = Period::new(from, to)
        .map_err(|_| ApiError::bad_request("invalid_period", "起始日期不能晚于截止日期"))?;
    let granularity =
        Granularity::parse(req.query("granularity").unwrap_or("month")).map_err(|_| {
            ApiError::bad_request(
                "invalid_granularity",
                "统计粒度应为 day、month、quarter 或 year",
            )
        })?;
    range.split(granularity).map_err(periods_error)?;
    Ok(StatsQuery {
        division,
        range,
        granularity,
    })
}

fn periods_error(e: FiguresError) -> ApiError {
    match e {
        FiguresError::TooManyPeriods => ApiError::bad_request(
            "too_many_periods",
            format!("统计区间过长，最多 {} 个时段", domain::figures::MAX_PERIODS),
        ),
        FiguresError::Reversed => {
            ApiError::bad_request("invalid_period", "起始日期不能晚于截止日期")
        }
        FiguresError::UnknownGranularity(_) => ApiError::bad_request(
            "invalid_granularity",
            "统计粒度应为 day、month、quarter 或 year",
        ),
    }
}

/// The child divisions with their own statistics cell: a province's cities, a city's counties.
pub fn children(divisions: &Divisions, division: &DivisionCode) -> Vec<DivisionCode> {
    let mut out: Vec<DivisionCode> = match division.level() {
        DivisionLevel::County => Vec::new(),
        _ => divisions.children(division).map(|d| d.code()).collect(),
    };
    out.sort();
    out
}

/// The Chinese name of every category stat code (annex 1 categories and `uncertain`).
fn category_labels() -> serde_json::Map<String, Value> {
    let mut labels: serde_json::Map<String, Value> = domain::scope::Category::ALL
        .iter()
        .map(|c| (c.code().to_owned(), json!(c.name())))
        .collect();
    labels.insert(
        "uncertain".to_owned(),
        json!(domain::scope::CategoryChoice::UNCERTAIN_LABEL),
    );
    labels
}

/// `GET /api/officer/statistics?division=&from=&to=&granularity=`.
///
/// # Errors
/// See [`parse`]; store failures.
pub async fn show<S: Statistics + Directory>(
    store: &S,
    officer: &Officer,
    req: &Req,
    now: DateTime<Utc>,
) -> Result<Resp, ApiError> {
    let bureaus = store.bureaus().await.map_err(store_error)?;
    let divisions = Divisions::embedded();
    let q = parse(req, officer, &bureaus, divisions, now)?;
    let kids = children(divisions, &q.division);
    // The own cell's plan serves its series (every day for a daily series); the children show
    // the whole range only, read from month items but for the edge months.
    let mut cells = Vec::with_capacity(kids.len() + 1);
    let today = shanghai_date(now);
    cells.push((
        q.division,
        ReadPlan::for_series(q.range, q.granularity).counted_up_to(today),
    ));
    cells.extend(
        kids.iter()
            .map(|kid| (*kid, ReadPlan::for_period(q.range).counted_up_to(today))),
    );
    let days = store.read_counters_of(&cells).await.map_err(store_error)?;
    let empty = domain::figures::DayCounters::new();
    let own_days = days.get(&q.division).unwrap_or(&empty);
    let trend = series(own_days, q.range, q.granularity).map_err(periods_error)?;
    let own = bureaus.get(&officer.bureau).ok();
    let place = |code: &DivisionCode| -> Value {
        json!({
            "code": code,
            "name": divisions.full_name(code).unwrap_or_else(|| code.to_string()),
            "short_name": divisions.get(code).map_or_else(|| code.to_string(), |d| d.name().to_owned()),
            "level": level_code(code.level()),
            "bureau_id": bureaus.land_bureau_of(code).map(|b| b.id.as_str().to_owned()),
        })
    };
    // The way up to the caller's own division, for the breadcrumbs.
    let mut path = Vec::new();
    let mut up = q.division.parent();
    while let Some(code) = up {
        if !own.is_some_and(|b| b.territory_contains(&code)) {
            break;
        }
        path.push(place(&code));
        up = code.parent();
    }
    path.reverse();
    let child_rows: Vec<Value> = kids
        .iter()
        .map(|code| {
            let figures = Figures::of(days.get(code).unwrap_or(&empty), q.range);
            let mut row = place(code);
            row["figures"] = json!(figures);
            row
        })
        .collect();
    Ok(Resp::json(
        200,
        &json!({
            "division": place(&q.division),
            "path": path,
            "from": q.range.from,
            "to": q.range.to,
            "granularity": q.granularity.code(),
            "figures": Figures::of(own_days, q.range),
            "series": trend,
            "children": child_rows,
            "category_labels": category_labels(),
        }),
    ))
}
