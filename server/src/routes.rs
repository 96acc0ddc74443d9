//! The router: `/healthz` and `/readyz`, the `/v1` API (JSON everywhere, even for unknown paths), the
//! server-rendered pages and the static assets, and the security headers of SPEC.md
//! section 8 on all of them.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use app::model::Envelope;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::get;
use leptos::config::Env;
use leptos::nonce::Nonce;
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{LeptosRoutes, ResponseOptions, generate_route_list};
use tower::ServiceBuilder;
use tower::util::MapRequestLayer;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

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
    /// `metrics::track`, when metrics are on.
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
    // Tokens and user data must not stay in any cache.
    let api = if on(Layer::NoStore) {
        api.layer(always(header::CACHE_CONTROL, "no-store"))
    } else {
        api
    };
    let routes = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .nest("/v1", api)
        .merge(protocol)
        .leptos_routes_with_context(&state, pages, policy, move || app::shell(leptos.clone()))
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            policy,
            app::shell,
        ));
    let request_id = on(Layer::RequestId);
    let headers = on(Layer::SecurityHeaders);
    let hsts = (headers && state.config.limits.hsts).then(|| {
        always(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        )
    });
    let metrics = state
        .metrics
        .clone()
        .filter(|_| on(Layer::Metrics))
        .map(|metrics| axum::middleware::from_fn_with_state(metrics, crate::metrics::track));
    // One stack, given to the router once: each `Router::layer` wraps every route again, a
    // boxed service and future per layer and request (eight such calls were about 2.6 of
    // the 8.7 µs a cached read spent in the router; bench/README.md).
    // Outermost first: a client's unusable `x-request-id` goes, a missing one is made, the
    // response carries it, and the request's span (in every log line) names it.
    let outer = ServiceBuilder::new()
        .option_layer(request_id.then(|| MapRequestLayer::new(drop_unusable_request_id)))
        .option_layer(request_id.then(|| SetRequestIdLayer::x_request_id(RandomRequestId)))
        .option_layer(request_id.then(PropagateRequestIdLayer::x_request_id));
    let inner = ServiceBuilder::new()
        .option_layer(metrics)
        .option_layer(hsts)
        .option_layer(headers.then(|| always(header::X_FRAME_OPTIONS, "DENY")))
        .option_layer(headers.then(|| always(header::REFERRER_POLICY, "no-referrer")))
        .option_layer(headers.then(|| always(header::X_CONTENT_TYPE_OPTIONS, "nosniff")))
        .option_layer(on(Layer::BodyLimit).then(|| DefaultBodyLimit::max(BODY_LIMIT)))
        .into_inner();
    // The trace layer changes the response's body type, so it cannot be an `option_layer`.
    let routes = if on(Layer::Trace) {
        routes.layer(
            outer
                .layer(TraceLayer::new_for_http().make_span_with(request_span))
                .layer(inner),
        )
    } else {
        routes.layer(outer.layer(inner))
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

/// A random (version 4) UUID from the thread's generator: tower-http's `MakeRequestUuid`
/// asks the kernel for every id, a system call per request.
#[derive(Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let bits = rand::random::<u128>() & !(0xf000 << 64) & !(0xc << 60);
        let bits = bits | (0x4000 << 64) | (0x8 << 60);
        let hex = format!("{bits:032x}");
        let id = format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        );
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A client's request id is kept when it is 1 to 128 characters of letters, digits and
/// `-_.:`; anything else is replaced by a generated one (it goes into every log line).
fn drop_unusable_request_id(mut request: Request<Body>) -> Request<Body> {
    let usable = |value: &HeaderValue| {
        let bytes = value.as_bytes();
        (1..=128).contains(&bytes.len())
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b))
    };
    if let Some(value) = request.headers().get(REQUEST_ID)
        && !usable(value)
    {
        request.headers_mut().remove(REQUEST_ID);
    }
    request
}

fn always(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
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
