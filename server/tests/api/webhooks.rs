//! SPEC.md section 10 over HTTP, with a real receiver on loopback: every delivery's
//! signature is verified by the `standardwebhooks` crate (an implementation independent of
//! the server's), retries keep their `webhook-id`, each endpoint hears events in commit
//! order, and a slow endpoint delays no other. Only 127.0.0.1 is ever called; 127.0.0.2
//! proves refusals.

use crate::common::TestPortal;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Settings every portal of these tests runs with: loopback only, fast retries.
pub(crate) const FAST: &[&str] = &[
    "--webhook-allowed-networks=127.0.0.1/32",
    "--webhook-retry-base-millis=50",
    "--webhook-retry-max-millis=200",
    "--webhook-poll-millis=50",
    "--webhook-timeout-millis=1000",
];

#[derive(Clone, Debug)]
pub(crate) struct Received {
    id: String,
    kind: String,
    at: Instant,
    body: Value,
}

/// A receiver: answers each request with the next scripted status (then 200), or hangs
/// for `hang` first; records what it got, after checking the signature.
#[derive(Clone)]
pub(crate) struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
    secret: Arc<Mutex<Option<String>>>,
    bad_signatures: Arc<Mutex<u32>>,
}

impl Receiver {
    pub(crate) async fn start(hang: Duration) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let receiver = Receiver {
            url,
            got: Arc::default(),
            script: Arc::default(),
            secret: Arc::default(),
            bad_signatures: Arc::default(),
        };
        let state = receiver.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let state = state.clone();
                async move {
                    if !hang.is_zero() {
                        tokio::time::sleep(hang).await;
                    }
                    // An endpoint subscribed to `webhook.*` gets its own creation's event,
                    // which may arrive before the test has read the secret from the answer.
                    let deadline = Instant::now() + Duration::from_secs(5);
                    let secret = loop {
                        let known = state.secret.lock().unwrap().clone();
                        match known {
                            Some(secret) => break secret,
                            None if Instant::now() < deadline => {
                                tokio::time::sleep(Duration::from_millis(10)).await
                            }
                            None => panic!("the test never set the secret"),
                        }
                    };
                    let verifier = standardwebhooks::Webhook::new(&secret).unwrap();
                    if verifier.verify(&body, &headers).is_err() {
                        *state.bad_signatures.lock().unwrap() += 1;
                        return StatusCode::UNAUTHORIZED;
                    }
                    let parsed: Value = serde_json::from_slice(&body).unwrap();
                    state.got.lock().unwrap().push(Received {
                        id: headers["webhook-id"].to_str().unwrap().to_owned(),
                        kind: parsed["type"].as_str().unwrap().to_owned(),
                        at: Instant::now(),
                        body: parsed,
                    });
                    let status = state.script.lock().unwrap().pop_front().unwrap_or(200);
                    StatusCode::from_u16(status).unwrap()
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        receiver
    }

