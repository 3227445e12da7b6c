//! The whole media path in a real browser (Chromium through chromedriver), as people use it: a requester uploads
//! a real PNG and a real WebM on a project's Media page and imports items that name them by key through the
//! console's upload page; a worker labels the picture (a box by keyboard, a polygon by mouse) and the video (an
//! event range and a two-keyframe track) in the workbench, where both load from the media store through
//! `/media/{key}` under the page's Content-Security-Policy, with the video's frame rate read from the file; a
//! reviewer sees the shapes drawn over the picture; the requester exports COCO (loaded by pycocotools), YOLO and
//! video JSONL, which hold those shapes at the uploaded files' sizes; and an unused file is deleted from the
//! Media page while one in use is refused.
//!
//! Screenshots (workbench at 1280 and 375 px, review page) land in `target/screenshots/`. Without Chromium the
//! test skips, unless `FAIRLOOP_REQUIRE_BROWSER=1`, where it fails.

mod browser_support;

use std::path::{Path, PathBuf};

use browser_support::{
    ARROW_DOWN, ARROW_RIGHT, Browser, CONTROL, ENTER, SHIFT, browser_or_skip, start_server,
};
use fairloop_app::demo::DEMO_PASSWORD;
use serde_json::{Value, json};

const HOME: &str = "\u{E011}";

fn screenshots_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots")
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .canonicalize()
        .unwrap()
        .display()
        .to_string()
}

