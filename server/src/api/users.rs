//! Users: registration and password change (`/v1/user`), and their administration
//! (`/v1/admin/user`), scoped by `Admin::scope`.

use super::audit::{self, Actor, Entry};
use super::window::Window;
use super::{Message, Reply, now, ok};
use crate::accounts::{self, Ending};
use crate::auth::caller::Scope;
use crate::auth::{Admin, Caller, SystemAdmin, throttle};
use crate::db::{Db, RowLock};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Id, Json, Query};
use crate::limits::PasswordWork;
use crate::state::AppState;
use app::model::{
    BusinessStatus, Created, Envelope, NewUser, PageQuery, PasswordChange, PasswordReset, Role, SortOrder,
    User, UserAudit, UserOrder, UserQuery, UserStatus,
};
use axum::extract::State;
use sqlx::{AnyConnection, AssertSqlSafe};

#[derive(sqlx::FromRow)]
struct UserRow {
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
    fn into_model(self) -> ApiResult<User> {
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

async fn insert_user(
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

/// Register: the new user waits, status 0, for the system administrator's approval.
#[utoipa::path(post, path = "/user", tag = "users", request_body = NewUser,
    responses(
        (status = 200, description = "Registered; `data.id` is the new user's id", body = Envelope<Created>),
        (status = 409, description = "Name or phone taken", body = Message),
        (status = 413, description = "Body over 64 KiB", body = Message),
        (status = 422, description = "A field breaks its rule", body = Message),
        (status = 429, description = "Too many password attempts from this address; see `Retry-After`", body = Message),
        (status = 503, description = "Too many password checks waiting; see `Retry-After`", body = Message),
    ))]
pub async fn register(
    State(state): State<AppState>,
    _: PasswordWork,
    Json(new): Json<NewUser>,
) -> Reply<Created> {
    let hash = state.passwords.hash(&new.password).await?;
    let now = now();
    let mut tx = state.db.begin_write().await?;
    let id = insert_user(&mut tx, &new, &hash, UserStatus::Pending, None, now).await?;
    let entry = Entry {
        action: "user.register",
        target_type: "user",
        target_id: id,
        detail: format!("{} registered", new.user),
        business_id: None,
        actor: Actor {
            id: Some(id),
            name: new.user.as_str(),
        },
    };
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    ok(Envelope::data(Created { id }))
}

/// Change the caller's own password; every token issued before stops working. A wrong
/// old password counts toward the login throttle of the caller's name.
#[utoipa::path(put, path = "/user", tag = "users", security(("token" = [])), request_body = PasswordChange,
    responses(
        (status = 200, description = "Changed; log in again", body = Message),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "The caller's status changed while the request ran", body = Message),
        (status = 413, description = "Body over 64 KiB", body = Message),
        (status = 422, description = "Wrong old password, or the new one breaks the rule or equals the old", body = Message),
        (status = 429, description = "Too many wrong passwords for this name, or too many password attempts from this address; see `Retry-After`", body = Message),
        (status = 503, description = "Too many password checks waiting; see `Retry-After`", body = Message),
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    _: PasswordWork,
    Json(change): Json<PasswordChange>,
) -> Reply {
    if change.password.as_str() == change.old_password.as_str() {
        return Err(ApiError::unprocessable(
            "password",
            "must differ from the old password",
        ));
    }
    check_own_password(&state, &caller, change.old_password.as_str(), "oldPassword").await?;
    let hash = state.passwords.hash(&change.password).await?;
    set_password(&state, &caller, &hash, Whose::Own, "user.password_change").await?;
    ok(Envelope::success())
}

