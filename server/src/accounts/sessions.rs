//! Sessions (`/v1/user/sessions`): where the caller is signed in, and ending one or all
//! others. How a session starts and ends is `auth::session`.

use crate::audit::{self, Entry};
use crate::auth::{Caller, session};
use crate::clock::now;
use crate::error::ApiError;
use crate::extract::SessionId;
use crate::reply::{Message, Reply, ok};
use crate::state::AppState;
use app::model::{Envelope, Session};
use axum::extract::State;

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: String,
    create_time: i64,
    last_seen_time: i64,
    user_agent: String,
    ip: String,
}

/// Where the caller is signed in, most recently seen first.
#[utoipa::path(get, path = "/v1/user/sessions", tag = "sessions", security(("token" = [])),
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
#[utoipa::path(delete, path = "/v1/user/sessions/{id}", tag = "sessions", security(("token" = [])),
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
#[utoipa::path(delete, path = "/v1/user/sessions", tag = "sessions", security(("token" = [])),
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
    let ended = session::end_others(&mut tx, caller.id, &current).await?;
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
    audit::record(tx, Entry::own(caller, "session.revoke", detail), now).await
}
