//! `gateway [--config livechat.toml]`: reads the config (file, then `LIVECHAT_*` variables),
//! opens the store and serves until Ctrl-C or `SIGTERM` (what systemd, Docker and Kubernetes
//! send), then stops gracefully: sockets are told "going away".

use gateway::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .init();
    gateway::memory::give_back_freed_pages();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let config_path = match (args.next().as_deref(), args.next()) {
        (Some("--config"), Some(path)) => Some(PathBuf::from(path)),
        (None, _) => std::env::var_os("LIVECHAT_CONFIG").map(PathBuf::from),
        _ => return Err("usage: gateway [--config FILE]".into()),
    };
    let config = Config::load(config_path.as_deref(), std::env::vars())?;
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    tracing::info!(address = %listener.local_addr()?, "gateway listening");
    let state = gateway::prepare(config).await?;
    gateway::serve(listener, state, stop_signal()).await?;
    Ok(())
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("stopping: closing sockets, finishing requests");
}
