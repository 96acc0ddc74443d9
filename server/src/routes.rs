//! The router: `/healthz` and `/readyz`, the `/v1` API (JSON everywhere, even for unknown paths), the
//! server-rendered pages and the static assets, and the security headers of SPEC.md
//! section 8 on all of them.

use crate::error::{ApiError, ApiResult};
use crate::stamp::StampLayer;
use crate::state::AppState;
use app::model::Envelope;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::Request;
use axum::http::{HeaderValue, header};
use axum::routing::get;
use headers::Headers;
use leptos::config::Env;
use leptos::nonce::Nonce;
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{LeptosRoutes, ResponseOptions, generate_route_list};
use request_id::{REQUEST_ID, RequestId};
use tower::ServiceBuilder;
use tower_http::trace::TraceLayer;

mod headers;
mod request_id;

/// SPEC.md section 1: bodies over 64 KiB get 413.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The layers around the routes, outermost first. Production has them all (`router`);
/// the in-process benchmark (`server/examples/hotpath.rs`) leaves them out one at a time
/// to show what each costs a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// A client's unusable `x-request-id` dropped, a missing one made, the response
    /// carrying it.
    RequestId,
    /// The request's span (its id in every log line) and its start and finish events.
    Trace,
    /// `metrics::Track`, when metrics are on.
    Metrics,
    /// HSTS (when `OTE_HSTS` is on) and the three headers of SPEC.md section 8.
    SecurityHeaders,
    /// `Cache-Control: no-store` on `/v1`.
    NoStore,
    /// 413 past `BODY_LIMIT`.
    BodyLimit,
}

impl Layer {
    pub const ALL: [Layer; 6] = [
        Layer::RequestId,
        Layer::Trace,
        Layer::Metrics,
        Layer::SecurityHeaders,
        Layer::NoStore,
        Layer::BodyLimit,
    ];
}

/// The portal's router, every layer on.
pub fn router(state: AppState) -> Router {
    router_with(state, &Layer::ALL)
}

/// The portal's router with only the given layers.
pub fn router_with(state: AppState, layers: &[Layer]) -> Router {
    let on = |layer| layers.contains(&layer);
    let leptos = state.leptos.clone();
    let pages = generate_route_list(app::App);
    let dev = leptos.env == Env::DEV;
    let policy = move || page_policy(dev);
    let crate::api::Routers { api, protocol, .. } = crate::api::router();
    let routes = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(api)
        .merge(protocol)
        .leptos_routes_with_context(&state, pages, policy, move || app::shell(leptos.clone()))
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            policy,
            app::shell,
        ));
    let metrics = state
        .metrics
        .clone()
        .filter(|_| on(Layer::Metrics))
        .map(|metrics| StampLayer(crate::metrics::Track(metrics)));
    let security = on(Layer::SecurityHeaders);
    let headers = (security || on(Layer::NoStore)).then_some(StampLayer(Headers {
        security,
        hsts: security && state.config.limits.hsts,
        no_store: on(Layer::NoStore),
    }));
    // One stack, given to the router once: each `Router::layer` wraps every route again, a
    // boxed service and future per layer and request (eight such calls were about 2.6 of
    // the 8.7 µs a cached read spent in the router; bench/README.md). Each layer here is a
    // plain generic service, no box (bench/README.md has what each costs).
    // Outermost first: the request's id is settled and the response will carry it, the
    // request's span (in every log line) names it.
    // tower-http's trace layer changes the response's body type, so it cannot be an
    // `option_layer` between the others: the stack is built with it or without it.
    let request_id = on(Layer::RequestId).then_some(StampLayer(RequestId));
    let inner = ServiceBuilder::new()
        .option_layer(metrics)
        .option_layer(headers)
        .option_layer(on(Layer::BodyLimit).then(|| DefaultBodyLimit::max(BODY_LIMIT)));
    let routes = if on(Layer::Trace) {
        routes.layer(
            ServiceBuilder::new()
                .option_layer(request_id)
                .layer(TraceLayer::new_for_http().make_span_with(request_span))
                .layer(inner),
        )
    } else {
        routes.layer(ServiceBuilder::new().option_layer(request_id).layer(inner))
    };
    routes.with_state(state)
}

/// The span of one request: its id, method and path (never the query string or headers,
/// where a client may put what must not be logged).
fn request_span(request: &Request<Body>) -> tracing::Span {
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path())
}

/// Runs before each page renders: a fresh nonce, which Leptos puts on the hydration
/// scripts it writes, and the Content-Security-Policy that admits only those scripts and
/// the portal's own files (the token lives in localStorage: no other script may run).
fn page_policy(dev: bool) {
    let nonce = Nonce::new();
    if let Some(response) = use_context::<ResponseOptions>() {
        // `cargo leptos watch` reloads pages through a WebSocket of its own.
        let reload = if dev { " ws:" } else { "" };
        let policy = format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
             style-src 'self'; img-src 'self' data:; connect-src 'self'{reload}; \
             object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
        );
        if let Ok(value) = HeaderValue::from_str(&policy) {
            response.insert_header(header::CONTENT_SECURITY_POLICY, value);
        }
    }
    provide_context(nonce);
}

/// Liveness: 200 while the process serves (a load balancer or supervisor restarts it
/// when this stops answering; a database outage is no reason to).
async fn healthz() -> axum::Json<Envelope<()>> {
    axum::Json(Envelope::success())
}

/// Readiness: 200 when the database answers, 503 when it does not (a load balancer takes
/// the replica out meanwhile).
async fn readyz(State(state): State<AppState>) -> ApiResult<axum::Json<Envelope<()>>> {
    state.db.ping().await.map_err(|err| {
        tracing::warn!(error = %err, "readiness: database unreachable");
        ApiError::unavailable("database: unreachable")
    })?;
    Ok(axum::Json(Envelope::success()))
}
