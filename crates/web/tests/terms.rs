//! Project terms on every backend: no work before the current version is accepted (by version and text hash),
//! a new version needs a new acceptance, questions go to a person and stay private to their asker, tenancy.

mod common;

use common::{
    TestApp, expect_error, expect_status, jsonl_items, minimal_template, on_every_backend,
};
use fairloop_domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn terms_body(text: &str) -> Value {
    json!({
        "summary": {"confidential": "Item data and model outputs", "notice_days": 14,
                    "expected_duration": "about 6 weeks", "weekly_hours": "5 to 10 hours",
                    "content_warnings": ["medical images", "  "]},
        "markdown": text
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_waits_for_the_current_terms_and_questions_reach_a_person() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("Lab", "req@lab.test", Role::Requester).await;
        let w = app.user("Lab", "w@lab.test", Role::Worker).await;
        let w2 = app.user("Lab", "w2@lab.test", Role::Worker).await;
        let other = app.user("Other", "o@other.test", Role::Requester).await;
        let project = app
            .project(
                &req.token,
                json!({"name": "Termed", "template": minimal_template(), "overlap": 2}),
            )
            .await;
        app.items(&req.token, project, &jsonl_items("t", 0..3))
            .await;
        let base = format!("/api/v1/projects/{project}/terms");

        // No terms: work starts at once; 404 no_terms says there is nothing to accept.
        expect_error(
            app.api.get(&w.token, &base).await,
            StatusCode::NOT_FOUND,
            "no_terms",
        )
        .await;
        let first = app.claim(&w2.token, project).await;
        assert!(first["assignment_id"].is_i64());

        // Bad input names the field; workers cannot publish.
        expect_error(
            app.post(&req.token, &base, terms_body("  ")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_terms",
        )
        .await;
        let mut long_notice = terms_body("Terms.");
        long_notice["summary"]["notice_days"] = json!(400);
        expect_error(
            app.post(&req.token, &base, long_notice).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_terms",
        )
        .await;
        expect_error(
            app.post(
                &req.token,
                &base,
                json!({"summary": {"ip": "all"}, "markdown": "x"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
            "invalid_body",
        )
        .await;
        expect_error(
            app.post(&w.token, &base, terms_body("mine")).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;

        let r = app
            .post(
                &req.token,
                &base,
                terms_body("## Terms\nYou keep your own methods."),
            )
            .await;
        assert_eq!(expect_status(r, StatusCode::CREATED).await["id"], 1);
        // Now no work before acceptance, even for a worker who worked before.
        expect_error(
            app.next(&w.token, project).await,
            StatusCode::FORBIDDEN,
            "terms_not_accepted",
        )
        .await;
        expect_error(
            app.next(&w2.token, project).await,
            StatusCode::FORBIDDEN,
            "terms_not_accepted",
        )
        .await;
        let t = expect_status(app.api.get(&w.token, &base).await, StatusCode::OK).await;
        assert_eq!(
            t["summary"]["ip_assigned"],
            "The work product of this project only"
        );
        assert_eq!(t["summary"]["content_warnings"], json!(["medical images"]));
        assert_eq!(t["my_decision"], Value::Null);
        let hash = t["text_hash"].as_str().unwrap().to_string();
        // A decision must name the current version and the text as read.
        let r = app
            .post(
                &w.token,
                &format!("{base}/decision"),
                json!({"version": 1, "text_hash": "0".repeat(64), "accept": true}),
            )
            .await;
        expect_error(r, StatusCode::CONFLICT, "terms_changed").await;
        let r = app
            .post(
                &w.token,
                &format!("{base}/decision"),
                json!({"version": 7, "text_hash": hash, "accept": true}),
            )
            .await;
        expect_error(r, StatusCode::CONFLICT, "terms_outdated").await;
        let r = app
            .post(
                &w.token,
                &format!("{base}/decision"),
                json!({"version": 1, "text_hash": hash, "accept": false}),
            )
            .await;
        expect_status(r, StatusCode::NO_CONTENT).await;
        expect_error(
            app.next(&w.token, project).await,
            StatusCode::FORBIDDEN,
            "terms_not_accepted",
        )
        .await;
        let r = app
            .post(
                &w.token,
                &format!("{base}/decision"),
                json!({"version": 1, "text_hash": hash, "accept": true}),
            )
            .await;
        expect_status(r, StatusCode::NO_CONTENT).await;
        assert!(app.claim(&w.token, project).await["assignment_id"].is_i64());
        assert_eq!(
            expect_status(app.api.get(&w.token, &base).await, StatusCode::OK).await["my_decision"],
            "accepted"
        );
        // A new version stops work again until it is accepted.
        let r = app
            .post(
                &req.token,
                &base,
                terms_body("## Terms v2\nNow with a notice period."),
            )
            .await;
        assert_eq!(expect_status(r, StatusCode::CREATED).await["id"], 2);
        expect_error(
            app.next(&w.token, project).await,
            StatusCode::FORBIDDEN,
            "terms_not_accepted",
        )
        .await;
        let r = app
            .post(
                &w.token,
                &format!("{base}/decision"),
                json!({"version": 1, "text_hash": hash, "accept": true}),
            )
            .await;
        expect_error(r, StatusCode::CONFLICT, "terms_outdated").await;

        // Questions: the asker and the requester see it; another worker does not; answered once by a person.
        let r = app
            .post(
                &w.token,
                &format!("{base}/questions"),
                json!({"text": "Can I reuse my own templates elsewhere?"}),
            )
            .await;
        let q = expect_status(r, StatusCode::CREATED).await["id"]
            .as_i64()
            .unwrap();
        expect_error(
            app.post(&w.token, &format!("{base}/questions"), json!({"text": " "}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_text",
        )
        .await;
        let mine = expect_status(
            app.api.get(&w.token, &format!("{base}/questions")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(mine.as_array().unwrap().len(), 1);
        assert_eq!(mine[0]["version"], 2);
        let theirs = expect_status(
            app.api.get(&w2.token, &format!("{base}/questions")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(theirs, json!([]));
        let answer_path = format!("{base}/questions/{q}/answer");
        expect_error(
            app.post(&w2.token, &answer_path, json!({"text": "sure"}))
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        expect_status(
            app.post(
                &req.token,
                &answer_path,
                json!({"text": "Yes: only this project's work product is assigned."}),
            )
            .await,
            StatusCode::NO_CONTENT,
        )
        .await;
        expect_error(
            app.post(&req.token, &answer_path, json!({"text": "again"}))
                .await,
            StatusCode::CONFLICT,
            "already_answered",
        )
        .await;
        let all = expect_status(
            app.api.get(&req.token, &format!("{base}/questions")).await,
            StatusCode::OK,
        )
        .await;
        assert!(all[0]["answer"].as_str().unwrap().starts_with("Yes"));

        // Another organization sees and changes nothing.
        expect_error(
            app.api.get(&other.token, &base).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        expect_error(
            app.post(&other.token, &base, terms_body("ours")).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        expect_error(
            app.post(&other.token, &answer_path, json!({"text": "x"}))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        expect_error(
            app.api
                .get(&other.token, &format!("{base}/questions"))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    })
    .await;
}
