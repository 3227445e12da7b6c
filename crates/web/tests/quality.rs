//! Gold items, live quality and adaptive overlap end to end: the real router over a fresh database per scenario,
//! on SQLite and (with `FAIRLOOP_TEST_DATABASE_URL`) PostgreSQL. The quality job is driven step by step, as the
//! server's loop would run it.

mod common;

use common::{TestApp, expect_error, expect_status, on_every_backend};
use fairloop_app::quality::QualityJob;
use fairloop_domain::Role;
use fairloop_domain::time::now_millis;
use fairloop_store::portable::Tx;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A template with a single-choice and a rating question.
fn template() -> Value {
    json!({
        "fields": [{"name": "text", "type": "text"}],
        "questions": [
            {"name": "label", "type": "single_choice", "options": ["a", "b", "c"], "required": true},
            {"name": "score", "type": "rating", "min": 1, "max": 5}
        ]
    })
}

/// Runs the quality job until every project is up to date; answers how many steps did something.
async fn run_quality(app: &TestApp) -> usize {
    let job = QualityJob::new(app.app.clone());
    let mut steps = 0;
    while job.try_run_one(now_millis()).await.expect("quality step") {
        steps += 1;
        assert!(steps < 50, "the quality job does not settle");
    }
    steps
}

async fn quality(app: &TestApp, token: &str, project: i64) -> Value {
    expect_status(
        app.get(token, &format!("/api/v1/projects/{project}/quality"))
            .await,
        StatusCode::OK,
    )
    .await
}

/// Claims, asserting the response has exactly the shape of any task (a gold item is not recognizable).
async fn claim_task(app: &TestApp, token: &str, project: i64) -> (i64, String) {
    let task = app.claim(token, project).await;
    let mut keys: Vec<&str> = task
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["assignment_id", "expires_at", "item"], "{task}");
    let mut item_keys: Vec<&str> = task["item"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    item_keys.sort_unstable();
    assert_eq!(item_keys, ["data", "id"], "{task}");
    (
        task["assignment_id"].as_i64().unwrap(),
        task["item"]["id"].as_str().unwrap().to_string(),
    )
}

