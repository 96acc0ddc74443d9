//! `/v1/admin/webhooks`: the system administrator's endpoints and their deliveries
//! (SPEC.md section 10). Every change is audited, and so becomes an event itself.

use super::policy::shown_url;
use super::sign;
use crate::audit::{self, Entry};
use crate::auth::SystemAdmin;
use crate::auth::caller::Caller;
use crate::clock::{now, now_ms};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Id, Json, Query};
use crate::outbox::NOT_STARTED;
use crate::reply::{Message, Reply, ok};
use crate::state::AppState;
use crate::window::Window;
use app::model::{
    CreatedWebhook, Delivery, DeliveryStatus, Envelope, NewWebhook, PageQuery, SortOrder, Webhook,
    WebhookChange,
};
use axum::extract::{Path, State};
use sqlx::AnyConnection;

#[derive(sqlx::FromRow)]
struct WebhookRow {
    id: i64,
    url: String,
    events: String,
    description: String,
    enabled: i64,
    create_time: i64,
    update_time: i64,
}

impl WebhookRow {
    fn into_model(self) -> Webhook {
        Webhook {
            id: self.id,
            url: self.url,
            events: serde_json::from_str(&self.events).unwrap_or_default(),
            description: self.description,
            enabled: self.enabled != 0,
            create_time: self.create_time,
            update_time: self.update_time,
        }
    }
}

const WEBHOOK_COLUMNS: &str = "id, url, events, description, enabled, create_time, update_time";

async fn record(
    tx: &mut AnyConnection,
    admin: &Caller,
    action: &'static str,
    id: i64,
    detail: String,
    now: i64,
) -> ApiResult<()> {
    let entry = Entry::webhook(admin, action, id, detail);
    audit::record(tx, entry, now).await
}

/// Register an endpoint; the answer holds its signing secret, shown only now.
#[utoipa::path(post, path = "/v1/admin/webhooks", tag = "webhooks", security(("token" = [])), request_body = NewWebhook,
    responses(
        (status = 200, description = "Registered: `data.secret` (shown only now) and `data.id`", body = Envelope<CreatedWebhook>),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not role 4", body = Message),
        (status = 413, description = "Body over 64 KiB", body = Message),
        (status = 422, description = "A field breaks its rule, or the URL points where webhooks may not go", body = Message),
    ))]
pub async fn create(
    State(state): State<AppState>,
    SystemAdmin(admin): SystemAdmin,
    Json(new): Json<NewWebhook>,
) -> Reply<CreatedWebhook> {
    let url = new.url.as_str().to_owned();
    state
        .webhooks
        .destinations
        .check(&url)
        .await
        .map_err(|reason| ApiError::unprocessable("url", reason))?;
    let secret = sign::new_secret();
    let events: Vec<&str> = new.events.iter().map(|e| e.as_str()).collect();
    let now = now();
    let mut tx = state.db.begin_write().await?;
    admin.confirm(&state.db, &mut tx).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO webhooks (url, events, description, secret, enabled, create_time, update_time) \
         VALUES ($1, $2, $3, $4, 1, $5, $5) RETURNING id",
    )
    .bind(&url)
    .bind(serde_json::to_string(&events).unwrap_or_default())
    .bind(new.description.as_str())
    .bind(&secret)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    record(
        &mut tx,
        &admin,
        "webhook.create",
        id,
        format!("{} for {}", shown_url(&url), events.join(", ")),
        now,
    )
    .await?;
    tx.commit().await?;
    ok(Envelope::data(CreatedWebhook { id, secret }))
}

/// Every endpoint (never their secrets).
#[utoipa::path(get, path = "/v1/admin/webhooks", tag = "webhooks", security(("token" = [])),
    responses(
        (status = 200, description = "The endpoints", body = Envelope<Vec<Webhook>>),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not role 4", body = Message),
    ))]
pub async fn list(State(state): State<AppState>, _admin: SystemAdmin) -> Reply<Vec<Webhook>> {
    let rows: Vec<WebhookRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY id"
    )))
    .fetch_all(&state.db.pool)
    .await?;
    let hooks: Vec<Webhook> = rows.into_iter().map(WebhookRow::into_model).collect();
    let total = hooks.len() as i64;
    ok(Envelope::page(hooks, total))
}

