//! The system administrator's queue: how many users and businesses wait for a decision,
//! and since when, for the home page and the navigation's badges.

use crate::auth::SystemAdmin;
use crate::reply::{Message, Reply, ok};
use crate::rows::queue::current;
use crate::state::AppState;
use app::model::{Envelope, Queue};
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The system administrator's queue, `/v1/admin/queue`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(queue))
}

/// Pending users (status 0, not deleted, never the system administrator) and pending
/// businesses (status 0): their counts and the oldest registration or request time.
#[utoipa::path(get, path = "/v1/admin/queue", tag = "queue", security(("token" = [])),
    responses(
        (status = 200, description = "The counts and the oldest waiting times (Unix seconds, `null` when none waits)", body = Envelope<Queue>),
        (status = 401, description = "No valid token", body = Message),
        (status = 403, description = "Not role 4", body = Message),
    ))]
pub async fn queue(State(state): State<AppState>, _admin: SystemAdmin) -> Reply<Queue> {
    ok(Envelope::data(current(&state.db).await?))
}
