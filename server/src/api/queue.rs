//! The system administrator's queue: how many users and businesses wait for a decision,
//! and since when, for the home page and the navigation's badges.

use super::{Message, Reply, ok};
use crate::auth::SystemAdmin;
use crate::state::AppState;
use app::model::{Envelope, Queue};
use axum::extract::State;

#[derive(sqlx::FromRow)]
struct Waiting {
    count: i64,
    oldest: Option<i64>,
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
    // `users_by_status` serves the first; pending businesses are few.
    let users: Waiting = sqlx::query_as(
        "SELECT COUNT(*) AS count, MIN(create_time) AS oldest FROM users \
         WHERE status = 0 AND deleted_at IS NULL AND is_system_admin = 0",
    )
    .fetch_one(&state.db.pool)
    .await?;
    let businesses: Waiting = sqlx::query_as(
        "SELECT COUNT(*) AS count, MIN(create_time) AS oldest FROM businesses WHERE status = 0",
    )
    .fetch_one(&state.db.pool)
    .await?;
    ok(Envelope::data(Queue {
        pending_users: users.count,
        pending_businesses: businesses.count,
        oldest_user_time: users.oldest,
        oldest_business_time: businesses.oldest,
    }))
}
