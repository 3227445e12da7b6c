//! Messages on every backend: announcements and the guidelines board stay inside their project's organization,
//! board askers appear only as pseudonyms, each inbox is its owner's alone, and the events of terms,
//! guidelines, answers and reviews reach the right inbox.

mod common;

use common::{
    TestApp, TestUser, expect_error, expect_status, jsonl_items, minimal_template, on_every_backend,
};
use fairloop_domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    app.send(method, token, path, body).await
}

async fn inbox(app: &TestApp, user: &TestUser) -> Value {
    expect_status(
        app.api
            .get(&user.token, "/api/v1/me/notices?limit=100")
            .await,
        StatusCode::OK,
    )
    .await
}

fn kinds(inbox: &Value) -> Vec<String> {
    inbox["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announcements_and_the_board_stay_in_the_project_and_askers_stay_pseudonymous() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("Lab", "req@lab.test", Role::Requester).await;
        let w1 = app.user("Lab", "w1@lab.test", Role::Worker).await;
        let w2 = app.user("Lab", "w2@lab.test", Role::Worker).await;
        let other_req = app.user("Other", "req@other.test", Role::Requester).await;
        let other_w = app.user("Other", "w@other.test", Role::Worker).await;
        let project = app
            .project(&req.token, json!({"name": "Boarded", "template": minimal_template(), "overlap": 2}))
            .await;
        app.items(&req.token, project, &jsonl_items("b", 0..3)).await;
        // Both workers work on the project (a claim makes them its workers).
        for w in [&w1, &w2] {
            app.claim(&w.token, project).await;
        }

        // Announcements: requesters write, workers read, another organization sees nothing.
        let ann = format!("/api/v1/projects/{project}/announcements");
        expect_error(app.post(&w1.token, &ann, json!({"title": "x", "markdown": "y"})).await,
            StatusCode::FORBIDDEN, "forbidden").await;
        expect_error(app.post(&other_req.token, &ann, json!({"title": "x", "markdown": "y"})).await,
            StatusCode::NOT_FOUND, "not_found").await;
        let e = expect_error(app.post(&req.token, &ann, json!({"title": " ", "markdown": "y"})).await,
            StatusCode::UNPROCESSABLE_ENTITY, "invalid_text").await;
        assert!(e["message"].as_str().unwrap().contains("title"), "{e}");
        let created = expect_status(app.post(&req.token, &ann,
            json!({"title": "Batch 2 is live", "markdown": "New items **today**. <script>alert(1)</script>"})).await,
            StatusCode::CREATED).await;
        let list = expect_status(app.api.get(&w1.token, &ann).await, StatusCode::OK).await;
        assert_eq!(list[0]["id"], created["id"]);
        assert_eq!(list[0]["title"], "Batch 2 is live");
        expect_error(app.api.get(&other_w.token, &ann).await, StatusCode::NOT_FOUND, "not_found").await;
        expect_error(app.api.get(&other_req.token, &ann).await, StatusCode::NOT_FOUND, "not_found").await;
        // Each worker of the project has it in their inbox, unread; the author does not, nor the other org.
        for w in [&w1, &w2] {
            let i = inbox(&app, w).await;
            assert_eq!(kinds(&i), vec!["announcement"], "{i}");
            assert_eq!(i["unread"], 1);
            assert!(i["notices"][0]["title"].as_str().unwrap().contains("Batch 2 is live"));
            assert_eq!(i["notices"][0]["link"], format!("/projects/{project}/board#announcements"));
        }
        assert_eq!(inbox(&app, &req).await["notices"], json!([]));
        assert_eq!(inbox(&app, &other_w).await["notices"], json!([]));

        // The board: a worker asks in public; others read it under a pseudonym, never a name, email or id.
        let board = format!("/api/v1/projects/{project}/board");
        expect_error(app.post(&w1.token, &board, json!({"text": ""})).await,
            StatusCode::UNPROCESSABLE_ENTITY, "invalid_text").await;
        expect_error(app.post(&req.token, &board, json!({"text": "a requester asking"})).await,
            StatusCode::FORBIDDEN, "forbidden").await;
        expect_error(app.post(&other_w.token, &board, json!({"text": "let me in"})).await,
            StatusCode::NOT_FOUND, "not_found").await;
        let q = expect_status(app.post(&w1.token, &board,
            json!({"text": "Does sarcasm count as negative?"})).await, StatusCode::CREATED).await;
        let qid = q["id"].as_i64().unwrap();
        let seen_by_w2 = expect_status(app.api.get(&w2.token, &board).await, StatusCode::OK).await;
        let entry = &seen_by_w2[0];
        assert_eq!(entry["question"], "Does sarcasm count as negative?");
        assert_eq!(entry["mine"], false);
        let alias = entry["asked_by"].as_str().unwrap().to_string();
        assert!(alias.starts_with("Worker "), "{alias}");
        let text = seen_by_w2.to_string();
        assert!(!text.contains("w1@lab.test") && !text.contains("\"asker_id\"") && !text.contains("worker_id"), "{text}");
        let seen_by_w1 = expect_status(app.api.get(&w1.token, &board).await, StatusCode::OK).await;
        assert_eq!((seen_by_w1[0]["mine"].clone(), seen_by_w1[0]["asked_by"].clone()), (json!(true), json!(alias)));
        expect_error(app.api.get(&other_w.token, &board).await, StatusCode::NOT_FOUND, "not_found").await;
        expect_error(app.api.get(&other_req.token, &board).await, StatusCode::NOT_FOUND, "not_found").await;

        // A person at the requester answers once; the asker (only) is told; FAQ pins need an answer.
        let pin = format!("{board}/{qid}/pin");
        expect_error(app.post(&req.token, &pin, json!({"pinned": true})).await, StatusCode::CONFLICT, "not_answered")
            .await;
        let answer = format!("{board}/{qid}/answer");
        expect_error(app.post(&w2.token, &answer, json!({"text": "I think so"})).await,
            StatusCode::FORBIDDEN, "forbidden").await;
        expect_error(app.post(&other_req.token, &answer, json!({"text": "x"})).await,
            StatusCode::NOT_FOUND, "not_found").await;
        expect_status(app.post(&req.token, &answer, json!({"text": "Yes: label what is meant."})).await,
            StatusCode::NO_CONTENT).await;
        expect_error(app.post(&req.token, &answer, json!({"text": "again"})).await,
            StatusCode::CONFLICT, "already_answered").await;
        let i1 = inbox(&app, &w1).await;
        assert_eq!(kinds(&i1), vec!["answer", "announcement"], "{i1}");
        assert_eq!(kinds(&inbox(&app, &w2).await), vec!["announcement"]);
        let q2 = expect_status(app.post(&w2.token, &board, json!({"text": "And irony?"})).await, StatusCode::CREATED)
            .await;
        expect_status(app.post(&req.token, &pin, json!({"pinned": true})).await, StatusCode::NO_CONTENT).await;
        let b = expect_status(app.api.get(&w2.token, &board).await, StatusCode::OK).await;
        assert_eq!((b[0]["id"].as_i64(), b[0]["pinned"].clone()), (Some(qid), json!(true)), "FAQ first: {b}");
        assert_eq!(b[0]["answer"], "Yes: label what is meant.");
        assert_eq!(b[1]["id"], q2["id"]);
        assert_ne!(b[1]["asked_by"], b[0]["asked_by"], "two askers, two pseudonyms");

        // Private questions stay private: w1's question on the terms is not w2's to read.
        expect_status(app.post(&req.token, &format!("/api/v1/projects/{project}/terms"),
            json!({"summary": {}, "markdown": "Terms v1"})).await, StatusCode::CREATED).await;
        let terms = expect_status(app.api.get(&w1.token, &format!("/api/v1/projects/{project}/terms")).await,
            StatusCode::OK).await;
        expect_status(app.post(&w1.token, &format!("/api/v1/projects/{project}/terms/questions"),
            json!({"text": "Is my name shared with the lab?"})).await, StatusCode::CREATED).await;
        let theirs = expect_status(app.api.get(&w2.token, &format!("/api/v1/projects/{project}/terms/questions")).await,
            StatusCode::OK).await;
        assert_eq!(theirs, json!([]), "w2 reads no one else's private questions");
        assert!(!expect_status(app.api.get(&w2.token, &board).await, StatusCode::OK).await.to_string()
            .contains("my name shared"));
        // New terms reach every worker of the project; the answer to the private question reaches w1 only.
        for w in [&w1, &w2] {
            assert_eq!(kinds(&inbox(&app, w).await)[0], "terms");
        }
        let tq = expect_status(app.api.get(&req.token, &format!("/api/v1/projects/{project}/terms/questions")).await,
            StatusCode::OK).await;
        expect_status(app.post(&req.token,
            &format!("/api/v1/projects/{project}/terms/questions/{}/answer", tq[0]["id"]),
            json!({"text": "No, never."})).await, StatusCode::NO_CONTENT).await;
        assert_eq!(kinds(&inbox(&app, &w1).await)[0], "answer");
        assert_eq!(kinds(&inbox(&app, &w2).await)[0], "terms");
        let _ = terms;
        // New guidelines too, with the note.
        expect_status(app.post(&req.token, &format!("/api/v1/projects/{project}/guidelines"),
            json!({"markdown": "# Rules\nLabel what is meant.", "note": "Sarcasm is labelled by meaning"})).await,
            StatusCode::CREATED).await;
        let i2 = inbox(&app, &w2).await;
        assert_eq!(i2["notices"][0]["kind"], "guidelines");
        assert!(i2["notices"][0]["body"].as_str().unwrap().contains("Sarcasm is labelled"), "{i2}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inbox_is_its_owners_alone_and_pages_marks_and_counts() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("Lab", "req@lab.test", Role::Requester).await;
        let w1 = app.user("Lab", "w1@lab.test", Role::Worker).await;
        let w2 = app.user("Lab", "w2@lab.test", Role::Worker).await;
        let other = app.user("Other", "o@other.test", Role::Worker).await;
        let project = app
            .project(
                &req.token,
                json!({"name": "Inboxed", "template": minimal_template(), "overlap": 2}),
            )
            .await;
        app.items(&req.token, project, &jsonl_items("i", 0..2))
            .await;
        app.claim(&w1.token, project).await;
        for n in 0..5 {
            expect_status(
                app.post(
                    &req.token,
                    &format!("/api/v1/projects/{project}/announcements"),
                    json!({"title": format!("Note {n}"), "markdown": "text"}),
                )
                .await,
                StatusCode::CREATED,
            )
            .await;
        }
        // Telling the same event twice stores it once.
        let again = fairloop_app::notices::Notify {
            kind: fairloop_app::notices::NoticeKind::Lifecycle,
            project: Some(project),
            title: "Winding down".into(),
            body: "Ends in 14 days".into(),
            link: None,
            source_key: "lifecycle:test".into(),
        };
        assert_eq!(
            app.app
                .notify(w1.org_id, &[w1.id], again.clone())
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            app.app
                .notify(w1.org_id, &[w1.id], again.clone())
                .await
                .unwrap(),
            0
        );
        // A user of another organization named by mistake is skipped.
        assert_eq!(
            app.app.notify(w1.org_id, &[other.id], again).await.unwrap(),
            0
        );
        assert_eq!(inbox(&app, &other).await["notices"], json!([]));

        // Pages of two, newest first, with a cursor.
        let p1 = expect_status(
            app.api.get(&w1.token, "/api/v1/me/notices?limit=2").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(p1["unread"], 6);
        assert_eq!(p1["notices"].as_array().unwrap().len(), 2);
        assert_eq!(p1["notices"][0]["kind"], "lifecycle");
        assert_eq!(p1["notices"][1]["title"], "Inboxed: Note 4");
        let before = p1["next_before"].as_i64().unwrap();
        let p2 = expect_status(
            app.api
                .get(
                    &w1.token,
                    &format!("/api/v1/me/notices?limit=2&before={before}"),
                )
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(p2["notices"][0]["title"], "Inboxed: Note 3");
        let p3 = expect_status(
            app.api
                .get(
                    &w1.token,
                    &format!("/api/v1/me/notices?limit=2&before={}", p2["next_before"]),
                )
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(p3["notices"].as_array().unwrap().len(), 2);
        assert_eq!(p3["next_before"], Value::Null);
        expect_error(
            app.api.get(&w1.token, "/api/v1/me/notices?limit=0").await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_limit",
        )
        .await;

        // Nobody else reads or marks w1's notices: w2 sees an empty inbox and gets 404 on w1's ids.
        assert_eq!(inbox(&app, &w2).await["notices"], json!([]));
        let first = p1["notices"][0]["id"].as_i64().unwrap();
        for intruder in [&w2, &other, &req] {
            expect_error(
                app.post(
                    &intruder.token,
                    &format!("/api/v1/me/notices/{first}/read"),
                    json!({}),
                )
                .await,
                StatusCode::NOT_FOUND,
                "not_found",
            )
            .await;
        }
        assert_eq!(
            inbox(&app, &w1).await["unread"],
            6,
            "still unread after the intruders' attempts"
        );
        // w2 marking all read touches nothing of w1's.
        expect_status(
            app.post(&w2.token, "/api/v1/me/notices/read-all", json!({}))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(inbox(&app, &w1).await["unread"], 6);

        expect_status(
            app.post(
                &w1.token,
                &format!("/api/v1/me/notices/{first}/read"),
                json!({}),
            )
            .await,
            StatusCode::NO_CONTENT,
        )
        .await;
        let i = inbox(&app, &w1).await;
        assert_eq!(i["unread"], 5);
        assert!(i["notices"][0]["read_at"].is_string());
        assert!(i["notices"][1]["read_at"].is_null());
        let marked = expect_status(
            app.post(&w1.token, "/api/v1/me/notices/read-all", json!({}))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(marked["marked"], 5);
        assert_eq!(inbox(&app, &w1).await["unread"], 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_judgements_and_appeal_decisions_reach_the_worker() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("Lab", "req@lab.test", Role::Requester).await;
        let w = app.user("Lab", "w@lab.test", Role::Worker).await;
        let w2 = app.user("Lab", "w2@lab.test", Role::Worker).await;
        let r1 = app.user("Lab", "r1@lab.test", Role::Reviewer).await;
        let r2 = app.user("Lab", "r2@lab.test", Role::Reviewer).await;
        let project = app
            .project(
                &req.token,
                json!({"name": "Reviewed", "template": minimal_template(), "overlap": 1}),
            )
            .await;
        expect_status(
            call(
                &app,
                Method::PUT,
                &format!("/api/v1/projects/{project}/review-settings"),
                &req.token,
                Some(json!({"sample_rate": 1.0, "min_seconds": 0, "low_agreement": 0.5})),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        app.items(&req.token, project, &jsonl_items("r", 0..2))
            .await;
        let task = app.claim(&w.token, project).await;
        expect_status(
            app.submit(
                &w.token,
                task["assignment_id"].as_i64().unwrap(),
                json!({"label": "a"}),
                None,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let queue = expect_status(
            app.api
                .get(&r1.token, &format!("/api/v1/projects/{project}/reviews"))
                .await,
            StatusCode::OK,
        )
        .await;
        let id = queue["reviews"][0]["id"].as_i64().unwrap();
        expect_status(
            app.post(
                &r1.token,
                &format!("/api/v1/reviews/{id}/decision"),
                json!({"action": "reject", "feedback": "Label b fits better"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let i = inbox(&app, &w).await;
        assert_eq!(kinds(&i), vec!["review"], "{i}");
        assert!(
            i["notices"][0]["title"]
                .as_str()
                .unwrap()
                .contains("rejected"),
            "{i}"
        );
        assert_eq!(inbox(&app, &w2).await["notices"], json!([]));
        let ap = expect_status(
            app.post(
                &w.token,
                &format!("/api/v1/reviews/{id}/appeal"),
                json!({"reason": "The text is ambiguous"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        expect_status(
            app.post(
                &r2.token,
                &format!("/api/v1/appeals/{}/decision", ap["id"]),
                json!({"outcome": "overturned", "note": "Fair point."}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let i = inbox(&app, &w).await;
        assert_eq!(kinds(&i), vec!["appeal", "review"], "{i}");
        assert!(
            i["notices"][0]["title"]
                .as_str()
                .unwrap()
                .contains("overturned"),
            "{i}"
        );
        assert_eq!(i["notices"][0]["body"], "Fair point.");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_lists_the_message_and_webhook_endpoints() {
    let app = common::spawn_app().await;
    let doc = expect_status(app.get_anon("/api/openapi.json").await, StatusCode::OK).await;
    for path in [
        "/api/v1/projects/{id}/announcements",
        "/api/v1/projects/{id}/board",
        "/api/v1/projects/{id}/board/{question}/answer",
        "/api/v1/projects/{id}/board/{question}/pin",
        "/api/v1/me/notices",
        "/api/v1/me/notices/{id}/read",
        "/api/v1/me/notices/read-all",
        "/api/v1/webhooks",
        "/api/v1/webhooks/{id}",
        "/api/v1/webhooks/{id}/deliveries",
        "/api/v1/webhooks/{id}/test",
        "/api/v1/webhooks/deliveries/{id}/retry",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
}
