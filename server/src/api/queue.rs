//! The system administrator's queue: how many users and businesses wait for a decision,
//! and since when, for the home page and the navigation's badges.

use super::{Message, Reply, ok};
use crate::auth::SystemAdmin;
use crate::state::AppState;
use app::model::{Envelope, Queue};
use axum::extract::State;

/// The queue as it stands: also what the metrics report (`ote_pending`).
pub(crate) async fn current(db: &crate::db::Db) -> Result<Queue, sqlx::Error> {
    // `users_by_status` serves the first; pending businesses are few.
    let (pending_users, oldest_user_time): (i64, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*), MIN(create_time) FROM users \
         WHERE status = 0 AND deleted_at IS NULL AND is_system_admin = 0",
    )
    .fetch_one(&db.pool)
    .await?;
    let (pending_businesses, oldest_business_time): (i64, Option<i64>) =
        sqlx::query_as("SELECT COUNT(*), MIN(create_time) FROM businesses WHERE status = 0")
            .fetch_one(&db.pool)
            .await?;
    Ok(Queue {
        pending_users,
        pending_businesses,
        oldest_user_time,
        oldest_business_time,
    })
}

/// Pending users (status 0, not deleted, never the system administrator) and pending
/// businesses (status 0): their counts and the oldest registration or request time.
#[utoipa::path(get, path = "/admin/queue", tag = "queue", security(("token" = [])),
    responses(
        (status = 200, description = "The counts and the oldest waiting times (Unix seconds, `null` when none waits)", body = Envelope<Queue>),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not role 4", body = Message),
    ))]
pub async fn queue(State(state): State<AppState>, _admin: SystemAdmin) -> Reply<Queue> {
    ok(Envelope::data(current(&state.db).await?))
}
