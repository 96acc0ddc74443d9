//! The caller of a request, as extractors: `Caller` (any valid token), `Approved`,
//! `Admin` (roles 3 and 4) and `SystemAdmin` (role 4). Each checks the token (a JWT of a
//! session, or a personal access token) and reloads the user in one query, so a revoked
//! token, an ended session, a deleted user or a forbidden one is refused at once; then
//! `access` says whether this credential may reach this route. A handler's signature
//! shows what it requires.
//!
//! The reloaded row is kept in `callers::Callers`; what an admin may see is `scope`.

use crate::auth::access::{self, Credential};
use crate::auth::personal;
use crate::auth::token::Claims;
use crate::db::{Db, RowLock};
use crate::error::ApiError;
use crate::state::AppState;
use app::model::{BusinessStatus, Role, TokenScope, UserStatus};
use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use sqlx::{AnyConnection, AssertSqlSafe};
use std::borrow::Cow;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct Caller {
    pub id: i64,
    pub name: String,
    pub status: UserStatus,
    pub is_admin: bool,
    pub has_repo_account: bool,
    pub business_id: Option<i64>,
    pub business_status: Option<BusinessStatus>,
    pub role: Role,
    /// Whether the caller signs in with a one-time code.
    pub totp: bool,
    pub credential: Credential,
}

#[derive(sqlx::FromRow, Clone)]
pub(super) struct CallerRow {
    id: i64,
    user_name: String,
    status: i64,
    is_admin: i64,
    is_system_admin: i64,
    has_repo_account: i64,
    business_id: Option<i64>,
    business_status: Option<i64>,
    token_version: i64,
    totp: i64,
    /// The JWT's revocation (always 0 for a personal token).
    revoked: i64,
    /// The session's `last_seen_time` (-1: the session has ended), or the personal
    /// token's `last_used_time` (0: never).
    pub(super) seen: i64,
    token_id: Option<i64>,
    scope: Option<String>,
    expire_time: Option<i64>,
}

fn unauthorized(reason: &str) -> ApiError {
    ApiError::Unauthorized(format!("Authorization: {reason}"))
}

/// `Authorization: <token>` as the seed shows it, or `Authorization: Bearer <token>`.
fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or_else(|| unauthorized("a token is required"))?;
    let value = value
        .to_str()
        .map_err(|_| unauthorized("is not a valid token"))?
        .trim();
    let token = value.strip_prefix("Bearer ").map(str::trim).unwrap_or(value);
    if token.is_empty() {
        Err(unauthorized("a token is required"))
    } else {
        Ok(token)
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let presented = bearer(parts)?;
        let now = crate::clock::now();
        let (row, credential, key) = if personal::looks_personal(presented) {
            let digest = personal::digest(presented);
            let row = match state.callers.get(&digest, state.db.writes()) {
                Some(hit) => Some(hit.row),
                None => load_personal(state, &digest).await?,
            };
            let row = row.ok_or_else(|| unauthorized("the token is not valid or has been revoked"))?;
            let (Some(id), Some(scope), Some(expires)) = (
                row.token_id,
                row.scope.as_deref().and_then(TokenScope::from_name),
                row.expire_time,
            ) else {
                return Err(ApiError::internal("a personal token row lacks its columns"));
            };
            if expires <= now {
                return Err(unauthorized("the token has expired"));
            }
            (row, Credential::Personal { id, scope }, Cow::Owned(digest))
        } else {
            // Kept under the token itself: the same text carries the same signed claims.
            // Entries of personal tokens (under their digests) have no claims, so a digest
            // presented as a JWT is never a hit: it goes to `verify` and fails there.
            let hit = state
                .callers
                .get(presented, state.db.writes())
                .and_then(|hit| Some((hit.claims?, hit.row)))
                .filter(|(claims, _)| !claims.expired(now));
            let (claims, row) = match hit {
                Some((claims, row)) => (claims, Some(row)),
                None => {
                    let claims = Arc::new(state.tokens.verify(presented)?);
                    let row = load_session(state, &claims, presented).await?;
                    (claims, row)
                }
            };
            let user_id = claims
                .user_id()
                .ok_or_else(|| unauthorized("is not a valid token"))?;
            let row = row.ok_or_else(|| unauthorized("the token's user no longer exists"))?;
            if row.id != user_id || row.revoked != 0 || row.token_version != claims.ver {
                return Err(unauthorized("the token has been revoked"));
            }
            if row.seen < 0 {
                return Err(unauthorized("the session has ended"));
            }
            (row, Credential::Session(claims), Cow::Borrowed(presented))
        };
        let status =
            UserStatus::from_code(row.status).ok_or_else(|| ApiError::internal("bad user status"))?;
        match status {
            UserStatus::NotApproved => return Err(unauthorized("the user's registration was not approved")),
            UserStatus::Forbidden => return Err(unauthorized("the user is forbidden")),
            UserStatus::Pending | UserStatus::Approved => {}
        }
        let business_status = row.business_status.and_then(BusinessStatus::from_code);
        let in_approved_business = business_status == Some(BusinessStatus::Approved);
        let role = Role::derive(
            row.is_system_admin != 0,
            status,
            row.is_admin != 0,
            in_approved_business,
        );
        let caller = Caller {
            id: row.id,
            name: row.user_name.clone(),
            status,
            is_admin: row.is_admin != 0,
            has_repo_account: row.has_repo_account != 0,
            business_id: row.business_id,
            business_status,
            role,
            totp: row.totp != 0,
            credential,
        };
        let route = parts
            .extensions
            .get::<MatchedPath>()
            .map(MatchedPath::as_str)
            .unwrap_or_default();
        access::admit(
            &caller.credential,
            caller.role,
            caller.totp,
            state.config.accounts.require_totp,
            &parts.method,
            route,
        )?;
        if now - row.seen >= state.config.accounts.seen_seconds as i64 {
            touch(state, &caller.credential, &key, now);
        }
        Ok(caller)
    }
}

