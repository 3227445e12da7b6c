//! The time and money pages in a real browser (Chromium through chromedriver): a worker submits with the
//! keyboard (the workbench loads the heartbeat module), disputes a timesheet entry with the keyboard alone,
//! and reads the earnings page and statement; a requester reads the spend page. Every page is checked at
//! phone size (375 px) for sideways overflow, and screenshots land in `target/screenshots/`.
//!
//! Without Chromium the test skips, unless `FAIRLOOP_REQUIRE_BROWSER=1`, where it fails.

mod browser_support;

use std::path::PathBuf;

use browser_support::{Browser, CONTROL, ENTER, browser_or_skip, sign_in, start_server};
use serde_json::{Value, json};

const TAB: &str = "\u{E004}";

/// At phone width the page itself never scrolls sideways (wide tables scroll inside their wrapper).
async fn fits_a_phone(b: &Browser, name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    b.viewport(1280, 800, false).await;
    b.screenshot(&dir, &format!("{name}-desktop")).await;
    b.viewport(375, 812, true).await;
    let overflow = b
        .script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
        )
        .await;
    assert!(
        overflow.as_i64().unwrap_or(0) <= 0,
        "{name} scrolls sideways on a phone by {overflow}px"
    );
    b.screenshot(&dir, &format!("{name}-phone")).await;
    b.viewport(1280, 800, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_and_money_pages_work_by_keyboard_and_on_a_phone() {
    let Some((chromium, driver)) = browser_or_skip() else {
        return;
    };
    let server = start_server().await;
    let base = server.url.clone();
    let store = server.app.store.clone();
    let worker = store
        .user_by_email("worker1@demo.fairloop.test")
        .await
        .unwrap()
        .unwrap();
    let pid = store
        .project_by_name(worker.org_id, "Classify product reviews")
        .await
        .unwrap()
        .unwrap()
        .id;
    let b = Browser::start(&chromium, &driver).await;

    // Submit one task with the keyboard; the workbench loaded the heartbeat module.
    sign_in(&b, &base, "worker1@demo.fairloop.test").await;
    b.goto(&format!("{base}/work/{pid}")).await;
    let bench = b
        .wait_for_url("the workbench", |u| u.contains(&format!("/work/{pid}/")))
        .await;
    let loaded = b
        .script("return performance.getEntriesByType('resource').some(e => e.name.endsWith('/assets/heartbeat.js'))")
        .await;
    assert_eq!(loaded, json!(true));
    b.press("1", None).await;
    b.press(ENTER, Some(CONTROL)).await;
    b.wait_for_url("the next item", |u| u != bench).await;
    fairloop_app::ledger::PayPosting::new(server.app.clone())
        .try_run_one(fairloop_domain::time::now_millis())
        .await
        .unwrap();

    // The time page: dispute the entry with the keyboard alone (focus the summary, Enter, type, Tab, Enter).
    b.goto(&format!("{base}/time")).await;
    assert!(b.text("#recorded-h").await.contains("What is recorded"));
    fits_a_phone(&b, "time").await;
    b.script("document.querySelector('details summary').focus(); return null")
        .await;
    b.press(ENTER, None).await;
    b.press(TAB, None).await;
    let focused = b.script("return document.activeElement.tagName").await;
    assert_eq!(focused, json!("TEXTAREA"));
    b.press("I was reading the guidelines", None).await;
    b.press(TAB, None).await;
    b.press(ENTER, None).await;
    b.wait_for_url("the disputes", |u| u.ends_with("/time#disputes"))
        .await;
    let disputes = server
        .app
        .store
        .time_disputes(worker.org_id, Some(worker.id))
        .await
        .unwrap();
    assert_eq!(disputes.len(), 1);
    assert_eq!(disputes[0].reason, "I was reading the guidelines");

    b.goto(&format!("{base}/earnings")).await;
    let owed = b.text("main p").await;
    // The demo's earlier submissions and this one, all at 0.08 USD.
    assert!(
        owed.contains(" USD") && !owed.contains("nothing yet"),
        "{owed}"
    );
    let bars = b
        .script("return document.querySelectorAll('svg.chart rect').length")
        .await;
    assert!(bars.as_i64().unwrap_or(0) >= 1, "{bars}");
    fits_a_phone(&b, "earnings").await;
    b.goto(&format!("{base}/earnings/statement")).await;
    assert!(b.text("main").await.contains("task pay"));
    fits_a_phone(&b, "statement").await;

    // The requester's spend page.
    b.goto(&format!("{base}/signin")).await;
    b.quit().await;
    let b = Browser::start(&chromium, &driver).await;
    sign_in(&b, &base, "requester@demo.fairloop.test").await;
    b.goto(&format!("{base}/spend")).await;
    let text = b.text("main").await;
    assert!(
        text.contains("Classify product reviews") && text.contains("Cost per paid label"),
        "{text}"
    );
    assert_ne!(
        b.script("return document.querySelector('svg.chart polyline')")
            .await,
        Value::Null
    );
    fits_a_phone(&b, "spend").await;
    b.quit().await;
}