async fn gold_free_slots(app: &TestApp) -> Vec<i64> {
    app.app
        .store
        .read_tx(|tx: &dyn Tx| {
            tx.query(
                "SELECT free_slots FROM items WHERE gold IS NOT NULL ORDER BY id",
                &[],
            )?
            .iter()
            .map(|r| r.i64(0))
            .collect()
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn gold_items_are_mixed_in_once_per_worker_scored_and_kept_out_of_exports() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let w1 = app.user("acme", "w1@acme.test", Role::Worker).await;
        let w2 = app.user("acme", "w2@acme.test", Role::Worker).await;
        let w3 = app.user("acme", "w3@acme.test", Role::Worker).await;
        let r = app
            .create_project(&req.token, &json!({"name": "gold", "template": template(), "gold_rate": 1.0,
                "max_open_per_worker": 1}))
            .await;
        let created = expect_status(r, StatusCode::CREATED).await;
        assert_eq!(created["quality"], json!({"gold_rate": 1.0, "adaptive_overlap": null}));
        let project = created["id"].as_i64().unwrap();
        let got = expect_status(app.get_project(&req.token, project).await, StatusCode::OK).await;
        assert_eq!(got["quality"]["gold_rate"], 1.0);
        let items = "{\"id\":\"n1\",\"data\":{\"text\":\"one\"}}\n{\"id\":\"n2\",\"data\":{\"text\":\"two\"}}\n\
            {\"id\":\"g1\",\"data\":{\"text\":\"three\"},\"gold\":{\"label\":\"a\",\"score\":4}}\n\
            {\"id\":\"g2\",\"data\":{\"text\":\"four\"},\"gold\":{\"label\":\"b\"}}\n";
        app.items(&req.token, project, items).await;
        assert_eq!(gold_free_slots(&app).await, [0, 0], "gold items never enter the normal queue");

        // At a gold rate of 1 every claim tries gold first: each gold item once, then the normal items.
        let mut seen = Vec::new();
        for _ in 0..4 {
            let (assignment, item) = claim_task(&app, &w1.token, project).await;
            let answers = match item.as_str() {
                "g1" => json!({"label": "a", "score": 4}),
                "g2" => json!({"label": "a"}),
                _ => json!({"label": "c"}),
            };
            expect_status(app.submit(&w1.token, assignment, answers, None).await, StatusCode::OK).await;
            seen.push(item);
        }
        assert_eq!(seen, ["g1", "g2", "n1", "n2"]);
        expect_status(app.next(&w1.token, project).await, StatusCode::NO_CONTENT).await;
        // The normal items are done (overlap 1); the second worker still gets each gold item once, then nothing.
        let (a, item) = claim_task(&app, &w2.token, project).await;
        assert_eq!(item, "g1");
        expect_status(app.submit(&w2.token, a, json!({"label": "b"}), None).await, StatusCode::OK).await;
        let (a, item) = claim_task(&app, &w2.token, project).await;
        assert_eq!(item, "g2");
        expect_status(app.submit(&w2.token, a, json!({"label": "b"}), None).await, StatusCode::OK).await;
        expect_status(app.next(&w2.token, project).await, StatusCode::NO_CONTENT).await;
        // Gold answers never count against the overlap: the normal items are complete, gold items are not "items".
        let stats = app.stats_json(&req.token, project).await;
        assert_eq!(stats["annotations"], 6);
        // A skipped gold lease gives its slot back to zero, not into the normal queue.
        let (a, item) = claim_task(&app, &w3.token, project).await;
        assert_eq!(item, "g1");
        assert_eq!(gold_free_slots(&app).await, [-3, -2]);
        expect_status(app.skip(&w3.token, a, "unsure").await, StatusCode::NO_CONTENT).await;
        assert_eq!(gold_free_slots(&app).await, [-2, -2]);

        assert!(run_quality(&app).await >= 1);
        let q = quality(&app, &req.token, project).await;
        let workers = q["workers"].as_array().unwrap();
        let by_id = |id: i64| workers.iter().find(|w| w["worker_id"] == id).unwrap().clone();
        // w1: g1 fully right (label and score), g2 wrong: mean 0.5. w2: g1 wrong (score missing too), g2 right.
        assert_eq!(by_id(w1.id)["gold_answers"], 2);
        assert_eq!(by_id(w1.id)["gold_accuracy"], 0.5);
        assert_eq!(by_id(w1.id)["submissions"], 2);
        assert_eq!(by_id(w2.id)["gold_answers"], 2);
        assert_eq!(by_id(w2.id)["gold_accuracy"], 0.5);
        assert_eq!(by_id(w2.id)["submissions"], 0);
        assert_eq!(q["items"], 2, "gold items get no aggregate: {q}");

        // Exports leave gold items out unless asked; each line carries its stored aggregate.
        let lines = app.export_jsonl(&req.token, project).await;
        let ids: Vec<&str> = lines.iter().map(|l| l["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["n1", "n2"]);
        assert_eq!(lines[0]["quality"]["answer"], json!({"label": "c"}));
        assert_eq!(lines[0]["quality"]["confidence"], 1.0);
        assert_eq!(lines[0]["quality"]["agreement"], Value::Null, "one answer: agreement undefined");
        assert!(lines[0].get("gold").is_none());
        let r = app
            .get(&req.token, &format!("/api/v1/projects/{project}/export?format=jsonl&include_gold=true"))
            .await;
        let text = expect_text(r).await;
        let all: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let ids: Vec<&str> = all.iter().map(|l| l["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["n1", "n2", "g1", "g2"]);
        assert_eq!(all[2]["gold"], json!({"label": "a", "score": 4}));
        assert_eq!(all[2]["annotations"].as_array().unwrap().len(), 2);
        // Parquet leaves gold items out too (the aggregate is in its `extra` JSON column).
        let r = app.export(&req.token, project, "parquet").await;
        assert_eq!(r.status(), StatusCode::OK);
        use parquet::file::reader::FileReader;
        let parquet = r.bytes().await.unwrap();
        let reader = parquet::file::reader::SerializedFileReader::new(parquet).unwrap();
        assert_eq!(reader.metadata().file_metadata().num_rows(), 2);
        for row in reader.get_row_iter(None).unwrap() {
            let row = row.unwrap();
            let extra = row
                .get_column_iter()
                .find(|(name, _)| name.as_str() == "extra")
                .map(|(_, f)| match f {
                    parquet::record::Field::Str(s) => serde_json::from_str::<Value>(s).unwrap(),
                    other => panic!("extra is JSON text, got {other:?}"),
                })
                .unwrap();
            assert_eq!(extra["quality"]["answer"], json!({"label": "c"}), "{extra}");
            assert!(extra.get("gold").is_none());
        }
        // CSV carries the aggregate in three extra columns after the questions.
        let csv = expect_text(app.export(&req.token, project, "csv").await).await;
        let header = csv.lines().next().unwrap();
        assert_eq!(
            header,
            "item_id,annotation_id,annotator,submitted_at,label,score,quality.answer,quality.confidence,quality.agreement"
        );
        assert!(!csv.contains("g1"), "{csv}");
    })
    .await;
}

async fn expect_text(r: reqwest::Response) -> String {
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.unwrap()
}

#[tokio::test]
async fn without_a_gold_rate_gold_items_are_never_handed_out() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let w = app.user("acme", "w@acme.test", Role::Worker).await;
        let project = app.project(&req.token, json!({"name": "p", "template": template()})).await;
        let items = "{\"id\":\"n1\",\"data\":{\"text\":\"one\"}}\n{\"id\":\"g1\",\"data\":{\"text\":\"x\"},\"gold\":{\"label\":\"a\"}}\n";
        app.items(&req.token, project, items).await;
        let (a, item) = claim_task(&app, &w.token, project).await;
        assert_eq!(item, "n1");
        expect_status(app.submit(&w.token, a, json!({"label": "a"}), None).await, StatusCode::OK).await;
        expect_status(app.next(&w.token, project).await, StatusCode::NO_CONTENT).await;
    })
    .await;
}

#[tokio::test]
async fn live_quality_aggregates_items_questions_and_workers_incrementally() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let workers = [
            app.user("acme", "w1@acme.test", Role::Worker).await,
            app.user("acme", "w2@acme.test", Role::Worker).await,
            app.user("acme", "w3@acme.test", Role::Worker).await,
        ];
        let project = app
            .project(&req.token, json!({"name": "live", "template": template(), "overlap": 3}))
            .await;
        let items = "{\"id\":\"i1\",\"data\":{\"text\":\"1\"}}\n{\"id\":\"i2\",\"data\":{\"text\":\"2\"}}\n{\"id\":\"i3\",\"data\":{\"text\":\"3\"}}\n";
        app.items(&req.token, project, items).await;
        // Before any work: no figures, and the job has nothing to do.
        assert_eq!(run_quality(&app).await, 0);
        let q = quality(&app, &req.token, project).await;
        assert_eq!(q["computed_at"], Value::Null);
        assert_eq!(q["questions"], json!([]));
        let plan = |item: &str, k: usize| match (item, k) {
            ("i1", _) => json!({"label": "a", "score": 3}),
            ("i2", 2) => json!({"label": "b", "score": 3}),
            ("i2", _) => json!({"label": "a", "score": 3}),
            (_, 0) => json!({"label": "a", "score": 3}),
            (_, 1) => json!({"label": "b", "score": 3}),
            _ => json!({"label": "c", "score": 3}),
        };
        for (k, w) in workers.iter().enumerate() {
            for _ in 0..3 {
                let (a, item) = claim_task(&app, &w.token, project).await;
                expect_status(app.submit(&w.token, a, plan(&item, k), None).await, StatusCode::OK).await;
            }
        }
        assert_eq!(run_quality(&app).await, 1);
        assert_eq!(run_quality(&app).await, 0, "nothing new: nothing to do");
        let q = quality(&app, &req.token, project).await;
        assert!(q["computed_at"].is_string());
        assert_eq!(q["items"], 3);
        let questions = q["questions"].as_array().unwrap();
        let label = questions.iter().find(|x| x["question"] == "label").unwrap();
        assert_eq!(label["metric"], "krippendorff_alpha_nominal");
        let pct = label["percent_agreement"].as_f64().unwrap();
        assert!((pct - 4.0 / 9.0).abs() < 1e-12, "{label}");
        let alpha = label["alpha"].as_f64().unwrap();
        assert!(alpha.is_finite() && alpha < 1.0, "{label}");
        assert!(label["fleiss_kappa"].as_f64().is_some(), "{label}");
        // Every score is 3: alpha is undefined, said in words, never NaN.
        let score = questions.iter().find(|x| x["question"] == "score").unwrap();
        assert_eq!(score["metric"], "krippendorff_alpha_ordinal");
        assert_eq!(score["alpha"], Value::Null);
        assert!(score["note"].as_str().unwrap().contains("undefined"), "{score}");
        assert_eq!(score["percent_agreement"], 1.0);
        // Per worker: w1 always agrees with the aggregate on labels, w3 disagrees on i2 and i3.
        let ws = q["workers"].as_array().unwrap();
        let of = |id: i64| ws.iter().find(|w| w["worker_id"] == id).unwrap().clone();
        assert_eq!(of(workers[0].id)["submissions"], 3);
        assert_eq!(of(workers[0].id)["agreement"], 1.0);
        assert_eq!(of(workers[2].id)["agreement"], 4.0 / 6.0);
        assert_eq!(of(workers[2].id)["gold_accuracy"], Value::Null);
        // Item figures through the export.
        let lines = app.export_jsonl(&req.token, project).await;
        let item = |id: &str| lines.iter().find(|l| l["id"] == id).unwrap()["quality"].clone();
        assert_eq!(item("i1")["agreement"], 1.0);
        assert_eq!(item("i1")["confidence"], 1.0);
        assert_eq!(item("i1")["answer"], json!({"label": "a", "score": 3}));
        assert_eq!(item("i1")["method"], "majority");
        // i2: label pairs 1 of 3 agree, score all agree: mean (1/3 + 1) / 2; vote shares 2/3 and 1.
        let i2 = item("i2");
        assert!((i2["agreement"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-12, "{i2}");
        assert!((i2["confidence"].as_f64().unwrap() - 5.0 / 6.0).abs() < 1e-12, "{i2}");
        assert_eq!(item("i3")["answer"]["label"], "a", "a three-way tie goes to the first option");
        let hist = q["agreement_histogram"].as_array().unwrap();
        assert_eq!(hist.iter().map(|v| v.as_i64().unwrap()).sum::<i64>(), 3);
        assert_eq!(q["low_agreement_items"], 0);
        // The stats carry the headline figures.
        let stats = app.stats_json(&req.token, project).await;
        assert_eq!(stats["quality"]["items"], 3);
        assert_eq!(stats["quality"]["low_agreement_items"], 0);
        assert_eq!(stats["quality"]["gold_answers"], 0);
        assert_eq!(stats["quality"]["computed_at"], q["computed_at"]);
        let mean = stats["quality"]["mean_agreement"].as_f64().unwrap();
        assert!((mean - (1.0 + 2.0 / 3.0 + 0.5) / 3.0).abs() < 1e-12, "{stats}");
    })
    .await;
}

