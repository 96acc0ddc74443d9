//! Businesses (tenant namespaces): requested by an approved admin, audited and deleted by
//! the system administrator, seen by their members and owner.

use super::audit::{self, Actor, Entry};
use super::window::Window;
use super::{Message, Reply, now, ok};
use crate::auth::{Approved, Caller, SystemAdmin};
use crate::db::RowLock;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Id, Json, Query};
use crate::state::AppState;
use app::model::{
    Business, BusinessAudit, BusinessOrder, BusinessQuery, BusinessStatus, Created, Envelope, NewBusiness,
    Role,
};
use axum::extract::State;
use sqlx::{AnyConnection, AssertSqlSafe};

#[derive(sqlx::FromRow)]
struct BusinessRow {
    id: i64,
    name: String,
    user_id: i64,
    owner_name: String,
    comment: String,
    status: i64,
    introduce: String,
    objective: String,
    scale: String,
    create_time: i64,
    update_time: i64,
}

impl BusinessRow {
    fn into_model(self) -> ApiResult<Business> {
        Ok(Business {
            status: BusinessStatus::from_code(self.status)
                .ok_or_else(|| ApiError::internal("bad business status"))?,
            id: self.id,
            name: self.name,
            user_id: self.user_id,
            owner_name: self.owner_name,
            comment: self.comment,
            introduce: self.introduce,
            objective: self.objective,
            scale: self.scale,
            create_time: self.create_time,
            update_time: self.update_time,
        })
    }
}

// The owner's name by a subquery rather than a join, so that `FOR UPDATE` (`find_business`)
// locks the business alone. A deleted owner keeps its name here, as in the audit log.
const BUSINESS_COLUMNS: &str = "b.id, b.name, b.user_id, \
     COALESCE((SELECT o.user_name FROM users o WHERE o.id = b.user_id), '') AS owner_name, \
     b.comment, b.status, b.introduce, b.objective, b.scale, b.create_time, b.update_time";

/// Which businesses a caller sees: all for the system administrator; for anyone else the
/// one it belongs to and those it requested, in any status. Binds `$4` (its business)
/// and `$5` (its id).
fn view_filter(caller: &Caller) -> &'static str {
    match caller.role {
        Role::SystemAdmin => "1 = 1",
        _ => "(b.id = $4 OR b.user_id = $5)",
    }
}

/// Request a business; the caller becomes its owner and first member.
#[utoipa::path(post, path = "/business", tag = "businesses", security(("token" = [])), request_body = NewBusiness,
    responses(
        (status = 200, description = "Requested, status 0; `data.id` is its id", body = Envelope<Created>),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not an approved admin", body = Message),
        (status = 409, description = "Name taken, or the caller already has a pending or approved business", body = Message),
        (status = 422, description = "A field breaks its rule", body = Message),
    ))]
pub async fn create(
    State(state): State<AppState>,
    Approved(caller): Approved,
    Json(new): Json<NewBusiness>,
) -> Reply<Created> {
    if caller.role == Role::SystemAdmin {
        return Err(ApiError::Forbidden(
            "role: the system administrator does not request businesses".into(),
        ));
    }
    if !caller.is_admin {
        return Err(ApiError::Forbidden(
            "isAdmin: only administrators may request a business".into(),
        ));
    }
    if matches!(
        caller.business_status,
        Some(BusinessStatus::Pending | BusinessStatus::Approved)
    ) {
        return Err(ApiError::Conflict(
            "user: already has a pending or approved business".into(),
        ));
    }
    let now = now();
    let mut tx = state.db.begin_write().await?;
    // The caller's row is locked here: a deletion of the caller waits for this request,
    // then finds the business it owns; or this request finds the caller gone.
    caller.confirm(&state.db, &mut tx).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO businesses (name, user_id, status, introduce, objective, scale, create_time, update_time) \
         VALUES ($1, $2, 0, $3, $4, $5, $6, $6) RETURNING id",
    )
    .bind(new.name.as_str())
    .bind(caller.id)
    .bind(new.introduce.as_str())
    .bind(new.objective.as_str())
    .bind(new.scale.as_str())
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("UPDATE users SET business_id = $1, update_time = $2 WHERE id = $3")
        .bind(id)
        .bind(now)
        .bind(caller.id)
        .execute(&mut *tx)
        .await?;
    let entry = Entry {
        action: "business.create",
        target_type: "business",
        target_id: id,
        detail: format!("{} requested", new.name),
        business_id: Some(id),
        actor: Actor::from(&caller),
    };
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    ok(Envelope::data(Created { id }))
}

