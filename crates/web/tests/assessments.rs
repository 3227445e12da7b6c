//! Qualification assessments over the API, on every backend: the server's time limit and the attempts limit,
//! the score with an explanation for each wrong answer, rubric answers graded by a person, a project requirement
//! that refuses claims until the assessment is passed, and tenant isolation of attempts.

mod common;

use common::{
    TestApp, TestUser, expect_error, expect_status, jsonl_items, minimal_template, on_every_backend,
};
use fairloop_domain::Role;
use fairloop_domain::time::now_millis;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn assessment(max_attempts: u32, with_rubric: bool) -> Value {
    let mut questions = vec![
        json!({"name": "colour", "type": "single_choice", "options": ["red", "yellow"], "label": "Colour of a ripe banana?"}),
        json!({"name": "legs", "type": "rating", "min": 0, "max": 10, "label": "Legs of a spider?"}),
    ];
    let mut body = json!({
        "title": "Fruit and bugs",
        "keys": {"colour": "yellow", "legs": 8},
        "explanations": {"colour": "Ripe bananas are yellow.", "legs": "Spiders have eight legs."},
        "time_limit_minutes": 1, "max_attempts": max_attempts, "pass_mark": 100
    });
    if with_rubric {
        questions.push(json!({"name": "why", "type": "text", "label": "Why do bananas brown?"}));
        body["rubrics"] = json!({"why": "Mentions ripening or oxidation."});
        body["explanations"]["why"] = json!("Browning is ripening: sugars and enzymes.");
    }
    body["template"] = json!({"fields": [], "questions": questions});
    body
}

async fn project_with_items(app: &TestApp, req: &TestUser) -> i64 {
    let project = app
        .project(
            &req.token,
            json!({"name": "Bugs", "template": minimal_template(), "overlap": 2}),
        )
        .await;
    app.items(&req.token, project, &jsonl_items("b", 0..5))
        .await;
    project
}

async fn create(app: &TestApp, req: &TestUser, project: i64, body: Value) -> i64 {
    let r = app
        .post(
            &req.token,
            &format!("/api/v1/projects/{project}/assessments"),
            body,
        )
        .await;
    expect_status(r, StatusCode::CREATED).await["id"]
        .as_i64()
        .unwrap()
}

async fn start(app: &TestApp, w: &TestUser, assessment: i64) -> Value {
    let r = app
        .post(
            &w.token,
            &format!("/api/v1/assessments/{assessment}/attempts"),
            json!({}),
        )
        .await;
    expect_status(r, StatusCode::CREATED).await
}

