//! Vendor pages and account deletion in a real browser (Debian's Chromium through chromedriver), over the demo
//! organization on SQLite: the lab's admin contracts a vendor by keyboard; the vendor manager creates an
//! invitation link, a worker joins through it and works; the vendor console lists that worker with their tasks
//! and pay, and the worker's page opens from the table by keyboard; then a worker deletes their account from
//! the settings page and cannot sign in again. Screenshots at 1280 and 375 px wide land in
//! `target/screenshots/`.
//!
//! Without Chromium the test skips, unless `FAIRLOOP_REQUIRE_BROWSER=1`, where it fails.

mod browser_support;

use std::path::PathBuf;

use browser_support::{Browser, ENTER, browser_or_skip, start_server};
use fairloop_app::demo::DEMO_PASSWORD;
use fairloop_app::invitations::AcceptInput;
use serde_json::json;

async fn shoot(b: &Browser, name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    b.viewport(1280, 800, false).await;
    b.screenshot(&dir, &format!("{name}-desktop")).await;
    b.viewport(375, 812, true).await;
    // A page opened at an anchor shows that part on the phone too.
    b.script("if (location.hash) { document.querySelector(location.hash)?.scrollIntoView(); } return null")
        .await;
    b.screenshot(&dir, &format!("{name}-phone")).await;
    let wide = b
        .script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
        .await;
    assert_eq!(wide, json!(true), "{name} scrolls sideways at 375 px");
    b.viewport(1280, 800, false).await;
}

async fn sign_in(b: &Browser, base: &str, email: &str) {
    b.goto(&format!("{base}/settings")).await;
    if b.script("return !!document.getElementById('signout')")
        .await
        == json!(true)
    {
        b.click("#signout").await;
        b.wait_for_url("the sign-in page", |u| u.contains("/signin"))
            .await;
    }
    b.goto(&format!("{base}/signin")).await;
    b.type_into("#email", email).await;
    b.type_into("#password", DEMO_PASSWORD).await;
    b.click("#signin-submit").await;
    b.wait_for_url("the page after sign-in", |u| !u.contains("/signin"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_manages_its_workers_and_a_worker_deletes_their_account() {
    let Some((chromium, driver)) = browser_or_skip() else {
        return;
    };
    let server = start_server().await;
    let base = server.url.clone();
    let app = server.app.clone();
    app.create_vendor(
        "Beacon Staffing",
        "vera@beacon-staffing.test",
        "Vera Vendor",
        Some(DEMO_PASSWORD),
    )
    .await
    .unwrap();
    let b = Browser::start(&chromium, &driver).await;

    // The lab's admin contracts the vendor, typing its name and pressing Enter.
    sign_in(&b, &base, "admin@demo.fairloop.test").await;
    b.goto(&format!("{base}/vendors")).await;
    b.script("document.getElementById('contract-vendor').focus(); return null")
        .await;
    b.press("Beacon Staffing", None).await;
    // The form posts back to /vendors, whose list (the demo's Acme Staffing) was there before: wait for the new
    // document, not the address.
    b.mark_page().await;
    b.press(ENTER, None).await;
    b.wait_for_new_page("the vendors page after contracting")
        .await;
    assert!(b.url().await.ends_with("/vendors"));
    assert!(b.text("#contracts").await.contains("Beacon Staffing"));

    // The vendor manager creates a link into the lab.
    sign_in(&b, &base, "vera@beacon-staffing.test").await;
    b.goto(&format!("{base}/vendors")).await;
    assert!(b.text("#invite").await.contains("Demo Lab"));
    b.type_into("#invite-email", "nia@workers.test").await;
    b.click("#invite-create").await;
    // The click posts a form: wait for the new page's element (implicit wait) before a script reads it.
    b.find("#new-link-value").await;
    let link = b
        .script("return document.getElementById('new-link-value').value")
        .await;
    let link = link.as_str().unwrap().to_string();
    let secret = link.rsplit('/').next().unwrap().to_string();
    let joined = app
        .accept_invitation(
            &secret,
            AcceptInput {
                email: "nia@workers.test".into(),
                name: "Nia Vendorworker".into(),
                password: DEMO_PASSWORD.into(),
                confirm: DEMO_PASSWORD.into(),
            },
        )
        .await
        .unwrap();
    // The new worker does two tasks of a demo project.
    let (_, token) = app.issue_token(joined.user.id, "t").await.unwrap();
    let p = app.authenticate(&token).await.unwrap();
    let project = app
        .store
        .project_by_name(p.org_id, "Classify product reviews")
        .await
        .unwrap()
        .unwrap();
    for _ in 0..2 {
        let claim = app
            .next_task(&p, project.id)
            .await
            .unwrap()
            .expect("a task");
        app.submit(
            &p,
            claim.assignment_id,
            fairloop_app::work::SubmitBody {
                answers: json!({"sentiment": "pos"}),
                integrity: None,
            },
            None,
        )
        .await
        .unwrap();
    }
    fairloop_app::ledger::PayPosting::new(app.clone())
        .try_run_one(fairloop_domain::time::now_millis())
        .await
        .unwrap();

    b.goto(&format!("{base}/vendors")).await;
    let pool = b.text("#pool").await;
    assert!(pool.contains("Nia Vendorworker"), "{pool}");
    assert!(
        !pool.contains("worker1@demo") && !pool.contains("Demo Worker"),
        "{pool}"
    );
    shoot(&b, "vendor-console").await;
    // Keyboard: focus the worker's link and press Enter.
    b.script("document.querySelector('#pool a').focus(); return null")
        .await;
    b.press(ENTER, None).await;
    b.wait_for_url("the worker page", |u| u.contains("/vendor/workers/"))
        .await;
    assert_eq!(b.text("#worker-tasks").await.trim(), "2");
    shoot(&b, "vendor-worker").await;

    // The lab sees that Nia came through Beacon Staffing.
    sign_in(&b, &base, "admin@demo.fairloop.test").await;
    b.goto(&format!("{base}/vendors")).await;
    let lab = b.text("#lab-workers").await;
    assert!(
        lab.contains("Nia Vendorworker") && lab.contains("Beacon Staffing"),
        "{lab}"
    );
    shoot(&b, "vendors-lab").await;

    // A demo worker with nothing owed deletes their account from the settings page.
    app.add_user(
        "Demo Lab",
        "leaving@workers.test",
        "Leah Leaving",
        fairloop_domain::Role::Worker,
        Some(DEMO_PASSWORD),
    )
    .await
    .unwrap();
    sign_in(&b, &base, "leaving@workers.test").await;
    b.goto(&format!("{base}/settings#your-data")).await;
    shoot(&b, "settings-your-data").await;
    b.type_into("#delete-password", DEMO_PASSWORD).await;
    b.script("document.getElementById('delete-confirm').focus(); return null")
        .await;
    b.press(" ", None).await;
    b.click("#delete-account").await;
    b.wait_for_url("the sign-in page after deletion", |u| {
        u.contains("deleted=1")
    })
    .await;
    assert!(b.text("#signin-deleted").await.contains("deleted"));
    shoot(&b, "account-deleted").await;
    b.type_into("#email", "leaving@workers.test").await;
    b.type_into("#password", DEMO_PASSWORD).await;
    b.click("#signin-submit").await;
    assert!(b.text("#signin-error").await.contains("wrong"));
    b.quit().await;
}
