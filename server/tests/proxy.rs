//! The portal behind a reverse proxy (SPEC.md section 14): two replicas of the real
//! `ote-portal` binary on one PostgreSQL database behind Debian's nginx, configured by
//! `deploy/nginx.conf` itself, everything on loopback. Clients come from 127.0.0.2 and
//! 127.0.0.3 (nginx listens on 127.0.0.1 and reaches the replicas from 127.0.0.1, the one
//! trusted proxy), so the tests can tell the client's address from the proxy's.
//!
//! The process tests need a PostgreSQL server (`OTE_TEST_POSTGRES_URL`) and nginx
//! (`apt-get install nginx`; `OTE_TEST_NGINX` names another binary); `./x test` provides
//! both and runs them with `--include-ignored`. The checks of the deployment files run in
//! every `cargo test` and are skipped, saying so, when `nginx` or `systemd-analyze` (Debian's
//! `systemd` package) is not installed.
//!
//! The audit log records no address (its entries are actor, action, target and detail, and
//! logins are not audited), so only the sessions and the limit are checked for it.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// Passwords `./x test` searches the logs for (SUITE_PASSWORDS).
const ADMIN_PASSWORD: &str = "Sysadmin1pass";
const PASSWORD: &str = "Passw0rdX";
const WRONG: &str = "Wrong1pass";
/// Every replica signs with this (as deployed: the same `OTE_JWT_SECRET` everywhere).
const JWT_SECRET: &str = "proxy-test-jwt-secret-of-at-least-32-bytes";
const NGINX_SITE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/nginx.conf");
const SYSTEMD_UNIT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/ote-portal.service");
/// The site's `fail_timeout`: how long nginx rests a replica after `max_fails` failures.
const FAIL_TIMEOUT: Duration = Duration::from_secs(10);

// --- Prerequisites ----------------------------------------------------------------------

/// The PostgreSQL server's URL, or `None` after saying why the test does nothing.
fn postgres_server() -> Option<String> {
    match std::env::var("OTE_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("SKIPPED: needs OTE_TEST_POSTGRES_URL (a PostgreSQL server); ./x test provides it");
            None
        }
    }
}

/// The nginx binary: `OTE_TEST_NGINX`, or `nginx` on PATH or in /usr/sbin.
fn nginx_binary() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("OTE_TEST_NGINX") {
        return Some(path.into());
    }
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .chain(["/usr/sbin", "/sbin"])
        .map(|dir| Path::new(dir).join("nginx"))
        .find(|candidate| candidate.is_file())
}

