//! The caller of a request, as extractors: `Caller` (any valid token), `Approved`,
//! `Admin` (roles 3 and 4) and `SystemAdmin` (role 4). Each checks the token and reloads
//! the user in one query, so a revoked token, a deleted user or a forbidden one is
//! refused at once. A handler's signature shows what it requires.
//!
//! The scoping rule lives here too: what a business admin may see is its own business.
//!
//! With SQLite, where this process is the database's only writer, the reloaded row is
//! kept in `Callers` until any write transaction ends or a second passes; PostgreSQL
//! replicas share the database with other writers, so there every request reads it.

use crate::auth::token::Claims;
use crate::db::{Db, RowLock};
use crate::error::ApiError;
use crate::state::AppState;
use app::model::{BusinessStatus, Role, UserStatus};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use sqlx::{AnyConnection, AssertSqlSafe};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
    pub claims: Claims,
}

#[derive(sqlx::FromRow, Clone)]
struct CallerRow {
    id: i64,
    user_name: String,
    status: i64,
    is_admin: i64,
    is_system_admin: i64,
    has_repo_account: i64,
    business_id: Option<i64>,
    business_status: Option<i64>,
    token_version: i64,
    revoked: i64,
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
        let claims = state.tokens.verify(bearer(parts)?)?;
        let user_id = claims
            .user_id()
            .ok_or_else(|| unauthorized("is not a valid token"))?;
        let row = match state.callers.get(&claims.jti, state.db.writes()) {
            Some(row) => Some(row),
            None => load(state, user_id, &claims.jti).await?,
        };
        let row = row.ok_or_else(|| unauthorized("the token's user no longer exists"))?;
        if row.id != user_id || row.revoked != 0 || row.token_version != claims.ver {
            return Err(unauthorized("the token has been revoked"));
        }
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
        Ok(Caller {
            id: row.id,
            name: row.user_name,
            status,
            is_admin: row.is_admin != 0,
            has_repo_account: row.has_repo_account != 0,
            business_id: row.business_id,
            business_status,
            role,
            claims,
        })
    }
}

impl Caller {
    /// Re-reads, inside the write transaction `conn` and locking the rows, what this
    /// caller's role rests on (SPEC.md section 8: checks hold at write time): the user not
    /// deleted, its tokens not ended, its status and business as the request found them.
    /// Locks its business (shared) before its own row, the order every writer keeps.
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
        if version != self.claims.ver {
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

/// One round trip: the user, its business's status and this token's revocation. Kept in
/// the cache (when it is on) under the number of writes seen before the query began, so a
/// write that ends meanwhile makes it stale at once.
async fn load(state: &AppState, user_id: i64, jti: &str) -> Result<Option<CallerRow>, ApiError> {
    let writes = state.db.writes();
    let row: Option<CallerRow> = sqlx::query_as(
        "SELECT u.id, u.user_name, u.status, u.is_admin, u.is_system_admin, u.has_repo_account, \
                    u.business_id, b.status AS business_status, u.token_version, \
                    (SELECT COUNT(*) FROM revoked_tokens r WHERE r.jti = $2) AS revoked \
             FROM users u LEFT JOIN businesses b ON b.id = u.business_id \
             WHERE u.id = $1 AND u.deleted_at IS NULL",
    )
    .bind(user_id)
    .bind(jti)
    .fetch_optional(&state.db.pool)
    .await?;
    if let Some(row) = &row {
        state.callers.put(jti, writes, row.clone());
    }
    Ok(row)
}

/// Recently loaded callers by token id, for the SQLite deployment (see the module notes).
pub struct Callers {
    enabled: bool,
    entries: Mutex<HashMap<String, Cached>>,
}

struct Cached {
    writes: u64,
    loaded: Instant,
    row: CallerRow,
}

impl Callers {
    /// A second bounds what could still slip by: a write whose request was cancelled
    /// while its COMMIT was on the way.
    const MAX_AGE: Duration = Duration::from_secs(1);
    /// Past this many tokens the cache starts afresh rather than grow.
    const MAX_ENTRIES: usize = 10_000;

    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            entries: Mutex::default(),
        }
    }

    fn get(&self, jti: &str, writes_now: u64) -> Option<CallerRow> {
        if !self.enabled {
            return None;
        }
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let cached = entries.get(jti)?;
        (cached.writes == writes_now && cached.loaded.elapsed() < Self::MAX_AGE).then(|| cached.row.clone())
    }

    fn put(&self, jti: &str, writes: u64, row: CallerRow) {
        if !self.enabled {
            return;
        }
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() >= Self::MAX_ENTRIES {
            entries.clear();
        }
        let loaded = Instant::now();
        entries.insert(jti.to_owned(), Cached { writes, loaded, row });
    }
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

/// Which users and audit entries an admin may see and manage. This is the one place
/// that says a business admin sees only its own business.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Everything,
    Business(i64),
}

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

impl Scope {
    /// The SQL condition keeping rows of this scope: `column = placeholder`, whose value
    /// `business()` gives (bind it always: the text leaves the placeholder out when the
    /// scope is everything).
    pub fn filter(self, column: &str, placeholder: &str) -> String {
        match self {
            Scope::Everything => "1 = 1".into(),
            Scope::Business(_) => format!("{column} = {placeholder}"),
        }
    }

    pub fn business(self) -> Option<i64> {
        match self {
            Scope::Everything => None,
            Scope::Business(id) => Some(id),
        }
    }
}
