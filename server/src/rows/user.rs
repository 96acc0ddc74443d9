//! Users as stored and as the API shows them, and the checks every door that acts on a
//! user makes: who may be a target (`find_target`, `refuse_self_and_system_admin`), the
//! proof that the person is there (`check_own_password`), and what a new password ends
//! (`set_password`). Handlers, the outbox and the console all come here.

use crate::auth::caller::Scope;
use crate::auth::session::{self, Ending};
use crate::auth::{Caller, throttle};
use crate::clock::now;
use crate::db::{Db, RowLock};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use app::model::{BusinessStatus, NewUser, Role, User, UserStatus};
use sqlx::{AnyConnection, AssertSqlSafe};

#[derive(sqlx::FromRow)]
pub struct UserRow {
    id: i64,
    user_name: String,
    status: i64,
    real_name: String,
    phone: String,
    create_time: i64,
    update_time: i64,
    is_admin: i64,
    is_system_admin: i64,
    business_id: Option<i64>,
    business_status: Option<i64>,
    totp: i64,
}

impl UserRow {
    pub fn into_model(self) -> ApiResult<User> {
        let status =
            UserStatus::from_code(self.status).ok_or_else(|| ApiError::internal("bad user status"))?;
        let approved =
            self.business_status.and_then(BusinessStatus::from_code) == Some(BusinessStatus::Approved);
        Ok(User {
            id: self.id,
            role: Role::derive(self.is_system_admin != 0, status, self.is_admin != 0, approved),
            user: self.user_name,
            status,
            real_name: self.real_name,
            phone: self.phone,
            create_time: self.create_time,
            update_time: self.update_time,
            is_admin: self.is_admin != 0,
            business_id: self.business_id,
            totp: self.totp != 0,
        })
    }
}

pub async fn insert(
    tx: &mut AnyConnection,
    new: &NewUser,
    password_hash: &str,
    status: UserStatus,
    business_id: Option<i64>,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO users (user_name, password_hash, phone, real_name, is_admin, status, business_id, create_time, update_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
    )
    .bind(new.user.as_str())
    .bind(password_hash)
    .bind(new.phone.as_str())
    .bind(new.real_name.as_str())
    .bind(i64::from(new.is_admin))
    .bind(status as i64)
    .bind(business_id)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
}

pub const COLUMNS: &str = "u.id, u.user_name, u.status, u.real_name, u.phone, u.create_time, u.update_time, \
     u.is_admin, u.is_system_admin, u.business_id, b.status AS business_status, \
     (SELECT COUNT(*) FROM totp t WHERE t.user_id = u.id AND t.active = 1) AS totp";

/// User `id` as the API shows it (deleted ones too), read in `conn` (an event's payload).
pub async fn shown(conn: &mut AnyConnection, id: i64) -> ApiResult<Option<User>> {
    let row: Option<UserRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users u LEFT JOIN businesses b ON b.id = u.business_id WHERE u.id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(UserRow::into_model).transpose()
}

/// Checks the caller's own password, as proof that the person is there (a password
/// change, turning two-factor off). A wrong one counts toward the login throttle of the
/// caller's name and is 422 naming `field`.
pub async fn check_own_password(
    state: &AppState,
    caller: &Caller,
    password: &str,
    field: &str,
) -> ApiResult<()> {
    let stored: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(caller.id)
        .fetch_one(&state.db.pool)
        .await?;
    let key =
        throttle::key(&caller.name).ok_or_else(|| ApiError::internal("a stored name breaks the rule"))?;
    let verified = throttle::guarded_check(&state.db, &key, now(), async {
        state.passwords.verify(password, Some(&stored)).await
    })
    .await?;
    if verified {
        Ok(())
    } else {
        Err(ApiError::unprocessable(field, "is incorrect"))
    }
}

/// Stores a new password hash for `user_id` and ends the credentials `ending` names,
/// inside the caller's write transaction: the one rule of a password set, whoever sets it
/// (the user, an administrator, the console).
pub async fn set_password(
    conn: &mut AnyConnection,
    user_id: i64,
    hash: &str,
    ending: Ending,
    now: i64,
) -> Result<(), sqlx::Error> {
    session::end_tokens(conn, user_id, ending).await?;
    sqlx::query("UPDATE users SET password_hash = $1, update_time = $2 WHERE id = $3")
        .bind(hash)
        .bind(now)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
pub struct Target {
    pub id: i64,
    pub user_name: String,
    pub status: i64,
    pub is_system_admin: i64,
    pub business_id: Option<i64>,
}

/// The user `id` if the scope holds it, locked until the transaction ends; 404 otherwise,
/// so existence does not leak (and a user outside the scope is never locked).
pub async fn find_target(db: &Db, conn: &mut AnyConnection, scope: Scope, id: i64) -> ApiResult<Target> {
    let sql = format!(
        "SELECT id, user_name, status, is_system_admin, business_id FROM users \
         WHERE id = $1 AND deleted_at IS NULL AND {}{}",
        scope.filter("business_id", "$2"),
        db.lock(RowLock::Update)
    );
    let target: Option<Target> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .bind(scope.business())
        .fetch_optional(&mut *conn)
        .await?;
    target.ok_or_else(|| ApiError::NotFound(format!("id: no user {id}")))
}

/// Refusals no role overcomes: acting on oneself through the admin door (one's own
/// password changes through `PUT /v1/user`, which needs the old one), or on the system
/// administrator.
pub fn refuse_self_and_system_admin(caller: &Caller, target: &Target, what: &str) -> ApiResult<()> {
    if target.id == caller.id {
        return Err(ApiError::Forbidden(format!("id: nobody may {what} itself")));
    }
    if target.is_system_admin != 0 {
        return Err(ApiError::Forbidden(format!(
            "id: nobody may {what} the system administrator"
        )));
    }
    Ok(())
}