/// nginx for the process tests, which were asked for: missing, they fail and say why.
fn required_nginx() -> PathBuf {
    nginx_binary()
        .expect("nginx is not installed: apt-get install nginx (./x test installs it), or set OTE_TEST_NGINX")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A new, empty database on the test server; returns its URL.
async fn fresh_database(server: &str) -> String {
    let name = format!("ote_proxy_{:x}", rand_u64());
    let mut conn = sqlx::PgConnection::connect(server)
        .await
        .expect("test PostgreSQL server");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let (base, _) = server.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

// --- The replicas -----------------------------------------------------------------------

/// With `OTE_TEST_LOG=FILE` (`./x test`), every replica's log lines are appended to FILE,
/// which `./x test` searches for secrets.
fn test_log() -> Option<Arc<Mutex<std::fs::File>>> {
    static LOG: std::sync::OnceLock<Option<Arc<Mutex<std::fs::File>>>> = std::sync::OnceLock::new();
    LOG.get_or_init(|| {
        let path = std::env::var("OTE_TEST_LOG").ok()?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("OTE_TEST_LOG names a writable file");
        Some(Arc::new(Mutex::new(file)))
    })
    .clone()
}

/// One `ote-portal` process; killed (SIGKILL) when dropped.
struct Replica {
    child: Child,
    /// `127.0.0.1:PORT`
    addr: String,
}

impl Replica {
    /// Starts the binary as deployed behind the proxy (shared secret, 127.0.0.1 trusted),
    /// with `settings` on top, and waits for its "listening on" line.
    fn start(database_url: &str, settings: &[(&str, &str)]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ote-portal"))
            .env("DATABASE_URL", database_url)
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .env("OTE_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("OTE_JWT_SECRET", JWT_SECRET)
            .env("OTE_TRUSTED_PROXIES", "127.0.0.1/32")
            .env("OTE_RATE_PASSWORD_PER_MINUTE", "0")
            .env("RUST_LOG", "debug,sqlx=warn")
            .env("NO_COLOR", "1")
            .envs(settings.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the binary starts");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let log = test_log();
        let keep = |line: &str| {
            if let Some(log) = &log {
                let _ = writeln!(log.lock().unwrap(), "{line}");
            }
        };
        let url = loop {
            let line = lines.next().expect("the replica reports its address").unwrap();
            keep(&line);
            if let Some(at) = line.find("listening on ") {
                break line[at + "listening on ".len()..].trim().to_owned();
            }
        };
        // Keep draining the log so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Some(log) = &log {
                    let _ = writeln!(log.lock().unwrap(), "{line}");
                }
            }
        });
        let addr = url.trim_start_matches("http://").to_owned();
        Self { child, addr }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// SIGKILL, as a crash or the OOM killer would end it.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

// --- nginx ------------------------------------------------------------------------------

/// deploy/nginx.conf with its placeholders filled in.
fn site(listen: &str, replicas: [&str; 2]) -> String {
    let template = std::fs::read_to_string(NGINX_SITE).expect("deploy/nginx.conf");
    for placeholder in ["@LISTEN@", "@REPLICA_1@", "@REPLICA_2@"] {
        assert!(
            template.contains(placeholder),
            "deploy/nginx.conf lacks {placeholder}"
        );
    }
    let site = template
        .replace("@LISTEN@", listen)
        .replace("@REPLICA_1@", replicas[0])
        .replace("@REPLICA_2@", replicas[1]);
    for line in site.lines().filter(|l| !l.trim_start().starts_with('#')) {
        assert!(!line.contains('@'), "a placeholder is left: {line}");
    }
    site
}

/// The main configuration around the site: everything nginx writes (pid file, logs,
/// temporary files) in `dir`, one worker (its round robin is then strict alternation),
/// and an access log that names the replicas each request went to.
fn main_config(dir: &Path) -> String {
    let d = dir.display();
    // As root, the master hands the workers to an unprivileged user (Debian's default).
    let user = if is_root() { "user www-data;" } else { "" };
    format!(
        "{user}
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {d}/temp/body;
    proxy_temp_path {d}/temp/proxy;
    fastcgi_temp_path {d}/temp/fastcgi;
    uwsgi_temp_path {d}/temp/uwsgi;
    scgi_temp_path {d}/temp/scgi;
    log_format upstreams '$remote_addr|$request_method $uri|$status|$upstream_addr|$upstream_status';
    access_log {d}/access.log upstreams;
    include {d}/site.conf;
}}
"
    )
}

/// Writes the configuration for `replicas` behind 127.0.0.1:`port` into a new folder.
fn configure(port: u16, replicas: [&str; 2]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    // nginx's workers (www-data when run as root) write their temporary files in here.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::create_dir(dir.path().join("temp")).unwrap();
    std::fs::write(
        dir.path().join("site.conf"),
        site(&format!("127.0.0.1:{port}"), replicas),
    )
    .unwrap();
    std::fs::write(dir.path().join("nginx.conf"), main_config(dir.path())).unwrap();
    dir
}

fn nginx_command(binary: &Path, dir: &Path) -> Command {
    let mut command = Command::new(binary);
    command
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .arg("-e")
        .arg(dir.join("error.log"));
    command
}

/// nginx in the foreground, as a child of the test; stopped when dropped.
struct Nginx {
    child: Child,
    dir: tempfile::TempDir,
    url: String,
}

