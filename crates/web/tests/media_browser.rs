//! The console's media page in a real browser (Chromium through chromedriver): a requester uploads several files
//! at once (one of them an SVG, refused with its reason, the others stored and listed with thumbnails that load
//! through the authenticated `/media` route under the page's Content-Security-Policy), saves an allowed host, and
//! the page fits a phone. Screenshots land in `target/screenshots/`.
//!
//! Without Chromium the test skips, unless `FAIRLOOP_REQUIRE_BROWSER=1`, where it fails.

mod browser_support;

use std::path::{Path, PathBuf};

use browser_support::{Browser, browser_or_skip, start_server};
use fairloop_app::demo::DEMO_PASSWORD;
use serde_json::json;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../media/tests/data")
        .join(name)
        .canonicalize()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_media_page_uploads_several_files_and_lists_them_with_thumbnails() {
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
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("logo.svg");
    std::fs::write(
        &svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>",
    )
    .unwrap();
    let b = Browser::start(&chromium, &driver).await;
    b.goto(&format!("{base}/signin")).await;
    b.type_into("#email", "requester@demo.fairloop.test").await;
    b.type_into("#password", DEMO_PASSWORD).await;
    b.click("#signin-submit").await;
    b.wait_for_url("the page after sign-in", |u| !u.contains("/signin"))
        .await;

    b.goto(&format!("{base}/projects/{pid}/media")).await;
    assert!(b.text("#list-title").await.contains("Stored files"));
    let files = [
        fixture("testcard-320x240.png"),
        svg.clone(),
        fixture("h264-64x48-25fps-2s.mp4"),
    ]
    .iter()
    .map(|p| p.display().to_string())
    .collect::<Vec<_>>()
    .join("\n");
    b.type_into("#files", &files).await;
    b.click("#media-upload").await;
    let results = b.text("#upload-results").await;
    assert!(
        results.contains("Stored as image testcard-320x240.png"),
        "{results}"
    );
    assert!(
        results.contains("Stored as video h264-64x48-25fps-2s.mp4"),
        "{results}"
    );
    assert!(
        results.contains("Refused: SVG images are refused"),
        "{results}"
    );
    // The thumbnails and the poster load through /media under the page's policy (with the demo's pictures).
    let mut loaded = json!(false);
    for _ in 0..50 {
        loaded = b
            .script(
                "const imgs = [...document.querySelectorAll('#media-list img')]; \
                 return imgs.length >= 2 && imgs.every(i => i.complete && i.naturalWidth > 0)",
            )
            .await;
        if loaded == json!(true) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(loaded, json!(true), "thumbnails did not load");
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    b.screenshot(&shots, "media-upload-desktop").await;
    let listed = b.text("#media-list").await;
    assert!(listed.contains("320×240"), "{listed}");
    assert!(listed.contains("25 fps"), "{listed}");

    // An allowed host, saved and shown again.
    b.type_into("#hosts-input", "Images.Example.com").await;
    b.click("#hosts-save").await;
    b.wait_for_url("the page after saving", |u| u.ends_with("/media#hosts"))
        .await;
    let hosts = b
        .script("return document.querySelector('#hosts-input').value")
        .await;
    assert_eq!(hosts, json!("images.example.com"));

    b.viewport(1280, 900, false).await;
    b.screenshot(&shots, "media-desktop").await;
    b.viewport(375, 812, true).await;
    let overflow = b
        .script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
        )
        .await;
    assert!(
        overflow.as_i64().unwrap_or(0) <= 0,
        "the media page scrolls sideways on a phone by {overflow}px"
    );
    b.screenshot(&shots, "media-phone").await;
    b.quit().await;
}