impl Caller {
    /// The claims of the caller's JWT; personal tokens never reach the handlers that ask
    /// (`access` refuses them first), so this is 403 only as a second line.
    pub fn claims(&self) -> Result<&Claims, ApiError> {
        match &self.credential {
            Credential::Session(claims) => Ok(claims),
            Credential::Personal { .. } => Err(ApiError::Forbidden(access::PERSONAL_REFUSAL.into())),
        }
    }

    /// Re-reads, inside the write transaction `conn` and locking the rows, what this
    /// caller's role rests on (SPEC.md section 8: checks hold at write time): the user not
    /// deleted, its credential not ended, its status and business as the request found
    /// them. Locks its business (shared) before its own row, then its session or token:
    /// the order every writer keeps.
    pub async fn confirm(&self, db: &Db, conn: &mut AnyConnection) -> Result<(), ApiError> {
        let business_status = match self.business_id {
            Some(business) => sqlx::query_scalar::<_, i64>(AssertSqlSafe(format!(
                "SELECT status FROM businesses WHERE id = $1{}",
                db.lock(RowLock::Share)
            )))
            .bind(business)
            .fetch_optional(&mut *conn)
            .await?
            .and_then(BusinessStatus::from_code),
            None => None,
        };
        let row: Option<(i64, i64, Option<i64>)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT status, token_version, business_id FROM users WHERE id = $1 AND deleted_at IS NULL{}",
            db.lock(RowLock::Update)
        )))
        .bind(self.id)
        .fetch_optional(&mut *conn)
        .await?;
        let (status, version, business_id) =
            row.ok_or_else(|| unauthorized("the token's user no longer exists"))?;
        let alive: i64 = match &self.credential {
            Credential::Session(claims) if version != claims.ver => {
                return Err(unauthorized("the token has been revoked"));
            }
            Credential::Session(claims) => {
                sqlx::query_scalar(AssertSqlSafe(format!(
                    "SELECT COUNT(*) FROM (SELECT id FROM sessions WHERE id = $1{}) AS alive",
                    db.lock(RowLock::Share)
                )))
                .bind(&claims.sid)
                .fetch_one(&mut *conn)
                .await?
            }
            Credential::Personal { id, .. } => {
                sqlx::query_scalar(AssertSqlSafe(format!(
                    "SELECT COUNT(*) FROM (SELECT id FROM personal_tokens WHERE id = $1{}) AS alive",
                    db.lock(RowLock::Share)
                )))
                .bind(id)
                .fetch_one(&mut *conn)
                .await?
            }
        };
        if alive == 0 {
            return Err(unauthorized("the token has been revoked"));
        }
        let status = UserStatus::from_code(status).ok_or_else(|| ApiError::internal("bad user status"))?;
        if status != self.status || business_id != self.business_id || business_status != self.business_status
        {
            return Err(ApiError::Forbidden(
                "role: the caller's status or business changed while this request ran".into(),
            ));
        }
        Ok(())
    }
}

/// The columns of `CallerRow` the two loads share: the user and its business.
const USER_COLUMNS: &str = "u.id, u.user_name, u.status, u.is_admin, u.is_system_admin, u.has_repo_account, \
     u.business_id, b.status AS business_status, u.token_version, \
     (SELECT COUNT(*) FROM totp t WHERE t.user_id = u.id AND t.active = 1) AS totp";