/// Checks the caller's own password, as proof that the person is there (a password
/// change, turning two-factor off). A wrong one counts toward the login throttle of the
/// caller's name and is 422 naming `field`.
pub(crate) async fn check_own_password(
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

/// Whose password `set_password` sets: the caller's, or a user of its scope.
enum Whose {
    Own,
    Other { scope: Scope, id: i64 },
}

/// Stores a new hash and ends the user's tokens, with its audit entry; the caller and the
/// target are checked again inside the transaction.
async fn set_password(
    state: &AppState,
    caller: &Caller,
    hash: &str,
    whose: Whose,
    action: &'static str,
) -> ApiResult<()> {
    let now = now();
    let mut tx = state.db.begin_write().await?;
    caller.confirm(&state.db, &mut tx).await?;
    // One's own change ends one's sessions; an administrator's reset ends personal tokens
    // too (SPEC.md section 9).
    let (user_id, business_id, ending) = match whose {
        Whose::Own => (caller.id, caller.business_id, Ending::Sessions),
        Whose::Other { scope, id } => {
            let target = find_target(&state.db, &mut tx, scope, id).await?;
            (target.id, target.business_id, Ending::Everything)
        }
    };
    accounts::end_tokens(&mut tx, user_id, ending).await?;
    sqlx::query("UPDATE users SET password_hash = $1, update_time = $2 WHERE id = $3")
        .bind(hash)
        .bind(now)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    let entry = Entry {
        action,
        target_type: "user",
        target_id: user_id,
        detail: "password set; earlier tokens ended".into(),
        business_id,
        actor: Actor::from(caller),
    };
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    Ok(())
}

const USER_COLUMNS: &str = "u.id, u.user_name, u.status, u.real_name, u.phone, u.create_time, u.update_time, \
     u.is_admin, u.is_system_admin, u.business_id, b.status AS business_status, \
     (SELECT COUNT(*) FROM totp t WHERE t.user_id = u.id AND t.active = 1) AS totp";

/// User `id` as the API shows it (deleted ones too), read in `conn` (an event's payload).
pub(crate) async fn shown(conn: &mut AnyConnection, id: i64) -> ApiResult<Option<User>> {
    let row: Option<UserRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM users u LEFT JOIN businesses b ON b.id = u.business_id WHERE u.id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(UserRow::into_model).transpose()
}

/// The users the caller administers: all for the system administrator, its business's
/// for a business admin.
#[utoipa::path(get, path = "/admin/user", tag = "users", security(("token" = [])), params(UserQuery),
    responses(
        (status = 200, description = "A page of users and `total`", body = Envelope<Vec<User>>),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not role 3 or 4", body = Message),
        (status = 422, description = "Bad paging or sorting", body = Message),
    ))]
pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(query): Query<UserQuery>,
) -> Reply<Vec<User>> {
    let scope = admin.scope();
    let filter = scope.filter("u.business_id", "$3");
    // Both sort keys come from whitelists; names are unique case-insensitively, so
    // `lower(user_name)` orders completely and its unique index serves the sort.
    let key = match query.order_by {
        UserOrder::Id => "u.id",
        UserOrder::UserName => "lower(u.user_name)",
    };
    let status_filter = if query.status.is_some() {
        "u.status = $4"
    } else {
        "1 = 1"
    };
    let name = query
        .name
        .as_ref()
        .map(|n| n.as_str().trim())
        .filter(|n| !n.is_empty());
    let name_filter = if name.is_some() {
        "lower(u.user_name) LIKE $5 ESCAPE '\\'"
    } else {
        "1 = 1"
    };
    let pattern = name.map(|n| format!("%{}%", crate::db::escape_like(&n.to_lowercase())));
    let status = query.status.map(|s| s.0 as i64);
    let filter = format!("u.deleted_at IS NULL AND {filter} AND {status_filter} AND {name_filter}");
    // Every query binds $1 limit, $2 offset, $3 business, $4 status, $5 name pattern.
    // Unfiltered, the total is the count the triggers of migration 0002 keep.
    let count_sql = if scope.business().is_none() && status.is_none() && pattern.is_none() {
        "SELECT value FROM live_user_count".to_owned()
    } else {
        format!("SELECT COUNT(*) FROM users u WHERE {filter}")
    };
    let total: i64 = sqlx::query_scalar(AssertSqlSafe(count_sql))
        .bind(0_i64)
        .bind(0_i64)
        .bind(scope.business())
        .bind(status)
        .bind(pattern.clone())
        .fetch_one(&state.db.pool)
        .await?;
    let Some(window) = Window::of(query.page, query.page_size, total) else {
        return ok(Envelope::page(Vec::new(), total));
    };
    // The page's ids come from an index alone (skipped rows are never read whole), then
    // only those rows are read.
    let direction = window.direction(query.order);
    let page_sql = format!(
        "SELECT {USER_COLUMNS} FROM users u LEFT JOIN businesses b ON b.id = u.business_id \
         WHERE u.id IN (SELECT u.id FROM users u WHERE {filter} ORDER BY {key} {direction} LIMIT $1 OFFSET $2) \
         ORDER BY {key} {direction}"
    );
    let rows: Vec<UserRow> = sqlx::query_as(AssertSqlSafe(page_sql))
        .bind(window.limit)
        .bind(window.offset)
        .bind(scope.business())
        .bind(status)
        .bind(pattern)
        .fetch_all(&state.db.pool)
        .await?;
    let users = window
        .arrange(rows)
        .into_iter()
        .map(UserRow::into_model)
        .collect::<ApiResult<Vec<_>>>()?;
    ok(Envelope::page(users, total))
}

