//! Embeds every `infra/data/calendar/YYYY.json` into the crate, so a new year is a data change,
//! and the county bounding boxes of `infra/data/divisions/boxes.json` as a compact table.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::{env, fs, io};

fn main() -> io::Result<()> {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").ok_or_else(missing_env)?);
    let dir = manifest.join("../../infra/data/calendar");
    println!("cargo::rerun-if-changed={}", dir.display());

    let mut files = Vec::new();
    for entry in fs::read_dir(&dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let is_year_file = name.len() == "YYYY.json".len()
            && name.ends_with(".json")
            && name.bytes().take(4).all(|b| b.is_ascii_digit());
        if is_year_file {
            files.push((name.to_owned(), fs::canonicalize(&path)?));
        }
    }
    files.sort();

    let mut out = String::from(
        "/// Every `infra/data/calendar/YYYY.json` as (file name, contents), by file name.\n\
         const EMBEDDED_YEARS: &[(&str, &str)] = &[\n",
    );
    for (name, path) in &files {
        println!("cargo::rerun-if-changed={}", path.display());
        let path = path
            .to_str()
            .ok_or_else(|| io::Error::other("non-UTF-8 path"))?;
        let _ = writeln!(out, "    ({name:?}, include_str!({path:?})),");
    }
    out.push_str("];\n");

    let out_dir = PathBuf::from(env::var_os("OUT_DIR").ok_or_else(missing_env)?);
    fs::write(out_dir.join("calendar_years.rs"), out)?;
    fs::write(out_dir.join("county_boxes.rs"), county_boxes(&manifest)?)
}

/// `boxes.json` (one `["code",min_lng,min_lat,max_lng,max_lat,"how"]` per line, sorted by code)
/// as `COUNTY_BOXES: &[(u32, [i16; 4])]` in hundredths of a degree: 12 bytes a county.
fn county_boxes(manifest: &std::path::Path) -> io::Result<String> {
    let path = manifest.join("../../infra/data/divisions/boxes.json");
    println!("cargo::rerun-if-changed={}", path.display());
    let text = fs::read_to_string(&path)?;
    let mut out = String::from(
        "/// `infra/data/divisions/boxes.json`: (code, [min_lng, min_lat, max_lng, max_lat] × 100).\n\
         const COUNTY_BOXES: &[(u32, [i16; 4])] = &[\n",
    );
    let bad = |line: &str| io::Error::other(format!("boxes.json: bad line {line:?}"));
    let mut last = 0u32;
    for line in text.lines().map(str::trim).filter(|l| l.starts_with("[\"")) {
        let fields: Vec<&str> = line
            .trim_end_matches(',')
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split(',')
            .collect();
        let [code, a, b, c, d, _how] = fields.as_slice() else {
            return Err(bad(line));
        };
        let code: u32 = code.trim_matches('"').parse().map_err(|_| bad(line))?;
        if code <= last {
            return Err(bad(line));
        }
        last = code;
        let mut v = [0i16; 4];
        for (slot, f) in v.iter_mut().zip([a, b, c, d]) {
            let deg: f64 = f.parse().map_err(|_| bad(line))?;
            *slot = i16::try_from((deg * 100.0).round() as i64).map_err(|_| bad(line))?;
        }
        let _ = writeln!(out, "    ({code}, {v:?}),");
    }
    out.push_str("];\n");
    Ok(out)
}

fn missing_env() -> io::Error {
    io::Error::other("cargo sets CARGO_MANIFEST_DIR and OUT_DIR for build scripts")
}