async fn submit(app: &TestApp, w: &TestUser, attempt: i64, answers: Value) -> reqwest::Response {
    app.post(
        &w.token,
        &format!("/api/v1/assessment-attempts/{attempt}/submit"),
        json!({"answers": answers}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_limit_and_attempts_are_enforced_and_wrong_answers_are_explained() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let w = app.user("acme", "w@acme.test", Role::Worker).await;
        let project = project_with_items(&app, &req).await;

        // Bad input names the field.
        let mut bad = assessment(2, false);
        bad["keys"]["colour"] = json!("blue");
        let e = expect_error(
            app.post(
                &req.token,
                &format!("/api/v1/projects/{project}/assessments"),
                bad,
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_assessment",
        )
        .await;
        assert!(
            e["message"].as_str().unwrap().contains("keys.colour"),
            "{e}"
        );
        let a = create(&app, &req, project, assessment(2, false)).await;

        // The worker sees no keys; the requester does.
        let seen = expect_status(
            app.get(&w.token, &format!("/api/v1/assessments/{a}")).await,
            StatusCode::OK,
        )
        .await;
        assert!(seen["keys"].is_null(), "{seen}");
        let seen = expect_status(
            app.get(&req.token, &format!("/api/v1/assessments/{a}"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(seen["keys"]["legs"], 8);

        // Attempt 1: one wrong answer; the score and only the wrong answer's explanation come back.
        let t1 = start(&app, &w, a).await;
        assert_eq!(t1["status"], "open");
        assert!(t1["seconds_left"].as_i64().unwrap() > 50, "{t1}");
        let again = start(&app, &w, a).await;
        assert_eq!(
            again["id"], t1["id"],
            "starting twice answers the open attempt"
        );
        let r = expect_status(
            submit(
                &app,
                &w,
                t1["id"].as_i64().unwrap(),
                json!({"colour": "red", "legs": 8}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(r["status"], "graded");
        assert_eq!(r["score_pct"], 50);
        assert_eq!(r["passed"], false);
        let colour = &r["results"][0];
        assert_eq!(colour["correct"], false);
        assert_eq!(colour["explanation"], "Ripe bananas are yellow.");
        assert_eq!(r["results"][1]["correct"], true);
        assert!(r["results"][1]["explanation"].is_null());
        // A finished attempt takes no more answers.
        expect_error(
            submit(
                &app,
                &w,
                t1["id"].as_i64().unwrap(),
                json!({"colour": "yellow", "legs": 8}),
            )
            .await,
            StatusCode::CONFLICT,
            "attempt_closed",
        )
        .await;

        // Attempt 2: the answers arrive after the deadline (the clock driven past it): refused, closed as expired.
        let t2 = start(&app, &w, a).await;
        let t2_id = t2["id"].as_i64().unwrap();
        let principal = app.app.authenticate(&w.token).await.unwrap();
        let late = app
            .app
            .submit_attempt_at(
                &principal,
                t2_id,
                json!({"colour": "yellow", "legs": 8}),
                now_millis() + 66_000,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(
                &late,
                fairloop_app::AppError::Conflict {
                    code: "time_limit_passed",
                    ..
                }
            ),
            "{late:?}"
        );
        let t2 = expect_status(
            app.get(&w.token, &format!("/api/v1/assessment-attempts/{t2_id}"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(t2["status"], "expired");
        assert_eq!(t2["score_pct"], 0);
        assert!(t2["answers"].is_null(), "late answers are not taken: {t2}");

        // Both attempts are used.
        expect_error(
            app.post(
                &w.token,
                &format!("/api/v1/assessments/{a}/attempts"),
                json!({}),
            )
            .await,
            StatusCode::CONFLICT,
            "attempts_exhausted",
        )
        .await;
        let view = expect_status(
            app.get(&w.token, &format!("/api/v1/assessments/{a}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(view["attempts_used"], 2);
        assert_eq!(view["best_score"], 50);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requirement_blocks_claims_until_the_assessment_is_passed() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let w = app.user("acme", "w@acme.test", Role::Worker).await;
        let other = app.user("acme", "o@acme.test", Role::Worker).await;
        let project = project_with_items(&app, &req).await;
        let free = project_with_items(&app, &req).await;
        let a = create(&app, &req, project, assessment(3, false)).await;

        // Before any requirement, claims work.
        expect_status(app.next(&w.token, project).await, StatusCode::OK).await;
        let reqs = app
            .send(
                reqwest::Method::PUT,
                &req.token,
                &format!("/api/v1/projects/{project}/qualifications"),
                Some(json!({"requirements": [{"assessment_id": a, "pass_mark": 100}]})),
            )
            .await;
        let reqs = expect_status(reqs, StatusCode::OK).await;
        assert_eq!(reqs["requirements"][0]["pass_mark"], 100);

        let e = expect_error(
            app.next(&other.token, project).await,
            StatusCode::FORBIDDEN,
            "qualification_required",
        )
        .await;
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains(&format!("/assessments/{a}")),
            "{e}"
        );
        // A project without requirements is untouched.
        expect_status(app.next(&other.token, free).await, StatusCode::OK).await;
        let mine = expect_status(
            app.get(
                &other.token,
                &format!("/api/v1/projects/{project}/qualifications"),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(mine["requirements"][0]["met"], false);
        assert_eq!(mine["requirements"][0]["link"], format!("/assessments/{a}"));
        // The project's eligibility names the assessment among the requirements left.
        let el = expect_status(
            app.get(
                &other.token,
                &format!("/api/v1/projects/{project}/eligibility"),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(el["eligible"], false, "{el}");
        assert_eq!(el["unmet"][0]["kind"], "qualification", "{el}");

        // Failing does not open the project; passing does.
        let t = start(&app, &other, a).await;
        submit(
            &app,
            &other,
            t["id"].as_i64().unwrap(),
            json!({"colour": "red", "legs": 8}),
        )
        .await;
        expect_error(
            app.next(&other.token, project).await,
            StatusCode::FORBIDDEN,
            "qualification_required",
        )
        .await;
        let t = start(&app, &other, a).await;
        let r = expect_status(
            submit(
                &app,
                &other,
                t["id"].as_i64().unwrap(),
                json!({"colour": "yellow", "legs": 8}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(r["passed"], true);
        expect_status(app.next(&other.token, project).await, StatusCode::OK).await;
        let mine = expect_status(
            app.get(
                &other.token,
                &format!("/api/v1/projects/{project}/qualifications"),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(mine["requirements"][0]["met"], true);
        let el = expect_status(
            app.get(
                &other.token,
                &format!("/api/v1/projects/{project}/eligibility"),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(el["eligible"], true, "{el}");

        // Another organization's assessment cannot be required.
        let stranger = app.user("globex", "req@globex.test", Role::Requester).await;
        let theirs = project_with_items(&app, &stranger).await;
        let e = app
            .send(
                reqwest::Method::PUT,
                &stranger.token,
                &format!("/api/v1/projects/{theirs}/qualifications"),
                Some(json!({"requirements": [{"assessment_id": a}]})),
            )
            .await;
        expect_error(e, StatusCode::UNPROCESSABLE_ENTITY, "invalid_assessment").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rubric_answers_wait_for_a_person_and_attempts_stay_in_their_tenant() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let rev = app.user("acme", "rev@acme.test", Role::Reviewer).await;
        let w = app.user("acme", "w@acme.test", Role::Worker).await;
        let w2 = app.user("acme", "w2@acme.test", Role::Worker).await;
        let stranger = app.user("globex", "req@globex.test", Role::Requester).await;
        let project = project_with_items(&app, &req).await;
        let a = create(&app, &req, project, assessment(1, true)).await;
        app.send(
            reqwest::Method::PUT,
            &req.token,
            &format!("/api/v1/projects/{project}/qualifications"),
            Some(json!({"requirements": [{"assessment_id": a}]})),
        )
        .await;

        let t = start(&app, &w, a).await;
        let id = t["id"].as_i64().unwrap();
        let r = expect_status(
            submit(
                &app,
                &w,
                id,
                json!({"colour": "yellow", "legs": 8, "why": "It ripens."}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(r["status"], "grading");
        assert!(r["score_pct"].is_null());
        assert!(r["results"][2]["correct"].is_null());
        expect_error(
            app.next(&w.token, project).await,
            StatusCode::FORBIDDEN,
            "qualification_required",
        )
        .await;

        // Tenancy: another worker and another organization see nothing; the reviewer sees it.
        expect_error(
            app.get(&w2.token, &format!("/api/v1/assessment-attempts/{id}"))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        expect_error(
            app.get(
                &stranger.token,
                &format!("/api/v1/assessment-attempts/{id}"),
            )
            .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        expect_error(
            app.get(&stranger.token, &format!("/api/v1/assessments/{a}"))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        let queue = expect_status(
            app.get(&stranger.token, "/api/v1/assessment-grading").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(queue["attempts"].as_array().unwrap().len(), 0);
        expect_error(
            app.post(
                &stranger.token,
                &format!("/api/v1/assessment-attempts/{id}/grade"),
                json!({"grades": {"why": {"correct": true}}}),
            )
            .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        expect_error(
            app.get(&w.token, "/api/v1/assessment-grading").await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;

        let queue = expect_status(
            app.get(&rev.token, "/api/v1/assessment-grading").await,
            StatusCode::OK,
        )
        .await;
        let item = &queue["attempts"][0];
        assert_eq!(item["attempt_id"], id);
        assert_eq!(item["questions"][0]["answer"], "It ripens.");
        assert_eq!(
            item["questions"][0]["rubric"],
            "Mentions ripening or oxidation."
        );
        let graded = expect_status(
            app.post(
                &rev.token,
                &format!("/api/v1/assessment-attempts/{id}/grade"),
                json!({"grades": {"why": {"correct": true, "note": "Yes: ripening."}}}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(graded["status"], "graded");
        assert_eq!(graded["score_pct"], 100);
        assert_eq!(graded["results"][2]["note"], "Yes: ripening.");
        expect_error(
            app.post(
                &rev.token,
                &format!("/api/v1/assessment-attempts/{id}/grade"),
                json!({"grades": {"why": {"correct": false}}}),
            )
            .await,
            StatusCode::CONFLICT,
            "attempt_not_grading",
        )
        .await;
        // Graded and passed: the requirement is met.
        expect_status(app.next(&w.token, project).await, StatusCode::OK).await;
    })
    .await;
}
