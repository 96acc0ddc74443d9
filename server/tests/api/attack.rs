//! SPEC.md section 8, tried as an attacker would: the same request many times at once,
//! requests abandoned halfway, the admin door used on oneself, races between writers,
//! control characters in every field, and the headers every response must carry.

use crate::common::{ADMIN, ADMIN_PASSWORD, PASSWORD, TestPortal, alone, unique_phone};
use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// A client whose connections come from `source` (any 127.0.0.0/8 address is this host).
fn client_from(source: &str, timeout: Option<Duration>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder().local_address(source.parse::<IpAddr>().unwrap());
    if let Some(timeout) = timeout {
        builder = builder.timeout(timeout);
    }
    builder.build().unwrap()
}

/// Sends `n` wrong-password logins for `user` at once, spread over `urls`; returns the
/// statuses.
async fn simultaneous_guesses(urls: &[&str], user: &str, n: usize) -> Vec<u16> {
    let client = reqwest::Client::new();
    let guesses = (0..n).map(|i| {
        let request = client
            .post(format!("{}/v1/authorization", urls[i % urls.len()]))
            .json(&json!({"user": user, "password": format!("Wrong{i}pass")}));
        async move {
            request
                .send()
                .await
                .expect("the portal answers")
                .status()
                .as_u16()
        }
    });
    futures::future::join_all(guesses).await
}

#[tokio::test]
async fn of_50_or_200_simultaneous_guesses_for_one_name_at_most_5_are_checked() {
    let _alone = alone().await;
    let portal = TestPortal::start().await;
    for (n, name) in [(50, "target50"), (200, "target200")] {
        portal.approved(name, false).await;
        let before = portal.state.passwords.verifications();
        let statuses = simultaneous_guesses(&[&portal.url], name, n).await;
        let checked = statuses.iter().filter(|s| **s == 401).count();
        let refused = statuses.iter().filter(|s| **s == 429).count();
        assert!(
            checked <= 5,
            "{checked} of {n} guesses were checked: {statuses:?}"
        );
        assert_eq!(checked + refused, n, "{statuses:?}");
        assert!(portal.state.passwords.verifications() - before <= 5);
        // The right password waits too, now.
        portal
            .post(
                "/v1/authorization",
                None,
                json!({"user": name, "password": PASSWORD}),
            )
            .await
            .expect(429);
    }
}

#[tokio::test]
async fn wrong_old_passwords_count_toward_the_login_throttle() {
    let portal = TestPortal::start().await;
    let (_, token) = portal.approved("changer", false).await;
    let body = json!({"oldPassword": "Wrong1pass", "password": "Another1pass"});
    let changes = (0..20).map(|_| portal.put("/v1/user", Some(&token), body.clone()));
    let statuses: Vec<u16> = futures::future::join_all(changes)
        .await
        .iter()
        .map(|r| r.status.as_u16())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == 422).count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 15, "{statuses:?}");
    portal
        .post(
            "/v1/authorization",
            None,
            json!({"user": "changer", "password": PASSWORD}),
        )
        .await
        .expect(429);
}

