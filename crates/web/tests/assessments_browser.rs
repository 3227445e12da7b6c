//! Taking an assessment and the screening interview in a real browser (Debian's Chromium through chromedriver), over
//! the demo organization on SQLite with a local chat-completions server: the worker's home card says "Take the
//! assessment", the attempt shows its countdown and then the score with the explanation of the wrong answer, and
//! the text-only interview runs by keyboard, says plainly when the model fails, and retries. Screenshots at 1280
//! and 375 px wide land in `target/screenshots/` (`assessment-*`, `interview-*`).
//!
//! Without Chromium the test skips, unless `FAIRLOOP_REQUIRE_BROWSER=1`, where it fails.

mod browser_support;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use browser_support::{Browser, browser_or_skip, start_server_with};
use fairloop_app::AppConfig;
use fairloop_app::demo::DEMO_PASSWORD;
use fairloop_app::interview::InterviewConfig;
use serde_json::{Value, json};

const CONTROL: &str = "\u{E009}";
const ENTER: &str = "\u{E007}";

async fn shoot(b: &Browser, name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    b.viewport(1280, 800, false).await;
    b.screenshot(&dir, &format!("{name}-desktop")).await;
    b.viewport(375, 812, true).await;
    b.screenshot(&dir, &format!("{name}-phone")).await;
    b.viewport(1280, 800, false).await;
}

async fn sign_in(b: &Browser, base: &str, email: &str) {
    b.goto(&format!("{base}/signin")).await;
    b.type_into("#email", email).await;
    b.type_into("#password", DEMO_PASSWORD).await;
    b.click("#signin-submit").await;
    b.wait_for_url("the page after sign-in", |u| !u.contains("/signin"))
        .await;
}

