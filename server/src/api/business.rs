//! Businesses (tenant namespaces): requested by an approved admin, audited and deleted by
//! the system administrator, seen by their members and owner.

use crate::audit::{self, Entry};
use crate::auth::session::{self, Grants};
use crate::auth::{Approved, Caller, SystemAdmin};
use crate::clock::now;
use crate::db::RowLock;
use crate::error::ApiError;
use crate::extract::{Id, Json, Query};
use crate::reply::{Message, Reply, ok};
use crate::rows::business::{self as rows, BusinessRow, COLUMNS};
use crate::state::AppState;
use crate::window::{self, Value, Window, contains_pattern};
use app::model::{
    Business, BusinessAudit, BusinessOrder, BusinessQuery, BusinessStatus, Created, Envelope, NewBusiness,
    Role,
};
use axum::extract::State;
use sqlx::AssertSqlSafe;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Businesses, `/v1/business` and `/v1/admin/business`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get))
        .routes(routes!(audit, delete))
}

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
#[utoipa::path(post, path = "/v1/business", tag = "businesses", security(("token" = [])), request_body = NewBusiness,
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
    let entry = Entry::business(&caller, "business.create", id, format!("{} requested", new.name));
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    ok(Envelope::data(Created { id }))
}

/// The businesses the caller sees, with a case-insensitive `name` filter and a `status`
/// filter.
#[utoipa::path(get, path = "/v1/business", tag = "businesses", security(("token" = [])), params(BusinessQuery),
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
    let pattern = contains_pattern(query.name.as_ref().map(|n| n.as_str()));
    let name_filter = if pattern.is_some() {
        "lower(b.name) LIKE $3 ESCAPE '\\'"
    } else {
        "1 = 1"
    };
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
    let filters = [
        Value::Text(pattern),
        Value::Int(caller.business_id),
        Value::int(caller.id),
        Value::Int(status),
    ];
    let count_sql = format!("SELECT COUNT(*) FROM businesses b WHERE {filter}");
    let total = window::count(&state.db.pool, count_sql, &filters).await?;
    let Some(window) = Window::of(query.page, query.page_size, total) else {
        return ok(Envelope::page(Vec::new(), total));
    };
    let direction = window.direction(query.order);
    let page_sql = format!(
        "SELECT {COLUMNS} FROM businesses b WHERE {filter} ORDER BY b.id {direction} LIMIT $1 OFFSET $2"
    );
    let businesses = window
        .read(&state.db.pool, page_sql, &filters, BusinessRow::into_model)
        .await?;
    ok(Envelope::page(businesses, total))
}

/// One business, if the caller sees it (404 otherwise).
#[utoipa::path(get, path = "/v1/business/id/{id}", tag = "businesses", security(("token" = [])),
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
        "SELECT {COLUMNS} FROM businesses b WHERE b.id = $1 AND {}",
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

/// Approve (1) or disapprove (2) a business, with a comment. Approval makes its owner
/// a business admin.
#[utoipa::path(put, path = "/v1/admin/business/{id}", tag = "businesses", security(("token" = [])),
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
    let business = rows::find(&state.db, &mut tx, id).await?;
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
    if business.status == BusinessStatus::Approved as i64 && status != BusinessStatus::Approved {
        // Its members' `groups` lose the business: what applications were given ends.
        session::end_grants(&mut tx, Grants::OfBusinessMembers(id)).await?;
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
    let entry = Entry::business(
        &admin,
        "business.audit",
        id,
        format!(
            "{}: status {} -> {}; comment: {}",
            business.name, business.status, status as i64, audit.comment
        ),
    );
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    ok(Envelope::success())
}

/// Delete a business: status 3, its members leave it, the row stays.
#[utoipa::path(delete, path = "/v1/admin/business/{id}", tag = "businesses", security(("token" = [])),
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
    let business = rows::find(&state.db, &mut tx, id).await?;
    admin.confirm(&state.db, &mut tx).await?;
    sqlx::query("UPDATE businesses SET status = $1, update_time = $2 WHERE id = $3")
        .bind(BusinessStatus::Deleted as i64)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    // What applications were told of the members' business no longer holds.
    session::end_grants(&mut tx, Grants::OfBusinessMembers(id)).await?;
    let members = sqlx::query("UPDATE users SET business_id = NULL, update_time = $1 WHERE business_id = $2")
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let entry = Entry::business(
        &admin,
        "business.delete",
        id,
        format!("{} deleted; {members} member(s) left it", business.name),
    );
    audit::record(&mut tx, entry, now).await?;
    tx.commit().await?;
    ok(Envelope::success())
}
