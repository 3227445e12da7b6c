//! Review with appeals, integrity signals and human-confirmed pauses, end to end over HTTP on SQLite and (with
//! `FAIRLOOP_TEST_DATABASE_URL`) PostgreSQL: the real router, a real client, a fresh database per scenario.

mod common;

use common::{TestApp, expect_error, expect_status, on_every_backend};
use fairloop_domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A model response shown in the item; a worker who copies it into their justification is flagged.
const RESPONSE: &str = "The capital of Australia is Canberra, which was chosen as a compromise between Sydney and \
     Melbourne and purpose built as the seat of government in the early twentieth century.";

fn template() -> Value {
    json!({
        "fields": [{"name": "prompt", "type": "text"}, {"name": "response", "type": "text"}],
        "questions": [
            {"name": "label", "type": "single_choice", "options": ["good", "bad"], "required": true},
            {"name": "why", "type": "text", "required": true}
        ]
    })
}

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    app.send(method, token, path, body).await
}

async fn get(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    call(app, Method::GET, path, token, None).await
}

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> reqwest::Response {
    call(app, Method::POST, path, token, Some(body)).await
}

/// Claims the next task and submits `answers` with optional workbench counts; answers the annotation id.
async fn work(
    app: &TestApp,
    token: &str,
    project: i64,
    answers: Value,
    integrity: Option<Value>,
) -> i64 {
    let task = app.claim(token, project).await;
    let mut body = json!({ "answers": answers });
    if let Some(i) = integrity {
        body["integrity"] = i;
    }
    let r = post(
        app,
        &format!("/api/v1/assignments/{}/submit", task["assignment_id"]),
        token,
        body,
    )
    .await;
    expect_status(r, StatusCode::OK).await["annotation_id"]
        .as_i64()
        .expect("annotation id")
}