/// The members of a business, by id: any business for the system administrator, only its
/// own for a business admin (another is 404, as if it did not exist).
#[utoipa::path(get, path = "/business/{id}/members", tag = "businesses", security(("token" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The business's id"), PageQuery),
    responses(
        (status = 200, description = "A page of its members (not deleted), by id, and `total`", body = Envelope<Vec<User>>),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not role 3 or 4", body = Message),
        (status = 404, description = "No such business in the caller's view", body = Message),
        (status = 422, description = "Bad id or paging", body = Message),
    ))]
pub async fn members(
    State(state): State<AppState>,
    admin: Admin,
    Id(id): Id,
    Query(query): Query<PageQuery>,
) -> Reply<Vec<User>> {
    let missing = || ApiError::NotFound(format!("id: no business {id}"));
    if let Some(own) = admin.scope().business()
        && own != id
    {
        return Err(missing());
    }
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM businesses WHERE id = $1")
        .bind(id)
        .fetch_optional(&state.db.pool)
        .await?;
    exists.ok_or_else(missing)?;
    // Binds $1 limit, $2 offset, $3 business; `users_business` serves both.
    let total: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users u WHERE u.business_id = $3 AND u.deleted_at IS NULL")
            .bind(0_i64)
            .bind(0_i64)
            .bind(id)
            .fetch_one(&state.db.pool)
            .await?;
    let Some(window) = Window::of(query.page, query.page_size, total) else {
        return ok(Envelope::page(Vec::new(), total));
    };
    let direction = window.direction(SortOrder::Asc);
    let page_sql = format!(
        "SELECT {USER_COLUMNS} FROM users u LEFT JOIN businesses b ON b.id = u.business_id \
         WHERE u.business_id = $3 AND u.deleted_at IS NULL ORDER BY u.id {direction} LIMIT $1 OFFSET $2"
    );
    let rows: Vec<UserRow> = sqlx::query_as(AssertSqlSafe(page_sql))
        .bind(window.limit)
        .bind(window.offset)
        .bind(id)
        .fetch_all(&state.db.pool)
        .await?;
    let users = window
        .arrange(rows)
        .into_iter()
        .map(UserRow::into_model)
        .collect::<ApiResult<Vec<_>>>()?;
    ok(Envelope::page(users, total))
}