#[tokio::test]
async fn adaptive_overlap_asks_one_more_worker_only_when_answers_disagree() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let mut ws = Vec::new();
        for k in 0..4 {
            ws.push(app.user("acme", &format!("w{k}@acme.test"), Role::Worker).await);
        }
        let project = app
            .project(&req.token, json!({"name": "adaptive", "template": template(), "overlap": 2,
                "adaptive_overlap": {"threshold": 0.7, "max_overlap": 3}}))
            .await;
        let items = "{\"id\":\"agree\",\"data\":{\"text\":\"1\"}}\n{\"id\":\"split\",\"data\":{\"text\":\"2\"}}\n";
        app.items(&req.token, project, items).await;
        for (k, w) in ws.iter().take(2).enumerate() {
            for _ in 0..2 {
                let (a, item) = claim_task(&app, &w.token, project).await;
                let label = if item == "split" && k == 1 { "b" } else { "a" };
                expect_status(app.submit(&w.token, a, json!({"label": label}), None).await, StatusCode::OK).await;
            }
        }
        // Both items have their overlap: nobody else gets work until the job looks at the answers.
        expect_status(app.next(&ws[2].token, project).await, StatusCode::NO_CONTENT).await;
        run_quality(&app).await;
        // The split item got one more slot, the agreed one did not.
        let (a, item) = claim_task(&app, &ws[2].token, project).await;
        assert_eq!(item, "split");
        expect_status(app.submit(&ws[2].token, a, json!({"label": "c"}), None).await, StatusCode::OK).await;
        expect_status(app.next(&ws[2].token, project).await, StatusCode::NO_CONTENT).await;
        run_quality(&app).await;
        // Still split, but at max_overlap (3): no further worker.
        expect_status(app.next(&ws[3].token, project).await, StatusCode::NO_CONTENT).await;
        let q = quality(&app, &req.token, project).await;
        assert_eq!(q["adapted_items"], 1);
        assert_eq!(q["extra_slots"], 1);
        assert_eq!(q["low_agreement_items"], 1);
        assert_eq!(q["settings"]["adaptive_overlap"], json!({"threshold": 0.7, "max_overlap": 3}));
    })
    .await;
}