#[tokio::test]
async fn names_that_break_the_rule_cost_one_verification_and_are_never_stored() {
    let portal = TestPortal::start().await;
    let long = "x".repeat(5000);
    for name in ["a", "no spaces allowed", "ünïcode", long.as_str()] {
        let before = portal.state.passwords.verifications();
        let reply = portal
            .post(
                "/v1/authorization",
                None,
                json!({"user": name, "password": PASSWORD}),
            )
            .await
            .expect(401);
        assert_eq!(reply.message(), "user or password is incorrect");
        assert_eq!(portal.state.passwords.verifications(), before + 1);
    }
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_failures")
        .fetch_one(&portal.state.db.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn expired_throttle_rows_and_revocations_are_purged_after_the_leeway() {
    let portal = TestPortal::start().await;
    let now = server::clock::now();
    let db = &portal.state.db.pool;
    // A code's failure stays for the codes' window (a day by default).
    let day = 24 * 60 * 60;
    for (key, at) in [
        ("old", now - 901),
        ("recent", now - 10),
        ("code:old", now - day - 1),
        ("code:recent", now - 901),
    ] {
        sqlx::query("INSERT INTO login_failures (user_key, failed_at) VALUES ($1, $2)")
            .bind(key)
            .bind(at)
            .execute(db)
            .await
            .unwrap();
    }
    // Expired beyond the 5 s leeway, expired within it, and not expired.
    for (jti, exp) in [("gone", now - 6), ("leeway", now - 2), ("live", now + 100)] {
        sqlx::query("INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2)")
            .bind(jti)
            .bind(exp)
            .execute(db)
            .await
            .unwrap();
    }
    server::housekeeping::sweep(&portal.state).await.unwrap();
    let mut keys: Vec<String> = sqlx::query_scalar("SELECT user_key FROM login_failures")
        .fetch_all(db)
        .await
        .unwrap();
    keys.sort();
    let mut jtis: Vec<String> = sqlx::query_scalar("SELECT jti FROM revoked_tokens")
        .fetch_all(db)
        .await
        .unwrap();
    jtis.sort();
    assert_eq!(keys, ["code:recent", "recent"]);
    assert_eq!(jtis, ["leeway", "live"]);
}

#[tokio::test]
async fn a_real_login_completes_in_under_a_second_during_a_flood_of_abandoned_logins() {
    let _alone = alone().await;
    // The default limit of password work per address, as deployed.
    let portal = TestPortal::start_with(&["--rate-password-per-minute=60"]).await;
    let url = portal.url.clone();
    // 3,000 logins for random names from 127.0.0.2, each abandoned after 0.3 s.
    let flood = tokio::spawn(async move {
        let client = client_from("127.0.0.2", Some(Duration::from_millis(300)));
        let started = Instant::now();
        futures::stream::iter(0..3000)
            .map(|i| {
                let request = client
                    .post(format!("{url}/v1/authorization"))
                    .json(&json!({"user": format!("random{i}"), "password": "Wrong1pass"}));
                async move {
                    let _ = request.send().await;
                }
            })
            .buffer_unordered(64)
            .collect::<Vec<()>>()
            .await;
        started.elapsed()
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut slowest = Duration::ZERO;
    for _ in 0..3 {
        let started = Instant::now();
        portal.login(ADMIN, ADMIN_PASSWORD).await;
        slowest = slowest.max(started.elapsed());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let flood_took = flood.await.unwrap();
    assert!(
        !flood_took.is_zero() && flood_took < Duration::from_secs(120),
        "flood took {flood_took:?}"
    );
    assert!(
        slowest < Duration::from_secs(1),
        "a real login took {slowest:?} during the flood"
    );
}

#[tokio::test]
async fn password_work_nobody_waits_for_is_skipped_and_the_queue_is_bounded() {
    let _alone = alone().await;
    // No per-address limit: as if the flood came from thousands of addresses.
    let portal = TestPortal::start_with(&["--password-queue=16"]).await;
    // Clients give up after three hashes' time, so that jobs queued behind six or more are
    // abandoned however fast this machine hashes (a fixed 300 ms was longer than the whole
    // queue's wait on a fast one, and nothing was abandoned).
    let mut one_hash = Duration::MAX;
    for i in 0..3 {
        let started = Instant::now();
        let body = json!({"user": format!("timing {i}"), "password": "Wrong1pass"});
        portal.post("/v1/authorization", None, body).await.expect(401);
        one_hash = one_hash.min(started.elapsed());
    }
    let patience = (one_hash * 3).clamp(Duration::from_millis(50), Duration::from_millis(300));
    let client = client_from("127.0.0.2", Some(patience));
    let before = portal.state.passwords.verifications();
    // Names that break the rule go straight to the hashing queue (nothing to throttle).
    let statuses: Vec<Option<u16>> = futures::stream::iter(0..300)
        .map(|i| {
            let request = client
                .post(format!("{}/v1/authorization", portal.url))
                .json(&json!({"user": format!("random {i}"), "password": "Wrong1pass"}));
            async move { request.send().await.ok().map(|r| r.status().as_u16()) }
        })
        .buffer_unordered(100)
        .collect()
        .await;
    let busy = statuses.iter().filter(|s| **s == Some(503)).count();
    assert!(busy > 0, "a full queue answers 503: {statuses:?}");
    // The abandoned work left in the queue is dropped without hashing it (the two
    // threads finish only the hashes they had begun: under load, a few hundred ms)...
    let draining = Instant::now();
    while portal.state.passwords.waiting() > 0 {
        assert!(
            draining.elapsed() < Duration::from_secs(5),
            "the queue never emptied: {} waiting",
            portal.state.passwords.waiting()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // ...and then a real login goes straight through.
    let started = Instant::now();
    portal.login(ADMIN, ADMIN_PASSWORD).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let checked = portal.state.passwords.verifications() - before - 1;
    assert!(
        portal.state.passwords.skipped() > 0,
        "abandoned work was hashed anyway"
    );
    assert!(
        checked < 300 - busy as u64,
        "{checked} hashes for {} admitted logins",
        300 - busy
    );
}

#[tokio::test]
async fn logins_abandoned_before_their_answer_do_not_count_toward_the_throttle() {
    let _alone = alone().await;
    let portal = TestPortal::start_with(&["--password-queue=500"]).await;
    portal.approved("victim", false).await;
    // Keep the hashing threads busy: names that break the rule go straight to the queue.
    let busy = client_from("127.0.0.2", None);
    let url = portal.url.clone();
    let flood = tokio::spawn(async move {
        let logins = (0..150).map(|i| {
            busy.post(format!("{url}/v1/authorization"))
                .json(&json!({"user": format!("busy {i}"), "password": "Wrong1pass"}))
                .send()
        });
        futures::future::join_all(logins).await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Ten wrong guesses whose clients hang up while they wait in the queue.
    let impatient = client_from("127.0.0.3", Some(Duration::from_millis(150)));
    let guesses = (0..10).map(|_| {
        impatient
            .post(format!("{}/v1/authorization", portal.url))
            .json(&json!({"user": "victim", "password": "Wrong1pass"}))
            .send()
    });
    // Five wait in the queue and are abandoned; the five others find those five holding
    // the name's places and are refused at once.
    let answers: Vec<u16> = futures::future::join_all(guesses)
        .await
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|r| r.status().as_u16()))
        .collect();
    assert!(
        answers.iter().all(|s| *s == 429) && answers.len() < 10,
        "{answers:?}"
    );
    flood.await.unwrap();
    // The abandoned attempts give their rows back (a task each, just after the hang-up).
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE user_key = 'victim'")
            .fetch_one(&portal.state.db.pool)
            .await
            .unwrap();
        if left == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{left} abandoned attempts still count");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    portal.login("victim", PASSWORD).await;
}

#[tokio::test]
async fn a_503_from_a_full_queue_says_when_to_retry_and_does_not_count_as_a_guess() {
    let _alone = alone().await;
    let portal = TestPortal::start_with(&["--password-queue=1"]).await;
    portal.approved("patient", false).await;
    let statuses = simultaneous_guesses(&[&portal.url], "patient", 40).await;
    let busy = statuses.iter().filter(|s| **s == 503).count();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert!(busy > 0 && checked <= 5, "{statuses:?}");
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    // Fewer than five checked guesses leave the right password welcome.
    if checked < 5 && throttled == 0 {
        portal.login("patient", PASSWORD).await;
    }
    let reply = portal
        .raw(Method::POST, "/v1/authorization", b"{}".to_vec())
        .await;
    assert_eq!(reply.status, 422);
}

#[tokio::test]
async fn password_work_per_address_is_limited_and_forwarded_addresses_count_only_from_trusted_proxies() {
    let portal = TestPortal::start_with(&["--rate-password-per-minute=3"]).await;
    let guess = |client: reqwest::Client, forwarded: Option<&'static str>| {
        let mut request = client
            .post(format!("{}/v1/authorization", portal.url))
            .json(&json!({"user": "nobody", "password": "Wrong1pass"}));
        if let Some(forwarded) = forwarded {
            request = request.header("X-Forwarded-For", forwarded);
        }
        async move {
            let response = request.send().await.unwrap();
            let retry = response.headers().get("retry-after").cloned();
            let body: Value = response.json().await.unwrap();
            (body["code"].as_u64().unwrap(), retry, body)
        }
    };
    let local = client_from("127.0.0.1", None);
    for _ in 0..3 {
        assert_eq!(guess(local.clone(), None).await.0, 401);
    }
    // X-Forwarded-For from an untrusted peer changes nothing.
    let (code, retry, body) = guess(local.clone(), Some("203.0.113.7")).await;
    assert_eq!(code, 429, "{body}");
    let retry: u64 = retry.expect("Retry-After").to_str().unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry), "Retry-After {retry}");
    assert!(body["message"].as_str().unwrap().contains("address"), "{body}");
    // Another address has its own bucket.
    assert_eq!(guess(client_from("127.0.0.2", None), None).await.0, 401);

    // Behind a trusted proxy, each forwarded client has its own bucket.
    let portal =
        TestPortal::start_with(&["--rate-password-per-minute=1", "--trusted-proxies=127.0.0.1/32"]).await;
    let login = |forwarded: &'static str| {
        portal
            .client_request(Method::POST, "/v1/authorization")
            .header("X-Forwarded-For", forwarded)
            .json(&json!({"user": "nobody", "password": "Wrong1pass"}))
            .send()
    };
    assert_eq!(login("198.51.100.1").await.unwrap().status(), 401);
    assert_eq!(login("198.51.100.1").await.unwrap().status(), 429);
    assert_eq!(login("198.51.100.2").await.unwrap().status(), 401);
    // A client cannot pick its address by forging entries left of the proxy's.
    assert_eq!(login("198.51.100.9, 198.51.100.2").await.unwrap().status(), 429);
}

#[tokio::test]
async fn on_a_dual_stack_listener_one_ipv4_clients_limit_reaches_no_other() {
    let portal = TestPortal::start_with(&["--site-addr=[::]:0", "--rate-password-per-minute=60"]).await;
    assert!(portal.state.config.site_addr.is_ipv6(), "listening on [::]");
    let attacker = client_from("127.0.0.1", None);
    let mut statuses = Vec::new();
    for n in 0..70 {
        let response = attacker
            .post(format!("{}/v1/authorization", portal.url))
            .json(&json!({"user": format!("guess{n}"), "password": "Wrong1pass"}))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(
        statuses.last(),
        Some(&429),
        "the attacker is limited: {statuses:?}"
    );
    // The administrator, from another address, signs in; the session shows that address.
    let admin = client_from("127.0.0.2", None);
    let response = admin
        .post(format!("{}/v1/authorization", portal.url))
        .json(&json!({"user": ADMIN, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let token = response.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let sessions = portal.get("/v1/user/sessions", Some(&token)).await.expect(200);
    assert_eq!(sessions.body["data"][0]["ip"], "127.0.0.2", "{}", sessions.body);
}

#[tokio::test]
async fn nobody_resets_or_audits_itself_through_the_admin_door() {
    let portal = TestPortal::start().await;
    let root = portal.admin_token().await;
    let admin_id = portal
        .get("/v1/admin/user?pageSize=1", Some(&root))
        .await
        .expect(200)
        .body["data"][0]["id"]
        .as_i64()
        .unwrap();
    let reply = portal
        .put(
            &format!("/v1/admin/user/{admin_id}/password"),
            Some(&root),
            json!({"password": "Stolen1pass"}),
        )
        .await
        .expect(403);
    assert!(reply.message().starts_with("id: "), "{}", reply.message());
    portal
        .put(
            &format!("/v1/admin/user/{admin_id}"),
            Some(&root),
            json!({"status": 3}),
        )
        .await
        .expect(403);
    let (own_id, _, own) = portal.business_admin("boss", "own-shop").await;
    portal
        .put(
            &format!("/v1/admin/user/{own_id}/password"),
            Some(&own),
            json!({"password": "Stolen1pass"}),
        )
        .await
        .expect(403);
    // Both still sign in with their own passwords; the own-password door still works.
    portal.login(ADMIN, ADMIN_PASSWORD).await;
    portal.login("boss", PASSWORD).await;
    portal
        .put(
            "/v1/user",
            Some(&own),
            json!({"oldPassword": PASSWORD, "password": "Changed1pass"}),
        )
        .await
        .expect(200);
}

#[tokio::test]
async fn of_simultaneous_refreshes_of_one_token_only_one_gets_a_new_token() {
    let portal = TestPortal::start().await;
    let token = portal.admin_token().await;
    let refreshes = (0..10).map(|_| portal.call(Method::PUT, "/v1/authorization", Some(&token), None));
    let statuses: Vec<u16> = futures::future::join_all(refreshes)
        .await
        .iter()
        .map(|r| r.status.as_u16())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 9, "{statuses:?}");
}

/// A short random pause, so that racing requests interleave differently each round.
async fn jitter(round: u64) {
    tokio::time::sleep(Duration::from_micros((round * 7919) % 3000)).await;
}

#[tokio::test]
async fn an_approval_racing_a_deletion_never_brings_the_business_back() {
    let portal = TestPortal::start().await;
    let root = portal.admin_token().await;
    for round in 0..20 {
        let (owner_id, owner) = portal.approved(&format!("owner{round}"), true).await;
        let body = json!({"name": format!("race-{round}"), "introduce": "i", "objective": "o", "scale": "s"});
        let id = portal
            .post("/v1/business", Some(&owner), body)
            .await
            .expect(200)
            .body["data"]["id"]
            .as_i64()
            .unwrap();
        let path = format!("/v1/admin/business/{id}");
        let (approve, delete) = tokio::join!(
            async {
                jitter(round).await;
                portal
                    .put(&path, Some(&root), json!({"status": 1, "comment": "ok"}))
                    .await
            },
            portal.delete(&path, Some(&root)),
        );
        assert_eq!(delete.status, 200, "{}", delete.body);
        assert!(matches!(approve.status.as_u16(), 200 | 409), "{}", approve.body);
        let business = portal
            .get(&format!("/v1/business/id/{id}"), Some(&root))
            .await
            .expect(200);
        assert_eq!(
            business.body["data"]["status"], 3,
            "round {round}: {}",
            business.body
        );
        let member: Option<i64> = sqlx::query_scalar("SELECT business_id FROM users WHERE id = $1")
            .bind(owner_id)
            .fetch_one(&portal.state.db.pool)
            .await
            .unwrap();
        assert_eq!(member, None, "round {round}: the owner left the deleted business");
        assert_eq!(portal.role(&owner).await, 1);
    }
}

#[tokio::test]
async fn a_business_request_racing_its_owners_deletion_never_leaves_a_live_business_without_owner() {
    let portal = TestPortal::start().await;
    let root = portal.admin_token().await;
    for round in 0..20 {
        let (owner_id, owner) = portal.approved(&format!("founder{round}"), true).await;
        let body =
            json!({"name": format!("orphan-{round}"), "introduce": "i", "objective": "o", "scale": "s"});
        let (create, delete) = tokio::join!(portal.post("/v1/business", Some(&owner), body), async {
            jitter(round).await;
            portal
                .delete(&format!("/v1/admin/user/{owner_id}"), Some(&root))
                .await
        },);
        match (create.status.as_u16(), delete.status.as_u16()) {
            (200, 409) | (401, 200) => {}
            other => panic!("round {round}: {other:?}: {} / {}", create.body, delete.body),
        }
    }
    let orphans: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM businesses b JOIN users u ON u.id = b.user_id \
         WHERE b.status IN (0, 1) AND u.deleted_at IS NOT NULL",
    )
    .fetch_one(&portal.state.db.pool)
    .await
    .unwrap();
    assert_eq!(orphans, 0);
}

#[tokio::test]
async fn a_password_reset_racing_the_forbidding_of_its_admin_takes_effect_only_before_it() {
    let portal = TestPortal::start().await;
    let root = portal.admin_token().await;
    for round in 0..12 {
        let (boss_id, _, boss) = portal
            .business_admin(&format!("boss{round}"), &format!("shop-{round}"))
            .await;
        let member = format!("worker{round}");
        let (member_id, _) = portal.member(&boss, &member, false).await;
        let before: i64 = sqlx::query_scalar("SELECT MAX(id) FROM audit_log")
            .fetch_one(&portal.state.db.pool)
            .await
            .unwrap();
        let reset_path = format!("/v1/admin/user/{member_id}/password");
        let (reset, forbid) = tokio::join!(
            portal.put(&reset_path, Some(&boss), json!({"password": "Reset1pass"})),
            async {
                jitter(round * 3).await;
                portal
                    .put(
                        &format!("/v1/admin/user/{boss_id}"),
                        Some(&root),
                        json!({"status": 3}),
                    )
                    .await
            },
        );
        assert_eq!(forbid.status, 200, "{}", forbid.body);
        let new_works = portal
            .post(
                "/v1/authorization",
                None,
                json!({"user": member, "password": "Reset1pass"}),
            )
            .await
            .status
            == 200;
        match reset.status.as_u16() {
            200 => assert!(new_works, "round {round}: the acknowledged reset holds"),
            401 | 403 => assert!(!new_works, "round {round}: a refused reset changed nothing"),
            other => panic!("round {round}: {other}: {}", reset.body),
        }
        // The log agrees: a reset, if any, is entered before the forbidding.
        let actions: Vec<String> = sqlx::query_scalar(
            "SELECT action FROM audit_log WHERE target_id IN ($1, $2) AND id > $3 \
             AND action IN ('user.password_reset', 'user.audit') ORDER BY id",
        )
        .bind(member_id)
        .bind(boss_id)
        .bind(before)
        .fetch_all(&portal.state.db.pool)
        .await
        .unwrap();
        let expected: &[&str] = if new_works {
            &["user.password_reset", "user.audit"]
        } else {
            &["user.audit"]
        };
        assert_eq!(actions, expected, "round {round}");
    }
}

#[tokio::test]
async fn control_characters_are_refused_in_every_field() {
    let portal = TestPortal::start().await;
    let root = portal.admin_token().await;
    let (_, owner) = portal.approved("texter", true).await;
    let user = |field: &str, value: &str| {
        let mut body = json!({"user": "someone", "password": PASSWORD, "phone": unique_phone(),
                              "realName": "Some One", "isAdmin": false});
        body[field] = json!(value);
        body
    };
    let business = |field: &str, value: &str| {
        let mut body = json!({"name": "texts", "introduce": "i", "objective": "o", "scale": "s"});
        body[field] = json!(value);
        body
    };
    for bad in ["\u{0}", "\u{7}", "\u{1b}[31m", "\u{7f}", "\u{85}", "\r"] {
        let text = format!("a{bad}b");
        let cases: Vec<(&str, Method, &str, Option<&str>, Value)> = vec![
            ("user", Method::POST, "/v1/user", None, user("user", &text)),
            (
                "password",
                Method::POST,
                "/v1/user",
                None,
                user("password", &format!("Abcdefg1{bad}")),
            ),
            (
                "realName",
                Method::POST,
                "/v1/user",
                None,
                user("realName", &text),
            ),
            (
                "phone",
                Method::POST,
                "/v1/user",
                None,
                user("phone", &format!("123{bad}45")),
            ),
            (
                "realName",
                Method::POST,
                "/v1/admin/user",
                Some(&root),
                user("realName", &text),
            ),
            (
                "user",
                Method::POST,
                "/v1/authorization",
                None,
                json!({"user": text, "password": PASSWORD}),
            ),
            (
                "password",
                Method::POST,
                "/v1/authorization",
                None,
                json!({"user": "texter", "password": text}),
            ),
            (
                "oldPassword",
                Method::PUT,
                "/v1/user",
                Some(&owner),
                json!({"oldPassword": text, "password": "Another1pass"}),
            ),
            (
                "introduce",
                Method::POST,
                "/v1/business",
                Some(&owner),
                business("introduce", &text),
            ),
            (
                "objective",
                Method::POST,
                "/v1/business",
                Some(&owner),
                business("objective", &text),
            ),
            (
                "scale",
                Method::POST,
                "/v1/business",
                Some(&owner),
                business("scale", &text),
            ),
            (
                "name",
                Method::POST,
                "/v1/business",
                Some(&owner),
                business("name", &text),
            ),
        ];
        for (field, method, path, token, body) in cases {
            let reply = portal
                .call(method.clone(), path, token, Some(body))
                .await
                .expect(422);
            assert!(
                reply.message().starts_with(&format!("{field}: ")),
                "{method} {path} {bad:?}: {}",
                reply.message()
            );
        }
        let encoded: String = form_urlencoded::byte_serialize(text.as_bytes()).collect();
        for path in ["/v1/admin/user", "/v1/business"] {
            let reply = portal
                .get(&format!("{path}?name={encoded}"), Some(&root))
                .await
                .expect(422);
            assert!(reply.message().starts_with("name: "), "{}", reply.message());
        }
    }
    // Tab and newline are text in the long fields, and nothing else was stored.
    let id = portal
        .post(
            "/v1/business",
            Some(&owner),
            business("introduce", "line one\n\tline two"),
        )
        .await
        .expect(200)
        .body["data"]["id"]
        .as_i64()
        .unwrap();
    portal
        .put(
            &format!("/v1/admin/business/{id}"),
            Some(&root),
            json!({"status": 2, "comment": "a\u{0}"}),
        )
        .await
        .expect(422);
    portal
        .put(
            &format!("/v1/admin/business/{id}"),
            Some(&root),
            json!({"status": 2, "comment": "no\n\tthanks"}),
        )
        .await
        .expect(200);
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&portal.state.db.pool)
        .await
        .unwrap();
    assert_eq!(users, 2, "only the administrator and texter exist");
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_pages_a_fresh_script_nonce() {
    let portal = TestPortal::start().await;
    let client = reqwest::Client::new();
    let page = |path: &'static str| client.get(format!("{}{path}", portal.url)).send();
    let mut nonces = Vec::new();
    for path in ["/login", "/users", "/no-such-page"] {
        let response = page(path).await.unwrap();
        let headers = response.headers().clone();
        let html = response.text().await.unwrap();
        let policy = headers["content-security-policy"].to_str().unwrap().to_owned();
        for directive in [
            "'wasm-unsafe-eval'",
            "frame-ancestors 'none'",
            "object-src 'none'",
            "base-uri 'none'",
        ] {
            assert!(policy.contains(directive), "{path}: {policy}");
        }
        let nonce = policy
            .split("'nonce-")
            .nth(1)
            .unwrap()
            .split('\'')
            .next()
            .unwrap()
            .to_owned();
        assert!(
            html.contains(&format!("nonce=\"{nonce}\"")),
            "{path}: the hydration script carries the nonce"
        );
        assert!(
            !html.contains("<script>") && !html.contains("<script type=\"module\">"),
            "{path}: no script without a nonce"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert!(headers.get("strict-transport-security").is_none());
        nonces.push(nonce);
    }
    nonces.dedup();
    assert_eq!(nonces.len(), 3, "each page has its own nonce");
    for (method, path) in [
        (Method::POST, "/v1/authorization"),
        (Method::GET, "/v1/authorization"),
        (Method::GET, "/v1/nowhere"),
    ] {
        let reply = portal
            .call(
                method,
                path,
                None,
                Some(json!({"user": ADMIN, "password": ADMIN_PASSWORD})),
            )
            .await;
        assert_eq!(reply.headers["cache-control"], "no-store", "{path}");
        assert_eq!(reply.headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(reply.headers["referrer-policy"], "no-referrer", "{path}");
    }
    let portal = TestPortal::start_with(&["--hsts=true"]).await;
    let reply = portal.get("/v1/openapi.json", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply.headers["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
}

#[tokio::test]
async fn two_admins_of_one_business_deleting_each_other_at_once_never_get_a_500() {
    // Each locks its own row first (the caller is re-checked), then the other's: on
    // PostgreSQL one of them is picked to fail, and must hear 503 with Retry-After, not 500.
    let portal = TestPortal::start().await;
    let (_, _, boss) = portal.business_admin("pair-boss", "pair-shop").await;
    for round in 0..10 {
        let (a_id, a) = portal.member(&boss, &format!("pair-a{round}"), true).await;
        let (b_id, b) = portal.member(&boss, &format!("pair-b{round}"), true).await;
        let (a_deletes_b, b_deletes_a) = (format!("/v1/admin/user/{b_id}"), format!("/v1/admin/user/{a_id}"));
        let (ab, ba) = tokio::join!(
            portal.delete(&a_deletes_b, Some(&a)),
            portal.delete(&b_deletes_a, Some(&b)),
        );
        let statuses = [ab.status.as_u16(), ba.status.as_u16()];
        for (reply, status) in [(&ab, statuses[0]), (&ba, statuses[1])] {
            assert!(
                [200, 401, 503].contains(&status),
                "round {round}: {status} {}",
                reply.body
            );
            if status == 503 {
                assert_eq!(reply.headers["retry-after"], "1");
            }
        }
        // Whoever went first deleted the other, whose own request then found itself gone.
        assert!(
            statuses.iter().filter(|s| **s == 200).count() <= 1,
            "round {round}: {statuses:?}"
        );
    }
}
