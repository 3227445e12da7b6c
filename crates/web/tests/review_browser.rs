//! Review in a real browser (Debian's Chromium through chromedriver), over the demo organization on SQLite:
//! the workbench's integrity module counts a paste, a reviewer judges from the queue with the keyboard alone
//! (`R`, typing, Ctrl+Enter), and the worker reads the judgement on "My reviews". Screenshots of the queue and
//! of "My reviews" at desktop and phone size land in `target/screenshots/`.
//!
//! Without Chromium the test skips, unless `FAIRLOOP_REQUIRE_BROWSER=1`, where it fails.

mod browser_support;

use browser_support::{Browser, CONTROL, ENTER, browser_or_skip, shoot, sign_in, start_server};
use fairloop_app::review::ReviewSettingsBody;
use fairloop_store::Principal;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_judges_with_the_keyboard_and_the_worker_sees_it() {
    let Some((chromium, driver)) = browser_or_skip() else {
        return;
    };
    let server = start_server().await;
    let base = server.url.clone();
    let store = server.app.store.clone();
    let user = |email: &'static str| {
        let store = store.clone();
        async move {
            let u = store.user_by_email(email).await.unwrap().unwrap();
            Principal {
                user_id: u.id,
                org_id: u.org_id,
                role: u.role,
                email: u.email,
            }
        }
    };
    let requester = user("requester@demo.fairloop.test").await;
    let project = store
        .project_by_name(requester.org_id, "Compare two LLM answers")
        .await
        .unwrap()
        .unwrap();
    let pid = project.id;
    server
        .app
        .set_review_settings(
            &requester,
            pid,
            ReviewSettingsBody {
                sample_rate: 1.0,
                min_seconds: 30,
                low_agreement: 0.5,
            },
        )
        .await
        .unwrap();

    let b = Browser::start(&chromium, &driver).await;
    // The worker opens the workbench; a paste into a text box is counted in the form's hidden fields.
    sign_in(&b, &base, "worker1@demo.fairloop.test").await;
    b.goto(&format!("{base}/work/{pid}")).await;
    b.wait_for_url("the workbench", |u| u.contains(&format!("/work/{pid}/")))
        .await;
    let counts = b
        .script(
            "const t = document.querySelector('#answer-form textarea'); if (!t) return null; \
             const dt = new DataTransfer(); dt.setData('text/plain', 'twelve chars'); \
             t.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true})); \
             const f = document.getElementById('answer-form'); \
             return [f.querySelector('input[name=paste_events]').value, f.querySelector('input[name=pasted_chars]').value];",
        )
        .await;
    assert_eq!(counts, json!(["1", "12"]), "integrity.js counts pastes");
    let note = b.text("#integrity-note").await;
    assert!(
        note.contains("counted and shown with your reviews"),
        "{note}"
    );
    // The submission under review: one answer on the reviews project, through the same use case as the form.
    let worker = user("worker1@demo.fairloop.test").await;
    let classify = store
        .project_by_name(requester.org_id, "Classify product reviews")
        .await
        .unwrap()
        .unwrap();
    server
        .app
        .set_review_settings(
            &requester,
            classify.id,
            ReviewSettingsBody {
                sample_rate: 1.0,
                min_seconds: 30,
                low_agreement: 0.5,
            },
        )
        .await
        .unwrap();
    let task = server
        .app
        .next_task(&worker, classify.id)
        .await
        .unwrap()
        .expect("a task");
    let body = serde_json::from_value(
        json!({"answers": {"sentiment": "pos"}, "integrity": {"paste_events": 0}}),
    )
    .unwrap();
    server
        .app
        .submit(&worker, task.assignment_id, body, None)
        .await
        .unwrap();
    finish(&b, &base, &server, classify.id).await;
}

async fn finish(b: &Browser, base: &str, server: &browser_support::Server, pid: i64) {
    // The reviewer: R picks reject and moves to the feedback box; Ctrl+Enter saves.
    sign_in(b, base, "reviewer@demo.fairloop.test").await;
    b.goto(&format!("{base}/review/{pid}")).await;
    let keys = b.text("#review-keys").await;
    assert!(
        keys.contains("accept") && keys.contains("reject") && keys.contains("correct"),
        "{keys}"
    );
    shoot(b, "review-queue").await;
    let first = b
        .script("return Number(document.getElementById('review').dataset.review)")
        .await
        .as_i64()
        .unwrap();
    // C opens the correction controls (filled with the worker's answers); Esc leaves the feedback box.
    b.press("c", None).await;
    let open = b
        .script("return document.getElementById('correct-panel').open")
        .await;
    assert_eq!(open, json!(true));
    let filled = b
        .script("return document.querySelector('#correct-panel input[name=\"q.sentiment\"]:checked')?.value ?? null")
        .await;
    assert!(
        filled.is_string(),
        "the correction starts from the worker's answer: {filled}"
    );
    shoot(b, "review-correct").await;
    b.press("\u{E00C}", None).await;
    b.press("r", None).await;
    let state = b
        .script("return [document.querySelector('input[name=action]:checked')?.value ?? null, document.activeElement.id]")
        .await;
    assert_eq!(state, json!(["reject", "feedback"]));
    b.press("Too quick to have read both answers.", None).await;
    b.press(ENTER, Some(CONTROL)).await;
    let reviewer = server
        .app
        .store
        .user_by_email("reviewer@demo.fairloop.test")
        .await
        .unwrap()
        .unwrap();
    let principal = Principal {
        user_id: reviewer.id,
        org_id: reviewer.org_id,
        role: reviewer.role,
        email: reviewer.email,
    };
    // Saving posts the form and lands on the same address again, so wait for the judgement itself.
    let mut judged = server.app.review(&principal, first).await.unwrap();
    for _ in 0..100 {
        if judged.decision.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        judged = server.app.review(&principal, first).await.unwrap();
    }
    assert_eq!(judged.decision.as_deref(), Some("rejected"), "{judged:?}");
    assert_eq!(
        judged.feedback.as_deref(),
        Some("Too quick to have read both answers.")
    );
    let left = server.app.review_queue(&principal, pid).await.unwrap();
    assert!(
        left.iter().all(|r| r.id != first),
        "the judged submission left the queue"
    );

    // The worker reads it, with the signals, on "My reviews".
    sign_in(b, base, "worker1@demo.fairloop.test").await;
    b.goto(&format!("{base}/reviews")).await;
    let page = b.text("main").await;
    assert!(
        page.contains("Rejected") && page.contains("Too quick to have read both answers."),
        "{page}"
    );
    assert!(page.contains("Time on task"), "{page}");
    shoot(b, "my-reviews").await;
    b.quit().await;
}
