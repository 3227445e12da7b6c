//! The lifecycle and the guideline quiz as a signed-in browser sees them, on every backend: the requester pauses
//! and closes with notice from the status page, the worker's home shows the state, the end date and the work
//! left, a refused "start" explains itself, drafts stay hidden; the quiz is asked on the changes page, explains
//! wrong answers, lets the worker on when passed, and its results show on the requester's guidelines page.

mod common;

use common::{expect_status, jsonl_items, minimal_template, on_every_backend};
use fairloop_domain::Role;
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::json;

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_requester_pauses_and_closes_with_notice_and_the_worker_sees_it() {
    on_every_backend(async |app| {
        let (req, rtoken) = app.page_session("Acme", "req@acme.test", Role::Requester).await;
        let (worker, wtoken) = app.page_session("Acme", "pat@acme.test", Role::Worker).await;
        let project = app
            .project(
                &rtoken,
                json!({"name": "Sentiment", "template": minimal_template(), "overlap": 2,
                       "pay": {"model": "per_task", "amount_minor": 90, "currency": "USD"}}),
            )
            .await;
        app.items(&rtoken, project, &jsonl_items("s", 0..4)).await;
        let r = app
            .create_project(
                &rtoken,
                &json!({"name": "Secret draft", "template": minimal_template(), "state": "draft"}),
            )
            .await;
        expect_status(r, StatusCode::CREATED).await;
        let r = app
            .api
            .client
            .post(app.api.url(&format!("/api/v1/projects/{project}/terms")))
            .bearer_auth(&rtoken)
            .json(&json!({"summary": {"notice_days": 14, "notice_compensation_minor": 5000}, "markdown": "Terms."}))
            .send()
            .await
            .unwrap();
        expect_status(r, StatusCode::CREATED).await;

        // The requester's status page offers the moves and both ways to close, naming the compensation.
        let (status, page) = req.get(&format!("/projects/{project}/status")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("id=\"move-paused\"") && page.contains("id=\"close-notice\""), "{page}");
        assert!(page.contains("$50.00"), "the compensation is named: {page}");

        // Paused: the worker's home says so and why; "start" is refused with the reason, as a page (409).
        let r = req.post(&format!("/projects/{project}/status"), "state=paused&reason=re-checking+the+gold").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, home) = worker.get("/").await;
        assert!(home.contains("Paused: re-checking the gold"), "{home}");
        assert!(!home.contains("Secret draft"), "drafts are not shown to workers");
        let r = worker.post(&format!("/work/{project}"), "").await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        let body = r.text().await.unwrap();
        assert!(body.contains("paused (re-checking the gold)"), "{body}");
        // A worker cannot change the state from the page either.
        let r = worker.post(&format!("/projects/{project}/status"), "state=active").await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);

        // Resumed, then closed with notice: the end date shows on the home page and the status page.
        let r = req.post(&format!("/projects/{project}/status"), "state=active").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let r = req.post(&format!("/projects/{project}/close"), "mode=with_notice&reason=the+model+shipped").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&r), format!("/projects/{project}/status?done=notice"));
        let ends = app.app.store.lifecycle(req_org(&app, "req@acme.test").await, project).await.unwrap().ends_at.unwrap();
        let day = &fairloop_domain::time::to_rfc3339(ends)[..10];
        let (_, home) = worker.get("/").await;
        assert!(home.contains(&format!("Ends on {day}")), "{home}");
        assert!(home.contains("the model shipped"), "{home}");
        assert!(home.contains("8 answers left"), "the work left: {home}");
        let (status, page) = worker.get(&format!("/projects/{project}/status")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains(&format!("Ends on {day}")) && page.contains("Winding down"), "{page}");
        assert!(!page.contains("id=\"close-now\""), "workers get no controls");
        // Work goes on while winding down (once the terms are accepted).
        let t = expect_status(app.api.get(&wtoken, &format!("/api/v1/projects/{project}/terms")).await, StatusCode::OK).await;
        let r = app
            .api
            .client
            .post(app.api.url(&format!("/api/v1/projects/{project}/terms/decision")))
            .bearer_auth(&wtoken)
            .json(&json!({"version": t["version"], "text_hash": t["text_hash"], "accept": true}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        let r = worker.post(&format!("/work/{project}"), "").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(location(&r).starts_with(&format!("/work/{project}/")), "{}", location(&r));
        // The requester's dashboard names the state.
        let (_, dash) = req.get(&format!("/projects/{project}")).await;
        assert!(dash.contains("id=\"project-state\"") && dash.contains("Winding down"), "{dash}");
    })
    .await;
}

