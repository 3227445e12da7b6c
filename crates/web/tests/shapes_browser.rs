//! The shape widgets in a real browser (Debian's Chromium through chromedriver): boxes and polygons drawn on an
//! image with the keyboard alone and with the mouse, a pre-drawn box corrected, zoom and contrast, a box drawn by
//! touch on a phone-sized screen; on a 10 fps video, frame stepping, an event with a severity and a track with two
//! keyframes interpolated between them. Every answer is submitted and read back from the store.
//!
//! The image and the video are files under `tests/fixtures` (see its README), served by a test-only route at
//! `/media/…`, where the workbench looks for media keys (`render::media_src`). Screenshots at 1280 and 375 px wide
//! land in `target/screenshots/`.
//!
//! Without Chromium the tests skip, unless `FAIRLOOP_REQUIRE_BROWSER=1` (CI sets it), where they fail.

mod browser_support;

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::extract::Path;
use axum::http::header;
use axum::response::IntoResponse;
use browser_support::{Browser, CONTROL, ENTER, SHIFT, browser_or_skip};
use fairloop_app::demo::DEMO_PASSWORD;
use fairloop_app::projects::CreateProject;
use fairloop_app::{App, AppConfig};
use fairloop_web::AppState;
use serde_json::{Value, json};

const ARROW_LEFT: &str = "\u{E012}";
const ARROW_UP: &str = "\u{E013}";
const ARROW_RIGHT: &str = "\u{E014}";
const ARROW_DOWN: &str = "\u{E015}";
const ALT: &str = "\u{E00A}";
const HOME: &str = "\u{E011}";

fn screenshots_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots")
}

/// Serves `tests/fixtures/NAME` at `/test-fixtures/fixtures/NAME` (same-origin URLs the items use as they are), with byte
/// ranges: Chromium seeks in a video only when its server answers range requests.
async fn fixture(
    Path(key): Path<String>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    let name = key.strip_prefix("fixtures/").unwrap_or("");
    let allowed = ["clip-10fps.webm", "scan-320x240.png"];
    if !allowed.contains(&name) {
        return axum::http::StatusCode::NOT_FOUND.into_response();
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let body = std::fs::read(path).unwrap();
    let ct = if name.ends_with(".webm") {
        "video/webm"
    } else {
        "image/png"
    };
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("bytes="))
        .and_then(|r| r.split_once('-'))
        .and_then(|(a, b)| {
            let start: usize = a.parse().ok()?;
            let end: usize = if b.is_empty() {
                body.len() - 1
            } else {
                b.parse().ok()?
            };
            (start <= end && start < body.len()).then_some((start, end.min(body.len() - 1)))
        });
    match range {
        Some((start, end)) => (
            axum::http::StatusCode::PARTIAL_CONTENT,
            [
                (header::CONTENT_TYPE, ct.to_string()),
                (header::ACCEPT_RANGES, "bytes".to_string()),
                (
                    header::CONTENT_RANGE,
                    format!("bytes {start}-{end}/{}", body.len()),
                ),
            ],
            body[start..=end].to_vec(),
        )
            .into_response(),
        None => (
            [(header::CONTENT_TYPE, ct), (header::ACCEPT_RANGES, "bytes")],
            body,
        )
            .into_response(),
    }
}

struct Server {
    url: String,
    app: App,
    _dir: tempfile::TempDir,
}

async fn start_server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = fairloop_store::connect(&fairloop_store::sqlite_url_in(dir.path()))
        .await
        .unwrap();
    let app = App::new(store, AppConfig::default());
    app.seed_demo().await.unwrap();
    let router = fairloop_web::router(AppState {
        app: app.clone(),
        tmp_dir: dir.path().to_path_buf(),
    })
    .route("/test-fixtures/{*key}", axum::routing::get(fixture));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    Server {
        url: format!("http://{addr}"),
        app,
        _dir: dir,
    }
}