/// The endpoint `id`, locked until the transaction ends, after the outbox's lock (see
/// `outbox::lock`: the other order deadlocks with a writer publishing an event).
async fn find(tx: &mut AnyConnection, state: &AppState, id: i64) -> ApiResult<WebhookRow> {
    crate::outbox::lock(tx).await?;
    let row: Option<WebhookRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1{}",
        state.db.lock(crate::db::RowLock::Delete)
    )))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    row.ok_or_else(|| ApiError::NotFound(format!("id: no webhook {id}")))
}

/// Change an endpoint's `url`, `events`, `description` or `enabled`.
#[utoipa::path(put, path = "/v1/admin/webhooks/{id}", tag = "webhooks", security(("token" = [])), request_body = WebhookChange,
    params(("id" = i64, Path, minimum = 1, description = "The endpoint's id")),
    responses(
        (status = 200, description = "Changed", body = Message),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not role 4", body = Message),
        (status = 404, description = "No such endpoint", body = Message),
        (status = 413, description = "Body over 64 KiB", body = Message),
        (status = 422, description = "A field breaks its rule, or the URL points where webhooks may not go", body = Message),
    ))]
pub async fn update(
    State(state): State<AppState>,
    SystemAdmin(admin): SystemAdmin,
    Id(id): Id,
    Json(change): Json<WebhookChange>,
) -> Reply {
    if let Some(url) = &change.url {
        state
            .webhooks
            .destinations
            .check(url.as_str())
            .await
            .map_err(|reason| ApiError::unprocessable("url", reason))?;
    }
    let now = now();
    let mut tx = state.db.begin_write().await?;
    admin.confirm(&state.db, &mut tx).await?;
    let old = find(&mut tx, &state, id).await?;
    let url = change
        .url
        .as_ref()
        .map_or(old.url.clone(), |u| u.as_str().to_owned());
    let events = match &change.events {
        Some(list) => {
            serde_json::to_string(&list.iter().map(|e| e.as_str()).collect::<Vec<_>>()).unwrap_or_default()
        }
        None => old.events.clone(),
    };
    let description = change
        .description
        .as_ref()
        .map_or(old.description.clone(), |d| d.as_str().to_owned());
    let enabled = change.enabled.map_or(old.enabled, i64::from);
    sqlx::query(
        "UPDATE webhooks SET url = $1, events = $2, description = $3, enabled = $4, update_time = $5 WHERE id = $6",
    )
    .bind(&url)
    .bind(&events)
    .bind(&description)
    .bind(enabled)
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let detail = format!(
        "{} for {events}{}",
        shown_url(&url),
        if enabled == 0 { " (disabled)" } else { "" }
    );
    record(&mut tx, &admin, "webhook.update", id, detail, now).await?;
    tx.commit().await?;
    ok(Envelope::success())
}

/// Remove an endpoint and its deliveries.
#[utoipa::path(delete, path = "/v1/admin/webhooks/{id}", tag = "webhooks", security(("token" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The endpoint's id")),
    responses(
        (status = 200, description = "Removed", body = Message),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not role 4", body = Message),
        (status = 404, description = "No such endpoint", body = Message),
        (status = 422, description = "Bad id", body = Message),
    ))]
pub async fn delete(State(state): State<AppState>, SystemAdmin(admin): SystemAdmin, Id(id): Id) -> Reply {
    let now = now();
    let mut tx = state.db.begin_write().await?;
    admin.confirm(&state.db, &mut tx).await?;
    let old = find(&mut tx, &state, id).await?;
    sqlx::query("DELETE FROM deliveries WHERE webhook_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM webhooks WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    record(
        &mut tx,
        &admin,
        "webhook.delete",
        id,
        format!("{} removed", shown_url(&old.url)),
        now,
    )
    .await?;
    tx.commit().await?;
    ok(Envelope::success())
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: i64,
    event_id: i64,
    kind: String,
    status: String,
    attempts: i64,
    last_status_code: Option<i64>,
    last_error: Option<String>,
    next_attempt_ms: i64,
    create_time: i64,
}

/// An endpoint's deliveries, newest first.
#[utoipa::path(get, path = "/v1/admin/webhooks/{id}/deliveries", tag = "webhooks", security(("token" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The endpoint's id"), PageQuery),
    responses(
        (status = 200, description = "A page of deliveries and `total`", body = Envelope<Vec<Delivery>>),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not role 4", body = Message),
        (status = 404, description = "No such endpoint", body = Message),
        (status = 422, description = "Bad id or paging", body = Message),
    ))]
