//! The web app in a real browser: Debian's Chromium driven through chromedriver (WebDriver).
//!
//! A demo worker signs in, completes two tasks with the keyboard alone (a number key, then Ctrl+Enter), finds a
//! half-answered item's draft after a reload; the annotations are checked in the store; the requester then
//! sees the project's progress. Screenshots of the key pages at desktop (1280x800) and phone (375x812) size
//! land in `target/screenshots/`.
//!
//! Without Chromium the test skips, unless `FAIRLOOP_REQUIRE_BROWSER=1` (CI sets it), where it fails.

mod browser_support;

use std::path::PathBuf;

use browser_support::{Browser, CONTROL, ENTER, browser_paths, browser_required, start_server};
use fairloop_app::demo::DEMO_PASSWORD;
use serde_json::{Value, json};

fn screenshots_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots")
}

/// Desktop and phone screenshots of the current page.
async fn shoot(b: &Browser, name: &str) {
    let dir = screenshots_dir();
    b.viewport(1280, 800, false).await;
    b.screenshot(&dir, &format!("{name}-desktop")).await;
    b.viewport(375, 812, true).await;
    b.screenshot(&dir, &format!("{name}-phone")).await;
    b.viewport(1280, 800, false).await;
}

async fn sign_in(b: &Browser, base: &str, email: &str, shots: Option<&str>) {
    b.goto(&format!("{base}/signin")).await;
    b.type_into("#email", email).await;
    b.type_into("#password", DEMO_PASSWORD).await;
    if let Some(name) = shots {
        shoot(b, name).await;
    }
    b.click("#signin-submit").await;
    b.wait_for_url("the page after sign-in", |u| !u.contains("/signin"))
        .await;
}