/// A chat-completions server answering scripted contents in order (`None`: a reply that is not JSON).
async fn fake_model(replies: Vec<Option<String>>) -> String {
    let replies = Arc::new(Mutex::new(VecDeque::from(replies)));
    let router = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move |body: String| {
            let replies = replies.clone();
            async move {
                let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                assert_eq!(v["model"], "browser-model");
                match replies.lock().unwrap().pop_front().flatten() {
                    Some(c) => {
                        json!({"choices": [{"message": {"role": "assistant", "content": c}}]})
                            .to_string()
                    }
                    None => "not json".to_string(),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}/v1")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_takes_an_assessment_and_a_screening_interview() {
    let Some((chromium, driver)) = browser_or_skip() else {
        return;
    };
    let base_url = fake_model(vec![
        Some(json!({"follow_up": "Which sign changes first?"}).to_string()),
        None,
        Some(
            json!({"scores": [{"criterion": "accuracy", "score": 1, "reason": "Named two of the five signs."}]})
                .to_string(),
        ),
    ])
    .await;
    let server = start_server_with(AppConfig {
        interview: Some(InterviewConfig {
            base_url,
            model: "browser-model".into(),
            api_key: None,
            timeout: Duration::from_secs(5),
        }),
        ..AppConfig::default()
    })
    .await;
    let base = server.url.clone();
    let app = &server.app;
    let requester = app
        .store
        .user_by_email("requester@demo.fairloop.test")
        .await
        .unwrap()
        .unwrap();
    let project = app
        .store
        .project_by_name(requester.org_id, "Compare two LLM answers")
        .await
        .unwrap()
        .expect("the demo's comparison project")
        .id;
    let principal = fairloop_store::Principal {
        user_id: requester.id,
        org_id: requester.org_id,
        role: fairloop_domain::Role::Requester,
        email: requester.email.clone(),
    };
    let assessment = app
        .create_assessment(
            &principal,
            project,
            serde_json::from_value(json!({
                "title": "News entities: the basics",
                "template": {"fields": [], "questions": [
                    {"name": "org", "type": "single_choice", "label": "“Acme Corp. hired 40 people.” What is Acme Corp.?",
                     "options": ["person", "organization", "place"]},
                    {"name": "loc", "type": "single_choice", "label": "“She flew to Lagos.” What is Lagos?",
                     "options": ["person", "organization", "place"]}
                ]},
                "keys": {"org": "organization", "loc": "place"},
                "explanations": {"org": "Companies are organizations, even when named like people.",
                                 "loc": "Cities are places."},
                "time_limit_minutes": 10, "max_attempts": 2, "pass_mark": 50, "paid": true
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    app.set_qualification_requirements(
        &principal,
        project,
        vec![fairloop_app::assessments::RequirementInput {
            assessment_id: assessment,
            pass_mark: Some(50),
        }],
    )
    .await
    .unwrap();
    app.set_interview_setup(
        &principal,
        project,
        serde_json::from_value(json!({
            "questions": ["How do you decide whether a word is an organization or a person?"],
            "rubric": [{"name": "accuracy", "max": 2, "levels": ["wrong", "partly right", "right"]}],
            "max_followups": 1, "pass_mark": 2
        }))
        .unwrap(),
    )
    .await
    .unwrap();

    let b = Browser::start(&chromium, &driver).await;
    sign_in(&b, &base, "worker1@demo.fairloop.test").await;
    // The home card offers the assessment instead of Start.
    b.goto(&format!("{base}/")).await;
    let link = format!("[data-assessment='{assessment}']");
    let home = b.script("return document.body.innerText").await;
    assert!(
        home.as_str()
            .unwrap_or_default()
            .contains("Take the assessment"),
        "{home}"
    );
    assert!(b.text(&link).await.contains("Take the assessment"));
    b.click(&link).await;
    b.wait_for_url("the assessment page", |u| u.contains("/assessments/"))
        .await;
    shoot(&b, "assessment-start").await;
    b.click("#start").await;
    b.wait_for_url("the attempt", |u| u.contains("/assessment-attempts/"))
        .await;
    assert!(b.text("#timer").await.contains("Time left"));
    // The countdown runs (script) and the questions are plain radio buttons, picked by keyboard.
    b.script("document.querySelector('input[name=\"q.org\"][value=\"place\"]').focus()")
        .await;
    b.press("1", None).await;
    b.script("document.querySelector('input[name=\"q.loc\"][value=\"place\"]').focus()")
        .await;
    b.press(" ", None).await;
    shoot(&b, "assessment-attempt").await;
    let attempt_url = b.url().await;
    b.press(ENTER, Some(CONTROL)).await;
    b.wait_for_url("the result", |u| u == attempt_url).await;
    for _ in 0..50 {
        if b.script("return !!document.getElementById('attempt-score')")
            .await
            == json!(true)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let score = b.text("#attempt-score").await;
    assert!(
        score.contains("50 %") && score.contains("You passed"),
        "{score}"
    );
    let results = b.text("#results").await;
    assert!(
        results.contains("Companies are organizations"),
        "the wrong answer's explanation: {results}"
    );
    assert!(!results.contains("Cities are places"), "{results}");
    shoot(&b, "assessment-result").await;

    // The interview, text only.
    b.goto(&format!("{base}/projects/{project}/interview"))
        .await;
    shoot(&b, "interview-intro").await;
    b.click("#interview-start").await;
    b.wait_for_url("the interview", |u| u.ends_with("/interview"))
        .await;
    b.type_into(
        "#answer",
        "Companies and agencies are organizations; people have personal names.",
    )
    .await;
    b.press(ENTER, Some(CONTROL)).await;
    for _ in 0..50 {
        if b.text("#transcript")
            .await
            .contains("Which sign changes first?")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        b.text("#transcript")
            .await
            .contains("Which sign changes first?")
    );
    // The next model reply is garbage: the page says so, keeps the answer, and offers a retry.
    b.type_into(
        "#answer",
        "Context: verbs like hired point to an organization.",
    )
    .await;
    b.click("#answer-send").await;
    for _ in 0..50 {
        if b.script("return !!document.getElementById('interview-error')")
            .await
            == json!(true)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let error = b.text("#interview-error").await;
    assert!(
        error.contains("saved") && error.contains("nothing was scored"),
        "{error}"
    );
    assert!(b.text("#transcript").await.contains("verbs like hired"));
    shoot(&b, "interview-retry").await;
    b.click("#retry").await;
    for _ in 0..50 {
        if b.script("return !!document.getElementById('outcome')")
            .await
            == json!(true)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let outcome = b.text("#outcome").await;
    assert!(outcome.contains("a person reviews them"), "{outcome}");
    assert!(
        b.text("#scores")
            .await
            .contains("Named two of the five signs.")
    );
    shoot(&b, "interview-result").await;

    // A reviewer finds the case from the review page and decides; the decision is what the candidate sees.
    b.click("#signout").await;
    b.wait_for_url("the sign-in page", |u| u.contains("/signin"))
        .await;
    sign_in(&b, &base, "reviewer@demo.fairloop.test").await;
    b.goto(&format!("{base}/review")).await;
    b.click("#assessment-reviews").await;
    b.wait_for_url("the decisions page", |u| u.ends_with("/assessment-reviews"))
        .await;
    let case = b
        .script("return document.querySelector('.review-case').id")
        .await;
    let case = case.as_str().unwrap().to_string();
    assert!(case.starts_with("interview-"), "{case}");
    assert!(
        b.text(&format!("#{case}"))
            .await
            .contains("worker1@demo.fairloop.test")
    );
    shoot(&b, "interview-review").await;
    b.type_into(
        &format!("#{case} textarea"),
        "Sound reasoning about context; welcome.",
    )
    .await;
    // The decision posts back to the same page: wait for the new document before reading what was stored.
    b.mark_page().await;
    b.click(&format!("#{case} button[value=pass]")).await;
    b.wait_for_new_page("the decisions page again").await;
    assert!(b.url().await.ends_with("/assessment-reviews"));
    let id: i64 = case.trim_start_matches("interview-").parse().unwrap();
    let reviewer = app
        .store
        .user_by_email("reviewer@demo.fairloop.test")
        .await
        .unwrap()
        .unwrap();
    let rp = fairloop_store::Principal {
        user_id: reviewer.id,
        org_id: reviewer.org_id,
        role: fairloop_domain::Role::Reviewer,
        email: reviewer.email.clone(),
    };
    let decided = app.interview(&rp, id).await.unwrap();
    assert_eq!(decided.outcome, "passed");
    assert_eq!(
        decided.decision.unwrap().note,
        "Sound reasoning about context; welcome."
    );
    b.quit().await;
}
