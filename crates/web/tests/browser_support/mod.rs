//! A small WebDriver client (the W3C protocol over plain HTTP to a local chromedriver) and the launcher of the
//! real server and of Debian's Chromium for the browser tests.
//!
//! Why not `thirtyfour`: every call here goes to chromedriver on localhost, so a TLS stack and a second HTTP
//! client would only add build time; reqwest (already a dev-dependency, without TLS) and a dozen endpoints of
//! the protocol are all the tests need.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use fairloop_app::{App, AppConfig};
use fairloop_web::AppState;
use serde_json::{Value, json};

/// Where Chromium and chromedriver are, or why the browser tests cannot run.
pub fn browser_paths() -> Result<(PathBuf, PathBuf), String> {
    let chromium =
        std::env::var("FAIRLOOP_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let driver =
        std::env::var("FAIRLOOP_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    for p in [&chromium, &driver] {
        if !Path::new(p).exists() {
            return Err(format!(
                "{p} is missing: install Debian's chromium and chromium-driver"
            ));
        }
    }
    Ok((chromium.into(), driver.into()))
}

/// The browser to drive, or `None` to skip the test (said on stderr); with `FAIRLOOP_REQUIRE_BROWSER=1` a missing
/// browser fails the test instead, so a broken CI step cannot hide.
pub fn browser_or_skip() -> Option<(PathBuf, PathBuf)> {
    match browser_paths() {
        Ok(p) => Some(p),
        Err(why) if browser_required() => {
            panic!("FAIRLOOP_REQUIRE_BROWSER=1 but the browser cannot run: {why}")
        }
        Err(why) => {
            eprintln!("skipping the browser test: {why}");
            None
        }
    }
}

/// True when CI demands the browser tests (a missing browser must fail the run, not skip it).
pub fn browser_required() -> bool {
    std::env::var("FAIRLOOP_REQUIRE_BROWSER").is_ok_and(|v| v == "1")
}

/// The real router over a fresh SQLite database with the demo organization, on a random local port.
pub struct Server {
    pub url: String,
    pub app: App,
    _dir: tempfile::TempDir,
}

pub async fn start_server() -> Server {
    start_server_with(AppConfig::default()).await
}

/// [`start_server`] with a given application configuration (e.g. an interview endpoint).
pub async fn start_server_with(config: AppConfig) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = fairloop_store::connect(&fairloop_store::sqlite_url_in(dir.path()))
        .await
        .unwrap();
    let media = fairloop_media::MediaStore::local(&dir.path().join("media")).unwrap();
    let app = App::new(store, config).with_media(media);
    app.seed_demo().await.unwrap();
    let router = fairloop_web::router(AppState {
        app: app.clone(),
        tmp_dir: dir.path().to_path_buf(),
    });
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

/// A running chromedriver with one headless Chromium session.
pub struct Browser {
    http: reqwest::Client,
    base: String,
    session: String,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Best effort: end the session (closes Chromium), then stop the driver we started.
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a fresh profile and a desktop-sized window.
    pub async fn start(chromium: &Path, driver: &Path) -> Browser {
        let port = free_port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = http.get(format!("{base}/status")).send().await
                && let Ok(v) = r.json::<Value>().await
                && v["value"]["ready"] == json!(true)
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--window-size=1280,800".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        // An implicit wait: finding an element right after a click that loads a page waits for the new page
        // (up to 10 s) instead of racing it.
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "timeouts": {"implicit": 10000, "pageLoad": 30000},
            "goog:chromeOptions": {"binary": chromium.to_string_lossy(), "args": args}
        }}});
        let resp: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = resp["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {resp}"))
            .to_string();
        Browser {
            http,
            base,
            session,
            driver: child,
            _profile: profile,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method, &url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let v: Value = resp.json().await.unwrap();
        assert!(status.is_success(), "WebDriver {path}: {status} {v}");
        v["value"].clone()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None).await
    }

    /// Loads a page and waits for it.
    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    /// The address of the current page.
    pub async fn url(&self) -> String {
        self.get("/url").await.as_str().unwrap().to_string()
    }

    /// The element a CSS selector finds (panics when there is none).
    pub async fn find(&self, css: &str) -> String {
        let v = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await;
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_string()
    }

    /// Types into an element.
    pub async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        self.post(&format!("/element/{el}/value"), json!({ "text": text }))
            .await;
    }

    /// Clicks an element.
    pub async fn click(&self, css: &str) {
        let el = self.find(css).await;
        self.post(&format!("/element/{el}/click"), json!({})).await;
    }

    /// The visible text of an element.
    pub async fn text(&self, css: &str) -> String {
        let el = self.find(css).await;
        self.get(&format!("/element/{el}/text"))
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Runs a script in the page and returns its result.
    pub async fn script(&self, js: &str) -> Value {
        self.post("/execute/sync", json!({"script": js, "args": []}))
            .await
    }

    /// Presses keys on the focused element (or the page), with `modifier` (a WebDriver key code such as
    /// `\u{E009}` for Control) held down if given.
    pub async fn press(&self, keys: &str, modifier: Option<&str>) {
        let mut actions = Vec::new();
        if let Some(m) = modifier {
            actions.push(json!({"type": "keyDown", "value": m}));
        }
        for c in keys.chars() {
            actions.push(json!({"type": "keyDown", "value": c.to_string()}));
            actions.push(json!({"type": "keyUp", "value": c.to_string()}));
        }
        if let Some(m) = modifier {
            actions.push(json!({"type": "keyUp", "value": m}));
        }
        self.post(
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        )
        .await;
        self.call(reqwest::Method::DELETE, "/actions", None).await;
    }

    /// Performs a list of WebDriver input sources' actions (pointer gestures, touch), then releases them.
    pub async fn actions(&self, sources: Value) {
        self.post("/actions", json!({ "actions": sources })).await;
        self.call(reqwest::Method::DELETE, "/actions", None).await;
    }

    /// Marks the current document so that [`Browser::wait_for_new_page`] can tell when a form post or a link has
    /// replaced it: the address alone cannot, when a form posts back to the page it is on.
    pub async fn mark_page(&self) {
        self.script("window.__flOldPage = true; return null").await;
    }

    /// Waits until the document marked by [`Browser::mark_page`] is gone and its successor has loaded. A script
    /// run while the navigation is under way may fail; that only means "not yet".
    pub async fn wait_for_new_page(&self, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        let url = format!("{}/session/{}/execute/sync", self.base, self.session);
        let probe = json!({
            "script": "return !window.__flOldPage && document.readyState === 'complete'",
            "args": []
        });
        loop {
            let loaded = match self.http.post(&url).json(&probe).send().await {
                Ok(resp) => resp
                    .json::<Value>()
                    .await
                    .is_ok_and(|v| v["value"] == json!(true)),
                Err(_) => false,
            };
            if loaded {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "waited for {what}: the old page is still there"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the page address satisfies `pred`.
    pub async fn wait_for_url(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let u = self.url().await;
            if pred(&u) {
                return u;
            }
            assert!(Instant::now() < deadline, "waited for {what}; still at {u}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sets the viewport to `width` x `height` CSS pixels; `mobile` also emulates a phone (touch, zoom rules).
    pub async fn viewport(&self, width: u32, height: u32, mobile: bool) {
        self.post(
            "/goog/cdp/execute",
            json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": {
                "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile
            }}),
        )
        .await;
    }

    /// Emulates the system's dark (or light) colour scheme.
    pub async fn dark_mode(&self, dark: bool) {
        let value = if dark { "dark" } else { "light" };
        self.post(
            "/goog/cdp/execute",
            json!({"cmd": "Emulation.setEmulatedMedia", "params": {
                "features": [{"name": "prefers-color-scheme", "value": value}]
            }}),
        )
        .await;
    }

    /// Saves a PNG of the viewport to `dir/name.png`.
    pub async fn screenshot(&self, dir: &Path, name: &str) -> PathBuf {
        let b64 = self.get("/screenshot").await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Ends the WebDriver session (Chromium exits).
    pub async fn quit(&self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send()
            .await;
    }
}

/// Control, as WebDriver names it.
pub const CONTROL: &str = "\u{E009}";
/// Enter, as WebDriver names it.
pub const ENTER: &str = "\u{E007}";
/// Shift, as WebDriver names it.
pub const SHIFT: &str = "\u{E008}";
/// The arrow keys and Backspace, as WebDriver names them.
pub const ARROW_LEFT: &str = "\u{E012}";
/// Right arrow.
pub const ARROW_RIGHT: &str = "\u{E014}";
/// Down arrow.
pub const ARROW_DOWN: &str = "\u{E015}";
/// Backspace.
pub const BACKSPACE: &str = "\u{E003}";

/// Where screenshots land: `target/screenshots/`, looked at by people after a run.
pub fn screenshots_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots")
}

/// Screenshots of the current page at desktop (1280) and phone (375) width, and the check that nothing pushes
/// the page sideways on the phone; the viewport is desktop again afterwards.
pub async fn shoot(b: &Browser, name: &str) {
    let dir = screenshots_dir();
    b.viewport(1280, 800, false).await;
    b.screenshot(&dir, &format!("{name}-desktop")).await;
    b.viewport(375, 812, true).await;
    b.screenshot(&dir, &format!("{name}-phone")).await;
    let fits = b
        .script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
        .await;
    assert_eq!(fits, json!(true), "{name} scrolls sideways at 375 px");
    b.viewport(1280, 800, false).await;
}

/// Signs in through the form with the demo password, signing out of any earlier session first (the sign-out
/// button is on the settings page once signed in).
pub async fn sign_in(b: &Browser, base: &str, email: &str) {
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
    b.type_into("#password", fairloop_app::demo::DEMO_PASSWORD)
        .await;
    b.click("#signin-submit").await;
    b.wait_for_url("the page after sign-in", |u| !u.contains("/signin"))
        .await;
}
