//! SPEC.md section 11 over HTTP and at the console: the metrics a scrape shows after a
//! story (checked by Prometheus's own `promtool` and against what the story did), request
//! ids, and the console commands run as the real binary on the database of a running
//! portal.

use crate::accounts::{code_at, enrol};
use crate::common::{ADMIN, PASSWORD, TestPortal};
use crate::webhooks::{FAST, Receiver, subscribe};
use serde_json::json;
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A scrape as `series{labels}` → value.
struct Scrape {
    text: String,
    values: HashMap<String, f64>,
}

impl Scrape {
    async fn of(portal: &TestPortal) -> Self {
        let url = portal
            .metrics_url
            .as_deref()
            .expect("started with --metrics-addr");
        let response = reqwest::get(url).await.expect("the metrics listener answers");
        assert_eq!(response.status(), 200);
        let text = response.text().await.unwrap();
        let values = text
            .lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty())
            .map(|line| {
                let (series, value) = line.rsplit_once(' ').expect("series value");
                (series.to_owned(), value.parse().expect("a number"))
            })
            .collect();
        Self { text, values }
    }

    #[track_caller]
    fn value(&self, series: &str) -> f64 {
        *self
            .values
            .get(series)
            .unwrap_or_else(|| panic!("no series {series} in the scrape:\n{}", self.text))
    }
}

