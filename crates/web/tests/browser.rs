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

use browser_support::{
    ARROW_DOWN, ARROW_LEFT, ARROW_RIGHT, BACKSPACE, Browser, CONTROL, ENTER, SHIFT,
    browser_or_skip, start_server,
};
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
                state: None,
                onboarding_pay: None,
                requirements: None,
                wellbeing: None,
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
        sensitivity: 0,
        own_sensitivity: 0,
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
    // G opens the guidelines beside the item; Escape closes them.
    b.press("g", None).await;
    assert_eq!(
        b.script("return document.getElementById('guidelines').open")
            .await,
        json!(true)
    );
    assert!(b.text("#guidelines").await.contains("Sarcasm counts"));
    shoot(&b, "workbench-guidelines").await;
    b.press("\u{E00C}", None).await;
    assert_eq!(
        b.script("return document.getElementById('guidelines').open")
            .await,
        json!(false)
    );

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

    b.goto(&format!("{base}/projects")).await;
    // The project dashboard charts the activity (after a roll-up step); the item browser pages by key.
    fairloop_app::dashboard::ActivityRollup::new(server.app.clone())
        .try_run_one(fairloop_domain::time::now_millis())
        .await
        .unwrap();
    b.click(&format!("tr[data-project=\"{pid}\"] th a")).await;
    b.wait_for_url("the dashboard", |u| {
        u.ends_with(&format!("/projects/{pid}"))
    })
    .await;
    assert_eq!(
        b.text("#stat-annotations").await,
        after.annotations.to_string()
    );
    assert_eq!(
        b.script("return document.querySelectorAll('svg.plot').length >= 1")
            .await,
        json!(true)
    );
    shoot(&b, "dashboard").await;
    b.goto(&format!("{base}/projects/{pid}/items?state=in_progress"))
        .await;
    assert!(b.text("table.items").await.contains(" / "));
    shoot(&b, "items").await;

    // A requester invites a reviewer; the invited person opens the link, chooses a password and is signed in.
    b.goto(&format!("{base}/invitations")).await;
    b.type_into("#invite-email", "new.reviewer@example.org")
        .await;
    b.script("document.getElementById('invite-role').value = 'reviewer'; return null")
        .await;
    b.click("#invite-create").await;
    // The click posts a form: wait for the new page's element (implicit wait) before a script reads it.
    b.find("#new-link-value").await;
    let link = b
        .script("return document.getElementById('new-link-value').value")
        .await
        .as_str()
        .unwrap()
        .to_string();
    assert!(link.starts_with(&format!("{base}/invite/")), "{link}");
    shoot(&b, "invitations").await;
    b.click("#signout").await;
    b.wait_for_url("the sign-in page", |u| u.ends_with("/signin"))
        .await;
    b.goto(&link).await;
    assert!(b.text("h1").await.contains("Join Demo Lab"));
    shoot(&b, "invite").await;
    b.type_into("#name", "Rae Viewer").await;
    b.type_into("#password", "a good long password").await;
    b.type_into("#confirm_password", "a good long password")
        .await;
    b.click("#invite-accept").await;
    b.wait_for_url("home after joining", |u| !u.contains("/invite/"))
        .await;
    assert!(b.text(".who-name").await.contains("Rae Viewer"));

    b.quit().await;
}

