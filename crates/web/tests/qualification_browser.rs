//! The requester's "Qualification" tab in a real browser (Debian's Chromium through chromedriver), over the demo
//! organization on SQLite: reached from the project console's tabs by keyboard, an assessment created by pressing
//! Enter in the form, a bad template refused next to the form with what was typed kept. Screenshots at 1280 and
//! 375 px wide (and the check that nothing scrolls sideways) land in `target/screenshots/`.
//!
//! Without Chromium the test skips, unless `FAIRLOOP_REQUIRE_BROWSER=1`, where it fails.

mod browser_support;

use browser_support::{Browser, ENTER, browser_or_skip, shoot, sign_in, start_server};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requester_creates_an_assessment_by_keyboard_on_the_qualification_tab() {
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
    b.goto(&format!("{base}/projects/{pid}")).await;
    b.script("document.getElementById('tab-qualification').focus()")
        .await;
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

    // A bad template: refused next to the form, the title kept.
    b.type_into("#a-title", "Review basics").await;
    b.script("document.getElementById('a-template').value = '{oops'")
        .await;
    b.script("document.getElementById('assessment-create').focus()")
        .await;
    b.press(ENTER, None).await;
    b.wait_for_url("the refusal", |u| u.ends_with("/qualification/assessments"))
        .await;
    let error = b.text("#assessment-error").await;
    assert!(error.contains("Template: not valid JSON"), "{error}");
    let kept = b
        .script("return document.getElementById('a-title').value")
        .await;
    assert_eq!(kept, json!("Review basics"));
    shoot(&b, "qualification-error").await;

    // Fixed, and sent with Enter from the last field.
    b.script(
        "document.getElementById('a-template').value = JSON.stringify({fields: [], questions: [\
           {name: 'tone', type: 'single_choice', label: 'Tone of \"Great value\"?', options: ['positive', 'negative']},\
           {name: 'why', type: 'text', label: 'Why?'}]});\
         document.getElementById('a-keys').value = '{\"tone\": \"positive\"}';\
         document.getElementById('a-rubrics').value = '{\"why\": \"Names the words that carry the tone.\"}';\
         document.getElementById('a-pass').focus();",
    )
    .await;
    b.press(ENTER, None).await;
    b.wait_for_url("the created notice", |u| u.contains("done=created"))
        .await;
    let table = b.text("#assessment-list").await;
    assert!(table.contains("Review basics"), "{table}");
    assert!(table.contains("0 attempts by 0 workers"), "{table}");
    shoot(&b, "qualification-created").await;
    b.quit().await;
}
