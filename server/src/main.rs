//! The `ote-portal` binary: reads the configuration, then either starts the portal and
//! stops it gracefully on SIGINT or SIGTERM, or runs one console command (`console`).

use server::Portal;
use server::config::{Command, Config};
use std::process::ExitCode;

/// jemalloc, not glibc's malloc: a request's memory is often freed on the other worker
/// thread (tokio moves tasks between them), and glibc then takes the first thread's arena
/// lock, so the two threads wait on each other. About 10 % of the authenticated read's
/// throughput, a few MB more at rest (bench/README.md).
#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::load() {
        Ok(config) => config,
        Err(line) => {
            eprintln!("ote-portal: {line}");
            return ExitCode::from(2);
        }
    };
    server::logging::init(config.log_format);

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