/// The answers this worker gave in a project, oldest first.
async fn answers_of(
    store: &dyn fairloop_store::Store,
    org: i64,
    project: i64,
    worker: i64,
) -> Vec<Value> {
    let mut out: Vec<(i64, Value)> = Vec::new();
    let mut after = 0;
    loop {
        let page = store.export_page(org, project, after, 1000).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.item_id;
        for row in page {
            for a in row.annotations {
                if a.worker_id == worker {
                    out.push((a.annotation_id, serde_json::from_str(&a.answers).unwrap()));
                }
            }
        }
    }
    out.sort_by_key(|(id, _)| *id);
    out.into_iter().map(|(_, v)| v).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_rankings_pairwise_rubrics_and_free_text_are_answered_with_the_keyboard() {
    let Some((chromium, driver)) = browser_or_skip() else {
        return;
    };
    let server = start_server().await;
    let base = server.url.clone();
    let store = server.app.store.clone();
    let worker = store
        .user_by_email("worker2@demo.fairloop.test")
        .await
        .unwrap()
        .unwrap();
    let org = worker.org_id;
    let ner = store
        .project_by_name(org, "Named entities in news")
        .await
        .unwrap()
        .unwrap();
    let rank = store
        .project_by_name(org, "Rank three answers")
        .await
        .unwrap()
        .unwrap();
    let b = Browser::start(&chromium, &driver).await;
    sign_in(&b, &base, "worker2@demo.fairloop.test", None).await;

    // Spans: Shift+→ twice selects the first two words, 1 labels them Person; Backspace removes the mark,
    // Shift+← twice selects them again, and Ctrl+Enter submits.
    // This project has terms: "Start" leads to them first; accepting goes on to the work.
    b.goto(&format!("{base}/work/{}", ner.id)).await;
    b.wait_for_url("the terms", |u| {
        u.contains(&format!("/projects/{}/terms", ner.id))
    })
    .await;
    assert!(b.text("#content-warnings").await.contains("violence"));
    shoot(&b, "terms").await;
    b.click("#terms-accept").await;
    b.wait_for_url("the spans workbench", |u| {
        u.contains(&format!("/work/{}/", ner.id))
    })
    .await;
    let text = b.text(".markable").await;
    let two: String = text
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let spans_value = "return document.querySelector('input[data-widget=spans]').value";
    b.script("document.querySelector('.markable').focus(); return null")
        .await;
    b.press(&format!("{ARROW_RIGHT}{ARROW_RIGHT}"), Some(SHIFT))
        .await;
    b.press("1", None).await;
    let marked: Value =
        serde_json::from_str(b.script(spans_value).await.as_str().unwrap()).unwrap();
    assert_eq!(
        marked,
        json!([{"start": 0, "end": two.chars().count(), "label": "PER", "text": two}])
    );
    assert!(b.text(".span-list").await.contains("Person"));
    shoot(&b, "workbench-spans").await;
    b.script("document.querySelector('.markable').focus(); return null")
        .await;
    b.press(BACKSPACE, None).await;
    assert_eq!(b.script(spans_value).await, json!("[]"));
    b.press(&format!("{ARROW_LEFT}{ARROW_LEFT}"), Some(SHIFT))
        .await;
    b.press("1", None).await;
    let here = b.url().await;
    b.press(ENTER, Some(CONTROL)).await;
    b.wait_for_url("the next spans item", |u| {
        u != here && u.contains(&format!("/work/{}/", ner.id))
    })
    .await;
    let given = answers_of(store.as_ref(), org, ner.id, worker.id).await;
    assert_eq!(
        given.last().unwrap()["entities"],
        json!([{"start": 0, "end": two.chars().count(), "label": "PER", "text": two}])
    );

    // Ranking: Shift+↓ moves the first response down a place, T ties it with the one now above it.
    b.goto(&format!("{base}/work/{}", rank.id)).await;
    b.wait_for_url("the ranking workbench", |u| {
        u.contains(&format!("/work/{}/", rank.id))
    })
    .await;
    b.script("document.querySelector('.rank-item').focus(); return null")
        .await;
    b.press(ARROW_DOWN, Some(SHIFT)).await;
    b.press("t", None).await;
    assert_eq!(
        b.script("return document.querySelector('input[data-widget=ranking]').value")
            .await,
        json!(r#"[["response_2","response_1"],["response_3"]]"#)
    );
    shoot(&b, "workbench-ranking").await;
    let here = b.url().await;
    b.press(ENTER, Some(CONTROL)).await;
    b.wait_for_url("the next ranking item", |u| {
        u != here && u.contains(&format!("/work/{}/", rank.id))
    })
    .await;
    let given = answers_of(store.as_ref(), org, rank.id, worker.id).await;
    assert_eq!(
        given.last().unwrap()["ranking"],
        json!([["response_2", "response_1"], ["response_3"]])
    );

    // Pairwise with a justification, then a rubric, keys only: 2 = "A clearly better" puts the caret in the
    // justification box; Esc hands the keys back to the options; 4, 5, 3 score the three criteria.
    let pair = store
        .project_by_name(org, "Compare two LLM answers")
        .await
        .unwrap()
        .unwrap();
    b.goto(&format!("{base}/work/{}", pair.id)).await;
    b.wait_for_url("the pairwise workbench", |u| {
        u.contains(&format!("/work/{}/", pair.id))
    })
    .await;
    b.press("2", None).await;
    assert_eq!(
        b.script("return document.activeElement.tagName").await,
        json!("TEXTAREA"),
        "the justification box takes the focus"
    );
    b.press("A explains ownership correctly.", None).await;
    b.press("\u{E00C}", None).await;
    b.press("453", None).await;
    let here = b.url().await;
    b.press(ENTER, Some(CONTROL)).await;
    b.wait_for_url("the next pairwise item", |u| {
        u != here && u.contains(&format!("/work/{}/", pair.id))
    })
    .await;
    let given = answers_of(store.as_ref(), org, pair.id, worker.id).await;
    assert_eq!(
        given.last().unwrap(),
        &json!({
            "preference": {"strength": -2, "justification": "A explains ownership correctly."},
            "quality_a": {"accuracy": 4, "helpfulness": 5, "safety": 3}
        })
    );
    // Free text: a writing task starts with the caret in the box; type, Ctrl+Enter.
    let requester = store
        .user_by_email("requester@demo.fairloop.test")
        .await
        .unwrap()
        .unwrap();
    let writer = fairloop_store::Principal {
        user_id: requester.id,
        org_id: org,
        role: requester.role,
        email: requester.email.clone(),
    };
    let reference = server
        .app
        .create_project(
            &writer,
            fairloop_app::projects::CreateProject {
                name: "Reference answers".into(),
                template: fairloop_domain::template::examples()
                    .into_iter()
                    .find(|(n, _)| *n == "reference_answer")
                    .unwrap()
                    .1,
                overlap: Some(1),
                lease_seconds: None,
                max_open_per_worker: None,
                pay: None,
                budget_minor: None,
                gold_rate: None,
                adaptive_overlap: None,
                state: None,
                onboarding_pay: None,
                requirements: None,
                wellbeing: None,
            },
        )
        .await
        .unwrap()
        .id;
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tx.send(vec![fairloop_store::NewItem {
        external_id: Some("ref-1".into()),
        data: json!({"prompt": "What is a **mutex**?"}).to_string(),
        priority: 0,
        gold: None,
        sensitivity: 0,
        own_sensitivity: 0,
    }])
    .await
    .unwrap();
    drop(tx);
    store.import_items(org, reference, rx, true).await.unwrap();
    b.goto(&format!("{base}/work/{reference}")).await;
    b.wait_for_url("the writing workbench", |u| {
        u.contains(&format!("/work/{reference}/"))
    })
    .await;
    assert_eq!(
        b.script("return document.activeElement.tagName").await,
        json!("TEXTAREA")
    );
    let written = "A mutex is a lock that one thread holds at a time; only its owner releases it.";
    b.press(written, None).await;
    let here = b.url().await;
    b.press(ENTER, Some(CONTROL)).await;
    b.wait_for_url("after the writing task", |u| u != here)
        .await;
    let given = answers_of(store.as_ref(), org, reference, worker.id).await;
    assert_eq!(given.last().unwrap(), &json!({"answer": written}));
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requester_creates_a_project_uploads_a_bad_file_fixes_it_and_sees_progress() {
    let Some((chromium, driver)) = browser_or_skip() else {
        return;
    };
    let server = start_server().await;
    let base = server.url.clone();
    let b = Browser::start(&chromium, &driver).await;
    sign_in(&b, &base, "requester@demo.fairloop.test", None).await;
    b.click("#new-project").await;
    b.wait_for_url("the new-project page", |u| u.contains("/projects/new"))
        .await;
    // Pick "Entity spans" from the gallery; the preview shows its labels.
    b.click("a[href='/projects/new?template=named_entities']")
        .await;
    b.wait_for_url("the chosen template", |u| {
        u.contains("template=named_entities")
    })
    .await;
    assert!(b.text("#preview").await.contains("Mark every named entity"));
    // Editing the template refreshes the preview (preview.js) without a page load.
    b.script(
        "const t = document.getElementById('template'); \
         t.value = t.value.replace('Mark every named entity', 'Mark each name'); \
         t.dispatchEvent(new Event('input', {bubbles: true})); return null",
    )
    .await;
    for _ in 0..50 {
        if b.text("#preview").await.contains("Mark each name") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(b.text("#preview").await.contains("Mark each name"));
    shoot(&b, "project-new").await;
    b.script("document.getElementById('name').value = 'Names in letters'; return null")
        .await;
    b.click("#create-button").await;
    let upload = b
        .wait_for_url("the upload page", |u| u.contains("/upload"))
        .await;

    // A file whose line 2 lacks the text field: nothing imported, line 2 named.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("letters.jsonl");
    std::fs::write(
        &bad,
        "{\"id\": \"l1\", \"data\": {\"text\": \"Dear Anna Berg, greetings from Oslo.\"}}\n\
         {\"id\": \"l2\", \"data\": {\"body\": \"no text field here\"}}\n",
    )
    .unwrap();
    b.type_into("#file", bad.to_str().unwrap()).await;
    b.click("#upload-button").await;
    b.wait_for_url("the upload report", |u| u.contains("/upload"))
        .await;
    let report = b.text("#report").await;
    assert!(report.contains("Nothing was imported"), "{report}");
    assert!(b.text("table.bad-lines").await.contains("2"), "{report}");
    shoot(&b, "upload-report").await;
    // Fixed and uploaded again: two items in, and the dashboard shows them.
    std::fs::write(
        &bad,
        "{\"id\": \"l1\", \"data\": {\"text\": \"Dear Anna Berg, greetings from Oslo.\"}}\n\
         {\"id\": \"l2\", \"data\": {\"text\": \"Yours, Tom Reyes of Acme.\"}}\n",
    )
    .unwrap();
    b.goto(&upload).await;
    b.type_into("#file", bad.to_str().unwrap()).await;
    b.click("#upload-button").await;
    b.wait_for_url("the upload report", |u| u.contains("/upload"))
        .await;
    assert_eq!(b.text("#imported-count").await, "2");
    b.click("#report a").await;
    b.wait_for_url("the dashboard", |u| !u.contains("/upload"))
        .await;
    assert_eq!(b.text("#stat-items").await, "2");
    // A worker answers one item; the dashboard's counts move without a reload (live.js polls every 5 s).
    let store = server.app.store.clone();
    let w = store
        .user_by_email("worker1@demo.fairloop.test")
        .await
        .unwrap()
        .unwrap();
    let worker = fairloop_store::Principal {
        user_id: w.id,
        org_id: w.org_id,
        role: w.role,
        email: w.email.clone(),
    };
    let pid: i64 = b.url().await.rsplit('/').next().unwrap().parse().unwrap();
    let task = server.app.next_task(&worker, pid).await.unwrap().unwrap();
    let body: fairloop_app::work::SubmitBody =
        serde_json::from_value(json!({"answers": {"entities": []}})).unwrap();
    server
        .app
        .submit(&worker, task.assignment_id, body, None)
        .await
        .unwrap();
    let mut seen = String::new();
    for _ in 0..80 {
        seen = b.text("#stat-annotations").await;
        if seen == "1" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(seen, "1", "the count did not move without a reload");
    b.quit().await;
}