/// One round trip: the user, its business's status, this token's revocation and its
/// session. Kept in the cache (when it is on) under the number of writes seen before the
/// query began, so a write that ends meanwhile makes it stale at once.
async fn load_session(
    state: &AppState,
    claims: &Arc<Claims>,
    key: &str,
) -> Result<Option<Arc<CallerRow>>, ApiError> {
    let Some(user_id) = claims.user_id() else {
        return Err(unauthorized("is not a valid token"));
    };
    let writes = state.db.writes();
    let row: Option<CallerRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS}, \
                (SELECT COUNT(*) FROM revoked_tokens r WHERE r.jti = $2) AS revoked, \
                COALESCE((SELECT s.last_seen_time FROM sessions s WHERE s.id = $3 AND s.user_id = u.id), -1) AS seen, \
                CAST(NULL AS BIGINT) AS token_id, CAST(NULL AS TEXT) AS scope, CAST(NULL AS BIGINT) AS expire_time \
         FROM users u LEFT JOIN businesses b ON b.id = u.business_id \
         WHERE u.id = $1 AND u.deleted_at IS NULL"
    )))
    .bind(user_id)
    .bind(&claims.jti)
    .bind(&claims.sid)
    .fetch_optional(&state.db.pool)
    .await?;
    let row = row.map(Arc::new);
    if let Some(row) = &row {
        state.callers.put(key, writes, row.clone(), Some(claims.clone()));
    }
    Ok(row)
}

/// The same for a personal token, found by its digest.
async fn load_personal(state: &AppState, digest: &str) -> Result<Option<Arc<CallerRow>>, ApiError> {
    let writes = state.db.writes();
    let row: Option<CallerRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS}, CAST(0 AS BIGINT) AS revoked, COALESCE(p.last_used_time, 0) AS seen, \
                p.id AS token_id, p.scope, p.expire_time \
         FROM personal_tokens p JOIN users u ON u.id = p.user_id \
         LEFT JOIN businesses b ON b.id = u.business_id \
         WHERE p.digest = $1 AND u.deleted_at IS NULL"
    )))
    .bind(digest)
    .fetch_optional(&state.db.pool)
    .await?;
    let row = row.map(Arc::new);
    if let Some(row) = &row {
        state.callers.put(digest, writes, row.clone(), None);
    }
    Ok(row)
}

/// Writes down that a session or personal token was used, at most once per
/// `OTE_SEEN_SECONDS`, off the request's path: the answer does not wait for it.
fn touch(state: &AppState, credential: &Credential, key: &str, now: i64) {
    state.callers.touch(key, now);
    let db = state.db.clone();
    let credential = credential.clone();
    tokio::spawn(async move {
        let written = match credential {
            Credential::Session(claims) => {
                sqlx::query("UPDATE sessions SET last_seen_time = $1 WHERE id = $2 AND last_seen_time < $1")
                    .bind(now)
                    .bind(&claims.sid)
                    .execute(&db.pool)
                    .await
            }
            Credential::Personal { id, .. } => {
                sqlx::query(
                    "UPDATE personal_tokens SET last_used_time = $1 \
                     WHERE id = $2 AND (last_used_time IS NULL OR last_used_time < $1)",
                )
                .bind(now)
                .bind(id)
                .execute(&db.pool)
                .await
            }
        };
        if let Err(err) = written {
            tracing::warn!(error = %err, "could not note when a session or token was last used");
        }
    });
}

/// Declares an extractor that admits only the given roles, with 403 for the others.
macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, [$($role:ident),*], $refusal:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub Caller);

        impl FromRequestParts<AppState> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
                let caller = Caller::from_request_parts(parts, state).await?;
                match caller.role {
                    $(Role::$role)|* => Ok(Self(caller)),
                    _ => Err(ApiError::Forbidden($refusal.into())),
                }
            }
        }
    };
}

role_extractor!(
    /// Any approved user (roles 1-4).
    Approved,
    [GeneralAdmin, GeneralUser, BusinessAdmin, SystemAdmin],
    "role: your registration is awaiting approval"
);
role_extractor!(
    /// A business admin (role 3) or the system administrator (role 4).
    Admin,
    [BusinessAdmin, SystemAdmin],
    "role: only a business admin or the system administrator may do this"
);
role_extractor!(
    /// The system administrator (role 4).
    SystemAdmin,
    [SystemAdmin],
    "role: only the system administrator may do this"
);

pub use super::scope::Scope;

impl Admin {
    pub fn scope(&self) -> Scope {
        match (self.0.role, self.0.business_id) {
            (Role::SystemAdmin, _) => Scope::Everything,
            (_, Some(business)) => Scope::Business(business),
            // A business admin always has a business (that is what role 3 means).
            (_, None) => Scope::Business(0),
        }
    }
}
