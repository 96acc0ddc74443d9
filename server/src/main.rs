//! The `ote-portal` binary: reads the configuration, then either starts the portal and
//! stops it gracefully on SIGINT or SIGTERM, or runs one console command (`console`).

use server::Portal;
use server::config::{Command, Config, LogFormat};
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::load() {
        Ok(config) => config,
        Err(line) => {
            eprintln!("ote-portal: {line}");
            return ExitCode::from(2);
        }
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    match config.log_format {
        LogFormat::Text => tracing_subscriber::fmt().with_env_filter(filter).init(),
        // One object per line; the request's span (its `request_id`) is in each.
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .init(),
    }

    match &config.command {
        None | Some(Command::Serve) => {}
        Some(command) => {
            return match server::console::run(&config.database_url, command).await {
                Ok(line) => {
                    println!("{line}");
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!("ote-portal: {err}");
                    ExitCode::FAILURE
                }
            };
        }
    }

    let portal = match Portal::start(config).await {
        Ok(portal) => portal,
        Err(err) => {
            eprintln!("ote-portal: {err}");
            return ExitCode::FAILURE;
        }
    };
    match portal.serve(shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("ote-portal: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = interrupt => tracing::info!("SIGINT received, shutting down"),
        _ = terminate.recv() => tracing::info!("SIGTERM received, shutting down"),
    }
}
