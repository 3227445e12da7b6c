//! Guidelines over the API on every backend: versions, who may publish and read, bad input, tenancy.

mod common;

use common::{TestApp, expect_error, expect_status, minimal_template, on_every_backend};
use fairloop_domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn put(app: &TestApp, token: &str, project: i64, body: Value) -> reqwest::Response {
    app.api
        .client
        .post(
            app.api
                .url(&format!("/api/v1/projects/{project}/guidelines")),
        )
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guidelines_are_versioned_readable_by_the_organization_and_nobody_else() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("Lab", "req@lab.test", Role::Requester).await;
        let worker = app.user("Lab", "w@lab.test", Role::Worker).await;
        let other = app.user("Other", "req@other.test", Role::Requester).await;
        let project = app
            .project(
                &req.token,
                json!({"name": "Fruit", "template": minimal_template()}),
            )
            .await;
        let path = format!("/api/v1/projects/{project}/guidelines");

        expect_error(
            app.api.get(&worker.token, &path).await,
            StatusCode::NOT_FOUND,
            "no_guidelines",
        )
        .await;
        let r = put(
            &app,
            &req.token,
            project,
            json!({"markdown": "# Labels\nPick **a** for apples."}),
        )
        .await;
        assert_eq!(expect_status(r, StatusCode::CREATED).await["version"], 1);
        let r = put(
            &app,
            &req.token,
            project,
            json!({"markdown": "Pick a for apples, b for bananas.", "note": "bananas"}),
        )
        .await;
        assert_eq!(expect_status(r, StatusCode::CREATED).await["version"], 2);
        // Workers read the current version; only managers see the history.
        let now = expect_status(app.api.get(&worker.token, &path).await, StatusCode::OK).await;
        assert_eq!(
            (now["version"].as_i64(), now["note"].as_str()),
            (Some(2), Some("bananas"))
        );
        let all = expect_status(
            app.api.get(&req.token, &format!("{path}/versions")).await,
            StatusCode::OK,
        )
        .await;
        let versions: Vec<i64> = all
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["version"].as_i64().unwrap())
            .collect();
        assert_eq!(versions, [2, 1]);
        expect_error(
            app.api
                .get(&worker.token, &format!("{path}/versions"))
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        // Workers cannot publish; bad input names the problem and saves nothing.
        expect_error(
            put(&app, &worker.token, project, json!({"markdown": "x"})).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        expect_error(
            put(&app, &req.token, project, json!({"markdown": "   "})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_guidelines",
        )
        .await;
        let huge = "x".repeat(210 * 1024);
        let r = put(&app, &req.token, project, json!({"markdown": huge})).await;
        assert!(
            r.status() == StatusCode::UNPROCESSABLE_ENTITY
                || r.status() == StatusCode::PAYLOAD_TOO_LARGE,
            "{}",
            r.status()
        );
        expect_error(
            put(&app, &req.token, project, json!({"text": "x"})).await,
            StatusCode::BAD_REQUEST,
            "invalid_body",
        )
        .await;
        let now = expect_status(app.api.get(&req.token, &path).await, StatusCode::OK).await;
        assert_eq!(now["version"], 2);
        // Another organization sees nothing and changes nothing.
        expect_error(
            app.api.get(&other.token, &path).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        expect_error(
            put(&app, &other.token, project, json!({"markdown": "mine now"})).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        // Two editors at once get two versions, not a collision.
        let (a, b) = tokio::join!(
            put(&app, &req.token, project, json!({"markdown": "A"})),
            put(&app, &req.token, project, json!({"markdown": "B"}))
        );
        let mut got = vec![
            expect_status(a, StatusCode::CREATED).await["version"]
                .as_i64()
                .unwrap(),
            expect_status(b, StatusCode::CREATED).await["version"]
                .as_i64()
                .unwrap(),
        ];
        got.sort();
        assert_eq!(got, [3, 4]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_exported_annotation_names_the_guidelines_it_was_made_under() {
    use common::jsonl_items;
    on_every_backend(async |app: TestApp| {
        let req = app.user("Lab", "req@lab.test", Role::Requester).await;
        let w = app.user("Lab", "w@lab.test", Role::Worker).await;
        let project = app
            .project(
                &req.token,
                json!({"name": "Versions", "template": minimal_template()}),
            )
            .await;
        app.items(&req.token, project, &jsonl_items("v", 0..3))
            .await;
        let answer = async |expect_version: Value| {
            let task = app.claim(&w.token, project).await;
            let a = task["assignment_id"].as_i64().unwrap();
            expect_status(
                app.submit(&w.token, a, json!({"label": "a"}), None).await,
                StatusCode::OK,
            )
            .await;
            expect_version
        };
        // Before any guidelines, under version 1, then under version 2.
        let v0 = answer(Value::Null).await;
        expect_status(
            put(&app, &req.token, project, json!({"markdown": "one"})).await,
            StatusCode::CREATED,
        )
        .await;
        let v1 = answer(json!(1)).await;
        expect_status(
            put(&app, &req.token, project, json!({"markdown": "two"})).await,
            StatusCode::CREATED,
        )
        .await;
        // Having answered under version 1, the worker acknowledges version 2 first.
        let r = app
            .api
            .client
            .post(app.api.url(&format!(
                "/api/v1/projects/{project}/guidelines/acknowledge"
            )))
            .bearer_auth(&w.token)
            .json(&json!({"version": 2}))
            .send()
            .await
            .unwrap();
        expect_status(r, StatusCode::NO_CONTENT).await;
        let v2 = answer(json!(2)).await;
        let export = app.export_jsonl(&req.token, project).await;
        let mut got: Vec<(String, Value)> = export
            .iter()
            .flat_map(|item| item["annotations"].as_array().unwrap().clone())
            .map(|a| {
                (
                    a["submitted_at"].as_str().unwrap().to_string(),
                    a["guideline_version"].clone(),
                )
            })
            .collect();
        got.sort_by(|x, y| x.0.cmp(&y.0));
        let versions: Vec<Value> = got.into_iter().map(|(_, v)| v).collect();
        assert_eq!(versions, vec![v0, v1, v2]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_to_the_guidelines_is_acknowledged_before_the_next_task() {
    use common::jsonl_items;
    on_every_backend(async |app: TestApp| {
        let req = app.user("Lab", "req@lab.test", Role::Requester).await;
        let w = app.user("Lab", "w@lab.test", Role::Worker).await;
        let newcomer = app.user("Lab", "new@lab.test", Role::Worker).await;
        let project = app
            .project(
                &req.token,
                json!({"name": "Changing", "template": minimal_template(), "overlap": 2}),
            )
            .await;
        app.items(&req.token, project, &jsonl_items("c", 0..4))
            .await;
        expect_status(
            put(&app, &req.token, project, json!({"markdown": "Pick a."})).await,
            StatusCode::CREATED,
        )
        .await;
        let a = app.claim(&w.token, project).await["assignment_id"]
            .as_i64()
            .unwrap();
        expect_status(
            app.submit(&w.token, a, json!({"label": "a"}), None).await,
            StatusCode::OK,
        )
        .await;
        // Version 2: the worker who answered under version 1 must acknowledge it; a newcomer just reads it.
        expect_status(
            put(
                &app,
                &req.token,
                project,
                json!({"markdown": "Pick b.", "note": "b now"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let e = expect_error(
            app.next(&w.token, project).await,
            StatusCode::FORBIDDEN,
            "guidelines_changed",
        )
        .await;
        assert!(e["message"].as_str().unwrap().contains("version 2"), "{e}");
        assert!(app.claim(&newcomer.token, project).await["assignment_id"].is_i64());
        let ack = |version: i64| {
            let w = w.token.clone();
            let app = &app;
            async move {
                app.api
                    .client
                    .post(app.api.url(&format!(
                        "/api/v1/projects/{project}/guidelines/acknowledge"
                    )))
                    .bearer_auth(w)
                    .json(&json!({"version": version}))
                    .send()
                    .await
                    .unwrap()
            }
        };
        expect_error(ack(1).await, StatusCode::CONFLICT, "guidelines_outdated").await;
        expect_status(ack(2).await, StatusCode::NO_CONTENT).await;
        expect_status(ack(2).await, StatusCode::NO_CONTENT).await;
        assert!(app.claim(&w.token, project).await["assignment_id"].is_i64());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onboarding_pay_is_part_of_the_project_and_reading_time_is_reported_over_the_api() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("Lab", "req@lab.test", Role::Requester).await;
        let worker = app.user("Lab", "w@lab.test", Role::Worker).await;
        let other = app.user("Other", "w@other.test", Role::Worker).await;
        let project = app
            .project(
                &req.token,
                json!({"name": "Paid reading", "template": minimal_template(),
                       "pay": {"model": "per_task", "amount_minor": 30, "currency": "EUR"},
                       "onboarding_pay": {"rate_minor": 1500, "max_minutes": 20}}),
            )
            .await;
        let shown = expect_status(app.get_project(&req.token, project).await, StatusCode::OK).await;
        assert_eq!(shown["pay"]["onboarding_rate_minor"], 1500);
        assert_eq!(shown["pay"]["onboarding_max_minutes"], 20);
        let beat = |token: String, body: Value| {
            let app = &app;
            async move {
                app.api
                    .client
                    .post(
                        app.api
                            .url(&format!("/api/v1/projects/{project}/onboarding/heartbeat")),
                    )
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
            }
        };
        let ok = json!({"activity": "guidelines", "focus": true, "input": true});
        let out = expect_status(beat(worker.token.clone(), ok.clone()).await, StatusCode::OK).await;
        assert_eq!(out["paid"], true);
        assert_eq!(out["recorded"], true);
        assert_eq!(out["max_ms"], 1_200_000);
        // Bad input names the field; another organization's worker finds no project.
        let bad = beat(
            worker.token.clone(),
            json!({"activity": "napping", "focus": true, "input": true}),
        )
        .await;
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        assert!(bad.text().await.unwrap().contains("activity"));
        expect_error(
            beat(other.token.clone(), ok.clone()).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        // An onboarding offer without pay is refused with the field named.
        let r = app
            .create_project(
                &req.token,
                &json!({"name": "x", "template": minimal_template(),
                        "onboarding_pay": {"rate_minor": 1500}}),
            )
            .await;
        let body = expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_pay").await;
        assert!(body.to_string().contains("onboarding_pay"), "{body}");
    })
    .await;
}
