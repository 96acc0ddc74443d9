//! Logging in: one message and one password verification for unknown users and wrong
//! passwords alike, throttling in the database, and races on unique names.

use crate::common::{ADMIN, PASSWORD, TestPortal, unique_phone};
use serde_json::json;

#[tokio::test]
async fn unknown_users_and_wrong_passwords_look_the_same_and_cost_one_verification_each() {
    let portal = TestPortal::start().await;
    portal.register("known", false).await;
    let before = portal.state.passwords.verifications();
    let unknown = portal
        .post(
            "/v1/authorization",
            None,
            json!({"user": "nobody", "password": PASSWORD}),
        )
        .await
        .expect(401);
    assert_eq!(
        portal.state.passwords.verifications(),
        before + 1,
        "the dummy hash was verified"
    );
    let wrong = portal
        .post(
            "/v1/authorization",
            None,
            json!({"user": "known", "password": "Wrong1pass"}),
        )
        .await
        .expect(401);
    assert_eq!(portal.state.passwords.verifications(), before + 2);
    assert_eq!(unknown.body, wrong.body);
    assert_eq!(unknown.message(), "user or password is incorrect");
}

#[tokio::test]
async fn five_failures_throttle_the_name_until_the_window_passes() {
    let portal = TestPortal::start().await;
    portal.approved("target", false).await;
    for _ in 0..5 {
        portal
            .post(
                "/v1/authorization",
                None,
                json!({"user": "target", "password": "Wrong1pass"}),
            )
            .await
            .expect(401);
    }
    // Now even the right password, in any case of the name, waits.
    let reply = portal
        .post(
            "/v1/authorization",
            None,
            json!({"user": "TARGET", "password": PASSWORD}),
        )
        .await
        .expect(429);
    let retry: u64 = reply.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "Retry-After {retry}");
    assert!(
        reply.message().contains(&format!("{retry} seconds")),
        "{}",
        reply.message()
    );
    // Other names are not affected.
    portal.login(ADMIN, crate::common::ADMIN_PASSWORD).await;

    // Once the failures are older than the window, the name may try again.
    sqlx::query("UPDATE login_failures SET failed_at = failed_at - 901")
        .execute(&portal.state.db.pool)
        .await
        .unwrap();
    portal.login("target", PASSWORD).await;
}

#[tokio::test]
async fn a_success_starts_the_count_afresh() {
    let portal = TestPortal::start().await;
    portal.approved("steady", false).await;
    for _ in 0..4 {
        portal
            .post(
                "/v1/authorization",
                None,
                json!({"user": "steady", "password": "Wrong1pass"}),
            )
            .await
            .expect(401);
    }
    portal.login("steady", PASSWORD).await;
    for _ in 0..4 {
        portal
            .post(
                "/v1/authorization",
                None,
                json!({"user": "steady", "password": "Wrong1pass"}),
            )
            .await
            .expect(401);
    }
    portal.login("steady", PASSWORD).await;
}

#[tokio::test]
async fn simultaneous_registrations_of_one_name_let_exactly_one_through() {
    let portal = TestPortal::start().await;
    let attempts = (0..10).map(|i| {
        let body = json!({"user": if i % 2 == 0 { "racer" } else { "RACER" }, "password": PASSWORD,
                          "phone": unique_phone(), "realName": "Racer", "isAdmin": false});
        portal.post("/v1/user", None, body)
    });
    let replies = futures::future::join_all(attempts).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 9, "{statuses:?}");
}
