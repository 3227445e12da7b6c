//! Wellbeing in a real browser (Debian's Chromium through chromedriver), over the demo organization on SQLite:
//! a worker opts into a project's category from its page, the sensitive item is blurred until revealed with
//! the keyboard (`V`), support opens with `H`, and the break reminder comes when enough active time is recorded,
//! leaves with Esc and records a break with Enter. Screenshots at 1280 and 375 px wide land in
//! `target/screenshots/`.
//!
//! Without Chromium the test skips, unless `FAIRLOOP_REQUIRE_BROWSER=1`, where it fails.

mod browser_support;

use browser_support::{Browser, ENTER, browser_or_skip, shoot, start_server};
use fairloop_app::demo::DEMO_PASSWORD;
use fairloop_app::wellbeing::WellbeingInput;
use fairloop_store::{Principal, params};
use serde_json::json;

/// The computed `filter` of the item's first field content, once its transition (0.2 s) is over.
async fn blur(b: &Browser) -> String {
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    b.script("return getComputedStyle(document.querySelector('.sensitive-wrap .item .field > :not(.field-label)')).filter")
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sensitive_items_blur_until_revealed_by_keyboard_and_breaks_are_suggested() {
    let Some((chromium, driver)) = browser_or_skip() else {
        return;
    };
    let server = start_server().await;
    let base = server.url.clone();
    let store = server.app.store.clone();
    let principal = |email: &'static str| {
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
    let requester = principal("requester@demo.fairloop.test").await;
    let worker = principal("worker1@demo.fairloop.test").await;
    let project = store
        .project_by_name(requester.org_id, "Classify product reviews")
        .await
        .unwrap()
        .unwrap();
    let pid = project.id;
    server
        .app
        .set_project_wellbeing(
            &requester,
            pid,
            WellbeingInput {
                sensitivity: vec!["hate".into()],
                break_after_minutes: Some(1),
                support: Some(
                    "Our wellbeing team answers within a day: [wellbeing@demo.test](mailto:wellbeing@demo.test)."
                        .into(),
                ),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    let b = Browser::start(&chromium, &driver).await;
    b.goto(&format!("{base}/signin")).await;
    b.type_into("#email", "worker1@demo.fairloop.test").await;
    b.type_into("#password", DEMO_PASSWORD).await;
    b.click("#signin-submit").await;
    b.wait_for_url("home", |u| !u.contains("/signin")).await;

    // Home: the project says what it shows and offers no Start before the worker opts in.
    let card = b
        .script(&format!(
            "return document.querySelector('[data-opt-in=\"{pid}\"]')?.closest('li').innerText ?? null"
        ))
        .await;
    let card = card.as_str().expect("the project asks to opt in first");
    assert!(card.contains("Hate and harassment"), "{card}");
    assert!(!card.contains("Start"), "{card}");
    shoot(&b, "wellbeing-home").await;

    // Its page: what the content is, support, and one button for exactly the missing category.
    b.click(&format!("[data-opt-in=\"{pid}\"]")).await;
    b.wait_for_url("the project's wellbeing page", |u| {
        u.ends_with(&format!("/projects/{pid}/wellbeing"))
    })
    .await;
    let page = b.text("body").await;
    assert!(page.contains("wellbeing@demo.test"), "{page}");
    shoot(&b, "wellbeing-project").await;
    b.click("#opt-in").await;
    b.wait_for_url("saved", |u| u.contains("done=saved")).await;
    assert_eq!(
        server.app.my_sensitivity(&worker).await.unwrap().opted_in,
        vec!["hate"]
    );

    // The workbench: the item is blurred; V reveals it and blurs it again; the summary works too.
    b.goto(&format!("{base}/work/{pid}")).await;
    b.wait_for_url("the workbench", |u| u.contains(&format!("/work/{pid}/")))
        .await;
    assert!(blur(&b).await.contains("blur"), "blurred at first");
    assert_eq!(
        b.script("return document.querySelector('.sensitive-wrap .item').inert")
            .await,
        json!(true),
        "a blurred item is out of reach of the keyboard and screen readers"
    );
    shoot(&b, "wellbeing-blurred").await;
    b.press("v", None).await;
    assert_eq!(blur(&b).await, "none", "V reveals");
    assert_eq!(
        b.script("return [document.getElementById('reveal').open, document.activeElement.id]")
            .await,
        json!([true, "reveal-button"])
    );
    shoot(&b, "wellbeing-revealed").await;
    b.press("v", None).await;
    assert!(blur(&b).await.contains("blur"), "V blurs again");
    b.press(ENTER, None).await;
    assert_eq!(
        blur(&b).await,
        "none",
        "Enter on the focused summary reveals"
    );
    // H: support beside the item; Esc closes it.
    b.press("h", None).await;
    assert_eq!(
        b.script("return document.getElementById('support').open")
            .await,
        json!(true)
    );
    assert!(
        b.text("#support-text")
            .await
            .contains("wellbeing@demo.test")
    );
    b.press("\u{E00C}", None).await;
    assert_eq!(
        b.script("return document.getElementById('support').open")
            .await,
        json!(false)
    );

    // A minute and a half of active time on record (the heartbeats' credited time): the reminder is due.
    let (org, me) = (worker.org_id, worker.user_id);
    let now = fairloop_domain::time::now_millis();
    store
        .write_tx(move |tx| {
            let a = tx
                .query_one(
                    "SELECT id FROM assignments WHERE worker_id = $1 AND project_id = $2 AND status = 'open' \
                     ORDER BY id LIMIT 1",
                    params![me, pid],
                )?
                .i64(0)?;
            for i in 0..6_i64 {
                tx.execute(
                    "INSERT INTO heartbeats (org_id, project_id, assignment_id, worker_id, at, focus, input, \
                     credited_ms) VALUES ($1, $2, $3, $4, $5, 1, 1, 15000)",
                    params![org, pid, a, me, now - 15_000 * i],
                )?;
            }
            Ok(())
        })
        .await
        .unwrap();
    // (A query string passes by the workbench's short private cache.)
    let bench = b.url().await;
    b.goto(&format!("{bench}?after=heartbeats")).await;
    assert_eq!(
        b.script(
            "return [document.getElementById('break-reminder').open, document.activeElement.id]"
        )
        .await,
        json!([true, "break-take"]),
        "the reminder opens with the break button focused"
    );
    assert!(b.text("#break-reminder").await.contains("Time for a break"));
    shoot(&b, "wellbeing-break").await;
    // Esc: not now.
    b.press("\u{E00C}", None).await;
    assert_eq!(
        b.script("return document.getElementById('break-reminder').open")
            .await,
        json!(false)
    );
    // Back, and Enter on "I'll take a break now": the break is recorded, the count starts again.
    b.goto(&format!("{bench}?again=1")).await;
    assert_eq!(
        b.script("return document.getElementById('break-reminder').open")
            .await,
        json!(true)
    );
    b.press(ENTER, None).await;
    let mut status = server.app.break_status(&worker, pid).await.unwrap();
    for _ in 0..100 {
        if !status.due {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        status = server.app.break_status(&worker, pid).await.unwrap();
    }
    assert!(!status.due, "{status:?}");
    assert_eq!(status.active_seconds, 0);

    // "Too distressing" is in the skip menu, with its promise.
    b.goto(&format!("{bench}?after=break")).await;
    assert_eq!(
        b.script("return document.getElementById('break-reminder').open")
            .await,
        json!(false),
        "no reminder right after a break"
    );
    let menu = b
        .script("return document.getElementById('skip-menu').textContent")
        .await;
    assert!(
        menu.as_str().unwrap().contains("Too distressing")
            && menu.as_str().unwrap().contains("never counts against you"),
        "{menu}"
    );
    b.quit().await;
}
