//! The public HTTP contract (docs/api-contract.md), end to end: the real router on a random port, a real client,
//! and a fresh database per scenario, on SQLite and (with `FAIRLOOP_TEST_DATABASE_URL`) on PostgreSQL.
//!
//! Each test asserts exact statuses and error codes, and that whatever was saved before a failed request is still
//! there, unchanged, afterwards.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};

use common::{
    Api, TestApp, assert_error_shape, expect_error, expect_status, jsonl_items, minimal_template,
    on_every_backend, on_every_backend_with, pairwise_template,
};
use fairloop_app::AppConfig;
use fairloop_domain::Role;
use fairloop_domain::time::now_millis;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// An id as a string, whether the API sent it as a number or a string.
fn id_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("not an id: {other}"),
    }
}

fn ids_of(export: &[Value]) -> Vec<String> {
    export.iter().map(|l| id_str(&l["id"])).collect()
}

fn assert_stats(stats: &Value, items: i64, annotations: i64, completed: i64, open: i64) {
    assert_eq!(
        (
            &stats["items"],
            &stats["annotations"],
            &stats["completed_items"],
            &stats["open_assignments"]
        ),
        (
            &json!(items),
            &json!(annotations),
            &json!(completed),
            &json!(open)
        ),
        "stats (items, annotations, completed_items, open_assignments): {stats}"
    );
}

fn minimal_project(overlap: u32) -> Value {
    json!({"name": "Sentiment", "template": minimal_template(), "overlap": overlap})
}

