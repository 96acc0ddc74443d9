//! Sessions (`/v1/user/sessions`): each password login starts one; its JWTs carry its id
//! as `sid` through refreshes. Ending a session deletes its row, and the caller extractor
//! refuses every token whose session is gone, on every replica.

use crate::api::audit::{self, Actor, Entry};
use crate::api::{Message, Reply, now, ok};
use crate::auth::{Caller, token};
use crate::db::Db;
use crate::error::ApiError;
use crate::extract::SessionId;
use crate::state::AppState;
use app::model::{Envelope, Session};
use axum::extract::State;

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
    let id = super::random_hex(16);
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

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: String,
    create_time: i64,
    last_seen_time: i64,
    user_agent: String,
    ip: String,
}

/// Where the caller is signed in, most recently seen first.
#[utoipa::path(get, path = "/user/sessions", tag = "sessions", security(("token" = [])),
    responses(
        (status = 200, description = "The caller's sessions; `current` marks this one", body = Envelope<Vec<Session>>),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Asked with a personal token, or two-factor enrolment required", body = Message),
    ))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Reply<Vec<Session>> {
    let current = caller.claims()?.sid.clone();
    let rows: Vec<SessionRow> = sqlx::query_as(
        "SELECT id, create_time, last_seen_time, user_agent, ip FROM sessions \
         WHERE user_id = $1 ORDER BY last_seen_time DESC, create_time DESC",
    )
    .bind(caller.id)
    .fetch_all(&state.db.pool)
    .await?;
    let sessions: Vec<Session> = rows
        .into_iter()
        .map(|row| Session {
            current: row.id == current,
            id: row.id,
            create_time: row.create_time,
            last_seen_time: row.last_seen_time,
            user_agent: row.user_agent,
            ip: row.ip,
        })
        .collect();
    let total = sessions.len() as i64;
    ok(Envelope::page(sessions, total))
}

/// End one of the caller's sessions (this one too, if named): its tokens are refused at
/// once.
#[utoipa::path(delete, path = "/user/sessions/{id}", tag = "sessions", security(("token" = [])),
    params(("id" = String, Path, pattern = "^[0-9a-f]{32}$", description = "The session's id")),
    responses(
        (status = 200, description = "Ended", body = Message),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Asked with a personal token, or two-factor enrolment required", body = Message),
        (status = 404, description = "The caller has no such session", body = Message),
        (status = 422, description = "Bad id", body = Message),
    ))]
pub async fn end(State(state): State<AppState>, caller: Caller, SessionId(id): SessionId) -> Reply {
    caller.claims()?;
    let now = now();
    let mut tx = state.db.begin_write().await?;
    caller.confirm(&state.db, &mut tx).await?;
    let ended = sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
        .bind(&id)
        .bind(caller.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if ended == 0 {
        return Err(ApiError::NotFound(format!("id: no session {id}")));
    }
    record(
        &mut tx,
        &caller,
        format!("{}: session {id} ended", caller.name),
        now,
    )
    .await?;
    tx.commit().await?;
    ok(Envelope::success())
}

/// End every session of the caller but this one.
#[utoipa::path(delete, path = "/user/sessions", tag = "sessions", security(("token" = [])),
    responses(
        (status = 200, description = "Every other session ended", body = Message),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Asked with a personal token, or two-factor enrolment required", body = Message),
    ))]
pub async fn end_others(State(state): State<AppState>, caller: Caller) -> Reply {
    let current = caller.claims()?.sid.clone();
    let now = now();
    let mut tx = state.db.begin_write().await?;
    caller.confirm(&state.db, &mut tx).await?;
    let ended = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
        .bind(caller.id)
        .bind(&current)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if ended > 0 {
        let detail = format!("{}: {ended} other session(s) ended", caller.name);
        record(&mut tx, &caller, detail, now).await?;
    }
    tx.commit().await?;
    ok(Envelope::success())
}

async fn record(
    tx: &mut sqlx::AnyConnection,
    caller: &Caller,
    detail: String,
    now: i64,
) -> Result<(), ApiError> {
    let entry = Entry {
        action: "session.revoke",
        target_type: "user",
        target_id: caller.id,
        detail,
        business_id: caller.business_id,
        actor: Actor::from(caller),
    };
    audit::record(tx, entry, now).await
}
