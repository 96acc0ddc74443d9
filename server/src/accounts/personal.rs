//! Personal access tokens (`/v1/user/tokens`): long-lived tokens for scripts, shown once
//! and kept only as a SHA-256 digest. A token acts as its owner with the owner's current
//! role; `auth::caller` finds it by digest, `auth::access` keeps it to its scope.

use crate::audit::{self, Entry};
use crate::auth::{Approved, personal};
use crate::clock::now;
use crate::error::ApiError;
use crate::extract::{Id, Json};
use crate::reply::{Message, Reply, ok};
use crate::state::AppState;
use app::model::{CreatedToken, Envelope, NewPersonalToken, PersonalToken, TokenScope};
use axum::extract::State;

/// Tokens one user may hold at once.
pub const MAX_PER_USER: i64 = 100;
const DAY_SECONDS: i64 = 24 * 60 * 60;

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: i64,
    name: String,
    scope: String,
    create_time: i64,
    expire_time: i64,
    last_used_time: Option<i64>,
}

/// Create a personal token; the answer is the only time it is shown.
#[utoipa::path(post, path = "/v1/user/tokens", tag = "tokens", security(("token" = [])), request_body = NewPersonalToken,
    responses(
        (status = 200, description = "Created: `data.token` (shown only now) and its `id`", body = Envelope<CreatedToken>),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not approved, asked with a personal token, or two-factor enrolment required", body = Message),
        (status = 409, description = "The caller already holds 100 tokens", body = Message),
        (status = 413, description = "Body over 64 KiB", body = Message),
        (status = 422, description = "A field breaks its rule", body = Message),
    ))]
pub async fn create(
    State(state): State<AppState>,
    Approved(caller): Approved,
    Json(new): Json<NewPersonalToken>,
) -> Reply<CreatedToken> {
    let token = personal::new_token();
    let now = now();
    let mut tx = state.db.begin_write().await?;
    caller.confirm(&state.db, &mut tx).await?;
    let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM personal_tokens WHERE user_id = $1")
        .bind(caller.id)
        .fetch_one(&mut *tx)
        .await?;
    if held >= MAX_PER_USER {
        return Err(ApiError::Conflict(format!(
            "tokens: at most {MAX_PER_USER} personal tokens per user; revoke one first"
        )));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO personal_tokens (user_id, name, scope, digest, create_time, expire_time) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(caller.id)
    .bind(new.name.as_str())
    .bind(new.scope.as_str())
    .bind(personal::digest(&token))
    .bind(now)
    .bind(now + new.expires_in_days * DAY_SECONDS)
    .fetch_one(&mut *tx)
    .await?;
    let entry = Entry::token(
        &caller,
        "token.create",
        id,
        format!(
            "{}: personal token '{}' ({}, {} days)",
            caller.name,
            new.name,
            new.scope.as_str(),
            new.expires_in_days
        ),
    );
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    ok(Envelope::data(CreatedToken { id, token }))
}

/// The caller's personal tokens that have not expired, newest first (never the tokens
/// themselves).
#[utoipa::path(get, path = "/v1/user/tokens", tag = "tokens", security(("token" = [])),
    responses(
        (status = 200, description = "The caller's tokens", body = Envelope<Vec<PersonalToken>>),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not approved, asked with a personal token, or two-factor enrolment required", body = Message),
    ))]
pub async fn list(State(state): State<AppState>, Approved(caller): Approved) -> Reply<Vec<PersonalToken>> {
    let rows: Vec<TokenRow> = sqlx::query_as(
        "SELECT id, name, scope, create_time, expire_time, last_used_time FROM personal_tokens \
         WHERE user_id = $1 AND expire_time > $2 ORDER BY id DESC",
    )
    .bind(caller.id)
    .bind(now())
    .fetch_all(&state.db.pool)
    .await?;
    let tokens = rows
        .into_iter()
        .map(|row| {
            Ok(PersonalToken {
                id: row.id,
                scope: TokenScope::from_name(&row.scope)
                    .ok_or_else(|| ApiError::internal("bad token scope"))?,
                name: row.name,
                create_time: row.create_time,
                expire_time: row.expire_time,
                last_used_time: row.last_used_time,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let total = tokens.len() as i64;
    ok(Envelope::page(tokens, total))
}

/// Revoke one of the caller's personal tokens; it is refused at once everywhere.
#[utoipa::path(delete, path = "/v1/user/tokens/{id}", tag = "tokens", security(("token" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The token's id")),
    responses(
        (status = 200, description = "Revoked", body = Message),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not approved, asked with a personal token, or two-factor enrolment required", body = Message),
        (status = 404, description = "The caller has no such token", body = Message),
        (status = 422, description = "Bad id", body = Message),
    ))]
pub async fn revoke(State(state): State<AppState>, Approved(caller): Approved, Id(id): Id) -> Reply {
    let now = now();
    let mut tx = state.db.begin_write().await?;
    caller.confirm(&state.db, &mut tx).await?;
    let name: Option<String> =
        sqlx::query_scalar("DELETE FROM personal_tokens WHERE id = $1 AND user_id = $2 RETURNING name")
            .bind(id)
            .bind(caller.id)
            .fetch_optional(&mut *tx)
            .await?;
    let name = name.ok_or_else(|| ApiError::NotFound(format!("id: no token {id}")))?;
    let entry = Entry::token(
        &caller,
        "token.revoke",
        id,
        format!("{}: personal token '{name}' revoked", caller.name),
    );
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    ok(Envelope::success())
}
