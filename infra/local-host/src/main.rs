//! `local-host`: see the library docs. Usage:
//!
//! ```text
//! local-host --stack .dev/stack.json [--target-dir target/debug] [--api 127.0.0.1:3000]
//!            [--control 127.0.0.1:3001] [--body-limit BYTES] [--no-schedule-timers]
//!            [--alarm-interval SECONDS]
//! ```
//! Prints `api=<addr> control=<addr>` once it serves, then runs until SIGINT/SIGTERM.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use local_host::{Config, gateway};

fn parse(args: &[String]) -> Result<Config> {
    let mut config = Config {
        stack: PathBuf::from(".dev/stack.json"),
        target_dir: PathBuf::from("target/debug"),
        api: "127.0.0.1:3000".parse()?,
        control: "127.0.0.1:3001".parse()?,
        body_limit: gateway::DEFAULT_BODY_LIMIT,
        no_schedule_timers: false,
        alarm_interval: local_host::DEFAULT_ALARM_INTERVAL,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--stack" => config.stack = value()?.into(),
            "--target-dir" => config.target_dir = value()?.into(),
            "--api" => config.api = value()?.parse().context("--api")?,
            "--control" => config.control = value()?.parse().context("--control")?,
            "--body-limit" => config.body_limit = value()?.parse().context("--body-limit")?,
            "--no-schedule-timers" => config.no_schedule_timers = true,
            "--alarm-interval" => {
                let secs: f64 = value()?.parse().context("--alarm-interval")?;
                if !(secs.is_finite() && secs > 0.0) {
                    bail!("--alarm-interval must be a positive number of seconds");
                }
                config.alarm_interval = std::time::Duration::from_secs_f64(secs);
            }
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(config)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let running = match parse(&args) {
        Ok(config) => local_host::start(config).await,
        Err(e) => Err(e),
    };
    let running = match running {
        Ok(r) => r,
        Err(e) => {
            eprintln!("local-host: {e:#}");
            std::process::exit(1);
        }
    };
    println!("api={} control={}", running.api, running.control);
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("local-host: {e}");
            std::process::exit(1);
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    for f in running.host.functions.values() {
        f.stop().await;
    }
}