/// A project in the demo organization whose one item carries script and event-handler payloads.
async fn xss_project(server: &browser_support::Server, org: i64) -> i64 {
    use fairloop_app::projects::CreateProject;
    let requester = server
        .app
        .store
        .user_by_email("requester@demo.fairloop.test")
        .await
        .unwrap()
        .unwrap();
    let principal = fairloop_store::Principal {
        user_id: requester.id,
        org_id: requester.org_id,
        role: requester.role,
        email: requester.email,
    };
    let project = server
        .app
        .create_project(
            &principal,
            CreateProject {
                name: "Hostile <b>data</b>".into(),
                template: json!({
                    "fields": [{"name": "text", "type": "text"}],
                    "questions": [{"name": "ok", "type": "single_choice", "options": ["yes", "no"]}]
                }),
                overlap: None,
                lease_seconds: None,
                max_open_per_worker: None,
                pay: None,
                budget_minor: None,
                gold_rate: None,
                adaptive_overlap: None,
            },
        )
        .await
        .unwrap();
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tx.send(vec![fairloop_store::NewItem {
        external_id: None,
        data: json!({"text": "<script>window.__pwned = 2</script><img src=x onerror=\"window.__pwned = 1\">"})
            .to_string(),
        priority: 0,
        gold: None,
    }])
    .await
    .unwrap();
    drop(tx);
    server
        .app
        .store
        .import_items(org, project.id, rx, true)
        .await
        .unwrap();
    project.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_answers_with_the_keyboard_and_the_requester_sees_progress() {
    let (chromium, driver) = match browser_paths() {
        Ok(p) => p,
        Err(why) if browser_required() => {
            panic!("FAIRLOOP_REQUIRE_BROWSER=1 but the browser cannot run: {why}")
        }
        Err(why) => {
            eprintln!("skipping the browser test: {why}");
            return;
        }
    };
    let server = start_server().await;
    let base = server.url.clone();
    let store = server.app.store.clone();
    let worker = store
        .user_by_email("worker1@demo.fairloop.test")
        .await
        .unwrap()
        .unwrap();
    let project = store
        .project_by_name(worker.org_id, "Classify product reviews")
        .await
        .unwrap()
        .unwrap();
    let pid = project.id;
    let before = store.project_stats(worker.org_id, pid).await.unwrap();

    let b = Browser::start(&chromium, &driver).await;

    // Sign in as a worker; the home page lists the projects with their pay.
    sign_in(&b, &base, "worker1@demo.fairloop.test", Some("signin")).await;
    assert_eq!(b.url().await, format!("{base}/"));
    let card = b.text(&format!("li:has(a[data-project=\"{pid}\"])")).await;
    assert!(card.contains("$0.08 per task"), "{card}");
    shoot(&b, "home").await;

    // Start, then two tasks with the keyboard alone: a number key picks the option, Ctrl+Enter submits.
    b.click(&format!("a[data-project=\"{pid}\"]")).await;
    let mut url = b
        .wait_for_url("the workbench", |u| u.contains(&format!("/work/{pid}/")))
        .await;
    shoot(&b, "workbench").await;
    for key in ["1", "2"] {
        b.press(key, None).await;
        let picked = b
            .script("return document.querySelector('input[name=\"q.sentiment\"]:checked')?.value ?? null")
            .await;
        assert_ne!(picked, Value::Null, "key {key} picked nothing");
        b.press(ENTER, Some(CONTROL)).await;
        let prev = url.clone();
        url = b
            .wait_for_url("the next item", |u| {
                u != prev && u.contains(&format!("/work/{pid}/"))
            })
            .await;
    }
    let after = store.project_stats(worker.org_id, pid).await.unwrap();
    assert_eq!(after.annotations, before.annotations + 2);
    // The two answers are this worker's, with the options the keys picked, in order.
    let mut mine: Vec<(i64, String)> = Vec::new();
    let mut after_id = 0;
    loop {
        let page = store
            .export_page(worker.org_id, pid, after_id, 1000)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after_id = last.item_id;
        for row in page {
            for a in row.annotations {
                if a.worker_id == worker.id {
                    mine.push((a.annotation_id, a.answers));
                }
            }
        }
    }
    mine.sort();
    let last_two: Vec<Value> = mine[mine.len() - 2..]
        .iter()
        .map(|(_, a)| serde_json::from_str(a).unwrap())
        .collect();
    assert_eq!(
        last_two,
        vec![json!({"sentiment": "pos"}), json!({"sentiment": "neg"})]
    );

    // A half-answered item survives a reload: the draft comes back from localStorage.
    b.press("3", None).await;
    b.goto(&url).await;
    let restored = b
        .script(
            "return document.querySelector('input[name=\"q.sentiment\"]:checked')?.value ?? null",
        )
        .await;
    assert_eq!(restored, json!("neutral"));
    // Ctrl+S confirms the draft is saved (and does not open the browser's "Save page" dialog).
    b.press("s", Some(CONTROL)).await;
    assert_eq!(
        b.script("return document.getElementById('draft-status').hidden")
            .await,
        json!(false)
    );
    // `?` lists the shortcuts.
    b.press("?", None).await;
    assert_eq!(
        b.script("return document.getElementById('shortcuts').open")
            .await,
        json!(true)
    );
    b.screenshot(&screenshots_dir(), "shortcuts-desktop").await;
    b.press("\u{E00C}", None).await; // Escape closes the dialog.

    // The flagship task type: two LLM answers side by side, Markdown rendered on the server.
    let pair = store
        .project_by_name(worker.org_id, "Compare two LLM answers")
        .await
        .unwrap()
        .unwrap();
    b.goto(&format!("{base}/work/{}", pair.id)).await;
    b.wait_for_url("the pairwise workbench", |u| {
        u.contains(&format!("/work/{}/", pair.id))
    })
    .await;
    shoot(&b, "workbench-pairwise").await;
    b.dark_mode(true).await;
    shoot(&b, "workbench-pairwise-dark").await;
    b.dark_mode(false).await;

    // Hostile item data renders as text and runs nothing (autoescaping, and a CSP without inline script).
    let xss = xss_project(&server, worker.org_id).await;
    b.goto(&format!("{base}/work/{xss}")).await;
    b.wait_for_url("the XSS item", |u| u.contains(&format!("/work/{xss}/")))
        .await;
    let shown = b.text(".field-text .text").await;
    assert!(
        shown.contains("<script>window.__pwned = 2</script>"),
        "{shown}"
    );
    assert!(shown.contains("<img src=x onerror="), "{shown}");
    assert_eq!(b.script("return window.__pwned ?? null").await, Value::Null);
    assert_eq!(
        b.script("return document.querySelectorAll('.item img, .item script').length")
            .await,
        json!(0)
    );

    // S opens the skip form with its reasons (a <details>); a number picks one; Esc closes it again.
    b.press("s", None).await;
    assert_eq!(
        b.script("return document.getElementById('skip-menu').open")
            .await,
        json!(true)
    );
    b.press("2", None).await;
    assert_eq!(
        b.script("return document.querySelector('#skip-menu input:checked')?.value ?? null")
            .await,
        json!("Content is unclear or broken")
    );
    shoot(&b, "workbench-skip").await;
    b.press("\u{E00C}", None).await;
    assert_eq!(
        b.script("return document.getElementById('skip-menu').open")
            .await,
        json!(false)
    );

    // The settings page, with a token just created (shown once).
    b.goto(&format!("{base}/settings")).await;
    b.type_into("#token-label", "browser test").await;
    b.click("#token-create").await;
    assert!(
        b.text("#new-token")
            .await
            .contains("will not be shown again")
    );
    shoot(&b, "settings").await;

    // Sign out; the requester sees the progress the worker made.
    b.click("#signout").await;
    b.wait_for_url("the sign-in page", |u| u.ends_with("/signin"))
        .await;
    sign_in(&b, &base, "requester@demo.fairloop.test", None).await;
    assert_eq!(b.url().await, format!("{base}/projects"));
    let shown = b
        .text(&format!(
            "tr[data-project=\"{pid}\"] [data-stat=\"annotations\"]"
        ))
        .await;
    assert_eq!(shown, after.annotations.to_string());
    shoot(&b, "projects").await;

    // The quality page (after the quality job ran), reached from the console; on a phone only its tables scroll.
    let job = fairloop_app::quality::QualityJob::new(server.app.clone());
    while job
        .try_run_one(fairloop_domain::time::now_millis())
        .await
        .unwrap()
    {}
    b.click(&format!("tr[data-project=\"{pid}\"] a[href$=\"/quality\"]"))
        .await;
    b.wait_for_url("the quality page", |u| u.ends_with("/quality"))
        .await;
    assert!(b.text("h1").await.starts_with("Quality of"));
    b.viewport(375, 812, true).await;
    assert_eq!(
        b.script("return document.documentElement.scrollWidth <= window.innerWidth")
            .await,
        json!(true)
    );
    b.viewport(1280, 800, false).await;
    shoot(&b, "quality").await;

    b.quit().await;
}
