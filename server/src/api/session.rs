//! `/v1/authorization`: log in, refresh, log out, and who am I.

use crate::auth::throttle::{self, Budget, Key};
use crate::auth::{Caller, access, second_factor, session};
use crate::clock::now;
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::limits::{ClientAddr, PasswordWork};
use crate::reply::{Message, Reply, ok};
use crate::state::AppState;
use app::model::{Authorization, Credentials, Envelope, UserStatus};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::{SET_COOKIE, USER_AGENT};
use axum::response::{AppendHeaders, IntoResponse};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Signing in and out, `/v1/authorization`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login, refresh, logout, info))
}

const WRONG_CREDENTIALS: &str = "user or password is incorrect";

#[derive(sqlx::FromRow)]
struct LoginRow {
    id: i64,
    user_name: String,
    password_hash: String,
    status: i64,
    token_version: i64,
    /// The TOTP secret when two-factor sign-in is on.
    totp_secret: Option<String>,
}

/// Log in: `{user, password}` (and `code` with two-factor sign-in) → `{token}` of a new
/// session, and a device cookie (`ote_device`, HttpOnly, sent only here) that lets this
/// browser sign in as this user while others have locked the name.
#[utoipa::path(post, path = "/v1/authorization", tag = "session", request_body = Credentials,
    responses(
        (status = 200, description = "`token` holds the JWT (valid one hour)", body = Message),
        (status = 401, description = "Unknown user or wrong password (one message for both); with two-factor sign-in, `code: a one-time code is required` or a wrong or spent code", body = Message),
        (status = 403, description = "Registration not approved, or user forbidden", body = Message),
        (status = 413, description = "Body over 64 KiB", body = Message),
        (status = 422, description = "Malformed body, or a control character in a field", body = Message),
        (status = 429, description = "Too many failed logins for this name (or this browser's device cookie), too many wrong one-time codes, or too many password attempts from this address; see `Retry-After`", body = Message),
        (status = 503, description = "Too many password checks waiting; see `Retry-After`", body = Message),
    ))]
pub async fn login(
    State(state): State<AppState>,
    _: PasswordWork,
    ClientAddr(ip): ClientAddr,
    headers: HeaderMap,
    Json(credentials): Json<Credentials>,
) -> ApiResult<impl IntoResponse> {
    let password = credentials.password.as_str();
    // A name that breaks the user-name rule matches nobody: it costs the same one
    // verification as an unknown name, and is never stored.
    let Some(name) = throttle::key(credentials.user.as_str()) else {
        state.passwords.verify(password, None).await?;
        return Err(ApiError::Unauthorized(WRONG_CREDENTIALS.into()));
    };
    let now = now();
    let user: Option<LoginRow> = sqlx::query_as(
        "SELECT id, user_name, password_hash, status, token_version, \
                (SELECT secret FROM totp t WHERE t.user_id = users.id AND t.active = 1) AS totp_secret \
         FROM users WHERE lower(user_name) = $1 AND deleted_at IS NULL",
    )
    .bind(&name)
    .fetch_optional(&state.db.pool)
    .await?;
    // A browser that signed in as this user before (its device cookie vouches for it) is
    // throttled on its own: others' guesses, which lock the name, never lock it out.
    let device = state.devices.read(&headers).filter(|device| {
        user.as_ref()
            .is_some_and(|u| device.vouches_for(u.id, u.token_version))
    });
    let key = match device {
        Some(device) => Key::Device(device.nonce),
        None => Key::Name(name),
    };
    // One verification whether or not the user exists, so the timing tells nothing.
    let hash = user.as_ref().map(|u| u.password_hash.as_str());
    let verified = state.passwords.verify(password, hash);
    let passed = throttle::check(&state.db, &key.passwords(), Budget::PASSWORDS, now, verified).await?;
    let (Some(user), Some(passed)) = (user, passed) else {
        return Err(ApiError::Unauthorized(WRONG_CREDENTIALS.into()));
    };
    // The password was right. A missing or wrong code gives the password's attempt back
    // (`passed` is dropped) and counts in the codes' own, longer budget.
    let code_passed = match user.totp_secret.as_deref() {
        None => None,
        Some(secret) => {
            let code = credentials.code.as_ref();
            let passed = second_factor::check(&state, &key, user.id, secret, code, now).await?;
            let wrong = || ApiError::Unauthorized("code: is not valid or was used already".into());
            Some(passed.ok_or_else(wrong)?)
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
    let user_agent = headers
        .get(USER_AGENT)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .unwrap_or_default();
    // The key starts afresh and the session begins in one commit; wrong codes stay counted.
    // Session rows are no caller's yet, so this leaves the caller cache alone.
    let mut tx = state.db.begin_side_write().await?;
    passed.clear(&mut tx).await?;
    let second_factor = code_passed.is_some();
    if let Some(code_passed) = code_passed {
        code_passed.keep_failures(&mut tx).await?;
    }
    let sid = session::start(&mut tx, user.id, &user_agent, &ip.to_string(), second_factor, now).await?;
    tx.commit().await?;
    let (token, _) = state
        .tokens
        .issue(user.id, &user.user_name, user.token_version, &sid, now)?;
    let device_cookie = state.devices.issue(user.id, user.token_version);
    Ok((
        AppendHeaders([(SET_COOKIE, device_cookie)]),
        axum::Json(Envelope::<()>::token(token)),
    ))
}

/// A new token with a new expiry; the presented one is revoked.
#[utoipa::path(put, path = "/v1/authorization", tag = "session", security(("token" = [])),
    responses(
        (status = 200, description = "`token` holds the new JWT", body = Message),
        (status = 401, description = "No valid token", body = Message),
    ))]
pub async fn refresh(State(state): State<AppState>, caller: Caller) -> Reply {
    // Revoked first: of simultaneous refreshes of one token, only one gets a new token.
    revoke(&state, &caller, false).await?;
    let claims = caller.claims()?;
    let (token, _) = state
        .tokens
        .issue(caller.id, &caller.name, claims.ver, &claims.sid, now())?;
    ok(Envelope::token(token))
}

/// Log out: the presented token is revoked and its session ends.
#[utoipa::path(delete, path = "/v1/authorization", tag = "session", security(("token" = [])),
    responses(
        (status = 200, description = "Revoked", body = Message),
        (status = 401, description = "No valid token", body = Message),
    ))]
pub async fn logout(State(state): State<AppState>, caller: Caller) -> Reply {
    revoke(&state, &caller, true).await?;
    ok(Envelope::success())
}

/// Revokes the caller's token (and ends its session, at logout); 401 if a simultaneous
/// request revoked it first.
async fn revoke(state: &AppState, caller: &Caller, end_session: bool) -> Result<(), ApiError> {
    let claims = caller.claims()?;
    // Revocations matter only until the token would expire anyway: the housekeeping
    // task removes them after that.
    let mut tx = state.db.begin_write().await?;
    let inserted = sqlx::query(
        "INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING",
    )
    .bind(&claims.jti)
    .bind(claims.exp)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Err(ApiError::Unauthorized(
            "Authorization: the token has been revoked".into(),
        ));
    }
    if end_session {
        session::end_one(&mut tx, &claims.sid).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The caller's name, role and the platform flags.
#[utoipa::path(get, path = "/v1/authorization", tag = "session", security(("token" = [])),
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
        totp: caller.totp,
        totp_required: access::covers(state.config.accounts.require_totp, caller.role),
    }))
}
