//! Login throttling of SPEC.md section 5: after 5 failed logins for one user name within
//! 15 minutes, further attempts get 429 until the window passes. The failures live in
//! the database, so every replica counts the same ones.

use crate::db::Db;
use crate::error::ApiError;

pub const MAX_FAILURES: i64 = 5;
pub const WINDOW_SECONDS: i64 = 15 * 60;

/// The throttle's key: names are unique case-insensitively, so is their throttle.
pub fn key(user: &str) -> String {
    user.trim().to_lowercase()
}

/// 429 with the seconds until the oldest of the last `MAX_FAILURES` failures leaves the
/// window, if there are that many within it.
pub async fn check(db: &Db, key: &str, now: i64) -> Result<(), ApiError> {
    let fifth_newest: Option<i64> = sqlx::query_scalar(
        "SELECT failed_at FROM login_failures WHERE user_key = $1 AND failed_at > $2 \
         ORDER BY failed_at DESC LIMIT 1 OFFSET $3",
    )
    .bind(key)
    .bind(now - WINDOW_SECONDS)
    .bind(MAX_FAILURES - 1)
    .fetch_optional(&db.pool)
    .await?;
    match fifth_newest {
        Some(at) => Err(ApiError::TooManyRequests {
            retry_after: (at + WINDOW_SECONDS - now).max(1) as u64,
        }),
        None => Ok(()),
    }
}

pub async fn record_failure(db: &Db, key: &str, now: i64) -> Result<(), ApiError> {
    // Failures older than the window count for nobody: drop this name's old ones here.
    sqlx::query("DELETE FROM login_failures WHERE user_key = $1 AND failed_at <= $2")
        .bind(key)
        .bind(now - WINDOW_SECONDS)
        .execute(&db.pool)
        .await?;
    sqlx::query("INSERT INTO login_failures (user_key, failed_at) VALUES ($1, $2)")
        .bind(key)
        .bind(now)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// A successful login starts the count afresh.
pub async fn clear(db: &Db, key: &str) -> Result<(), ApiError> {
    sqlx::query("DELETE FROM login_failures WHERE user_key = $1")
        .bind(key)
        .execute(&db.pool)
        .await?;
    Ok(())
}