async fn req_org(app: &common::TestApp, email: &str) -> i64 {
    app.app
        .store
        .user_by_email(email)
        .await
        .unwrap()
        .unwrap()
        .org_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quiz_page_explains_wrong_answers_and_lets_the_worker_on_when_passed() {
    on_every_backend(async |app| {
        let (req, rtoken) = app
            .page_session("Acme", "req@acme.test", Role::Requester)
            .await;
        let (worker, wtoken) = app
            .page_session("Acme", "pat@acme.test", Role::Worker)
            .await;
        let project = app
            .project(
                &rtoken,
                json!({"name": "Fruit", "template": minimal_template(), "overlap": 2}),
            )
            .await;
        app.items(&rtoken, project, &jsonl_items("f", 0..4)).await;
        let r = req
            .post(
                &format!("/projects/{project}/guidelines"),
                "markdown=Pick+a.",
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let t = app.claim(&wtoken, project).await;
        let r = app
            .submit(
                &wtoken,
                t["assignment_id"].as_i64().unwrap(),
                json!({"label": "a"}),
                None,
            )
            .await;
        expect_status(r, StatusCode::OK).await;

        // A quiz the page cannot read is refused with the line named, and the text is kept.
        let bad = "markdown=Pick+b.&quiz=-+orphan+choice";
        let r = req
            .post(&format!("/projects/{project}/guidelines"), bad)
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = r.text().await.unwrap();
        assert!(
            body.contains("Quiz line 1") && body.contains("orphan choice"),
            "{body}"
        );
        let quiz = "%3F+Which+label+for+b%3F%0A-+a%0A*+b%0A%3E+Version+2+labels+b+as+b.";
        let r = req
            .post(
                &format!("/projects/{project}/guidelines"),
                &format!("markdown=Pick+b.&quiz={quiz}"),
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);

        // Starting sends the worker to the change, which asks the quiz instead of a plain acknowledgement.
        let r = worker.post(&format!("/work/{project}"), "").await;
        assert_eq!(
            location(&r),
            format!("/projects/{project}/guidelines/changes")
        );
        let (status, page) = worker
            .get(&format!("/projects/{project}/guidelines/changes"))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains("id=\"quiz-form\"") && page.contains("Which label for b?"),
            "{page}"
        );
        assert!(
            !page.contains("id=\"acknowledge\""),
            "no way around the quiz: {page}"
        );
        assert!(
            !page.contains("Version 2 labels b as b."),
            "the explanation waits for a wrong answer"
        );

        let r = worker
            .post(
                &format!("/projects/{project}/guidelines/quiz"),
                "version=2&q.q1=a",
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = r.text().await.unwrap();
        assert!(
            body.contains("Not quite. Version 2 labels b as b.") && body.contains("0 of 1 right"),
            "{body}"
        );
        let r = worker.post(&format!("/work/{project}"), "").await;
        assert_eq!(
            location(&r),
            format!("/projects/{project}/guidelines/changes"),
            "still blocked"
        );

        let r = worker
            .post(
                &format!("/projects/{project}/guidelines/quiz"),
                "version=2&q.q1=b",
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&r), format!("/work/{project}"));
        let r = worker.post(&format!("/work/{project}"), "").await;
        assert!(
            location(&r).starts_with(&format!("/work/{project}/")),
            "{}",
            location(&r)
        );

        let (_, page) = req.get(&format!("/projects/{project}/guidelines")).await;
        assert!(page.contains("id=\"quiz-results\""), "{page}");
        assert!(page.contains("1 worker passed · 2 attempts"), "{page}");
        assert!(page.contains("pat@acme.test"), "{page}");
    })
    .await;
}
