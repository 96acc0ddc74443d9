//! The log as a shipper reads it (SPEC.md section 11): with `OTE_LOG_FORMAT=json` every
//! line of the real binary's output is one JSON object, and every line logged while a
//! request is answered names that request's `x-request-id`, the client's or a generated one.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct Portal {
    child: Child,
    url: String,
    lines: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Drop for Portal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_json_portal() -> Portal {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ote-portal"))
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/ote.db", dir.path().display()),
        )
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("OTE_ADMIN_PASSWORD", "Sysadmin1pass")
        .env("OTE_LOG_FORMAT", "json")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the binary starts");
    let mut reader = BufReader::new(child.stdout.take().unwrap()).lines();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let url = loop {
        let line = reader.next().expect("the portal reports its address").unwrap();
        lines.lock().unwrap().push(line.clone());
        if let Some(at) = line.find("listening on ") {
            let rest = &line[at + "listening on ".len()..];
            break rest.split('"').next().unwrap().to_owned();
        }
    };
    let kept = lines.clone();
    std::thread::spawn(move || {
        for line in reader.map_while(Result::ok) {
            kept.lock().unwrap().push(line);
        }
    });
    Portal {
        child,
        url,
        lines,
        _dir: dir,
    }
}

#[tokio::test]
async fn json_lines_carry_the_request_id_of_the_request_they_belong_to() {
    let portal = start_json_portal();
    let client = reqwest::Client::new();
    let login = serde_json::json!({"user": "root", "password": "Wrong1pass"});
    let given = client
        .post(format!("{}/v1/authorization", portal.url))
        .header("x-request-id", "given-id-1")
        .json(&login)
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "given-id-1");
    let made = client
        .get(format!("{}/v1/admin/user", portal.url))
        .send()
        .await
        .unwrap();
    let made = made.headers()["x-request-id"].to_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let lines = portal.lines.lock().unwrap().clone();
    let parsed: Vec<Value> = lines
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    for id in ["given-id-1", made.as_str()] {
        let of_request: Vec<&Value> = parsed
            .iter()
            .filter(|line| line["span"]["request_id"] == id)
            .collect();
        let messages: Vec<&str> = of_request
            .iter()
            .filter_map(|line| line["message"].as_str())
            .collect();
        assert!(
            messages.contains(&"started processing request")
                && messages.contains(&"finished processing request"),
            "request {id}: {messages:?}"
        );
    }
    // Every line logged inside a request's span names its id.
    for line in &parsed {
        if line["span"]["name"] == "request" {
            let id = line["span"]["request_id"].as_str().unwrap_or_default();
            assert!(!id.is_empty(), "a request's line without its id: {line}");
        }
    }
    // What the client sent is not logged: no password, and not the query or headers.
    assert!(
        !lines
            .iter()
            .any(|line| line.contains("Wrong1pass") || line.contains("Sysadmin1pass"))
    );
}
