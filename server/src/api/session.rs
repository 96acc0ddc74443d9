//! `/v1/authorization`: log in, refresh, log out, and who am I.

use super::{Message, Reply, now, ok};
use crate::auth::{Caller, throttle};
use crate::error::ApiError;
use crate::extract::Json;
use crate::state::AppState;
use app::model::{Authorization, Credentials, Envelope, UserStatus};
use axum::extract::State;

const WRONG_CREDENTIALS: &str = "user or password is incorrect";

#[derive(sqlx::FromRow)]
struct LoginRow {
    id: i64,
    user_name: String,
    password_hash: String,
    status: i64,
    token_version: i64,
}

/// Log in: `{user, password}` → `{token}`.
#[utoipa::path(post, path = "/authorization", tag = "session", request_body = Credentials,
    responses(
        (status = 200, description = "`token` holds the JWT (valid one hour)", body = Message),
        (status = 401, description = "Unknown user or wrong password (one message for both)", body = Message),
        (status = 403, description = "Registration not approved, or user forbidden", body = Message),
        (status = 422, description = "Malformed body", body = Message),
        (status = 429, description = "Too many failed logins; see `Retry-After`", body = Message),
    ))]
pub async fn login(State(state): State<AppState>, Json(credentials): Json<Credentials>) -> Reply {
    let key = throttle::key(&credentials.user);
    let now = now();
    throttle::check(&state.db, &key, now).await?;
    let user: Option<LoginRow> = sqlx::query_as(
        "SELECT id, user_name, password_hash, status, token_version FROM users \
         WHERE lower(user_name) = $1 AND deleted_at IS NULL",
    )
    .bind(&key)
    .fetch_optional(&state.db.pool)
    .await?;
    // One verification whether or not the user exists, so the timing tells nothing.
    let verified = state
        .passwords
        .verify(
            &credentials.password,
            user.as_ref().map(|u| u.password_hash.as_str()),
        )
        .await?;
    let user = match user {
        Some(user) if verified => user,
        _ => {
            throttle::record_failure(&state.db, &key, now).await?;
            return Err(ApiError::Unauthorized(WRONG_CREDENTIALS.into()));
        }
    };
    match UserStatus::from_code(user.status) {
        Some(UserStatus::NotApproved) => {
            return Err(ApiError::Forbidden(
                "user: the registration was not approved".into(),
            ));
        }
        Some(UserStatus::Forbidden) => return Err(ApiError::Forbidden("user: is forbidden".into())),
        _ => {}
    }
    throttle::clear(&state.db, &key).await?;
    let (token, _) = state
        .tokens
        .issue(user.id, &user.user_name, user.token_version, now)?;
    ok(Envelope::token(token))
}

/// A new token with a new expiry; the presented one is revoked.
#[utoipa::path(put, path = "/authorization", tag = "session", security(("token" = [])),
    responses(
        (status = 200, description = "`token` holds the new JWT", body = Message),
        (status = 401, description = "No valid token", body = Message),
    ))]
pub async fn refresh(State(state): State<AppState>, caller: Caller) -> Reply {
    let now = now();
    let (token, _) = state
        .tokens
        .issue(caller.id, &caller.name, caller.claims.ver, now)?;
    revoke(&state, &caller, now).await?;
    ok(Envelope::token(token))
}

/// Log out: the presented token is revoked.
#[utoipa::path(delete, path = "/authorization", tag = "session", security(("token" = [])),
    responses(
        (status = 200, description = "Revoked", body = Message),
        (status = 401, description = "No valid token", body = Message),
    ))]
pub async fn logout(State(state): State<AppState>, caller: Caller) -> Reply {
    revoke(&state, &caller, now()).await?;
    ok(Envelope::success())
}

async fn revoke(state: &AppState, caller: &Caller, now: i64) -> Result<(), ApiError> {
    let mut tx = state.db.begin_write().await?;
    // Revocations matter only until the token would expire anyway.
    sqlx::query("DELETE FROM revoked_tokens WHERE expires_at < $1")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING")
        .bind(&caller.claims.jti)
        .bind(caller.claims.exp)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The caller's name, role and the platform flags.
#[utoipa::path(get, path = "/authorization", tag = "session", security(("token" = [])),
    responses(
        (status = 200, description = "The caller", body = Envelope<Authorization>),
        (status = 401, description = "No valid token", body = Message),
    ))]
pub async fn info(State(state): State<AppState>, caller: Caller) -> Reply<Authorization> {
    let flags = state.config.flags;
    ok(Envelope::data(Authorization {
        display_name: caller.name,
        has_repo_account: caller.has_repo_account,
        role: caller.role,
        is_admin: caller.is_admin,
        private_project: flags.private_project,
        enable_ingress: flags.enable_ingress,
        enable_alert: flags.enable_alert,
        enable_admin_auto_deploy: flags.enable_admin_auto_deploy,
    }))
}