/// Create a user, approved at once, in the caller's business (the system administrator
/// may name one with `businessId`, else none).
#[utoipa::path(post, path = "/admin/user", tag = "users", security(("token" = [])), request_body = NewUser,
    responses(
        (status = 200, description = "Created; `data.id` is the new user's id", body = Envelope<Created>),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not role 3 or 4", body = Message),
        (status = 404, description = "`businessId` names no business", body = Message),
        (status = 409, description = "Name or phone taken, or the business of `businessId` is neither pending nor approved", body = Message),
        (status = 413, description = "Body over 64 KiB", body = Message),
        (status = 422, description = "A field breaks its rule", body = Message),
        (status = 429, description = "Too many password attempts from this address; see `Retry-After`", body = Message),
        (status = 503, description = "Too many password checks waiting; see `Retry-After`", body = Message),
    ))]
pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    _: PasswordWork,
    Json(new): Json<NewUser>,
) -> Reply<Created> {
    let business_id = match admin.scope() {
        Scope::Business(own) => Some(own),
        Scope::Everything => new.business_id,
    };
    let hash = state.passwords.hash(&new.password).await?;
    let now = now();
    let mut tx = state.db.begin_write().await?;
    if let Some(business) = business_id {
        // Locked, so the business cannot be deleted before the new member is in it.
        let status: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT status FROM businesses WHERE id = $1{}",
            state.db.lock(RowLock::Share)
        )))
        .bind(business)
        .fetch_optional(&mut *tx)
        .await?;
        match status.and_then(BusinessStatus::from_code) {
            None => return Err(ApiError::NotFound(format!("businessId: no business {business}"))),
            Some(BusinessStatus::Pending | BusinessStatus::Approved) => {}
            Some(_) => {
                return Err(ApiError::Conflict(format!(
                    "businessId: business {business} is neither pending nor approved"
                )));
            }
        }
    }
    admin.0.confirm(&state.db, &mut tx).await?;
    let id = insert_user(&mut tx, &new, &hash, UserStatus::Approved, business_id, now).await?;
    let entry = Entry {
        action: "user.create",
        target_type: "user",
        target_id: id,
        detail: format!("{} created", new.user),
        business_id,
        actor: Actor::from(&admin.0),
    };
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    ok(Envelope::data(Created { id }))
}

#[derive(sqlx::FromRow)]
pub(crate) struct Target {
    pub id: i64,
    pub user_name: String,
    pub status: i64,
    pub is_system_admin: i64,
    pub business_id: Option<i64>,
}

/// The user `id` if the scope holds it, locked until the transaction ends; 404 otherwise,
/// so existence does not leak (and a user outside the scope is never locked).
pub(crate) async fn find_target(
    db: &Db,
    conn: &mut AnyConnection,
    scope: Scope,
    id: i64,
) -> ApiResult<Target> {
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
pub(crate) fn refuse_self_and_system_admin(caller: &Caller, target: &Target, what: &str) -> ApiResult<()> {
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

/// Audit a user: set `status` 0-3. Statuses 2 and 3 end the user's tokens at once.
#[utoipa::path(put, path = "/admin/user/{id}", tag = "users", security(("token" = [])), request_body = UserAudit,
    params(("id" = i64, Path, minimum = 1, description = "The user's id")),
    responses(
        (status = 200, description = "Status set", body = Message),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not role 4, or the target is the caller or the system administrator", body = Message),
        (status = 404, description = "No such user", body = Message),
        (status = 413, description = "Body over 64 KiB", body = Message),
        (status = 422, description = "Bad id or status", body = Message),
    ))]
