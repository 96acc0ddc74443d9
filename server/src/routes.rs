//! The router: `/healthz`, the `/v1` API (JSON everywhere, even for unknown paths), the
//! server-rendered pages and the static assets.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use app::model::Envelope;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::get;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::trace::TraceLayer;

/// SPEC.md section 1: bodies over 64 KiB get 413.
pub const BODY_LIMIT: usize = 64 * 1024;

pub fn router(state: AppState) -> Router {
    let leptos = state.leptos.clone();
    let pages = generate_route_list(app::App);
    Router::new()
        .route("/healthz", get(healthz))
        .nest("/v1", crate::api::router().0)
        .leptos_routes(&state, pages, move || app::shell(leptos.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Liveness and readiness: 200 when the database answers, 503 when it does not.
async fn healthz(State(state): State<AppState>) -> ApiResult<axum::Json<Envelope<()>>> {
    state.db.ping().await.map_err(|err| {
        tracing::warn!(error = %err, "health check: database unreachable");
        ApiError::Unavailable("database: unreachable".into())
    })?;
    Ok(axum::Json(Envelope::success()))
}
