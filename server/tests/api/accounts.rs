//! SPEC.md section 9 over HTTP: two-factor sign-in, sessions, personal access tokens.
//! Codes are computed here by a second implementation of RFC 6238 (HMAC-SHA-1 from the
//! `hmac` and `sha1` crates), not by the server's `totp-rs`.

use crate::common::{ADMIN, ADMIN_PASSWORD, PASSWORD, Reply, TestPortal};
use reqwest::Method;
use serde_json::{Value, json};

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// RFC 4648 base32 without padding, as authenticator apps read the secret.
fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut value, mut out) = (0u32, 0u64, Vec::new());
    for c in text.trim_end_matches('=').bytes() {
        let index = ALPHABET.iter().position(|&a| a == c).expect("base32") as u64;
        value = (value << 5) | index;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((value >> bits) as u8);
            value &= (1 << bits) - 1;
        }
    }
    out
}

/// RFC 6238 with SHA-1, 6 digits and a 30 s step: the code at Unix time `time`.
pub fn code_at(secret: &str, time: u64) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&base32_decode(secret)).unwrap();
    mac.update(&(time / 30).to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = (hash[19] & 0xf) as usize;
    let number = u32::from_be_bytes([
        hash[offset] & 0x7f,
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ]);
    format!("{:06}", number % 1_000_000)
}

fn login_body(user: &str, password: &str, code: Option<&str>) -> Value {
    match code {
        Some(code) => json!({"user": user, "password": password, "code": code}),
        None => json!({"user": user, "password": password}),
    }
}

async fn login_with(portal: &TestPortal, user: &str, password: &str, code: Option<&str>) -> Reply {
    portal
        .post("/v1/authorization", None, login_body(user, password, code))
        .await
}