pub async fn deliveries(
    State(state): State<AppState>,
    _admin: SystemAdmin,
    Id(id): Id,
    Query(query): Query<PageQuery>,
) -> Reply<Vec<Delivery>> {
    let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhooks WHERE id = $1")
        .bind(id)
        .fetch_one(&state.db.pool)
        .await?;
    if exists == 0 {
        return Err(ApiError::NotFound(format!("id: no webhook {id}")));
    }
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deliveries WHERE webhook_id = $1")
        .bind(id)
        .fetch_one(&state.db.pool)
        .await?;
    let Some(window) = Window::of(query.page, query.page_size, total) else {
        return ok(Envelope::page(Vec::new(), total));
    };
    let direction = window.direction(SortOrder::Desc);
    let rows: Vec<DeliveryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT d.id, d.event_id, e.type AS kind, d.status, d.attempts, d.last_status_code, d.last_error, \
                d.next_attempt_ms, d.create_time \
         FROM deliveries d JOIN events e ON e.id = d.event_id \
         WHERE d.webhook_id = $3 ORDER BY d.id {direction} LIMIT $1 OFFSET $2"
    )))
    .bind(window.limit)
    .bind(window.offset)
    .bind(id)
    .fetch_all(&state.db.pool)
    .await?;
    let list = window
        .arrange(rows)
        .into_iter()
        .map(|row| {
            Ok(Delivery {
                id: row.id,
                event_id: row.event_id,
                kind: row.kind,
                status: DeliveryStatus::from_name(&row.status)
                    .ok_or_else(|| ApiError::internal("bad delivery status"))?,
                attempts: row.attempts,
                last_status_code: row.last_status_code,
                last_error: row.last_error,
                next_attempt_time: row.next_attempt_ms / 1000,
                create_time: row.create_time,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    ok(Envelope::page(list, total))
}

/// Send a failed delivery again (retries start afresh).
#[utoipa::path(post, path = "/v1/admin/webhooks/{id}/deliveries/{deliveryId}/retry", tag = "webhooks", security(("token" = [])),
    params(
        ("id" = i64, Path, minimum = 1, description = "The endpoint's id"),
        ("deliveryId" = i64, Path, minimum = 1, description = "The delivery's id"),
    ),
    responses(
        (status = 200, description = "Pending again, due now", body = Message),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not role 4", body = Message),
        (status = 404, description = "No such delivery of that endpoint", body = Message),
        (status = 409, description = "The delivery has not failed", body = Message),
        (status = 422, description = "Bad id", body = Message),
    ))]
pub async fn retry(
    State(state): State<AppState>,
    SystemAdmin(admin): SystemAdmin,
    Path((raw_id, raw_delivery)): Path<(String, String)>,
) -> Reply {
    let id = positive("id", &raw_id)?;
    let delivery = positive("deliveryId", &raw_delivery)?;
    let now = now();
    let mut tx = state.db.begin_write().await?;
    admin.confirm(&state.db, &mut tx).await?;
    let status: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT status FROM deliveries WHERE id = $1 AND webhook_id = $2{}",
        state.db.lock(crate::db::RowLock::Update)
    )))
    .bind(delivery)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    match status.as_deref() {
        None => {
            return Err(ApiError::NotFound(format!(
                "deliveryId: no delivery {delivery} of webhook {id}"
            )));
        }
        Some("failed") => {}
        Some(other) => {
            return Err(ApiError::Conflict(format!(
                "deliveryId: delivery {delivery} is {other}, not failed"
            )));
        }
    }
    sqlx::query(
        "UPDATE deliveries SET status = 'pending', next_attempt_ms = $1, give_up_ms = $2, lease_until_ms = 0 WHERE id = $3",
    )
    .bind(now_ms())
    .bind(NOT_STARTED)
    .bind(delivery)
    .execute(&mut *tx)
    .await?;
    record(
        &mut tx,
        &admin,
        "webhook.retry",
        id,
        format!("delivery {delivery} sent again"),
        now,
    )
    .await?;
    tx.commit().await?;
    ok(Envelope::success())
}

fn positive(field: &str, raw: &str) -> ApiResult<i64> {
    match app::model::whole_text(raw).map(str::parse::<i64>) {
        Some(Ok(id)) if id > 0 => Ok(id),
        _ => Err(ApiError::unprocessable(field, "must be a positive integer")),
    }
}
