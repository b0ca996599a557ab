//! Figures, not a test: time, file size and peak memory of exporting 100 000 clue rows as XLSX
//! and as CSV through [`sheets::Export`] into a file (the worker writes to `/tmp` likewise).
//!
//! `cargo run --release -p sheets --example export_100k`; each format in its own process
//! (`-- xlsx` / `-- csv`) so the peak resident set of one does not hide the other.

use std::fs::File;
use std::io::BufWriter;
use std::time::Instant;

use sheets::{Cell, Export, Format};

const ROWS: u32 = 100_000;
const HEADERS: [&str; 7] = [
    "线索编号",
    "地区",
    "类别",
    "状态",
    "收到时间",
    "违法行为发生地",
    "承办机关",
];

/// Peak resident set of this process (Linux `VmHWM`), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let format = match std::env::args().nth(1).as_deref() {
        Some("csv") => Format::Csv,
        _ => Format::Xlsx,
    };
    let before = peak_rss_kib().unwrap_or(0);
    let path = std::env::temp_dir().join(format!("export_100k.{}", format.extension()));
    let started = Instant::now();
    let file = BufWriter::new(File::create(&path)?);
    let mut x = Export::new(format, file)?;
    x.sheet("线索", &HEADERS)?;
    let counties = [
        "杭州市西湖区",
        "杭州市余杭区",
        "宁波市海曙区",
        "温州市鹿城区",
    ];
    for i in 0..ROWS {
        let no = format!(
            "3301{:02}-2026{:04}-{:04}",
            i % 7,
            101 + i % 1200,
            i % 10_000
        );
        let county = counties[(i % 4) as usize];
        let address = format!("{county}某街道第{}村东侧农田{}号", i % 300, i);
        x.row(&[
            Cell::Text(&no),
            Cell::Text(county),
            Cell::Text("破坏耕地"),
            Cell::Text(if i % 3 == 0 { "已办结" } else { "核查中" }),
            Cell::Text("2026-03-10 10:00"),
            Cell::Text(&address),
            Cell::Int(i64::from(i % 97)),
        ])?;
    }
    x.finish()?;
    let elapsed = started.elapsed();
    let size = std::fs::metadata(&path)?.len();
    std::fs::remove_file(&path)?;
    println!(
        "{}: {ROWS} rows in {:.2} s, file {:.1} MB, peak RSS {} KiB (at start {before} KiB)",
        format.extension(),
        elapsed.as_secs_f64(),
        size as f64 / 1e6,
        peak_rss_kib().unwrap_or(0)
    );
    Ok(())
}
