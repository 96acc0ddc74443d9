//! Where an authenticated read's time goes inside the process, without the network: the
//! portal's whole router answering `GET /v1/authorization` (a kept caller), next to a bare
//! axum route answering the benchmark baseline's document; then the same router with one
//! layer left out at a time (what that layer costs), with none, and with metrics on; then
//! parts alone: the caller extractor, the handler, a JWT's verification (which a kept
//! caller skips) and the request's log span. One thread, nanoseconds per request, the
//! median of many short rounds (the variants take turns, so a busy moment of the machine
//! spreads over all of them); `perf` gets no samples in the VM this was written on.
//!
//! ```sh
//! DATABASE_URL=sqlite:///tmp/hotpath.db OTE_ADMIN_PASSWORD=Bench-pass1 LEPTOS_SITE_ADDR=127.0.0.1:0 \
//!   cargo run --release -p server --example hotpath
//! ```
//! `N` sets the requests per round (default 10,000), `ROUNDS` the rounds (default 31).
//! bench/README.md has the figures.

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::Request;
use axum::response::IntoResponse;
use axum::routing::get;
use server::auth::caller::Caller;
use server::routes::Layer;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tower::ServiceExt;

const PEER: ([u8; 4], u16) = ([127, 0, 0, 1], 5000);

#[tokio::main(flavor = "current_thread")]
async fn main() {
    // The benchmark's log level; lines are formatted as the portal's are, then dropped.
    server::logging::init_with(
        server::config::LogFormat::Text,
        "warn,server=info",
        false,
        std::io::sink,
    );
    let config = server::config::Config::load().expect("configuration");
    let password = std::env::var("OTE_ADMIN_PASSWORD").expect("OTE_ADMIN_PASSWORD");
    let portal = server::Portal::start(config).await.expect("portal");
    let state = portal.state.clone();
    let token = login(&server::routes::router(state.clone()), &password).await;
    let n = setting("N", 10_000);
    let rounds = setting("ROUNDS", 31);

    // The routers, each answering the same request. Metrics are off in the benchmark's
    // read rows (as in the portal without `OTE_METRICS_ADDR`); one row turns them on.
    let bare = Router::new().route(
        "/v1/authorization",
        get(|| async {
            axum::Json(serde_json::json!({"code": 200, "message": "success", "data": {"role": 4}}))
        }),
    );
    let mut metered = (*state).clone();
    metered.metrics = Some(Arc::new(server::metrics::Metrics::new(&state).expect("metrics")));
    let metered = server::state::AppState::new(metered);
    let mut routers = vec![
        ("bare axum route (the baseline's)".to_owned(), bare),
        (
            "the portal's router, every layer".to_owned(),
            server::routes::router(state.clone()),
        ),
    ];
    for left_out in Layer::ALL.into_iter().filter(|layer| *layer != Layer::Metrics) {
        let layers: Vec<Layer> = Layer::ALL
            .into_iter()
            .filter(|layer| *layer != left_out)
            .collect();
        routers.push((
            format!("  without {left_out:?}"),
            server::routes::router_with(state.clone(), &layers),
        ));
    }
    routers.push((
        "  no layer: routing, caller, handler".to_owned(),
        server::routes::router_with(state.clone(), &[]),
    ));
    routers.push((
        "every layer, metrics on".to_owned(),
        server::routes::router(metered),
    ));

    let mut samples = vec![Vec::new(); routers.len()];
    for _ in 0..rounds {
        for ((_, router), samples) in routers.iter().zip(&mut samples) {
            let started = Instant::now();
            for _ in 0..n {
                let request = Request::get("/v1/authorization").header("authorization", &token);
                send(router, request, String::new()).await;
            }
            samples.push(per(started, n));
        }
    }
    // Each figure is a median over the rounds; a ratio or a difference is taken within each
    // round first (the variants of a round ran within a few seconds, under the same load).
    let (bare, full) = (&samples[0], &samples[1]);
    println!("per request, one thread, median of {rounds} rounds of {n}");
    println!("{:<44} {:>8} {:>8} {:>8}", "", "ns", "of bare", "costs");
    for ((name, _), ns) in routers.iter().zip(&samples) {
        let of_bare = median(bare.iter().zip(ns).map(|(bare, ns)| bare / ns).collect());
        // A left-out layer costs what the whole router takes more than the router without it;
        // metrics cost what they add to the whole router.
        let costs = if name.starts_with("  without") {
            format!(
                "{:.0}",
                median(full.iter().zip(ns).map(|(full, ns)| full - ns).collect())
            )
        } else if name.contains("metrics on") {
            let more = median(ns.iter().zip(full).map(|(ns, full)| ns / full - 1.0).collect());
            format!("{:+.1} %", more * 100.0)
        } else {
            String::new()
        };
        println!("{name:<44} {:>8.0} {of_bare:>8.2} {costs:>8}", median(ns.clone()));
    }

    // Parts alone. The caller extractor as a handler's signature runs it, on a request the
    // router has not seen (no `MatchedPath`: the route checks of `access` see none).
    let (mut parts, ()) = Request::get("/v1/authorization")
        .header("authorization", &token)
        .body(())
        .expect("a request")
        .into_parts();
    let caller = Caller::from_request_parts(&mut parts, &state)
        .await
        .expect("a kept caller");
    println!();
    println!("parts alone, median of {rounds} rounds of {n}");
    let ns = time(rounds, n, async || {
        Caller::from_request_parts(&mut parts, &state)
            .await
            .expect("a kept caller");
    })
    .await;
    println!("{:<44} {ns:>8.0}", "the caller extractor (a kept caller)");
    let ns = time(rounds, n, async || {
        let reply = server::api::session::info(State(state.clone()), caller.clone()).await;
        axum::body::to_bytes(reply.into_response().into_body(), 1 << 20)
            .await
            .expect("a body");
    })
    .await;
    println!("{:<44} {ns:>8.0}", "the handler, its reply serialised");
    let ns = time(rounds, n, async || {
        std::hint::black_box(state.tokens.verify(&token).expect("a valid token"));
    })
    .await;
    println!("{:<44} {ns:>8.0}", "JWT verification (skipped for a kept caller)");
    let ns = time(rounds, n, async || {
        let span = tracing::info_span!(target: "server::routes", "request",
            request_id = %"6c0d3ab2-1111-4222-8333-444455556666", method = %"GET", path = %"/v1/authorization");
        let _entered = span.enter();
    })
    .await;
    println!("{:<44} {ns:>8.0}", "the request's span, made and entered");
}

