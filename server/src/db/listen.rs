//! PostgreSQL only: every replica hears of every other replica's writes. Each write
//! transaction (`Db::begin_write`) sends `NOTIFY ote_writes` as it commits, and one task
//! per process `LISTEN`s on a connection of its own. Each notification moves the process's
//! write count on, which makes every row the caller cache kept before it stale (and wakes
//! the webhook worker: another replica's events may be due).
//!
//! When the listening connection is lost, notifications may be missed: the cache is off
//! (`Db::writes` is `None`) from the moment the loss is seen until the connection listens
//! again, and what was kept before is dropped. A loss nobody notices (a silent network) is
//! bounded by the cache's own limit on an entry's age (`OTE_CALLER_CACHE_MILLIS`).

use super::Db;
use crate::config::Dialect;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use std::str::FromStr;
use std::sync::atomic::Ordering;
use std::time::Duration;

pub const CHANNEL: &str = "ote_writes";
pub const NOTIFY: &str = "NOTIFY ote_writes";
/// How the listening connection names itself in `pg_stat_activity`.
pub const APPLICATION_NAME: &str = "ote-portal-listener";

/// Runs until the task is dropped; returns at once for SQLite.
pub async fn run(db: Db) {
    if db.dialect != Dialect::Postgres {
        return;
    }
    let mut retry = Duration::from_millis(100);
    loop {
        match listen(&db).await {
            Ok(mut listener) => {
                retry = Duration::from_millis(100);
                // Whatever was written while nobody listened: forget all that was read.
                db.heard_write();
                db.hearing.store(true, Ordering::Release);
                loop {
                    match listener.try_recv().await {
                        Ok(Some(_)) => db.heard_write(),
                        Ok(None) => {
                            tracing::warn!(
                                "the database's notifications stopped; the caller cache is off until they are back"
                            );
                            break;
                        }
                        Err(err) => {
                            tracing::warn!(error = %err, "the database's notifications failed; the caller cache is off until they are back");
                            break;
                        }
                    }
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for the database's notifications; the caller cache stays off");
            }
        }
        db.hearing.store(false, Ordering::Release);
        db.heard_write();
        tokio::time::sleep(retry).await;
        retry = (retry * 2).min(Duration::from_secs(5));
    }
}

async fn listen(db: &Db) -> Result<PgListener, sqlx::Error> {
    let options = PgConnectOptions::from_str(db.url.expose())?.application_name(APPLICATION_NAME);
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(options);
    let mut listener = PgListener::connect_with(&pool).await?;
    // Reconnecting is done here, explicitly, so that the moment of a loss is seen.
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}
