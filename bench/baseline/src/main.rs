//! The reference of the benchmarks: axum answering one small JSON document, nothing else.
//! Usage: `baseline ADDR` (e.g. 127.0.0.1:0); prints `listening on http://ADDR`.

use axum::{Json, Router, routing::get};

#[tokio::main]
async fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".into());
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    println!("listening on http://{}", listener.local_addr().expect("address"));
    let app = Router::new().route(
        "/",
        get(|| async { Json(serde_json::json!({"code": 200, "message": "success", "data": {"role": 4}})) }),
    );
    axum::serve(listener, app).await.expect("serve");
}