/// Enrols the holder of `token` and returns (secret, recovery codes). The confirming code
/// is the one of the step before now, so that the current and next steps stay free.
pub(crate) async fn enrol(portal: &TestPortal, token: &str) -> (String, Vec<String>) {
    let data = portal
        .post("/v1/user/totp", Some(token), json!({}))
        .await
        .expect(200)
        .body["data"]
        .clone();
    let secret = data["secret"].as_str().unwrap().to_owned();
    // The server accepts the step before its own: near a step's end, wait for the next
    // step, so the server still checks in the step this code was made for.
    if now() % 30 >= 27 {
        tokio::time::sleep(std::time::Duration::from_secs(30 - now() % 30 + 1)).await;
    }
    let code = code_at(&secret, now() - 30);
    let reply = portal
        .put("/v1/user/totp", Some(token), json!({"code": code}))
        .await
        .expect(200);
    let codes = reply.body["data"]["recoveryCodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (secret, codes)
}

#[tokio::test]
async fn enrol_confirm_and_sign_in_with_a_code_each_taken_once() {
    let portal = TestPortal::start().await;
    let (_, token) = portal.approved("tess", false).await;
    let me = portal.get("/v1/authorization", Some(&token)).await.expect(200);
    assert_eq!(me.body["data"]["totp"], false);

    let data = portal
        .post("/v1/user/totp", Some(&token), json!({}))
        .await
        .expect(200)
        .body["data"]
        .clone();
    let secret = data["secret"].as_str().unwrap();
    assert_eq!(base32_decode(secret).len(), 20, "160-bit secret: {secret}");
    assert_eq!(
        data["uri"],
        json!(format!(
            "otpauth://totp/OTE%20Portal:tess?secret={secret}&issuer=OTE%20Portal"
        ))
    );
    assert!(
        data["qrSvg"].as_str().unwrap().contains("<svg"),
        "{}",
        data["qrSvg"]
    );
    // Not active until confirmed: logins need no code yet.
    login_with(&portal, "tess", PASSWORD, None).await.expect(200);

    let far = code_at(secret, now() + 3600);
    let refused = portal
        .put("/v1/user/totp", Some(&token), json!({"code": far}))
        .await
        .expect(422);
    assert_eq!(refused.message(), "code: is not valid");
    let reply = portal
        .put(
            "/v1/user/totp",
            Some(&token),
            json!({"code": code_at(secret, now())}),
        )
        .await
        .expect(200);
    let codes = reply.body["data"]["recoveryCodes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    portal
        .post("/v1/user/totp", Some(&token), json!({}))
        .await
        .expect(409);
    portal
        .put(
            "/v1/user/totp",
            Some(&token),
            json!({"code": code_at(secret, now())}),
        )
        .await
        .expect(409);
    assert_eq!(
        portal
            .get("/v1/authorization", Some(&token))
            .await
            .expect(200)
            .body["data"]["totp"],
        true
    );

    let missing = login_with(&portal, "tess", PASSWORD, None).await.expect(401);
    assert_eq!(missing.message(), "code: a one-time code is required");
    // The confirming code's step is spent: replaying it (or an older one) fails.
    let replay = login_with(&portal, "tess", PASSWORD, Some(&code_at(secret, now()))).await;
    let next = code_at(secret, now() + 30);
    if replay.status == 200 {
        // The step moved on between the two requests: the code was a fresh one.
        assert_ne!(code_at(secret, now() - 30), next);
    } else {
        replay.expect(401);
    }
    let old = login_with(&portal, "tess", PASSWORD, Some(&code_at(secret, now() - 60)))
        .await
        .expect(401);
    assert_eq!(old.message(), "code: is not valid or was used already");
    login_with(&portal, "tess", PASSWORD, Some(&next))
        .await
        .expect(200);
    login_with(&portal, "tess", PASSWORD, Some(&next))
        .await
        .expect(401);
    // A right code with a wrong password says nothing about the code.
    let wrong = login_with(&portal, "tess", "Wrong1pass", Some(&code_at(secret, now() + 30)))
        .await
        .expect(401);
    assert_eq!(wrong.message(), "user or password is incorrect");

    // Recovery codes: once each, typed any way.
    let code = codes[0].as_str().unwrap();
    login_with(
        &portal,
        "tess",
        PASSWORD,
        Some(&code.to_lowercase().replace('-', " ")),
    )
    .await
    .expect(200);
    login_with(&portal, "tess", PASSWORD, Some(code))
        .await
        .expect(401);
    login_with(&portal, "tess", PASSWORD, Some(codes[1].as_str().unwrap()))
        .await
        .expect(200);
}

#[tokio::test]
async fn simultaneous_logins_with_one_code_or_one_recovery_code_let_exactly_one_in() {
    let portal = TestPortal::start().await;
    // A user for each race: the losers' spent codes count toward the name's throttle, and
    // depending on when the winner's login clears it, five of them may stay and lock it.
    for (name, recovery) in [("race1", false), ("race2", true)] {
        let (_, token) = portal.approved(name, false).await;
        let (secret, codes) = enrol(&portal, &token).await;
        let code = if recovery {
            codes[0].clone()
        } else {
            code_at(&secret, now() + 30)
        };
        let attempts = (0..12).map(|_| login_with(&portal, name, PASSWORD, Some(&code)));
        let replies = futures::future::join_all(attempts).await;
        let admitted = replies.iter().filter(|r| r.status == 200).count();
        assert_eq!(
            admitted,
            1,
            "{code}: {:?}",
            replies.iter().map(|r| r.status).collect::<Vec<_>>()
        );
    }
}

/// Logs in from a browser holding `device` (a `name=value` cookie pair, or none): the
/// reply and the device cookie the portal set, if any.
async fn login_from(
    portal: &TestPortal,
    device: Option<&str>,
    user: &str,
    password: &str,
    code: Option<&str>,
) -> (u16, Option<String>, Value) {
    let mut request = portal
        .client_request(Method::POST, "/v1/authorization")
        .json(&login_body(user, password, code));
    if let Some(device) = device {
        request = request.header("cookie", device);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let cookie = response
        .headers()
        .get("set-cookie")
        .map(|value| value.to_str().unwrap().split(';').next().unwrap().to_owned());
    (status, cookie, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn wrong_codes_have_a_longer_budget_that_a_successful_login_does_not_reset() {
    let portal = TestPortal::start().await;
    let (_, token) = portal.approved("guess", false).await;
    let (secret, _) = enrol(&portal, &token).await;
    // The attacker has the password. Missing codes count for nothing.
    for _ in 0..8 {
        login_with(&portal, "guess", PASSWORD, None).await.expect(401);
    }
    let wrong = || code_at(&secret, now() + 3600);
    for _ in 0..4 {
        login_with(&portal, "guess", PASSWORD, Some(&wrong()))
            .await
            .expect(401);
    }
    // The owner signs in meanwhile (and keeps this browser's device cookie).
    let (status, device, _) =
        login_from(&portal, None, "guess", PASSWORD, Some(&code_at(&secret, now()))).await;
    assert_eq!(status, 200);
    let device = device.expect("a device cookie");
    // The attacker's budget was not reset: six more wrong codes make ten, then even a
    // right code is refused, for longer than the password's window.
    for _ in 0..6 {
        login_with(&portal, "guess", PASSWORD, Some(&wrong()))
            .await
            .expect(401);
    }
    let spent = login_with(&portal, "guess", PASSWORD, Some(&code_at(&secret, now() + 30)))
        .await
        .expect(429);
    assert!(spent.message().starts_with("code: "), "{}", spent.message());
    let retry: u64 = spent.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry > 15 * 60, "Retry-After {retry}");
    // Wrong passwords keep their own budget; the owner's browser its own codes' budget.
    login_with(&portal, "guess", "Wrong1pass", None).await.expect(401);
    let (status, _, body) = login_from(
        &portal,
        Some(&device),
        "guess",
        PASSWORD,
        Some(&code_at(&secret, now() + 30)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_name_locked_by_others_still_lets_in_the_browser_that_signed_in_before() {
    let portal = TestPortal::start().await;
    portal.approved("owner", false).await;
    portal.approved("other", false).await;
    let (_, device, _) = login_from(&portal, None, "owner", PASSWORD, None).await;
    let device = device.expect("a device cookie on a successful login");
    let (_, foreign, _) = login_from(&portal, None, "other", PASSWORD, None).await;
    let foreign = foreign.unwrap();
    // Someone else guesses the owner's password five times: the name is locked.
    for _ in 0..5 {
        login_with(&portal, "owner", "Wrong1pass", None).await.expect(401);
    }
    login_with(&portal, "owner", PASSWORD, None).await.expect(429);
    // Not for the owner's browser. Another user's cookie, or a forged one, vouches for nothing.
    let (status, _, body) = login_from(&portal, Some(&device), "owner", PASSWORD, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        login_from(&portal, Some(&foreign), "owner", PASSWORD, None)
            .await
            .0,
        429
    );
    let last = if device.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &device[..device.len() - 1]);
    assert_eq!(
        login_from(&portal, Some(&forged), "owner", PASSWORD, None)
            .await
            .0,
        429
    );
    // The browser's own wrong guesses count for it alone, five at most.
    for _ in 0..5 {
        assert_eq!(
            login_from(&portal, Some(&device), "owner", "Wrong1pass", None)
                .await
                .0,
            401
        );
    }
    assert_eq!(
        login_from(&portal, Some(&device), "owner", PASSWORD, None)
            .await
            .0,
        429
    );
    // A cookie dies with the user's sessions (here: a password change).
    let (_, fresh, _) = login_from(&portal, Some(&foreign), "other", PASSWORD, None).await;
    let fresh = fresh.unwrap();
    let token = portal.login("other", PASSWORD).await;
    portal
        .put(
            "/v1/user",
            Some(&token),
            json!({"oldPassword": PASSWORD, "password": "Changed1pass"}),
        )
        .await
        .expect(200);
    for _ in 0..5 {
        login_with(&portal, "other", "Wrong1pass", None).await.expect(401);
    }
    assert_eq!(
        login_from(&portal, Some(&fresh), "other", "Changed1pass", None)
            .await
            .0,
        429
    );
}

#[tokio::test]
async fn turning_two_factor_on_or_off_ends_every_other_session_and_off_needs_a_code() {
    let portal = TestPortal::start().await;
    let (_, owner) = portal.approved("victim", false).await;
    // Signed in with a stolen password before the owner turns two-factor on.
    let intruder = portal.login("victim", PASSWORD).await;
    let (secret, codes) = enrol(&portal, &owner).await;
    portal.get("/v1/authorization", Some(&intruder)).await.expect(401);
    portal
        .put("/v1/authorization", Some(&intruder), json!({}))
        .await
        .expect(401);
    portal.get("/v1/authorization", Some(&owner)).await.expect(200);

    let other = login_with(&portal, "victim", PASSWORD, Some(&codes[0]))
        .await
        .expect(200);
    let other = other.body["token"].as_str().unwrap().to_owned();
    let off = |body: Value| portal.call(Method::DELETE, "/v1/user/totp", Some(&owner), Some(body));
    let missing = off(json!({"password": PASSWORD})).await.expect(422);
    assert!(missing.message().starts_with("code: "), "{}", missing.message());
    let wrong = off(json!({"password": PASSWORD, "code": code_at(&secret, now() + 3600)}))
        .await
        .expect(422);
    assert_eq!(wrong.message(), "code: is not valid");
    off(json!({"password": "Wrong1pass", "code": code_at(&secret, now() + 30)}))
        .await
        .expect(422);
    off(json!({"password": PASSWORD, "code": code_at(&secret, now() + 30)}))
        .await
        .expect(200);
    portal.get("/v1/authorization", Some(&other)).await.expect(401);
    let me = portal.get("/v1/authorization", Some(&owner)).await.expect(200);
    assert_eq!(me.body["data"]["totp"], false);
}

#[tokio::test]
async fn disabling_needs_the_password_and_an_admin_reset_ends_the_sessions_only() {
    let portal = TestPortal::start().await;
    let (_, _, boss) = portal.business_admin("boss", "teamx").await;
    let (worker_id, worker) = portal.member(&boss, "worker", false).await;
    let (_, codes) = enrol(&portal, &worker).await;

    portal
        .call(
            Method::DELETE,
            "/v1/user/totp",
            Some(&worker),
            Some(json!({"password": "Wrong1pass", "code": codes[0]})),
        )
        .await
        .expect(422);
    portal
        .call(
            Method::DELETE,
            "/v1/user/totp",
            Some(&worker),
            Some(json!({"password": PASSWORD, "code": codes[0]})),
        )
        .await
        .expect(200);
    portal
        .call(
            Method::DELETE,
            "/v1/user/totp",
            Some(&worker),
            Some(json!({"password": PASSWORD, "code": codes[1]})),
        )
        .await
        .expect(409);
    login_with(&portal, "worker", PASSWORD, None).await.expect(200);

    // The device is lost: the business admin resets it.
    enrol(&portal, &worker).await;
    let script = create_token(&portal, &worker, "ci", "write").await;
    let path = format!("/v1/admin/user/{worker_id}/totp");
    portal.delete(&path, Some(&boss)).await.expect(200);
    portal.delete(&path, Some(&boss)).await.expect(409);
    portal.get("/v1/authorization", Some(&worker)).await.expect(401);
    let me = portal.get("/v1/authorization", Some(&script)).await.expect(200);
    assert_eq!(me.body["data"]["totp"], false, "the personal token lives on");
    login_with(&portal, "worker", PASSWORD, None).await.expect(200);

    // Nobody resets their own through the admin door; other businesses' users are 404.
    let admin = portal.admin_token().await;
    let root_id = portal
        .get("/v1/admin/user?name=root", Some(&admin))
        .await
        .expect(200)
        .body["data"][0]["id"]
        .as_i64()
        .unwrap();
    portal
        .delete(&format!("/v1/admin/user/{root_id}/totp"), Some(&admin))
        .await
        .expect(403);
    let (_, _, other) = portal.business_admin("other", "teamy").await;
    portal.delete(&path, Some(&other)).await.expect(404);

    let audit = portal
        .get("/v1/admin/audit?pageSize=100", Some(&admin))
        .await
        .expect(200);
    let actions: Vec<&str> = audit.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "user.totp_enable",
        "user.totp_disable",
        "user.totp_reset",
        "token.create",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

#[tokio::test]
async fn the_admins_policy_allows_only_enrolment_until_done() {
    let portal = TestPortal::start_with(&["--require-totp=admins"]).await;
    let plain = portal.register("plain", false).await;
    let admin = portal.admin_token().await;
    let me = portal.get("/v1/authorization", Some(&admin)).await.expect(200);
    assert_eq!(
        (&me.body["data"]["totp"], &me.body["data"]["totpRequired"]),
        (&json!(false), &json!(true))
    );
    for (method, path) in [
        (Method::GET, "/v1/admin/user"),
        (Method::GET, "/v1/admin/audit"),
        (Method::PUT, &format!("/v1/admin/user/{plain}") as &str),
        (Method::GET, "/v1/user/sessions"),
        (Method::GET, "/v1/user/tokens"),
        (Method::PUT, "/v1/authorization"),
    ] {
        let reply = portal
            .call(method.clone(), path, Some(&admin), Some(json!({"status": 1})))
            .await
            .expect(403);
        assert_eq!(reply.message(), "totp: enrolment required", "{method} {path}");
    }
    enrol(&portal, &admin).await;
    portal.get("/v1/admin/user", Some(&admin)).await.expect(200);
    portal
        .put(
            &format!("/v1/admin/user/{plain}"),
            Some(&admin),
            json!({"status": 1}),
        )
        .await
        .expect(200);
    // Role 1 is not covered by `admins`.
    let token = portal.login("plain", PASSWORD).await;
    portal.get("/v1/business", Some(&token)).await.expect(200);
    let policy = portal
        .call(
            Method::DELETE,
            "/v1/user/totp",
            Some(&admin),
            Some(json!({"password": ADMIN_PASSWORD, "code": "123456"})),
        )
        .await
        .expect(403);
    assert!(policy.message().starts_with("totp:"), "{}", policy.message());
    login_with(&portal, ADMIN, ADMIN_PASSWORD, None).await.expect(401);
    portal.delete("/v1/authorization", Some(&admin)).await.expect(200);
}

#[tokio::test]
async fn sessions_are_listed_kept_through_refreshes_and_ended_one_or_all_others() {
    let portal = TestPortal::start().await;
    portal.approved("sam", false).await;
    let mut tokens = Vec::new();
    for agent in ["Laptop Firefox", "Phone Safari", "CI curl"] {
        let reply = portal
            .client_request(Method::POST, "/v1/authorization")
            .header("User-Agent", agent)
            .json(&login_body("sam", PASSWORD, None))
            .send()
            .await
            .unwrap();
        let body: Value = reply.json().await.unwrap();
        tokens.push(body["token"].as_str().unwrap().to_owned());
    }
    let list = portal
        .get("/v1/user/sessions", Some(&tokens[0]))
        .await
        .expect(200);
    let sessions = list.body["data"].as_array().unwrap().clone();
    // The session `approved` logged in with, and these three.
    assert_eq!(sessions.len(), 4, "{sessions:?}");
    let current: Vec<&Value> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["userAgent"], "Laptop Firefox");
    assert_eq!(current[0]["ip"], "127.0.0.1");
    let phone = sessions
        .iter()
        .find(|s| s["userAgent"] == "Phone Safari")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // A refresh keeps the session.
    let refreshed = portal
        .put("/v1/authorization", Some(&tokens[1]), json!({}))
        .await
        .expect(200)
        .body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let list = portal
        .get("/v1/user/sessions", Some(&refreshed))
        .await
        .expect(200);
    let mine = list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()
        .clone();
    assert_eq!(mine["id"], json!(phone));

    // Ending the phone's session ends its refreshed token at once.
    portal
        .delete(&format!("/v1/user/sessions/{phone}"), Some(&tokens[0]))
        .await
        .expect(200);
    portal
        .get("/v1/authorization", Some(&refreshed))
        .await
        .expect(401);
    portal
        .delete(&format!("/v1/user/sessions/{phone}"), Some(&tokens[0]))
        .await
        .expect(404);
    portal
        .delete("/v1/user/sessions/not-a-session", Some(&tokens[0]))
        .await
        .expect(422);
    // Another user's session is not found.
    let (_, other) = portal.approved("other", false).await;
    let list = portal.get("/v1/user/sessions", Some(&other)).await.expect(200);
    let theirs = list.body["data"][0]["id"].as_str().unwrap().to_owned();
    portal
        .delete(&format!("/v1/user/sessions/{theirs}"), Some(&tokens[0]))
        .await
        .expect(404);
    portal.get("/v1/authorization", Some(&other)).await.expect(200);

    portal
        .delete("/v1/user/sessions", Some(&tokens[0]))
        .await
        .expect(200);
    portal
        .get("/v1/authorization", Some(&tokens[2]))
        .await
        .expect(401);
    portal
        .get("/v1/authorization", Some(&tokens[0]))
        .await
        .expect(200);
    let list = portal
        .get("/v1/user/sessions", Some(&tokens[0]))
        .await
        .expect(200);
    assert_eq!(list.body["data"].as_array().unwrap().len(), 1);
    // Logging out ends the session too.
    portal
        .delete("/v1/authorization", Some(&tokens[0]))
        .await
        .expect(200);
    let again = portal.login("sam", PASSWORD).await;
    let list = portal.get("/v1/user/sessions", Some(&again)).await.expect(200);
    assert_eq!(list.body["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn last_seen_is_written_at_most_once_per_interval() {
    for (interval, moves) in [("60", false), ("1", true)] {
        let portal = TestPortal::start_with(&[&format!("--seen-seconds={interval}")]).await;
        let (_, token) = portal.approved("seen", false).await;
        let first = portal
            .get("/v1/user/sessions", Some(&token))
            .await
            .expect(200)
            .body["data"][0]["lastSeenTime"]
            .as_i64()
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        portal.get("/v1/authorization", Some(&token)).await.expect(200);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let later = portal
            .get("/v1/user/sessions", Some(&token))
            .await
            .expect(200)
            .body["data"][0]["lastSeenTime"]
            .as_i64()
            .unwrap();
        assert_eq!(later > first, moves, "interval {interval}: {first} -> {later}");
    }
}

async fn create_token(portal: &TestPortal, token: &str, name: &str, scope: &str) -> String {
    let body = json!({"name": name, "expiresInDays": 30, "scope": scope});
    portal
        .post("/v1/user/tokens", Some(token), body)
        .await
        .expect(200)
        .body["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_personal_token_is_shown_once_kept_as_a_digest_and_acts_with_the_owners_current_role() {
    let portal = TestPortal::start().await;
    let (_, token) = portal.approved("pat", true).await;
    let created = portal
        .post(
            "/v1/user/tokens",
            Some(&token),
            json!({"name": "deploy", "expiresInDays": 7, "scope": "write"}),
        )
        .await
        .expect(200);
    let secret = created.body["data"]["token"].as_str().unwrap().to_owned();
    let id = created.body["data"]["id"].as_i64().unwrap();
    assert!(secret.starts_with("otep_") && secret.len() == 5 + 64, "{secret}");

    let list = portal.get("/v1/user/tokens", Some(&token)).await.expect(200);
    let listed = &list.body["data"][0];
    assert_eq!(listed["name"], "deploy");
    assert_eq!(listed["scope"], "write");
    assert_eq!(listed["lastUsedTime"], Value::Null);
    let days = listed["expireTime"].as_i64().unwrap() - listed["createTime"].as_i64().unwrap();
    assert_eq!(days, 7 * 86_400);
    assert!(
        !list.body.to_string().contains(&secret[5..]),
        "the list never shows the token"
    );

    // Only the digest is stored.
    let stored: Vec<String> = sqlx::query_scalar("SELECT digest FROM personal_tokens")
        .fetch_all(&portal.state.db.pool)
        .await
        .unwrap();
    use sha2::Digest;
    assert_eq!(stored, vec![hex::encode(sha2::Sha256::digest(secret.as_bytes()))]);

    for header in [secret.clone(), format!("Bearer {secret}")] {
        let me = portal.get("/v1/authorization", Some(&header)).await.expect(200);
        assert_eq!(me.body["data"]["displayName"], "pat");
        assert_eq!(me.body["data"]["role"], 1);
    }
    // Its caller is now kept under the digest; the digest itself is no credential.
    for header in [stored[0].clone(), format!("Bearer {}", stored[0])] {
        portal.get("/v1/authorization", Some(&header)).await.expect(401);
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let list = portal.get("/v1/user/tokens", Some(&token)).await.expect(200);
    assert!(
        list.body["data"][0]["lastUsedTime"].as_i64().is_some(),
        "{}",
        list.body
    );

    // The owner's business is approved: the token acts as a business admin at once.
    let body = json!({"name": "patco", "introduce": "i", "objective": "o", "scale": "1"});
    let business = portal
        .post("/v1/business", Some(&secret), body)
        .await
        .expect(200)
        .body["data"]["id"]
        .as_i64()
        .unwrap();
    let admin = portal.admin_token().await;
    portal
        .put(
            &format!("/v1/admin/business/{business}"),
            Some(&admin),
            json!({"status": 1, "comment": ""}),
        )
        .await
        .expect(200);
    assert_eq!(portal.role(&secret).await, 3);
    portal.get("/v1/admin/user", Some(&secret)).await.expect(200);

    portal
        .delete(&format!("/v1/user/tokens/{id}"), Some(&token))
        .await
        .expect(200);
    portal.get("/v1/authorization", Some(&secret)).await.expect(401);
    portal
        .delete(&format!("/v1/user/tokens/{id}"), Some(&token))
        .await
        .expect(404);
    portal
        .get("/v1/authorization", Some("otep_0000"))
        .await
        .expect(401);
}

#[tokio::test]
async fn token_fields_are_checked_at_their_limits() {
    let portal = TestPortal::start().await;
    let (_, token) = portal.approved("limits", false).await;
    let long = "n".repeat(64);
    for (body, accepted) in [
        (json!({"name": "a", "expiresInDays": 1, "scope": "read"}), true),
        (
            json!({"name": long, "expiresInDays": 365, "scope": "write"}),
            true,
        ),
        (json!({"name": "a", "expiresInDays": 30.0, "scope": "read"}), true),
        (json!({"name": "", "expiresInDays": 1, "scope": "read"}), false),
        (
            json!({"name": "n".repeat(65), "expiresInDays": 1, "scope": "read"}),
            false,
        ),
        (
            json!({"name": "a\u{7}b", "expiresInDays": 1, "scope": "read"}),
            false,
        ),
        (json!({"name": "a", "expiresInDays": 0, "scope": "read"}), false),
        (json!({"name": "a", "expiresInDays": 366, "scope": "read"}), false),
        (json!({"name": "a", "expiresInDays": 1.5, "scope": "read"}), false),
        (json!({"name": "a", "expiresInDays": "7", "scope": "read"}), false),
        (json!({"name": "a", "expiresInDays": 1, "scope": "admin"}), false),
        (json!({"name": "a", "expiresInDays": 1}), false),
    ] {
        let reply = portal.post("/v1/user/tokens", Some(&token), body.clone()).await;
        if accepted {
            reply.expect(200);
        } else {
            let reply = reply.expect(422);
            let field = reply.message().split(':').next().unwrap().to_owned();
            assert!(
                ["name", "expiresInDays", "scope"].contains(&field.as_str()),
                "{body}: {}",
                reply.message()
            );
        }
    }
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM personal_tokens")
        .fetch_one(&portal.state.db.pool)
        .await
        .unwrap();
    assert_eq!(count, 3, "refused bodies store nothing");
}

#[tokio::test]
async fn a_read_token_is_refused_on_every_writing_endpoint_and_no_token_manages_credentials() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    let read = create_token(&portal, &admin, "reader", "read").await;
    let write = create_token(&portal, &admin, "writer", "write").await;
    let doc = portal.get("/v1/openapi.json", None).await;
    let mut writing = 0;
    for (path, item) in doc.body["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            if ![Method::PUT, Method::POST, Method::DELETE, Method::PATCH].contains(&method) {
                continue;
            }
            if !path.starts_with("/v1/") {
                // The identity provider's OAuth endpoints take no portal token.
                continue;
            }
            let path = path
                .replace("{id}", "1")
                .replace("{clientId}", "0123456789abcdef01234567");
            if method == Method::POST && ["/v1/user", "/v1/authorization"].contains(&path.as_str()) {
                // Registration and login take no token at all.
                continue;
            }
            let reply = portal
                .call(method.clone(), &path, Some(&read), Some(json!({})))
                .await;
            assert_eq!(reply.status, 403, "{method} {path}: {}", reply.body);
            writing += 1;
        }
    }
    assert!(writing >= 15, "{writing} writing endpoints");
    let credentials = [
        (Method::PUT, "/v1/authorization"),
        (Method::DELETE, "/v1/authorization"),
        (Method::PUT, "/v1/user"),
        (Method::PUT, "/v1/admin/user/1/password"),
        (Method::POST, "/v1/user/totp"),
        (Method::PUT, "/v1/user/totp"),
        (Method::DELETE, "/v1/user/totp"),
        (Method::DELETE, "/v1/admin/user/1/totp"),
        (Method::GET, "/v1/user/sessions"),
        (Method::DELETE, "/v1/user/sessions"),
        (Method::POST, "/v1/oauth/authorize"),
        (Method::GET, "/v1/user/applications"),
        (
            Method::DELETE,
            "/v1/user/sessions/0123456789abcdef0123456789abcdef",
        ),
        (Method::GET, "/v1/user/tokens"),
        (Method::POST, "/v1/user/tokens"),
        (Method::DELETE, "/v1/user/tokens/1"),
    ];
    for (method, path) in credentials {
        let reply = portal
            .call(method.clone(), path, Some(&write), Some(json!({})))
            .await
            .expect(403);
        assert!(
            reply.message().contains("personal token"),
            "{method} {path}: {}",
            reply.message()
        );
    }
    // What they may do, they do.
    portal.get("/v1/admin/user", Some(&read)).await.expect(200);
    portal.get("/v1/authorization", Some(&read)).await.expect(200);
    let (id, _) = portal.approved("writ", false).await;
    portal
        .put(
            &format!("/v1/admin/user/{id}"),
            Some(&write),
            json!({"status": 3}),
        )
        .await
        .expect(200);
}

#[tokio::test]
async fn a_personal_token_dies_with_forbid_refusal_delete_and_admin_reset_but_not_own_change() {
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;

    let (id, token) = portal.approved("changer", false).await;
    let script = create_token(&portal, &token, "s", "write").await;
    let body = json!({"oldPassword": PASSWORD, "password": "Changed1pass"});
    portal.put("/v1/user", Some(&token), body).await.expect(200);
    portal.get("/v1/authorization", Some(&token)).await.expect(401);
    portal.get("/v1/authorization", Some(&script)).await.expect(200);
    portal
        .put(
            &format!("/v1/admin/user/{id}/password"),
            Some(&admin),
            json!({"password": "Reset1password"}),
        )
        .await
        .expect(200);
    portal.get("/v1/authorization", Some(&script)).await.expect(401);

    for status in [3, 2] {
        let name = format!("status{status}");
        let (id, token) = portal.approved(&name, false).await;
        let script = create_token(&portal, &token, "s", "read").await;
        portal.set_status(id, status).await;
        portal.get("/v1/authorization", Some(&script)).await.expect(401);
        // Approved again, the token stays dead.
        portal.set_status(id, 1).await;
        portal.get("/v1/authorization", Some(&script)).await.expect(401);
    }

    let (id, token) = portal.approved("goner", false).await;
    let script = create_token(&portal, &token, "s", "read").await;
    portal
        .delete(&format!("/v1/admin/user/{id}"), Some(&admin))
        .await
        .expect(200);
    portal.get("/v1/authorization", Some(&script)).await.expect(401);

    // Expiry (moved into the past rather than waited for).
    let (_, token) = portal.approved("expiry", false).await;
    let script = create_token(&portal, &token, "s", "read").await;
    sqlx::query("UPDATE personal_tokens SET expire_time = 1")
        .execute(&portal.state.db.pool)
        .await
        .unwrap();
    let expired = portal.get("/v1/authorization", Some(&script)).await.expect(401);
    assert!(expired.message().contains("expired"), "{}", expired.message());
    assert_eq!(
        portal.get("/v1/user/tokens", Some(&token)).await.expect(200).body["total"],
        0
    );
}