#[tokio::test]
async fn quality_is_only_for_the_projects_organization_and_its_requesters() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let worker = app.user("acme", "w@acme.test", Role::Worker).await;
        let other = app.user("globex", "req@globex.test", Role::Requester).await;
        let project = app
            .project(
                &req.token,
                json!({"name": "p", "template": template(), "gold_rate": 0.2}),
            )
            .await;
        expect_error(
            app.get(&other.token, &format!("/api/v1/projects/{project}/quality"))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        expect_error(
            app.get_project(&other.token, project).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        expect_error(
            app.get(
                &worker.token,
                &format!("/api/v1/projects/{project}/quality"),
            )
            .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        // The other organization's store calls see nothing either.
        let err = app
            .app
            .store
            .quality_report(other.org_id, project)
            .await
            .unwrap_err();
        assert!(
            matches!(err, fairloop_store::StoreError::NotFound),
            "{err:?}"
        );
        let err = app
            .app
            .store
            .quality_settings(other.org_id, project)
            .await
            .unwrap_err();
        assert!(
            matches!(err, fairloop_store::StoreError::NotFound),
            "{err:?}"
        );
        let err = app
            .app
            .store
            .set_quality_settings(other.org_id, project, Default::default())
            .await
            .unwrap_err();
        assert!(
            matches!(err, fairloop_store::StoreError::NotFound),
            "{err:?}"
        );
        let q = quality(&app, &req.token, project).await;
        assert_eq!(q["settings"]["gold_rate"], 0.2);
    })
    .await;
}

