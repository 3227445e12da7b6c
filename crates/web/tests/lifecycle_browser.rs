//! Closing a project in a real browser (Debian's Chromium through chromedriver), over the demo organization on
//! SQLite: the requester closes "Named entities in news" with notice from its status page, and a worker sees the
//! end date on the home page and on the project's status page. Screenshots at 1280 and 375 px wide land in
//! `target/screenshots/` (`lifecycle-*`).
//!
//! Without Chromium the test skips, unless `FAIRLOOP_REQUIRE_BROWSER=1`, where it fails.

mod browser_support;

use browser_support::{Browser, browser_or_skip, shoot, sign_in, start_server};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requester_closes_with_notice_and_a_worker_sees_the_end_date() {
    let Some((chromium, driver)) = browser_or_skip() else {
        return;
    };
    let server = start_server().await;
    let base = server.url.clone();
    let requester = server
        .app
        .store
        .user_by_email("requester@demo.fairloop.test")
        .await
        .unwrap()
        .unwrap();
    let project = server
        .app
        .store
        .project_by_name(requester.org_id, "Named entities in news")
        .await
        .unwrap()
        .expect("the demo's entity project")
        .id;
    let b = Browser::start(&chromium, &driver).await;

    // The requester opens the project's status page from its dashboard and closes it with notice.
    sign_in(&b, &base, "requester@demo.fairloop.test").await;
    b.goto(&format!("{base}/projects/{project}")).await;
    b.click("#project-state").await;
    b.wait_for_url("the status page", |u| u.ends_with("/status"))
        .await;
    assert!(b.text("#state").await.contains("Active"));
    b.type_into(
        "#close-reason",
        "the annotation budget for this quarter is spent",
    )
    .await;
    b.click("#close-notice").await;
    b.wait_for_url("the status page after closing", |u| {
        u.contains("done=notice")
    })
    .await;
    assert!(b.text("#state").await.contains("Winding down"));
    let ends = b.text("#ends").await;
    let expected = server
        .app
        .store
        .lifecycle(requester.org_id, project)
        .await
        .unwrap()
        .ends_at
        .expect("an end date");
    let day = fairloop_domain::time::to_rfc3339(expected)[..10].to_string();
    assert!(ends.contains(&format!("Ends on {day}")), "{ends}");
    shoot(&b, "lifecycle-status-requester").await;

    // A worker sees the end date and the work left on the home page and on the status page.
    sign_in(&b, &base, "worker1@demo.fairloop.test").await;
    b.goto(&format!("{base}/")).await;
    let line = b.text(&format!("[data-ends=\"{project}\"]")).await;
    assert!(line.contains(&format!("Ends on {day}")), "{line}");
    assert!(line.contains("budget for this quarter"), "{line}");
    let forecast = b.text(&format!("[data-forecast=\"{project}\"]")).await;
    assert!(forecast.contains("answers left"), "{forecast}");
    shoot(&b, "lifecycle-home-worker").await;
    b.click(&format!("[data-status=\"{project}\"]")).await;
    b.wait_for_url("the worker's status page", |u| u.ends_with("/status"))
        .await;
    assert!(b.text("#ends").await.contains(&day));
    assert_eq!(
        b.script("return !!document.getElementById('close-now')")
            .await,
        json!(false),
        "workers get no controls"
    );
    shoot(&b, "lifecycle-status-worker").await;
    b.quit().await;
}
