//! A 通报 bulletin as a spreadsheet: a cover sheet, the divisions' figures, the overdue list,
//! the 督办 cases with their answers.

use std::io::{Seek, Write};

use chrono_tz::Asia::Shanghai;
use domain::bulletin::{Bulletin, DivisionLine, FIGURE_COLUMNS, FigureValue};

use crate::{Cell, Export, ExportError};

/// The name of the figures sheet.
pub const FIGURES_SHEET: &str = "各地情况";
/// The name of the overdue sheet.
pub const OVERDUE_SHEET: &str = "逾期未办";
/// The first column of the figures sheet.
pub const DIVISION_HEADER: &str = "地区";
/// The label of the whole territory's line.
pub const TOTAL_LABEL: &str = "合计（全辖区）";
/// The headers of the overdue sheet.
pub const OVERDUE_HEADERS: [&str; 4] = ["线索编号", "期限", "承办机关", "到期时间"];
/// The name of the 督办 sheet.
pub const SUPERVISED_SHEET: &str = "督办案件";
/// The headers of the 督办 sheet: one row per case, its answers in one cell, oldest first.
pub const SUPERVISED_HEADERS: [&str; 7] = [
    "线索编号",
    "承办机关",
    "督办要求",
    "督办时间",
    "答复期限",
    "答复情况",
    "督办状态",
];

fn shanghai_minute(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&Shanghai)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn line(
    export: &mut Export<impl Write + Seek + Send>,
    label: &str,
    l: &DivisionLine,
) -> Result<(), ExportError> {
    let values = l.columns();
    let mut cells = Vec::with_capacity(values.len() + 1);
    cells.push(Cell::Text(label));
    cells.extend(values.into_iter().map(|v| match v {
        FigureValue::Count(n) => Cell::Int(n),
        FigureValue::Percent(Some(p)) => Cell::Number(p),
        FigureValue::Percent(None) => Cell::Text(""),
    }));
    export.row(&cells)
}

/// Writes `bulletin`: the cover (`通报`: title, period, status, issuer, issue time), the figures
/// (one line for the whole territory, then one per child bureau) and the overdue list.
///
/// # Errors
/// Write failures.
pub fn write<W: Write + Seek + Send>(
    bulletin: &Bulletin,
    issuer_name: &str,
    export: &mut Export<W>,
) -> Result<(), ExportError> {
    export.sheet("通报", &["项目", "内容"])?;
    let period = format!("{} 至 {}", bulletin.period.from, bulletin.period.to);
    let issued = bulletin
        .issued_at
        .map(|t| {
            t.with_timezone(&Shanghai)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default();
    let overdue_note = format!(
        "共 {} 条，列出 {} 条",
        bulletin.snapshot.overdue_total,
        bulletin.snapshot.overdue.len()
    );
    for (k, v) in [
        ("标题", bulletin.title.as_str()),
        ("发布机关", issuer_name),
        ("统计期间", period.as_str()),
        ("状态", bulletin.status.label()),
        ("印发时间", issued.as_str()),
        ("逾期未办", overdue_note.as_str()),
    ] {
        export.row(&[Cell::Text(k), Cell::Text(v)])?;
    }

    let mut headers = vec![DIVISION_HEADER];
    headers.extend(FIGURE_COLUMNS.iter().map(|(_, h)| *h));
    export.sheet(FIGURES_SHEET, &headers)?;
    if let Some(total) = &bulletin.snapshot.total {
        line(export, TOTAL_LABEL, total)?;
    }
    for d in &bulletin.snapshot.divisions {
        line(export, &d.name, d)?;
    }

    export.sheet(OVERDUE_SHEET, &OVERDUE_HEADERS)?;
    for o in &bulletin.snapshot.overdue {
        let due = o
            .due
            .with_timezone(&Shanghai)
            .format("%Y-%m-%d %H:%M")
            .to_string();
        export.row(&[
            Cell::Text(o.clue_no.as_str()),
            Cell::Text(&o.kind),
            Cell::Text(&o.bureau),
            Cell::Text(&due),
        ])?;
    }

    export.sheet(SUPERVISED_SHEET, &SUPERVISED_HEADERS)?;
    for s in &bulletin.snapshot.supervised {
        let opened = shanghai_minute(s.opened_at);
        let due_on = s.due_on.to_string();
        let answers = if s.answers.is_empty() {
            "未答复".to_owned()
        } else {
            s.answers
                .iter()
                .map(|a| format!("{} {}", shanghai_minute(a.at), a.text))
                .collect::<Vec<_>>()
                .join("\n")
        };
        export.row(&[
            Cell::Text(s.clue_no.as_str()),
            Cell::Text(&s.bureau),
            Cell::Text(&s.note),
            Cell::Text(&opened),
            Cell::Text(&due_on),
            Cell::Text(&answers),
            Cell::Text(s.ended.as_deref().unwrap_or("督办中")),
        ])?;
    }
    Ok(())
}