#[tokio::test]
async fn bad_quality_settings_name_the_field() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let body = |extra: Value| {
            let mut b = json!({"name": "p", "template": template(), "overlap": 2});
            for (k, v) in extra.as_object().unwrap() {
                b[k] = v.clone();
            }
            b
        };
        let e = expect_error(
            app.create_project(&req.token, &body(json!({"gold_rate": 1.5})))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_quality",
        )
        .await;
        assert_eq!(e["details"]["field"], "gold_rate");
        let e = expect_error(
            app.create_project(
                &req.token,
                &body(json!({"adaptive_overlap": {"threshold": 0.5, "max_overlap": 2}})),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_quality",
        )
        .await;
        assert_eq!(e["details"]["field"], "adaptive_overlap.max_overlap");
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains("above the overlap (2)"),
            "{e}"
        );
        let e = expect_error(
            app.create_project(
                &req.token,
                &body(json!({"adaptive_overlap": {"threshold": 2, "max_overlap": 3}})),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_quality",
        )
        .await;
        assert_eq!(e["details"]["field"], "adaptive_overlap.threshold");
        expect_error(
            app.create_project(
                &req.token,
                &body(json!({"adaptive_overlap": {"threshold": 0.5}})),
            )
            .await,
            StatusCode::BAD_REQUEST,
            "invalid_body",
        )
        .await;
        // Nothing was created by the refused requests.
        let list = expect_status(
            app.get(&req.token, "/api/v1/projects").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(list, json!([]));
        // The endpoint is described.
        let doc = expect_status(app.get_anon("/api/openapi.json").await, StatusCode::OK).await;
        assert!(doc["paths"]["/api/v1/projects/{id}/quality"]["get"].is_object());
    })
    .await;
}

