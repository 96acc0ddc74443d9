//! The audit log: every state change writes an entry in its own transaction
//! (`record`), and admins read it newest first (`GET /v1/admin/audit`).

use super::window::Window;
use super::{Message, Reply, ok};
use crate::auth::{Admin, Caller};
use crate::error::ApiError;
use crate::extract::Query;
use crate::state::AppState;
use app::model::{AuditEntry, Envelope, PageQuery, SortOrder};
use axum::extract::State;
use sqlx::{AnyConnection, AssertSqlSafe};

/// Who did it: a user id and name (the name is kept, the user may be deleted later).
pub struct Actor<'a> {
    pub id: i64,
    pub name: &'a str,
}

impl<'a> From<&'a Caller> for Actor<'a> {
    fn from(caller: &'a Caller) -> Self {
        Self {
            id: caller.id,
            name: &caller.name,
        }
    }
}

/// One entry to write; `business_id` lets that business's admins see it.
pub struct Entry<'a> {
    pub action: &'static str,
    pub target_type: &'static str,
    pub target_id: i64,
    pub detail: String,
    pub business_id: Option<i64>,
    pub actor: Actor<'a>,
}

/// Writes the entry, and its event into the outbox (SPEC.md section 10), in the caller's
/// transaction: the change, its entry and its event commit together or not at all.
pub async fn record(tx: &mut AnyConnection, entry: Entry<'_>, now: i64) -> Result<(), ApiError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO audit_log (actor_id, actor, action, target_type, target_id, detail, business_id, create_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(entry.actor.id)
    .bind(entry.actor.name)
    .bind(entry.action)
    .bind(entry.target_type)
    .bind(entry.target_id)
    .bind(&entry.detail)
    .bind(entry.business_id)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let shown = AuditEntry {
        id,
        actor_id: Some(entry.actor.id),
        actor: entry.actor.name.to_owned(),
        action: entry.action.to_owned(),
        target_type: entry.target_type.to_owned(),
        target_id: entry.target_id,
        detail: entry.detail,
        create_time: now,
    };
    crate::webhooks::outbox::publish(tx, &shown, now).await
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: i64,
    actor_id: Option<i64>,
    actor: String,
    action: String,
    target_type: String,
    target_id: i64,
    detail: String,
    create_time: i64,
}

/// The audit log, newest first; a business admin sees its own business's entries.
#[utoipa::path(get, path = "/admin/audit", tag = "audit", security(("token" = [])), params(PageQuery),
    responses(
        (status = 200, description = "A page of entries and `total`", body = Envelope<Vec<AuditEntry>>),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not role 3 or 4", body = Message),
        (status = 422, description = "Bad paging", body = Message),
    ))]
pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(query): Query<PageQuery>,
) -> Reply<Vec<AuditEntry>> {
    // Every query binds the same values in the same order: $1 limit, $2 offset, $3 the
    // business; each text uses those it needs.
    let scope = admin.scope();
    let filter = scope.filter("business_id", "$3");
    let total: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM audit_log WHERE {filter}"
    )))
    .bind(0_i64)
    .bind(0_i64)
    .bind(scope.business())
    .fetch_one(&state.db.pool)
    .await?;
    let Some(window) = Window::of(query.page, query.page_size, total) else {
        return ok(Envelope::page(Vec::new(), total));
    };
    let direction = window.direction(SortOrder::Desc);
    let page_sql = format!(
        "SELECT id, actor_id, actor, action, target_type, target_id, detail, create_time \
         FROM audit_log WHERE {filter} ORDER BY id {direction} LIMIT $1 OFFSET $2"
    );
    let rows: Vec<EntryRow> = sqlx::query_as(AssertSqlSafe(page_sql))
        .bind(window.limit)
        .bind(window.offset)
        .bind(scope.business())
        .fetch_all(&state.db.pool)
        .await?;
    let entries = window
        .arrange(rows)
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id,
            actor_id: r.actor_id,
            actor: r.actor,
            action: r.action,
            target_type: r.target_type,
            target_id: r.target_id,
            detail: r.detail,
            create_time: r.create_time,
        })
        .collect();
    ok(Envelope::page(entries, total))
}