/// The businesses the caller sees, with a case-insensitive `name` filter and a `status`
/// filter.
#[utoipa::path(get, path = "/business", tag = "businesses", security(("token" = [])), params(BusinessQuery),
    responses(
        (status = 200, description = "A page of businesses and `total`", body = Envelope<Vec<Business>>),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Pending users", body = Message),
        (status = 422, description = "Bad paging, sorting or status", body = Message),
    ))]
pub async fn list(
    State(state): State<AppState>,
    Approved(caller): Approved,
    Query(query): Query<BusinessQuery>,
) -> Reply<Vec<Business>> {
    let view = view_filter(&caller);
    let name = query
        .name
        .as_ref()
        .map(|n| n.as_str().trim())
        .filter(|n| !n.is_empty());
    let name_filter = if name.is_some() {
        "lower(b.name) LIKE $3 ESCAPE '\\'"
    } else {
        "1 = 1"
    };
    let pattern = name.map(|n| format!("%{}%", crate::db::escape_like(&n.to_lowercase())));
    let status = query.status.map(|s| s.0 as i64);
    let status_filter = if status.is_some() {
        "b.status = $6"
    } else {
        "1 = 1"
    };
    let BusinessOrder::Id = query.order_by;
    let filter = format!("{view} AND {name_filter} AND {status_filter}");
    // Every query binds $1 limit, $2 offset, $3 name pattern, $4 business, $5 caller,
    // $6 status.
    let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM businesses b WHERE {filter}"
    )))
    .bind(0_i64)
    .bind(0_i64)
    .bind(pattern.clone())
    .bind(caller.business_id)
    .bind(caller.id)
    .bind(status)
    .fetch_one(&state.db.pool)
    .await?;
    let Some(window) = Window::of(query.page, query.page_size, total) else {
        return ok(Envelope::page(Vec::new(), total));
    };
    let direction = window.direction(query.order);
    let page_sql = format!(
        "SELECT {BUSINESS_COLUMNS} FROM businesses b WHERE {filter} ORDER BY b.id {direction} LIMIT $1 OFFSET $2"
    );
    let rows: Vec<BusinessRow> = sqlx::query_as(AssertSqlSafe(page_sql))
        .bind(window.limit)
        .bind(window.offset)
        .bind(pattern)
        .bind(caller.business_id)
        .bind(caller.id)
        .bind(status)
        .fetch_all(&state.db.pool)
        .await?;
    let businesses = window
        .arrange(rows)
        .into_iter()
        .map(BusinessRow::into_model)
        .collect::<ApiResult<Vec<_>>>()?;
    ok(Envelope::page(businesses, total))
}

/// One business, if the caller sees it (404 otherwise).
#[utoipa::path(get, path = "/business/id/{id}", tag = "businesses", security(("token" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The business's id")),
    responses(
        (status = 200, description = "The business", body = Envelope<Business>),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Pending users", body = Message),
        (status = 404, description = "No such business in the caller's view", body = Message),
        (status = 422, description = "Bad id", body = Message),
    ))]
pub async fn get(State(state): State<AppState>, Approved(caller): Approved, Id(id): Id) -> Reply<Business> {
    let sql = format!(
        "SELECT {BUSINESS_COLUMNS} FROM businesses b WHERE b.id = $1 AND {}",
        view_filter(&caller)
    );
    let row: Option<BusinessRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .bind(None::<i64>)
        .bind(None::<String>)
        .bind(caller.business_id)
        .bind(caller.id)
        .fetch_optional(&state.db.pool)
        .await?;
    let row = row.ok_or_else(|| ApiError::NotFound(format!("id: no business {id}")))?;
    ok(Envelope::data(row.into_model()?))
}

/// Business `id` as the API shows it, read in `conn` (an event's payload).
pub(crate) async fn shown(conn: &mut AnyConnection, id: i64) -> ApiResult<Option<Business>> {
    let row: Option<BusinessRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {BUSINESS_COLUMNS} FROM businesses b WHERE b.id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(BusinessRow::into_model).transpose()
}

