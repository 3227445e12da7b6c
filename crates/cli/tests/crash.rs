//! Durability: kill the server with SIGKILL while many workers submit, restart it, and check that every submit
//! that was acknowledged with a 200 is present exactly once and that no item has more annotations than its
//! overlap. Runs on SQLite, and on PostgreSQL when `FAIRLOOP_TEST_DATABASE_URL` is set.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_fairloop");
const OVERLAP: u64 = 2;
const WORKERS: usize = 16;

struct Server {
    child: Child,
    url: String,
}

/// Starts `fairloop serve` on a free port and waits for its ready line.
fn start(data_dir: &std::path::Path, db: &Option<String>) -> Server {
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

fn admin_token(data_dir: &std::path::Path, db: &Option<String>) -> String {
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

async fn fresh_postgres() -> Option<String> {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_submits_survive_sigkill() {
    let mut dbs: Vec<Option<String>> = vec![None];
    if let Some(pg) = fresh_postgres().await {
        dbs.push(Some(pg));
    } else if std::env::var("FAIRLOOP_REQUIRE_POSTGRES").is_ok() {
        panic!("FAIRLOOP_REQUIRE_POSTGRES is set but FAIRLOOP_TEST_DATABASE_URL is not");
    }
    for db in dbs {
        run_crash_scenario(db).await;
    }
}

async fn run_crash_scenario(db: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let token = admin_token(dir.path(), &db);
    let mut server = start(dir.path(), &db);
    let http = reqwest::Client::new();
    let auth = format!("Bearer {token}");
    let project: Value = http
        .post(format!("{}/api/v1/projects", server.url))
        .header("authorization", &auth)
        .json(&json!({"name": "crash", "overlap": OVERLAP, "max_open_per_worker": 1,
            "template": {"fields":[{"name":"text","type":"text"}],
                "questions":[{"name":"label","type":"single_choice","options":["a","b"],"required":true}]}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pid = project["id"].as_i64().unwrap();
    let items: String = (0..400)
        .map(|i| format!("{{\"id\":\"c{i}\",\"data\":{{\"text\":\"t{i}\"}}}}\n"))
        .collect();
    let r = http
        .post(format!("{}/api/v1/projects/{pid}/items", server.url))
        .header("authorization", &auth)
        .header("content-type", "application/x-ndjson")
        .body(items)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let mut tokens = Vec::new();
    for w in 0..WORKERS {
        let u: Value = http
            .post(format!("{}/api/v1/users", server.url))
            .header("authorization", &auth)
            .json(&json!({"email": format!("w{w}@crash.test"), "role": "worker"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        tokens.push(u["token"].as_str().unwrap().to_string());
    }

    // Workers submit as fast as they can; every 200 is recorded.
    let acked: Arc<Mutex<Vec<i64>>> = Arc::default();
    let mut tasks = Vec::new();
    for (w, token) in tokens.iter().enumerate() {
        let (http, url, acked, token) = (
            http.clone(),
            server.url.clone(),
            acked.clone(),
            token.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for n in 0.. {
                let next = http
                    .post(format!("{url}/api/v1/projects/{pid}/assignments/next"))
                    .header("authorization", format!("Bearer {token}"))
                    .timeout(Duration::from_secs(5))
                    .send()
                    .await;
                let Ok(next) = next else { return };
                if next.status() != 200 {
                    return;
                }
                let Ok(task) = next.json::<Value>().await else {
                    return;
                };
                let aid = task["assignment_id"].as_i64().unwrap();
                let sub = http
                    .post(format!("{url}/api/v1/assignments/{aid}/submit"))
                    .header("authorization", format!("Bearer {token}"))
                    .header("idempotency-key", format!("w{w}-{n}"))
                    .timeout(Duration::from_secs(5))
                    .json(&json!({"answers": {"label": "a"}}))
                    .send()
                    .await;
                match sub {
                    Ok(r) if r.status() == 200 => {
                        let Ok(body) = r.json::<Value>().await else {
                            return;
                        };
                        acked
                            .lock()
                            .unwrap()
                            .push(body["annotation_id"].as_i64().unwrap());
                    }
                    _ => return,
                }
            }
        }));
    }
    // Let the load run, then kill the process without warning.
    let started = Instant::now();
    while acked.lock().unwrap().len() < 150 && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.child.kill().unwrap(); // SIGKILL on Unix
    server.child.wait().unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    eprintln!(
        "{} submits acknowledged before SIGKILL ({})",
        acked.len(),
        if db.is_some() { "postgres" } else { "sqlite" }
    );
    assert!(
        acked.len() >= 150,
        "too few submits before the kill: {}",
        acked.len()
    );

    // Restart and check the export.
    let mut server = start(dir.path(), &db);
    let export = http
        .get(format!(
            "{}/api/v1/projects/{pid}/export?format=jsonl",
            server.url
        ))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut seen: HashMap<i64, usize> = HashMap::new();
    let mut items = 0;
    for line in export.lines() {
        items += 1;
        let item: Value = serde_json::from_str(line).unwrap();
        let anns = item["annotations"].as_array().unwrap();
        assert!(
            anns.len() as u64 <= OVERLAP,
            "item {} has {} annotations",
            item["id"],
            anns.len()
        );
        let annotators: HashSet<&str> = anns
            .iter()
            .map(|a| a["annotator"].as_str().unwrap())
            .collect();
        assert_eq!(
            annotators.len(),
            anns.len(),
            "a worker answered item {} twice",
            item["id"]
        );
        for a in anns {
            *seen
                .entry(a["annotation_id"].as_str().unwrap().parse().unwrap())
                .or_default() += 1;
        }
    }
    assert_eq!(items, 400);
    for id in &acked {
        assert_eq!(
            seen.get(id),
            Some(&1),
            "acknowledged annotation {id} is missing or duplicated after the crash"
        );
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}