#[tokio::test]
async fn concurrent_workers_with_gold_never_break_the_overlap_or_see_a_gold_item_twice() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let mut workers = Vec::new();
        for k in 0..6 {
            workers.push(
                app.user("acme", &format!("w{k}@acme.test"), Role::Worker)
                    .await,
            );
        }
        let project = app
            .project(
                &req.token,
                json!({"name": "busy", "template": template(), "overlap": 2,
                "gold_rate": 0.5}),
            )
            .await;
        let mut lines = String::new();
        for i in 0..8 {
            lines.push_str(&format!(
                "{{\"id\":\"n{i}\",\"data\":{{\"text\":\"{i}\"}}}}\n"
            ));
        }
        for i in 0..3 {
            lines.push_str(&format!(
                "{{\"id\":\"g{i}\",\"data\":{{\"text\":\"g{i}\"}},\"gold\":{{\"label\":\"a\"}}}}\n"
            ));
        }
        app.items(&req.token, project, &lines).await;
        let api = &app.api;
        let runs = workers.iter().map(|w| async move {
            let mut seen = Vec::new();
            loop {
                let r = api.next(&w.token, project).await;
                if r.status() == StatusCode::NO_CONTENT {
                    return seen;
                }
                let task = expect_status(r, StatusCode::OK).await;
                let item = task["item"]["id"].as_str().unwrap().to_string();
                let a = task["assignment_id"].as_i64().unwrap();
                expect_status(
                    api.submit(&w.token, a, json!({"label": "a"}), None).await,
                    StatusCode::OK,
                )
                .await;
                seen.push(item);
            }
        });
        let seen: Vec<Vec<String>> = futures_util::future::join_all(runs).await;
        for s in &seen {
            let mut sorted = s.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), s.len(), "a worker got an item twice: {s:?}");
        }
        let normal: usize = seen.iter().flatten().filter(|i| i.starts_with('n')).count();
        assert_eq!(normal, 16, "every normal item got exactly its overlap of 2");
        assert!(gold_free_slots(&app).await.iter().all(|&f| f <= 0));
        let stats = app.stats_json(&req.token, project).await;
        let gold: usize = seen.iter().flatten().filter(|i| i.starts_with('g')).count();
        assert_eq!(stats["annotations"], (normal + gold) as i64);
    })
    .await;
}