impl Nginx {
    async fn start(replicas: [&str; 2]) -> Self {
        let port = free_port();
        let dir = configure(port, replicas);
        let child = nginx_command(&required_nginx(), dir.path())
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .spawn()
            .expect("nginx starts");
        let mut nginx = Self {
            child,
            dir,
            url: format!("http://127.0.0.1:{port}"),
        };
        let client = client_from([127, 0, 0, 1]);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = nginx.child.try_wait().unwrap() {
                panic!("nginx exited ({status}): {}", nginx.error_log());
            }
            if let Ok(response) = client.get(nginx.url("/healthz")).send().await
                && response.status() == 200
            {
                return nginx;
            }
            assert!(
                Instant::now() < deadline,
                "nginx did not answer within 15 s: {}",
                nginx.error_log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    /// The access log: one `Access` per answered request, in order.
    fn access_log(&self) -> Vec<Access> {
        std::fs::read_to_string(self.dir.path().join("access.log"))
            .unwrap_or_default()
            .lines()
            .map(|line| {
                let fields: Vec<&str> = line.split('|').collect();
                let list = |i: usize| -> Vec<String> {
                    fields[i]
                        .split([',', ':'])
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                };
                Access {
                    client: fields[0].to_owned(),
                    request: fields[1].to_owned(),
                    status: fields[2].parse().unwrap_or(0),
                    upstreams: fields[3].split(',').map(|s| s.trim().to_owned()).collect(),
                    upstream_statuses: list(4),
                }
            })
            .collect()
    }

    /// The access log once `done` holds of it, or as it is after 5 s: nginx writes a
    /// request's line after it has answered, so the client may read the log before the
    /// line of its last request is there.
    async fn access_log_once(&self, done: impl Fn(&[Access]) -> bool) -> Vec<Access> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let log = self.access_log();
            if done(&log) || Instant::now() >= deadline {
                return log;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: the master stops its workers and exits (SIGKILL would orphan them).
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One line of the test's access log.
#[derive(Debug)]
#[allow(dead_code)]
struct Access {
    /// The address nginx saw.
    client: String,
    /// `METHOD /path`
    request: String,
    status: u16,
    /// The replicas tried, in order (`host:port`).
    upstreams: Vec<String>,
    /// Their answers, in order.
    upstream_statuses: Vec<String>,
}

// --- Clients ----------------------------------------------------------------------------

/// A client whose connections come from `ip` (any 127.0.0.0/8 address is this machine).
fn client_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::from(ip))
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = client.request(method, url);
    if let Some(token) = token {
        request = request.header("Authorization", token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("an answer");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get(client: &reqwest::Client, url: String) -> StatusCode {
    call(client, reqwest::Method::GET, url, None, None).await.0
}

async fn login(client: &reqwest::Client, url: String, user: &str, password: &str) -> (StatusCode, Value) {
    let body = json!({"user": user, "password": password});
    call(client, reqwest::Method::POST, url, None, Some(body)).await
}

/// Two replicas on one fresh database, and nginx in front of them.
struct Stack {
    database: String,
    a: Replica,
    b: Replica,
    nginx: Nginx,
}

impl Stack {
    /// `database_b`, when given, is replica B's way to the same database.
    async fn start(
        server: &str,
        settings: &[(&str, &str)],
        database_b: Option<&dyn Fn(&str) -> String>,
    ) -> Self {
        let database = fresh_database(server).await;
        let a = Replica::start(&database, settings);
        let b = Replica::start(
            &database_b.map_or_else(|| database.clone(), |via| via(&database)),
            settings,
        );
        let nginx = Nginx::start([&a.addr, &b.addr]).await;
        Self {
            database,
            a,
            b,
            nginx,
        }
    }
}

// --- Tests: the client's address --------------------------------------------------------

#[tokio::test]
#[ignore = "needs OTE_TEST_POSTGRES_URL and nginx; ./x test provides them"]
async fn through_nginx_sessions_and_the_password_limit_see_the_clients_address_not_the_proxys() {
    let Some(server) = postgres_server() else { return };
    let stack = Stack::start(&server, &[("OTE_RATE_PASSWORD_PER_MINUTE", "3")], None).await;
    let nginx = &stack.nginx;
    let (two, three) = (client_from([127, 0, 0, 2]), client_from([127, 0, 0, 3]));
    let begun = Instant::now();

    // A login from 127.0.0.2 that claims, in an X-Forwarded-For of its own, to be elsewhere:
    // nginx appends the address it saw, and the portal believes only that.
    let response = two
        .post(nginx.url("/v1/authorization"))
        .header("X-Forwarded-For", "198.51.100.7")
        .json(&json!({"user": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let token_two = response.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = login(&three, nginx.url("/v1/authorization"), "admin", ADMIN_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let token_three = body["token"].as_str().unwrap().to_owned();

    // Each session, listed through either replica, carries its client's address.
    for (client, token, own, other) in [
        (&two, &token_two, "127.0.0.2", "127.0.0.3"),
        (&three, &token_three, "127.0.0.3", "127.0.0.2"),
    ] {
        for _ in 0..2 {
            let (status, body) = call(
                client,
                reqwest::Method::GET,
                nginx.url("/v1/user/sessions"),
                Some(token),
                None,
            )
            .await;
            assert_eq!(status, 200, "{body}");
            let sessions = body["data"].as_array().unwrap();
            let ip_of = |current: bool| {
                sessions
                    .iter()
                    .find(|s| s["current"] == current)
                    .unwrap_or_else(|| panic!("no session with current={current}: {body}"))["ip"]
                    .clone()
            };
            assert_eq!(ip_of(true), own, "{body}");
            assert_eq!(ip_of(false), other, "{body}");
        }
    }

    // 127.0.0.2 guesses (unknown names, so no name's own throttle is involved) until both
    // replicas refuse it: each replica lets an address do 3 password checks a minute, and
    // it has used one of its 6 for the login above (a token comes back every 20 s).
    let mut checked = 0;
    let mut refused_in_a_row = 0;
    for i in 0..20 {
        let response = two
            .post(nginx.url("/v1/authorization"))
            .json(&json!({"user": format!("ghost{i}"), "password": WRONG}))
            .send()
            .await
            .unwrap();
        match response.status().as_u16() {
            401 => {
                checked += 1;
                refused_in_a_row = 0;
            }
            429 => {
                assert!(response.headers().contains_key("retry-after"));
                let body: Value = response.json().await.unwrap();
                assert!(
                    body["message"].as_str().unwrap().contains("from this address"),
                    "{body}"
                );
                refused_in_a_row += 1;
                if refused_in_a_row == 2 {
                    break;
                }
            }
            other => panic!("guess {i}: {other}"),
        }
    }
    assert_eq!(
        refused_in_a_row, 2,
        "127.0.0.2 was never refused by both replicas"
    );
    let refills = 2 * (begun.elapsed().as_secs() / 20 + 1);
    assert!(
        checked <= 5 + refills,
        "{checked} guesses from 127.0.0.2 were checked"
    );

    // Meanwhile 127.0.0.3 (the same proxy in between) is not throttled: its wrong passwords
    // are checked, on both replicas.
    for _ in 0..2 {
        let (status, body) = login(&three, nginx.url("/v1/authorization"), "admin", WRONG).await;
        assert_eq!(status, 401, "127.0.0.3 paid for 127.0.0.2's guesses: {body}");
    }

    // nginx saw the two clients, and the limit's work went to both replicas.
    let log = nginx
        .access_log_once(|log| {
            ["127.0.0.2", "127.0.0.3"]
                .iter()
                .all(|c| log.iter().any(|a| a.client == *c))
        })
        .await;
    let clients: HashSet<&str> = log.iter().map(|a| a.client.as_str()).collect();
    assert!(
        clients.contains("127.0.0.2") && clients.contains("127.0.0.3"),
        "{log:?}"
    );
    let served: HashSet<&str> = log
        .iter()
        .flat_map(|a| a.upstreams.iter().map(String::as_str))
        .collect();
    assert!(
        served.contains(stack.a.addr.as_str()) && served.contains(stack.b.addr.as_str()),
        "{log:?}"
    );
}

// --- Tests: a replica killed mid-run ----------------------------------------------------

/// One registration through nginx: its status, or why there was none.
async fn register(client: &reqwest::Client, url: &str, name: &str, phone: u64) -> Result<u16, String> {
    let body = json!({"user": name, "password": PASSWORD, "phone": format!("+86{phone}"),
                      "realName": name, "isAdmin": false});
    match client.post(url).json(&body).send().await {
        Ok(response) => Ok(response.status().as_u16()),
        Err(err) => Err(err.to_string()),
    }
}

#[tokio::test]
#[ignore = "needs OTE_TEST_POSTGRES_URL and nginx; ./x test provides them"]
async fn a_replica_killed_while_clients_write_through_nginx_costs_no_acknowledged_write() {
    let Some(server) = postgres_server() else { return };
    let mut stack = Stack::start(&server, &[], None).await;
    const WRITERS: u64 = 4;
    let url = stack.nginx.url("/v1/user");
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged_count = Arc::new(AtomicUsize::new(0));
    // (name, answer, when the request was sent)
    type Outcome = (String, Result<u16, String>, Instant);
    let writers: Vec<tokio::task::JoinHandle<Vec<Outcome>>> = (0..WRITERS)
        .map(|w| {
            let (url, stop, count) = (url.clone(), stop.clone(), acknowledged_count.clone());
            tokio::spawn(async move {
                let client = client_from([127, 0, 0, 2]);
                let mut outcomes = Vec::new();
                for i in 0u64.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let name = format!("w{w}n{i}");
                    let sent = Instant::now();
                    let answer = register(&client, &url, &name, 13_800_000_000 + w * 100_000 + i).await;
                    if answer == Ok(200) {
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                    outcomes.push((name, answer, sent));
                }
                outcomes
            })
        })
        .collect();

    let wait_for = |target: usize| {
        let count = acknowledged_count.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(60);
            while count.load(Ordering::Relaxed) < target {
                assert!(Instant::now() < deadline, "fewer than {target} writes in 60 s");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    wait_for(20).await;
    // Mid-run, at a moment nobody chose.
    tokio::time::sleep(Duration::from_millis(rand_u64() % 300)).await;
    let before_kill = acknowledged_count.load(Ordering::Relaxed);
    stack.a.kill();
    let killed_at = Instant::now();
    wait_for(before_kill + 40).await;
    // Past A's rest, so nginx tries it again: refused, the request goes to B instead.
    tokio::time::sleep(
        (killed_at + FAIL_TIMEOUT + Duration::from_secs(2)).saturating_duration_since(Instant::now()),
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    let mut outcomes = Vec::new();
    for writer in writers {
        outcomes.extend(writer.await.unwrap());
    }

    let acknowledged: Vec<&str> = outcomes
        .iter()
        .filter(|(_, answer, _)| *answer == Ok(200))
        .map(|(name, _, _)| name.as_str())
        .collect();
    let failed: Vec<&Outcome> = outcomes
        .iter()
        .filter(|(_, answer, _)| *answer != Ok(200))
        .collect();
    println!(
        "{} registrations through nginx, {} acknowledged ({} after the kill), {} not: {:?}",
        outcomes.len(),
        acknowledged.len(),
        outcomes
            .iter()
            .filter(|(_, a, sent)| *a == Ok(200) && *sent > killed_at)
            .count(),
        failed.len(),
        failed
            .iter()
            .map(|(n, a, _)| format!("{n}: {a:?}"))
            .collect::<Vec<_>>()
    );

    // Every acknowledged registration is in the database.
    let mut db = sqlx::PgConnection::connect(&stack.database).await.unwrap();
    let stored: HashSet<String> = sqlx::query_scalar("SELECT user_name FROM users")
        .fetch_all(&mut db)
        .await
        .unwrap()
        .into_iter()
        .collect();
    let lost: Vec<&&str> = acknowledged.iter().filter(|n| !stored.contains(**n)).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged registrations are not in the database: {lost:?}",
        lost.len(),
        acknowledged.len()
    );
    // What nginx said about the kill, and that it tried A again after its rest, was
    // refused, and passed the request on.
    let errors = stack.nginx.error_log();
    for line in errors.lines().filter(|l| l.contains("upstream")) {
        println!("nginx: {}", line.split(", client:").next().unwrap_or(line));
    }
    assert!(
        errors.contains("Connection refused"),
        "nginx never tried the stopped replica again"
    );
    // Only a request sent to A as it died may fail (nginx does not pass on a POST it has
    // sent): one in flight per writer, or one sent on a kept-alive connection to A that
    // nginx had not yet seen close; none sent a second after the kill.
    assert!(
        failed.len() <= 2 * WRITERS as usize,
        "{} failed: {failed:?}",
        failed.len()
    );
    let late: Vec<&&Outcome> = failed
        .iter()
        .filter(|(_, _, sent)| *sent > killed_at + Duration::from_secs(1))
        .collect();
    assert!(
        late.is_empty(),
        "writes still failed a second after the kill: {late:?}"
    );
    for answer in failed.iter().map(|(_, answer, _)| answer) {
        assert!(
            matches!(answer, Ok(502) | Err(_)),
            "a failed write answered {answer:?}"
        );
    }
    // And both replicas had written before the kill.
    let log = stack.nginx.access_log();
    let served: HashSet<&str> = log
        .iter()
        .filter(|a| a.status == 200)
        .flat_map(|a| a.upstreams.last().map(String::as_str))
        .collect();
    assert!(
        served.contains(stack.a.addr.as_str()) && served.contains(stack.b.addr.as_str()),
        "{served:?}"
    );
}

// --- Tests: readiness -------------------------------------------------------------------

/// A TCP relay on 127.0.0.1 in front of the PostgreSQL server, which the test can cut
/// (every connection through it closed, new ones closed at once) and restore: one
/// replica's database becomes unreachable while the other's stays. Plain threads, so it
/// relays whatever the test's runtime is doing.
struct Relay {
    addr: String,
    /// Whether it is cut, and the connections through it.
    state: Arc<Mutex<(bool, Vec<TcpStream>)>>,
}

impl Relay {
    fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let state: Arc<Mutex<(bool, Vec<TcpStream>)>> = Arc::default();
        let shared = state.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let mut state = shared.lock().unwrap();
                if state.0 {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&target) else {
                    continue;
                };
                state.1.push(client.try_clone().unwrap());
                state.1.push(server.try_clone().unwrap());
                pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
                pipe(server, client);
            }
        });
        Self { addr, state }
    }

    fn cut(&self) {
        let mut state = self.state.lock().unwrap();
        state.0 = true;
        for stream in state.1.drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.state.lock().unwrap().0 = false;
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(Shutdown::Both);
    });
}

/// Asks `url` until it answers `want`; fails after `within`.
async fn until_status(client: &reqwest::Client, url: String, want: u16, within: Duration) -> Duration {
    let begun = Instant::now();
    loop {
        let status = get(client, url.clone()).await;
        if status == want {
            return begun.elapsed();
        }
        assert!(
            begun.elapsed() < within,
            "{url} still answers {status}, not {want}, after {} s",
            within.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
#[ignore = "needs OTE_TEST_POSTGRES_URL and nginx; ./x test provides them"]
async fn a_replica_without_its_database_is_not_ready_and_nginx_passes_its_503s_to_the_other() {
    let Some(server) = postgres_server() else { return };
    let target = {
        let url = url::Url::parse(&server).unwrap();
        format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432))
    };
    let relay = Relay::start(target.clone());
    let via_relay = |database: &str| database.replacen(&target, &relay.addr, 1);
    let stack = Stack::start(&server, &[], Some(&via_relay)).await;
    let (a, b, nginx) = (&stack.a, &stack.b, &stack.nginx);
    let client = client_from([127, 0, 0, 2]);
    for replica in [a, b] {
        assert_eq!(get(&client, replica.url("/readyz")).await, 200);
    }
    let (status, body) = login(&client, nginx.url("/v1/authorization"), "admin", ADMIN_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();
    let users = |url: String| call(&client, reqwest::Method::GET, url, Some(&token), None);

    // B loses its database: not ready (503), still alive (200); A is ready.
    relay.cut();
    let took = until_status(&client, b.url("/readyz"), 503, Duration::from_secs(20)).await;
    println!(
        "B answered /readyz 503 {} ms after its database went",
        took.as_millis()
    );
    assert_eq!(get(&client, b.url("/healthz")).await, 200);
    assert_eq!(get(&client, a.url("/readyz")).await, 200);
    // Its API answers 503 too (nothing internal shown), which nginx passes to A.
    let (status, _) = users(b.url("/v1/admin/user")).await;
    assert_eq!(status, 503, "B's API without its database");

    // Through nginx every /readyz is 200: the ones B answers 503 are passed to A
    // (`proxy_next_upstream http_503`), and after `max_fails` of them nginx rests B.
    let rested = Instant::now();
    for _ in 0..10 {
        assert_eq!(get(&client, nginx.url("/readyz")).await, 200);
    }
    let log = nginx.access_log();
    let passed_on: Vec<&Access> = log
        .iter()
        .filter(|l| l.request == "GET /readyz" && l.upstreams == [b.addr.clone(), a.addr.clone()])
        .collect();
    assert!(
        !passed_on.is_empty() && passed_on.iter().all(|l| l.upstream_statuses == ["503", "200"]),
        "no /readyz was passed from B to A: {log:?}"
    );

    // While B is rested, the API through nginx is A's alone, and works: logins and reads.
    let seen = log.len();
    for _ in 0..3 {
        let (status, body) = login(&client, nginx.url("/v1/authorization"), "admin", ADMIN_PASSWORD).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = users(nginx.url("/v1/admin/user")).await;
        assert_eq!(status, 200, "{body}");
    }
    assert!(
        rested.elapsed() < FAIL_TIMEOUT,
        "the API checks took longer than B's rest; they prove nothing"
    );
    // nginx writes a line after it answered: the last lines may come late.
    let not_readyz = |log: &[Access]| {
        log[seen.min(log.len())..]
            .iter()
            .filter(|l| l.request != "GET /readyz")
            .count()
    };
    let log = nginx.access_log_once(|log| not_readyz(log) >= 6).await;
    let api: Vec<&Access> = log[seen..]
        .iter()
        .filter(|l| l.request != "GET /readyz")
        .collect();
    assert_eq!(api.len(), 6, "{api:?}");
    assert!(
        api.iter().all(|l| l.upstreams == [a.addr.clone()]),
        "an API request went to B while it was rested: {api:?}"
    );

    // B's database returns: B is ready again, and once its rest is over nginx sends it
    // requests again.
    relay.restore();
    until_status(&client, b.url("/readyz"), 200, Duration::from_secs(30)).await;
    let deadline = Instant::now() + FAIL_TIMEOUT * 3;
    loop {
        let (status, body) = users(nginx.url("/v1/admin/user")).await;
        assert_eq!(status, 200, "{body}");
        let log = nginx.access_log();
        if log.last().is_some_and(|l| l.upstreams == [b.addr.clone()]) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "nginx never sent B a request again: {log:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

// --- Tests: the deployment files --------------------------------------------------------

#[test]
fn the_nginx_site_is_valid_nginx_and_keeps_what_the_portal_needs() {
    let template = std::fs::read_to_string(NGINX_SITE).unwrap();
    let directives: Vec<&str> = template
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    for needed in [
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header Host $host;",
        "proxy_next_upstream error timeout http_503;",
        "server @REPLICA_1@ max_fails=2 fail_timeout=10s;",
        "server @REPLICA_2@ max_fails=2 fail_timeout=10s;",
    ] {
        assert!(directives.contains(&needed), "deploy/nginx.conf lacks `{needed}`");
    }
    assert!(template.contains("no active health checks"));
    let Some(nginx) = nginx_binary() else {
        eprintln!("SKIPPED the nginx -t check: nginx is not installed (apt-get install nginx)");
        return;
    };
    let dir = configure(free_port(), ["127.0.0.1:1", "127.0.0.1:2"]);
    let output = nginx_command(&nginx, dir.path()).arg("-t").output().unwrap();
    assert!(
        output.status.success(),
        "nginx -t: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_systemd_unit_passes_systemd_analyze_verify() {
    let unit = std::fs::read_to_string(SYSTEMD_UNIT).unwrap();
    let lines: Vec<&str> = unit.lines().map(str::trim).collect();
    for needed in [
        "DynamicUser=yes",
        "StateDirectory=ote-portal",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "Restart=on-failure",
        "EnvironmentFile=-/etc/ote-portal/env",
        "Environment=DATABASE_URL=sqlite:///var/lib/ote-portal/ote.db",
        "Environment=OTE_TRUSTED_PROXIES=127.0.0.1/32",
        "ExecStart=/usr/local/bin/ote-portal",
    ] {
        assert!(
            lines.contains(&needed),
            "deploy/ote-portal.service lacks `{needed}`"
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Environment=LEPTOS_SITE_ROOT="))
    );
    let Ok(found) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!(
            "SKIPPED systemd-analyze verify: systemd-analyze is not installed (Debian's systemd package)"
        );
        return;
    };
    assert!(found.status.success());
    // verify also checks that ExecStart= exists: the copy runs the binary just built (the
    // unit's path is /usr/local/bin/ote-portal, installed by hand). Nothing else differs.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("ote-portal.service");
    std::fs::write(
        &copy,
        unit.replace(
            "ExecStart=/usr/local/bin/ote-portal",
            &format!("ExecStart={}", env!("CARGO_BIN_EXE_ote-portal")),
        ),
    )
    .unwrap();
    let output = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&copy)
        .output()
        .unwrap();
    // verify exits 0 on unknown keys and merely warns: any word from it is a failure.
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && said.trim().is_empty(),
        "systemd-analyze verify deploy/ote-portal.service: {said}"
    );
}
