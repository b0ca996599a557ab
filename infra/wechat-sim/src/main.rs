//! `wechat-sim`: the fake WeChat server and chat simulator for the local stack.
//!
//! Listens on `SIM_ADDR` (default 127.0.0.1:9010); see [`wechat_sim::Config::from_env`] for
//! the other variables.

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let config = wechat_sim::Config::from_env().context("reading SIM_* configuration")?;
    let addr = std::env::var("SIM_ADDR").unwrap_or_else(|_| wechat_sim::defaults::ADDR.to_owned());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("binding SIM_ADDR {addr}"))?;
    let (bound, handle) = wechat_sim::spawn(listener, config).context("starting the simulator")?;
    tracing::info!(addr = %bound, "wechat-sim listening");
    handle.await.context("simulator task")?;
    Ok(())
}