fn promtool_check(text: &str) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian's `prometheus` package; ./x test installs it)");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success() && output.stdout.is_empty() && output.stderr.is_empty(),
        "promtool check metrics refused the scrape: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn a_scrape_after_a_story_passes_promtool_and_counts_what_the_story_did() {
    let mut flags = vec!["--metrics-addr=127.0.0.1:0"];
    flags.extend_from_slice(FAST);
    let portal = TestPortal::start_with(&flags).await;
    let receiver = Receiver::start(Duration::ZERO).await;
    subscribe(&portal, &receiver, json!(["user.register"])).await; // login ok: 1
    receiver.answer_next(&[500]);

    for name in ["alice", "bob", "carol"] {
        portal.register(name, true).await;
    }
    let wrong = json!({"user": "alice", "password": "Wrong1pass"});
    for _ in 0..2 {
        portal
            .post("/v1/authorization", None, wrong.clone())
            .await
            .expect(401); // wrong: 2
    }
    let id = |name: &'static str| {
        let pool = portal.state.db.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT id FROM users WHERE user_name = $1")
                .bind(name)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    portal.set_status(id("alice").await, 1).await; // ok: 2
    portal.set_status(id("bob").await, 2).await; // ok: 3
    let refused = json!({"user": "bob", "password": PASSWORD});
    portal.post("/v1/authorization", None, refused).await.expect(403); // rejected: 1
    let alice = portal.login("alice", PASSWORD).await; // ok: 4
    let business = json!({"name": "acme", "introduce": "i", "objective": "o", "scale": "1"});
    portal
        .post("/v1/business", Some(&alice), business)
        .await
        .expect(200);
    let carol = json!({"user": "carol", "password": "Wrong1pass"});
    for _ in 0..5 {
        portal
            .post("/v1/authorization", None, carol.clone())
            .await
            .expect(401); // wrong: 7
    }
    portal.post("/v1/authorization", None, carol).await.expect(429); // throttled: 1
    portal.get("/v1/no/such/42", None).await.expect(404);
    // The receiver hears three registrations, the first after one 500.
    receiver.until(|got| got.len() >= 4).await;

    let deadline = Instant::now() + Duration::from_secs(10);
    let scrape = loop {
        let scrape = Scrape::of(&portal).await;
        let delivered = scrape.value(r#"ote_webhook_deliveries_total{outcome="delivered"}"#);
        if delivered >= 3.0 || Instant::now() > deadline {
            break scrape;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    promtool_check(&scrape.text);

    for (outcome, count) in [("ok", 4.0), ("wrong", 7.0), ("throttled", 1.0), ("rejected", 1.0)] {
        let series = format!(r#"ote_logins_total{{outcome="{outcome}"}}"#);
        assert_eq!(scrape.value(&series), count, "{series}");
    }
    assert_eq!(scrape.value(r#"ote_pending{kind="user"}"#), 1.0);
    assert_eq!(scrape.value(r#"ote_pending{kind="business"}"#), 1.0);
    assert!(scrape.value(r#"ote_pending_oldest_age_seconds{kind="user"}"#) >= 0.0);
    assert_eq!(
        scrape.value(r#"ote_webhook_deliveries_total{outcome="delivered"}"#),
        3.0
    );
    assert_eq!(
        scrape.value(r#"ote_webhook_deliveries_total{outcome="retrying"}"#),
        1.0
    );
    assert_eq!(
        scrape.value(r#"ote_webhook_deliveries_total{outcome="failed"}"#),
        0.0
    );
    // Route templates, not paths: two PUTs to /v1/admin/user/{id} (approval, refusal).
    let approval = r#"route="/v1/admin/user/{id}",status="200"}"#;
    let put = format!(r#"ote_http_requests_total{{method="PUT",{approval}"#);
    assert_eq!(scrape.value(&put), 2.0);
    let timed = format!(r#"ote_http_request_duration_seconds_count{{method="PUT",{approval}"#);
    assert_eq!(scrape.value(&timed), 2.0);
    let logins = r#"ote_http_requests_total{method="POST",route="/v1/authorization",status="401"}"#;
    assert_eq!(scrape.value(logins), 7.0);
    assert!(
        !scrape.text.contains("/v1/no/such/42"),
        "a raw path became a label"
    );
    assert!(scrape.value(r#"ote_http_requests_total{method="GET",route="unmatched",status="404"}"#) >= 1.0);
    // Every password check waited in the queue once: 3 registrations hashed, and each
    // verification (the throttled attempt never got one).
    let checks = portal.state.passwords.verifications() as f64 + 3.0;
    assert_eq!(scrape.value("ote_password_queue_wait_seconds_count"), checks);
    assert_eq!(scrape.value("ote_password_queue_depth"), 0.0);
    assert_eq!(scrape.value("ote_password_queue_rejected_total"), 0.0);
    assert!(scrape.value(r#"ote_db_pool_connections{state="idle"}"#) >= 0.0);
    assert!(scrape.value("ote_db_pool_max_connections") >= 1.0);
}

#[tokio::test]
async fn made_up_methods_do_not_grow_the_metrics() {
    let portal = TestPortal::start_with(&["--metrics-addr=127.0.0.1:0"]).await;
    let client = reqwest::Client::new();
    let send = |method: reqwest::Method, path: &'static str| {
        let request = client.request(method, format!("{}{path}", portal.url));
        async move { request.send().await.expect("an answer").status() }
    };
    // One request of each kind first, so that every series they make exists.
    let other = reqwest::Method::from_bytes(b"BREW").unwrap();
    send(other, "/x").await;
    send(reqwest::Method::from_bytes(b"BREW").unwrap(), "/v1/user").await;
    let before = Scrape::of(&portal).await;
    for n in 0..300 {
        // 2 KB methods, each new, to a page path and to an API route.
        let method = format!("M{n:04}{}", "X".repeat(2043));
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let path = if n % 2 == 0 { "/x" } else { "/v1/user" };
        assert!(send(method, path).await.as_u16() >= 400);
    }
    let after = Scrape::of(&portal).await;
    assert!(
        after.text.len() < before.text.len() + 1024,
        "the scrape grew from {} to {} bytes",
        before.text.len(),
        after.text.len()
    );
    assert!(
        !after.text.contains("XXXXXXXX"),
        "a made-up method became a label"
    );
    promtool_check(&after.text);
}

#[tokio::test]
async fn without_the_setting_nothing_listens_and_every_answer_carries_a_request_id() {
    let portal = TestPortal::start().await;
    assert!(portal.metrics_url.is_none());
    let generated = portal.get("/healthz", None).await;
    let id = generated.headers["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let again = portal.get("/healthz", None).await;
    assert_ne!(again.headers["x-request-id"], id.as_str(), "one per request");
    for kept in ["abc-123", "trace:0af7651916cd43dd.b7ad6b7169203331"] {
        let reply = portal
            .client_request(reqwest::Method::GET, "/v1/no/such")
            .header("x-request-id", kept)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.headers()["x-request-id"], kept);
    }
    for replaced in ["has space", "{\"json\":1}", &"x".repeat(129)] {
        let reply = portal
            .client_request(reqwest::Method::GET, "/healthz")
            .header("x-request-id", replaced)
            .send()
            .await
            .unwrap();
        let echoed = reply.headers()["x-request-id"].to_str().unwrap();
        assert!(
            echoed != replaced && echoed.len() == 36,
            "{replaced:?} -> {echoed}"
        );
    }
}

/// Runs `ote-portal ARGS...` on the portal's database: (success, stdout, stderr).
fn console(portal: &TestPortal, args: &[&str]) -> (bool, String, String) {
    console_on(&portal.database_url, args)
}

fn console_on(database_url: &str, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_ote-portal"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .env_remove("OTE_ADMIN_PASSWORD")
        .output()
        .expect("the binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Retries `login` for up to 2 s: a running SQLite portal sees another process's write
/// within its caller cache's second.
async fn eventually(status: u16, probe: impl AsyncFn() -> u16) {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let got = probe().await;
        if got == status {
            return;
        }
        assert!(Instant::now() < deadline, "still {got}, expected {status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn audited_by_cli(portal: &TestPortal, action: &str) -> usize {
    let rows: Vec<(Option<i64>, String)> =
        sqlx::query_as("SELECT actor_id, actor FROM audit_log WHERE action = $1 AND actor = 'cli'")
            .bind(action)
            .fetch_all(&portal.state.db.pool)
            .await
            .unwrap();
    assert!(
        rows.iter().all(|(id, _)| id.is_none()),
        "the console has no user id"
    );
    rows.len()
}

#[tokio::test]
async fn reset_password_at_the_console_prints_one_that_signs_in_and_ends_the_old_tokens() {
    let portal = TestPortal::start().await;
    let old = portal.admin_token().await;
    let (ok, out, err) = console(&portal, &["admin", "reset-password", ADMIN]);
    assert!(ok, "{out}{err}");
    let password = out.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(out.contains("shown only this once"), "{out}");
    let fresh = portal.login(ADMIN, &password).await;
    portal.get("/v1/authorization", Some(&fresh)).await.expect(200);
    eventually(401, async || {
        portal.get("/v1/authorization", Some(&old)).await.status.as_u16()
    })
    .await;
    assert_eq!(audited_by_cli(&portal, "user.password_reset").await, 1);
    // The name is found case-insensitively; an unknown one is one line and exit 1.
    let (ok, _, _) = console(&portal, &["admin", "reset-password", &ADMIN.to_uppercase()]);
    assert!(ok);
    let (ok, out, err) = console(&portal, &["admin", "reset-password", "nobody"]);
    assert!(!ok && out.is_empty(), "{out}");
    assert_eq!(err.trim(), "ote-portal: user 'nobody': no such user");
}

#[tokio::test]
async fn unlock_at_the_console_clears_a_throttled_name() {
    let portal = TestPortal::start().await;
    portal.approved("dave", false).await;
    let wrong = json!({"user": "dave", "password": "Wrong1pass"});
    for _ in 0..5 {
        portal
            .post("/v1/authorization", None, wrong.clone())
            .await
            .expect(401);
    }
    let right = json!({"user": "dave", "password": PASSWORD});
    portal
        .post("/v1/authorization", None, right.clone())
        .await
        .expect(429);
    let (ok, out, err) = console(&portal, &["admin", "unlock", "dave"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("5 failed login attempt(s) cleared"), "{out}");
    portal.post("/v1/authorization", None, right).await.expect(200);
    assert_eq!(audited_by_cli(&portal, "user.unlock").await, 1);
}

#[tokio::test]
async fn disable_totp_at_the_console_lets_the_password_alone_sign_in() {
    let portal = TestPortal::start().await;
    let (_, token) = portal.approved("erin", false).await;
    let (secret, _) = enrol(&portal, &token).await;
    let plain = json!({"user": "erin", "password": PASSWORD});
    portal
        .post("/v1/authorization", None, plain.clone())
        .await
        .expect(401);
    let (ok, out, err) = console(&portal, &["admin", "disable-totp", "erin"]);
    assert!(ok, "{out}{err}");
    portal.post("/v1/authorization", None, plain).await.expect(200);
    eventually(401, async || {
        portal
            .get("/v1/authorization", Some(&token))
            .await
            .status
            .as_u16()
    })
    .await;
    assert_eq!(audited_by_cli(&portal, "user.totp_reset").await, 1);
    let (ok, _, err) = console(&portal, &["admin", "disable-totp", "erin"]);
    assert!(!ok);
    assert_eq!(
        err.trim(),
        "ote-portal: user 'erin': two-factor sign-in is not on"
    );
    let _ = code_at(&secret, 0);
}

#[tokio::test]
async fn console_errors_are_one_line_and_a_non_zero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let missing = format!("sqlite://{}/none.db", dir.path().display());
    let (ok, out, err) = console_on(&missing, &["admin", "unlock", "x"]);
    assert!(!ok && out.is_empty());
    assert!(
        err.starts_with("ote-portal: DATABASE_URL: no database at ") && err.lines().count() == 1,
        "{err}"
    );
    assert!(
        !dir.path().join("none.db").exists(),
        "the console made a database"
    );
    // Nothing listens on port 1 of 127.0.0.1.
    let (ok, _, err) = console_on("postgres://ote@127.0.0.1:1/ote", &["admin", "unlock", "x"]);
    assert!(!ok);
    assert!(
        err.starts_with("ote-portal: DATABASE_URL: cannot open") && err.lines().count() == 1,
        "{err}"
    );
    let (ok, _, err) = console_on("mysql://x", &["admin", "unlock", "x"]);
    assert!(!ok && err.contains("DATABASE_URL"), "{err}");
}

#[tokio::test]
async fn backup_under_concurrent_writes_holds_every_acknowledged_write_and_passes_integrity_check() {
    let portal = TestPortal::start().await;
    if !portal.database_url.starts_with("sqlite:") {
        let target = tempfile::tempdir().unwrap();
        let file = target.path().join("copy.db");
        let (ok, _, err) = console(&portal, &["backup", file.to_str().unwrap()]);
        assert!(
            !ok && err.contains("pg_dump") && err.lines().count() == 1,
            "{err}"
        );
        return;
    }
    let writers = 4;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (stop, acknowledged) = (stop.clone(), acknowledged.clone());
        let url = portal.url.clone();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                i += 1;
                let name = format!("w{w}n{i}");
                let body = json!({"user": name, "password": PASSWORD, "phone": crate::common::unique_phone(), "realName": "Backup test", "isAdmin": false});
                let sent = client.post(format!("{url}/v1/user")).json(&body).send().await;
                if matches!(sent, Ok(r) if r.status() == 200) {
                    acknowledged.lock().unwrap().push(name);
                }
            }
        }));
    }
    // Some writes acknowledged first (each registration hashes a password: slow on a
    // loaded machine).
    let deadline = Instant::now() + Duration::from_secs(30);
    while acknowledged.lock().unwrap().len() < 20 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before: Vec<String> = acknowledged.lock().unwrap().clone();
    let target = tempfile::tempdir().unwrap();
    let file = target.path().join("copy.db");
    let file_arg = file.to_str().unwrap().to_owned();
    let database_url = portal.database_url.clone();
    let (ok, out, err) =
        tokio::task::spawn_blocking(move || console_on(&database_url, &["backup", &file_arg]))
            .await
            .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    assert!(ok, "{out}{err}");
    assert!(out.starts_with("backup written to "), "{out}");
    assert!(before.len() >= 20, "the writers wrote: {}", before.len());

    use sqlx::Connection;
    let copy_url = format!("sqlite://{}?mode=ro", file.display());
    let mut copy = sqlx::SqliteConnection::connect(&copy_url).await.unwrap();
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut copy)
        .await
        .unwrap();
    assert_eq!(integrity, "ok");
    let kept: Vec<String> = sqlx::query_scalar("SELECT user_name FROM users")
        .fetch_all(&mut copy)
        .await
        .unwrap();
    let kept: std::collections::HashSet<String> = kept.into_iter().collect();
    let lost: Vec<&String> = before.iter().filter(|name| !kept.contains(*name)).collect();
    assert!(
        lost.is_empty(),
        "acknowledged before the backup, missing from it: {lost:?}"
    );
    // Each user in the copy has its audit entry: the copy is one transaction's view.
    let audited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'user.register'")
        .fetch_one(&mut copy)
        .await
        .unwrap();
    assert_eq!(
        audited as usize,
        kept.len() - 1,
        "users (less the administrator) = registrations"
    );
    // A second backup to the same file is refused, the first left as it was.
    let (ok, _, err) = console(&portal, &["backup", file.to_str().unwrap()]);
    assert!(!ok && err.contains("exists already"), "{err}");
}

#[tokio::test]
async fn the_database_its_folder_and_backups_are_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let portal = crate::common::BinaryPortal::start(&[]);
    let data = portal.dir.path().join("data");
    let database = data.join("ote.db");
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path)
            .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
            .permissions()
            .mode()
            & 0o777
    };
    // A write, so that the WAL exists too.
    portal.login(ADMIN, crate::common::ADMIN_PASSWORD).await;
    assert_eq!(mode(&data), 0o700, "the data folder");
    for file in ["ote.db", "ote.db-wal", "ote.db-shm"] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    let url = format!("sqlite://{}", database.display());
    let backup = portal.dir.path().join("copy.db");
    let (ok, out, err) = console_on(&url, &["backup", backup.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    assert_eq!(mode(&backup), 0o600, "the backup");

    // Never over an existing file, never through a link (a dangling one included).
    std::fs::write(portal.dir.path().join("kept.db"), b"keep me").unwrap();
    let target = portal.dir.path().join("elsewhere.db");
    std::os::unix::fs::symlink(&target, portal.dir.path().join("link.db")).unwrap();
    for name in ["kept.db", "link.db", "copy.db"] {
        let path = portal.dir.path().join(name);
        let (ok, out, err) = console_on(&url, &["backup", path.to_str().unwrap()]);
        assert!(!ok && err.contains("exists already"), "{name}: {out}{err}");
    }
    assert_eq!(
        std::fs::read(portal.dir.path().join("kept.db")).unwrap(),
        b"keep me"
    );
    assert!(!target.exists(), "the backup went through the link");
}

#[tokio::test]
async fn a_database_url_is_masked_whole_in_what_the_binary_prints() {
    // Port 1 of loopback: nothing listens, so the start fails and names the URL. The
    // password holds an `@` as is and a `/` and `?` encoded, as URLs carry them.
    for url in [
        "postgres://ote:p@ss%2Fw%3Frd@127.0.0.1:1/ote",
        "postgres://127.0.0.1:1/ote?user=ote&password=pa55word-in-query",
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_ote-portal"))
            .env("DATABASE_URL", url)
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .env("RUST_LOG", "debug")
            .output()
            .expect("the binary runs");
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!output.status.success(), "{printed}");
        assert!(printed.contains("DATABASE_URL"), "{printed}");
        for secret in ["p@ss", "ss%2F", "3Frd", "pa55word"] {
            assert!(!printed.contains(secret), "{secret} in: {printed}");
        }
    }
}
