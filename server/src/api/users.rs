//! Users: registration and password change (`/v1/user`), and their administration
//! (`/v1/admin/user`), scoped by `Admin::scope`.

use crate::audit::{self, Actor, Entry};
use crate::auth::caller::Scope;
use crate::auth::session::{self, Ending};
use crate::auth::{Admin, Caller, SystemAdmin};
use crate::clock::now;
use crate::db::RowLock;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Id, Json, Query};
use crate::limits::PasswordWork;
use crate::reply::{Message, Reply, ok};
use crate::rows::user::{
    self as rows, COLUMNS, UserRow, check_own_password, find_target, refuse_self_and_system_admin,
};
use crate::state::AppState;
use crate::window::{self, Value, Window, contains_pattern};
use app::model::{
    BusinessStatus, Created, Envelope, NewUser, PageQuery, PasswordChange, PasswordReset, SortOrder, User,
    UserAudit, UserOrder, UserQuery, UserStatus,
};
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Users and their administration, `/v1/user` and `/v1/admin/user`, and the members of a business.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register, change_password))
        .routes(routes!(list, create))
        .routes(routes!(audit, delete))
        .routes(routes!(reset_password))
        .routes(routes!(members))
}

/// Register: the new user waits, status 0, for the system administrator's approval.
#[utoipa::path(post, path = "/v1/user", tag = "users", request_body = NewUser,
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
    let id = rows::insert(&mut tx, &new, &hash, UserStatus::Pending, None, now).await?;
    let entry = Entry::user(
        Actor {
            id: Some(id),
            name: new.user.as_str(),
        },
        "user.register",
        id,
        None,
        format!("{} registered", new.user),
    );
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    ok(Envelope::data(Created { id }))
}

/// Change the caller's own password; every token issued before stops working. A wrong
/// old password counts toward the login throttle of the caller's name.
#[utoipa::path(put, path = "/v1/user", tag = "users", security(("token" = [])), request_body = PasswordChange,
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
    rows::set_password(&mut tx, user_id, hash, ending, now).await?;
    let entry = Entry::user(
        caller,
        action,
        user_id,
        business_id,
        "password set; earlier tokens ended",
    );
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    Ok(())
}

/// The users the caller administers: all for the system administrator, its business's
/// for a business admin.
#[utoipa::path(get, path = "/v1/admin/user", tag = "users", security(("token" = [])), params(UserQuery),
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
    let pattern = contains_pattern(query.name.as_ref().map(|n| n.as_str()));
    let name_filter = if pattern.is_some() {
        "lower(u.user_name) LIKE $5 ESCAPE '\\'"
    } else {
        "1 = 1"
    };
    let status = query.status.map(|s| s.0 as i64);
    let filter = format!("u.deleted_at IS NULL AND {filter} AND {status_filter} AND {name_filter}");
    // Every query binds $1 limit, $2 offset, $3 business, $4 status, $5 name pattern.
    // Unfiltered, the total is the count the triggers of migration 0002 keep.
    let count_sql = if scope.business().is_none() && status.is_none() && pattern.is_none() {
        "SELECT value FROM live_user_count".to_owned()
    } else {
        format!("SELECT COUNT(*) FROM users u WHERE {filter}")
    };
    let filters = [
        Value::Int(scope.business()),
        Value::Int(status),
        Value::Text(pattern),
    ];
    let total = window::count(&state.db.pool, count_sql, &filters).await?;
    let Some(window) = Window::of(query.page, query.page_size, total) else {
        return ok(Envelope::page(Vec::new(), total));
    };
    // The page's ids come from an index alone (skipped rows are never read whole), then
    // only those rows are read.
    let direction = window.direction(query.order);
    let page_sql = format!(
        "SELECT {COLUMNS} FROM users u LEFT JOIN businesses b ON b.id = u.business_id \
         WHERE u.id IN (SELECT u.id FROM users u WHERE {filter} ORDER BY {key} {direction} LIMIT $1 OFFSET $2) \
         ORDER BY {key} {direction}"
    );
    let users = window
        .read(&state.db.pool, page_sql, &filters, UserRow::into_model)
        .await?;
    ok(Envelope::page(users, total))
}

/// The members of a business, by id: any business for the system administrator, only its
/// own for a business admin (another is 404, as if it did not exist).
#[utoipa::path(get, path = "/v1/business/{id}/members", tag = "businesses", security(("token" = [])),
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
    let filters = [Value::int(id)];
    let count_sql = "SELECT COUNT(*) FROM users u WHERE u.business_id = $3 AND u.deleted_at IS NULL";
    let total = window::count(&state.db.pool, count_sql.into(), &filters).await?;
    let Some(window) = Window::of(query.page, query.page_size, total) else {
        return ok(Envelope::page(Vec::new(), total));
    };
    let direction = window.direction(SortOrder::Asc);
    let page_sql = format!(
        "SELECT {COLUMNS} FROM users u LEFT JOIN businesses b ON b.id = u.business_id \
         WHERE u.business_id = $3 AND u.deleted_at IS NULL ORDER BY u.id {direction} LIMIT $1 OFFSET $2"
    );
    let members = window
        .read(&state.db.pool, page_sql, &filters, UserRow::into_model)
        .await?;
    ok(Envelope::page(members, total))
}

/// Create a user, approved at once, in the caller's business (the system administrator
/// may name one with `businessId`, else none).
#[utoipa::path(post, path = "/v1/admin/user", tag = "users", security(("token" = [])), request_body = NewUser,
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
    let id = rows::insert(&mut tx, &new, &hash, UserStatus::Approved, business_id, now).await?;
    let entry = Entry::user(
        &admin.0,
        "user.create",
        id,
        business_id,
        format!("{} created", new.user),
    );
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    ok(Envelope::data(Created { id }))
}

/// Audit a user: set `status` 0-3. Statuses 2 and 3 end the user's tokens at once.
#[utoipa::path(put, path = "/v1/admin/user/{id}", tag = "users", security(("token" = [])), request_body = UserAudit,
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
        session::end_tokens(&mut tx, id, Ending::Everything).await?;
    }
    sqlx::query("UPDATE users SET status = $1, update_time = $2 WHERE id = $3")
        .bind(audit.status as i64)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let entry = Entry::user(
        &admin,
        "user.audit",
        id,
        target.business_id,
        format!(
            "{}: status {} -> {}",
            target.user_name, target.status, audit.status as i64
        ),
    );
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    ok(Envelope::success())
}

/// Reset another user's password; the user's tokens end.
#[utoipa::path(put, path = "/v1/admin/user/{id}/password", tag = "users", security(("token" = [])),
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
#[utoipa::path(delete, path = "/v1/admin/user/{id}", tag = "users", security(("token" = [])),
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
    session::end_tokens(&mut tx, id, Ending::Everything).await?;
    sqlx::query("UPDATE users SET deleted_at = $1, update_time = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let entry = Entry::user(
        &admin.0,
        "user.delete",
        id,
        target.business_id,
        format!("{} deleted", target.user_name),
    );
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    ok(Envelope::success())
}