/// A project of the demo organization with one item; returns its id.
async fn project_with_item(server: &Server, name: &str, template: Value, item: Value) -> i64 {
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
    let t = fairloop_domain::template::TaskTemplate::from_json(&template).unwrap();
    t.validate_item_data(item.as_object().unwrap()).unwrap();
    let project = server
        .app
        .create_project(
            &principal,
            CreateProject {
                name: name.into(),
                template,
                overlap: None,
                lease_seconds: None,
                max_open_per_worker: None,
                pay: None,
                budget_minor: None,
                gold_rate: None,
                adaptive_overlap: None,
                state: None,
                wellbeing: None,
                onboarding_pay: None,
                requirements: None,
            },
        )
        .await
        .unwrap();
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tx.send(vec![fairloop_store::NewItem {
        external_id: None,
        data: item.to_string(),
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
        .import_items(requester.org_id, project.id, rx, true)
        .await
        .unwrap();
    project.id
}

/// The answers the worker stored in the project (its only item).
async fn stored_answers(server: &Server, project: i64) -> Value {
    let worker = server
        .app
        .store
        .user_by_email("worker1@demo.fairloop.test")
        .await
        .unwrap()
        .unwrap();
    let page = server
        .app
        .store
        .export_page(worker.org_id, project, 0, 10)
        .await
        .unwrap();
    let a = page
        .iter()
        .flat_map(|r| r.annotations.iter())
        .find(|a| a.worker_id == worker.id)
        .expect("the worker's annotation");
    serde_json::from_str(&a.answers).unwrap()
}

async fn sign_in_worker(b: &Browser, base: &str) {
    b.goto(&format!("{base}/signin")).await;
    b.type_into("#email", "worker1@demo.fairloop.test").await;
    b.type_into("#password", DEMO_PASSWORD).await;
    b.click("#signin-submit").await;
    b.wait_for_url("the page after sign-in", |u| !u.contains("/signin"))
        .await;
}

async fn press_n(b: &Browser, key: &str, n: usize, modifier: Option<&str>) {
    b.press(&key.repeat(n), modifier).await;
}

/// The JSON in a widget's hidden input.
async fn widget_value(b: &Browser, question: &str) -> Value {
    let v = b
        .script(&format!(
            "return document.getElementById('w-{question}').value"
        ))
        .await;
    serde_json::from_str(v.as_str().unwrap_or("null")).unwrap_or(Value::Null)
}

/// Waits until a script returns true.
async fn wait_until(b: &Browser, what: &str, js: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        if b.script(js).await == json!(true) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "waited for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The page position of a normalized point of the picture.
async fn at(b: &Browser, x: f64, y: f64) -> (i64, i64) {
    let v = b
        .script(&format!(
            "const r = document.querySelector('.media-stage .media-img, .media-stage .media-video').getBoundingClientRect(); \
             return [Math.round(r.left + r.width * {x}), Math.round(r.top + r.height * {y})]"
        ))
        .await;
    (v[0].as_i64().unwrap(), v[1].as_i64().unwrap())
}

/// A pointer gesture through the points, pressed from the first to the last (`touch` or `mouse`).
async fn gesture(b: &Browser, kind: &str, points: &[(i64, i64)]) {
    let mut actions = vec![
        json!({"type": "pointerMove", "duration": 0, "origin": "viewport", "x": points[0].0, "y": points[0].1}),
        json!({"type": "pointerDown", "button": 0}),
    ];
    for p in &points[1..] {
        actions.push(json!({"type": "pointerMove", "duration": 50, "origin": "viewport", "x": p.0, "y": p.1}));
    }
    actions.push(json!({"type": "pointerUp", "button": 0}));
    b.actions(json!([{"type": "pointer", "id": format!("{kind}1"), "parameters": {"pointerType": kind}, "actions": actions}]))
        .await;
}

/// The frame the video widget shows.
async fn frame(b: &Browser) -> Value {
    b.script("return Number(document.querySelector('.frame-readout').dataset.frame)")
        .await
}

fn close(a: &Value, b: f64, tol: f64) -> bool {
    a.as_f64().is_some_and(|a| (a - b).abs() <= tol)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boxes_and_polygons_by_keyboard_mouse_and_touch_with_a_corrected_prefill() {
    let Some((chromium, driver)) = browser_or_skip() else {
        return;
    };
    let server = start_server().await;
    let base = server.url.clone();
    let pid = project_with_item(
        &server,
        "Chest scans",
        json!({
            "fields": [{"name": "scan", "type": "image", "source": "url", "label": "Scan"}],
            "questions": [
                {"name": "cars", "type": "boxes", "field": "scan", "labels": ["car", "bus"], "prefill": "detections",
                 "label": "Box every vehicle", "required": true},
                {"name": "regions", "type": "polygons", "field": "scan", "labels": ["lesion"], "label": "Outline lesions"}
            ]
        }),
        json!({"url": format!("{}/test-fixtures/fixtures/scan-320x240.png", server.url),
               "detections": [{"x": 0.5, "y": 0.5, "w": 0.2, "h": 0.2, "label": "car"}]}),
    )
    .await;

    let b = Browser::start(&chromium, &driver).await;
    sign_in_worker(&b, &base).await;
    b.goto(&format!("{base}/work/{pid}")).await;
    b.wait_for_url("the workbench", |u| u.contains(&format!("/work/{pid}/")))
        .await;
    wait_until(&b, "the image", "return document.querySelector('.media-img')?.naturalWidth === 320 && document.querySelector('.overlay')?.getAttribute('viewBox') === '0 0 320 240'").await;
    // The prefill is the starting answer, drawn on the picture.
    assert_eq!(
        widget_value(&b, "cars").await,
        json!([{"x": 0.5, "y": 0.5, "w": 0.2, "h": 0.2, "label": "car"}])
    );
    assert_eq!(
        b.script("return document.querySelectorAll('.overlay rect.shape').length")
            .await,
        json!(1)
    );

    // Keyboard only: focus the picture, pick "bus" (2), move the crosshair from the middle to (0.1, 0.1), Enter,
    // then to (0.3, 0.3), Enter.
    b.script("document.querySelector('.media-stage').focus()")
        .await;
    b.press("2", None).await;
    press_n(&b, ARROW_LEFT, 4, Some(SHIFT)).await;
    press_n(&b, ARROW_UP, 4, Some(SHIFT)).await;
    b.press(ENTER, None).await;
    press_n(&b, ARROW_RIGHT, 2, Some(SHIFT)).await;
    press_n(&b, ARROW_DOWN, 2, Some(SHIFT)).await;
    b.press(ENTER, None).await;
    let cars = widget_value(&b, "cars").await;
    assert_eq!(
        cars[1],
        json!({"x": 0.1, "y": 0.1, "w": 0.2, "h": 0.2, "label": "bus"}),
        "{cars}"
    );

    // Correct the prefilled box: Tab selects it, arrows move it, Alt+arrows resize it, 1 relabels it "car".
    b.press("\u{E004}", None).await; // Tab
    press_n(&b, ARROW_RIGHT, 2, None).await;
    b.press(ARROW_DOWN, Some(ALT)).await;
    b.press("1", None).await;
    b.press("\u{E00C}", None).await; // Escape: nothing selected
    let cars = widget_value(&b, "cars").await;
    assert_eq!(
        cars[0],
        json!({"x": 0.51, "y": 0.5, "w": 0.2, "h": 0.205, "label": "car"}),
        "{cars}"
    );

    // Polygons: switch to the question ("Draw on the picture" focuses the picture), then by keyboard a triangle
    // from the crosshair (still at 0.3, 0.3), closed with C.
    // "Draw on the picture" by keyboard: focus it, Enter (it hands the focus to the picture).
    b.script("document.querySelector('#q-regions .draw-here').focus()")
        .await;
    b.press(ENTER, None).await;
    press_n(&b, ARROW_DOWN, 3, Some(SHIFT)).await;
    b.press(ENTER, None).await;
    press_n(&b, ARROW_LEFT, 2, Some(SHIFT)).await;
    b.press(ENTER, None).await;
    press_n(&b, ARROW_DOWN, 2, Some(SHIFT)).await;
    b.press(ENTER, None).await;
    b.press("c", None).await;
    let regions = widget_value(&b, "regions").await;
    assert_eq!(
        regions,
        json!([{"points": [[0.3, 0.6], [0.1, 0.6], [0.1, 0.8]], "label": "lesion"}]),
        "{regions}"
    );
    // And with the mouse: four clicks, then a click on the first point closes the outline.
    let tol = 0.01;
    let corners = [(0.5, 0.1), (0.7, 0.1), (0.7, 0.3), (0.5, 0.3), (0.5, 0.1)];
    for (x, y) in corners {
        let p = at(&b, x, y).await;
        gesture(&b, "mouse", &[p]).await;
    }
    let regions = widget_value(&b, "regions").await;
    let quad = regions[1]["points"].as_array().cloned().unwrap_or_default();
    assert_eq!(quad.len(), 4, "{regions}");
    for (p, (x, y)) in quad.iter().zip(corners) {
        assert!(close(&p[0], x, tol) && close(&p[1], y, tol), "{regions}");
    }

    // Boxes again, with the mouse: a drag draws a box (label "car", the last one picked).
    b.script("document.querySelector('#q-cars .draw-here').focus()")
        .await;
    b.press(ENTER, None).await;
    let (p, q) = (at(&b, 0.75, 0.1).await, at(&b, 0.95, 0.3).await);
    gesture(&b, "mouse", &[p, ((p.0 + q.0) / 2, (p.1 + q.1) / 2), q]).await;
    let cars = widget_value(&b, "cars").await;
    assert_eq!(cars.as_array().unwrap().len(), 3, "{cars}");
    assert!(
        close(&cars[2]["x"], 0.75, tol)
            && close(&cars[2]["y"], 0.1, tol)
            && close(&cars[2]["w"], 0.2, tol)
            && close(&cars[2]["h"], 0.2, tol)
            && cars[2]["label"] == "car",
        "{cars}"
    );

    // Zoom with + and the contrast slider (arrow keys on it): the picture is scaled and filtered.
    b.script("document.querySelector('.media-stage').focus()")
        .await;
    b.press("+", None).await;
    let transform = b
        .script("return document.querySelector('.media-content').style.transform")
        .await;
    assert!(
        transform.as_str().unwrap().contains("scale(1.5)"),
        "{transform}"
    );
    b.script("document.querySelector('.stage-tools input[aria-label=Contrast]').focus()")
        .await;
    press_n(&b, ARROW_RIGHT, 20, None).await;
    let filter = b
        .script("return document.querySelector('.media-img').style.filter")
        .await;
    assert!(filter.as_str().unwrap().contains("contrast(1."), "{filter}");
    let dir = screenshots_dir();
    b.screenshot(&dir, "workbench-shapes-desktop").await;
    b.script("document.querySelector('.media-stage').focus()")
        .await;
    b.press("0", None).await;

    // A phone: the picture fills the width, the tools wrap, and a finger draws a box.
    b.viewport(375, 812, true).await;
    b.script("document.querySelector('.media-stage').scrollIntoView()")
        .await;
    b.click("#q-cars .draw-here").await;
    b.script("document.querySelector('.media-stage').scrollIntoView()")
        .await;
    let (p, q) = (at(&b, 0.05, 0.75).await, at(&b, 0.25, 0.95).await);
    gesture(&b, "touch", &[p, ((p.0 + q.0) / 2, (p.1 + q.1) / 2), q]).await;
    let cars = widget_value(&b, "cars").await;
    assert_eq!(
        cars.as_array().unwrap().len(),
        4,
        "a finger drew a box: {cars}"
    );
    assert!(
        close(&cars[3]["x"], 0.05, 0.02) && close(&cars[3]["h"], 0.2, 0.02),
        "{cars}"
    );
    let overflow = b
        .script("return document.documentElement.scrollWidth <= window.innerWidth")
        .await;
    assert_eq!(
        overflow,
        json!(true),
        "nothing sticks out sideways on a phone"
    );
    b.screenshot(&dir, "workbench-shapes-phone").await;
    b.viewport(1280, 800, false).await;

    // Submit; the stored answer is what the widgets showed.
    let before_submit = json!({"cars": widget_value(&b, "cars").await, "regions": widget_value(&b, "regions").await});
    b.press(ENTER, Some(CONTROL)).await;
    b.wait_for_url("the page after submitting", |u| {
        !u.contains(&format!("/work/{pid}/"))
    })
    .await;
    let stored = stored_answers(&server, pid).await;
    assert_eq!(stored, before_submit);
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_video_qa_steps_frames_marks_an_event_and_a_two_keyframe_track() {
    let Some((chromium, driver)) = browser_or_skip() else {
        return;
    };
    let server = start_server().await;
    let base = server.url.clone();
    // The gallery's generated-video QA template, its video field told where the frame rate is, plus a tracks
    // question on the same video.
    let mut template = fairloop_domain::template::examples()
        .into_iter()
        .find(|(n, _)| *n == "generated_video_qa")
        .unwrap()
        .1;
    template["fields"][1]["fps"] = json!("fps");
    template["questions"].as_array_mut().unwrap().push(
        json!({"name": "objects", "type": "tracks", "field": "video", "labels": ["chef", "pan"]}),
    );
    let pid = project_with_item(
        &server,
        "Generated video QA",
        template,
        json!({"prompt": "A chef flips a pancake", "video_url": format!("{}/test-fixtures/fixtures/clip-10fps.webm", server.url), "fps": 10}),
    )
    .await;

    let b = Browser::start(&chromium, &driver).await;
    sign_in_worker(&b, &base).await;
    b.goto(&format!("{base}/work/{pid}")).await;
    b.wait_for_url("the workbench", |u| u.contains(&format!("/work/{pid}/")))
        .await;
    wait_until(&b, "the video", "const v = document.querySelector('.media-video'); return v.readyState >= 2 && Math.abs(v.duration - 3) < 0.05").await;
    assert_eq!(frame(&b).await, json!(0));
    assert!(
        b.text(".frame-readout").await.contains("/ 29"),
        "30 frames at 10 fps"
    );

    // Stepping: . forward, , back, Shift ten at a time; the video's time follows the frame.
    b.script("document.querySelector('.media-stage').focus()")
        .await;
    press_n(&b, ".", 3, None).await;
    assert_eq!(frame(&b).await, json!(3));
    b.press(".", Some(SHIFT)).await;
    assert_eq!(frame(&b).await, json!(13));
    b.press(",", None).await;
    assert_eq!(frame(&b).await, json!(12));
    wait_until(&b, "the seek", "const v = document.querySelector('.media-video'); return !v.seeking && Math.abs(v.currentTime - 1.2) < 0.01").await;

    // An event from frame 5 to frame 15, label 1 (anatomy), severity Shift+2 (major), with a note.
    b.press(HOME, None).await;
    press_n(&b, ".", 5, None).await;
    b.press("[", None).await;
    b.press(".", Some(SHIFT)).await;
    b.press("]", None).await;
    b.press("2", Some(SHIFT)).await;
    let errors = widget_value(&b, "errors").await;
    assert_eq!(
        errors,
        json!([{"start": 0.5, "end": 1.5, "label": "anatomy", "severity": "major"}]),
        "{errors}"
    );
    b.type_into("#q-errors .note-input", "six fingers").await;

    // A track: at frame 0 a box by keyboard from the crosshair (0.5, 0.5) to (0.6, 0.6); at frame 20 the same box
    // moved right by 0.1 with the arrows (a second keyframe).
    b.script("document.querySelector('#q-objects .draw-here').focus()")
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
    let objects = widget_value(&b, "objects").await;
    assert_eq!(
        objects,
        json!([{"id": "t1", "label": "chef", "keyframes": [
            {"frame": 0, "x": 0.5, "y": 0.5, "w": 0.1, "h": 0.1},
            {"frame": 20, "x": 0.6, "y": 0.5, "w": 0.1, "h": 0.1}]}]),
        "{objects}"
    );
    // Halfway, at frame 10, the box shown is interpolated: x = 0.55 of the width.
    press_n(&b, ",", 10, None).await;
    assert_eq!(frame(&b).await, json!(10));
    let x = b
        .script("const r = document.querySelector('.overlay rect.shape[data-track=t1]'); return [r.classList.contains('interpolated'), Number(r.getAttribute('x')) / 160]")
        .await;
    assert_eq!(x[0], json!(true), "{x}");
    assert!(close(&x[1], 0.55, 1e-6), "{x}");
    let dir = screenshots_dir();
    b.screenshot(&dir, "workbench-video-desktop").await;
    b.viewport(375, 812, true).await;
    b.script("document.querySelector('.media-stage').scrollIntoView()")
        .await;
    b.screenshot(&dir, "workbench-video-phone").await;
    let overflow = b
        .script("return document.documentElement.scrollWidth <= window.innerWidth")
        .await;
    assert_eq!(
        overflow,
        json!(true),
        "nothing sticks out sideways on a phone"
    );
    b.viewport(1280, 800, false).await;

    // The rest of the QA template: overall rating and prompt adherence; then submit.
    b.click("label.option:has(input[name='q.overall'][value='2'])")
        .await;
    b.click("label.option:has(input[name='q.follows_prompt'][value='yes'])")
        .await;
    b.press(ENTER, Some(CONTROL)).await;
    b.wait_for_url("the page after submitting", |u| {
        !u.contains(&format!("/work/{pid}/"))
    })
    .await;
    let stored = stored_answers(&server, pid).await;
    assert_eq!(
        stored,
        json!({
            "errors": [{"start": 0.5, "end": 1.5, "label": "anatomy", "severity": "major", "note": "six fingers"}],
            "objects": objects,
            "overall": 2,
            "follows_prompt": "yes"
        })
    );
    b.quit().await;
}
