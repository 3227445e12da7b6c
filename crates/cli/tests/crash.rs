//! Durability: kill the server with SIGKILL while many workers submit, restart it, and check that every submit
//! that was acknowledged with a 200 is present exactly once and that no item has more annotations than its
//! overlap. Runs on SQLite, and on PostgreSQL when `FAIRLOOP_TEST_DATABASE_URL` is set.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;

use common::{
    admin_token, create_project, create_workers, export_jsonl, fresh_postgres, import_items, start,
};
const OVERLAP: u64 = 2;
const WORKERS: usize = 16;

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
    let pid = create_project(&http, &server.url, &auth, OVERLAP).await;
    import_items(&http, &server.url, &auth, pid, 400).await;
    let tokens = create_workers(&http, &server.url, &auth, WORKERS).await;

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
    let export = export_jsonl(&http, &server.url, &auth, pid).await;
    let mut seen: HashMap<i64, usize> = HashMap::new();
    let mut items = 0;
    for item in &export {
        items += 1;
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
