//! Events for the platform (SPEC.md section 10): every audited change writes an event into
//! an outbox in its own transaction (`crate::outbox`, below the handlers), a worker in each server process delivers
//! them to the endpoints that want them (`worker`), signed the Standard Webhooks way
//! (`sign`), only to addresses the rule allows (`policy`); the system administrator manages
//! endpoints and sees deliveries through `/v1/admin/webhooks` (`api`).

pub mod api;
pub mod policy;
pub mod sign;
pub mod worker;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use worker::Webhooks;

/// The webhook endpoints, under `/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api::create, api::list))
        .routes(routes!(api::update, api::delete))
        .routes(routes!(api::deliveries))
        .routes(routes!(api::retry))
}