/// The business `id`, locked until the transaction ends; 404 if there is none, 409 if it
/// is deleted (nothing brings a business back).
async fn find_business(state: &AppState, conn: &mut AnyConnection, id: i64) -> ApiResult<BusinessRow> {
    let sql = format!(
        "SELECT {BUSINESS_COLUMNS} FROM businesses b WHERE b.id = $1{}",
        state.db.lock(RowLock::Update)
    );
    let row: Option<BusinessRow> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let row = row.ok_or_else(|| ApiError::NotFound(format!("id: no business {id}")))?;
    if row.status == BusinessStatus::Deleted as i64 {
        return Err(ApiError::Conflict(format!("id: business {id} is deleted")));
    }
    Ok(row)
}

/// Approve (1) or disapprove (2) a business, with a comment. Approval makes its owner
/// a business admin.
#[utoipa::path(put, path = "/admin/business/{id}", tag = "businesses", security(("token" = [])),
    request_body = BusinessAudit, params(("id" = i64, Path, minimum = 1, description = "The business's id")),
    responses(
        (status = 200, description = "Audited", body = Message),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not role 4", body = Message),
        (status = 404, description = "No such business", body = Message),
        (status = 409, description = "The business is deleted, or approving it would clash with a live one", body = Message),
        (status = 422, description = "Bad id, status or comment", body = Message),
    ))]
pub async fn audit(
    State(state): State<AppState>,
    SystemAdmin(admin): SystemAdmin,
    Id(id): Id,
    Json(audit): Json<BusinessAudit>,
) -> Reply {
    let status = BusinessStatus::from(audit.status);
    let now = now();
    let mut tx = state.db.begin_write().await?;
    // Business first, then users: the order every writer locks in.
    let business = find_business(&state, &mut tx, id).await?;
    admin.confirm(&state.db, &mut tx).await?;
    if status == BusinessStatus::Approved {
        // No live business is ever owned by a deleted user.
        let owner_live: Option<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT id FROM users WHERE id = $1 AND deleted_at IS NULL{}",
            state.db.lock(RowLock::Update)
        )))
        .bind(business.user_id)
        .fetch_optional(&mut *tx)
        .await?;
        if owner_live.is_none() {
            return Err(ApiError::Conflict(format!(
                "id: the owner of business {id} has been deleted"
            )));
        }
    }
    sqlx::query("UPDATE businesses SET status = $1, comment = $2, update_time = $3 WHERE id = $4")
        .bind(status as i64)
        .bind(audit.comment.as_str())
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if status == BusinessStatus::Approved {
        // The owner is a member of what it owns (it may have moved on after a refusal).
        sqlx::query(
            "UPDATE users SET business_id = $1, update_time = $2 WHERE id = $3 AND deleted_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .bind(business.user_id)
        .execute(&mut *tx)
        .await?;
    }
    let entry = Entry {
        action: "business.audit",
        target_type: "business",
        target_id: id,
        detail: format!(
            "{}: status {} -> {}; comment: {}",
            business.name, business.status, status as i64, audit.comment
        ),
        business_id: Some(id),
        actor: Actor::from(&admin),
    };
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    ok(Envelope::success())
}

/// Delete a business: status 3, its members leave it, the row stays.
#[utoipa::path(delete, path = "/admin/business/{id}", tag = "businesses", security(("token" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The business's id")),
    responses(
        (status = 200, description = "Deleted", body = Message),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not role 4", body = Message),
        (status = 404, description = "No such business", body = Message),
        (status = 409, description = "Already deleted", body = Message),
        (status = 422, description = "Bad id", body = Message),
    ))]
pub async fn delete(State(state): State<AppState>, SystemAdmin(admin): SystemAdmin, Id(id): Id) -> Reply {
    let now = now();
    let mut tx = state.db.begin_write().await?;
    let business = find_business(&state, &mut tx, id).await?;
    admin.confirm(&state.db, &mut tx).await?;
    sqlx::query("UPDATE businesses SET status = $1, update_time = $2 WHERE id = $3")
        .bind(BusinessStatus::Deleted as i64)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let members = sqlx::query("UPDATE users SET business_id = NULL, update_time = $1 WHERE business_id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let entry = Entry {
        action: "business.delete",
        target_type: "business",
        target_id: id,
        detail: format!("{} deleted; {members} member(s) left it", business.name),
        business_id: Some(id),
        actor: Actor::from(&admin),
    };
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    ok(Envelope::success())
}
