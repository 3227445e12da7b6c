//! The API test harness: the real router on a random port over a fresh database, and a client with one method
//! per endpoint.
//!
//! Every scenario runs on SQLite (a temporary directory) and, when `FAIRLOOP_TEST_DATABASE_URL` is set, again on
//! PostgreSQL, each time on a database of its own (`CREATE DATABASE fl_api_…`, dropped when the scenario passes).
//! With `FAIRLOOP_REQUIRE_POSTGRES=1` a missing URL fails the run instead of skipping PostgreSQL, so a broken CI
//! step cannot hide.

#![allow(dead_code)] // Each test binary uses its own subset of the helpers.

use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};

use fairloop_app::{App, AppConfig};
use fairloop_domain::Role;
use fairloop_web::AppState;
use futures_util::FutureExt;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};

/// The contract's minimal template: the one form that must always work.
pub fn minimal_template() -> Value {
    json!({
        "fields": [{"name": "text", "type": "text"}],
        "questions": [{"name": "label", "type": "single_choice", "options": ["a", "b", "c"], "required": true}]
    })
}

/// A template whose answers are not flat (a pairwise comparison), so CSV export does not apply.
pub fn pairwise_template() -> Value {
    json!({
        "fields": [
            {"name": "prompt", "type": "text"},
            {"name": "response_a", "type": "text"},
            {"name": "response_b", "type": "text"}
        ],
        "questions": [{"name": "preference", "type": "pairwise", "a": "response_a", "b": "response_b", "required": true}]
    })
}

/// Where a scenario's database lives.
#[derive(Debug, Clone)]
pub enum Backend {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on the PostgreSQL server at this URL.
    Postgres(String),
}

/// The backends every scenario runs on.
pub fn backends() -> Vec<Backend> {
    let mut out = vec![Backend::Sqlite];
    match std::env::var("FAIRLOOP_TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => out.push(Backend::Postgres(url)),
        _ if std::env::var("FAIRLOOP_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") => {
            panic!("FAIRLOOP_REQUIRE_POSTGRES=1 but FAIRLOOP_TEST_DATABASE_URL is not set")
        }
        _ => {}
    }
    out
}

/// Runs a scenario once per backend, each time on a fresh server and database.
pub async fn on_every_backend(scenario: impl AsyncFn(TestApp)) {
    on_every_backend_with(AppConfig::default(), scenario).await;
}

/// [`on_every_backend`] with a given application configuration (e.g. a small import limit).
pub async fn on_every_backend_with(config: AppConfig, scenario: impl AsyncFn(TestApp)) {
    for backend in backends() {
        let app = spawn_app_with(&backend, config.clone()).await;
        eprintln!("--- running on {}", app.backend);
        let cleanup = app.pg_database.clone();
        // Catch a failing assertion so the PostgreSQL database is dropped either way, then fail as before.
        let outcome = std::panic::AssertUnwindSafe(scenario(app))
            .catch_unwind()
            .await;
        if let (Backend::Postgres(url), Some(name)) = (&backend, cleanup) {
            drop_postgres_database(url, &name).await;
        }
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }
}

/// A running server and a direct handle on its application (to create users and drive time).
pub struct TestApp {
    /// The HTTP client side.
    pub api: Api,
    /// The same application the server runs, for setup that has no endpoint (users) and for driving jobs.
    pub app: App,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// The database's URL, to open it again as a restarted server would.
    pub db_url: String,
    server: tokio::task::JoinHandle<()>,
    pg_database: Option<String>,
    _dir: tempfile::TempDir,
}

impl Deref for TestApp {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

static NEXT_DB: AtomicU64 = AtomicU64::new(0);

/// Starts the real router on 127.0.0.1:0 with the default configuration over a fresh SQLite database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&Backend::Sqlite, AppConfig::default()).await
}

/// Starts the real router on 127.0.0.1:0 over a fresh database of the given backend.
pub async fn spawn_app_with(backend: &Backend, config: AppConfig) -> TestApp {
    spawn_app_with_media(backend, config, None).await
}

