//! Two `serve` processes on one PostgreSQL database: workers alternate between them, and the queue still never
//! hands an item to more workers than its overlap, nor twice to one worker. Needs `FAIRLOOP_TEST_DATABASE_URL`
//! (CI sets it; with `FAIRLOOP_REQUIRE_POSTGRES` a missing URL fails the test).

mod common;

use std::collections::HashSet;

use common::{
    admin_token, create_project, create_workers, export_jsonl, fresh_postgres, import_items, start,
};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_one_queue_without_breaking_overlap() {
    let Some(db) = fresh_postgres().await else {
        assert!(
            std::env::var("FAIRLOOP_REQUIRE_POSTGRES").is_err(),
            "FAIRLOOP_REQUIRE_POSTGRES is set but FAIRLOOP_TEST_DATABASE_URL is not"
        );
        eprintln!("skipped: FAIRLOOP_TEST_DATABASE_URL is not set");
        return;
    };
    let db = Some(db);
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let token = admin_token(dir_a.path(), &db);
    let a = start(dir_a.path(), &db);
    let b = start(dir_b.path(), &db);
    let http = reqwest::Client::new();
    let auth = format!("Bearer {token}");
    const OVERLAP: u64 = 3;
    const ITEMS: usize = 60;
    let pid = create_project(&http, &a.url, &auth, OVERLAP).await;
    import_items(&http, &b.url, &auth, pid, ITEMS).await;
    let tokens = create_workers(&http, &a.url, &auth, 10).await;
    let urls = [a.url.clone(), b.url.clone()];
    let mut tasks = Vec::new();
    for (w, token) in tokens.into_iter().enumerate() {
        let (http, urls) = (http.clone(), urls.clone());
        tasks.push(tokio::spawn(async move {
            let mut done = 0;
            for n in 0.. {
                // Alternate servers on every request.
                let url = &urls[(w + n) % 2];
                let next = http
                    .post(format!("{url}/api/v1/projects/{pid}/assignments/next"))
                    .header("authorization", format!("Bearer {token}"))
                    .send()
                    .await
                    .unwrap();
                if next.status() == 204 {
                    return done;
                }
                assert_eq!(next.status(), 200);
                let task: Value = next.json().await.unwrap();
                let aid = task["assignment_id"].as_i64().unwrap();
                let url = &urls[(w + n + 1) % 2];
                let sub = http
                    .post(format!("{url}/api/v1/assignments/{aid}/submit"))
                    .header("authorization", format!("Bearer {token}"))
                    .json(&json!({"answers": {"label": "b"}}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(sub.status(), 200, "{}", sub.text().await.unwrap());
                done += 1;
            }
            done
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(
        total,
        ITEMS * OVERLAP as usize,
        "every slot filled exactly once across both servers"
    );
    for item in export_jsonl(&http, &b.url, &auth, pid).await {
        let anns = item["annotations"].as_array().unwrap();
        assert_eq!(anns.len() as u64, OVERLAP, "item {}", item["id"]);
        let who: HashSet<&str> = anns
            .iter()
            .map(|a| a["annotator"].as_str().unwrap())
            .collect();
        assert_eq!(
            who.len(),
            anns.len(),
            "a worker got item {} twice",
            item["id"]
        );
    }
}