fn is_pseudonym(s: &str) -> bool {
    s.strip_prefix("a_")
        .is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

// ---- 1. Happy path ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn happy_path_import_claim_submit_stats_and_export() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let workers = [
            app.user("acme", "w1@acme.test", Role::Worker).await,
            app.user("acme", "w2@acme.test", Role::Worker).await,
            app.user("acme", "w3@acme.test", Role::Worker).await,
        ];
        let project = app.project(&req.token, minimal_project(3)).await;
        let shown = expect_status(app.get_project(&req.token, project).await, StatusCode::OK).await;
        assert_eq!(shown["id"], project);
        assert_eq!(shown["overlap"], 3);
        assert_eq!(shown["template"]["questions"][0]["name"], "label");

        // Import, then re-import the same external ids (with other data): a no-op.
        let items = "{\"id\":\"i1\",\"data\":{\"text\":\"first\"}}\n{\"id\":\"i2\",\"data\":{\"text\":\"second\"}}\n";
        let r = expect_status(app.import_jsonl(&req.token, project, items, None).await, StatusCode::CREATED).await;
        assert_eq!((&r["imported"], &r["duplicates"], &r["errors"]), (&json!(2), &json!(0), &json!([])));
        let changed = "{\"id\":\"i1\",\"data\":{\"text\":\"CHANGED\"}}\n{\"id\":\"i2\",\"data\":{\"text\":\"CHANGED\"}}\n";
        let r = expect_status(app.import_jsonl(&req.token, project, changed, None).await, StatusCode::OK).await;
        assert_eq!((&r["imported"], &r["duplicates"]), (&json!(0), &json!(2)));
        assert_stats(&app.stats_json(&req.token, project).await, 2, 0, 0, 0);

        // Each worker answers both items: i1 gets a, a, b (majority a), i2 gets c, b, c (majority c).
        let plan: HashMap<&str, [&str; 3]> = HashMap::from([("i1", ["a", "a", "b"]), ("i2", ["c", "b", "c"])]);
        let mut annotation_worker: HashMap<String, usize> = HashMap::new();
        for (k, w) in workers.iter().enumerate() {
            for _ in 0..2 {
                let task = app.claim(&w.token, project).await;
                let item = task["item"]["id"].as_str().expect("item id").to_string();
                let expected_text = if item == "i1" { "first" } else { "second" };
                assert_eq!(task["item"]["data"], json!({"text": expected_text}), "{task}");
                let expires = task["expires_at"].as_str().expect("expires_at");
                assert!(expires.contains('T') && expires.len() >= 20, "expires_at is RFC 3339: {expires}");
                let assignment = task["assignment_id"].as_i64().expect("assignment_id");
                assert_eq!(app.stats_json(&req.token, project).await["open_assignments"], 1);
                let r = app.submit(&w.token, assignment, json!({"label": plan[item.as_str()][k]}), None).await;
                let done = expect_status(r, StatusCode::OK).await;
                assert!(done["annotation_id"].is_i64(), "{done}");
                assert_eq!(done["replayed"], false);
                annotation_worker.insert(id_str(&done["annotation_id"]), k);
            }
            expect_status(app.next(&w.token, project).await, StatusCode::NO_CONTENT).await;
        }
        assert_stats(&app.stats_json(&req.token, project).await, 2, 6, 2, 0);

        // JSONL export: one line per item, pseudonymous annotators, majority aggregate.
        let r = app.export(&req.token, project, "jsonl").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "application/x-ndjson");
        let text = r.text().await.unwrap();
        for w in &workers {
            assert!(!text.contains(&w.email) && !text.contains("@acme.test"), "an email leaked into the export");
        }
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(ids_of(&lines), ["i1", "i2"]);
        let mut pseudonym_of: HashMap<usize, String> = HashMap::new();
        for line in &lines {
            let item = line["id"].as_str().unwrap();
            let original = if item == "i1" { "first" } else { "second" };
            assert_eq!(line["data"], json!({"text": original}), "re-import must not change data");
            let anns = line["annotations"].as_array().unwrap();
            assert_eq!(anns.len(), 3);
            let mut labels = Vec::new();
            for a in anns {
                let k = annotation_worker[&id_str(&a["annotation_id"])];
                let p = a["annotator"].as_str().unwrap();
                assert!(is_pseudonym(p), "annotator {p:?} is not a pseudonym a_…");
                assert!(!p.contains('@') && !p.contains("acme"), "{p}");
                assert_ne!(p, format!("a_{}", workers[k].id));
                // Stable within the project: the same worker has the same pseudonym on both items.
                assert_eq!(pseudonym_of.entry(k).or_insert_with(|| p.to_string()), p);
                assert!(a["submitted_at"].as_str().is_some_and(|s| s.contains('T')), "{a}");
                assert!(a.as_object().unwrap().contains_key("guideline_version"), "{a}");
                assert_eq!(a["guideline_version"], Value::Null);
                labels.push(a["answers"]["label"].as_str().unwrap().to_string());
            }
            labels.sort();
            let mut expected: Vec<String> = plan[item].iter().map(|s| s.to_string()).collect();
            expected.sort();
            assert_eq!(labels, expected);
            let majority = if item == "i1" { "a" } else { "c" };
            assert_eq!(line["aggregate"]["label"], majority, "{line}");
        }
        let distinct: HashSet<&String> = pseudonym_of.values().collect();
        assert_eq!(distinct.len(), 3, "three workers, three pseudonyms");

        // The same worker in another project has another pseudonym.
        let other = app.project(&req.token, minimal_project(1)).await;
        app.items(&req.token, other, &jsonl_items("o", 0..1)).await;
        let task = app.claim(&workers[0].token, other).await;
        let r = app.submit(&workers[0].token, task["assignment_id"].as_i64().unwrap(), json!({"label": "a"}), None);
        expect_status(r.await, StatusCode::OK).await;
        let other_export = app.export_jsonl(&req.token, other).await;
        let p_other = other_export[0]["annotations"][0]["annotator"].as_str().unwrap();
        assert!(is_pseudonym(p_other));
        assert_ne!(p_other, pseudonym_of[&0], "pseudonyms must differ between projects");

        // Parquet: a valid file with one row per item.
        let r = app.export(&req.token, project, "parquet").await;
        assert_eq!(r.status(), StatusCode::OK);
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"), "not a Parquet file");
        use parquet::file::reader::FileReader;
        let reader = parquet::file::reader::SerializedFileReader::new(bytes).expect("readable Parquet");
        assert_eq!(reader.metadata().file_metadata().num_rows(), 2);

        // CSV: one row per annotation after the header.
        let r = app.export(&req.token, project, "csv").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let csv = r.text().await.unwrap();
        let rows: Vec<&str> = csv.lines().collect();
        // The existing columns, then the stored aggregate (docs/api.md, "Exports").
        assert_eq!(
            rows[0],
            "item_id,annotation_id,annotator,submitted_at,label,quality.answer,quality.confidence,quality.agreement"
        );
        assert_eq!(rows.len(), 1 + 6, "{csv}");
        assert!(!csv.contains("@acme.test"));

        // CSV does not apply to a pairwise template; an unknown format is refused.
        let pairwise =
            app.project(&req.token, json!({"name": "Pairs", "template": pairwise_template(), "overlap": 1})).await;
        expect_error(app.export(&req.token, pairwise, "csv").await, StatusCode::BAD_REQUEST, "format_unsupported")
            .await;
        expect_status(app.export(&req.token, pairwise, "jsonl").await, StatusCode::OK).await;
        expect_error(app.export(&req.token, project, "xlsx").await, StatusCode::BAD_REQUEST, "invalid_format").await;

        // Nothing above changed the first project.
        assert_stats(&app.stats_json(&req.token, project).await, 2, 6, 2, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_project_validates_the_body() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let bad_template = json!({"name": "x", "template": {"fields": [], "questions": []}});
        let e = expect_error(app.create_project(&req.token, &bad_template).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_template").await;
        assert!(e["details"]["path"].as_str().is_some_and(|p| p.starts_with("template")), "{e}");
        let zero_overlap = json!({"name": "x", "template": minimal_template(), "overlap": 0});
        expect_error(app.create_project(&req.token, &zero_overlap).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_policy").await;
        let blank_name = json!({"name": "  ", "template": minimal_template()});
        expect_error(app.create_project(&req.token, &blank_name).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_name").await;
        let unknown_field = json!({"name": "x", "template": minimal_template(), "colour": "red"});
        expect_error(app.create_project(&req.token, &unknown_field).await, StatusCode::BAD_REQUEST, "invalid_body").await;
        let pay = json!({"name": "x", "template": minimal_template(), "pay": {"model": "per_task", "amount_minor": 5, "currency": "usd"}});
        expect_error(app.create_project(&req.token, &pay).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_pay").await;
        let list = expect_status(app.get(&req.token, "/api/v1/projects").await, StatusCode::OK).await;
        assert_eq!(list, json!([]), "no failed request created a project");

        let ok = json!({"name": "Paid", "template": minimal_template(), "overlap": 2,
            "pay": {"model": "per_task", "amount_minor": 25, "currency": "USD"}, "budget_minor": 1000});
        let created = expect_status(app.create_project(&req.token, &ok).await, StatusCode::CREATED).await;
        assert!(created["id"].is_i64(), "{created}");
        let list = expect_status(app.get(&req.token, "/api/v1/projects").await, StatusCode::OK).await;
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert_eq!(list[0]["pay"]["amount_minor"], 25);
    })
    .await;
}

// ---- 2. Import of bad input ------------------------------------------------------------------------------------

/// Lines 2, 3, 5 and 6 are bad, for four different reasons; lines 1 and 4 are good.
const MIXED: &str = concat!(
    "{\"id\":\"n1\",\"data\":{\"text\":\"good one\"}}\n",
    "{not json\n",
    "{\"id\":\"n3\",\"data\":{}}\n",
    "{\"id\":\"n4\",\"data\":{\"text\":\"good four\"}}\n",
    "{\"id\":\"n5\",\"data\":{\"text\":\"x\"},\"colour\":\"red\"}\n",
    "{\"id\":\"n6\",\"data\":{\"text\":5}}\n",
);

fn error_lines(errors: &Value) -> Vec<u64> {
    errors
        .as_array()
        .expect("errors is a list")
        .iter()
        .map(|e| e["line"].as_u64().expect("line"))
        .collect()
}

fn assert_mixed_errors(errors: &Value) {
    assert_eq!(error_lines(errors), [2, 3, 5, 6], "{errors}");
    for e in errors.as_array().unwrap() {
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
    }
    let missing = errors[1]["message"].as_str().unwrap();
    assert!(
        missing.contains("data.text") && missing.contains("missing"),
        "names the missing field: {missing}"
    );
    assert!(
        errors[2]["message"].as_str().unwrap().contains("colour"),
        "{errors}"
    );
    assert!(
        errors[3]["message"].as_str().unwrap().contains("data.text"),
        "{errors}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atomic_import_with_bad_lines_saves_nothing_and_lists_every_bad_line() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let project = app.project(&req.token, minimal_project(1)).await;
        app.items(&req.token, project, &jsonl_items("g", 0..2))
            .await;
        let before = app.export_jsonl(&req.token, project).await;

        // The default mode is atomic; asking for it by name is the same.
        for mode in [None, Some("atomic")] {
            let e = expect_error(
                app.import_jsonl(&req.token, project, MIXED, mode).await,
                StatusCode::BAD_REQUEST,
                "invalid_lines",
            )
            .await;
            assert_mixed_errors(&e["details"]["errors"]);
            assert_eq!(e["details"]["error_count"], 4);
            assert_stats(&app.stats_json(&req.token, project).await, 2, 0, 0, 0);
            assert_eq!(
                app.export_jsonl(&req.token, project).await,
                before,
                "nothing was imported or changed"
            );
        }
        assert!(app.spool_files().is_empty(), "uploads are not left on disk");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_mode_import_saves_good_lines_and_lists_bad_ones() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let project = app.project(&req.token, minimal_project(1)).await;
        app.items(&req.token, project, &jsonl_items("g", 0..2))
            .await;
        let r = expect_status(
            app.import_jsonl(&req.token, project, MIXED, Some("skip"))
                .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(
            (&r["imported"], &r["duplicates"]),
            (&json!(2), &json!(0)),
            "{r}"
        );
        assert_mixed_errors(&r["errors"]);
        assert_stats(&app.stats_json(&req.token, project).await, 4, 0, 0, 0);
        let export = app.export_jsonl(&req.token, project).await;
        assert_eq!(ids_of(&export), ["g0", "g1", "n1", "n4"]);
        assert_eq!(export[3]["data"], json!({"text": "good four"}));

        // Again: the good lines are now duplicates, the bad ones still listed, nothing new.
        let r = expect_status(
            app.import_jsonl(&req.token, project, MIXED, Some("skip"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            (&r["imported"], &r["duplicates"]),
            (&json!(0), &json!(2)),
            "{r}"
        );
        assert_eq!(error_lines(&r["errors"]), [2, 3, 5, 6]);
        assert_stats(&app.stats_json(&req.token, project).await, 4, 0, 0, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_edge_cases_duplicates_in_one_file_empty_body_bad_mode_and_content_type() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let project = app.project(&req.token, minimal_project(1)).await;

        // The same id twice in one file: the first wins, the second is a duplicate (on both backends).
        let twice = "{\"id\":\"d\",\"data\":{\"text\":\"first\"}}\n{\"id\":\"d\",\"data\":{\"text\":\"second\"}}\n";
        let r = expect_status(app.import_jsonl(&req.token, project, twice, None).await, StatusCode::CREATED).await;
        assert_eq!((&r["imported"], &r["duplicates"]), (&json!(1), &json!(1)), "{r}");
        let export = app.export_jsonl(&req.token, project).await;
        assert_eq!(export.len(), 1);
        assert_eq!(export[0]["data"]["text"], "first");

        // External ids are per project: another project takes the same id as a new item.
        let other = app.project(&req.token, minimal_project(1)).await;
        let r = expect_status(
            app.import_jsonl(&req.token, other, twice, None).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!((&r["imported"], &r["duplicates"]), (&json!(1), &json!(1)), "{r}");

        // Items without an id are always new, and get an id of their own.
        let no_ids = "{\"data\":{\"text\":\"x\"}}\n{\"data\":{\"text\":\"x\"}}\n";
        let r = expect_status(app.import_jsonl(&req.token, project, no_ids, None).await, StatusCode::CREATED).await;
        assert_eq!((&r["imported"], &r["duplicates"]), (&json!(2), &json!(0)), "{r}");

        let r = expect_status(app.import_jsonl(&req.token, project, "", None).await, StatusCode::OK).await;
        assert_eq!((&r["imported"], &r["duplicates"]), (&json!(0), &json!(0)), "{r}");

        let good = jsonl_items("z", 0..1);
        expect_error(app.import_jsonl(&req.token, project, &good, Some("maybe")).await, StatusCode::BAD_REQUEST, "invalid_mode").await;
        expect_error(
            app.import(&req.token, project, "application/xml", good.clone().into_bytes(), None).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )
        .await;
        assert_stats(&app.stats_json(&req.token, project).await, 3, 0, 0, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_import_with_a_header_row() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let project = app.project(&req.token, minimal_project(1)).await;
        let csv = "id,text\r\nc1,hello\r\nc2,\"with, a comma\"\r\n";
        let r = expect_status(
            app.import_csv(&req.token, project, csv, None).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(
            (&r["imported"], &r["duplicates"]),
            (&json!(2), &json!(0)),
            "{r}"
        );
        let export = app.export_jsonl(&req.token, project).await;
        assert_eq!(ids_of(&export), ["c1", "c2"]);
        assert_eq!(export[1]["data"], json!({"text": "with, a comma"}));

        // Record 3 (counting the header as 1) has no text: atomic refuses all, skip saves the rest.
        let bad = "id,text\nc3,fine\nc4,\nc5,also fine\n";
        let e = expect_error(
            app.import_csv(&req.token, project, bad, None).await,
            StatusCode::BAD_REQUEST,
            "invalid_lines",
        )
        .await;
        assert_eq!(error_lines(&e["details"]["errors"]), [3]);
        assert!(
            e["details"]["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("data.text"),
            "{e}"
        );
        assert_stats(&app.stats_json(&req.token, project).await, 2, 0, 0, 0);
        let r = expect_status(
            app.import_csv(&req.token, project, bad, Some("skip")).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(r["imported"], 2);
        assert_eq!(error_lines(&r["errors"]), [3]);
        assert_eq!(
            ids_of(&app.export_jsonl(&req.token, project).await),
            ["c1", "c2", "c3", "c5"]
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_over_the_size_limit_is_413_and_keeps_earlier_items() {
    let config = AppConfig {
        max_import_bytes: 1024,
        ..AppConfig::default()
    };
    on_every_backend_with(config, async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let project = app.project(&req.token, minimal_project(1)).await;
        app.items(&req.token, project, &jsonl_items("k", 0..3))
            .await;
        let before = app.export_jsonl(&req.token, project).await;

        let big = jsonl_items("big", 0..100);
        assert!(big.len() > 2048);
        for mode in [None, Some("skip")] {
            let e = expect_error(
                app.import_jsonl(&req.token, project, &big, mode).await,
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
            )
            .await;
            assert!(
                e["message"].as_str().unwrap().contains("1024"),
                "says the limit: {e}"
            );
            assert_stats(&app.stats_json(&req.token, project).await, 3, 0, 0, 0);
            assert_eq!(app.export_jsonl(&req.token, project).await, before);
        }

        // Exactly at the limit is accepted.
        let head = "{\"id\":\"edge\",\"data\":{\"text\":\"";
        let tail = "\"}}\n";
        let edge = format!("{head}{}{tail}", "x".repeat(1024 - head.len() - tail.len()));
        assert_eq!(edge.len(), 1024);
        let r = expect_status(
            app.import_jsonl(&req.token, project, &edge, None).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(r["imported"], 1);
        assert_stats(&app.stats_json(&req.token, project).await, 4, 0, 0, 0);
        assert!(
            app.spool_files().is_empty(),
            "refused uploads are not left on disk"
        );
    })
    .await;
}

// ---- 3. Submit validation --------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_validates_answers_and_body_without_consuming_the_assignment() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let w = app.user("acme", "w@acme.test", Role::Worker).await;
        let project = app.project(&req.token, minimal_project(1)).await;
        app.items(&req.token, project, &jsonl_items("s", 0..1))
            .await;
        let a = app.claim(&w.token, project).await["assignment_id"]
            .as_i64()
            .unwrap();

        let e = expect_error(
            app.submit(&w.token, a, json!({"label": "z"}), None).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_answer",
        )
        .await;
        assert_eq!(e["details"]["errors"][0]["question"], "label", "{e}");
        assert!(
            e["details"]["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("\"z\""),
            "{e}"
        );

        let e = expect_error(
            app.submit(&w.token, a, json!({"label": "a", "bogus": 1}), None)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_answer",
        )
        .await;
        let questions: Vec<&str> = e["details"]["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["question"].as_str().unwrap())
            .collect();
        assert_eq!(questions, ["bogus"], "{e}");

        let e = expect_error(
            app.submit(&w.token, a, json!({}), None).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_answer",
        )
        .await;
        assert_eq!(e["details"]["errors"][0]["question"], "label", "{e}");
        assert!(
            e["details"]["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("required"),
            "{e}"
        );

        let e = expect_error(
            app.submit(&w.token, a, json!("a"), None).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_answer",
        )
        .await;
        assert_eq!(e["details"]["errors"].as_array().unwrap().len(), 1, "{e}");

        expect_error(
            app.submit_raw(&w.token, a, "{\"answers\": {\"label\": ")
                .await,
            StatusCode::BAD_REQUEST,
            "invalid_json",
        )
        .await;
        expect_error(
            app.submit_raw(
                &w.token,
                a,
                r#"{"answers": {"label": "a"}, "comment": "hi"}"#,
            )
            .await,
            StatusCode::BAD_REQUEST,
            "invalid_body",
        )
        .await;
        expect_error(
            app.submit_raw(&w.token, a, r#"{"label": "a"}"#).await,
            StatusCode::BAD_REQUEST,
            "invalid_body",
        )
        .await;
        let plain = app
            .client
            .post(app.url(&format!("/api/v1/assignments/{a}/submit")))
            .bearer_auth(&w.token)
            .header("content-type", "text/plain")
            .body(r#"{"answers":{"label":"a"}}"#)
            .send()
            .await
            .unwrap();
        expect_error(
            plain,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )
        .await;

        // Nothing was saved, and the lease is still the worker's.
        assert_stats(&app.stats_json(&req.token, project).await, 1, 0, 0, 1);
        let done = expect_status(
            app.submit(&w.token, a, json!({"label": "b"}), None).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(done["replayed"], false);
        assert_stats(&app.stats_json(&req.token, project).await, 1, 1, 1, 0);
        let export = app.export_jsonl(&req.token, project).await;
        assert_eq!(
            export[0]["annotations"][0]["answers"],
            json!({"label": "b"})
        );
        assert_eq!(
            id_str(&export[0]["annotations"][0]["annotation_id"]),
            id_str(&done["annotation_id"])
        );
    })
    .await;
}

// ---- 4. Idempotency --------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_key_replays_the_first_result_and_is_not_reusable() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let w = app.user("acme", "w@acme.test", Role::Worker).await;
        let w2 = app.user("acme", "w2@acme.test", Role::Worker).await;
        let project = app.project(&req.token, minimal_project(1)).await;
        app.items(&req.token, project, &jsonl_items("k", 0..3))
            .await;

        let a1 = app.claim(&w.token, project).await["assignment_id"]
            .as_i64()
            .unwrap();
        let first = expect_status(
            app.submit(&w.token, a1, json!({"label": "a"}), Some("key-1"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(first["replayed"], false);
        // A retry, even with other answers, returns the first result.
        let again = expect_status(
            app.submit(&w.token, a1, json!({"label": "c"}), Some("key-1"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(again["annotation_id"], first["annotation_id"]);
        assert_eq!(again["replayed"], true);
        assert_stats(&app.stats_json(&req.token, project).await, 3, 1, 1, 0);

        // Without a key, a second submit is a conflict.
        expect_error(
            app.submit(&w.token, a1, json!({"label": "a"}), None).await,
            StatusCode::CONFLICT,
            "already_submitted",
        )
        .await;
        // A new key on the submitted assignment is a conflict too, not a second annotation.
        expect_error(
            app.submit(&w.token, a1, json!({"label": "a"}), Some("key-x"))
                .await,
            StatusCode::CONFLICT,
            "already_submitted",
        )
        .await;

        // The same key on another assignment is refused, and that assignment stays open.
        let a2 = app.claim(&w.token, project).await["assignment_id"]
            .as_i64()
            .unwrap();
        assert_ne!(a1, a2);
        expect_error(
            app.submit(&w.token, a2, json!({"label": "b"}), Some("key-1"))
                .await,
            StatusCode::CONFLICT,
            "idempotency_key_reused",
        )
        .await;
        assert_stats(&app.stats_json(&req.token, project).await, 3, 1, 1, 1);
        expect_status(
            app.submit(&w.token, a2, json!({"label": "b"}), Some("key-2"))
                .await,
            StatusCode::OK,
        )
        .await;

        // Keys belong to a worker: another worker may use the same key for their own work.
        let a3 = app.claim(&w2.token, project).await["assignment_id"]
            .as_i64()
            .unwrap();
        let other = expect_status(
            app.submit(&w2.token, a3, json!({"label": "c"}), Some("key-1"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(other["replayed"], false);
        assert_ne!(other["annotation_id"], first["annotation_id"]);

        // A malformed key is refused before anything is saved.
        expect_error(
            app.submit(&w.token, a1, json!({"label": "a"}), Some("has space"))
                .await,
            StatusCode::BAD_REQUEST,
            "invalid_idempotency_key",
        )
        .await;

        assert_stats(&app.stats_json(&req.token, project).await, 3, 3, 3, 0);
        let export = app.export_jsonl(&req.token, project).await;
        assert_eq!(export[0]["annotations"].as_array().unwrap().len(), 1);
        assert_eq!(
            export[0]["annotations"][0]["answers"],
            json!({"label": "a"}),
            "the retry did not overwrite"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_retries_with_one_key_save_one_annotation() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let w = app.user("acme", "w@acme.test", Role::Worker).await;
        let project = app.project(&req.token, minimal_project(1)).await;
        app.items(&req.token, project, &jsonl_items("k", 0..1))
            .await;
        let a = app.claim(&w.token, project).await["assignment_id"]
            .as_i64()
            .unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (api, token) = (app.api(), w.token.clone());
                tokio::spawn(async move {
                    let r = api
                        .submit(&token, a, json!({"label": "a"}), Some("same-key"))
                        .await;
                    expect_status(r, StatusCode::OK).await
                })
            })
            .collect();
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.unwrap());
        }
        let ids: HashSet<String> = results
            .iter()
            .map(|r| id_str(&r["annotation_id"]))
            .collect();
        assert_eq!(
            ids.len(),
            1,
            "every retry returns the same annotation: {results:?}"
        );
        assert_eq!(
            results.iter().filter(|r| r["replayed"] == false).count(),
            1,
            "{results:?}"
        );
        assert_stats(&app.stats_json(&req.token, project).await, 1, 1, 1, 0);
    })
    .await;
}

// ---- 5. Queue rules --------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_workers_drain_a_project_respecting_overlap() {
    on_every_backend(async |app: TestApp| {
        const ITEMS: usize = 12;
        const OVERLAP: usize = 3;
        const WORKERS: usize = 6;
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let project = app
            .project(&req.token, minimal_project(OVERLAP as u32))
            .await;
        app.items(&req.token, project, &jsonl_items("q", 0..ITEMS))
            .await;
        let mut tasks = Vec::new();
        for i in 0..WORKERS {
            let w = app
                .user("acme", &format!("w{i}@acme.test"), Role::Worker)
                .await;
            let api: Api = app.api();
            tasks.push(tokio::spawn(async move {
                let mut seen: Vec<String> = Vec::new();
                loop {
                    let r = api.next(&w.token, project).await;
                    if r.status() == StatusCode::NO_CONTENT {
                        break;
                    }
                    let task = expect_status(r, StatusCode::OK).await;
                    let item = id_str(&task["item"]["id"]);
                    assert!(!seen.contains(&item), "{} got {item} twice", w.email);
                    seen.push(item);
                    let a = task["assignment_id"].as_i64().unwrap();
                    expect_status(
                        api.submit(&w.token, a, json!({"label": "a"}), None).await,
                        StatusCode::OK,
                    )
                    .await;
                }
                seen
            }));
        }
        let mut handed_out = 0;
        for t in tasks {
            handed_out += t.await.unwrap().len();
        }
        assert_eq!(handed_out, ITEMS * OVERLAP);
        assert_stats(
            &app.stats_json(&req.token, project).await,
            ITEMS as i64,
            (ITEMS * OVERLAP) as i64,
            ITEMS as i64,
            0,
        );
        let export = app.export_jsonl(&req.token, project).await;
        assert_eq!(export.len(), ITEMS);
        for line in &export {
            let annotators: HashSet<&str> = line["annotations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["annotator"].as_str().unwrap())
                .collect();
            assert_eq!(
                line["annotations"].as_array().unwrap().len(),
                OVERLAP,
                "{line}"
            );
            assert_eq!(annotators.len(), OVERLAP, "different workers: {line}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_returns_the_item_to_others_and_204_when_nothing_is_left() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let w1 = app.user("acme", "w1@acme.test", Role::Worker).await;
        let w2 = app.user("acme", "w2@acme.test", Role::Worker).await;
        let project = app.project(&req.token, minimal_project(1)).await;

        // An empty project has nothing to hand out.
        let r = app.next(&w1.token, project).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        assert!(r.bytes().await.unwrap().is_empty());

        app.items(&req.token, project, &jsonl_items("s", 0..1))
            .await;
        let task = app.claim(&w1.token, project).await;
        let a1 = task["assignment_id"].as_i64().unwrap();
        // w2 finds nothing while w1 holds the only slot.
        expect_status(app.next(&w2.token, project).await, StatusCode::NO_CONTENT).await;

        expect_status(
            app.skip(&w1.token, a1, "I do not read this language").await,
            StatusCode::NO_CONTENT,
        )
        .await;
        let stats = app.stats_json(&req.token, project).await;
        assert_stats(&stats, 1, 0, 0, 0);
        assert_eq!(stats["skipped_assignments"], 1);
        // Skipping again is harmless; submitting a skipped assignment is a conflict.
        expect_status(
            app.skip(&w1.token, a1, "again").await,
            StatusCode::NO_CONTENT,
        )
        .await;
        expect_error(
            app.submit(&w1.token, a1, json!({"label": "a"}), None).await,
            StatusCode::CONFLICT,
            "assignment_closed",
        )
        .await;
        // The skipper does not get it again; someone else does.
        expect_status(app.next(&w1.token, project).await, StatusCode::NO_CONTENT).await;
        let task2 = app.claim(&w2.token, project).await;
        assert_eq!(task2["item"], task["item"]);
        let a2 = task2["assignment_id"].as_i64().unwrap();
        expect_status(
            app.submit(&w2.token, a2, json!({"label": "c"}), None).await,
            StatusCode::OK,
        )
        .await;
        // A submitted assignment cannot be skipped.
        expect_error(
            app.skip(&w2.token, a2, "changed my mind").await,
            StatusCode::CONFLICT,
            "already_submitted",
        )
        .await;

        expect_status(app.next(&w1.token, project).await, StatusCode::NO_CONTENT).await;
        expect_status(app.next(&w2.token, project).await, StatusCode::NO_CONTENT).await;
        let stats = app.stats_json(&req.token, project).await;
        assert_stats(&stats, 1, 1, 1, 0);
        assert_eq!(stats["skipped_assignments"], 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn higher_priority_items_are_handed_out_first() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let w = app.user("acme", "w@acme.test", Role::Worker).await;
        let project = app.project(&req.token, minimal_project(1)).await;
        let body = concat!(
            "{\"id\":\"low\",\"data\":{\"text\":\"x\"}}\n",
            "{\"id\":\"high\",\"data\":{\"text\":\"x\"},\"priority\":10}\n",
            "{\"id\":\"mid\",\"data\":{\"text\":\"x\"},\"priority\":5}\n",
            "{\"id\":\"neg\",\"data\":{\"text\":\"x\"},\"priority\":-1}\n",
            "{\"id\":\"low2\",\"data\":{\"text\":\"x\"}}\n",
        );
        app.items(&req.token, project, body).await;
        let mut order = Vec::new();
        loop {
            let r = app.next(&w.token, project).await;
            if r.status() == StatusCode::NO_CONTENT {
                break;
            }
            let task = expect_status(r, StatusCode::OK).await;
            order.push(id_str(&task["item"]["id"]));
            let a = task["assignment_id"].as_i64().unwrap();
            expect_status(
                app.submit(&w.token, a, json!({"label": "a"}), None).await,
                StatusCode::OK,
            )
            .await;
        }
        // Priority first, then import order.
        assert_eq!(order, ["high", "mid", "low", "low2", "neg"]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_at_the_open_lease_cap_gets_their_oldest_lease_back() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let w = app.user("acme", "w@acme.test", Role::Worker).await;
        let body = json!({"name": "Cap", "template": minimal_template(), "overlap": 1, "max_open_per_worker": 2});
        let project = app.project(&req.token, body).await;
        app.items(&req.token, project, &jsonl_items("c", 0..5)).await;
        let t1 = app.claim(&w.token, project).await;
        let t2 = app.claim(&w.token, project).await;
        assert_ne!(t1["item"]["id"], t2["item"]["id"]);
        let t3 = app.claim(&w.token, project).await;
        assert_eq!(t3["assignment_id"], t1["assignment_id"], "at the cap, the oldest lease comes back");
        assert_eq!(app.stats_json(&req.token, project).await["open_assignments"], 2);
        let a1 = t1["assignment_id"].as_i64().unwrap();
        expect_status(app.submit(&w.token, a1, json!({"label": "a"}), None).await, StatusCode::OK).await;
        let t4 = app.claim(&w.token, project).await;
        assert_ne!(t4["item"]["id"], t1["item"]["id"]);
        assert_ne!(t4["item"]["id"], t2["item"]["id"]);
    })
    .await;
}

// ---- 6. Auth and tenancy ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_a_valid_token_are_401() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let project = app.project(&req.token, minimal_project(1)).await;
        let endpoints = [
            ("GET", "/api/v1/me".to_string()),
            ("GET", "/api/v1/projects".to_string()),
            ("POST", "/api/v1/projects".to_string()),
            ("GET", format!("/api/v1/projects/{project}")),
            ("GET", format!("/api/v1/projects/{project}/stats")),
            (
                "GET",
                format!("/api/v1/projects/{project}/export?format=jsonl"),
            ),
            ("POST", format!("/api/v1/projects/{project}/items")),
            (
                "POST",
                format!("/api/v1/projects/{project}/assignments/next"),
            ),
            ("POST", "/api/v1/assignments/1/submit".to_string()),
            ("POST", "/api/v1/assignments/1/skip".to_string()),
            ("POST", "/api/v1/users".to_string()),
            ("POST", "/api/v1/me/tokens".to_string()),
        ];
        let unknown = format!("fl_{}", "0".repeat(48));
        let headers: [Option<String>; 5] = [
            None,
            Some("Bearer garbage".into()),
            Some(format!("Basic {}", req.token)),
            Some(format!("Bearer {unknown}")),
            Some("Bearer ".into()),
        ];
        for (method, path) in &endpoints {
            for h in &headers {
                let mut r = app.client.request(method.parse().unwrap(), app.url(path));
                if let Some(h) = h {
                    r = r.header("authorization", h);
                }
                if *method == "POST" {
                    r = r.header("content-type", "application/json").body("{}");
                }
                let r = r.send().await.unwrap();
                expect_error(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
            }
        }
        assert_stats(&app.stats_json(&req.token, project).await, 0, 0, 0, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_stops_working_at_once() {
    on_every_backend(async |app: TestApp| {
        let w = app.user("acme", "w@acme.test", Role::Worker).await;
        let other = app.user("acme", "other@acme.test", Role::Worker).await;
        let me = expect_status(app.me(&w.token).await, StatusCode::OK).await;
        assert_eq!(
            (&me["user_id"], &me["org_id"], &me["role"], &me["email"]),
            (
                &json!(w.id),
                &json!(w.org_id),
                &json!("worker"),
                &json!(w.email)
            )
        );

        let issued = expect_status(
            app.create_token(&w.token, "script").await,
            StatusCode::CREATED,
        )
        .await;
        let (id, token) = (
            issued["id"].as_i64().unwrap(),
            issued["token"].as_str().unwrap().to_string(),
        );
        assert!(token.starts_with("fl_") && token != w.token);
        assert_eq!(
            expect_status(app.me(&token).await, StatusCode::OK).await["user_id"],
            w.id
        );

        // Someone else cannot revoke it.
        expect_error(
            app.revoke_token(&other.token, id).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        expect_status(app.me(&token).await, StatusCode::OK).await;

        expect_status(app.revoke_token(&w.token, id).await, StatusCode::NO_CONTENT).await;
        expect_error(
            app.me(&token).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        )
        .await;
        expect_error(
            app.revoke_token(&w.token, id).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        // The first token still works.
        expect_status(app.me(&w.token).await, StatusCode::OK).await;
        // A token can revoke itself.
        let issued = expect_status(
            app.create_token(&w.token, "short-lived").await,
            StatusCode::CREATED,
        )
        .await;
        let (id2, token2) = (
            issued["id"].as_i64().unwrap(),
            issued["token"].as_str().unwrap().to_string(),
        );
        expect_status(app.revoke_token(&token2, id2).await, StatusCode::NO_CONTENT).await;
        expect_error(
            app.me(&token2).await,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        )
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_cannot_use_requester_endpoints() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let w = app.user("acme", "w@acme.test", Role::Worker).await;
        let project = app.project(&req.token, minimal_project(1)).await;
        app.items(&req.token, project, &jsonl_items("x", 0..2))
            .await;
        let before = app.export_jsonl(&req.token, project).await;

        expect_error(
            app.create_project(&w.token, &minimal_project(1)).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        expect_error(
            app.import_jsonl(&w.token, project, &jsonl_items("w", 0..2), None)
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        expect_error(
            app.stats(&w.token, project).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        for format in ["jsonl", "parquet", "csv"] {
            expect_error(
                app.export(&w.token, project, format).await,
                StatusCode::FORBIDDEN,
                "forbidden",
            )
            .await;
        }
        // And a requester does not take work.
        expect_error(
            app.next(&req.token, project).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;

        assert_stats(&app.stats_json(&req.token, project).await, 2, 0, 0, 0);
        assert_eq!(app.export_jsonl(&req.token, project).await, before);
        let list = expect_status(
            app.get(&req.token, "/api/v1/projects").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(list.as_array().unwrap().len(), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_import_is_refused_before_the_body_is_read() {
    let config = AppConfig {
        max_import_bytes: 1024,
        ..AppConfig::default()
    };
    on_every_backend_with(config, async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let w = app.user("acme", "w@acme.test", Role::Worker).await;
        let project = app.project(&req.token, minimal_project(1)).await;
        let big = jsonl_items("w", 0..100);
        expect_error(
            app.import_jsonl(&w.token, project, &big, None).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_organization_sees_nothing_and_changes_nothing() {
    on_every_backend(async |app: TestApp| {
        let req_a = app.user("acme", "req@acme.test", Role::Requester).await;
        let w_a = app.user("acme", "w@acme.test", Role::Worker).await;
        let req_b = app.user("globex", "req@globex.test", Role::Requester).await;
        let w_b = app.user("globex", "w@globex.test", Role::Worker).await;
        let admin_b = app.user("globex", "admin@globex.test", Role::Admin).await;
        assert_ne!(req_a.org_id, req_b.org_id);

        let project = app.project(&req_a.token, minimal_project(1)).await;
        app.items(&req_a.token, project, &jsonl_items("a", 0..2))
            .await;
        let a = app.claim(&w_a.token, project).await["assignment_id"]
            .as_i64()
            .unwrap();
        expect_status(
            app.submit(&w_a.token, a, json!({"label": "b"}), None).await,
            StatusCode::OK,
        )
        .await;
        let open = app.claim(&w_a.token, project).await["assignment_id"]
            .as_i64()
            .unwrap();
        let stats_before = app.stats_json(&req_a.token, project).await;
        let export_before = app.export_jsonl(&req_a.token, project).await;

        // Org B's project ids and a project that does not exist look exactly alike.
        let missing = project + 1_000_000;
        for id in [project, missing] {
            for token in [&req_b.token, &admin_b.token] {
                let e = expect_error(
                    app.get_project(token, id).await,
                    StatusCode::NOT_FOUND,
                    "not_found",
                )
                .await;
                assert_eq!(e["message"], "project not found");
                expect_error(
                    app.stats(token, id).await,
                    StatusCode::NOT_FOUND,
                    "not_found",
                )
                .await;
                expect_error(
                    app.import_jsonl(token, id, &jsonl_items("evil", 0..3), None)
                        .await,
                    StatusCode::NOT_FOUND,
                    "not_found",
                )
                .await;
                for format in ["jsonl", "parquet", "csv"] {
                    expect_error(
                        app.export(token, id, format).await,
                        StatusCode::NOT_FOUND,
                        "not_found",
                    )
                    .await;
                }
            }
            for token in [&w_b.token, &admin_b.token] {
                expect_error(
                    app.next(token, id).await,
                    StatusCode::NOT_FOUND,
                    "not_found",
                )
                .await;
            }
        }
        // Nor can org B touch org A's assignments.
        for assignment in [a, open] {
            for token in [&w_b.token, &admin_b.token] {
                expect_error(
                    app.submit(token, assignment, json!({"label": "c"}), None)
                        .await,
                    StatusCode::NOT_FOUND,
                    "not_found",
                )
                .await;
                expect_error(
                    app.skip(token, assignment, "mine now").await,
                    StatusCode::NOT_FOUND,
                    "not_found",
                )
                .await;
            }
        }
        let list_b = expect_status(
            app.get(&req_b.token, "/api/v1/projects").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(list_b, json!([]));

        assert_eq!(app.stats_json(&req_a.token, project).await, stats_before);
        assert_eq!(app.export_jsonl(&req_a.token, project).await, export_before);
        expect_status(
            app.submit(&w_a.token, open, json!({"label": "a"}), None)
                .await,
            StatusCode::OK,
        )
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_cannot_touch_another_workers_assignment() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let w1 = app.user("acme", "w1@acme.test", Role::Worker).await;
        let w2 = app.user("acme", "w2@acme.test", Role::Worker).await;
        let project = app.project(&req.token, minimal_project(1)).await;
        app.items(&req.token, project, &jsonl_items("t", 0..2))
            .await;
        let t1 = app.claim(&w1.token, project).await;
        let a1 = t1["assignment_id"].as_i64().unwrap();

        expect_error(
            app.submit(&w2.token, a1, json!({"label": "a"}), None).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        expect_error(
            app.skip(&w2.token, a1, "not mine").await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        // w2 gets the other item, never the one w1 holds.
        let t2 = app.claim(&w2.token, project).await;
        assert_ne!(t2["item"]["id"], t1["item"]["id"]);
        // Nothing new is left for w2, so "next" hands back w2's own lease.
        assert_eq!(
            app.claim(&w2.token, project).await["assignment_id"],
            t2["assignment_id"]
        );

        assert_stats(&app.stats_json(&req.token, project).await, 2, 0, 0, 2);
        expect_status(
            app.submit(&w1.token, a1, json!({"label": "a"}), None).await,
            StatusCode::OK,
        )
        .await;
        expect_error(
            app.submit_raw(&w1.token, 999_999_999, r#"{"answers":{"label":"a"}}"#)
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        assert_stats(&app.stats_json(&req.token, project).await, 2, 1, 1, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_add_users_and_emails_are_unique() {
    on_every_backend(async |app: TestApp| {
        let admin = app.user("acme", "admin@acme.test", Role::Admin).await;
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let w = app.user("acme", "w@acme.test", Role::Worker).await;
        let outsider = app.user("globex", "taken@globex.test", Role::Worker).await;
        let body = json!({"email": "new@acme.test", "name": "New", "role": "worker"});
        for token in [&req.token, &w.token] {
            expect_error(
                app.create_user(token, &body).await,
                StatusCode::FORBIDDEN,
                "forbidden",
            )
            .await;
        }
        let created = expect_status(
            app.create_user(&admin.token, &body).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(
            (&created["email"], &created["role"]),
            (&json!("new@acme.test"), &json!("worker"))
        );
        let token = created["token"].as_str().unwrap();
        let me = expect_status(app.me(token).await, StatusCode::OK).await;
        assert_eq!(
            (&me["user_id"], &me["org_id"]),
            (&created["user_id"], &json!(admin.org_id))
        );

        for email in [
            "new@acme.test",
            "  NEW@acme.test ",
            "w@acme.test",
            &outsider.email,
        ] {
            let body = json!({"email": email, "role": "requester"});
            expect_error(
                app.create_user(&admin.token, &body).await,
                StatusCode::CONFLICT,
                "email_taken",
            )
            .await;
        }
        // The existing users are untouched: the worker is still a worker, in the same organization.
        let me = expect_status(app.me(&w.token).await, StatusCode::OK).await;
        assert_eq!(
            (&me["role"], &me["org_id"]),
            (&json!("worker"), &json!(w.org_id))
        );
        let me = expect_status(app.me(&outsider.token).await, StatusCode::OK).await;
        assert_eq!(me["org_id"], outsider.org_id);
        expect_error(
            app.create_user(
                &admin.token,
                &json!({"email": "x@acme.test", "role": "overlord"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
            "invalid_body",
        )
        .await;
    })
    .await;
}

// ---- 7. Misc ---------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_openapi_unknown_routes_and_security_headers() {
    on_every_backend(async |app: TestApp| {
        let r = app.get_anon("/healthz").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");

        let r = app.get_anon("/api/openapi.json").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let doc: Value = r.json().await.expect("the OpenAPI document is JSON");
        assert!(
            doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
            "OpenAPI 3: {}",
            doc["openapi"]
        );
        let paths = doc["paths"].as_object().expect("paths");
        let expected: BTreeMap<&str, &[&str]> = BTreeMap::from([
            ("/api/v1/projects", &["get", "post"][..]),
            ("/api/v1/projects/{id}", &["get"][..]),
            ("/api/v1/projects/{id}/items", &["post"][..]),
            ("/api/v1/projects/{id}/stats", &["get"][..]),
            ("/api/v1/projects/{id}/export", &["get"][..]),
            ("/api/v1/projects/{id}/assignments/next", &["post"][..]),
            ("/api/v1/assignments/{id}/submit", &["post"][..]),
            ("/api/v1/assignments/{id}/skip", &["post"][..]),
            ("/api/v1/me", &["get"][..]),
            ("/api/v1/me/tokens", &["post"][..]),
            ("/api/v1/me/tokens/{id}", &["delete"][..]),
            ("/api/v1/users", &["post"][..]),
        ]);
        for (path, methods) in &expected {
            let item = paths
                .get(*path)
                .unwrap_or_else(|| panic!("{path} is missing from the OpenAPI paths"));
            for m in *methods {
                assert!(
                    item.get(*m).is_some(),
                    "{m} {path} is missing from the OpenAPI document"
                );
            }
        }

        let w = app.user("acme", "w@acme.test", Role::Worker).await;
        for path in ["/nope", "/api/v1/nope", "/api/v2/projects"] {
            let r = app.get(&w.token, path).await;
            assert_eq!(r.headers()["x-content-type-options"], "nosniff");
            expect_error(r, StatusCode::NOT_FOUND, "not_found").await;
        }
        // A path id that is not a number is simply not found.
        expect_error(
            app.get(&w.token, "/api/v1/projects/abc").await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        let r = app.me("not-a-token").await;
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        expect_error(r, StatusCode::UNAUTHORIZED, "unauthorized").await;
        let r = app.me(&w.token).await;
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert_eq!(r.status(), StatusCode::OK);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_method_on_a_known_path_answers_with_the_error_body() {
    on_every_backend(async |app: TestApp| {
        let w = app.user("acme", "w@acme.test", Role::Worker).await;
        let r = app
            .client
            .delete(app.url("/api/v1/me"))
            .bearer_auth(&w.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        let text = r.text().await.unwrap();
        let body: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("405 body is not JSON ({e}): {text:?}"));
        assert_error_shape(&body);
    })
    .await;
}

// ---- 8. Lease expiry -------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_lease_goes_to_another_worker_and_the_late_submit_is_409() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let w1 = app.user("acme", "w1@acme.test", Role::Worker).await;
        let w2 = app.user("acme", "w2@acme.test", Role::Worker).await;
        let body = json!({"name": "Short leases", "template": minimal_template(), "overlap": 1, "lease_seconds": 10});
        let project = app.project(&req.token, body).await;
        assert_eq!(expect_status(app.get_project(&req.token, project).await, StatusCode::OK).await["lease_seconds"], 10);
        app.items(&req.token, project, &jsonl_items("l", 0..1)).await;
        let t1 = app.claim(&w1.token, project).await;
        let a1 = t1["assignment_id"].as_i64().unwrap();
        expect_status(app.next(&w2.token, project).await, StatusCode::NO_CONTENT).await;

        // Eleven seconds later the lease job returns the slot to the pool.
        assert_eq!(app.app.store.expire_leases(now_millis() + 11_000, 1000).await.unwrap(), 1);
        assert_stats(&app.stats_json(&req.token, project).await, 1, 0, 0, 0);
        let t2 = app.claim(&w2.token, project).await;
        assert_eq!(t2["item"], t1["item"]);
        let a2 = t2["assignment_id"].as_i64().unwrap();

        expect_error(app.submit(&w1.token, a1, json!({"label": "a"}), None).await, StatusCode::CONFLICT, "lease_expired").await;
        // The expired lease is not handed back to w1 either.
        expect_status(app.next(&w1.token, project).await, StatusCode::NO_CONTENT).await;
        expect_status(app.submit(&w2.token, a2, json!({"label": "b"}), None).await, StatusCode::OK).await;
        assert_stats(&app.stats_json(&req.token, project).await, 1, 1, 1, 0);
        let export = app.export_jsonl(&req.token, project).await;
        assert_eq!(export[0]["annotations"].as_array().unwrap().len(), 1);
        assert_eq!(export[0]["annotations"][0]["answers"], json!({"label": "b"}));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_submit_still_counts_when_nobody_took_the_slot() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let w1 = app.user("acme", "w1@acme.test", Role::Worker).await;
        let w2 = app.user("acme", "w2@acme.test", Role::Worker).await;
        let body = json!({"name": "Short leases", "template": minimal_template(), "overlap": 1, "lease_seconds": 10});
        let project = app.project(&req.token, body).await;
        app.items(&req.token, project, &jsonl_items("l", 0..1)).await;
        let a1 = app.claim(&w1.token, project).await["assignment_id"].as_i64().unwrap();
        assert_eq!(app.app.store.expire_leases(now_millis() + 11_000, 1000).await.unwrap(), 1);
        expect_status(app.submit(&w1.token, a1, json!({"label": "a"}), None).await, StatusCode::OK).await;
        assert_stats(&app.stats_json(&req.token, project).await, 1, 1, 1, 0);
        // The slot is taken by that submission: nobody else gets the item.
        expect_status(app.next(&w2.token, project).await, StatusCode::NO_CONTENT).await;
    })
    .await;
}

// ---- 9. Robustness ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_stream_every_item_across_pages() {
    on_every_backend(async |app: TestApp| {
        const N: usize = 2_500; // The export reads pages of 1000 items.
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let w = app.user("acme", "w@acme.test", Role::Worker).await;
        let project = app.project(&req.token, minimal_project(1)).await;
        // The items on both sides of the first page boundary come first in the queue.
        let body: String = (0..N)
            .map(|i| {
                let priority = if (998..=1001).contains(&i) { 1 } else { 0 };
                format!(
                    "{{\"id\":\"p{i}\",\"data\":{{\"text\":\"t{i}\"}},\"priority\":{priority}}}\n"
                )
            })
            .collect();
        let r = expect_status(
            app.import_jsonl(&req.token, project, &body, None).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(r["imported"], N);
        for _ in 0..4 {
            let a = app.claim(&w.token, project).await["assignment_id"]
                .as_i64()
                .unwrap();
            expect_status(
                app.submit(&w.token, a, json!({"label": "b"}), None).await,
                StatusCode::OK,
            )
            .await;
        }
        let export = app.export_jsonl(&req.token, project).await;
        assert_eq!(export.len(), N);
        let expected: Vec<String> = (0..N).map(|i| format!("p{i}")).collect();
        assert_eq!(
            ids_of(&export),
            expected,
            "every item once, in import order"
        );
        for (i, line) in export.iter().enumerate() {
            let annotated = (998..=1001).contains(&i);
            assert_eq!(
                line["annotations"].as_array().unwrap().len(),
                usize::from(annotated),
                "{line}"
            );
            let aggregate = if annotated {
                json!({"label": "b"})
            } else {
                json!({"label": null})
            };
            assert_eq!(line["aggregate"], aggregate, "{line}");
        }

        let r = app.export(&req.token, project, "parquet").await;
        assert_eq!(r.status(), StatusCode::OK);
        use parquet::file::reader::FileReader;
        let reader = parquet::file::reader::SerializedFileReader::new(r.bytes().await.unwrap())
            .expect("Parquet");
        assert_eq!(reader.metadata().file_metadata().num_rows(), N as i64);

        let r = app.export(&req.token, project, "csv").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.text().await.unwrap().lines().count(),
            1 + N,
            "a header and one row per item or annotation"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_json_bodies_and_unknown_query_parameters_are_refused() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let w = app.user("acme", "w@acme.test", Role::Worker).await;
        let project = app.project(&req.token, minimal_project(1)).await;
        app.items(&req.token, project, &jsonl_items("j", 0..1))
            .await;
        let a = app.claim(&w.token, project).await["assignment_id"]
            .as_i64()
            .unwrap();
        let huge = "x".repeat(3 << 20);
        // The server answers 413 as soon as the limit is passed, while the client may still be sending; HTTP/1.1
        // then resets the connection, and a client can see the reset before the answer. Retry on that only.
        let body = json!({"answers": {"label": huge}}).to_string();
        // A client of its own: the reset connection must not go back to the shared pool, where the next
        // request of this test would pick it up and fail with "incomplete message".
        let oneoff = reqwest::Client::new();
        let mut answer = None;
        for _ in 0..5 {
            let sent = oneoff
                .post(format!("{}/api/v1/assignments/{a}/submit", app.api.base))
                .bearer_auth(&w.token)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await;
            if let Ok(r) = sent {
                answer = Some(r);
                break;
            }
        }
        expect_error(
            answer.expect("the server answered one of five oversized requests"),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        )
        .await;
        let r = app
            .import(
                &req.token,
                project,
                "application/x-ndjson",
                jsonl_items("q", 0..1).into_bytes(),
                Some("skip&colour=red"),
            )
            .await;
        expect_error(r, StatusCode::BAD_REQUEST, "invalid_query").await;
        expect_error(
            app.export(&req.token, project, "jsonl&colour=red").await,
            StatusCode::BAD_REQUEST,
            "invalid_query",
        )
        .await;
        assert_stats(&app.stats_json(&req.token, project).await, 1, 0, 0, 1);
        expect_status(
            app.submit(&w.token, a, json!({"label": "a"}), None).await,
            StatusCode::OK,
        )
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_data_round_trips_exactly() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let w = app.user("acme", "w@acme.test", Role::Worker).await;
        let project = app.project(&req.token, minimal_project(1)).await;
        let data = json!({
            "text": "h\u{e9}llo \u{2713} \"quoted\" \\ back\nslash \u{0} nul \u{1F600}",
            "meta": {"n": 1.5, "big": 9007199254740993_i64, "list": [1, "two", null, true], "empty": {}}
        });
        let line = format!("{}\n", json!({"id": "r\u{e9}sum\u{e9}", "data": data}));
        app.items(&req.token, project, &line).await;
        let task = app.claim(&w.token, project).await;
        assert_eq!(task["item"], json!({"id": "r\u{e9}sum\u{e9}", "data": data}));
        let a = task["assignment_id"].as_i64().unwrap();
        expect_status(app.submit(&w.token, a, json!({"label": "c"}), None).await, StatusCode::OK).await;
        let export = app.export_jsonl(&req.token, project).await;
        assert_eq!(export[0]["id"], "r\u{e9}sum\u{e9}");
        assert_eq!(export[0]["data"], data);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nul_character_in_a_string_is_never_a_server_error() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let w = app.user("acme", "w@acme.test", Role::Worker).await;
        let project = app.project(&req.token, minimal_project(1)).await;
        app.items(&req.token, project, &jsonl_items("n", 0..1))
            .await;

        // Accepting these or refusing them with a 4xx are both fine; a 500 (on one backend only) is not.
        let mut answers = Vec::new();
        let r = app
            .create_project(
                &req.token,
                &json!({"name": "nul\u{0}name", "template": minimal_template()}),
            )
            .await;
        answers.push(("project name", r.status(), r.text().await.unwrap()));
        let r = app
            .import_jsonl(
                &req.token,
                project,
                "{\"id\":\"nul\\u0000id\",\"data\":{\"text\":\"t\"}}\n",
                None,
            )
            .await;
        answers.push(("JSONL external id", r.status(), r.text().await.unwrap()));
        let r = app
            .import_csv(&req.token, project, "id,text\nnul\u{0}id,t\n", None)
            .await;
        answers.push(("CSV external id", r.status(), r.text().await.unwrap()));
        let r = app.create_token(&w.token, "nul\u{0}label").await;
        answers.push(("token label", r.status(), r.text().await.unwrap()));
        let a = app.claim(&w.token, project).await["assignment_id"]
            .as_i64()
            .unwrap();
        let r = app.skip(&w.token, a, "nul\u{0}reason").await;
        answers.push(("skip reason", r.status(), r.text().await.unwrap()));
        let failures: Vec<_> = answers
            .iter()
            .filter(|(_, status, _)| status.is_server_error())
            .collect();
        assert!(
            failures.is_empty(),
            "{}: server errors for {failures:?}",
            app.backend
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bearer_scheme_is_case_insensitive() {
    on_every_backend(async |app: TestApp| {
        let w = app.user("acme", "w@acme.test", Role::Worker).await;
        for scheme in ["bearer", "BEARER"] {
            let r = app
                .client
                .get(app.url("/api/v1/me"))
                .header("authorization", format!("{scheme} {}", w.token));
            expect_status(r.send().await.unwrap(), StatusCode::OK).await;
        }
    })
    .await;
}