/// [`spawn_app_with`] with a given media store (e.g. an S3 bucket) instead of files in the temporary directory.
#[allow(dead_code)]
pub async fn spawn_app_with_media(
    backend: &Backend,
    config: AppConfig,
    media: Option<fairloop_media::MediaStore>,
) -> TestApp {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (store, pg_database, db_url) = match backend {
        Backend::Sqlite => {
            let url = fairloop_store::sqlite_url_in(dir.path());
            (
                fairloop_store::connect(&url).await.expect("open SQLite"),
                None,
                url,
            )
        }
        Backend::Postgres(url) => {
            let name = create_postgres_database(url).await;
            let (base, _) = url
                .rsplit_once('/')
                .expect("a PostgreSQL URL ends in /DATABASE");
            let db_url = format!("{base}/{name}");
            let store = fairloop_store::connect(&db_url)
                .await
                .expect("connect to PostgreSQL");
            (store, Some(name), db_url)
        }
    };
    let backend_name = store.backend();
    let media = media.unwrap_or_else(|| {
        fairloop_media::MediaStore::local(&dir.path().join("media")).expect("media directory")
    });
    let app = App::new(store, config).with_media(media);
    let tmp_dir = dir.path().join("spool");
    std::fs::create_dir_all(&tmp_dir).expect("spool directory");
    let router = fairloop_web::router(AppState {
        app: app.clone(),
        tmp_dir,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a port");
    let addr = listener.local_addr().expect("local address");
    let server = tokio::spawn(async move {
        axum::serve(listener, router).await.expect("server");
    });
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp {
        api: Api {
            base: format!("http://{addr}"),
            client,
        },
        app,
        backend: backend_name,
        db_url,
        server,
        pg_database,
        _dir: dir,
    }
}

async fn create_postgres_database(url: &str) -> String {
    use sqlx::Connection;
    let n = NEXT_DB.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_nanos();
    let name = format!("fl_api_{}_{nanos:x}_{n}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(url)
        .await
        .expect("connect to the PostgreSQL test server");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("CREATE DATABASE");
    name
}

async fn drop_postgres_database(url: &str, name: &str) {
    use sqlx::Connection;
    let Ok(mut admin) = sqlx::PgConnection::connect(url).await else {
        return;
    };
    // FORCE ends the connections the aborted server's pool may still hold.
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await;
}

/// A user created for a test, with an API token.
#[derive(Debug, Clone)]
pub struct TestUser {
    /// User id.
    pub id: i64,
    /// Organization id.
    pub org_id: i64,
    /// Email.
    pub email: String,
    /// Bearer token.
    pub token: String,
}

impl TestApp {
    /// Creates a user (and the organization if missing) directly on the application.
    pub async fn user(&self, org: &str, email: &str, role: Role) -> TestUser {
        let (user, token) = self
            .app
            .add_user(org, email, email, role, None)
            .await
            .expect("add user");
        TestUser {
            id: user.id,
            org_id: user.org_id,
            email: user.email,
            token,
        }
    }

    /// Files left in the upload spool directory (imports must clean up after themselves).
    pub fn spool_files(&self) -> Vec<std::path::PathBuf> {
        std::fs::read_dir(self._dir.path().join("spool"))
            .expect("spool directory")
            .map(|e| e.expect("spool entry").path())
            .collect()
    }

    /// Files in the local media store (uploads must leave nothing behind when they fail).
    pub fn media_files(&self) -> Vec<std::path::PathBuf> {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    out.push(p);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self._dir.path().join("media"), &mut out);
        out
    }

    /// A client for another task (the server is shared).
    pub fn api(&self) -> Api {
        self.api.clone()
    }
}

/// The HTTP client: one method per endpoint, each returning the raw response.
#[derive(Debug, Clone)]
pub struct Api {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The client.
    pub client: reqwest::Client,
}

impl Api {
    /// The full URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Any request with the bearer `token` and, if given, a JSON body: for endpoints without a method here.
    pub async fn send(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut r = self.req(method, path, token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        r.send().await.expect("request")
    }

    /// `POST path` with the bearer `token` and a JSON body.
    pub async fn post(&self, token: &str, path: &str, body: Value) -> reqwest::Response {
        self.send(reqwest::Method::POST, token, path, Some(body))
            .await
    }

    fn req(&self, method: reqwest::Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .header(AUTHORIZATION, format!("Bearer {token}"))
    }

    /// GET without credentials.
    pub async fn get_anon(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// GET with a token.
    pub async fn get(&self, token: &str, path: &str) -> reqwest::Response {
        self.req(reqwest::Method::GET, path, token)
            .send()
            .await
            .expect("request")
    }

    /// POST /api/v1/projects.
    pub async fn create_project(&self, token: &str, body: &Value) -> reqwest::Response {
        self.req(reqwest::Method::POST, "/api/v1/projects", token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// Creates a project and returns its id (asserting 201).
    pub async fn project(&self, token: &str, body: Value) -> i64 {
        let r = self.create_project(token, &body).await;
        let body = expect_status(r, StatusCode::CREATED).await;
        body["id"].as_i64().expect("project id")
    }

    /// GET /api/v1/projects/{id}.
    pub async fn get_project(&self, token: &str, project: i64) -> reqwest::Response {
        self.get(token, &format!("/api/v1/projects/{project}"))
            .await
    }

    /// POST /api/v1/projects/{id}/items with JSON Lines; `mode` is the query parameter, if any.
    pub async fn import_jsonl(
        &self,
        token: &str,
        project: i64,
        body: &str,
        mode: Option<&str>,
    ) -> reqwest::Response {
        self.import(
            token,
            project,
            "application/x-ndjson",
            body.as_bytes().to_vec(),
            mode,
        )
        .await
    }

    /// Imports JSON Lines items into `project` and checks they were all taken (201): the set-up most tests need.
    pub async fn items(&self, token: &str, project: i64, jsonl: &str) {
        expect_status(
            self.import_jsonl(token, project, jsonl, None).await,
            StatusCode::CREATED,
        )
        .await;
    }

    /// POST /api/v1/projects/{id}/items with CSV.
    pub async fn import_csv(
        &self,
        token: &str,
        project: i64,
        body: &str,
        mode: Option<&str>,
    ) -> reqwest::Response {
        self.import(token, project, "text/csv", body.as_bytes().to_vec(), mode)
            .await
    }

    /// POST /api/v1/projects/{id}/items with any content type and body.
    pub async fn import(
        &self,
        token: &str,
        project: i64,
        content_type: &str,
        body: Vec<u8>,
        mode: Option<&str>,
    ) -> reqwest::Response {
        let path = match mode {
            Some(m) => format!("/api/v1/projects/{project}/items?mode={m}"),
            None => format!("/api/v1/projects/{project}/items"),
        };
        self.req(reqwest::Method::POST, &path, token)
            .header(CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .expect("request")
    }

    /// GET /api/v1/projects/{id}/stats.
    pub async fn stats(&self, token: &str, project: i64) -> reqwest::Response {
        self.get(token, &format!("/api/v1/projects/{project}/stats"))
            .await
    }

    /// The stats as JSON (asserting 200).
    pub async fn stats_json(&self, token: &str, project: i64) -> Value {
        expect_status(self.stats(token, project).await, StatusCode::OK).await
    }

    /// GET /api/v1/projects/{id}/export?format=F.
    pub async fn export(&self, token: &str, project: i64, format: &str) -> reqwest::Response {
        self.get(
            token,
            &format!("/api/v1/projects/{project}/export?format={format}"),
        )
        .await
    }

    /// The JSONL export parsed line by line (asserting 200).
    pub async fn export_jsonl(&self, token: &str, project: i64) -> Vec<Value> {
        let r = self.export(token, project, "jsonl").await;
        assert_eq!(r.status(), StatusCode::OK);
        let text = r.text().await.expect("export body");
        text.lines()
            .map(|l| serde_json::from_str(l).expect("each export line is JSON"))
            .collect()
    }

    /// POST /api/v1/projects/{id}/assignments/next.
    pub async fn next(&self, token: &str, project: i64) -> reqwest::Response {
        self.req(
            reqwest::Method::POST,
            &format!("/api/v1/projects/{project}/assignments/next"),
            token,
        )
        .send()
        .await
        .expect("request")
    }

    /// Claims the next task, asserting 200, and returns the body.
    pub async fn claim(&self, token: &str, project: i64) -> Value {
        expect_status(self.next(token, project).await, StatusCode::OK).await
    }

    /// POST /api/v1/assignments/{id}/submit with `{"answers": answers}`.
    pub async fn submit(
        &self,
        token: &str,
        assignment: i64,
        answers: Value,
        key: Option<&str>,
    ) -> reqwest::Response {
        let mut r = self
            .req(
                reqwest::Method::POST,
                &format!("/api/v1/assignments/{assignment}/submit"),
                token,
            )
            .json(&json!({ "answers": answers }));
        if let Some(k) = key {
            r = r.header("Idempotency-Key", k);
        }
        r.send().await.expect("request")
    }

    /// POST /api/v1/assignments/{id}/submit with a raw JSON body.
    pub async fn submit_raw(&self, token: &str, assignment: i64, body: &str) -> reqwest::Response {
        self.req(
            reqwest::Method::POST,
            &format!("/api/v1/assignments/{assignment}/submit"),
            token,
        )
        .header(CONTENT_TYPE, "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("request")
    }

    /// POST /api/v1/assignments/{id}/skip.
    pub async fn skip(&self, token: &str, assignment: i64, reason: &str) -> reqwest::Response {
        self.req(
            reqwest::Method::POST,
            &format!("/api/v1/assignments/{assignment}/skip"),
            token,
        )
        .json(&json!({ "reason": reason }))
        .send()
        .await
        .expect("request")
    }

    /// GET /api/v1/me.
    pub async fn me(&self, token: &str) -> reqwest::Response {
        self.get(token, "/api/v1/me").await
    }

    /// POST /api/v1/me/tokens.
    pub async fn create_token(&self, token: &str, label: &str) -> reqwest::Response {
        self.req(reqwest::Method::POST, "/api/v1/me/tokens", token)
            .json(&json!({ "label": label }))
            .send()
            .await
            .expect("request")
    }

    /// DELETE /api/v1/me/tokens/{id}.
    pub async fn revoke_token(&self, token: &str, id: i64) -> reqwest::Response {
        self.req(
            reqwest::Method::DELETE,
            &format!("/api/v1/me/tokens/{id}"),
            token,
        )
        .send()
        .await
        .expect("request")
    }

    /// POST /api/v1/users.
    pub async fn create_user(&self, token: &str, body: &Value) -> reqwest::Response {
        self.req(reqwest::Method::POST, "/api/v1/users", token)
            .json(body)
            .send()
            .await
            .expect("request")
    }
}

/// Asserts the status and returns the body as JSON (`null` for an empty body).
pub async fn expect_status(r: reqwest::Response, status: StatusCode) -> Value {
    let got = r.status();
    let url = r.url().clone();
    let text = r.text().await.expect("response body");
    assert_eq!(got, status, "{url}: unexpected status; body: {text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    }
}

/// Asserts an error response: the status, the code, and the documented body shape
/// `{"error":{"code":…, "message":…, "details"?:…}}` with nothing else in it. Returns `error`.
pub async fn expect_error(r: reqwest::Response, status: StatusCode, code: &str) -> Value {
    let got = r.status();
    let url = r.url().clone();
    let content_type = r
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = r.text().await.expect("response body");
    assert_eq!(got, status, "{url}: unexpected status; body: {text}");
    assert!(
        content_type.starts_with("application/json"),
        "{url}: error content type is {content_type:?}"
    );
    let body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{url}: error body is not JSON ({e}): {text}"));
    assert_error_shape(&body);
    assert_eq!(
        body["error"]["code"], code,
        "{url}: unexpected error code; body: {text}"
    );
    body["error"].clone()
}

/// The documented error body: exactly one key `error`, holding a snake_case `code`, a non-empty `message` and
/// optional `details`.
pub fn assert_error_shape(body: &Value) {
    let obj = body
        .as_object()
        .unwrap_or_else(|| panic!("error body is not an object: {body}"));
    assert_eq!(
        obj.len(),
        1,
        "error body has keys besides \"error\": {body}"
    );
    let err = body["error"]
        .as_object()
        .unwrap_or_else(|| panic!("no \"error\" object: {body}"));
    let code = err
        .get("code")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no error.code: {body}"));
    assert!(
        !code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
        "error.code is not snake_case: {code:?}"
    );
    let message = err
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no error.message: {body}"));
    assert!(!message.trim().is_empty(), "error.message is empty: {body}");
    for key in err.keys() {
        assert!(
            ["code", "message", "details"].contains(&key.as_str()),
            "unexpected key error.{key}: {body}"
        );
    }
}

/// JSON Lines of `{"id":"<prefix><i>","data":{"text":…}}` for `i` in `range`.
pub fn jsonl_items(prefix: &str, range: std::ops::Range<usize>) -> String {
    range
        .map(|i| format!("{{\"id\":\"{prefix}{i}\",\"data\":{{\"text\":\"text {i}\"}}}}\n"))
        .collect()
}

/// The password of users made by [`TestApp::page_session`].
pub const PAGE_PASSWORD: &str = "a long test password";

/// A signed-in web session without a browser (its cookie and CSRF token), for tests of server-rendered pages.
pub struct PageSession {
    pub api: Api,
    pub cookie: String,
    pub csrf: String,
}

impl PageSession {
    /// A page, as the status and the HTML.
    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = self
            .api
            .client
            .get(self.api.url(path))
            .header(reqwest::header::COOKIE, &self.cookie)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    /// Posts a form with the session's CSRF token in front of `form`, as the pages' forms do.
    pub async fn post(&self, path: &str, form: &str) -> reqwest::Response {
        self.post_raw(path, &format!("_csrf={}&{form}", self.csrf))
            .await
    }

    /// Posts `form` exactly as given: for tests of a missing or forged CSRF token.
    pub async fn post_raw(&self, path: &str, form: &str) -> reqwest::Response {
        self.api
            .client
            .post(self.api.url(path))
            .header(reqwest::header::COOKIE, &self.cookie)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(form.to_string())
            .send()
            .await
            .unwrap()
    }
}

impl TestApp {
    /// Adds a user with [`PAGE_PASSWORD`] and signs them in: their page session and an API token.
    pub async fn page_session(&self, org: &str, email: &str, role: Role) -> (PageSession, String) {
        let (_, token) = self
            .app
            .add_user(org, email, email, role, Some(PAGE_PASSWORD))
            .await
            .unwrap();
        (self.sign_in_page(email, PAGE_PASSWORD).await, token)
    }

    /// Signs an existing user in with their password: their page session.
    pub async fn sign_in_page(&self, email: &str, password: &str) -> PageSession {
        let s = self.app.sign_in(email, password, None).await.unwrap();
        PageSession {
            api: self.api(),
            cookie: format!("fl_session={}", s.session_token),
            csrf: s.csrf_token,
        }
    }
}
/// A form body as a browser posts it (`application/x-www-form-urlencoded`), for page tests.
pub fn form(fields: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(fields).expect("form fields encode")
}

/// The value of the cookie `name` that a response sets, if it sets one.
pub fn cookie_value(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .find_map(|v| {
            let (k, v) = v.to_str().ok()?.split(';').next()?.split_once('=')?;
            (k == name).then(|| v.to_string())
        })
}

/// The CSRF token in a page's first form.
pub fn csrf_of(body: &str) -> String {
    let start = body
        .find("name=\"_csrf\" value=\"")
        .expect("a form with a CSRF field")
        + 20;
    body[start..start + 64].to_string()
}

/// A browser signed in through the sign-in form, as a person does (the form's CSRF cookie, then the session
/// cookie), whose posts carry fields and answer the status, the redirect target and the body: for page tests that
/// walk the forms. ([`PageSession`] skips the sign-in form.)
pub struct FormBrowser {
    api: Api,
    session: String,
    csrf: String,
}

impl FormBrowser {
    /// Signs in with the form; the session's CSRF token is read from the first form of `csrf_page`.
    pub async fn sign_in(api: &Api, email: &str, password: &str, csrf_page: &str) -> FormBrowser {
        let form = api.client.get(api.url("/signin")).send().await.unwrap();
        let token = cookie_value(&form, "fl_signin_csrf").expect("sign-in CSRF cookie");
        let body = serde_urlencoded::to_string([
            ("_csrf", token.as_str()),
            ("email", email),
            ("password", password),
            ("next", ""),
        ])
        .unwrap();
        let r = api
            .client
            .post(api.url("/signin"))
            .header(reqwest::header::COOKIE, format!("fl_signin_csrf={token}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "signing in {email}");
        let mut b = FormBrowser {
            api: api.clone(),
            session: cookie_value(&r, "fl_session").expect("session cookie"),
            csrf: String::new(),
        };
        let (_, page) = b.get(csrf_page).await;
        b.csrf = csrf_of(&page);
        b
    }

    /// A page, as the status and the HTML.
    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = self
            .api
            .client
            .get(self.api.url(path))
            .header(
                reqwest::header::COOKIE,
                format!("fl_session={}", self.session),
            )
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    /// Posts a form (the CSRF field is added); answers the status, the redirect target and the body.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String, String) {
        let mut all = vec![("_csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        let r = self
            .api
            .client
            .post(self.api.url(path))
            .header(
                reqwest::header::COOKIE,
                format!("fl_session={}", self.session),
            )
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(&all).unwrap())
            .send()
            .await
            .unwrap();
        let to = r
            .headers()
            .get(reqwest::header::LOCATION)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (r.status(), to, r.text().await.unwrap())
    }
}
