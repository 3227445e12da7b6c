//! The screening interview over the API, on every backend, against a local server that speaks the
//! chat-completions protocol (it checks the model name and the bearer key, and answers scripted replies): the
//! interview end to end, a result below the mark going to a person, a person's decision replacing the model's,
//! an endpoint that is down, slow or answers garbage scoring nothing while no turn is lost and a retry works, and
//! transcripts that stay with their candidate and organization.

mod common;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::response::IntoResponse;
use common::{
    TestApp, TestUser, expect_error, expect_status, minimal_template, on_every_backend_with,
};
use fairloop_app::AppConfig;
use fairloop_app::interview::InterviewConfig;
use fairloop_domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

const MODEL: &str = "test-interviewer";
const KEY: &str = "sk-test-123";

/// One scripted reply of the fake model server.
#[derive(Clone)]
enum Reply {
    /// A chat completion whose content is this text.
    Content(String),
    /// A 200 whose body is not JSON.
    Garbage,
    /// An HTTP error status.
    Status(u16),
    /// Wait, then answer this content (slower than the client's timeout).
    Slow(Duration, String),
}

#[derive(Default)]
struct Script {
    replies: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<Value>>,
}

async fn completions(
    State(s): State<Arc<Script>>,
    headers: HeaderMap,
    body: String,
) -> axum::response::Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    if auth != format!("Bearer {KEY}") || v["model"] != MODEL || !v["messages"].is_array() {
        return (AxumStatus::UNAUTHORIZED, "wrong key or model").into_response();
    }
    s.requests.lock().unwrap().push(v);
    let next = s.replies.lock().unwrap().pop_front();
    let chat = |c: &str| {
        axum::Json(json!({"id": "x", "object": "chat.completion", "model": MODEL,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": c}, "finish_reason": "stop"}]}))
        .into_response()
    };
    match next {
        Some(Reply::Content(c)) => chat(&c),
        Some(Reply::Garbage) => (AxumStatus::OK, "<html>oops</html>").into_response(),
        Some(Reply::Status(code)) => (AxumStatus::from_u16(code).unwrap(), "busy").into_response(),
        Some(Reply::Slow(d, c)) => {
            tokio::time::sleep(d).await;
            chat(&c)
        }
        None => (AxumStatus::INTERNAL_SERVER_ERROR, "script ran out").into_response(),
    }
}

/// Starts the fake model server; answers its base URL and script.
async fn fake_model() -> (String, Arc<Script>) {
    let script = Arc::new(Script::default());
    let router = axum::Router::new()
        .route("/v1/chat/completions", axum::routing::post(completions))
        .with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://{addr}/v1"), script)
}

fn config(base_url: String) -> AppConfig {
    AppConfig {
        interview: Some(InterviewConfig {
            base_url,
            model: MODEL.into(),
            api_key: Some(KEY.into()),
            timeout: Duration::from_millis(800),
        }),
        ..AppConfig::default()
    }
}

fn script(s: &Script, replies: Vec<Reply>) {
    *s.replies.lock().unwrap() = replies.into();
    s.requests.lock().unwrap().clear();
}

fn follow_up(q: Option<&str>) -> Reply {
    Reply::Content(json!({"follow_up": q}).to_string())
}

fn scores(accuracy: i64, clarity: i64) -> Reply {
    // Fenced, as models often answer: still read.
    Reply::Content(format!(
        "```json\n{}\n```",
        json!({"scores": [
            {"criterion": "accuracy", "score": accuracy, "reason": "Named the ABCDE signs."},
            {"criterion": "clarity", "score": clarity, "reason": "Plain and ordered."}
        ]})
    ))
}

/// A project with a two-question interview, one follow-up allowed, pass mark 3 of 4.
async fn project_with_interview(app: &TestApp, req: &TestUser, followups: u32) -> i64 {
    let project = app
        .project(
            &req.token,
            json!({"name": "Dermatology", "template": minimal_template(), "overlap": 1}),
        )
        .await;
    let setup = json!({
        "questions": ["How do you tell a melanoma from a benign mole?", "When do you refer a patient?"],
        "rubric": [
            {"name": "accuracy", "max": 2, "levels": ["wrong", "partly right", "right and complete"]},
            {"name": "clarity", "max": 2, "levels": ["confusing", "understandable", "clear"]}
        ],
        "max_followups": followups,
        "pass_mark": 3
    });
    let r = app
        .api
        .client
        .put(
            app.api
                .url(&format!("/api/v1/projects/{project}/interview")),
        )
        .bearer_auth(&req.token)
        .json(&setup)
        .send()
        .await
        .unwrap();
    expect_status(r, StatusCode::OK).await;
    project
}

async fn answer(app: &TestApp, w: &TestUser, i: &Value, text: &str) -> reqwest::Response {
    let id = i["id"].as_i64().unwrap();
    let after = i["turns"].as_array().unwrap().last().unwrap()["seq"]
        .as_i64()
        .unwrap();
    app.post(
        &w.token,
        &format!("/api/v1/interviews/{id}/answer"),
        json!({"after_seq": after, "answer": text}),
    )
    .await
}

async fn get(app: &TestApp, token: &str, id: i64) -> Value {
    expect_status(
        app.get(token, &format!("/api/v1/interviews/{id}")).await,
        StatusCode::OK,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_interview_runs_end_to_end_against_a_chat_completions_server() {
    let (base, fake) = fake_model().await;
    on_every_backend_with(config(base.clone()), async |app: TestApp| {
        let req = app.user("clinic", "req@clinic.test", Role::Requester).await;
        let w = app.user("clinic", "w@clinic.test", Role::Worker).await;
        let project = project_with_interview(&app, &req, 1).await;
        // The candidate finds the interview from their home page.
        let (page, _) = app
            .page_session("clinic", "page@clinic.test", Role::Worker)
            .await;
        let (status, home) = page.get("/").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            home.contains(&format!(r#"href="/projects/{project}/interview""#)),
            "the home page does not link the interview"
        );
        script(
            &fake,
            vec![
                follow_up(Some("Which of the ABCDE signs matters most?")),
                follow_up(None),
                scores(2, 2),
            ],
        );

        let i = expect_status(
            app.post(
                &w.token,
                &format!("/api/v1/projects/{project}/interviews"),
                json!({}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(
            i["turns"][0]["content"],
            "How do you tell a melanoma from a benign mole?"
        );
        assert_eq!(i["waiting_for"], "candidate");
        let i = expect_status(
            answer(
                &app,
                &w,
                &i,
                "Asymmetry, border, colour, diameter, evolution.",
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(i["turns"][2]["role"], "interviewer");
        assert_eq!(
            i["turns"][2]["content"],
            "Which of the ABCDE signs matters most?"
        );
        // The one follow-up allowed is used: the next answer moves on without asking the model.
        let i = expect_status(
            answer(&app, &w, &i, "Evolution: a changing lesion.").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(i["turns"][4]["content"], "When do you refer a patient?");
        assert_eq!(i["question_number"], 2);
        assert_eq!(fake.requests.lock().unwrap().len(), 1);
        // A stale page cannot answer twice.
        let stale = json!({"id": i["id"], "turns": [{"seq": 1}]});
        expect_error(
            answer(&app, &w, &stale, "again").await,
            StatusCode::CONFLICT,
            "interview_out_of_order",
        )
        .await;
        let i = expect_status(
            answer(&app, &w, &i, "Any lesion with two or more signs.").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(i["status"], "scored");
        assert_eq!(i["outcome"], "passed");
        assert_eq!(i["model_total"], 4);
        assert_eq!(i["scores"][0]["reason"], "Named the ABCDE signs.");
        assert_eq!(i["turns"].as_array().unwrap().len(), 6);

        // What the model was sent: the transcript as chat turns, then the transcript and rubric to score.
        let sent = fake.requests.lock().unwrap().clone();
        assert_eq!(sent.len(), 3);
        assert_eq!(sent[0]["messages"][1]["role"], "assistant");
        assert_eq!(sent[0]["messages"][2]["role"], "user");
        let rubric = sent[2]["messages"][0]["content"].as_str().unwrap();
        assert!(
            rubric.contains("accuracy (0 to 2)") && rubric.contains("right and complete"),
            "{rubric}"
        );
        let transcript = sent[2]["messages"][1]["content"].as_str().unwrap();
        assert!(
            transcript.contains("Candidate: Any lesion with two or more signs."),
            "{transcript}"
        );

        // The stored transcript reads back the same.
        let again = get(&app, &w.token, i["id"].as_i64().unwrap()).await;
        assert_eq!(again["turns"], i["turns"]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn below_the_mark_goes_to_a_person_whose_decision_replaces_the_model() {
    let (base, fake) = fake_model().await;
    on_every_backend_with(config(base.clone()), async |app: TestApp| {
        let req = app.user("clinic", "req@clinic.test", Role::Requester).await;
        let rev = app.user("clinic", "rev@clinic.test", Role::Reviewer).await;
        let w = app.user("clinic", "w@clinic.test", Role::Worker).await;
        let w2 = app.user("clinic", "w2@clinic.test", Role::Worker).await;
        let stranger = app.user("other", "req@other.test", Role::Requester).await;
        let project = project_with_interview(&app, &req, 0).await;

        // A low score: not a rejection, a case for a person.
        script(&fake, vec![scores(1, 1)]);
        let i = expect_status(
            app.post(
                &w.token,
                &format!("/api/v1/projects/{project}/interviews"),
                json!({}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let i = expect_status(answer(&app, &w, &i, "Look at it.").await, StatusCode::OK).await;
        let i = expect_status(answer(&app, &w, &i, "When unsure.").await, StatusCode::OK).await;
        let id = i["id"].as_i64().unwrap();
        assert_eq!(i["status"], "needs_review");
        assert_eq!(i["outcome"], "awaiting_review");
        assert_eq!(i["model_total"], 2);

        // Tenancy: another worker and another organization's requester cannot read the transcript.
        expect_error(
            app.get(&w2.token, &format!("/api/v1/interviews/{id}"))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        expect_error(
            app.get(&stranger.token, &format!("/api/v1/interviews/{id}"))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        let theirs = expect_status(
            app.get(&stranger.token, "/api/v1/interview-reviews").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(theirs["interviews"].as_array().unwrap().len(), 0);
        expect_error(
            app.post(
                &stranger.token,
                &format!("/api/v1/interviews/{id}/decision"),
                json!({"pass": false, "note": "x"}),
            )
            .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        expect_error(
            app.get(&w2.token, "/api/v1/interview-reviews").await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;

        let queue = expect_status(
            app.get(&rev.token, "/api/v1/interview-reviews").await,
            StatusCode::OK,
        )
        .await;
        let case = &queue["interviews"][0];
        assert_eq!(case["id"], id);
        assert_eq!(case["worker_email"], "w@clinic.test");
        assert_eq!(case["turns"].as_array().unwrap().len(), 4);
        expect_error(
            app.post(
                &rev.token,
                &format!("/api/v1/interviews/{id}/decision"),
                json!({"pass": true, "note": " "}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_interview",
        )
        .await;
        let decided = expect_status(
            app.post(
                &rev.token,
                &format!("/api/v1/interviews/{id}/decision"),
                json!({"pass": true, "note": "Brief but right; clinic experience checks out."}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(decided["outcome"], "passed");
        let mine = get(&app, &w.token, id).await;
        assert_eq!(mine["outcome"], "passed");
        assert_eq!(
            mine["decision"]["note"],
            "Brief but right; clinic experience checks out."
        );
        assert!(mine["worker_email"].is_null());
        let queue = expect_status(
            app.get(&rev.token, "/api/v1/interview-reviews").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(queue["interviews"].as_array().unwrap().len(), 0);

        // A passing model result the candidate contests: a person's "no" is what counts.
        script(&fake, vec![scores(2, 2)]);
        let i = expect_status(
            app.post(
                &w2.token,
                &format!("/api/v1/projects/{project}/interviews"),
                json!({}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let i = expect_status(answer(&app, &w2, &i, "A").await, StatusCode::OK).await;
        let i = expect_status(answer(&app, &w2, &i, "B").await, StatusCode::OK).await;
        assert_eq!(i["outcome"], "passed");
        let id2 = i["id"].as_i64().unwrap();
        expect_error(
            app.post(
                &w.token,
                &format!("/api/v1/interviews/{id2}/review-request"),
                json!({}),
            )
            .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        let asked = expect_status(
            app.post(
                &w2.token,
                &format!("/api/v1/interviews/{id2}/review-request"),
                json!({"reason": "Please check"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(asked["outcome"], "awaiting_review");
        assert!(asked["review_requested"].as_bool().unwrap());
        let decided = expect_status(
            app.post(
                &rev.token,
                &format!("/api/v1/interviews/{id2}/decision"),
                json!({"pass": false, "note": "The answers are one letter long."}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(decided["outcome"], "not_passed");
        assert_eq!(get(&app, &w2.token, id2).await["outcome"], "not_passed");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_slow_and_failing_replies_score_nothing_and_a_retry_continues() {
    let (base, fake) = fake_model().await;
    on_every_backend_with(config(base.clone()), async |app: TestApp| {
        let req = app.user("clinic", "req@clinic.test", Role::Requester).await;
        let w = app.user("clinic", "w@clinic.test", Role::Worker).await;
        let project = project_with_interview(&app, &req, 1).await;
        let bad_scores = Reply::Content(
            json!({"scores": [{"criterion": "accuracy", "score": 7, "reason": "x"}]}).to_string(),
        );
        script(
            &fake,
            vec![
                Reply::Garbage,
                Reply::Slow(
                    Duration::from_millis(2500),
                    json!({"follow_up": null}).to_string(),
                ),
                Reply::Status(500),
                follow_up(None),
                follow_up(None),
                bad_scores,
                scores(2, 1),
            ],
        );
        let i = expect_status(
            app.post(
                &w.token,
                &format!("/api/v1/projects/{project}/interviews"),
                json!({}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let id = i["id"].as_i64().unwrap();
        let e = expect_error(
            answer(&app, &w, &i, "Asymmetry and colour.").await,
            StatusCode::SERVICE_UNAVAILABLE,
            "interviewer_unavailable",
        )
        .await;
        assert!(
            e["message"].as_str().unwrap().contains("could not use"),
            "{e}"
        );
        // The answer is kept; the page now offers a retry; nothing is scored.
        let now = get(&app, &w.token, id).await;
        assert_eq!(now["turns"].as_array().unwrap().len(), 2);
        assert_eq!(now["turns"][1]["content"], "Asymmetry and colour.");
        assert_eq!(now["waiting_for"], "interviewer");
        assert!(now["scores"].is_null());

        let retry_path = format!("/api/v1/interviews/{id}/retry");
        let retry = || app.post(&w.token, &retry_path, json!({}));
        let e = expect_error(
            retry().await,
            StatusCode::SERVICE_UNAVAILABLE,
            "interviewer_unavailable",
        )
        .await;
        assert!(
            e["message"].as_str().unwrap().contains("no answer within"),
            "{e}"
        );
        let e = expect_error(
            retry().await,
            StatusCode::SERVICE_UNAVAILABLE,
            "interviewer_unavailable",
        )
        .await;
        assert!(e["message"].as_str().unwrap().contains("HTTP 500"), "{e}");
        assert_eq!(
            get(&app, &w.token, id).await["turns"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        let i = expect_status(retry().await, StatusCode::OK).await;
        assert_eq!(i["turns"].as_array().unwrap().len(), 3);
        assert_eq!(i["turns"][2]["content"], "When do you refer a patient?");

        // Scores out of the rubric's range are an error, not a score; the retry scores.
        let e = expect_error(
            answer(&app, &w, &i, "Two signs or more.").await,
            StatusCode::SERVICE_UNAVAILABLE,
            "interviewer_unavailable",
        )
        .await;
        assert!(e["message"].as_str().unwrap().contains("accuracy"), "{e}");
        let now = get(&app, &w.token, id).await;
        assert_eq!(now["status"], "answered");
        assert_eq!(now["waiting_for"], "scoring");
        assert!(now["scores"].is_null() && now["model_total"].is_null());
        let i = expect_status(retry().await, StatusCode::OK).await;
        assert_eq!(i["status"], "scored");
        assert_eq!(i["model_total"], 3);
        assert_eq!(i["turns"].as_array().unwrap().len(), 4);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_that_is_down_keeps_the_answer_and_interviews_need_configuring() {
    // A port nobody listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    on_every_backend_with(
        config(format!("http://{closed}/v1")),
        async |app: TestApp| {
            let req = app.user("clinic", "req@clinic.test", Role::Requester).await;
            let w = app.user("clinic", "w@clinic.test", Role::Worker).await;
            let project = project_with_interview(&app, &req, 1).await;
            let i = expect_status(
                app.post(
                    &w.token,
                    &format!("/api/v1/projects/{project}/interviews"),
                    json!({}),
                )
                .await,
                StatusCode::CREATED,
            )
            .await;
            let e = expect_error(
                answer(&app, &w, &i, "Kept.").await,
                StatusCode::SERVICE_UNAVAILABLE,
                "interviewer_unavailable",
            )
            .await;
            assert!(e["message"].as_str().unwrap().contains("connecting"), "{e}");
            let now = get(&app, &w.token, i["id"].as_i64().unwrap()).await;
            assert_eq!(now["turns"][1]["content"], "Kept.");
            assert!(now["scores"].is_null());
        },
    )
    .await;
    on_every_backend_with(AppConfig::default(), async |app: TestApp| {
        let req = app.user("clinic", "req@clinic.test", Role::Requester).await;
        let w = app.user("clinic", "w@clinic.test", Role::Worker).await;
        let project = project_with_interview(&app, &req, 1).await;
        expect_error(
            app.post(
                &w.token,
                &format!("/api/v1/projects/{project}/interviews"),
                json!({}),
            )
            .await,
            StatusCode::SERVICE_UNAVAILABLE,
            "interview_not_configured",
        )
        .await;
    })
    .await;
}
