//! The lifecycle of sign-ins: a password login starts a session, whose JWTs carry its id
//! as `sid`; logout ends one, housekeeping purges the idle ones, and `end_tokens` is the
//! one place that says which credentials of a user end when (a password change, a reset,
//! a second factor turned off, a user forbidden or deleted), with what the identity
//! provider gave applications (`end_grants`). The caller extractor refuses every token
//! whose session is gone, on every replica.

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
    second_factor: bool,
    now: i64,
) -> Result<String, ApiError> {
    let id = secret::random_hex(16);
    let user_agent: String = user_agent
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_USER_AGENT)
        .collect();
    sqlx::query(
        "INSERT INTO sessions (id, user_id, create_time, last_seen_time, user_agent, ip, second_factor) \
         VALUES ($1, $2, $3, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(user_id)
    .bind(now)
    .bind(user_agent)
    .bind(ip)
    .bind(i64::from(second_factor))
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

/// The identity provider's rows that can no longer be used (the housekeeping task): codes
/// a code's lifetime after they expired (kept so long, a replay is still recognised),
/// expired refresh tokens, and grants with no refresh token left whose last access token
/// has surely expired. Returns how many rows went.
pub async fn purge_grants(db: &Db, oidc: &crate::config::OidcSettings, now: i64) -> Result<u64, sqlx::Error> {
    let code_seconds = oidc.code_seconds as i64;
    let lasting = (oidc.access_seconds + oidc.refresh_seconds + token::LEEWAY_SECONDS) as i64;
    let mut purged = 0;
    for (sql, before) in [
        (
            "DELETE FROM oauth_codes WHERE expire_time < $1",
            now - code_seconds,
        ),
        ("DELETE FROM oauth_refresh_tokens WHERE expire_time <= $1", now),
        (
            "DELETE FROM oauth_grants WHERE create_time < $1 AND NOT EXISTS \
             (SELECT 1 FROM oauth_refresh_tokens r WHERE r.grant_id = oauth_grants.id)",
            now - lasting,
        ),
    ] {
        purged += sqlx::query(sql)
            .bind(before)
            .execute(&db.pool)
            .await?
            .rows_affected();
    }
    Ok(purged)
}

/// Which of a user's credentials `end_tokens` ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Every session and its JWTs, and what the user let applications have through the
    /// identity provider: its grants (access and refresh tokens), codes and consents (own
    /// password change, two-factor reset).
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
    end_grants(conn, Grants::OfUser(user_id)).await
}

/// Whose identity-provider grants `end_grants` ends.
#[derive(Debug, Clone, Copy)]
pub enum Grants<'a> {
    /// Every grant, code and consent of a user (with `end_tokens`).
    OfUser(i64),
    /// Those of every member of a business, which its members are leaving: their `groups`
    /// change, so what applications were given ends.
    OfBusinessMembers(i64),
    /// One application's, for one user (the user revoked its consent).
    OfUserAndClient(i64, &'a str),
    /// Every user's with one application (the application is deleted).
    OfClient(&'a str),
    /// One application's that came from one portal session (the application logged out).
    OfSessionAndClient(&'a str, &'a str),
}

/// Ends grants (every access and refresh token they gave), unexchanged codes and
/// consents, inside the caller's write transaction. A logout keeps the consent.
pub async fn end_grants(conn: &mut AnyConnection, which: Grants<'_>) -> Result<(), sqlx::Error> {
    let (filter, consents) = match which {
        Grants::OfUser(_) => ("user_id = $1", true),
        Grants::OfBusinessMembers(_) => ("user_id IN (SELECT id FROM users WHERE business_id = $1)", true),
        Grants::OfUserAndClient(..) => ("user_id = $1 AND client_id = $2", true),
        Grants::OfClient(_) => ("client_id = $1", true),
        Grants::OfSessionAndClient(..) => ("session_id = $1 AND client_id = $2", false),
    };
    let mut statements = vec![
        format!(
            "DELETE FROM oauth_refresh_tokens WHERE grant_id IN (SELECT id FROM oauth_grants WHERE {filter})"
        ),
        format!("DELETE FROM oauth_grants WHERE {filter}"),
        format!("DELETE FROM oauth_codes WHERE {filter}"),
    ];
    if consents {
        statements.push(format!("DELETE FROM oauth_consents WHERE {filter}"));
    }
    for sql in statements {
        let query = sqlx::query(sqlx::AssertSqlSafe(sql));
        let query = match which {
            Grants::OfUser(id) | Grants::OfBusinessMembers(id) => query.bind(id),
            Grants::OfUserAndClient(id, client) => query.bind(id).bind(client),
            Grants::OfClient(client) => query.bind(client),
            Grants::OfSessionAndClient(session, client) => query.bind(session).bind(client),
        };
        query.execute(&mut *conn).await?;
    }
    Ok(())
}
