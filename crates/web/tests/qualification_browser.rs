//! The requester's "Qualification" tab in a real browser (Debian's Chromium through chromedriver), over the demo
//! organization on SQLite, at 375 px wide: reached from the project console's tabs by keyboard, a 3-question
//! assessment (single choice, multiple choice, free text with a rubric) built with the structured editor by
//! keyboard only ("Add a question" focuses the new block; Enter in a field saves), a wrong correct option refused
//! next to its field with everything typed kept, then fixed and created. Screenshots at 1280 and 375 px wide (and
//! the check that nothing scrolls sideways) land in `target/screenshots/`.
//!
//! Without Chromium the test skips, unless `FAIRLOOP_REQUIRE_BROWSER=1`, where it fails.

mod browser_support;

use std::time::{Duration, Instant};

use browser_support::{Browser, CONTROL, ENTER, browser_or_skip, shoot, sign_in, start_server};
use serde_json::json;

const TAB: &str = "\u{E004}";

/// Waits until the element with `id` has the keyboard focus (after a form post re-renders the page).
async fn wait_for_focus(b: &Browser, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let active = b
            .script("return document.activeElement ? document.activeElement.id : ''")
            .await;
        if active == json!(id) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "waited for #{id} to have the focus; it is on {active}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Puts the keyboard focus on an element (where a user would Tab to).
async fn focus(b: &Browser, id: &str) {
    b.script(&format!("document.getElementById('{id}').focus()"))
        .await;
    wait_for_focus(b, id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requester_builds_a_three_question_assessment_by_keyboard_at_375_px() {
    let Some((chromium, driver)) = browser_or_skip() else {
        return;
    };
    let server = start_server().await;
    let base = server.url.clone();
    let store = server.app.store.clone();
    let requester = store
        .user_by_email("requester@demo.fairloop.test")
        .await
        .unwrap()
        .unwrap();
    let pid = store
        .project_by_name(requester.org_id, "Classify product reviews")
        .await
        .unwrap()
        .unwrap()
        .id;

    let b = Browser::start(&chromium, &driver).await;
    sign_in(&b, &base, "requester@demo.fairloop.test").await;
    b.viewport(375, 812, true).await;
    b.goto(&format!("{base}/projects/{pid}")).await;
    focus(&b, "tab-qualification").await;
    b.press(ENTER, None).await;
    b.wait_for_url("the qualification tab", |u| {
        u.ends_with(&format!("/projects/{pid}/qualification"))
    })
    .await;
    assert!(
        b.text("#no-assessments")
            .await
            .contains("No assessments yet")
    );
    shoot(&b, "qualification-empty").await;
    b.viewport(375, 812, true).await;

    // Question 1 (single choice), typed field after field with Tab; the correct option mistyped.
    focus(&b, "e-title").await;
    b.press("Review basics", None).await;
    b.press(TAB, None).await;
    wait_for_focus(&b, "q0_prompt").await;
    b.press("Tone of 'Great value'?", None).await;
    b.press(TAB, None).await;
    b.press(&format!("positive{ENTER}negative"), None).await;
    b.press(TAB, None).await;
    wait_for_focus(&b, "q0_correct").await;
    b.press("positve", None).await;

    // Question 2: choose the kind by typing its first letter, then "Add a question" with Enter.
    focus(&b, "new-kind").await;
    b.press("M", None).await;
    assert_eq!(
        b.script("return document.getElementById('new-kind').value")
            .await,
        json!("multi_choice")
    );
    b.press(TAB, None).await;
    wait_for_focus(&b, "add-question").await;
    b.press(ENTER, None).await;
    wait_for_focus(&b, "q1_prompt").await;
    assert_eq!(
        b.script("return document.getElementById('q0_correct').value")
            .await,
        json!("positve"),
        "what was typed is kept"
    );
    b.press("Which words praise?", None).await;
    b.press(TAB, None).await;
    b.press(&format!("great{ENTER}value{ENTER}late"), None)
        .await;
    b.press(TAB, None).await;
    wait_for_focus(&b, "q1_correct").await;
    b.press(&format!("great{ENTER}value"), None).await;

    // Question 3: free text with a rubric criterion and its points.
    focus(&b, "new-kind").await;
    b.press("F", None).await;
    b.press(TAB, None).await;
    b.press(ENTER, None).await;
    wait_for_focus(&b, "q2_prompt").await;
    b.press("Why is it positive?", None).await;
    b.press(TAB, None).await;
    wait_for_focus(&b, "q2_c0_text").await;
    b.press("Names the words that carry the tone", None).await;
    b.press(TAB, None).await;
    wait_for_focus(&b, "q2_c0_points").await;
    b.press("2", None).await;
    b.script("document.getElementById('block-1').scrollIntoView()")
        .await;
    shoot(&b, "qualification-editor").await;
    b.viewport(375, 812, true).await;

    // Enter in a field saves: refused next to question 1's correct option, everything kept.
    focus(&b, "q2_c0_points").await;
    b.press(ENTER, None).await;
    b.wait_for_url("the refusal", |u| u.ends_with("/qualification/assessments"))
        .await;
    let error = b.text("#q0_correct-error").await;
    assert!(error.contains("is not one of the options"), "{error}");
    let summary = b.text("#editor-error").await;
    assert!(summary.contains("Question 1"), "{summary}");
    assert_eq!(
        b.script("return document.getElementById('q2_c0_text').value")
            .await,
        json!("Names the words that carry the tone")
    );
    shoot(&b, "qualification-editor-error").await;
    b.viewport(375, 812, true).await;

    // Fixed by keyboard and saved with Enter.
    focus(&b, "q0_correct").await;
    b.press("a", Some(CONTROL)).await;
    b.press(&format!("positive{ENTER}"), None).await;
    b.wait_for_url("the created notice", |u| u.contains("done=created"))
        .await;
    let table = b.text("#assessment-list").await;
    assert!(table.contains("Review basics"), "{table}");
    assert!(table.contains("0 attempts by 0 workers"), "{table}");
    let row = b
        .script(
            "return document.querySelector('#assessment-list tbody tr td:nth-child(2)').textContent.trim()",
        )
        .await;
    assert_eq!(row, json!("3"), "three questions");
    shoot(&b, "qualification-created").await;

    // Stored with the keys typed in the form.
    let stored = store
        .project_assessments(requester.org_id, pid)
        .await
        .unwrap();
    let spec: serde_json::Value = serde_json::from_str(&stored.last().unwrap().spec).unwrap();
    assert_eq!(spec["keys"]["q1"], json!("positive"), "{spec}");
    assert_eq!(spec["keys"]["q2"], json!(["great", "value"]), "{spec}");
    assert_eq!(
        spec["rubrics"]["q3"],
        json!("- Names the words that carry the tone (2 points)"),
        "{spec}"
    );

    // Its edit view, by keyboard from the list: the same blocks, filled.
    let aid = stored.last().unwrap().id;
    b.viewport(375, 812, true).await;
    focus(&b, &format!("edit-{aid}")).await;
    b.press(ENTER, None).await;
    b.wait_for_url("the edit view", |u| {
        u.ends_with(&format!("/qualification/assessments/{aid}"))
    })
    .await;
    assert_eq!(
        b.script("return document.getElementById('q1_correct').value")
            .await,
        json!("great\nvalue")
    );
    shoot(&b, "qualification-edit").await;
    b.quit().await;
}
