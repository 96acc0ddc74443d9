//! A real portal on a real socket for each test: port 0, a fresh database (SQLite in a
//! temporary folder, or a fresh PostgreSQL database when `OTE_TEST_POSTGRES_URL` names a
//! server), and helpers that speak HTTP to it like any client would.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use server::Portal;
use server::config::Config;
use server::state::AppState;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::oneshot;

pub const ADMIN: &str = "root";
pub const ADMIN_PASSWORD: &str = "Sysadmin1pass";
pub const PASSWORD: &str = "Passw0rdX";

pub struct TestPortal {
    pub url: String,
    /// The database, for the console commands (`ote-portal admin ...`).
    pub database_url: String,
    /// `http://.../metrics` when started with `--metrics-addr`.
    pub metrics_url: Option<String>,
    pub state: AppState,
    client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
    _share: std::sync::Arc<Share>,
}

/// A reply: status and parsed JSON body (`Value::Null` if the body is not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }

    /// Asserts the status, and that the envelope's `code` equals it.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        assert_eq!(
            self.body["code"],
            json!(status),
            "envelope code must equal the status: {}",
            self.body
        );
        self
    }
}

/// The machine, shared by every test's portal and taken whole by the tests that time the
/// portal under a load they make themselves (a real login during a flood): what they time
/// is then the portal, not the neighbouring tests' password hashing on the same cores.
static MACHINE: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

thread_local! {
    // Each `#[tokio::test]` runs on a thread of its own (a current-thread runtime): this is
    // that test's hold on the machine, kept by its portals, so that its second portal does
    // not queue behind a test waiting to be alone (a fair lock would deadlock there). A test
    // that is alone holds a share without a lock: its portals start without waiting.
    static HOLD: std::cell::RefCell<std::sync::Weak<Share>> = const { std::cell::RefCell::new(std::sync::Weak::new()) };
}

