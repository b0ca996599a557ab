//! Stops the build with a clear message when the console's bundled Apache ECharts (installed by
//! `infra/dev` from `ui/officer/vendor/package-lock.json`) is missing: `main.rs` embeds it.

use std::path::Path;

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".to_owned());
    let file = Path::new(&manifest)
        .join("../../ui/officer/vendor/node_modules/echarts/dist/echarts.min.js");
    println!("cargo:rerun-if-changed={}", file.display());
    if !file.is_file() {
        eprintln!(
            "functions/web embeds Apache ECharts for the officer console, and {} is missing.\n\
             Install the console's pinned third-party files first:\n    \
             npm ci --prefix ui/officer/vendor\n\
             (infra/dev up and infra/dev test do this themselves.)",
            file.display()
        );
        std::process::exit(1);
    }
}
