//! Embeds every `infra/data/calendar/YYYY.json` into the crate, so a new year is a data change.

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
    fs::write(out_dir.join("calendar_years.rs"), out)
}

fn missing_env() -> io::Error {
    io::Error::other("cargo sets CARGO_MANIFEST_DIR and OUT_DIR for build scripts")
}
