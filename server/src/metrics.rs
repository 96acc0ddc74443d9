//! Metrics for Prometheus (SPEC.md section 11), served by a listener of their own
//! (`OTE_METRICS_ADDR`) so that they never share a port, a limit or a proxy route with
//! the API. Unset, nothing is counted and the request path is untouched.
//!
//! One `prometheus::Registry` per portal (tests start many portals in one process):
//! - `Track` counts and times every HTTP request by route template (axum's `MatchedPath`,
//!   so cardinality is bounded by the route table), method and status, and counts logins
//!   by outcome from the status of `POST /v1/authorization`;
//! - the password queue (`auth::password`) and the webhook worker keep their own series,
//!   registered here;
//! - what is a state rather than an event (pending users and businesses, the pool, the
//!   password queue's depth) is read when Prometheus scrapes.

use crate::stamp::Stamp;
use crate::state::{AppState, Shared};
use axum::Router;
use axum::extract::{MatchedPath, State};
use axum::http::{Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Latency buckets of HTTP requests, in seconds: from a cached read (well under a
/// millisecond) to a login waiting for a hashing thread (seconds).
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The route label of a request no route matched (static files, unknown paths).
const UNMATCHED: &str = "unmatched";

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    logins: IntCounterVec,
    pending: IntGaugeVec,
    pending_oldest: IntGaugeVec,
    pool: IntGaugeVec,
    pool_max: IntGauge,
    password_queue: IntGauge,
    password_capacity: IntGauge,
}

/// How a login ended, from its status: `ok` (200), `wrong` (401: unknown name, wrong
/// password or code, or a code still missing), `throttled` (429 from the name's throttle
/// or the address's rate, 503 from a full password queue), `rejected` (anything else:
/// a registration not approved, a forbidden user, a malformed request).
fn login_outcome(status: StatusCode) -> &'static str {
    match status.as_u16() {
        200 => "ok",
        401 => "wrong",
        429 | 503 => "throttled",
        _ => "rejected",
    }
}

impl Metrics {
    pub fn new(state: &Shared) -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("ote".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route template, method and status",
            ),
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to answer HTTP requests, by route template, method and status",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route", "method", "status"],
        )?;
        let logins = IntCounterVec::new(
            Opts::new(
                "logins_total",
                "Logins by outcome: ok, wrong (401), throttled (429, 503), rejected (other refusals)",
            ),
            &["outcome"],
        )?;
        for outcome in ["ok", "wrong", "throttled", "rejected"] {
            logins.with_label_values(&[outcome]);
        }
        let pending = IntGaugeVec::new(
            Opts::new(
                "pending",
                "Users and businesses waiting for the system administrator",
            ),
            &["kind"],
        )?;
        let pending_oldest = IntGaugeVec::new(
            Opts::new(
                "pending_oldest_age_seconds",
                "How long the oldest pending user or business has waited (0 when none waits)",
            ),
            &["kind"],
        )?;
        let pool = IntGaugeVec::new(
            Opts::new(
                "db_pool_connections",
                "Database connections of this process by state",
            ),
            &["state"],
        )?;
        let pool_max = IntGauge::new("db_pool_max_connections", "The database pool's size limit")?;
        let password_queue = IntGauge::new(
            "password_queue_depth",
            "Password checks waiting for a hashing thread",
        )?;
        let password_capacity = IntGauge::new(
            "password_queue_capacity",
            "Password checks that may wait (OTE_PASSWORD_QUEUE); beyond it the answer is 503",
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(logins.clone()))?;
        registry.register(Box::new(pending.clone()))?;
        registry.register(Box::new(pending_oldest.clone()))?;
        registry.register(Box::new(pool.clone()))?;
        registry.register(Box::new(pool_max.clone()))?;
        registry.register(Box::new(password_queue.clone()))?;
        registry.register(Box::new(password_capacity.clone()))?;
        registry.register(Box::new(state.passwords.wait.clone()))?;
        registry.register(Box::new(state.passwords.rejected.clone()))?;
        registry.register(Box::new(state.webhooks.outcomes.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            logins,
            pending,
            pending_oldest,
            pool,
            pool_max,
            password_queue,
            password_capacity,
        })
    }

    /// The text a scrape returns, with the states read now.
    async fn render(&self, state: &AppState) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        let now = crate::clock::now();
        let queue = crate::rows::queue::current(&state.db).await?;
        for (kind, count, oldest) in [
            ("user", queue.pending_users, queue.oldest_user_time),
            ("business", queue.pending_businesses, queue.oldest_business_time),
        ] {
            self.pending.with_label_values(&[kind]).set(count);
            let age = oldest.map_or(0, |created| (now - created).max(0));
            self.pending_oldest.with_label_values(&[kind]).set(age);
        }
        let pool = &state.db.pool;
        let idle = pool.num_idle() as i64;
        self.pool.with_label_values(&["idle"]).set(idle);
        self.pool
            .with_label_values(&["in_use"])
            .set(i64::from(pool.size()) - idle);
        self.pool_max.set(i64::from(pool.options().get_max_connections()));
        self.password_queue.set(state.passwords.waiting() as i64);
        self.password_capacity
            .set(state.config.limits.password_queue.into());
        let mut text = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut text)?;
        Ok(String::from_utf8(text)?)
    }
}

/// Counts and times every request, as a layer of the main router when metrics are on
/// (`StampLayer(Track(..))`: a service of its own rather than `middleware::from_fn`, which
/// boxes the inner service and two futures per request).
#[derive(Clone)]
pub struct Track(pub Arc<Metrics>);

/// What a request leaves for its response to be counted by.
pub struct Started {
    metrics: Arc<Metrics>,
    route: Option<MatchedPath>,
    method: &'static str,
    start: Instant,
}

impl Stamp for Track {
    type Mark = Started;

    fn request<B>(&self, request: &mut Request<B>) -> Started {
        Started {
            metrics: self.0.clone(),
            route: request
                .extensions()
                .get::<MatchedPath>()
                .filter(|route| !crate::api::UNKNOWN.contains(&route.as_str()))
                .cloned(),
            method: method_label(request.method()),
            start: Instant::now(),
        }
    }

    fn response<R>(started: Started, response: &mut axum::http::Response<R>) {
        let route = started.route.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
        started
            .metrics
            .count(route, started.method, response.status(), started.start.elapsed());
    }
}

impl Metrics {
    /// One answered request: its series by route template, method and status, and a
    /// login's outcome.
    fn count(&self, route: &str, method: &'static str, status: StatusCode, latency: Duration) {
        let labels = [route, method, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency
            .with_label_values(&labels)
            .observe(latency.as_secs_f64());
        if method == "POST" && route == "/v1/authorization" {
            self.logins.with_label_values(&[login_outcome(status)]).inc();
        }
    }
}

/// A method as a label: the methods of RFC 9110 (and PATCH) by name, anything else
/// `other`, so that no client can make a new series (SPEC.md section 13).
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN
        .into_iter()
        .find(|known| *known == method.as_str())
        .unwrap_or("other")
}

/// The router of the metrics listener: `GET /metrics`.
pub fn router(state: AppState) -> Router {
    Router::new().route("/metrics", get(scrape)).with_state(state)
}

async fn scrape(State(state): State<AppState>) -> Response {
    let Some(metrics) = state.metrics.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match metrics.render(&state).await {
        Ok(text) => ([(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)], text).into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "metrics: could not read the current state");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "metrics: the database did not answer\n",
            )
                .into_response()
        }
    }
}