/// A test's share of the machine, kept by each of its portals.
pub struct Share(#[allow(dead_code)] Option<tokio::sync::RwLockReadGuard<'static, ()>>);

/// The machine taken whole until dropped.
pub struct Alone {
    _whole: tokio::sync::RwLockWriteGuard<'static, ()>,
    _share: std::sync::Arc<Share>,
}

/// Waits until no other test runs a portal, and keeps them from starting one. Call it
/// before starting the test's own portals.
pub async fn alone() -> Alone {
    assert!(
        HOLD.with(|hold| hold.borrow().strong_count()) == 0,
        "alone() must come before the test starts a portal"
    );
    let whole = MACHINE.write().await;
    Alone {
        _whole: whole,
        _share: hold(Share(None)),
    }
}

/// This test's share of the machine: the one it holds already, or a new one once no test
/// is alone.
async fn share() -> std::sync::Arc<Share> {
    if let Some(held) = HOLD.with(|hold| hold.borrow().upgrade()) {
        return held;
    }
    hold(Share(Some(MACHINE.read().await)))
}

fn hold(share: Share) -> std::sync::Arc<Share> {
    let share = std::sync::Arc::new(share);
    HOLD.with(|hold| *hold.borrow_mut() = std::sync::Arc::downgrade(&share));
    share
}

static NEXT_PHONE: AtomicU64 = AtomicU64::new(10_000_000);

/// A phone number no other test user has.
pub fn unique_phone() -> String {
    format!("+86{}", NEXT_PHONE.fetch_add(1, Ordering::Relaxed))
}

impl TestPortal {
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Starts with extra command-line flags (they mirror the environment variables).
    pub async fn start_with(extra: &[&str]) -> Self {
        let share = share().await;
        log_to_file();
        let dir = tempfile::tempdir().expect("temporary folder");
        let database_url = fresh_database(&dir).await;
        let mut args = vec![
            "ote-portal".to_owned(),
            format!("--database-url={database_url}"),
            format!("--admin-user={ADMIN}"),
            format!("--admin-password={ADMIN_PASSWORD}"),
        ];
        // A test may listen elsewhere (`[::]:0`, dual-stack); the clients still come in
        // on 127.0.0.1 (`url`).
        if !extra.iter().any(|a| a.starts_with("--site-addr")) {
            args.push("--site-addr=127.0.0.1:0".into());
        }
        // The per-address limit would slow suites that sign in a lot from one address;
        // the tests of that limit set it themselves.
        if !extra.iter().any(|a| a.starts_with("--rate-password-per-minute")) {
            args.push("--rate-password-per-minute=0".into());
        }
        args.extend(extra.iter().map(|a| a.to_string()));
        let config = Config::load_from(args).expect("test configuration");
        let portal = Portal::start(config).await.expect("portal starts");
        let url = format!("http://127.0.0.1:{}", portal.local_addr().port());
        let metrics_url = portal.metrics_addr().map(|addr| format!("http://{addr}/metrics"));
        let state = portal.state.clone();
        let (shutdown, stop) = oneshot::channel::<()>();
        tokio::spawn(portal.serve(async {
            let _ = stop.await;
        }));
        Self {
            url,
            database_url,
            metrics_url,
            state,
            client: reqwest::Client::new(),
            shutdown: Some(shutdown),
            _dir: dir,
            _share: share,
        }
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.url));
        if let Some(token) = token {
            request = request.header("Authorization", token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request reaches the server");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        Reply {
            status,
            headers,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    /// A request of this portal's client, to build by hand.
    pub fn client_request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.url))
    }

    pub async fn raw(&self, method: Method, path: &str, body: Vec<u8>) -> Reply {
        let response = self
            .client
            .request(method, format!("{}{path}", self.url))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request reaches the server");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        Reply {
            status,
            headers,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::PUT, path, token, Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::DELETE, path, token, None).await
    }

    pub async fn login(&self, user: &str, password: &str) -> String {
        let reply = self
            .post(
                "/v1/authorization",
                None,
                json!({"user": user, "password": password}),
            )
            .await
            .expect(200);
        reply.body["token"].as_str().expect("a token").to_owned()
    }

    pub async fn admin_token(&self) -> String {
        self.login(ADMIN, ADMIN_PASSWORD).await
    }

    /// Registers `name` (status 0) and returns its id.
    pub async fn register(&self, name: &str, is_admin: bool) -> i64 {
        let body = json!({"user": name, "password": PASSWORD, "phone": unique_phone(), "realName": format!("{name} Real"), "isAdmin": is_admin});
        self.post("/v1/user", None, body).await.expect(200).body["data"]["id"]
            .as_i64()
            .expect("an id")
    }

    /// Sets a user's status as the system administrator.
    pub async fn set_status(&self, id: i64, status: u8) {
        let admin = self.admin_token().await;
        self.put(
            &format!("/v1/admin/user/{id}"),
            Some(&admin),
            json!({"status": status}),
        )
        .await
        .expect(200);
    }

    /// A registered and approved user (role 1), logged in: (id, token).
    pub async fn approved(&self, name: &str, is_admin: bool) -> (i64, String) {
        let id = self.register(name, is_admin).await;
        self.set_status(id, 1).await;
        (id, self.login(name, PASSWORD).await)
    }

    /// An admin whose business the system administrator approved (role 3):
    /// (user id, business id, token).
    pub async fn business_admin(&self, name: &str, business: &str) -> (i64, i64, String) {
        let (id, token) = self.approved(name, true).await;
        let body = json!({"name": business, "introduce": "intro", "objective": "goal", "scale": "10"});
        let business_id = self
            .post("/v1/business", Some(&token), body)
            .await
            .expect(200)
            .body["data"]["id"]
            .as_i64()
            .expect("a business id");
        let admin = self.admin_token().await;
        self.put(
            &format!("/v1/admin/business/{business_id}"),
            Some(&admin),
            json!({"status": 1, "comment": "ok"}),
        )
        .await
        .expect(200);
        (id, business_id, token)
    }

    /// A user created by a business admin inside its business (role 2 unless `is_admin`).
    pub async fn member(&self, admin_token: &str, name: &str, is_admin: bool) -> (i64, String) {
        let body = json!({"user": name, "password": PASSWORD, "phone": unique_phone(), "realName": name, "isAdmin": is_admin});
        let id = self
            .post("/v1/admin/user", Some(admin_token), body)
            .await
            .expect(200)
            .body["data"]["id"]
            .as_i64()
            .expect("an id");
        (id, self.login(name, PASSWORD).await)
    }

    pub async fn role(&self, token: &str) -> i64 {
        self.get("/v1/authorization", Some(token)).await.expect(200).body["data"]["role"]
            .as_i64()
            .expect("a role")
    }
}

