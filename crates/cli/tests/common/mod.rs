//! Helpers for tests that run the real `fairloop` binary as a separate process.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_fairloop");

pub struct Server {
    pub child: Child,
    pub url: String,
}

/// Starts `fairloop serve` on a free port and waits for its ready line.
pub fn start(data_dir: &std::path::Path, db: &Option<String>) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data_dir);
    if let Some(url) = db {
        cmd.args(["--database-url", url]);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(Instant::now() < deadline, "server did not start");
        let line = lines
            .next()
            .expect("server exited before it was ready")
            .unwrap();
        if line.contains("listening on http://") {
            break;
        }
    }
    Server {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

pub fn admin_token(data_dir: &std::path::Path, db: &Option<String>) -> String {
    let mut cmd = Command::new(BIN);
    cmd.args([
        "users",
        "add",
        "--email",
        "admin@crash.test",
        "--role",
        "admin",
        "--org",
        "Crash",
    ])
    .arg("--data-dir")
    .arg(data_dir);
    if let Some(url) = db {
        cmd.args(["--database-url", url]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string()
}

pub async fn fresh_postgres() -> Option<String> {
    use sqlx::Connection;
    let url = std::env::var("FAIRLOOP_TEST_DATABASE_URL").ok()?;
    let name = format!(
        "fl_crash_{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let (base, _) = url.rsplit_once('/').unwrap();
    Some(format!("{base}/{name}"))
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Creates a project with the minimal single-choice template; returns its id.
pub async fn create_project(http: &reqwest::Client, url: &str, auth: &str, overlap: u64) -> i64 {
    let project: Value = http
        .post(format!("{url}/api/v1/projects"))
        .header("authorization", auth)
        .json(&json!({"name": "load", "overlap": overlap, "max_open_per_worker": 1,
            "template": {"fields":[{"name":"text","type":"text"}],
                "questions":[{"name":"label","type":"single_choice","options":["a","b"],"required":true}]}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    project["id"].as_i64().unwrap()
}

/// Imports `n` items; asserts they were created.
pub async fn import_items(http: &reqwest::Client, url: &str, auth: &str, pid: i64, n: usize) {
    let items: String = (0..n)
        .map(|i| format!("{{\"id\":\"c{i}\",\"data\":{{\"text\":\"t{i}\"}}}}\n"))
        .collect();
    let r = http
        .post(format!("{url}/api/v1/projects/{pid}/items"))
        .header("authorization", auth)
        .header("content-type", "application/x-ndjson")
        .body(items)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

/// Creates `n` workers through the admin API; returns their tokens.
pub async fn create_workers(
    http: &reqwest::Client,
    url: &str,
    auth: &str,
    n: usize,
) -> Vec<String> {
    let mut tokens = Vec::new();
    for w in 0..n {
        let u: Value = http
            .post(format!("{url}/api/v1/users"))
            .header("authorization", auth)
            .json(&json!({"email": format!("w{w}@load.test"), "role": "worker"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        tokens.push(u["token"].as_str().unwrap().to_string());
    }
    tokens
}

/// Reads a project's JSONL export.
pub async fn export_jsonl(http: &reqwest::Client, url: &str, auth: &str, pid: i64) -> Vec<Value> {
    let text = http
        .get(format!("{url}/api/v1/projects/{pid}/export?format=jsonl"))
        .header("authorization", auth)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