pub async fn audit(
    State(state): State<AppState>,
    SystemAdmin(admin): SystemAdmin,
    Id(id): Id,
    Json(audit): Json<UserAudit>,
) -> Reply {
    let ends_tokens = matches!(audit.status, UserStatus::NotApproved | UserStatus::Forbidden);
    let now = now();
    let mut tx = state.db.begin_write().await?;
    admin.confirm(&state.db, &mut tx).await?;
    let target = find_target(&state.db, &mut tx, Scope::Everything, id).await?;
    refuse_self_and_system_admin(&admin, &target, "audit")?;
    if ends_tokens {
        accounts::end_tokens(&mut tx, id, Ending::Everything).await?;
    }
    sqlx::query("UPDATE users SET status = $1, update_time = $2 WHERE id = $3")
        .bind(audit.status as i64)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let entry = Entry {
        action: "user.audit",
        target_type: "user",
        target_id: id,
        detail: format!(
            "{}: status {} -> {}",
            target.user_name, target.status, audit.status as i64
        ),
        business_id: target.business_id,
        actor: Actor::from(&admin),
    };
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    ok(Envelope::success())
}

/// Reset another user's password; the user's tokens end.
#[utoipa::path(put, path = "/admin/user/{id}/password", tag = "users", security(("token" = [])),
    request_body = PasswordReset, params(("id" = i64, Path, minimum = 1, description = "The user's id")),
    responses(
        (status = 200, description = "Password set", body = Message),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not role 3 or 4, or the target is the caller or the system administrator", body = Message),
        (status = 404, description = "No such user in the caller's scope", body = Message),
        (status = 413, description = "Body over 64 KiB", body = Message),
        (status = 422, description = "Bad id, or the password breaks the rule", body = Message),
        (status = 429, description = "Too many password attempts from this address; see `Retry-After`", body = Message),
        (status = 503, description = "Too many password checks waiting; see `Retry-After`", body = Message),
    ))]
pub async fn reset_password(
    State(state): State<AppState>,
    admin: Admin,
    _: PasswordWork,
    Id(id): Id,
    Json(reset): Json<PasswordReset>,
) -> Reply {
    // Refused before any hashing, and checked again when writing.
    let mut conn = state.db.pool.acquire().await?;
    let target = find_target(&state.db, &mut conn, admin.scope(), id).await?;
    drop(conn);
    refuse_self_and_system_admin(&admin.0, &target, "reset the password of")?;
    let hash = state.passwords.hash(&reset.password).await?;
    let whose = Whose::Other {
        scope: admin.scope(),
        id,
    };
    set_password(&state, &admin.0, &hash, whose, "user.password_reset").await?;
    ok(Envelope::success())
}

/// Delete a user: the row stays for the audit log, the name and phone become free.
#[utoipa::path(delete, path = "/admin/user/{id}", tag = "users", security(("token" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The user's id")),
    responses(
        (status = 200, description = "Deleted", body = Message),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not role 3 or 4, the caller itself, or the system administrator", body = Message),
        (status = 404, description = "No such user in the caller's scope", body = Message),
        (status = 409, description = "The user owns a pending or approved business", body = Message),
        (status = 422, description = "Bad id", body = Message),
        (status = 503, description = "Collided with a simultaneous change (two admins acting on each other); try again after `Retry-After`", body = Message),
    ))]
pub async fn delete(State(state): State<AppState>, admin: Admin, Id(id): Id) -> Reply {
    let now = now();
    let mut tx = state.db.begin_write().await?;
    admin.0.confirm(&state.db, &mut tx).await?;
    // The target's row is locked first, so a business it starts meanwhile is seen below
    // (or waits for this transaction and then finds the user gone).
    let target = find_target(&state.db, &mut tx, admin.scope(), id).await?;
    refuse_self_and_system_admin(&admin.0, &target, "delete")?;
    let owned: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM businesses WHERE user_id = $1 AND status IN (0, 1)")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
    if owned > 0 {
        return Err(ApiError::Conflict(
            "id: the user owns a pending or approved business; delete it first".into(),
        ));
    }
    accounts::end_tokens(&mut tx, id, Ending::Everything).await?;
    sqlx::query("UPDATE users SET deleted_at = $1, update_time = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let entry = Entry {
        action: "user.delete",
        target_type: "user",
        target_id: id,
        detail: format!("{} deleted", target.user_name),
        business_id: target.business_id,
        actor: Actor::from(&admin.0),
    };
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    ok(Envelope::success())
}
