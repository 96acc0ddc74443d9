//! Token attacks and revocation: every one of them gets 401.

use crate::common::{PASSWORD, TestPortal};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const SECRET: &str = "a-test-secret-that-is-long-enough-for-hs256";

fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

fn claims(user_id: i64, sid: &str) -> Value {
    json!({"sub": user_id.to_string(), "name": "eve", "iat": now(), "exp": now() + 3600,
           "jti": "0123456789abcdef", "iss": "ote-portal", "aud": "ote-portal", "ver": 0, "sid": sid})
}

/// The claims of a token the portal issued (its payload, unverified).
fn payload(token: &str) -> Value {
    use base64::Engine;
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

fn sign(algorithm: Algorithm, secret: &str, claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[tokio::test]
async fn forged_tokens_are_refused() {
    let portal = TestPortal::start_with(&[&format!("--jwt-secret={SECRET}")]).await;
    let (id, token) = portal.approved("eve", false).await;
    let sid = payload(&token)["sid"].as_str().unwrap().to_owned();
    let claims = |id| claims(id, &sid);
    // The same claims signed properly pass: the attacks below fail for their flaw alone.
    portal
        .get(
            "/v1/authorization",
            Some(&sign(Algorithm::HS256, SECRET, &claims(id))),
        )
        .await
        .expect(200);

    let unsigned = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(claims(id).to_string().as_bytes())
    );
    let mut attacks = vec![
        ("alg none", unsigned),
        ("HS512", sign(Algorithm::HS512, SECRET, &claims(id))),
        (
            "wrong secret",
            sign(
                Algorithm::HS256,
                "another-secret-that-is-long-enough-too",
                &claims(id),
            ),
        ),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (name, field, value) in [
        ("expired", "exp", json!(now() - 60)),
        ("wrong aud", "aud", json!("someone-else")),
        ("wrong iss", "iss", json!("someone-else")),
        ("no jti", "jti", Value::Null),
        ("no exp", "exp", Value::Null),
        ("old version", "ver", json!(-1)),
        ("no such user", "sub", json!("999")),
        ("no session", "sid", Value::Null),
        (
            "no such session",
            "sid",
            json!("0123456789abcdef0123456789abcdef"),
        ),
    ] {
        let mut forged = claims(id);
        if value.is_null() {
            forged.as_object_mut().unwrap().remove(field);
        } else {
            forged[field] = value;
        }
        attacks.push((name, sign(Algorithm::HS256, SECRET, &forged)));
    }
    for (name, token) in attacks {
        let reply = portal.get("/v1/authorization", Some(&token)).await;
        assert_eq!(reply.status, 401, "{name}: {}", reply.body);
        assert_eq!(reply.body["code"], 401);
    }
    portal.get("/v1/authorization", None).await.expect(401);
}

#[tokio::test]
async fn a_bearer_prefix_is_accepted() {
    let portal = TestPortal::start().await;
    let token = portal.admin_token().await;
    portal
        .get("/v1/authorization", Some(&format!("Bearer {token}")))
        .await
        .expect(200);
}

#[tokio::test]
async fn tokens_die_at_logout_refresh_and_password_change() {
    let portal = TestPortal::start().await;
    let (_, token) = portal.approved("user1", false).await;
    portal.delete("/v1/authorization", Some(&token)).await.expect(200);
    portal.get("/v1/authorization", Some(&token)).await.expect(401);
    portal
        .put("/v1/authorization", Some(&token), json!({}))
        .await
        .expect(401);

    let old = portal.login("user1", PASSWORD).await;
    let new = portal
        .put("/v1/authorization", Some(&old), json!({}))
        .await
        .expect(200)
        .body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(old, new);
    portal.get("/v1/authorization", Some(&old)).await.expect(401);
    portal.get("/v1/authorization", Some(&new)).await.expect(200);

    let other_session = portal.login("user1", PASSWORD).await;
    portal
        .put(
            "/v1/user",
            Some(&new),
            json!({"oldPassword": PASSWORD, "password": "Changed1pw"}),
        )
        .await
        .expect(200);
    portal.get("/v1/authorization", Some(&new)).await.expect(401);
    portal
        .get("/v1/authorization", Some(&other_session))
        .await
        .expect(401);
    let fresh = portal.login("user1", "Changed1pw").await;
    portal.get("/v1/authorization", Some(&fresh)).await.expect(200);
}

#[tokio::test]
async fn tokens_die_at_reset_forbid_refusal_and_delete() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let (_, _, boss) = portal.business_admin("boss", "crew").await;

    let (id, token) = portal.member(&boss, "reset.me", false).await;
    portal
        .put(
            &format!("/v1/admin/user/{id}/password"),
            Some(&boss),
            json!({"password": "Reset1pass"}),
        )
        .await
        .expect(200);
    portal.get("/v1/authorization", Some(&token)).await.expect(401);
    portal.login("reset.me", "Reset1pass").await;

    for (status, login_message) in [
        (3, "user: is forbidden"),
        (2, "user: the registration was not approved"),
    ] {
        let name = format!("status{status}");
        let (id, token) = portal.member(&boss, &name, false).await;
        portal
            .put(
                &format!("/v1/admin/user/{id}"),
                Some(&admin),
                json!({"status": status}),
            )
            .await
            .expect(200);
        portal.get("/v1/admin/user", Some(&token)).await.expect(401);
        let reply = portal
            .post(
                "/v1/authorization",
                None,
                json!({"user": name, "password": PASSWORD}),
            )
            .await
            .expect(403);
        assert_eq!(reply.message(), login_message);
    }

    let (id, token) = portal.member(&boss, "delete.me", false).await;
    portal
        .delete(&format!("/v1/admin/user/{id}"), Some(&boss))
        .await
        .expect(200);
    portal.get("/v1/authorization", Some(&token)).await.expect(401);
    portal
        .post(
            "/v1/authorization",
            None,
            json!({"user": "delete.me", "password": PASSWORD}),
        )
        .await
        .expect(401);
}
