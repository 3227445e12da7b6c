//! The inbox and the guidelines board in a real browser (Debian's Chromium through chromedriver), over the demo
//! organization on SQLite: a worker sees the unread count in the nav bar, opens a notice from the inbox, asks on
//! the board by keyboard and finds their question under their pseudonym; the requester answers and pins it;
//! "mark all read" clears the count. Screenshots at 1280 and 375 px wide land in `target/screenshots/`.
//!
//! Without Chromium the test skips, unless `FAIRLOOP_REQUIRE_BROWSER=1`, where it fails.

mod browser_support;

use browser_support::{Browser, ENTER, browser_or_skip, shoot, sign_in, start_server};
use fairloop_app::messages::NewAnnouncement;
use fairloop_store::Principal;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_reads_the_inbox_and_asks_on_the_board() {
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
    let worker = user("worker1@demo.fairloop.test").await;
    let worker2 = user("worker2@demo.fairloop.test").await;
    let project = store
        .project_by_name(requester.org_id, "Classify product reviews")
        .await
        .unwrap()
        .unwrap();
    let pid = project.id;
    // Both workers work on the project; the requester announces a change; worker2 asked earlier and got an
    // answer that is pinned to the FAQ.
    for w in [&worker, &worker2] {
        server.app.next_task(w, pid).await.unwrap().expect("a task");
    }
    server
        .app
        .announce(
            &requester,
            pid,
            NewAnnouncement {
                title: "Mixed reviews: read the new example".into(),
                markdown:
                    "When a review praises the product but not the delivery, label it **neutral**. \
                       See the guidelines, section 2."
                        .into(),
            },
        )
        .await
        .unwrap();
    let q = server
        .app
        .ask_board(&worker2, pid, "Is a review with only an emoji neutral?")
        .await
        .unwrap();
    server
        .app
        .answer_board(
            &requester,
            pid,
            q,
            "Label the emoji's meaning: 👍 is positive.",
        )
        .await
        .unwrap();
    server
        .app
        .pin_board(&requester, pid, q, true)
        .await
        .unwrap();

    let b = Browser::start(&chromium, &driver).await;
    sign_in(&b, &base, "worker1@demo.fairloop.test").await;
    b.goto(&format!("{base}/")).await;
    let count = b.text("#unread-count").await;
    assert!(
        count.starts_with('1'),
        "the nav shows one unread notice: {count}"
    );
    let latest = b.text(&format!("[data-announcement='{pid}']")).await;
    assert!(
        latest.contains("Mixed reviews"),
        "the home card shows the latest announcement: {latest}"
    );

    // The inbox, then the notice opened: it lands on the board's announcements.
    b.goto(&format!("{base}/inbox")).await;
    let first = b.text(".notice-item").await;
    assert!(
        first.contains("Mixed reviews") && first.contains("New"),
        "{first}"
    );
    shoot(&b, "inbox").await;
    b.click(".notice-item form button.primary").await;
    b.wait_for_url("the board", |u| {
        u.contains(&format!("/projects/{pid}/board"))
    })
    .await;
    assert!(b.text("#announcements-card").await.contains("neutral"));
    assert!(
        b.script("return document.querySelector('#announcements-card strong')?.textContent")
            .await
            == json!("neutral"),
        "the announcement's Markdown is rendered"
    );
    assert!(b.text("#faq").await.contains("only an emoji"));

    // Asking by keyboard: focus the box, type, Tab to the button, Enter.
    b.script("document.getElementById('question').focus(); return null")
        .await;
    b.press("Does a sarcastic five-star review count as negative?", None)
        .await;
    b.press("\u{E004}", None).await; // Tab
    let focused = b.script("return document.activeElement.id").await;
    assert_eq!(focused, json!("ask"));
    b.press(ENTER, None).await;
    b.wait_for_url("the board after asking", |u| u.contains("done=asked"))
        .await;
    let mine = b.text("#questions").await;
    assert!(
        mine.contains("sarcastic five-star") && mine.contains("you"),
        "{mine}"
    );
    assert!(
        !mine.contains("worker1@demo") && !mine.contains("Wen Li") && !mine.contains("Okafor"),
        "no name or email on the board: {mine}"
    );
    let alias = b
        .script("return document.querySelector('#questions .board-question .asker').textContent")
        .await;
    assert!(alias.as_str().unwrap().starts_with("Worker "), "{alias}");
    shoot(&b, "board").await;

    // The requester answers on the same page and pins it.
    sign_in(&b, &base, "requester@demo.fairloop.test").await;
    b.goto(&format!("{base}/projects/{pid}/board")).await;
    let open_id = b
        .script(
            "return Number(document.querySelector('#questions .board-question').dataset.question)",
        )
        .await
        .as_i64()
        .unwrap();
    b.type_into(
        &format!("#answer-{open_id}"),
        "Yes: label what the reviewer means.",
    )
    .await;
    b.click(&format!("#answer-button-{open_id}")).await;
    b.wait_for_url("the board after answering", |u| u.contains("done=answered"))
        .await;
    b.click(&format!("#pin-{open_id}")).await;
    b.wait_for_url("the board after pinning", |u| u.contains("done=pinned"))
        .await;
    assert!(
        b.text("#faq")
            .await
            .contains("label what the reviewer means")
    );
    shoot(&b, "board-requester").await;

    // Back as the worker: the answer is in the inbox; "mark all read" clears the count.
    sign_in(&b, &base, "worker1@demo.fairloop.test").await;
    b.goto(&format!("{base}/inbox")).await;
    assert!(
        b.text(".notice-item")
            .await
            .contains("your question on the board was answered")
    );
    b.click("#read-all").await;
    b.wait_for_url("the inbox after marking", |u| u.contains("done=all"))
        .await;
    let left = b
        .script("return document.getElementById('unread-count')")
        .await;
    assert_eq!(left, json!(null), "no unread count once all are read");
    b.quit().await;
}
