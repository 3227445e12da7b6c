//! The review pages end to end through the real server with browser sessions, on SQLite and PostgreSQL: the
//! workbench sends its paste counts, the reviewer judges from the queue page, the worker sees the judgement and
//! its signals on "My reviews" and appeals there, a second reviewer decides, and a confirmed pause blocks work.

mod common;

use common::{FormBrowser, TestApp, expect_status, on_every_backend};
use fairloop_domain::Role;
use reqwest::StatusCode;
use serde_json::json;

const PASSWORD: &str = "review-pages-password";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_pages_from_workbench_to_final_appeal_and_pause() {
    on_every_backend(async |app: TestApp| {
        for (email, role) in [
            ("req@acme.test", Role::Requester),
            ("r1@acme.test", Role::Reviewer),
            ("r2@acme.test", Role::Reviewer),
            ("w@acme.test", Role::Worker),
            ("rev@other.test", Role::Reviewer),
        ] {
            let org = email.split('@').nth(1).unwrap();
            app.app.add_user(org, email, email, role, Some(PASSWORD)).await.expect("user");
        }
        let (_, req_token) = app.app.add_user("acme.test", "req@acme.test", "req", Role::Requester, None).await.unwrap();
        let template = json!({
            "fields": [{"name": "text", "type": "text"}],
            "questions": [
                {"name": "label", "type": "single_choice", "options": ["good", "bad"], "required": true},
                {"name": "why", "type": "text", "required": true}
            ]
        });
        let project = app.project(&req_token, json!({"name": "Pages", "overlap": 1, "template": template})).await;
        let r = app.client.put(app.url(&format!("/api/v1/projects/{project}/review-settings")))
            .bearer_auth(&req_token)
            .json(&json!({"sample_rate": 1.0, "min_seconds": 30, "low_agreement": 0.5}))
            .send().await.unwrap();
        expect_status(r, StatusCode::OK).await;
        let items = "{\"id\":\"a\",\"data\":{\"text\":\"a short text\"}}\n{\"id\":\"b\",\"data\":{\"text\":\"another\"}}\n";
        app.items(&req_token, project, items).await;

        // The worker answers on the workbench, which loads integrity.js and posts its counts as hidden fields.
        let w = FormBrowser::sign_in(&app, "w@acme.test", PASSWORD, "/reviews").await;
        let (_, home) = w.get("/").await;
        assert!(home.contains("href=\"/reviews\""), "My reviews is in the navigation");
        // "Start" posts the start form (a GET never takes a lease).
        let (_, bench, _) = w.post(&format!("/work/{project}"), &[]).await;
        let (_, page) = w.get(&bench).await;
        assert!(page.contains("src=\"/assets/integrity.js\""), "the workbench loads the integrity module");
        assert_eq!(page.matches("<script").count(), 7, "workbench, widgets, shapes, video, integrity, heartbeat and wellbeing modules, nothing inline");
        assert!(!page.contains("<script>"), "no inline script");
        let why = "I pasted this long explanation from somewhere else entirely, word for word.";
        let (status, _, body) = w.post(&bench, &[("q.label", "good"), ("q.why", why), ("paste_events", "2"), ("pasted_chars", "75")]).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        let js = app.client.get(app.url("/assets/integrity.js")).send().await.unwrap();
        assert_eq!(js.status(), StatusCode::OK);
        assert!(js.text().await.unwrap().contains("pasted_chars"));

        // The reviewer's queue page: the submission, its signals, the shortcuts on screen, the pause form.
        let r1 = FormBrowser::sign_in(&app, "r1@acme.test", PASSWORD, "/reviews").await;
        let (_, list) = r1.get("/review").await;
        assert!(list.contains(&format!("href=\"/review/{project}\"")), "{list}");
        let (status, queue) = r1.get(&format!("/review/{project}")).await;
        assert_eq!(status, StatusCode::OK);
        for want in ["Pasted text", "2 paste event(s)", "Time on task", "<kbd aria-hidden=\"true\">A</kbd>",
            "<kbd aria-hidden=\"true\">R</kbd>", "<kbd aria-hidden=\"true\">C</kbd>", "id=\"pause-form\"", "/assets/review.js"] {
            assert!(queue.contains(want), "{want} missing from the queue page: {queue}");
        }
        let start = queue.find("data-review=\"").unwrap() + 13;
        let review_id: i64 = queue[start..].split('"').next().unwrap().parse().unwrap();
        // Another organization's reviewer sees nothing.
        let outsider = FormBrowser::sign_in(&app, "rev@other.test", PASSWORD, "/reviews").await;
        assert_eq!(outsider.get(&format!("/review/{project}")).await.0, StatusCode::NOT_FOUND);
        let (status, _, _) = outsider.post(&format!("/review/{project}/{review_id}"), &[("action", "accept"), ("feedback", "x")]).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // Feedback is required; then the judgement is saved and the queue moves on.
        let (status, _, body) = r1.post(&format!("/review/{project}/{review_id}"), &[("action", "reject"), ("feedback", "")]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("feedback is required"), "{body}");
        let (status, to, _) = r1.post(&format!("/review/{project}/{review_id}"),
            &[("action", "reject"), ("feedback", "Write the explanation yourself, please.")]).await;
        assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, format!("/review/{project}").as_str()));
        let (_, queue) = r1.get(&format!("/review/{project}")).await;
        assert!(queue.contains("id=\"queue-empty\""), "{queue}");

        // A correction is made in the template's own controls, filled with the worker's answers.
        // "Start" posts the start form (a GET never takes a lease).
        let (_, bench, _) = w.post(&format!("/work/{project}"), &[]).await;
        let (status, _, _) = w.post(&bench, &[("q.label", "good"), ("q.why", "It is short and clear.")]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, queue) = r1.get(&format!("/review/{project}")).await;
        assert!(queue.contains(">It is short and clear.</textarea>"), "the correction form is filled in: {queue}");
        assert!(queue.contains("name=\"q.label\" value=\"good\" checked"), "{queue}");
        let start = queue.find("data-review=\"").unwrap() + 13;
        let second: i64 = queue[start..].split('"').next().unwrap().parse().unwrap();
        let (status, _, body) = r1.post(&format!("/review/{project}/{second}"),
            &[("action", "correct"), ("feedback", "It is not clear: bad."), ("q.label", "bad"), ("q.why", "Too vague.")]).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        let (_, r1_token) = app.app.add_user("acme.test", "r1@acme.test", "r1", Role::Reviewer, None).await.unwrap();
        let judged = expect_status(app.client.get(app.url(&format!("/api/v1/reviews/{second}"))).bearer_auth(&r1_token).send().await.unwrap(), StatusCode::OK).await;
        assert_eq!(judged["corrected_answers"], json!({"label": "bad", "why": "Too vague."}));
        let (status, _, body) = r1.post(&format!("/review/{project}/{second}"),
            &[("action", "correct"), ("feedback", "x"), ("q.label", "good"), ("q.why", "fine")]).await;
        assert_eq!(status, StatusCode::CONFLICT, "judged once: {body}");

        // The worker sees the judgement, feedback and signals, and appeals once.
        let (_, mine) = w.get("/reviews").await;
        for want in ["Rejected", "Write the explanation yourself", "Pasted text", "Appeal this judgement"] {
            assert!(mine.contains(want), "{want} missing from My reviews");
        }
        let (status, to, _) = w.post(&format!("/reviews/{review_id}/appeal"), &[("reason", "These are my own words.")]).await;
        assert_eq!((status, to), (StatusCode::SEE_OTHER, format!("/reviews#review-{review_id}")));
        let (status, _, _) = w.post(&format!("/reviews/{review_id}/appeal"), &[("reason", "again")]).await;
        assert_eq!(status, StatusCode::CONFLICT);

        // The first reviewer cannot decide it; the second does, and the worker sees the final decision.
        let (_, queue) = r1.get(&format!("/review/{project}")).await;
        assert!(queue.contains("a second reviewer decides the appeal"), "{queue}");
        let start = queue.find("data-appeal=\"").unwrap() + 13;
        let appeal_id: i64 = queue[start..].split('"').next().unwrap().parse().unwrap();
        let (status, _, _) = r1.post(&format!("/review/{project}/appeals/{appeal_id}"), &[("outcome", "upheld"), ("note", "no")]).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let r2 = FormBrowser::sign_in(&app, "r2@acme.test", PASSWORD, "/reviews").await;
        let (status, _, _) = r2.post(&format!("/review/{project}/appeals/{appeal_id}"),
            &[("outcome", "overturned"), ("note", "Fair point; withdrawn.")]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, mine) = w.get("/reviews").await;
        assert!(mine.contains("overturned") && mine.contains("Fair point; withdrawn."), "{mine}");

        // A pause needs the confirmation box and a reason; then the worker is refused with the reason shown.
        let w_id = app.app.store.user_by_email("w@acme.test").await.unwrap().unwrap().id.to_string();
        let reason = "Please reread the guidelines on explanations before continuing.";
        let (status, _, _) = r1.post(&format!("/review/{project}/pause"), &[("worker_id", &w_id), ("reason", reason)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "no confirmation, no pause");
        let (status, _, _) = r1.post(&format!("/review/{project}/pause"), &[("worker_id", &w_id), ("reason", reason), ("confirm", "yes")]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (status, _, page) = w.post(&format!("/work/{project}"), &[]).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(page.contains("reread the guidelines"), "{page}");
        let (_, mine) = w.get("/reviews").await;
        assert!(mine.contains("You are paused from Pages") && mine.contains(reason), "{mine}");
        // The queue page lists the pause with a button to lift it; lifting lets the worker work again.
        let (_, queue) = r1.get(&format!("/review/{project}")).await;
        assert!(queue.contains(&format!("Lift the pause of worker {w_id}")), "{queue}");
        let (status, _, _) = r1.post(&format!("/review/{project}/pauses/{w_id}/lift"), &[]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        // Not refused any more (both items are answered, so the page says there is nothing left).
        let (status, _, page) = w.post(&format!("/work/{project}"), &[]).await;
        assert_eq!(status, StatusCode::OK, "working again after the lift: {page}");
        assert!(!page.contains("paused"), "{page}");
    })
    .await;
}