fn signal<'a>(review: &'a Value, kind: &str) -> &'a Value {
    review["signals"]
        .as_array()
        .expect("signals")
        .iter()
        .find(|s| s["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} signal in {review}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signals_queue_judgements_appeal_once_and_a_second_reviewer_decides() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let r1 = app.user("acme", "r1@acme.test", Role::Reviewer).await;
        let r2 = app.user("acme", "r2@acme.test", Role::Reviewer).await;
        let w1 = app.user("acme", "w1@acme.test", Role::Worker).await;
        let w2 = app.user("acme", "w2@acme.test", Role::Worker).await;
        let outsider = app.user("other", "rev@other.test", Role::Reviewer).await;
        let project = app.project(&req.token, json!({"name": "Facts", "overlap": 2, "template": template()})).await;
        let settings = format!("/api/v1/projects/{project}/review-settings");

        // Settings: defaults first, then every field checked by name, then saved.
        let d = expect_status(get(&app, &settings, &r1.token).await, StatusCode::OK).await;
        assert_eq!(d, json!({"sample_rate": 0.1, "min_seconds": 10, "low_agreement": 0.6}));
        let bad = json!({"sample_rate": 2.0, "min_seconds": 30, "low_agreement": 0.6});
        let e = expect_error(call(&app, Method::PUT, &settings, &req.token, Some(bad)).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_settings").await;
        assert!(e["message"].as_str().unwrap().contains("sample_rate"), "{e}");
        let bad = json!({"sample_rate": 1.0, "min_seconds": -1, "low_agreement": 0.6});
        let e = expect_error(call(&app, Method::PUT, &settings, &req.token, Some(bad)).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_settings").await;
        assert!(e["message"].as_str().unwrap().contains("min_seconds"), "{e}");
        let good = json!({"sample_rate": 1.0, "min_seconds": 30, "low_agreement": 0.6});
        expect_error(call(&app, Method::PUT, &settings, &r1.token, Some(good.clone())).await, StatusCode::FORBIDDEN, "forbidden").await;
        expect_error(call(&app, Method::PUT, &settings, &outsider.token, Some(good.clone())).await, StatusCode::FORBIDDEN, "forbidden").await;
        let saved = expect_status(call(&app, Method::PUT, &settings, &req.token, Some(good.clone())).await, StatusCode::OK).await;
        assert_eq!(saved, good);

        let item = json!({"id": "q1", "data": {"prompt": "What is the capital of Australia?", "response": RESPONSE}});
        app.items(&req.token, project, &format!("{item}\n")).await;

        // w1 pastes the model's response as their justification; w2 copies w1's text and disagrees on the label.
        let copied = format!("I checked it: {RESPONSE}");
        let a1 = work(&app, &w1.token, project, json!({"label": "good", "why": copied}),
            Some(json!({"paste_events": 1, "pasted_chars": RESPONSE.len()}))).await;
        let a2 = work(&app, &w2.token, project, json!({"label": "bad", "why": copied}), None).await;
        // Signals decide nothing by themselves: both submissions count.
        assert_eq!(app.stats_json(&req.token, project).await["annotations"], 2);

        // The queue: both submissions, with reasons and evidence.
        let queue_path = format!("/api/v1/projects/{project}/reviews");
        let q = expect_status(get(&app, &queue_path, &r1.token).await, StatusCode::OK).await;
        let reviews = q["reviews"].as_array().expect("reviews").clone();
        assert_eq!(reviews.len(), 2, "{q}");
        let rv1 = reviews.iter().find(|r| r["annotation_id"] == a1).expect("w1's submission queued").clone();
        let rv2 = reviews.iter().find(|r| r["annotation_id"] == a2).expect("w2's submission queued").clone();
        for r in [&rv1, &rv2] {
            let reasons: Vec<&str> = r["reasons"].as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect();
            for want in ["sample", "signal", "low_agreement"] {
                assert!(reasons.contains(&want), "{want} missing from {r}");
            }
            let t = signal(r, "time_on_task");
            assert_eq!((t["flagged"].clone(), t["threshold"].clone()), (json!(true), json!(30.0)), "{t}");
            assert_eq!(signal(r, "copies_item")["flagged"], true, "{r}");
            assert_eq!(r["status"], "queued");
            assert_eq!(r["item_data"]["response"], RESPONSE);
        }
        let paste = signal(&rv1, "paste");
        assert_eq!(paste["flagged"], true, "{paste}");
        assert!(paste["detail"].as_str().unwrap().contains("1 paste event"), "{paste}");
        assert!(rv2["signals"].as_array().unwrap().iter().all(|s| s["kind"] != "paste"), "w2 sent no counts");
        assert_eq!(signal(&rv1, "near_duplicate")["flagged"], false, "w1 was first: {rv1}");
        let dup = signal(&rv2, "near_duplicate");
        assert_eq!(dup["flagged"], true, "{dup}");
        assert!(dup["value"].as_f64().unwrap() > 0.99, "{dup}");

        // Tenancy and roles: another organization sees nothing and can do nothing; workers cannot review.
        let (id1, id2) = (rv1["id"].as_i64().unwrap(), rv2["id"].as_i64().unwrap());
        expect_error(get(&app, &queue_path, &outsider.token).await, StatusCode::NOT_FOUND, "not_found").await;
        expect_error(get(&app, &format!("/api/v1/reviews/{id1}"), &outsider.token).await, StatusCode::NOT_FOUND, "not_found").await;
        expect_error(post(&app, &format!("/api/v1/reviews/{id1}/decision"), &outsider.token,
            json!({"action": "accept", "feedback": "fine"})).await, StatusCode::NOT_FOUND, "not_found").await;
        expect_error(get(&app, &settings, &outsider.token).await, StatusCode::NOT_FOUND, "not_found").await;
        expect_error(get(&app, &queue_path, &w1.token).await, StatusCode::FORBIDDEN, "forbidden").await;
        let none = expect_status(get(&app, "/api/v1/me/reviews", &outsider.token).await, StatusCode::OK).await;
        assert_eq!(none, json!({"reviews": [], "pauses": []}));

        // Judging: feedback required, actions checked, corrections validated against the template.
        let decide1 = format!("/api/v1/reviews/{id1}/decision");
        let e = expect_error(post(&app, &decide1, &r1.token, json!({"action": "reject", "feedback": "  "})).await,
            StatusCode::UNPROCESSABLE_ENTITY, "missing_text").await;
        assert!(e["message"].as_str().unwrap().contains("feedback"), "{e}");
        expect_error(post(&app, &decide1, &r1.token, json!({"action": "delete", "feedback": "x"})).await,
            StatusCode::UNPROCESSABLE_ENTITY, "invalid_action").await;
        expect_error(post(&app, &decide1, &r1.token, json!({"action": "correct", "feedback": "x"})).await,
            StatusCode::UNPROCESSABLE_ENTITY, "missing_answers").await;
        let e = expect_error(post(&app, &decide1, &r1.token,
            json!({"action": "correct", "feedback": "x", "answers": {"label": "maybe", "why": "my own reasons here"}})).await,
            StatusCode::UNPROCESSABLE_ENTITY, "invalid_answer").await;
        assert_eq!(e["details"]["errors"][0]["question"], "label", "{e}");
        let judged = expect_status(post(&app, &decide1, &r1.token,
            json!({"action": "reject", "feedback": "The justification is the model's response pasted in; explain in your own words."})).await,
            StatusCode::OK).await;
        assert_eq!((judged["status"].clone(), judged["decision"].clone()), (json!("decided"), json!("rejected")));
        assert_eq!(judged["reviewer_id"], r1.id);
        // Each submission is reviewed once.
        expect_error(post(&app, &decide1, &r2.token, json!({"action": "accept", "feedback": "ok"})).await,
            StatusCode::CONFLICT, "already_reviewed").await;
        let corrected = json!({"label": "good", "why": "Canberra is correct, so the response is good."});
        let c = expect_status(post(&app, &format!("/api/v1/reviews/{id2}/decision"), &r1.token,
            json!({"action": "correct", "feedback": "The response is right; see the corrected label.", "answers": corrected})).await,
            StatusCode::OK).await;
        assert_eq!(c["corrected_answers"], corrected);
        let q = expect_status(get(&app, &queue_path, &r1.token).await, StatusCode::OK).await;
        assert_eq!(q["reviews"], json!([]), "judged submissions leave the queue");

        // The worker sees the judgement, the feedback and the evidence, but not who judged.
        let mine = expect_status(get(&app, "/api/v1/me/reviews", &w1.token).await, StatusCode::OK).await;
        let list = mine["reviews"].as_array().unwrap();
        assert_eq!(list.len(), 1, "{mine}");
        assert_eq!(list[0]["decision"], "rejected");
        assert!(list[0]["feedback"].as_str().unwrap().contains("own words"));
        assert_eq!(signal(&list[0], "paste")["flagged"], true);
        assert_eq!(list[0]["reviewer_id"], Value::Null);

        // Another worker sees only their own judgement.
        let theirs = expect_status(get(&app, "/api/v1/me/reviews", &w2.token).await, StatusCode::OK).await;
        let ids: Vec<i64> = theirs["reviews"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, [id2], "{theirs}");
        expect_error(get(&app, &format!("/api/v1/reviews/{id1}"), &w2.token).await, StatusCode::FORBIDDEN, "forbidden").await;

        // Appeals: only the worker's own, a reason required, once.
        let appeal1 = format!("/api/v1/reviews/{id1}/appeal");
        expect_error(post(&app, &appeal1, &w2.token, json!({"reason": "not mine"})).await, StatusCode::NOT_FOUND, "not_found").await;
        expect_error(post(&app, &appeal1, &outsider.token, json!({"reason": "x"})).await, StatusCode::NOT_FOUND, "not_found").await;
        expect_error(post(&app, &appeal1, &w1.token, json!({"reason": ""})).await, StatusCode::UNPROCESSABLE_ENTITY, "missing_text").await;
        let ap = expect_status(post(&app, &appeal1, &w1.token,
            json!({"reason": "I pasted my own notes from my editor; the facts are right."})).await, StatusCode::CREATED).await;
        assert_eq!(ap["status"], "open");
        expect_error(post(&app, &appeal1, &w1.token, json!({"reason": "again"})).await, StatusCode::CONFLICT, "already_appealed").await;

        // A second reviewer decides; the first cannot, nor can another organization.
        let appeals_path = format!("/api/v1/projects/{project}/appeals");
        let open = expect_status(get(&app, &appeals_path, &r2.token).await, StatusCode::OK).await;
        assert_eq!(open["appeals"].as_array().unwrap().len(), 1, "{open}");
        assert_eq!(open["appeals"][0]["review"]["reviewer_id"], r1.id);
        expect_error(get(&app, &appeals_path, &outsider.token).await, StatusCode::NOT_FOUND, "not_found").await;
        let decide_appeal = format!("/api/v1/appeals/{}/decision", ap["id"]);
        expect_error(post(&app, &decide_appeal, &r1.token, json!({"outcome": "upheld", "note": "I stand by it"})).await,
            StatusCode::FORBIDDEN, "same_reviewer").await;
        expect_error(post(&app, &decide_appeal, &outsider.token, json!({"outcome": "upheld", "note": "x"})).await,
            StatusCode::NOT_FOUND, "not_found").await;
        expect_error(post(&app, &decide_appeal, &r2.token, json!({"outcome": "maybe", "note": "x"})).await,
            StatusCode::UNPROCESSABLE_ENTITY, "invalid_outcome").await;
        let done = expect_status(post(&app, &decide_appeal, &r2.token,
            json!({"outcome": "overturned", "note": "Pasting your own notes is fine; the judgement is withdrawn."})).await,
            StatusCode::OK).await;
        assert_eq!((done["status"].clone(), done["outcome"].clone()), (json!("decided"), json!("overturned")));
        // Final.
        expect_error(post(&app, &decide_appeal, &req.token, json!({"outcome": "upheld", "note": "no"})).await,
            StatusCode::CONFLICT, "appeal_decided").await;
        let mine = expect_status(get(&app, "/api/v1/me/reviews", &w1.token).await, StatusCode::OK).await;
        let appeal = &mine["reviews"][0]["appeal"];
        assert_eq!((appeal["outcome"].clone(), appeal["status"].clone()), (json!("overturned"), json!("decided")), "{mine}");
        assert!(appeal["note"].as_str().unwrap().contains("withdrawn"));
        let open = expect_status(get(&app, &appeals_path, &r2.token).await, StatusCode::OK).await;
        assert_eq!(open["appeals"], json!([]));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_queued_without_a_reason_and_nobody_reviews_their_own_work() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let rev = app.user("acme", "rev@acme.test", Role::Reviewer).await;
        let w = app.user("acme", "w@acme.test", Role::Worker).await;
        let project = app
            .project(
                &req.token,
                json!({"name": "Quiet", "overlap": 2, "template": template()}),
            )
            .await;
        let settings = format!("/api/v1/projects/{project}/review-settings");
        let off = json!({"sample_rate": 0.0, "min_seconds": 0, "low_agreement": 0.5});
        expect_status(
            call(&app, Method::PUT, &settings, &req.token, Some(off)).await,
            StatusCode::OK,
        )
        .await;
        let items = "{\"id\":\"a\",\"data\":{\"prompt\":\"p\",\"response\":\"r\"}}\n";
        app.items(&req.token, project, items).await;
        work(
            &app,
            &w.token,
            project,
            json!({"label": "good", "why": "short"}),
            Some(json!({"paste_events": 0})),
        )
        .await;
        work(
            &app,
            &rev.token,
            project,
            json!({"label": "good", "why": "also short"}),
            None,
        )
        .await;
        let q = expect_status(
            get(
                &app,
                &format!("/api/v1/projects/{project}/reviews"),
                &rev.token,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            q["reviews"],
            json!([]),
            "agreeing, unflagged, unsampled work is not queued"
        );

        // Sample everything: the reviewer's own submission is queued but they cannot judge it.
        let all = json!({"sample_rate": 1.0, "min_seconds": 0, "low_agreement": 0.5});
        expect_status(
            call(&app, Method::PUT, &settings, &req.token, Some(all)).await,
            StatusCode::OK,
        )
        .await;
        app.items(
            &req.token,
            project,
            "{\"id\":\"b\",\"data\":{\"prompt\":\"p\",\"response\":\"r\"}}\n",
        )
        .await;
        work(
            &app,
            &rev.token,
            project,
            json!({"label": "bad", "why": "short"}),
            None,
        )
        .await;
        let q = expect_status(
            get(
                &app,
                &format!("/api/v1/projects/{project}/reviews"),
                &rev.token,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let own = q["reviews"][0]["id"].as_i64().expect("queued");
        assert_eq!(q["reviews"][0]["reasons"], json!(["sample"]));
        expect_error(
            post(
                &app,
                &format!("/api/v1/reviews/{own}/decision"),
                &rev.token,
                json!({"action": "accept", "feedback": "looks fine"}),
            )
            .await,
            StatusCode::FORBIDDEN,
            "own_submission",
        )
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_human_with_a_reason_pauses_a_worker_and_the_queue_then_refuses_them() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let rev = app.user("acme", "rev@acme.test", Role::Reviewer).await;
        let w = app.user("acme", "w@acme.test", Role::Worker).await;
        let other_w = app.user("other", "w@other.test", Role::Worker).await;
        let outsider = app.user("other", "admin@other.test", Role::Admin).await;
        let project = app.project(&req.token, json!({"name": "P", "overlap": 1, "template": template()})).await;
        let items = "{\"id\":\"a\",\"data\":{\"prompt\":\"p\",\"response\":\"r\"}}\n";
        app.items(&req.token, project, items).await;
        let pauses = format!("/api/v1/projects/{project}/pauses");
        let reason = "Three of your last five answers contradicted the guidelines on units; please reread section 2.";

        expect_error(post(&app, &pauses, &req.token, json!({"worker_id": w.id, "reason": reason})).await,
            StatusCode::FORBIDDEN, "forbidden").await;
        expect_error(post(&app, &pauses, &w.token, json!({"worker_id": w.id, "reason": reason})).await,
            StatusCode::FORBIDDEN, "forbidden").await;
        let e = expect_error(post(&app, &pauses, &rev.token, json!({"worker_id": w.id, "reason": " "})).await,
            StatusCode::UNPROCESSABLE_ENTITY, "missing_text").await;
        assert!(e["message"].as_str().unwrap().contains("reason"), "{e}");
        expect_error(post(&app, &pauses, &outsider.token, json!({"worker_id": w.id, "reason": reason})).await,
            StatusCode::NOT_FOUND, "not_found").await;
        expect_error(post(&app, &pauses, &rev.token, json!({"worker_id": other_w.id, "reason": reason})).await,
            StatusCode::NOT_FOUND, "not_found").await;

        let p = expect_status(post(&app, &pauses, &rev.token, json!({"worker_id": w.id, "reason": reason})).await,
            StatusCode::CREATED).await;
        assert_eq!((p["reason"].as_str(), p["lifted_at"].clone()), (Some(reason), Value::Null));
        expect_error(post(&app, &pauses, &rev.token, json!({"worker_id": w.id, "reason": reason})).await,
            StatusCode::CONFLICT, "already_paused").await;
        let listed = expect_status(get(&app, &pauses, &req.token).await, StatusCode::OK).await;
        assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
        assert_eq!(listed[0]["worker_id"], w.id);
        expect_error(get(&app, &pauses, &outsider.token).await, StatusCode::NOT_FOUND, "not_found").await;
        expect_error(get(&app, &pauses, &w.token).await, StatusCode::FORBIDDEN, "forbidden").await;
        let e = expect_error(app.next(&w.token, project).await, StatusCode::FORBIDDEN, "worker_paused").await;
        assert!(e["message"].as_str().unwrap().contains("section 2"), "{e}");
        let mine = expect_status(get(&app, "/api/v1/me/reviews", &w.token).await, StatusCode::OK).await;
        assert_eq!(mine["pauses"][0]["reason"], reason);
        assert_eq!(mine["pauses"][0]["project_id"], project);
        // Another organization cannot lift it either.
        let lift = format!("/api/v1/projects/{project}/pauses/{}", w.id);
        expect_error(call(&app, Method::DELETE, &lift, &outsider.token, None).await, StatusCode::NOT_FOUND, "not_found").await;
        expect_status(call(&app, Method::DELETE, &lift, &rev.token, None).await, StatusCode::NO_CONTENT).await;
        expect_error(call(&app, Method::DELETE, &lift, &rev.token, None).await, StatusCode::NOT_FOUND, "not_found").await;
        app.claim(&w.token, project).await;
        let mine = expect_status(get(&app, "/api/v1/me/reviews", &w.token).await, StatusCode::OK).await;
        assert!(mine["pauses"][0]["lifted_at"].is_string(), "history kept: {mine}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_lists_the_review_endpoints() {
    let app = common::spawn_app().await;
    let doc = expect_status(app.get_anon("/api/openapi.json").await, StatusCode::OK).await;
    for path in [
        "/api/v1/projects/{id}/review-settings",
        "/api/v1/projects/{id}/reviews",
        "/api/v1/reviews/{id}",
        "/api/v1/reviews/{id}/decision",
        "/api/v1/reviews/{id}/appeal",
        "/api/v1/me/reviews",
        "/api/v1/projects/{id}/appeals",
        "/api/v1/appeals/{id}/decision",
        "/api/v1/projects/{id}/pauses",
        "/api/v1/projects/{id}/pauses/{worker_id}",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_judgements_and_appeal_decisions_save_exactly_one() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let r1 = app.user("acme", "r1@acme.test", Role::Reviewer).await;
        let r2 = app.user("acme", "r2@acme.test", Role::Reviewer).await;
        let r3 = app.user("acme", "r3@acme.test", Role::Admin).await;
        let w = app.user("acme", "w@acme.test", Role::Worker).await;
        let project = app
            .project(
                &req.token,
                json!({"name": "Race", "overlap": 1, "template": template()}),
            )
            .await;
        let all = json!({"sample_rate": 1.0, "min_seconds": 0, "low_agreement": 0.5});
        let settings = format!("/api/v1/projects/{project}/review-settings");
        expect_status(
            call(&app, Method::PUT, &settings, &req.token, Some(all)).await,
            StatusCode::OK,
        )
        .await;
        app.items(
            &req.token,
            project,
            "{\"data\":{\"prompt\":\"p\",\"response\":\"r\"}}\n",
        )
        .await;
        work(
            &app,
            &w.token,
            project,
            json!({"label": "good", "why": "fine"}),
            None,
        )
        .await;
        let q = expect_status(
            get(
                &app,
                &format!("/api/v1/projects/{project}/reviews"),
                &r1.token,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let id = q["reviews"][0]["id"].as_i64().expect("queued");
        let path = format!("/api/v1/reviews/{id}/decision");
        let (a, b) = tokio::join!(
            post(
                &app,
                &path,
                &r1.token,
                json!({"action": "reject", "feedback": "too short"})
            ),
            post(
                &app,
                &path,
                &r2.token,
                json!({"action": "reject", "feedback": "bad"})
            ),
        );
        let mut statuses = [a.status(), b.status()];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
        let judged = expect_status(
            get(&app, &format!("/api/v1/reviews/{id}"), &r3.token).await,
            StatusCode::OK,
        )
        .await;
        let first = judged["reviewer_id"].as_i64().unwrap();

        let ap = expect_status(
            post(
                &app,
                &format!("/api/v1/reviews/{id}/appeal"),
                &w.token,
                json!({"reason": "please look again"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let others: Vec<&str> = [&r1, &r2, &r3]
            .into_iter()
            .filter(|r| r.id != first)
            .map(|r| r.token.as_str())
            .collect();
        let decide = format!("/api/v1/appeals/{}/decision", ap["id"]);
        let (a, b) = tokio::join!(
            post(
                &app,
                &decide,
                others[0],
                json!({"outcome": "upheld", "note": "stands"})
            ),
            post(
                &app,
                &decide,
                others[1],
                json!({"outcome": "overturned", "note": "withdrawn"})
            ),
        );
        let mut statuses = [a.status(), b.status()];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);

        // An accepted submission has nothing to appeal.
        app.items(
            &req.token,
            project,
            "{\"data\":{\"prompt\":\"q\",\"response\":\"s\"}}\n",
        )
        .await;
        work(
            &app,
            &w.token,
            project,
            json!({"label": "good", "why": "fine"}),
            None,
        )
        .await;
        let q = expect_status(
            get(
                &app,
                &format!("/api/v1/projects/{project}/reviews"),
                &r1.token,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let id = q["reviews"][0]["id"].as_i64().expect("queued");
        expect_status(
            post(
                &app,
                &format!("/api/v1/reviews/{id}/decision"),
                &r1.token,
                json!({"action": "accept", "feedback": "good"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        expect_error(
            post(
                &app,
                &format!("/api/v1/reviews/{id}/appeal"),
                &w.token,
                json!({"reason": "why not"}),
            )
            .await,
            StatusCode::CONFLICT,
            "nothing_to_appeal",
        )
        .await;
    })
    .await;
}
