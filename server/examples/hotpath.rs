//! Where an authenticated read's time goes inside the process, without the network: the
//! portal's whole router answering `GET /v1/authorization` (a kept caller), next to a bare
//! axum route answering the benchmark baseline's document, and two parts on their own (a
//! JWT's verification, which a kept caller skips, and the request's log span). One thread,
//! nanoseconds per request; `perf` gets no samples in the VM this was written on.
//!
//! ```sh
//! DATABASE_URL=sqlite:///tmp/hotpath.db OTE_ADMIN_PASSWORD=Bench-pass1 LEPTOS_SITE_ADDR=127.0.0.1:0 \
//!   cargo run --release -p server --example hotpath
//! ```
//! `N` sets the requests per figure (default 200,000). bench/README.md has the figures.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::routing::get;
use std::net::SocketAddr;
use std::time::Instant;
use tower::ServiceExt;

const PEER: ([u8; 4], u16) = ([127, 0, 0, 1], 5000);

#[tokio::main(flavor = "current_thread")]
async fn main() {
    // The benchmark's log level; lines are formatted as usual and then dropped.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn,server=info"))
        .with_writer(std::io::sink)
        .init();
    let config = server::config::Config::load().expect("configuration");
    let password = std::env::var("OTE_ADMIN_PASSWORD").expect("OTE_ADMIN_PASSWORD");
    let portal = server::Portal::start(config).await.expect("portal");
    let portal_router = server::routes::router(portal.state.clone());
    let bare = axum::Router::new().route(
        "/v1/authorization",
        get(|| async {
            axum::Json(serde_json::json!({"code": 200, "message": "success", "data": {"role": 4}}))
        }),
    );
    let login = format!(r#"{{"user":"admin","password":"{password}"}}"#);
    let reply = send(
        &portal_router,
        Request::post("/v1/authorization").header("content-type", "application/json"),
        login,
    )
    .await;
    let token = serde_json::from_slice::<serde_json::Value>(&reply).expect("login reply")["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let n: u32 = std::env::var("N")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200_000);

    println!("{:<48} {:>8}", "per request, one thread", "ns");
    for (name, router) in [
        ("bare axum route (the baseline's)", &bare),
        ("the portal's router, a kept caller", &portal_router),
    ] {
        let started = Instant::now();
        for _ in 0..n {
            let request = Request::get("/v1/authorization").header("authorization", &token);
            send(router, request, String::new()).await;
        }
        println!("{name:<48} {:>8.0}", per(started, n));
    }
    let started = Instant::now();
    for _ in 0..n {
        std::hint::black_box(portal.state.tokens.verify(&token).expect("a valid token"));
    }
    println!(
        "{:<48} {:>8.0}",
        "JWT verification (skipped for a kept caller)",
        per(started, n)
    );
    let started = Instant::now();
    for _ in 0..n {
        let span = tracing::info_span!(target: "server::routes", "request",
            request_id = %"6c0d3ab2-1111-4222-8333-444455556666", method = %"GET", path = %"/v1/authorization");
        let _entered = span.enter();
    }
    println!(
        "{:<48} {:>8.0}",
        "the request's span, made and entered",
        per(started, n)
    );
}

async fn send(
    router: &axum::Router,
    request: axum::http::request::Builder,
    body: String,
) -> axum::body::Bytes {
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

fn per(started: Instant, n: u32) -> f64 {
    started.elapsed().as_nanos() as f64 / f64::from(n)
}