async fn sign_in(b: &Browser, base: &str, email: &str) {
    // Sign out of any earlier session first (the form is on every page once signed in).
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

async fn wait_until(b: &Browser, what: &str, js: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if b.script(js).await == json!(true) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "waited for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn widget_value(b: &Browser, question: &str) -> Value {
    let v = b
        .script(&format!(
            "return document.getElementById('w-{question}').value"
        ))
        .await;
    serde_json::from_str(v.as_str().unwrap_or("null")).unwrap_or(Value::Null)
}

async fn press_n(b: &Browser, key: &str, n: usize, modifier: Option<&str>) {
    b.press(&key.repeat(n), modifier).await;
}

/// The page position of a normalized point of the picture.
async fn at(b: &Browser, x: f64, y: f64) -> (i64, i64) {
    let v = b
        .script(&format!(
            "const r = document.querySelector('.media-stage[data-stage=image] .media-img').getBoundingClientRect(); \
             return [Math.round(r.left + r.width * {x}), Math.round(r.top + r.height * {y})]"
        ))
        .await;
    (v[0].as_i64().unwrap(), v[1].as_i64().unwrap())
}

async fn click_at(b: &Browser, p: (i64, i64)) {
    b.actions(json!([{"type": "pointer", "id": "mouse1", "parameters": {"pointerType": "mouse"}, "actions": [
        {"type": "pointerMove", "duration": 0, "origin": "viewport", "x": p.0, "y": p.1},
        {"type": "pointerDown", "button": 0}, {"type": "pointerUp", "button": 0}]}]))
        .await;
}

async fn frame(b: &Browser) -> Value {
    b.script("return Number(document.querySelector('.frame-readout').dataset.frame)")
        .await
}

fn close(a: &Value, b: f64, tol: f64) -> bool {
    a.as_f64().is_some_and(|a| (a - b).abs() <= tol)
}

/// pycocotools on the COCO file, and Python's zipfile on the YOLO archive: what they read.
fn python_reads(coco: &[u8], yolo: &[u8]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let (c, y) = (dir.path().join("coco.json"), dir.path().join("yolo.zip"));
    std::fs::write(&c, coco).unwrap();
    std::fs::write(&y, yolo).unwrap();
    let script = r#"
import json, sys, zipfile
from pycocotools.coco import COCO
coco = COCO(sys.argv[1])
anns = coco.loadAnns(coco.getAnnIds())
z = zipfile.ZipFile(sys.argv[2])
print(json.dumps({
    "images": [coco.imgs[i] for i in coco.getImgIds()],
    "annotations": [{"bbox": a["bbox"], "area": a["area"], "category": coco.cats[a["category_id"]]["name"],
                     "mask": int(coco.annToMask(a).sum())} for a in anns],
    "zip": {n: z.read(n).decode() for n in z.namelist()},
}))
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&c)
        .arg(&y)
        .output()
        .expect("python3 runs (the media tests need python3 with pycocotools, see .ci/run)");
    assert!(
        out.status.success(),
        "pycocotools: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploaded_media_are_labelled_in_the_workbench_reviewed_and_exported() {
    let Some((chromium, driver)) = browser_or_skip() else {
        return;
    };
    let server = start_server().await;
    let base = server.url.clone();
    // Running the demo again hands out fresh API tokens, for the export requests.
    let demo = server.app.seed_demo().await.unwrap();
    let token = |email: &str| {
        demo.users
            .iter()
            .find(|(u, _)| u.email == email)
            .map(|(_, t)| t.clone())
            .unwrap()
    };
    let requester_token = token("requester@demo.fairloop.test");
    let http = reqwest::Client::new();
    let api = |path: &str| format!("{base}{path}");

    let template = json!({
        "fields": [{"name": "scan", "type": "image", "label": "Street"},
                   {"name": "clip", "type": "video", "label": "Clip"}],
        "questions": [
            {"name": "objects", "type": "boxes", "field": "scan", "labels": ["car", "person"], "required": true,
             "label": "Box every car and person"},
            {"name": "regions", "type": "polygons", "field": "scan", "labels": ["road"], "label": "Outline the road"},
            {"name": "events", "type": "video_events", "field": "clip", "labels": ["flicker", "glitch"],
             "label": "Mark flicker"},
            {"name": "tracks", "type": "tracks", "field": "clip", "labels": ["ball"], "label": "Follow the ball"}
        ]
    });
    let created: Value = http
        .post(api("/api/v1/projects"))
        .bearer_auth(&requester_token)
        .json(&json!({"name": "Street media", "overlap": 1, "template": template}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pid = created["id"].as_i64().expect("a project");
    let r = http
        .put(api(&format!("/api/v1/projects/{pid}/review-settings")))
        .bearer_auth(&requester_token)
        .json(&json!({"sample_rate": 1.0, "min_seconds": 0, "low_agreement": 0.0}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());

    // The requester uploads a PNG and a WebM on the project's Media page.
    let b = Browser::start(&chromium, &driver).await;
    sign_in(&b, &base, "requester@demo.fairloop.test").await;
    b.goto(&format!("{base}/projects/{pid}/media")).await;
    let files = [fixture("scan-320x240.png"), fixture("clip-10fps.webm")].join("\n");
    b.type_into("#files", &files).await;
    b.click("#media-upload").await;
    let results = b.text("#upload-results").await;
    assert!(
        results.contains("Stored as image scan-320x240.png"),
        "{results}"
    );
    assert!(
        results.contains("Stored as video clip-10fps.webm"),
        "{results}"
    );
    wait_until(&b, "the thumbnail and the poster", "return ['scan-320x240.png', 'clip-10fps.webm'].every(k => { const i = document.querySelector(`#media-list img[alt='Preview of ${k}']`); return i && i.complete && i.naturalWidth > 0; })").await;

    // Items that name them by key, imported on the console's upload page.
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("street.jsonl");
    std::fs::write(
        &jsonl,
        "{\"id\":\"street-1\",\"data\":{\"scan\":\"media:scan-320x240.png\",\"clip\":\"clip-10fps.webm\"}}\n",
    )
    .unwrap();
    b.goto(&format!("{base}/projects/{pid}/upload")).await;
    b.type_into("#file", &jsonl.display().to_string()).await;
    b.click("#upload-button").await;
    // The upload runs after the click returns: wait for the item to be in (at most 30 s).
    let mut stats = Value::Null;
    for _ in 0..300 {
        stats = http
            .get(api(&format!("/api/v1/projects/{pid}/stats")))
            .bearer_auth(&requester_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if stats["items"] == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(stats["items"], 1, "{stats}");

    // A worker labels both in the workbench.
    sign_in(&b, &base, "worker1@demo.fairloop.test").await;
    b.goto(&format!("{base}/work/{pid}")).await;
    b.wait_for_url("the workbench", |u| u.contains(&format!("/work/{pid}/")))
        .await;
    wait_until(&b, "the uploaded picture", "const i = document.querySelector('.media-stage[data-stage=image] .media-img'); return i.getAttribute('src') === '/media/scan-320x240.png' && i.naturalWidth === 320").await;
    wait_until(&b, "the uploaded video", "const v = document.querySelector('.media-stage[data-stage=video] .media-video'); return v.getAttribute('src') === '/media/clip-10fps.webm' && v.readyState >= 2 && Math.abs(v.duration - 3) < 0.05").await;
    // The item names no frame rate: the file's (10 fps, read at upload) is used, not an assumed 30.
    assert_eq!(
        b.script(
            "return Number(document.querySelector('.media-stage[data-stage=video]').dataset.fps)"
        )
        .await,
        json!(10)
    );
    assert!(b.text(".frame-readout").await.contains("/ 29"));

    // A box by keyboard: label 1 (car), the crosshair from the middle to (0.1, 0.1), Enter, to (0.3, 0.3), Enter.
    b.script("document.querySelector('.media-stage[data-stage=image]').focus()")
        .await;
    b.press("1", None).await;
    press_n(&b, "\u{E012}", 4, Some(SHIFT)).await;
    press_n(&b, "\u{E013}", 4, Some(SHIFT)).await;
    b.press(ENTER, None).await;
    press_n(&b, ARROW_RIGHT, 2, Some(SHIFT)).await;
    press_n(&b, ARROW_DOWN, 2, Some(SHIFT)).await;
    b.press(ENTER, None).await;
    assert_eq!(
        widget_value(&b, "objects").await,
        json!([{"x": 0.1, "y": 0.1, "w": 0.2, "h": 0.2, "label": "car"}])
    );
    // A polygon by mouse: four clicks, and a click on the first point closes it.
    b.script("document.querySelector('#q-regions .draw-here').focus()")
        .await;
    b.press(ENTER, None).await;
    let corners = [(0.5, 0.5), (0.9, 0.5), (0.9, 0.9), (0.5, 0.9), (0.5, 0.5)];
    for (x, y) in corners {
        let p = at(&b, x, y).await;
        click_at(&b, p).await;
    }
    let regions = widget_value(&b, "regions").await;
    let quad = regions[0]["points"].as_array().cloned().unwrap_or_default();
    assert_eq!(quad.len(), 4, "{regions}");
    for (p, (x, y)) in quad.iter().zip(corners) {
        assert!(close(&p[0], x, 0.01) && close(&p[1], y, 0.01), "{regions}");
    }

    // The video: an event from frame 5 to frame 15, then a track with keyframes at frames 0 and 20.
    b.script("document.querySelector('#q-events .draw-here').focus()")
        .await;
    b.press(ENTER, None).await;
    b.press(HOME, None).await;
    press_n(&b, ".", 5, None).await;
    assert_eq!(frame(&b).await, json!(5));
    b.press("[", None).await;
    b.press(".", Some(SHIFT)).await;
    b.press("]", None).await;
    assert_eq!(
        widget_value(&b, "events").await,
        json!([{"start": 0.5, "end": 1.5, "label": "flicker"}])
    );
    b.script("document.querySelector('#q-tracks .draw-here').focus()")
        .await;
    b.press(ENTER, None).await;
    b.press(HOME, None).await;
    b.press(ENTER, None).await;
    b.press(ARROW_RIGHT, Some(SHIFT)).await;
    b.press(ARROW_DOWN, Some(SHIFT)).await;
    b.press(ENTER, None).await;
    press_n(&b, ".", 2, Some(SHIFT)).await;
    assert_eq!(frame(&b).await, json!(20));
    press_n(&b, ARROW_RIGHT, 2, Some(SHIFT)).await;
    let tracks = widget_value(&b, "tracks").await;
    assert_eq!(
        tracks,
        json!([{"id": "t1", "label": "ball", "keyframes": [
            {"frame": 0, "x": 0.5, "y": 0.5, "w": 0.1, "h": 0.1},
            {"frame": 20, "x": 0.6, "y": 0.5, "w": 0.1, "h": 0.1}]}]),
        "{tracks}"
    );

    // Screenshots with the real uploaded media, at desktop and phone width.
    let shots = screenshots_dir();
    b.script("window.scrollTo(0, 0)").await;
    b.screenshot(&shots, "workbench-uploaded-media-desktop")
        .await;
    b.viewport(375, 812, true).await;
    b.script("document.querySelector('.media-stage[data-stage=image]').scrollIntoView()")
        .await;
    b.screenshot(&shots, "workbench-uploaded-media-phone").await;
    assert_eq!(
        b.script("return document.documentElement.scrollWidth <= window.innerWidth")
            .await,
        json!(true),
        "nothing sticks out sideways on a phone"
    );
    b.viewport(1280, 800, false).await;

    b.press(ENTER, Some(CONTROL)).await;
    b.wait_for_url("the page after submitting", |u| {
        !u.contains(&format!("/work/{pid}/"))
    })
    .await;

    // The reviewer sees the shapes over the picture.
    sign_in(&b, &base, "reviewer@demo.fairloop.test").await;
    b.goto(&format!("{base}/review/{pid}")).await;
    wait_until(&b, "the picture on the review page", "const i = document.querySelector('#review-shapes-scan img'); return !!i && i.complete && i.naturalWidth === 320").await;
    assert_eq!(
        b.script("return [document.querySelectorAll('#review-shapes-scan rect.shape').length, document.querySelectorAll('#review-shapes-scan polygon.shape').length]")
            .await,
        json!([1, 1])
    );
    let legend = b.text("#review-shapes-scan figcaption").await;
    assert!(legend.contains("objects: car"), "{legend}");
    assert!(legend.contains("regions: road"), "{legend}");
    b.screenshot(&shots, "review-shapes-desktop").await;

    // Exports: COCO (pycocotools), YOLO and video JSONL hold the shapes at the files' sizes.
    let export = |format: &str| {
        http.get(api(&format!(
            "/api/v1/projects/{pid}/export?format={format}"
        )))
        .bearer_auth(&requester_token)
        .send()
    };
    let coco = export("coco").await.unwrap().bytes().await.unwrap();
    let yolo = export("yolo").await.unwrap().bytes().await.unwrap();
    let py = python_reads(&coco, &yolo);
    assert_eq!(py["images"][0]["width"], 320, "{py}");
    assert_eq!(py["images"][0]["height"], 240, "{py}");
    assert_eq!(py["images"][0]["fairloop_media_key"], "scan-320x240.png");
    let anns = py["annotations"].as_array().unwrap();
    assert_eq!(anns.len(), 2, "{py}");
    let car = anns.iter().find(|a| a["category"] == "car").unwrap();
    assert_eq!(car["bbox"], json!([32.0, 24.0, 64.0, 48.0]), "{py}");
    let road = anns.iter().find(|a| a["category"] == "road").unwrap();
    let area = 0.4 * 320.0 * 0.4 * 240.0;
    assert!(
        (road["area"].as_f64().unwrap() - area).abs() / area < 0.06,
        "{py}"
    );
    assert!(
        (road["mask"].as_f64().unwrap() - area).abs() / area < 0.08,
        "{py}"
    );
    let labels = py["zip"]["labels/scan-320x240.txt"].as_str().unwrap();
    let lines: Vec<&str> = labels.lines().collect();
    assert_eq!(lines[0], "0 0.2 0.2 0.2 0.2", "{labels}");
    assert!(lines[1].starts_with("2 0.5"), "{labels}");
    assert!(
        py["zip"]["images.csv"]
            .as_str()
            .unwrap()
            .contains("labels/scan-320x240.txt,street-1,scan,media:scan-320x240.png,320,240"),
        "{py}"
    );
    let video = export("video_jsonl").await.unwrap().text().await.unwrap();
    let line: Value = serde_json::from_str(video.lines().next().unwrap()).unwrap();
    let text = line.to_string();
    assert!(text.contains("\"start_frame\":5"), "{text}");
    assert!(text.contains("\"end_frame\":15"), "{text}");
    assert!(text.contains("\"frame\":20"), "{text}");
    assert!(text.contains("\"fps\":10"), "{text}");

    // The Media page refuses to delete a file items use, naming how many, and deletes an unused one.
    let spare = dir.path().join("spare.png");
    std::fs::copy(fixture("scan-320x240.png"), &spare).unwrap();
    sign_in(&b, &base, "requester@demo.fairloop.test").await;
    b.goto(&format!("{base}/projects/{pid}/media")).await;
    b.type_into("#files", &spare.display().to_string()).await;
    b.click("#media-upload").await;
    assert!(
        b.text("#upload-results")
            .await
            .contains("Stored as image spare.png")
    );
    b.click("button[data-delete='clip-10fps.webm']").await;
    let refused = b.text("#media-error").await;
    assert!(refused.contains("1 item refers"), "{refused}");
    b.click("button[data-delete='spare.png']").await;
    b.wait_for_url("the list after deleting", |u| {
        u.contains("deleted=spare.png")
    })
    .await;
    assert!(b.text("#media-deleted").await.contains("spare.png"));
    let listed = b
        .script("return [...document.querySelectorAll('#media-list code')].map(c => c.textContent)")
        .await;
    let listed: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(!listed.contains(&"spare.png"), "{listed:?}");
    assert!(
        listed.contains(&"clip-10fps.webm") && listed.contains(&"scan-320x240.png"),
        "{listed:?}"
    );
    b.viewport(375, 812, true).await;
    b.screenshot(&shots, "media-page-phone").await;
    assert_eq!(
        b.script("return document.documentElement.scrollWidth <= window.innerWidth")
            .await,
        json!(true),
        "the media page fits a phone"
    );
    b.quit().await;
}
