//! The lifecycle of sign-ins: a password login starts a session, whose JWTs carry its id
//! as `sid`; logout ends one, housekeeping purges the idle ones, and `end_tokens` is the
//! one place that says which credentials of a user end when (a password change, a reset,
//! a second factor turned off, a user forbidden or deleted). The caller extractor refuses
//! every token whose session is gone, on every replica.

use super::{secret, token};
use crate::db::Db;
use crate::error::ApiError;
use sqlx::AnyConnection;

/// Longest user agent kept (the rest is cut).
const MAX_USER_AGENT: usize = 256;

/// Starts a session for a login; its id goes into the token as `sid`.
pub async fn start(
    conn: &mut sqlx::AnyConnection,
    user_id: i64,
    user_agent: &str,
    ip: &str,
    now: i64,
) -> Result<String, ApiError> {
    let id = secret::random_hex(16);
    let user_agent: String = user_agent
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_USER_AGENT)
        .collect();
    sqlx::query(
        "INSERT INTO sessions (id, user_id, create_time, last_seen_time, user_agent, ip) \
         VALUES ($1, $2, $3, $3, $4, $5)",
    )
    .bind(&id)
    .bind(user_id)
    .bind(now)
    .bind(user_agent)
    .bind(ip)
    .execute(conn)
    .await?;
    Ok(id)
}

/// Ends the session `sid` (logout), inside the caller's write transaction.
pub async fn end_one(conn: &mut sqlx::AnyConnection, sid: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE id = $1")
        .bind(sid)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Ends every session of `user_id` but `keep` (the caller's own), inside the caller's
/// write transaction; returns how many ended. Turning two-factor sign-in on or off does
/// this too: a session opened with a stolen password must not outlive the change.
pub async fn end_others(conn: &mut AnyConnection, user_id: i64, keep: &str) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
            .bind(user_id)
            .bind(keep)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// Sessions whose every token has expired: the last token was issued at most
/// `OTE_SEEN_SECONDS` after the session was last seen (the housekeeping task).
pub async fn purge(db: &Db, seen_seconds: u64, now: i64) -> Result<u64, sqlx::Error> {
    let idle = token::LIFETIME_SECONDS + seen_seconds as i64 + token::LEEWAY_SECONDS as i64;
    Ok(sqlx::query("DELETE FROM sessions WHERE last_seen_time < $1")
        .bind(now - idle)
        .execute(&db.pool)
        .await?
        .rows_affected())
}

/// Which of a user's credentials `end_tokens` ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Every session and its JWTs (own password change, two-factor reset).
    Sessions,
    /// Those and the personal tokens too (forbidden, refused, deleted, or a password
    /// reset by an administrator).
    Everything,
}

/// Ends a user's credentials inside the caller's write transaction: the one place that
/// says what dies when.
pub async fn end_tokens(conn: &mut AnyConnection, user_id: i64, ending: Ending) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET token_version = token_version + 1 WHERE id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    if ending == Ending::Everything {
        sqlx::query("DELETE FROM personal_tokens WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
