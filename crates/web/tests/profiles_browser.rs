//! Profiles and matching in a real browser (Debian's Chromium through chromedriver), over the demo organization
//! on SQLite: a worker fills in their profile by keyboard and form (a bad time zone is refused naming the field)
//! and uploads a credential; an admin verifies it; the requester sets requirements on the Matching tab, sees the
//! worker ranked with reasons and invites them; another worker's home page says what the project needs.
//! Screenshots at 1280 and 375 px wide land in `target/screenshots/`.
//!
//! Without Chromium the test skips, unless `FAIRLOOP_REQUIRE_BROWSER=1`, where it fails.

mod browser_support;

use std::path::PathBuf;

use browser_support::{Browser, browser_or_skip, start_server};
use fairloop_app::demo::DEMO_PASSWORD;
use serde_json::json;

async fn shoot(b: &Browser, name: &str, focus: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    let scroll = format!("document.querySelector('{focus}').scrollIntoView(); return 1");
    b.viewport(1280, 900, false).await;
    b.script(&scroll).await;
    b.screenshot(&dir, &format!("{name}-desktop")).await;
    b.viewport(375, 812, true).await;
    b.script(&scroll).await;
    b.screenshot(&dir, &format!("{name}-phone")).await;
    let wide = b
        .script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
        .await;
    assert_eq!(wide, json!(true), "{name} scrolls sideways at 375 px");
    b.viewport(1280, 900, false).await;
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

async fn select(b: &Browser, css: &str, value: &str) {
    let got = b
        .script(&format!(
            "const s = document.querySelector('{css}'); if (!s) return document.body.innerText; s.value = '{value}'; return s.value"
        ))
        .await;
    assert_eq!(got, json!(value), "choosing {value} in {css}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_builds_a_profile_and_a_requester_matches_and_invites() {
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
    let worker = store
        .user_by_email("worker1@demo.fairloop.test")
        .await
        .unwrap()
        .unwrap();
    let project = store
        .project_by_name(requester.org_id, "Classify product reviews")
        .await
        .unwrap()
        .unwrap();
    let pid = project.id;
    let b = Browser::start(&chromium, &driver).await;

    // The worker's profile: a bad time zone first, refused with the field named; then a good profile.
    sign_in(&b, &base, "worker1@demo.fairloop.test").await;
    b.click("#nav-profile").await;
    b.wait_for_url("the profile", |u| u.ends_with("/profile"))
        .await;
    select(&b, "#domain_0", "medicine/dermatology").await;
    b.type_into("#years_0", "12").await;
    select(&b, "#domain_1", "languages/translation").await;
    b.type_into("#years_1", "4").await;
    b.type_into("#language_0", "en").await;
    select(&b, "#level_0", "C1").await;
    b.type_into("#language_1", "de").await;
    select(&b, "#level_1", "native").await;
    b.type_into("#country", "DE").await;
    b.type_into("#time_zone", "Europe/Atlantis").await;
    b.type_into("#hours_per_week", "30").await;
    b.click("input[name=days][value=mon]").await;
    b.click("input[name=days][value=wed]").await;
    b.type_into("#rate_amount", "25").await;
    b.click("#profile-save").await;
    let error = b.text("#profile-error").await;
    assert!(
        error.contains("Time_zone") || error.contains("time_zone"),
        "{error}"
    );
    // The form came back without the bad value saved; fill it again with a real zone.
    select(&b, "#domain_0", "medicine/dermatology").await;
    b.script("document.getElementById('years_0').value = '12'; return 1")
        .await;
    b.script("document.getElementById('language_0').value = 'en'; return 1")
        .await;
    select(&b, "#level_0", "C1").await;
    b.script("document.getElementById('country').value = 'DE'; document.getElementById('time_zone').value = 'Europe/Berlin'; document.getElementById('hours_per_week').value = '30'; document.getElementById('rate_amount').value = '25'; return 1").await;
    b.click("#profile-save").await;
    b.wait_for_url("the saved profile", |u| u.contains("done=saved"))
        .await;
    assert!(b.text("#profile-notice").await.contains("saved"));
    let saved = server
        .app
        .store
        .profile(worker.org_id, worker.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(saved.time_zone.as_deref(), Some("Europe/Berlin"));
    assert_eq!(saved.expertise[0], ("medicine/dermatology".to_string(), 12));
    assert_eq!(saved.min_rate_minor, Some(2500));

    // A credential: a PDF from disk.
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("board.pdf");
    std::fs::write(&pdf, b"%PDF-1.4\n%%EOF\n").unwrap();
    b.type_into("#credential-title", "Board certification in dermatology")
        .await;
    b.type_into("#credential-issuer", "Landesaerztekammer")
        .await;
    b.type_into("#credential-file", pdf.to_str().unwrap()).await;
    b.click("#credential-upload").await;
    b.wait_for_url("the uploaded credential", |u| u.contains("done=credential"))
        .await;
    assert!(
        b.text("#credentials")
            .await
            .contains("waiting for an admin")
    );

    // An admin verifies it on the worker's page.
    sign_in(&b, &base, "admin@demo.fairloop.test").await;
    b.goto(&format!("{base}/workers/{}", worker.id)).await;
    let cred = saved_credential(&server, worker.org_id, worker.id).await;
    b.type_into(&format!("#note-{cred}"), "Checked with the chamber")
        .await;
    b.click(&format!("#verify-{cred}")).await;
    b.wait_for_url("the decision", |u| u.contains("done=verified"))
        .await;
    assert!(
        b.text("#credentials")
            .await
            .contains("verified by Ada Admin")
    );

    // The requester sets requirements on the Matching tab and invites the worker.
    sign_in(&b, &base, "requester@demo.fairloop.test").await;
    b.goto(&format!("{base}/projects/{pid}")).await;
    b.click("#tab-matching").await;
    b.wait_for_url("the matching page", |u| u.ends_with("/matching"))
        .await;
    b.find("#req-domains").await;
    b.script("const s = document.getElementById('req-domains'); for (const o of s.options) { o.selected = o.value === 'medicine/dermatology'; } return 1").await;
    b.type_into("#req-language_0", "en").await;
    select(&b, "#req-level_0", "C1").await;
    b.click("#requirements-save").await;
    b.wait_for_url("the saved requirements", |u| {
        u.contains("done=requirements")
    })
    .await;
    let list = b.text("#matches").await;
    assert!(list.contains("1 eligible worker"), "{list}");
    assert!(
        list.contains("Dermatology: 12 years of experience"),
        "{list}"
    );
    shoot(&b, "matching", "h1").await;
    b.click(&format!("#invite-{}", worker.id)).await;
    b.wait_for_url("the invitation", |u| u.contains("done=invited"))
        .await;
    assert!(b.text("#matching-notice").await.contains("invited"));

    // Another worker's home page says what the project needs; the invited worker sees it for them.
    sign_in(&b, &base, "worker2@demo.fairloop.test").await;
    b.goto(&format!("{base}/")).await;
    let needs = b.text(&format!("[data-needs=\"{pid}\"]")).await;
    assert!(needs.contains("needs: Dermatology; C1 English"), "{needs}");
    shoot(&b, "home-needs", &format!("[data-needs=\"{pid}\"]")).await;
    sign_in(&b, &base, "worker1@demo.fairloop.test").await;
    b.goto(&format!("{base}/profile")).await;
    let for_you = b.text("#for-you").await;
    assert!(
        for_you.contains("Classify product reviews") && for_you.contains("invited you"),
        "{for_you}"
    );
    shoot(&b, "profile", "h1").await;
    b.quit().await;
}

async fn saved_credential(server: &browser_support::Server, org: i64, worker: i64) -> i64 {
    server
        .app
        .store
        .profile(org, worker)
        .await
        .unwrap()
        .unwrap()
        .credentials[0]
        .id
}