    /// The next answers, before the 200s.
    pub(crate) fn answer_next(&self, statuses: &[u16]) {
        self.script.lock().unwrap().extend(statuses);
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    fn kinds(&self) -> Vec<String> {
        self.got().into_iter().map(|r| r.kind).collect()
    }

    /// Waits until `enough` holds of what was received (at most 10 s).
    pub(crate) async fn until(&self, enough: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = self.got();
            if enough(&got) || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Registers `receiver` for `events`; returns the endpoint's id.
pub(crate) async fn subscribe(portal: &TestPortal, receiver: &Receiver, events: Value) -> i64 {
    let admin = portal.admin_token().await;
    let body = json!({"url": receiver.url, "events": events, "description": "test receiver"});
    let created = portal
        .post("/v1/admin/webhooks", Some(&admin), body)
        .await
        .expect(200);
    let secret = created.body["data"]["secret"].as_str().unwrap().to_owned();
    *receiver.secret.lock().unwrap() = Some(secret);
    created.body["data"]["id"].as_i64().unwrap()
}

#[tokio::test]
async fn endpoints_are_managed_by_the_system_administrator_and_point_only_where_allowed() {
    let portal = TestPortal::start_with(FAST).await;
    let admin = portal.admin_token().await;
    let body = json!({"url": "http://127.0.0.1:9/hook", "events": ["business.*"], "description": "ns"});
    let created = portal
        .post("/v1/admin/webhooks", Some(&admin), body)
        .await
        .expect(200);
    let secret = created.body["data"]["secret"].as_str().unwrap();
    use base64::Engine;
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
        .unwrap();
    assert_eq!(key.len(), 32);
    let id = created.body["data"]["id"].as_i64().unwrap();
    let list = portal.get("/v1/admin/webhooks", Some(&admin)).await.expect(200);
    assert_eq!(list.body["data"][0]["events"], json!(["business.*"]));
    assert!(
        !list.body.to_string().contains(secret),
        "the secret is shown once"
    );

    // Anywhere but the allowed network is refused, naming the field.
    for url in [
        "http://127.0.0.2:9/hook",
        "http://[::1]:9/hook",
        "ftp://127.0.0.1/x",
        "http://",
    ] {
        let body = json!({"url": url, "events": ["*"]});
        let refused = portal
            .post("/v1/admin/webhooks", Some(&admin), body)
            .await
            .expect(422);
        assert!(
            refused.message().starts_with("url: "),
            "{url}: {}",
            refused.message()
        );
    }
    for events in [
        json!([]),
        json!(["nope"]),
        json!(["user.*.x"]),
        json!(["*", "USER.audit"]),
    ] {
        let body = json!({"url": "http://127.0.0.1:9/hook", "events": events});
        let refused = portal
            .post("/v1/admin/webhooks", Some(&admin), body)
            .await
            .expect(422);
        assert!(refused.message().starts_with("events"), "{}", refused.message());
    }
    let path = format!("/v1/admin/webhooks/{id}");
    portal
        .put(&path, Some(&admin), json!({"url": "http://127.0.0.2:9/x"}))
        .await
        .expect(422);
    portal
        .put(&path, Some(&admin), json!({"enabled": false, "events": ["*"]}))
        .await
        .expect(200);
    // Absent or null leaves a field as it is; an empty list is refused.
    let unchanged = json!({"events": null, "url": null});
    portal.put(&path, Some(&admin), unchanged).await.expect(200);
    portal
        .put(&path, Some(&admin), json!({"events": []}))
        .await
        .expect(422);
    let list = portal.get("/v1/admin/webhooks", Some(&admin)).await.expect(200);
    assert_eq!(
        (&list.body["data"][0]["enabled"], &list.body["data"][0]["events"]),
        (&json!(false), &json!(["*"]))
    );

    // Nobody else may see or touch them.
    let (_, _, boss) = portal.business_admin("hookboss", "hookshop").await;
    portal.get("/v1/admin/webhooks", Some(&boss)).await.expect(403);
    portal.delete(&path, Some(&boss)).await.expect(403);
    portal.delete(&path, Some(&admin)).await.expect(200);
    portal.delete(&path, Some(&admin)).await.expect(404);

    // By default (no allowed networks) loopback is refused too.
    let strict = TestPortal::start().await;
    let admin = strict.admin_token().await;
    let body = json!({"url": "http://127.0.0.1:9/hook", "events": ["*"]});
    let refused = strict
        .post("/v1/admin/webhooks", Some(&admin), body)
        .await
        .expect(422);
    assert!(refused.message().contains("loopback"), "{}", refused.message());
}

#[tokio::test]
async fn the_story_reaches_the_receiver_signed_in_commit_order() {
    let portal = TestPortal::start_with(FAST).await;
    let receiver = Receiver::start(Duration::ZERO).await;
    subscribe(&portal, &receiver, json!(["user.*", "business.*"])).await;
    let (_, business, _) = portal.business_admin("storyboss", "story-shop").await;
    let expected = ["user.register", "user.audit", "business.create", "business.audit"];
    let got = receiver.until(|got| got.len() >= expected.len()).await;
    assert_eq!(receiver.kinds(), expected);
    assert_eq!(*receiver.bad_signatures.lock().unwrap(), 0);
    // The business as the API shows it, with its audit entry.
    let last = &got[3].body;
    assert_eq!(last["data"]["business"]["id"], json!(business));
    assert_eq!(last["data"]["business"]["status"], json!(1));
    assert_eq!(last["data"]["auditEntry"]["action"], "business.audit");
    assert!(last["timestamp"].as_str().unwrap().ends_with('Z'));
    assert_eq!(got[0].body["data"]["user"]["user"], "storyboss");
    let ids: std::collections::HashSet<_> = got.iter().map(|r| r.id.clone()).collect();
    assert_eq!(ids.len(), 4, "one id per event");
}

#[tokio::test]
async fn a_failing_receiver_gets_the_same_event_again_until_it_answers_2xx() {
    let portal = TestPortal::start_with(FAST).await;
    let receiver = Receiver::start(Duration::ZERO).await;
    receiver.script.lock().unwrap().extend([500, 500, 500]);
    let hook = subscribe(&portal, &receiver, json!(["user.register"])).await;
    portal.register("retried", false).await;
    let got = receiver.until(|got| got.len() >= 4).await;
    assert_eq!(got.len(), 4, "three failures, then delivered");
    assert!(
        got.iter().all(|r| r.id == got[0].id),
        "one webhook-id for every attempt"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.got().len(), 4, "nothing more once delivered");
    let admin = portal.admin_token().await;
    let deliveries = portal
        .get(&format!("/v1/admin/webhooks/{hook}/deliveries"), Some(&admin))
        .await
        .expect(200);
    let delivery = &deliveries.body["data"][0];
    assert_eq!(
        (
            &delivery["status"],
            &delivery["attempts"],
            &delivery["lastStatusCode"]
        ),
        (&json!("delivered"), &json!(4), &json!(200))
    );
    assert_eq!(delivery["type"], "user.register");
}

#[tokio::test]
async fn a_later_event_waits_while_an_earlier_one_to_the_same_endpoint_is_retried() {
    let portal = TestPortal::start_with(FAST).await;
    let receiver = Receiver::start(Duration::ZERO).await;
    receiver.script.lock().unwrap().extend([503, 503]);
    subscribe(&portal, &receiver, json!(["user.register"])).await;
    for name in ["first", "second", "third"] {
        portal.register(name, false).await;
    }
    let got = receiver.until(|got| got.len() >= 5).await;
    let names: Vec<String> = got
        .iter()
        .map(|r| r.body["data"]["user"]["user"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["first", "first", "first", "second", "third"]);
}

#[tokio::test]
async fn a_hanging_endpoint_times_out_and_delays_no_other() {
    let portal = TestPortal::start_with(FAST).await;
    let slow = Receiver::start(Duration::from_secs(5)).await;
    let quick = Receiver::start(Duration::ZERO).await;
    let slow_id = subscribe(&portal, &slow, json!(["user.register"])).await;
    subscribe(&portal, &quick, json!(["user.register"])).await;
    let started = Instant::now();
    portal.register("patient", false).await;
    let got = quick.until(|got| !got.is_empty()).await;
    assert_eq!(got.len(), 1);
    assert!(
        got[0].at - started < Duration::from_millis(800),
        "took {:?}",
        got[0].at - started
    );
    // The slow one's attempt ends at the 1 s timeout and is written down as such.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let admin = portal.admin_token().await;
    let deliveries = portal
        .get(&format!("/v1/admin/webhooks/{slow_id}/deliveries"), Some(&admin))
        .await
        .expect(200);
    let error = deliveries.body["data"][0]["lastError"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(error.contains("timed out"), "{}", deliveries.body);
}

#[tokio::test]
async fn a_delivery_that_keeps_failing_is_failed_and_can_be_sent_again_by_hand() {
    let mut settings = FAST.to_vec();
    settings.push("--webhook-give-up-seconds=1");
    let portal = TestPortal::start_with(&settings).await;
    let receiver = Receiver::start(Duration::ZERO).await;
    receiver.script.lock().unwrap().extend([500; 200]);
    let hook = subscribe(&portal, &receiver, json!(["user.register"])).await;
    portal.register("doomed", false).await;
    let admin = portal.admin_token().await;
    let path = format!("/v1/admin/webhooks/{hook}/deliveries");
    let deadline = Instant::now() + Duration::from_secs(10);
    let delivery = loop {
        let list = portal.get(&path, Some(&admin)).await.expect(200);
        let delivery = list.body["data"][0].clone();
        if delivery["status"] == "failed" || Instant::now() > deadline {
            break delivery;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(delivery["status"], "failed", "{delivery}");
    assert!(
        delivery["lastError"].as_str().unwrap().starts_with("HTTP 500"),
        "{delivery}"
    );
    let retry = format!("{path}/{}/retry", delivery["id"]);
    receiver.script.lock().unwrap().clear();
    let attempts = receiver.got().len();
    portal.post(&retry, Some(&admin), json!({})).await.expect(200);
    receiver.until(|got| got.len() > attempts).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let list = portal.get(&path, Some(&admin)).await.expect(200);
    assert_eq!(list.body["data"][0]["status"], "delivered");
    portal.post(&retry, Some(&admin), json!({})).await.expect(409);
}

#[tokio::test]
async fn with_the_proxy_variables_set_deliveries_still_go_straight_to_the_endpoint() {
    // A listener standing in for a proxy: it must never be asked anything.
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let asked = Arc::new(Mutex::new(0u32));
    let counted = asked.clone();
    tokio::spawn(async move {
        while let Ok((connection, _)) = proxy.accept().await {
            *counted.lock().unwrap() += 1;
            drop(connection);
        }
    });
    let mut env: Vec<(&str, &str)> = [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "all_proxy",
    ]
    .into_iter()
    .map(|name| (name, proxy_url.as_str()))
    .collect();
    env.extend([
        ("OTE_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.1/32"),
        ("OTE_WEBHOOK_POLL_MILLIS", "50"),
        ("NO_PROXY", ""),
    ]);
    let portal = crate::common::BinaryPortal::start(&env);
    let receiver = Receiver::start(Duration::ZERO).await;
    let admin = portal
        .login(crate::common::ADMIN, crate::common::ADMIN_PASSWORD)
        .await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let created: Value = client
        .post(format!("{}/v1/admin/webhooks", portal.url))
        .header("authorization", &admin)
        .json(&json!({"url": receiver.url, "events": ["user.register"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    *receiver.secret.lock().unwrap() = Some(created["data"]["secret"].as_str().unwrap().to_owned());
    let user = json!({"user": "direct", "password": crate::common::PASSWORD, "phone": crate::common::unique_phone(),
        "realName": "D", "isAdmin": false});
    let registered = client
        .post(format!("{}/v1/user", portal.url))
        .json(&user)
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 200);
    let got = receiver.until(|got| !got.is_empty()).await;
    assert_eq!(got.len(), 1, "the endpoint got the event");
    assert_eq!(*asked.lock().unwrap(), 0, "the proxy was asked");
    let log = portal.log();
    assert!(
        !log.iter().any(|line| line.contains(&receiver.url)),
        "the endpoint's URL in the log"
    );
}

#[tokio::test]
async fn a_fast_endpoint_gets_each_event_within_a_second_while_another_hangs() {
    let mut flags: Vec<&str> = FAST
        .iter()
        .copied()
        .filter(|f| !f.starts_with("--webhook-timeout"))
        .collect();
    flags.push("--webhook-timeout-millis=4000");
    let portal = TestPortal::start_with(&flags).await;
    let hanging = Receiver::start(Duration::from_secs(30)).await;
    let quick = Receiver::start(Duration::ZERO).await;
    subscribe(&portal, &hanging, json!(["user.register"])).await;
    subscribe(&portal, &quick, json!(["user.register"])).await;
    for (n, name) in ["first", "second", "third"].into_iter().enumerate() {
        let started = Instant::now();
        portal.register(name, false).await;
        let got = quick.until(|got| got.len() > n).await;
        assert_eq!(got.len(), n + 1, "event {name} arrived");
        let took = got[n].at - started;
        assert!(took < Duration::from_secs(1), "event {name} took {took:?}");
    }
}

#[tokio::test]
async fn urls_show_scheme_host_and_port_only_outside_the_endpoint_itself() {
    let portal = TestPortal::start_with(FAST).await;
    let receiver = Receiver::start(Duration::ZERO).await;
    subscribe(&portal, &receiver, json!(["webhook.*"])).await;
    let admin = portal.admin_token().await;
    // Port 9 (discard): nothing listens, so every attempt fails and is written down.
    let secret_url = "http://127.0.0.1:9/hook/S3CRETPATH?token=T0KENVALUE";
    let created = portal
        .post(
            "/v1/admin/webhooks",
            Some(&admin),
            json!({"url": secret_url, "events": ["user.*"]}),
        )
        .await
        .expect(200);
    let id = created.body["data"]["id"].as_i64().unwrap();
    portal.register("trigger", false).await;
    let events = receiver.until(|got| !got.is_empty()).await;
    let deliveries = async || {
        portal
            .get(&format!("/v1/admin/webhooks/{id}/deliveries"), Some(&admin))
            .await
            .expect(200)
            .body
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut attempted = deliveries().await;
    while attempted["data"][0]["lastError"].is_null() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        attempted = deliveries().await;
    }
    assert!(!attempted["data"][0]["lastError"].is_null(), "{attempted}");
    let audit = portal
        .get("/v1/admin/audit?action=webhook.*", Some(&admin))
        .await
        .expect(200);
    let seen = [
        audit.body.to_string(),
        json!(events.iter().map(|e| &e.body).collect::<Vec<_>>()).to_string(),
        attempted.to_string(),
    ];
    for text in seen {
        assert!(
            !text.contains("S3CRETPATH") && !text.contains("T0KENVALUE"),
            "{text}"
        );
    }
    assert!(
        audit.body.to_string().contains("http://127.0.0.1:9"),
        "{}",
        audit.body
    );
    // The endpoint itself still shows its whole URL to the system administrator.
    let listed = portal.get("/v1/admin/webhooks", Some(&admin)).await.expect(200);
    assert!(listed.body.to_string().contains("S3CRETPATH"));
}

#[tokio::test]
async fn ipv6_addresses_carrying_inside_ipv4_addresses_are_refused() {
    // The public-address rule (no allowed networks): nothing is ever connected to here,
    // every URL is an address literal.
    let portal = TestPortal::start().await;
    let admin = portal.admin_token().await;
    for url in [
        "http://[64:ff9b::a00:5]/",
        "http://[64:ff9b:1::a00:5]/",
        "http://[::a00:5]/",
        "http://[2002:a00:5::1]/",
        "http://[fec0::1]/",
        "http://198.18.0.1/",
        "http://240.0.0.1/",
        "http://192.0.0.8/",
    ] {
        let refused = portal
            .post(
                "/v1/admin/webhooks",
                Some(&admin),
                json!({"url": url, "events": ["*"]}),
            )
            .await
            .expect(422);
        assert!(
            refused.message().starts_with("url: "),
            "{url}: {}",
            refused.message()
        );
    }
}
