//! The portal as processes: two server processes on one PostgreSQL database behave as one
//! portal (sessions, throttling, webhook deliveries), a portal rides out the loss of its
//! database, and one killed with SIGKILL at random moments loses no acknowledged event, on
//! SQLite and on PostgreSQL. The PostgreSQL ones need a server (`OTE_TEST_POSTGRES_URL`, and
//! `OTE_TEST_PG_BIN` for the outage test): `./x test` starts a private cluster and runs
//! them with `--include-ignored`.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ADMIN_PASSWORD: &str = "Replica1admin";
const PASSWORD: &str = "Passw0rdX";
const NEEDS_POSTGRES: &str = "needs OTE_TEST_POSTGRES_URL; ./x test provides it";

fn server_url() -> String {
    std::env::var("OTE_TEST_POSTGRES_URL").expect(NEEDS_POSTGRES)
}

/// A new, empty database on the test server; returns its URL.
async fn fresh_database() -> String {
    let server = server_url();
    let name = format!("ote_replica_{:x}", rand_u64());
    let mut conn = sqlx::PgConnection::connect(&server)
        .await
        .expect("test PostgreSQL server");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let (base, _) = server.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

/// One `ote-portal` process; killed when dropped.
struct Replica {
    child: Child,
    url: String,
}

impl Replica {
    /// Starts the binary and waits for its "listening on" line.
    fn start(database_url: &str) -> Self {
        Self::start_with(database_url, &[])
    }

    /// The same, with more settings.
    fn start_with(database_url: &str, settings: &[(&str, &str)]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ote-portal"))
            .envs(settings.iter().copied())
            .env("DATABASE_URL", database_url)
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .env("OTE_ADMIN_PASSWORD", ADMIN_PASSWORD)
            // Every request comes from 127.0.0.1 here; the per-address limit has tests of its own.
            .env("OTE_RATE_PASSWORD_PER_MINUTE", "0")
            // Webhooks reach the tests' receivers on 127.0.0.1 and nothing else; fast retries.
            .env("OTE_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.1/32")
            .env("OTE_WEBHOOK_RETRY_BASE_MILLIS", "50")
            .env("OTE_WEBHOOK_RETRY_MAX_MILLIS", "500")
            .env("OTE_WEBHOOK_POLL_MILLIS", "50")
            // A delivery taken by a killed process is free again after twice this and 5 s.
            .env("OTE_WEBHOOK_TIMEOUT_MILLIS", "1000")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the binary starts");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let line = lines.next().expect("the replica reports its address").unwrap();
            if let Some(at) = line.find("listening on ") {
                break line[at + "listening on ".len()..].trim().to_owned();
            }
        };
        // Keep draining the log so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self { child, url }
    }
}