impl Drop for TestPortal {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// With `OTE_TEST_LOG=FILE` (set by `./x test`), every log line of every portal of the
/// suite, at every level, goes to FILE, which `./x test` then searches for secrets.
fn log_to_file() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let Ok(path) = std::env::var("OTE_TEST_LOG") else {
            return;
        };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .expect("OTE_TEST_LOG names a writable file");
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "debug,server=trace,tower_http=trace",
            ))
            .with_writer(std::sync::Mutex::new(file))
            .with_ansi(false)
            .try_init();
    });
}

/// SQLite in `dir`, or a new database on the PostgreSQL server of `OTE_TEST_POSTGRES_URL`.
async fn fresh_database(dir: &tempfile::TempDir) -> String {
    match std::env::var("OTE_TEST_POSTGRES_URL") {
        Ok(server) if !server.is_empty() => {
            use sqlx::Connection;
            let name = format!("ote_test_{:016x}", rand_u64());
            let mut conn = sqlx::PgConnection::connect(&server)
                .await
                .expect("test PostgreSQL server");
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .expect("create test database");
            let (base, _) = server.rsplit_once('/').expect("a URL with a database name");
            format!("{base}/{name}")
        }
        _ => format!("sqlite://{}/ote.db", dir.path().display()),
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

/// The real binary, serving on a fresh SQLite database in a folder of its own, with
/// `env` set (and nothing of the test process's proxy settings unless given): for what
/// only a process of its own shows (its environment, its files, its log lines).
pub struct BinaryPortal {
    pub url: String,
    pub dir: tempfile::TempDir,
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    child: std::process::Child,
}

impl BinaryPortal {
    pub fn start(env: &[(&str, &str)]) -> Self {
        use std::io::BufRead;
        let dir = tempfile::tempdir().expect("temporary folder");
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ote-portal"));
        for proxy in [
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
        ] {
            command.env_remove(proxy);
        }
        command
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/data/ote.db", dir.path().display()),
            )
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .env("OTE_ADMIN_USER", ADMIN)
            .env("OTE_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("OTE_RATE_PASSWORD_PER_MINUTE", "0")
            .env("RUST_LOG", "debug")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = command.spawn().expect("the binary starts");
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (found, url) = std::sync::mpsc::channel();
        for output in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let lines = lines.clone();
            let found = found.clone();
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(output).lines().map_while(Result::ok) {
                    if let Some(at) = line.find("listening on http://") {
                        let rest = &line[at + "listening on ".len()..];
                        let _ = found.send(rest.split(['"', ' ']).next().unwrap_or_default().to_owned());
                    }
                    lines.lock().unwrap().push(line);
                }
            });
        }
        let url = url
            .recv_timeout(std::time::Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("the binary did not start: {:?}", lines.lock().unwrap()));
        Self {
            url,
            dir,
            lines,
            child,
        }
    }

    /// Every line the process has written so far.
    pub fn log(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    pub async fn login(&self, user: &str, password: &str) -> String {
        let reply = reqwest::Client::new()
            .post(format!("{}/v1/authorization", self.url))
            .json(&json!({"user": user, "password": password}))
            .send()
            .await
            .expect("the portal answers");
        let body: Value = reply.json().await.expect("JSON");
        body["token"]
            .as_str()
            .unwrap_or_else(|| panic!("login failed: {body}"))
            .to_owned()
    }
}

impl Drop for BinaryPortal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
