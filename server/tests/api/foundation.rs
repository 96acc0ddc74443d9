//! The skeleton every endpoint stands on: health, the error envelope, limits, start-up.

use crate::common::TestPortal;
use reqwest::Method;
use serde_json::json;
use std::process::Command;

#[tokio::test]
async fn healthz_answers_while_serving_and_readyz_when_the_database_does() {
    let portal = TestPortal::start().await;
    let reply = portal.get("/healthz", None).await.expect(200);
    assert_eq!(reply.body, json!({"code": 200, "message": "success"}));
    let reply = portal.get("/readyz", None).await.expect(200);
    assert_eq!(reply.body, json!({"code": 200, "message": "success"}));
}

#[tokio::test]
async fn unknown_v1_routes_get_a_json_404() {
    let portal = TestPortal::start().await;
    // Every path under /v1 (and /v1 itself, with or without its slash), any method.
    for (method, path) in [
        (Method::GET, "/v1/nothing/here"),
        (Method::GET, "/v1"),
        (Method::GET, "/v1/"),
        (Method::DELETE, "/v1/authorization/"),
        (Method::POST, "/v1//authorization"),
    ] {
        let reply = portal.call(method.clone(), path, None, None).await.expect(404);
        assert_eq!(reply.message(), format!("no such endpoint: {method} {path}"));
    }
    let reply = portal
        .call(Method::PATCH, "/v1/authorization", None, None)
        .await
        .expect(405);
    assert!(reply.message().contains("PATCH"), "{}", reply.message());
}

#[tokio::test]
async fn bodies_over_64_kib_get_413() {
    let portal = TestPortal::start().await;
    let big = format!(r#"{{"user":"ann","password":"{}"}}"#, "x".repeat(64 * 1024));
    let reply = portal
        .raw(Method::POST, "/v1/authorization", big.into_bytes())
        .await
        .expect(413);
    assert_eq!(reply.message(), "body: must be at most 64 KiB");
    // Just under the limit is read (and fails for its own reasons).
    let fits = format!(r#"{{"user":"ann","password":"{}"}}"#, "x".repeat(60 * 1024));
    portal
        .raw(Method::POST, "/v1/authorization", fits.into_bytes())
        .await
        .expect(401);
}

#[tokio::test]
async fn malformed_json_gets_422_naming_the_body() {
    let portal = TestPortal::start().await;
    for body in ["{", "not json", "", "[1, 2]", "{\"user\": \"a\"} trailing"] {
        let reply = portal
            .raw(Method::POST, "/v1/authorization", body.as_bytes().to_vec())
            .await
            .expect(422);
        assert!(
            reply.message().starts_with("body: ") || reply.message().starts_with("password: "),
            "{body:?}: {}",
            reply.message()
        );
    }
}

#[tokio::test]
async fn pages_render_on_the_server() {
    let portal = TestPortal::start().await;
    let response = reqwest::get(format!("{}/login", portal.url)).await.unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("<form") && html.contains("login-password"),
        "{html}"
    );
    let response = reqwest::get(format!("{}/no-such-page", portal.url))
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

/// Runs the real binary with one bad setting and returns (exit code, stderr).
fn start_binary_with(var: &str, value: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_ote-portal"))
        .current_dir(dir.path())
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env(var, value)
        .output()
        .expect("the binary runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_bad_variable_stops_start_up_with_one_line_naming_it() {
    for (var, value) in [
        ("LEPTOS_SITE_ADDR", "not-an-address"),
        ("OTE_JWT_SECRET", "too-short"),
        ("OTE_ENABLE_INGRESS", "perhaps"),
        ("OTE_ADMIN_PASSWORD", "weak"),
        ("DATABASE_URL", "mysql://localhost/ote"),
    ] {
        let (code, stderr) = start_binary_with(var, value);
        assert_ne!(code, Some(0), "{var}={value} must stop start-up");
        assert_eq!(
            stderr.trim().lines().count(),
            1,
            "{var}: one line, got {stderr:?}"
        );
        assert!(stderr.contains(var), "{var}: the line must name it: {stderr:?}");
    }
}

#[test]
fn an_unreachable_database_stops_start_up_naming_database_url_with_the_password_masked() {
    let (code, stderr) = start_binary_with("DATABASE_URL", "postgres://ote:hunter2@127.0.0.1:1/ote");
    assert_ne!(code, Some(0));
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr:?}");
    assert!(
        stderr.contains("DATABASE_URL") && stderr.contains("ote:***@"),
        "{stderr:?}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr:?}");
}