impl Replica {
    /// SIGKILL: no shutdown, no flushing, as a crash or the OOM killer would end it.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn call(
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(token) = token {
        request = request.header("Authorization", token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the replica answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn login(replica: &Replica, user: &str, password: &str) -> (StatusCode, Value) {
    let body = json!({"user": user, "password": password});
    call(
        reqwest::Method::POST,
        format!("{}/v1/authorization", replica.url),
        None,
        Some(body),
    )
    .await
}

#[tokio::test]
#[ignore = "needs OTE_TEST_POSTGRES_URL; ./x test provides it"]
async fn a_token_from_one_replica_works_on_the_other_until_logout_on_either() {
    let database = fresh_database().await;
    let (a, b) = (Replica::start(&database), Replica::start(&database));
    let (status, body) = login(&a, "admin", ADMIN_PASSWORD).await;
    assert_eq!(status, 200);
    let token = body["token"].as_str().unwrap().to_owned();
    let (status, _) = call(
        reqwest::Method::GET,
        format!("{}/v1/authorization", b.url),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200, "replica B accepts replica A's token");
    let (status, _) = call(
        reqwest::Method::DELETE,
        format!("{}/v1/authorization", a.url),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let on_b = format!("{}/v1/authorization", b.url);
    refused_within(NOTIFIED, || {
        call(reqwest::Method::GET, on_b.clone(), Some(&token), None)
    })
    .await;
}

/// How soon a replica refuses a credential another replica ended: the time PostgreSQL
/// takes to deliver the writer's notification, with room for a loaded test machine. The
/// replicas of these tests keep callers for 30 s (`KEEP_CALLERS`), so only the
/// notification can make a refusal this quick.
const NOTIFIED: Duration = Duration::from_millis(500);
const KEEP_CALLERS: (&str, &str) = ("OTE_CALLER_CACHE_MILLIS", "30000");

/// Sends `probe` until it answers 401; fails if that takes longer than `bound` (or if it
/// answers anything but 200 or 401 meanwhile). Returns how long it took.
async fn refused_within<F, Fut>(bound: Duration, probe: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = (StatusCode, Value)>,
{
    let begun = Instant::now();
    loop {
        let (status, body) = probe().await;
        let waited = begun.elapsed();
        match status.as_u16() {
            401 => return waited,
            200 => assert!(
                waited < bound,
                "still accepted {} ms after it was ended elsewhere (bound {} ms)",
                waited.as_millis(),
                bound.as_millis()
            ),
            _ => panic!("unexpected {status}: {body}"),
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test]
#[ignore = "needs OTE_TEST_POSTGRES_URL; ./x test provides it"]
async fn logout_forbid_reset_and_session_end_on_a_are_refused_on_b_within_500_ms_though_b_keeps_callers_30_s()
{
    use reqwest::Method;
    let database = fresh_database().await;
    let a = Replica::start_with(&database, &[KEEP_CALLERS]);
    let b = Replica::start_with(&database, &[KEEP_CALLERS]);
    let admin = login(&a, "admin", ADMIN_PASSWORD).await.1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let on = |replica: &Replica, path: &str| format!("{}{path}", replica.url);
    // A user of its own for each action, signed in on A, seen (and kept) by B.
    let mut waits = Vec::new();
    for (i, action) in ["logout", "forbid", "password reset", "session end"]
        .into_iter()
        .enumerate()
    {
        let name = format!("victim{i}");
        let body = json!({"user": name, "password": PASSWORD, "phone": format!("+8613700000{i:03}"), "realName": "Victim", "isAdmin": false});
        let (status, created) = call(Method::POST, on(&a, "/v1/user"), None, Some(body)).await;
        assert_eq!(status, 200, "{created}");
        let id = created["data"]["id"].as_i64().unwrap();
        let path = format!("/v1/admin/user/{id}");
        let approve = json!({"status": 1});
        assert_eq!(
            call(Method::PUT, on(&a, &path), Some(&admin), Some(approve))
                .await
                .0,
            200
        );
        let token = login(&a, &name, PASSWORD).await.1["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let second = login(&a, &name, PASSWORD).await.1["token"]
            .as_str()
            .unwrap()
            .to_owned();
        for _ in 0..3 {
            let (status, _) = call(Method::GET, on(&b, "/v1/authorization"), Some(&token), None).await;
            assert_eq!(status, 200);
        }
        let (status, body) = match action {
            "logout" => call(Method::DELETE, on(&a, "/v1/authorization"), Some(&token), None).await,
            "forbid" => {
                call(
                    Method::PUT,
                    on(&a, &path),
                    Some(&admin),
                    Some(json!({"status": 3})),
                )
                .await
            }
            "password reset" => {
                let reset = json!({"password": "Another1pass"});
                call(
                    Method::PUT,
                    on(&a, &format!("{path}/password")),
                    Some(&admin),
                    Some(reset),
                )
                .await
            }
            _ => {
                // The user's second session (on A) ends the first one.
                let (_, sessions) = call(Method::GET, on(&a, "/v1/user/sessions"), Some(&second), None).await;
                let first = sessions["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|s| s["current"] == false)
                    .unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                call(
                    Method::DELETE,
                    on(&a, &format!("/v1/user/sessions/{first}")),
                    Some(&second),
                    None,
                )
                .await
            }
        };
        assert_eq!(status, 200, "{action}: {body}");
        let waited = refused_within(NOTIFIED, || {
            call(Method::GET, on(&b, "/v1/authorization"), Some(&token), None)
        })
        .await;
        waits.push(format!("{action}: {} ms", waited.as_millis()));
    }
    println!("refused on B after: {}", waits.join(", "));
}

#[tokio::test]
#[ignore = "needs OTE_TEST_POSTGRES_URL; ./x test provides it"]
async fn a_killed_notification_connection_turns_the_cache_off_until_it_listens_again() {
    use reqwest::Method;
    let database = fresh_database().await;
    let a = Replica::start_with(&database, &[KEEP_CALLERS]);
    let b = Replica::start_with(&database, &[KEEP_CALLERS]);
    let on = |replica: &Replica, path: &str| format!("{}{path}", replica.url);
    let mut db = sqlx::PgConnection::connect(&database).await.unwrap();
    let listeners = "SELECT pid FROM pg_stat_activity WHERE application_name = 'ote-portal-listener'                      AND datname = current_database()";
    // Both replicas listen.
    let deadline = Instant::now() + Duration::from_secs(10);
    while sqlx::query_scalar::<_, i32>(listeners)
        .fetch_all(&mut db)
        .await
        .unwrap()
        .len()
        < 2
    {
        assert!(Instant::now() < deadline, "the replicas never listened");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for round in 0..3 {
        let token = login(&a, "admin", ADMIN_PASSWORD).await.1["token"]
            .as_str()
            .unwrap()
            .to_owned();
        for _ in 0..3 {
            assert_eq!(
                call(Method::GET, on(&b, "/v1/authorization"), Some(&token), None)
                    .await
                    .0,
                200
            );
        }
        // Every listening connection is killed, then the token is ended on A at once: B
        // must not answer from its cache, whether or not it has listened again.
        let kill = format!("SELECT pg_terminate_backend(pid) FROM ({listeners}) AS l");
        let killed: Vec<bool> = sqlx::query_scalar(sqlx::AssertSqlSafe(kill))
            .fetch_all(&mut db)
            .await
            .unwrap();
        assert_eq!(killed.len(), 2, "round {round}");
        assert_eq!(
            call(Method::DELETE, on(&a, "/v1/authorization"), Some(&token), None)
                .await
                .0,
            200
        );
        refused_within(NOTIFIED, || {
            call(Method::GET, on(&b, "/v1/authorization"), Some(&token), None)
        })
        .await;
        // Both listen again (the cache comes back on).
        let deadline = Instant::now() + Duration::from_secs(10);
        while sqlx::query_scalar::<_, i32>(listeners)
            .fetch_all(&mut db)
            .await
            .unwrap()
            .len()
            < 2
        {
            assert!(
                Instant::now() < deadline,
                "round {round}: the replicas did not listen again"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test]
#[ignore = "needs OTE_TEST_POSTGRES_URL; ./x test provides it"]
async fn an_ended_session_and_a_revoked_personal_token_are_refused_on_the_other_replica_within_500_ms() {
    use reqwest::Method;
    let database = fresh_database().await;
    let (a, b) = (Replica::start(&database), Replica::start(&database));
    let token = |body: Value| body["token"].as_str().unwrap().to_owned();
    let laptop = token(login(&a, "admin", ADMIN_PASSWORD).await.1);
    let phone = token(login(&b, "admin", ADMIN_PASSWORD).await.1);
    let on = |replica: &Replica, path: &str| format!("{}{path}", replica.url);
    assert_eq!(
        call(Method::GET, on(&b, "/v1/authorization"), Some(&laptop), None)
            .await
            .0,
        200
    );

    // The phone (on B) ends the laptop's session; A refuses the laptop's next request.
    let (_, sessions) = call(Method::GET, on(&b, "/v1/user/sessions"), Some(&phone), None).await;
    let other = sessions["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .expect("the laptop's session")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/user/sessions/{other}");
    assert_eq!(
        call(Method::DELETE, on(&b, &path), Some(&phone), None).await.0,
        200
    );
    refused_within(NOTIFIED, || {
        call(Method::GET, on(&a, "/v1/authorization"), Some(&laptop), None)
    })
    .await;

    // A personal token made on A, used on B, revoked on A: B refuses it at once.
    let body = json!({"name": "ci", "expiresInDays": 1, "scope": "read"});
    let (_, created) = call(Method::POST, on(&a, "/v1/user/tokens"), Some(&phone), Some(body)).await;
    let personal = created["data"]["token"].as_str().unwrap().to_owned();
    let id = created["data"]["id"].as_i64().unwrap();
    assert_eq!(
        call(Method::GET, on(&b, "/v1/admin/user"), Some(&personal), None)
            .await
            .0,
        200
    );
    let path = format!("/v1/user/tokens/{id}");
    assert_eq!(
        call(Method::DELETE, on(&a, &path), Some(&phone), None).await.0,
        200
    );
    refused_within(NOTIFIED, || {
        call(Method::GET, on(&b, "/v1/admin/user"), Some(&personal), None)
    })
    .await;
}

#[tokio::test]
#[ignore = "needs OTE_TEST_POSTGRES_URL; ./x test provides it"]
async fn failed_logins_on_both_replicas_count_toward_one_throttle() {
    let database = fresh_database().await;
    let (a, b) = (Replica::start(&database), Replica::start(&database));
    for i in 0..5 {
        let replica = if i % 2 == 0 { &a } else { &b };
        assert_eq!(login(replica, "admin", "Wrong1pass").await.0, 401);
    }
    for replica in [&a, &b] {
        let (status, body) = login(replica, "admin", ADMIN_PASSWORD).await;
        assert_eq!(status, 429, "{body}");
    }
}

#[tokio::test]
#[ignore = "needs OTE_TEST_POSTGRES_URL; ./x test provides it"]
async fn of_50_or_200_simultaneous_guesses_spread_over_both_replicas_at_most_5_are_checked() {
    let database = fresh_database().await;
    let (a, b) = (Replica::start(&database), Replica::start(&database));
    let client = reqwest::Client::new();
    for (n, name) in [(50, "admin"), (200, "nobody-at-all")] {
        let guesses = (0..n).map(|i| {
            let base = if i % 2 == 0 { &a.url } else { &b.url };
            let request = client
                .post(format!("{base}/v1/authorization"))
                .json(&json!({"user": name, "password": format!("Wrong{i}pass")}));
            async move {
                request
                    .send()
                    .await
                    .expect("the replica answers")
                    .status()
                    .as_u16()
            }
        });
        let statuses = futures::future::join_all(guesses).await;
        let checked = statuses.iter().filter(|s| **s == 401).count();
        let refused = statuses.iter().filter(|s| **s == 429).count();
        assert!(
            checked <= 5,
            "{checked} of {n} guesses were checked: {statuses:?}"
        );
        assert_eq!(checked + refused, n, "{statuses:?}");
    }
    for replica in [&a, &b] {
        assert_eq!(login(replica, "admin", ADMIN_PASSWORD).await.0, 429);
    }
}

#[tokio::test]
#[ignore = "needs OTE_TEST_POSTGRES_URL; ./x test provides it"]
async fn fifty_simultaneous_registrations_of_one_name_over_both_replicas_let_one_through() {
    let database = fresh_database().await;
    let (a, b) = (Replica::start(&database), Replica::start(&database));
    let attempts = (0..50).map(|i| {
        let base = if i % 2 == 0 { &a.url } else { &b.url };
        let body = json!({"user": "contested", "password": PASSWORD, "phone": format!("+86139{i:08}"),
                          "realName": "C", "isAdmin": false});
        call(reqwest::Method::POST, format!("{base}/v1/user"), None, Some(body))
    });
    let statuses: Vec<u16> = futures::future::join_all(attempts)
        .await
        .iter()
        .map(|(s, _)| s.as_u16())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 49, "{statuses:?}");
}

#[tokio::test]
#[ignore = "needs OTE_TEST_POSTGRES_URL; ./x test provides it"]
async fn two_replicas_starting_at_once_on_an_empty_database_make_one_admin_and_one_secret() {
    let database = fresh_database().await;
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| Replica::start(&database));
        let b = scope.spawn(|| Replica::start(&database));
        (a.join().unwrap(), b.join().unwrap())
    });
    let mut conn = sqlx::PgConnection::connect(&database).await.unwrap();
    let admins: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE is_system_admin = 1")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let secrets: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM settings WHERE key = 'jwt_secret'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!((admins, secrets), (1, 1));
    // And both sign with that one secret.
    let token = login(&b, "admin", ADMIN_PASSWORD).await.1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = call(
        reqwest::Method::GET,
        format!("{}/v1/authorization", a.url),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200);
}

/// A PostgreSQL cluster of this test's own, so it can be stopped and started again.
struct Cluster {
    dir: tempfile::TempDir,
    port: u16,
    bin: String,
}

impl Cluster {
    fn pg(&self, tool: &str) -> Command {
        let path = format!("{}/{tool}", self.bin);
        // initdb and postgres refuse to run as root; the Debian package made this user.
        if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--", &path]);
            command
        } else {
            Command::new(path)
        }
    }

    fn create() -> Self {
        let bin = std::env::var("OTE_TEST_PG_BIN").expect("OTE_TEST_PG_BIN: PostgreSQL's bin folder");
        let dir = tempfile::tempdir().unwrap();
        if is_root() {
            assert!(
                Command::new("chown")
                    .arg("postgres")
                    .arg(dir.path())
                    .status()
                    .unwrap()
                    .success()
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Self { dir, port, bin };
        let data = cluster.dir.path().join("data");
        let status = cluster
            .pg("initdb")
            .args(["-U", "ote", "--auth=trust", "-D"])
            .arg(&data)
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&status.stderr)
        );
        cluster.start();
        cluster
    }

    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let status = self
            .pg("pg_ctl")
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .arg("-l")
            .arg(self.dir.path().join("log"))
            .args(["-w", "-o", &options, "start"])
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "pg_ctl start: {}",
            String::from_utf8_lossy(&status.stderr)
        );
    }

    fn stop(&self) {
        let status = self
            .pg("pg_ctl")
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "stop"])
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "pg_ctl stop: {}",
            String::from_utf8_lossy(&status.stderr)
        );
    }

    fn url(&self) -> String {
        format!("postgres://ote@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .pg("pg_ctl")
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

#[tokio::test]
#[ignore = "needs OTE_TEST_PG_BIN; ./x test provides it"]
async fn a_lost_database_gives_503s_that_show_nothing_and_the_portal_recovers_when_it_returns() {
    let cluster = Cluster::create();
    let replica = Replica::start(&cluster.url());
    let token = login(&replica, "admin", ADMIN_PASSWORD).await.1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = format!("{}/v1/authorization", replica.url);

    cluster.stop();
    // 503 (a proxy asks another replica, a client retries), and nothing internal leaks.
    let (status, body) = call(reqwest::Method::GET, me.clone(), Some(&token), None).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        body,
        json!({"code": 503, "message": "database: unreachable; try again"}),
        "nothing internal leaks"
    );
    // Not ready (a load balancer takes it out), but alive (nothing restarts it).
    let (status, _) = call(
        reqwest::Method::GET,
        format!("{}/readyz", replica.url),
        None,
        None,
    )
    .await;
    assert_eq!(status, 503);
    let (status, _) = call(
        reqwest::Method::GET,
        format!("{}/healthz", replica.url),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);

    cluster.start();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _) = call(reqwest::Method::GET, me.clone(), Some(&token), None).await;
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the portal did not recover within 30 s (last status {status})"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let (status, _) = call(
        reqwest::Method::GET,
        format!("{}/readyz", replica.url),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);
}

/// A webhook receiver on 127.0.0.1 for the process tests: records each request's
/// `webhook-id`, its body, and whether another request with the same id was in flight.
#[derive(Clone, Default)]
struct Receiver {
    got: std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>,
    in_flight: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, u32>>>,
    overlaps: std::sync::Arc<std::sync::atomic::AtomicU32>,
}

impl Receiver {
    /// Starts it; each answer (200) comes after `delay`. Returns it and its URL.
    async fn start(delay: Duration) -> (Self, String) {
        let receiver = Receiver::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let state = receiver.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let state = state.clone();
                async move {
                    let id = headers["webhook-id"].to_str().unwrap().to_owned();
                    {
                        let mut in_flight = state.in_flight.lock().unwrap();
                        let count = in_flight.entry(id.clone()).or_default();
                        if *count > 0 {
                            state.overlaps.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        *count += 1;
                    }
                    tokio::time::sleep(delay).await;
                    let parsed: Value = serde_json::from_slice(&body).unwrap();
                    state.got.lock().unwrap().push((id.clone(), parsed));
                    *state.in_flight.lock().unwrap().get_mut(&id).unwrap() -= 1;
                    axum::http::StatusCode::OK
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }

    /// The names of the users whose registration arrived, in order of arrival.
    fn registered(&self) -> Vec<String> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, body)| body["type"] == "user.register")
            .map(|(_, body)| body["data"]["user"]["user"].as_str().unwrap().to_owned())
            .collect()
    }

    async fn until_all(&self, names: &[String]) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.registered();
            if names.iter().all(|n| got.contains(n)) || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The system administrator subscribes `url` to every registration.
async fn subscribe(replica: &Replica, url: &str) {
    let (_, body) = login(replica, "admin", ADMIN_PASSWORD).await;
    let token = body["token"].as_str().unwrap().to_owned();
    let (status, body) = call(
        reqwest::Method::POST,
        format!("{}/v1/admin/webhooks", replica.url),
        Some(&token),
        Some(json!({"url": url, "events": ["user.register"]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

async fn register(replica_url: &str, name: &str, phone: u64) -> bool {
    let body = json!({"user": name, "password": PASSWORD, "phone": format!("+86{phone}"), "realName": name, "isAdmin": false});
    let request = reqwest::Client::new()
        .post(format!("{replica_url}/v1/user"))
        .timeout(Duration::from_secs(5))
        .json(&body);
    match request.send().await {
        Ok(response) if response.status() == 200 => true,
        Ok(response) => panic!(
            "registering {name}: {} {}",
            response.status(),
            response.text().await.unwrap_or_default()
        ),
        // The portal was killed (or is down): not acknowledged.
        Err(err) => {
            eprintln!("registering {name}: {err}");
            false
        }
    }
}

#[tokio::test]
#[ignore = "needs OTE_TEST_POSTGRES_URL; ./x test provides it"]
async fn two_replicas_deliver_every_event_one_sender_at_a_time_in_commit_order() {
    let database = fresh_database().await;
    let (a, b) = (Replica::start(&database), Replica::start(&database));
    // Each answer takes a while, so two senders of one delivery would overlap.
    let (receiver, url) = Receiver::start(Duration::from_millis(30)).await;
    subscribe(&a, &url).await;
    let replicas = [a.url.clone(), b.url.clone()];
    let names: Vec<String> = (0..40).map(|i| format!("pair{i}")).collect();
    let registrations = names.iter().enumerate().map(|(i, name)| {
        let replica = replicas[i % 2].clone();
        async move {
            assert!(
                register(&replica, name, 13_900_000_000 + i as u64).await,
                "{name}"
            )
        }
    });
    futures::future::join_all(registrations).await;
    let got = receiver.until_all(&names).await;
    for name in &names {
        assert!(got.contains(name), "{name} never arrived: {got:?}");
    }
    assert_eq!(
        receiver.overlaps.load(std::sync::atomic::Ordering::Relaxed),
        0,
        "a delivery was sent twice at once"
    );
    // Commit order is id order; the endpoint heard them in that order.
    let ids: Vec<i64> = receiver
        .got
        .lock()
        .unwrap()
        .iter()
        .map(|(id, _)| id.trim_start_matches("evt_").parse().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    let mut first_seen = ids.clone();
    first_seen.dedup();
    assert_eq!(first_seen, sorted, "events out of commit order");
}

/// Kills the portal (SIGKILL) at random moments while a client registers users, restarts
/// it on the same database, and checks that every registration the API acknowledged
/// reaches the receiver.
async fn kill_and_restart(database: &str) {
    let (receiver, url) = Receiver::start(Duration::ZERO).await;
    let mut replica = Replica::start(database);
    subscribe(&replica, &url).await;
    let mut acknowledged = Vec::new();
    let mut phone = 13_700_000_000u64;
    for round in 0..5 {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let count = std::sync::Arc::new(AtomicUsize::new(0));
        let client = {
            let (base, stop, count) = (replica.url.clone(), stop.clone(), count.clone());
            tokio::spawn(async move {
                let mut done = Vec::new();
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let name = format!("k{round}x{i}");
                    if register(&base, &name, phone + i).await {
                        done.push(name);
                        count.fetch_add(1, Ordering::Relaxed);
                    } else {
                        break;
                    }
                }
                done
            })
        };
        // Once the client is under way, the kill comes at a random moment of its work.
        let deadline = Instant::now() + Duration::from_secs(30);
        while count.load(Ordering::Relaxed) == 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(rand_u64() % 700)).await;
        replica.kill();
        stop.store(true, Ordering::Relaxed);
        let done = client.await.unwrap();
        phone += 10_000;
        assert!(
            !done.is_empty(),
            "round {round}: nothing was registered before the kill"
        );
        acknowledged.extend(done);
        replica = Replica::start(database);
    }
    let got = receiver.until_all(&acknowledged).await;
    let lost: Vec<&String> = acknowledged.iter().filter(|n| !got.contains(n)).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged registrations never arrived: {lost:?}",
        lost.len(),
        acknowledged.len()
    );
}

#[tokio::test]
async fn killed_at_random_moments_on_sqlite_no_acknowledged_event_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    kill_and_restart(&format!("sqlite://{}/ote.db", dir.path().display())).await;
}

#[tokio::test]
#[ignore = "needs OTE_TEST_POSTGRES_URL; ./x test provides it"]
async fn killed_at_random_moments_on_postgres_no_acknowledged_event_is_lost() {
    kill_and_restart(&fresh_database().await).await;
}

/// A form post to the identity provider's token endpoint.
async fn token_request(base: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/oauth/token"))
        .form(form)
        .send()
        .await
        .expect("the replica answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
#[ignore = "needs OTE_TEST_POSTGRES_URL; ./x test provides it"]
async fn codes_and_refresh_tokens_are_good_once_across_two_replicas() {
    let database = fresh_database().await;
    let (a, b) = (Replica::start(&database), Replica::start(&database));
    let (_, body) = login(&a, "admin", ADMIN_PASSWORD).await;
    let admin = body["token"].as_str().unwrap().to_owned();
    let redirect = "http://127.0.0.1:9/callback";
    let (status, body) = call(
        reqwest::Method::POST,
        format!("{}/v1/admin/oauth/clients", a.url),
        Some(&admin),
        Some(json!({"name": "Replicated", "redirectUris": [redirect]})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let client_id = body["data"]["clientId"].as_str().unwrap().to_owned();
    let secret = body["data"]["clientSecret"].as_str().unwrap().to_owned();
    for round in 0..5 {
        // A code from replica A, exchanged 20 times at once over both replicas.
        let query = format!(
            "response_type=code&client_id={client_id}&redirect_uri={}&scope=openid%20offline_access&state=s{round}",
            urlencode(redirect)
        );
        let (status, body) = call(
            reqwest::Method::POST,
            format!("{}/v1/oauth/authorize", a.url),
            Some(&admin),
            Some(json!({"query": query, "approve": true})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let location = body["data"]["redirect"].as_str().unwrap().to_owned();
        let code = url_param(&location, "code");
        let exchanges = (0..20).map(|i| {
            let base = if i % 2 == 0 { a.url.clone() } else { b.url.clone() };
            let form = [
                ("grant_type", "authorization_code".to_owned()),
                ("code", code.clone()),
                ("redirect_uri", redirect.to_owned()),
                ("client_id", client_id.clone()),
                ("client_secret", secret.clone()),
            ];
            async move {
                let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                token_request(&base, &form).await
            }
        });
        let answers = futures::future::join_all(exchanges).await;
        let granted: Vec<&Value> = answers
            .iter()
            .filter(|(s, _)| *s == 200)
            .map(|(_, b)| b)
            .collect();
        assert_eq!(granted.len(), 1, "round {round}: {answers:?}");
        assert!(
            answers
                .iter()
                .all(|(s, b)| *s == 200 || b["error"] == "invalid_grant"),
            "{answers:?}"
        );
        // The second use ended what the first gave: its refresh token is dead too.
        let refresh = granted[0]["refresh_token"].as_str().unwrap();
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", &client_id),
            ("client_secret", &secret),
        ];
        let (status, body) = token_request(&b.url, &form).await;
        assert_eq!(
            (status.as_u16(), &body["error"]),
            (400, &json!("invalid_grant")),
            "{body}"
        );
    }
    // A refresh token presented 20 times at once over both replicas: at most one rotation,
    // and the reuse ends the family, the rotated token included.
    let query = format!(
        "response_type=code&client_id={client_id}&redirect_uri={}&scope=openid%20offline_access",
        urlencode(redirect)
    );
    let (_, body) = call(
        reqwest::Method::POST,
        format!("{}/v1/oauth/authorize", b.url),
        Some(&admin),
        Some(json!({"query": query})),
    )
    .await;
    let code = url_param(body["data"]["redirect"].as_str().unwrap(), "code");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect),
        ("client_id", &client_id),
        ("client_secret", &secret),
    ];
    let (status, body) = token_request(&b.url, &form).await;
    assert_eq!(status, 200, "{body}");
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    let rotations = (0..20).map(|i| {
        let base = if i % 2 == 0 { a.url.clone() } else { b.url.clone() };
        let (refresh, client_id, secret) = (refresh.clone(), client_id.clone(), secret.clone());
        async move {
            let form = [
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.as_str()),
                ("client_id", client_id.as_str()),
                ("client_secret", secret.as_str()),
            ];
            token_request(&base, &form).await
        }
    });
    let answers = futures::future::join_all(rotations).await;
    let rotated: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, b)| b)
        .collect();
    assert!(rotated.len() <= 1, "{answers:?}");
    for body in rotated {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", body["refresh_token"].as_str().unwrap()),
            ("client_id", client_id.as_str()),
            ("client_secret", secret.as_str()),
        ];
        let (status, _) = token_request(&a.url, &form).await;
        assert_eq!(status, 400, "the rotated token died with its family");
    }
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn url_param(location: &str, name: &str) -> String {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .unwrap_or_else(|| panic!("{name} in {location}"))
}