#[tokio::test]
async fn shape_questions_get_live_agreement_a_consensus_and_gold_scores() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let w1 = app.user("acme", "w1@acme.test", Role::Worker).await;
        let w2 = app.user("acme", "w2@acme.test", Role::Worker).await;
        let template = json!({
            "fields": [{"name": "img", "type": "image"}],
            "questions": [{"name": "cars", "type": "boxes", "field": "img", "labels": ["car"], "prefill": "pred",
                           "gold": {"threshold": 0.3}}]
        });
        let created = expect_status(
            app.create_project(&req.token, &json!({"name": "boxes", "template": template, "overlap": 2,
                "gold_rate": 1.0, "max_open_per_worker": 1}))
                .await,
            StatusCode::CREATED,
        )
        .await;
        let project = created["id"].as_i64().unwrap();
        // A pre-drawn box outside the picture is refused at import, naming the data key.
        let bad = "{\"id\":\"x\",\"data\":{\"img\":\"a.png\",\"pred\":[{\"x\":0.9,\"y\":0.1,\"w\":0.2,\"h\":0.2,\"label\":\"car\"}]}}\n";
        let r = expect_status(app.import_jsonl(&req.token, project, bad, None).await, StatusCode::BAD_REQUEST).await;
        assert!(r.to_string().contains("pred") && r.to_string().contains("pre-drawn"), "{r}");
        // The items' images are uploaded first: an image field's key must name a stored file.
        let png = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scan-320x240.png"),
        )
        .unwrap();
        for key in ["a.png", "b.png"] {
            let r = app
                .api
                .client
                .post(app.api.url(&format!("/api/v1/media?key={key}")))
                .bearer_auth(&req.token)
                .body(png.clone())
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{key}: {}", r.text().await.unwrap());
        }
        let b = |x: f64| json!({"x": x, "y": 0.1, "w": 0.2, "h": 0.2, "label": "car"});
        let items = format!(
            "{}\n{}\n",
            json!({"id": "n1", "data": {"img": "a.png", "pred": [b(0.1)]}}),
            json!({"id": "g1", "data": {"img": "b.png"}, "gold": {"cars": [b(0.1)]}})
        );
        app.items(&req.token, project, &items).await;
        // Each worker gets the gold item first, then the normal one. w1 draws the gold box exactly and n1 at 0.1;
        // w2 draws them 0.1 to the right (IoU 1/3 with the others).
        for (w, x) in [(&w1, 0.1), (&w2, 0.2)] {
            for _ in 0..2 {
                let (a, _) = claim_task(&app, &w.token, project).await;
                expect_status(app.submit(&w.token, a, json!({"cars": [b(x)]}), None).await, StatusCode::OK).await;
            }
        }
        assert!(run_quality(&app).await >= 1);
        let q = quality(&app, &req.token, project).await;
        let row = &q["questions"][0];
        assert_eq!(row["question"], "cars");
        assert_eq!(row["metric"], "mean_iou");
        assert_eq!(row["alpha"], Value::Null);
        assert!((row["percent_agreement"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-9, "{q}");
        // Gold at threshold 0.3: w1 exact (1), w2 at IoU 1/3 >= 0.3 (1 as well).
        let workers = q["workers"].as_array().unwrap();
        for w in workers {
            assert_eq!(w["gold_accuracy"], 1.0, "{q}");
        }
        // The item's aggregate is the consensus; two answers 1/3 apart form no majority cluster: nothing agreed.
        let lines = app.export_jsonl(&req.token, project).await;
        assert_eq!(lines[0]["quality"]["answer"], json!({"cars": []}), "{}", lines[0]);
        assert!((lines[0]["quality"]["agreement"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-9);
    })
    .await;
}