/// Signs in as the administrator; the token of the reply.
async fn login(router: &Router, password: &str) -> String {
    let login = format!(r#"{{"user":"admin","password":"{password}"}}"#);
    let request = Request::post("/v1/authorization").header("content-type", "application/json");
    let reply = send(router, request, login).await;
    serde_json::from_slice::<serde_json::Value>(&reply).expect("login reply")["token"]
        .as_str()
        .expect("a token")
        .to_owned()
}

async fn send(router: &Router, request: axum::http::request::Builder, body: String) -> axum::body::Bytes {
    let mut request = request.body(Body::from(body)).expect("a request");
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(PEER)));
    let response = router.clone().oneshot(request).await.expect("infallible");
    assert!(response.status().is_success(), "{}", response.status());
    axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("a body")
}

/// Nanoseconds per call of `work`: the median of `rounds` rounds of `n` calls.
async fn time(rounds: u32, n: u32, mut work: impl AsyncFnMut()) -> f64 {
    let mut samples = Vec::new();
    for _ in 0..rounds {
        let started = Instant::now();
        for _ in 0..n {
            work().await;
        }
        samples.push(per(started, n));
    }
    median(samples)
}

fn setting(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn per(started: Instant, n: u32) -> f64 {
    started.elapsed().as_nanos() as f64 / f64::from(n)
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}
