//! The web app's behaviour through the real router, in process, over a fresh SQLite database with the demo
//! organization: sign-in, sessions, CSRF, the rate limit, tenant isolation, escaping and the workbench forms.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use fairloop_app::demo::DEMO_PASSWORD;
use fairloop_app::projects::CreateProject;
use fairloop_app::{App, AppConfig};
use fairloop_domain::Role;
use fairloop_store::{NewItem, Principal};
use serde_json::json;
use tower::ServiceExt;

use crate::AppState;

const WORKER: &str = "worker1@demo.fairloop.test";
const REQUESTER: &str = "requester@demo.fairloop.test";

struct T {
    app: App,
    router: Router,
    _dir: tempfile::TempDir,
}

struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Resp {
    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    /// The value a `Set-Cookie` header gives `name`.
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                v.split(';')
                    .next()?
                    .split_once('=')
                    .filter(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            })
    }

    /// The CSRF token in the page's first form.
    fn csrf(&self) -> String {
        let start = self
            .body
            .find("name=\"_csrf\" value=\"")
            .expect("a form with a CSRF field")
            + 20;
        self.body[start..start + 64].to_string()
    }
}

async fn setup() -> T {
    let dir = tempfile::tempdir().unwrap();
    let store = fairloop_store::connect(&fairloop_store::sqlite_url_in(dir.path()))
        .await
        .unwrap();
    let app = App::new(store, AppConfig::default());
    app.seed_demo().await.unwrap();
    let router = crate::router(AppState {
        app: app.clone(),
        tmp_dir: dir.path().to_path_buf(),
    });
    T {
        app,
        router,
        _dir: dir,
    }
}

impl T {
    async fn req(
        &self,
        method: &str,
        uri: &str,
        cookies: &[(&str, &str)],
        form: Option<&str>,
    ) -> Resp {
        let mut b = Request::builder().method(method).uri(uri);
        if !cookies.is_empty() {
            let c: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            b = b.header(header::COOKIE, c.join("; "));
        }
        let body = match form {
            Some(f) => {
                b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Body::from(f.to_string())
            }
            None => Body::empty(),
        };
        let resp = self
            .router
            .clone()
            .oneshot(b.body(body).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24)
            .await
            .unwrap();
        Resp {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&self, uri: &str, session: &str) -> Resp {
        self.req("GET", uri, &[("fl_session", session)], None).await
    }

    /// "Start" on a project as a browser does it: the GET goes to a held item, or serves the start page whose
    /// form (posted by `autostart.js` in a browser) takes the next one.
    async fn start(&self, project: i64, session: &str) -> Resp {
        let page = self.get(&format!("/work/{project}"), session).await;
        if page.status != StatusCode::OK || !page.body.contains("id=\"start-form\"") {
            return page;
        }
        let csrf = page.csrf();
        self.post(
            &format!("/work/{project}"),
            session,
            &format!("_csrf={csrf}"),
        )
        .await
    }

    async fn post(&self, uri: &str, session: &str, form: &str) -> Resp {
        self.req("POST", uri, &[("fl_session", session)], Some(form))
            .await
    }

    /// Posts the sign-in form; `previous` is a session cookie the browser already has.
    async fn try_sign_in(
        &self,
        email: &str,
        password: &str,
        previous: Option<&str>,
        next: &str,
    ) -> Resp {
        let form = self.req("GET", "/signin", &[], None).await;
        assert_eq!(form.status, StatusCode::OK);
        let token = form.cookie("fl_signin_csrf").unwrap();
        assert_eq!(form.csrf(), token);
        let mut cookies = vec![("fl_signin_csrf", token.as_str())];
        if let Some(p) = previous {
            cookies.push(("fl_session", p));
        }
        let body = format!(
            "_csrf={token}&email={}&password={}&next={}",
            super::render::url_encode(email),
            super::render::url_encode(password),
            super::render::url_encode(next)
        );
        self.req("POST", "/signin", &cookies, Some(&body)).await
    }

    /// Signs in and answers the session cookie and the session's CSRF token.
    async fn sign_in(&self, email: &str) -> (String, String) {
        let r = self.try_sign_in(email, DEMO_PASSWORD, None, "").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let session = r.cookie("fl_session").unwrap();
        let page = self.get("/", &session).await;
        let page = if page.status == StatusCode::SEE_OTHER {
            self.get(page.location(), &session).await
        } else {
            page
        };
        (session.clone(), page.csrf())
    }

    async fn principal(&self, email: &str) -> Principal {
        let u = self.app.store.user_by_email(email).await.unwrap().unwrap();
        Principal {
            user_id: u.id,
            org_id: u.org_id,
            role: u.role,
            email: u.email,
        }
    }

    async fn project_id(&self, name: &str) -> i64 {
        let r = self.principal(REQUESTER).await;
        self.app
            .store
            .project_by_name(r.org_id, name)
            .await
            .unwrap()
            .unwrap()
            .id
    }

    /// A project with one question and the given item texts, created by `owner`.
    async fn project_with_items(&self, owner: &Principal, name: &str, texts: &[&str]) -> i64 {
        let p = self
            .app
            .create_project(
                owner,
                CreateProject {
                    name: name.into(),
                    template: json!({
                        "fields": [{"name": "text", "type": "text"}],
                        "questions": [{"name": "label", "type": "single_choice", "options": ["a", "b"], "required": true}]
                    }),
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
            .unwrap();
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        tx.send(
            texts
                .iter()
                .map(|t| NewItem {
                    external_id: None,
                    data: json!({ "text": t }).to_string(),
                    priority: 0,
                    gold: None,
                    sensitivity: 0,
                    own_sensitivity: 0,
                })
                .collect(),
        )
        .await
        .unwrap();
        drop(tx);
        self.app
            .store
            .import_items(owner.org_id, p.id, rx, true)
            .await
            .unwrap();
        p.id
    }
}

#[tokio::test]
async fn sign_in_rotates_the_session_and_sign_out_ends_it() {
    let t = setup().await;
    let (a, csrf_a) = t.sign_in(WORKER).await;
    assert_eq!(t.get("/", &a).await.status, StatusCode::OK);

    // Signing in again with session A brings a new id and ends A (no fixation, no old session left behind).
    let r = t.try_sign_in(WORKER, DEMO_PASSWORD, Some(&a), "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let b = r.cookie("fl_session").unwrap();
    assert_ne!(a, b);
    let old = t.get("/", &a).await;
    assert_eq!(old.status, StatusCode::SEE_OTHER);
    assert_eq!(old.location(), "/signin");
    let set = r
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect::<Vec<_>>();
    let session_cookie = set.iter().find(|c| c.starts_with("fl_session=")).unwrap();
    assert!(session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Lax"));
    assert!(
        !session_cookie.contains("Secure"),
        "plain http gets no Secure flag"
    );

    // A's CSRF token is not B's: posting sign-out with it is refused and B stays signed in.
    let csrf_b = t.get("/", &b).await.csrf();
    assert_ne!(csrf_a, csrf_b);
    let refused = t.post("/signout", &b, &format!("_csrf={csrf_a}")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(t.get("/", &b).await.status, StatusCode::OK);

    let out = t.post("/signout", &b, &format!("_csrf={csrf_b}")).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/signin");
    assert!(out.cookie("fl_session").is_some_and(|v| v.is_empty()));
    // The session is gone on the server, not only in the browser.
    assert_eq!(t.get("/", &b).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn sign_in_over_https_sets_a_secure_cookie() {
    let t = setup().await;
    let form = t.req("GET", "/signin", &[], None).await;
    let token = form.cookie("fl_signin_csrf").unwrap();
    let req = Request::post("/signin")
        .header(header::COOKIE, format!("fl_signin_csrf={token}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-forwarded-proto", "https")
        .body(Body::from(format!(
            "_csrf={token}&email={WORKER}&password={DEMO_PASSWORD}"
        )))
        .unwrap();
    let resp = t.router.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let cookie = resp
        .headers()
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        cookie.starts_with("fl_session=") && cookie.contains("; Secure"),
        "{cookie}"
    );
}

#[tokio::test]
async fn wrong_passwords_are_refused_and_then_rate_limited() {
    let t = setup().await;
    let r = t.try_sign_in(WORKER, "not-the-password", None, "").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        r.body.contains("the email or password is wrong"),
        "{}",
        r.body
    );
    assert!(r.cookie("fl_session").is_none());
    // Unknown emails read the same, so sign-in does not reveal who has an account.
    let r = t
        .try_sign_in("nobody@demo.fairloop.test", "whatever-it-is", None, "")
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains("the email or password is wrong"));

    for _ in 0..4 {
        assert_eq!(
            t.try_sign_in(WORKER, "still-wrong", None, "").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    // Five failures: even the right password now waits.
    let limited = t.try_sign_in(WORKER, DEMO_PASSWORD, None, "").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers.contains_key(header::RETRY_AFTER));
    assert!(limited.body.contains("Too many failed sign-ins"));
    assert!(limited.cookie("fl_session").is_none());
    // Other accounts are not affected.
    let other = t
        .try_sign_in("worker2@demo.fairloop.test", DEMO_PASSWORD, None, "")
        .await;
    assert_eq!(other.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn forms_without_a_valid_csrf_token_change_nothing() {
    let t = setup().await;
    // Sign-in: the form's token must match its cookie.
    let r = t
        .req(
            "POST",
            "/signin",
            &[("fl_signin_csrf", "a".repeat(64).as_str())],
            Some(&format!(
                "_csrf={}&email={WORKER}&password={DEMO_PASSWORD}",
                "b".repeat(64)
            )),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.cookie("fl_session").is_none());
    let r = t
        .req(
            "POST",
            "/signin",
            &[],
            Some(&format!("email={WORKER}&password={DEMO_PASSWORD}")),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Submitting answers without the token saves nothing.
    let (s, _) = t.sign_in(WORKER).await;
    let pid = t.project_id("Classify product reviews").await;
    let claim = t.start(pid, &s).await;
    assert_eq!(claim.status, StatusCode::SEE_OTHER);
    let bench = claim.location().to_string();
    let before = t
        .app
        .store
        .project_stats(t.principal(REQUESTER).await.org_id, pid)
        .await
        .unwrap();
    let r = t.post(&bench, &s, "q.sentiment=pos").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = t.post(&bench, &s, "_csrf=wrong&q.sentiment=pos").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let after = t
        .app
        .store
        .project_stats(t.principal(REQUESTER).await.org_id, pid)
        .await
        .unwrap();
    assert_eq!(before.annotations, after.annotations);
}

#[tokio::test]
async fn pages_need_a_session_and_next_stays_on_this_site() {
    let t = setup().await;
    let r = t.req("GET", "/work/1", &[], None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/signin?next=%2Fwork%2F1");
    let r = t
        .req("GET", "/projects", &[("fl_session", "forged")], None)
        .await;
    assert_eq!(r.location(), "/signin?next=%2Fprojects");

    let r = t.try_sign_in(WORKER, DEMO_PASSWORD, None, "/work/1").await;
    assert_eq!(r.location(), "/work/1");
    for evil in ["//evil.test/x", "https://evil.test", "/\\evil.test"] {
        let r = t.try_sign_in(WORKER, DEMO_PASSWORD, None, evil).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(r.location(), "/", "{evil}");
    }
}

#[tokio::test]
async fn ui_pages_carry_a_strict_csp_and_the_api_keeps_its_own() {
    let t = setup().await;
    let (s, _) = t.sign_in(WORKER).await;
    for uri in ["/signin", "/", "/assets/app.css"] {
        let r = t.get(uri, &s).await;
        let csp = r
            .headers
            .get(header::CONTENT_SECURITY_POLICY)
            .unwrap()
            .to_str()
            .unwrap();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("style-src 'self'"),
            "{uri}: {csp}"
        );
        assert!(
            !csp.contains("unsafe-inline") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        assert_eq!(
            r.headers.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(),
            "nosniff"
        );
    }
    let home = t.get("/", &s).await;
    assert!(
        !home.body.contains("<script>") && !home.body.contains("style="),
        "no inline script or style"
    );
    let api = t.req("GET", "/api/v1/projects", &[], None).await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    assert!(api.headers.get(header::CONTENT_SECURITY_POLICY).is_some());
    assert_eq!(
        t.req("GET", "/assets/nope.js", &[], None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_workbench_claims_validates_and_submits() {
    let t = setup().await;
    let (s, csrf) = t.sign_in(WORKER).await;
    let pid = t.project_id("Classify product reviews").await;
    let org = t.principal(REQUESTER).await.org_id;

    let home = t.get("/", &s).await;
    assert!(home.body.contains("Classify product reviews") && home.body.contains("$0.08 per task"));
    assert!(home.body.contains(&format!("href=\"/work/{pid}\"")));

    let claim = t.start(pid, &s).await;
    let bench_url = claim.location().to_string();
    assert!(
        bench_url.starts_with(&format!("/work/{pid}/")),
        "{bench_url}"
    );
    let page = t.get(&bench_url, &s).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("What is the sentiment of this review?"));
    assert!(
        page.body
            .contains("<kbd aria-hidden=\"true\">1</kbd><span>Positive</span>")
    );
    assert!(page.body.contains(" left</span>"));
    // A reload shows the same item (the lease is in the URL).
    assert_eq!(t.get(&bench_url, &s).await.body, page.body);

    // Nothing chosen: 422, the form again with the error next to the question, nothing saved.
    let before = t
        .app
        .store
        .project_stats(org, pid)
        .await
        .unwrap()
        .annotations;
    let r = t.post(&bench_url, &s, &format!("_csrf={csrf}")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"err-sentiment\""), "{}", r.body);
    // An option that does not exist: the same, and the server keeps what was sent.
    let r = t
        .post(&bench_url, &s, &format!("_csrf={csrf}&q.sentiment=maybe"))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        t.app
            .store
            .project_stats(org, pid)
            .await
            .unwrap()
            .annotations,
        before
    );

    let r = t
        .post(&bench_url, &s, &format!("_csrf={csrf}&q.sentiment=neg"))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), format!("/work/{pid}"));
    assert_eq!(
        t.app
            .store
            .project_stats(org, pid)
            .await
            .unwrap()
            .annotations,
        before + 1
    );
    // Posting the same form again (a double click) moves on instead of failing.
    let again = t
        .post(&bench_url, &s, &format!("_csrf={csrf}&q.sentiment=neg"))
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(
        t.app
            .store
            .project_stats(org, pid)
            .await
            .unwrap()
            .annotations,
        before + 1
    );

    // Skip gives the next item back.
    let next = t.start(pid, &s).await.location().to_string();
    assert_ne!(next, bench_url);
    let r = t
        .post(&format!("{next}/skip"), &s, &format!("_csrf={csrf}"))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        t.app
            .store
            .project_stats(org, pid)
            .await
            .unwrap()
            .skipped_assignments,
        1
    );
}

#[tokio::test]
async fn nothing_left_is_a_page_of_its_own() {
    let t = setup().await;
    let req = t.principal(REQUESTER).await;
    let pid = t.project_with_items(&req, "Tiny", &["only one"]).await;
    let (s, csrf) = t.sign_in(WORKER).await;
    let bench = t.start(pid, &s).await.location().to_string();
    t.post(&bench, &s, &format!("_csrf={csrf}&q.label=a")).await;
    let done = t.start(pid, &s).await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.body.contains("id=\"nothing-left\""));
}

#[tokio::test]
async fn other_organizations_projects_are_not_found() {
    let t = setup().await;
    let (other, _) = t
        .app
        .add_user(
            "Other Lab",
            "boss@other.test",
            "Boss",
            Role::Requester,
            Some("other-password"),
        )
        .await
        .unwrap();
    let other = Principal {
        user_id: other.id,
        org_id: other.org_id,
        role: other.role,
        email: other.email,
    };
    let foreign = t.project_with_items(&other, "Secret", &["private"]).await;
    let (w, _) = t.sign_in(WORKER).await;
    let r = t.start(foreign, &w).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!r.body.contains("Secret"));
    assert_eq!(
        t.get("/work/not-a-number", &w).await.status,
        StatusCode::NOT_FOUND
    );
    let (rq, _) = t.sign_in(REQUESTER).await;
    assert_eq!(
        t.get(&format!("/projects/{foreign}/export?format=jsonl"), &rq)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(!t.get("/projects", &rq).await.body.contains("Secret"));
}

#[tokio::test]
async fn item_data_is_escaped_and_markdown_sanitised() {
    let t = setup().await;
    let req = t.principal(REQUESTER).await;
    let pid = t
        .project_with_items(
            &req,
            "XSS <b>probe</b>",
            &["<script>alert(1)</script><img src=x onerror=alert(1)>"],
        )
        .await;
    let (s, _) = t.sign_in(WORKER).await;
    let bench = t.start(pid, &s).await.location().to_string();
    let page = t.get(&bench, &s).await;
    assert!(
        page.body
            .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script>alert(1)"));
    assert!(!page.body.contains("<img src=x"));
    assert!(page.body.contains("XSS &lt;b&gt;probe"));

    // The demo's Markdown answers render as HTML (bold, code) but nothing executable survives.
    let pair = t.project_id("Compare two LLM answers").await;
    let bench = t.start(pair, &s).await.location().to_string();
    let page = t.get(&bench, &s).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("class=\"markdown\""));
    assert!(
        page.body
            .contains("Which response is better, and by how much?")
    );
}

#[tokio::test]
async fn the_console_shows_progress_to_requesters_only() {
    let t = setup().await;
    let (w, _) = t.sign_in(WORKER).await;
    assert_eq!(t.get("/projects", &w).await.status, StatusCode::FORBIDDEN);
    let (r, _) = t.sign_in(REQUESTER).await;
    // A requester does not work; their home is the console.
    let home = t.get("/", &r).await;
    assert_eq!(home.location(), "/projects");
    let page = t.get("/projects", &r).await;
    assert_eq!(page.status, StatusCode::OK);
    let pid = t.project_id("Classify product reviews").await;
    assert!(page.body.contains(&format!("data-project=\"{pid}\"")));
    assert!(page.body.contains("<progress max=\"100\" value=\""));
    // The demo's 30 answers (12 each by two of the lab's workers, 3 each by the vendor's two) over 60 items x 3.
    assert!(page.body.contains("16%"), "{}", page.body);
    let export = t
        .get(&format!("/projects/{pid}/export?format=jsonl"), &r)
        .await;
    assert_eq!(export.status, StatusCode::OK);
    assert_eq!(export.body.lines().count(), 60);
    assert!(
        export
            .headers
            .get(header::CONTENT_DISPOSITION)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    // Workers cannot export.
    assert_eq!(
        t.get(&format!("/projects/{pid}/export?format=jsonl"), &w)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

/// The session cookie of a redirect that rotated the session.
fn new_session(r: &Resp) -> String {
    r.cookie("fl_session").expect("a new session cookie")
}

#[tokio::test]
async fn password_change_checks_the_current_one_and_ends_other_sessions() {
    let t = setup().await;
    let (s, csrf) = t.sign_in(WORKER).await;
    let (other, _) = t.sign_in(WORKER).await;
    let page = t.get("/settings", &s).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("href=\"/settings\" id=\"nav-settings\" aria-current=\"page\"")
    );
    assert!(page.body.contains("Change your password") && page.body.contains("API tokens"));
    assert!(!page.body.contains("style=") && !page.body.contains("<script>"));

    let new_pw = "a much longer secret";
    let form = |current: &str, new: &str, confirm: &str| {
        format!(
            "_csrf={csrf}&current_password={}&new_password={}&confirm_password={}",
            super::render::url_encode(current),
            super::render::url_encode(new),
            super::render::url_encode(confirm)
        )
    };
    // A wrong current password, a mismatch and a short one change nothing.
    let r = t
        .post(
            "/settings/password",
            &s,
            &form("not it at all", new_pw, new_pw),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("id=\"password-error\""), "{}", r.body);
    let r = t
        .post(
            "/settings/password",
            &s,
            &form(DEMO_PASSWORD, new_pw, "something else"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("not the same"));
    let r = t
        .post(
            "/settings/password",
            &s,
            &form(DEMO_PASSWORD, "short", "short"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains(&format!(
        "at least {} characters",
        fairloop_app::users::MIN_PASSWORD_LEN
    )));
    assert_eq!(t.get("/", &other).await.status, StatusCode::OK);
    assert_eq!(
        t.try_sign_in(WORKER, DEMO_PASSWORD, None, "").await.status,
        StatusCode::SEE_OTHER
    );

    // The right one: 303 with a rotated session; the old cookie and every other session are gone.
    let r = t
        .post(
            "/settings/password",
            &s,
            &form(DEMO_PASSWORD, new_pw, new_pw),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/settings?done=password");
    let rotated = new_session(&r);
    assert_ne!(rotated, s);
    assert_eq!(t.get("/", &s).await.status, StatusCode::SEE_OTHER);
    assert_eq!(t.get("/", &other).await.status, StatusCode::SEE_OTHER);
    let done = t.get("/settings?done=password", &rotated).await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.body.contains("id=\"settings-notice\""));

    // The new password signs in; the old one does not.
    assert_eq!(
        t.try_sign_in(WORKER, DEMO_PASSWORD, None, "").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        t.try_sign_in(WORKER, new_pw, None, "").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn tokens_are_created_listed_and_revoked_from_the_settings_page() {
    let t = setup().await;
    let (s, csrf) = t.sign_in(WORKER).await;
    let r = t
        .post(
            "/settings/tokens",
            &s,
            &format!("_csrf={csrf}&label=my+%3Cb%3Elaptop"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    assert!(r.body.contains("will not be shown again"));
    let start = r.body.find("id=\"new-token-value\"").unwrap();
    let vstart = r.body[start..].find("value=\"").unwrap() + start + 7;
    let token = r.body[vstart..vstart + 51].to_string();
    assert!(token.starts_with("fl_"), "{token}");
    // The label is escaped; the token works on the API.
    assert!(r.body.contains("my &lt;b&gt;laptop"));
    let me = |token: String| {
        let router = t.router.clone();
        async move {
            let req = Request::builder()
                .uri("/api/v1/me")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap();
            router.oneshot(req).await.unwrap().status()
        }
    };
    assert_eq!(me(token.clone()).await, StatusCode::OK);

    // The list shows label and status, never the token; a reload does not show it again.
    let page = t.get("/settings", &s).await;
    assert!(page.body.contains("my &lt;b&gt;laptop") && page.body.contains("Active"));
    assert!(!page.body.contains(&token));
    assert!(!page.body.contains(&fairloop_app::auth::hash_token(&token)));
    let p = t.principal(WORKER).await;
    let id = t
        .app
        .my_tokens(&p)
        .await
        .unwrap()
        .into_iter()
        .find(|x| x.label == "my <b>laptop")
        .unwrap()
        .id;

    // An empty label is refused.
    let r = t
        .post("/settings/tokens", &s, &format!("_csrf={csrf}&label=+"))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"token-error\""));

    // Another user (even in the same organization) cannot revoke it.
    let (s2, csrf2) = t.sign_in("worker2@demo.fairloop.test").await;
    let r = t
        .post(
            &format!("/settings/tokens/{id}/revoke"),
            &s2,
            &format!("_csrf={csrf2}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(me(token.clone()).await, StatusCode::OK);
    let r = t
        .post("/settings/tokens/abc/revoke", &s, &format!("_csrf={csrf}"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // I can; it stops working at once, and a second click just comes back.
    let r = t
        .post(
            &format!("/settings/tokens/{id}/revoke"),
            &s,
            &format!("_csrf={csrf}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/settings?done=revoked");
    assert_eq!(me(token.clone()).await, StatusCode::UNAUTHORIZED);
    let page = t.get("/settings?done=revoked", &s).await;
    assert!(page.body.contains("Revoked "));
    let r = t
        .post(
            &format!("/settings/tokens/{id}/revoke"),
            &s,
            &format!("_csrf={csrf}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn settings_forms_need_the_csrf_token() {
    let t = setup().await;
    let (s, _) = t.sign_in(WORKER).await;
    let p = t.principal(WORKER).await;
    let (id, token) = t.app.create_my_token(&p, "kept").await.unwrap();
    let tokens_before = t.app.my_tokens(&p).await.unwrap().len();
    for csrf in ["", "_csrf=wrong&"] {
        let r = t
            .post(
                "/settings/password",
                &s,
                &format!(
                    "{csrf}current_password={DEMO_PASSWORD}&new_password=another+long+one&confirm_password=another+long+one"
                ),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.body.contains("This form has expired"));
        let r = t
            .post("/settings/tokens", &s, &format!("{csrf}label=x"))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = t
            .post(&format!("/settings/tokens/{id}/revoke"), &s, csrf)
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    // Nothing changed: same session, same password, same tokens, the token still works.
    assert_eq!(t.get("/settings", &s).await.status, StatusCode::OK);
    assert_eq!(
        t.try_sign_in(WORKER, DEMO_PASSWORD, None, "").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(t.app.my_tokens(&p).await.unwrap().len(), tokens_before);
    assert!(t.app.authenticate(&token).await.is_ok());
    // Without a session the page sends the user to sign in.
    let r = t.req("GET", "/settings", &[], None).await;
    assert_eq!(r.location(), "/signin?next=%2Fsettings");
}

#[tokio::test]
async fn skip_with_a_reason_stores_it_and_the_item_goes_to_someone_else() {
    let t = setup().await;
    let owner = t.principal(REQUESTER).await;
    let pid = t
        .project_with_items(&owner, "Skippable", &["only item"])
        .await;
    let (s, csrf) = t.sign_in(WORKER).await;
    let bench = t.start(pid, &s).await.location().to_string();
    let page = t.get(&bench, &s).await;
    // The reasons are a real form (no script needed): radios and a text box tied to the skip form.
    assert!(page.body.contains("id=\"skip-menu\""));
    assert!(
        page.body
            .contains("value=\"Not in my expertise\" form=\"skip-form\"")
    );
    assert!(page.body.contains("name=\"reason_text\""));
    let r = t
        .post(
            &format!("{bench}/skip"),
            &s,
            &format!("_csrf={csrf}&reason=Not+in+my+expertise&reason_text=dosage+questions"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // Nothing left for this worker; the item goes to the next one.
    let again = t.start(pid, &s).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.body.contains("id=\"nothing-left\""));
    let (s2, _) = t.sign_in("worker2@demo.fairloop.test").await;
    let other = t.start(pid, &s2).await;
    assert_eq!(other.status, StatusCode::SEE_OTHER);
    // The reason is stored as the worker gave it.
    let assignment: i64 = bench.rsplit('/').next().unwrap().parse().unwrap();
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&fairloop_store::sqlite_url_in(t._dir.path()))
        .await
        .unwrap();
    let (reason,): (Option<String>,) =
        sqlx::query_as("SELECT skip_reason FROM assignments WHERE id = $1")
            .bind(assignment)
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(
        reason.as_deref(),
        Some("Not in my expertise: dosage questions")
    );
}

#[tokio::test]
async fn an_invitation_link_creates_an_account_once_and_signs_it_in() {
    let t = setup().await;
    let (session, csrf) = t.sign_in(REQUESTER).await;
    let page = t.get("/invitations", &session).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Invite someone"));
    // Requesters are offered worker and reviewer only.
    assert!(!page.body.contains("<option value=\"admin\">"));
    // Bad input re-renders with the reason and creates nothing.
    let bad = t
        .post(
            "/invitations",
            &session,
            &format!("_csrf={csrf}&role=worker&email=nope&valid_days=7"),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("is not an email address"), "{}", bad.body);
    let no_csrf = t.post("/invitations", &session, "role=worker").await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    let made = t
        .post(
            "/invitations",
            &session,
            &format!("_csrf={csrf}&role=worker&email=joiner%40example.org&valid_days=3"),
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    assert_eq!(made.headers[header::CACHE_CONTROL], "no-store");
    // The page escapes `/` in attribute values as `&#x2f;`.
    let marker = "invite&#x2f;";
    let start = made.body.find(marker).expect("the link is shown") + marker.len();
    let token = made.body[start..start + 64].to_string();

    // The invited person (no session) opens the link, mistypes the password, then joins.
    let form = t.req("GET", &format!("/invite/{token}"), &[], None).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("Join Demo Lab") && form.body.contains("joiner@example.org"));
    let cookie = form.cookie("fl_signin_csrf").unwrap();
    let path = format!("/invite/{token}");
    let post = |body: String| {
        let cookie = cookie.clone();
        let path = path.clone();
        let t = &t;
        async move {
            t.req(
                "POST",
                &path,
                &[("fl_signin_csrf", cookie.as_str())],
                Some(&body),
            )
            .await
        }
    };
    let mismatch = post(format!(
        "_csrf={cookie}&email=joiner%40example.org&name=Jo+Quillfeather&password=correct+horse+1&confirm_password=other+horse+2"
    ))
    .await;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(mismatch.body.contains("not the same"));
    let forged = t
        .req(
            "POST",
            &path,
            &[],
            Some("_csrf=x&email=joiner%40example.org&password=a&confirm_password=a"),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let joined = post(format!(
        "_csrf={cookie}&email=joiner%40example.org&name=Jo+Quillfeather&password=correct+horse+1&confirm_password=correct+horse+1"
    ))
    .await;
    assert_eq!(joined.status, StatusCode::SEE_OTHER, "{}", joined.body);
    let new_session = joined.cookie("fl_session").expect("signed in");
    let home = t.get("/", &new_session).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Jo Quillfeather"));
    // The link is spent; the list says so.
    let reuse = t.req("GET", &path, &[], None).await;
    assert_eq!(reuse.status, StatusCode::GONE);
    assert!(reuse.body.contains("already used"));
    let list = t.get("/invitations", &session).await;
    assert!(list.body.contains("accepted"));
    // Workers cannot manage invitations.
    let worker = t.sign_in(WORKER).await.0;
    assert_eq!(
        t.get("/invitations", &worker).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_project_dashboard_charts_activity_and_the_item_browser_pages_and_filters() {
    let t = setup().await;
    let owner = t.principal(REQUESTER).await;
    let texts: Vec<String> = (0..60).map(|i| format!("text number {i}")).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let project = t
        .project_with_items(&owner, "Dash <b>board</b>", &refs)
        .await;
    // A worker does two tasks; the roll-up runs.
    let worker = t.principal(WORKER).await;
    for _ in 0..2 {
        let task = t.app.next_task(&worker, project).await.unwrap().unwrap();
        let body: fairloop_app::work::SubmitBody =
            serde_json::from_value(json!({"answers": {"label": "a"}})).unwrap();
        t.app
            .submit(&worker, task.assignment_id, body, None)
            .await
            .unwrap();
    }
    fairloop_app::dashboard::ActivityRollup::new(t.app.clone())
        .try_run_one(fairloop_domain::time::now_millis())
        .await
        .unwrap();
    let (session, _) = t.sign_in(REQUESTER).await;
    let page = t.get(&format!("/projects/{project}"), &session).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("Dash &lt;b&gt;board&lt;&#x2f;b&gt;"),
        "the name is escaped"
    );
    assert!(page.body.contains("<svg class=\"plot\" role=\"img\""));
    assert!(
        page.body.contains("id=\"stat-annotations\">2<"),
        "two annotations counted"
    );
    assert!(
        page.body.contains("id=\"stat-day\">2<"),
        "two in the last day"
    );
    // The accessible table under the chart holds the same numbers: the current hour has 2.
    assert!(page.body.contains("<td class=\"num\">2</td>"));
    // Items: 50 per page, then the rest by key; filters; a search by id prefix.
    let items = t.get(&format!("/projects/{project}/items"), &session).await;
    assert_eq!(items.status, StatusCode::OK);
    assert_eq!(items.body.matches("<tr data-item=").count(), 50);
    let start = items
        .body
        .find("id=\"next-page\"")
        .map(|_| items.body.find("after=").unwrap() + 6)
        .unwrap();
    let after: String = items.body[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let rest = t
        .get(
            &format!("/projects/{project}/items?state=all&q=&after={after}"),
            &session,
        )
        .await;
    assert_eq!(rest.body.matches("<tr data-item=").count(), 10);
    assert!(!rest.body.contains("id=\"next-page\""));
    let done = t
        .get(&format!("/projects/{project}/items?state=done"), &session)
        .await;
    assert_eq!(done.body.matches("<tr data-item=").count(), 2);
    let none = t
        .get(&format!("/projects/{project}/items?q=zzz"), &session)
        .await;
    assert!(none.body.contains("No items match"));
    let bad = t
        .get(&format!("/projects/{project}/items?state=nope"), &session)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    // Workers and other organizations get nothing.
    let (wsession, _) = t.sign_in(WORKER).await;
    assert_eq!(
        t.get(&format!("/projects/{project}"), &wsession)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        t.get(&format!("/projects/{project}/items"), &wsession)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

/// A `multipart/form-data` body with the CSRF token, a mode and one file.
fn multipart(csrf: &str, mode: &str, file_name: &str, content: &str) -> (String, String) {
    let b = "fl-test-boundary-7d1c";
    let body = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"mode\"\r\n\r\n{mode}\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n{content}\r\n--{b}--\r\n"
    );
    (format!("multipart/form-data; boundary={b}"), body)
}

impl T {
    async fn post_multipart(
        &self,
        uri: &str,
        session: &str,
        content_type: &str,
        body: String,
    ) -> Resp {
        let req = Request::builder()
            .method("POST")
            .uri(uri)
            .header(header::COOKIE, format!("fl_session={session}"))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap();
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24)
            .await
            .unwrap();
        Resp {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }
}

#[tokio::test]
async fn a_requester_creates_a_project_from_the_gallery_and_uploads_a_file_with_a_bad_line() {
    let t = setup().await;
    let (session, csrf) = t.sign_in(REQUESTER).await;
    // The gallery fills the form; the preview shows the worker's view of the chosen template.
    let page = t
        .get("/projects/new?template=text_classification", &session)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("What a worker sees"));
    assert!(
        page.body.contains("Maria Lopez met the board"),
        "sample data in the preview"
    );
    let template = serde_json::to_string(&json!({
        "fields": [{"name": "text", "type": "text", "label": "Ticket"}],
        "questions": [{"name": "topic", "type": "single_choice", "options": ["billing", "bug", "other"], "required": true}]
    }))
    .unwrap();
    let form = |action: &str, template: &str, amount: &str| {
        format!(
            "_csrf={csrf}&action={action}&chosen=text_classification&name=Support+tickets&template={}&overlap=2&pay_model=per_task&amount={amount}&currency=USD",
            super::render::url_encode(template)
        )
    };
    // The live preview endpoint renders the edited template, or says what is wrong with it.
    let frag = t
        .post(
            "/projects/new/preview",
            &session,
            &format!(
                "_csrf={csrf}&template={}",
                super::render::url_encode(&template)
            ),
        )
        .await;
    assert!(
        frag.body.contains("billing") && frag.body.contains("Ticket"),
        "{}",
        frag.body
    );
    let broken = t
        .post(
            "/projects/new/preview",
            &session,
            &format!("_csrf={csrf}&template=%7B%22fields%22"),
        )
        .await;
    assert!(broken.body.contains("not valid JSON"), "{}", broken.body);
    // Bad pay re-renders with the reason and creates nothing.
    let bad = t
        .post(
            "/projects/new",
            &session,
            &form("create", &template, "1.805"),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("more decimals"));
    let owner = t.principal(REQUESTER).await;
    let before = t.app.projects(&owner).await.unwrap().len();
    assert_eq!(t.app.projects(&owner).await.unwrap().len(), before);
    let made = t
        .post(
            "/projects/new",
            &session,
            &form("create", &template, "0.40"),
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let upload_path = made.location().split('?').next().unwrap().to_string();
    let project: i64 = upload_path
        .trim_start_matches("/projects/")
        .trim_end_matches("/upload")
        .parse()
        .unwrap();
    let p = t.app.project(&owner, project).await.unwrap();
    assert_eq!((p.name.as_str(), p.policy.overlap), ("Support tickets", 2));
    assert!(p.pay.as_deref().unwrap().contains("40"));

    // A file with a bad line 3: nothing imported, the line listed with its reason.
    let up = t.get(&upload_path, &session).await;
    assert!(
        up.body.contains("<code>text</code>"),
        "the fields to provide are listed"
    );
    let bad_file = "{\"id\": \"t1\", \"data\": {\"text\": \"refund please\"}}\n{\"id\": \"t2\", \"data\": {\"text\": \"app crashes\"}}\n{\"id\": \"t3\", \"data\": {\"txt\": \"typo\"}}\n";
    let (ct, body) = multipart(&csrf, "atomic", "tickets.jsonl", bad_file);
    let r = t.post_multipart(&upload_path, &session, &ct, body).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("Nothing was imported from tickets.jsonl"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("<td class=\"num\">3</td>"),
        "line 3 is listed: {}",
        r.body
    );
    assert_eq!(t.app.project_stats(&owner, project).await.unwrap().items, 0);
    // Fixed, it goes in; uploaded again, nothing is duplicated.
    let good_file = bad_file.replace("txt", "text");
    let (ct, body) = multipart(&csrf, "atomic", "tickets.jsonl", &good_file);
    let r = t.post_multipart(&upload_path, &session, &ct, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("id=\"imported-count\">3<"), "{}", r.body);
    assert_eq!(t.app.project_stats(&owner, project).await.unwrap().items, 3);
    let (ct, body) = multipart(&csrf, "atomic", "tickets.jsonl", &good_file);
    let again = t.post_multipart(&upload_path, &session, &ct, body).await;
    assert!(again.body.contains("3 already known"), "{}", again.body);
    // Wrong kind of file, missing CSRF: refused, nothing imported.
    let (ct, body) = multipart(&csrf, "atomic", "tickets.txt", &good_file);
    let r = t.post_multipart(&upload_path, &session, &ct, body).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("not a file this page can read"));
    let (ct, body) = multipart(
        "0000",
        "atomic",
        "more.jsonl",
        "{\"id\":\"t9\",\"data\":{\"text\":\"x\"}}\n",
    );
    assert_eq!(
        t.post_multipart(&upload_path, &session, &ct, body)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(t.app.project_stats(&owner, project).await.unwrap().items, 3);
    // Workers cannot create projects or upload.
    let (wsession, wcsrf) = t.sign_in(WORKER).await;
    assert_eq!(
        t.get("/projects/new", &wsession).await.status,
        StatusCode::FORBIDDEN
    );
    let (ct, body) = multipart(&wcsrf, "atomic", "w.jsonl", &good_file);
    assert_eq!(
        t.post_multipart(&upload_path, &wsession, &ct, body)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_home_page_shows_the_pace_the_effective_hourly_rate_and_my_progress() {
    let t = setup().await;
    let owner = t.principal(REQUESTER).await;
    let project = t
        .app
        .create_project(
            &owner,
            CreateProject {
                name: "Paced".into(),
                template: json!({
                    "fields": [{"name": "text", "type": "text"}],
                    "questions": [{"name": "label", "type": "single_choice", "options": ["a", "b"], "required": true}]
                }),
                overlap: Some(1),
                lease_seconds: None,
                max_open_per_worker: None,
                pay: Some(fairloop_app::projects::Pay::PerTask { amount_minor: 50, currency: "USD".into() }),
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
    tx.send(
        (0..4)
            .map(|i| NewItem {
                external_id: Some(format!("p{i}")),
                data: json!({"text": format!("t{i}")}).to_string(),
                priority: 0,
                gold: None,
                sensitivity: 0,
                own_sensitivity: 0,
            })
            .collect(),
    )
    .await
    .unwrap();
    drop(tx);
    t.app
        .store
        .import_items(owner.org_id, project, rx, true)
        .await
        .unwrap();
    // Two tasks, each taken 30 seconds before it is submitted: 30 s a task, so $0.50 a task is $60.00 an hour.
    let worker = t.principal(WORKER).await;
    for _ in 0..2 {
        let now = fairloop_domain::time::now_millis();
        let task = t
            .app
            .next_task_at(&worker, project, now - 30_000)
            .await
            .unwrap()
            .unwrap();
        let body: fairloop_app::work::SubmitBody =
            serde_json::from_value(json!({"answers": {"label": "a"}})).unwrap();
        t.app
            .submit(&worker, task.assignment_id, body, None)
            .await
            .unwrap();
    }
    fairloop_app::dashboard::ActivityRollup::new(t.app.clone())
        .try_run_one(fairloop_domain::time::now_millis())
        .await
        .unwrap();
    // The pay job posts the two tasks ($1.00) and the 12 demo reviews this worker answered at $0.08 ($0.96):
    // the home page says what is owed.
    fairloop_app::ledger::PayPosting::new(t.app.clone())
        .try_run_one(fairloop_domain::time::now_millis())
        .await
        .unwrap();
    let (session, _) = t.sign_in(WORKER).await;
    let home = t.get("/", &session).await;
    assert!(
        home.body
            .contains("Earned and not yet paid out: <strong>$1.96</strong>"),
        "{}",
        home.body
    );
    let card_start = home
        .body
        .find(&format!("data-outlook=\"{project}\""))
        .expect("an outlook line");
    let card = &home.body[card_start..card_start + 200];
    assert!(
        card.contains("about 30 s per task") || card.contains("about 31 s per task"),
        "{card}"
    );
    // A little past 30 s (the clock runs between taking and submitting) rounds it down by cents, not dollars.
    let per_hour: f64 = card
        .split("≈ $")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no effective rate in {card}"));
    assert!((59.0..=60.0).contains(&per_hour), "{card}");
    assert!(home.body.contains("You have answered 2 so far."));
    // Another worker of the organization has answered nothing: no progress line for them.
    let other = t
        .app
        .store
        .user_by_email("worker2@demo.fairloop.test")
        .await
        .unwrap()
        .unwrap();
    let outlook = t
        .app
        .work_outlook(
            &Principal {
                user_id: other.id,
                org_id: other.org_id,
                role: other.role,
                email: other.email.clone(),
            },
            fairloop_domain::time::now_millis(),
        )
        .await
        .unwrap();
    assert_eq!(outlook[&project].my_submissions, 0);
}

#[tokio::test]
async fn guidelines_open_beside_the_work_and_drafts_survive_on_the_server() {
    let t = setup().await;
    let owner = t.principal(REQUESTER).await;
    let project = t
        .project_with_items(&owner, "Drafty", &["one", "two"])
        .await;
    let (rsession, rcsrf) = t.sign_in(REQUESTER).await;
    // The requester publishes guidelines from the console; the worker's workbench offers them (key G).
    let r = t
        .post(
            &format!("/projects/{project}/guidelines"),
            &rsession,
            &format!("_csrf={rcsrf}&markdown=Pick+**a**+for+apples&note=first"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let empty = t
        .post(
            &format!("/projects/{project}/guidelines"),
            &rsession,
            &format!("_csrf={rcsrf}&markdown=+"),
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = t
        .get(&format!("/projects/{project}/guidelines"), &rsession)
        .await;
    assert!(page.body.contains("Version 1, as workers see it") && page.body.contains("first"));

    let (session, csrf) = t.sign_in(WORKER).await;
    let start = t.start(project, &session).await;
    let bench_url = start.location().to_string();
    let bench = t.get(&bench_url, &session).await;
    assert!(
        bench.body.contains("id=\"guidelines\"") && bench.body.contains("<strong>a</strong>"),
        "{}",
        bench.body
    );
    assert!(bench.body.contains("version 1"));
    // A draft saved to the server fills the form in again on the next visit (another device, a cleared browser).
    let saved = t
        .post(
            &format!("{bench_url}/draft"),
            &session,
            &format!("_csrf={csrf}&q.label=b"),
        )
        .await;
    assert_eq!(saved.status, StatusCode::NO_CONTENT);
    let again = t.get(&bench_url, &session).await;
    assert!(
        again.body.contains("value=\"b\" checked"),
        "the draft's choice is checked"
    );
    // Without the CSRF token, or on someone else's assignment, nothing is saved.
    assert_eq!(
        t.post(&format!("{bench_url}/draft"), &session, "q.label=a")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let (other, other_csrf) = t.sign_in("worker2@demo.fairloop.test").await;
    let theirs = t
        .post(
            &format!("{bench_url}/draft"),
            &other,
            &format!("_csrf={other_csrf}&q.label=a"),
        )
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert!(
        t.get(&bench_url, &session)
            .await
            .body
            .contains("value=\"b\" checked")
    );
    // Submitting clears the draft.
    let assignment: i64 = bench_url.rsplit('/').next().unwrap().parse().unwrap();
    let done = t
        .post(&bench_url, &session, &format!("_csrf={csrf}&q.label=b"))
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(
        t.app
            .draft(&t.principal(WORKER).await, assignment)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn the_quality_page_shows_stored_figures_to_the_projects_requesters_only() {
    let t = setup().await;
    let pid = t.project_id("Classify product reviews").await;
    let (r, _) = t.sign_in(REQUESTER).await;
    // Before the job runs the page says so rather than computing anything.
    let page = t.get(&format!("/projects/{pid}/quality"), &r).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("no figures yet"), "{}", page.body);
    let job = fairloop_app::quality::QualityJob::new(t.app.clone());
    while job
        .try_run_one(fairloop_domain::time::now_millis())
        .await
        .unwrap()
    {}
    let page = t.get(&format!("/projects/{pid}/quality"), &r).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Agreement per question"));
    assert!(
        page.body.contains("data-question=\"sentiment\""),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("<svg viewBox=\"0 0 300 120\" role=\"img\"")
    );
    assert!(page.body.contains("figures from <time"));
    assert!(!page.body.contains("NaN"));
    // The console links to it.
    let console = t.get("/projects", &r).await;
    assert!(
        console
            .body
            .contains(&format!("href=\"/projects/{pid}/quality\""))
    );
    assert!(!console.body.contains("% gold"));
    let requester = t.principal(REQUESTER).await;
    let with_gold = t
        .app
        .create_project(
            &requester,
            CreateProject {
                name: "Gold checked".into(),
                template: json!({"fields": [{"name": "text", "type": "text"}],
                    "questions": [{"name": "label", "type": "single_choice", "options": ["a", "b"]}]}),
                overlap: None,
                lease_seconds: None,
                max_open_per_worker: None,
                pay: None,
                budget_minor: None,
                gold_rate: Some(0.1),
                adaptive_overlap: None,
                state: None,
                onboarding_pay: None,
                requirements: None,
                wellbeing: None,
            },
        )
        .await
        .unwrap();
    let console = t.get("/projects", &r).await;
    assert!(console.body.contains("10% gold"), "{}", console.body);
    let page = t
        .get(&format!("/projects/{}/quality", with_gold.id), &r)
        .await;
    assert!(page.body.contains("Gold rate 10%"), "{}", page.body);
    // Workers may not see it; another organization's project is not found.
    let (w, _) = t.sign_in(WORKER).await;
    assert_eq!(
        t.get(&format!("/projects/{pid}/quality"), &w).await.status,
        StatusCode::FORBIDDEN
    );
    let (other, _) = t
        .app
        .add_user(
            "Other Lab",
            "boss@other.test",
            "Boss",
            Role::Requester,
            Some("other-password"),
        )
        .await
        .unwrap();
    let other = Principal {
        user_id: other.id,
        org_id: other.org_id,
        role: other.role,
        email: other.email,
    };
    let foreign = t.project_with_items(&other, "Secret", &["private"]).await;
    let r2 = t.get(&format!("/projects/{foreign}/quality"), &r).await;
    assert_eq!(r2.status, StatusCode::NOT_FOUND);
    assert!(!r2.body.contains("Secret"));
}

#[tokio::test]
async fn the_next_item_is_leased_and_prefetched_while_the_current_one_is_answered() {
    let t = setup().await;
    let owner = t.principal(REQUESTER).await;
    let project = t
        .project_with_items(&owner, "Prefetched", &["one", "two", "three"])
        .await;
    let (session, csrf) = t.sign_in(WORKER).await;
    // A GET takes no lease: it serves the start page, whose form (posted by autostart.js) does.
    let worker = t.principal(WORKER).await;
    let page = t.get(&format!("/work/{project}"), &session).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"start-form\"") && page.body.contains("method=\"post\""));
    let held = t
        .app
        .store
        .open_assignments(
            worker.org_id,
            worker.user_id,
            project,
            fairloop_domain::time::now_millis(),
        )
        .await
        .unwrap();
    assert!(held.is_empty(), "a GET leased {held:?}");
    let first = t.start(project, &session).await.location().to_string();
    let page = t.get(&first, &session).await;
    let marker = "rel=\"prefetch\" href=\"";
    let at = page.body.find(marker).expect("a prefetch link") + marker.len();
    let second = page.body[at..]
        .split('"')
        .next()
        .unwrap()
        .replace("&#x2f;", "/");
    assert!(
        second.starts_with(&format!("/work/{project}/")) && second != first,
        "{second}"
    );
    assert_eq!(page.headers[header::CACHE_CONTROL], "private, max-age=60");
    // A reload prefetches the same item rather than leasing a third.
    let again = t.get(&first, &session).await;
    assert!(
        again
            .body
            .contains(&format!("href=\"{}\"", second.replace('/', "&#x2f;")))
    );
    // After submitting, "next" resumes the prefetched lease.
    let r = t
        .post(&first, &session, &format!("_csrf={csrf}&q.label=a"))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let next = t.get(r.location(), &session).await;
    assert_eq!(next.location(), second);
    // The worker holds at most their cap (2 by default): the second item and the one prefetched from it.
    t.get(&second, &session).await;
    let open = t
        .app
        .store
        .open_assignments(
            worker.org_id,
            worker.user_id,
            project,
            fairloop_domain::time::now_millis(),
        )
        .await
        .unwrap();
    assert_eq!(open.len(), 2, "{open:?}");
}

#[tokio::test]
async fn a_worker_reads_and_accepts_the_terms_before_the_first_task() {
    let t = setup().await;
    let owner = t.principal(REQUESTER).await;
    let project = t
        .project_with_items(&owner, "Termed work", &["one", "two"])
        .await;
    let (rsession, rcsrf) = t.sign_in(REQUESTER).await;
    let published = t
        .post(
            &format!("/projects/{project}/terms"),
            &rsession,
            &format!(
                "_csrf={rcsrf}&ip_assigned=&confidential=Client+data&notice_days=14&expected_duration=6+weeks\
                 &weekly_hours=5-10&content_warnings=graphic+injuries%0Aprofanity&markdown=%23+Terms%0AYou+keep+your+methods."
            ),
        )
        .await;
    assert_eq!(
        published.status,
        StatusCode::SEE_OTHER,
        "{}",
        published.body
    );
    let bad = t
        .post(
            &format!("/projects/{project}/terms"),
            &rsession,
            &format!("_csrf={rcsrf}&notice_days=x&markdown=y"),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    let (session, csrf) = t.sign_in(WORKER).await;
    // The home card shows the warnings and sends the worker to the terms, not to work.
    let home = t.get("/", &session).await;
    assert!(
        home.body.contains("graphic injuries, profanity"),
        "{}",
        home.body
    );
    assert!(home.body.contains(&format!("data-terms=\"{project}\"")));
    let start = t.start(project, &session).await;
    assert_eq!(
        start.location(),
        format!("/projects/{project}/terms?done=accept_first")
    );
    let page = t.get(start.location(), &session).await;
    assert!(page.body.contains("The work product of this project only"));
    assert!(page.body.contains("14 days") && page.body.contains("Client data"));
    let at = page.body.find("name=\"text_hash\" value=\"").unwrap() + 24;
    let hash = page.body[at..at + 64].to_string();
    // Accepting goes straight on to work.
    let accepted = t
        .post(
            &format!("/projects/{project}/terms/decision"),
            &session,
            &format!("_csrf={csrf}&version=1&text_hash={hash}&decision=accept"),
        )
        .await;
    assert_eq!(accepted.location(), format!("/work/{project}"));
    let work = t.start(project, &session).await;
    assert!(work.location().starts_with(&format!("/work/{project}/")));
    // A question, answered by the requester, shows on the worker's page.
    let asked = t
        .post(
            &format!("/projects/{project}/terms/questions"),
            &session,
            &format!("_csrf={csrf}&question=Is+weekend+work+fine%3F"),
        )
        .await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER);
    let q = t.app.terms_questions(&owner, project).await.unwrap()[0].id;
    let answered = t
        .post(
            &format!("/projects/{project}/terms/questions/{q}/answer"),
            &rsession,
            &format!("_csrf={rcsrf}&answer=Yes%2C+any+day."),
        )
        .await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER);
    assert!(
        t.get(&format!("/projects/{project}/terms"), &session)
            .await
            .body
            .contains("Yes, any day.")
    );
}

#[tokio::test]
async fn a_worker_sees_what_changed_in_the_guidelines_and_acknowledges_it() {
    let t = setup().await;
    let owner = t.principal(REQUESTER).await;
    let project = t
        .project_with_items(&owner, "Changing", &["one", "two", "three", "four", "five"])
        .await;
    t.app
        .set_guidelines(&owner, project, "Pick a for apples.\nBe careful.", None)
        .await
        .unwrap();
    let (session, csrf) = t.sign_in(WORKER).await;
    let first = t.start(project, &session).await.location().to_string();
    let done = t
        .post(&first, &session, &format!("_csrf={csrf}&q.label=a"))
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    t.app
        .set_guidelines(
            &owner,
            project,
            "Pick b for bananas.\nBe careful.",
            Some("bananas"),
        )
        .await
        .unwrap();
    // Held leases stay answerable; new work waits for the acknowledgement.
    let worker = t.principal(WORKER).await;
    for a in t
        .app
        .store
        .open_assignments(
            worker.org_id,
            worker.user_id,
            project,
            fairloop_domain::time::now_millis(),
        )
        .await
        .unwrap()
    {
        t.app
            .skip(&worker, a, fairloop_app::work::SkipBody::default())
            .await
            .unwrap();
    }
    let start = t.start(project, &session).await;
    assert_eq!(
        start.location(),
        format!("/projects/{project}/guidelines/changes")
    );
    let page = t.get(start.location(), &session).await;
    assert!(
        page.body.contains("<del>- Pick a for apples.</del>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("<ins>+ Pick b for bananas.</ins>"));
    assert!(page.body.contains("bananas"));
    let ack = t
        .post(
            &format!("/projects/{project}/guidelines/acknowledge"),
            &session,
            &format!("_csrf={csrf}&version=2"),
        )
        .await;
    assert_eq!(ack.location(), format!("/work/{project}"));
    let next = t.start(project, &session).await;
    assert!(
        next.location().starts_with(&format!("/work/{project}/")),
        "{}",
        next.location()
    );
}

#[tokio::test]
async fn a_worker_sets_the_country_that_picks_their_pay_floor() {
    let t = setup().await;
    let (session, csrf) = t.sign_in(WORKER).await;
    let bad = t
        .post(
            "/settings/country",
            &session,
            &format!("_csrf={csrf}&country=Kenya"),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("is not a two-letter country code"));
    let ok = t
        .post(
            "/settings/country",
            &session,
            &format!("_csrf={csrf}&country=ke"),
        )
        .await;
    assert_eq!(ok.location(), "/settings?done=country");
    let page = t.get("/settings?done=country", &session).await;
    assert!(page.body.contains("id=\"country\"") && page.body.contains("value=\"KE\""));
    assert_eq!(
        t.app
            .my_country(&t.principal(WORKER).await)
            .await
            .unwrap()
            .as_deref(),
        Some("KE")
    );
    assert_eq!(
        t.post("/settings/country", &session, "country=DE")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_transparency_page_is_open_to_the_projects_workers_and_names_nobody() {
    let t = setup().await;
    let pid = t.project_id("Classify product reviews").await;
    let (session, _) = t.sign_in(WORKER).await;
    let home = t.get("/", &session).await;
    assert!(
        home.body
            .contains(&format!("href=\"/projects/{pid}/transparency\""))
    );
    let page = t
        .get(&format!("/projects/{pid}/transparency"), &session)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("median effective hourly rate"));
    assert!(
        page.body
            .contains("No end announced: the project has not been closed."),
        "the page says what the lifecycle recorded about notice"
    );
    // Only the signed-in user appears (in the header); no other worker is named.
    assert!(!page.body.contains("worker2@demo"), "no worker is named");
}

#[tokio::test]
async fn a_worker_reads_the_guidelines_outside_a_task_and_the_reading_time_counts_when_paid() {
    let t = setup().await;
    let owner = t.principal(REQUESTER).await;
    let project = t
        .app
        .create_project(
            &owner,
            CreateProject {
                name: "Paid reading".into(),
                template: json!({
                    "fields": [{"name": "text", "type": "text"}],
                    "questions": [{"name": "label", "type": "single_choice", "options": ["a", "b"]}]
                }),
                overlap: Some(1),
                lease_seconds: None,
                max_open_per_worker: None,
                pay: Some(fairloop_app::projects::Pay::PerTask {
                    amount_minor: 50,
                    currency: "USD".into(),
                }),
                budget_minor: None,
                gold_rate: None,
                adaptive_overlap: None,
                wellbeing: None,
                onboarding_pay: Some(fairloop_app::onboarding::OnboardingPay {
                    rate_minor: 1800,
                    max_minutes: Some(30),
                }),
                state: None,
                requirements: None,
            },
        )
        .await
        .unwrap()
        .id;
    t.app
        .set_guidelines(
            &owner,
            project,
            "# How to label\nPick **a** for apples.",
            None,
        )
        .await
        .unwrap();
    let (session, _) = t.sign_in(WORKER).await;
    let home = t.get("/", &session).await;
    assert!(
        home.body.contains(
            "$0.50 per task · reading the guidelines paid at $18.00 per hour, up to 30 min"
        ),
        "{}",
        home.body
    );
    assert!(
        home.body
            .contains(&format!("href=\"/guidelines/{project}\""))
    );
    let page = t.get(&format!("/guidelines/{project}"), &session).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<strong>a</strong> for apples"));
    assert!(page.body.contains(&format!(
        "data-onboarding-heartbeat=\"/guidelines/{project}/heartbeat\""
    )));
    assert!(page.body.contains("/assets/heartbeat.js"));
    let csrf = page.csrf();
    let beat = t
        .post(
            &format!("/guidelines/{project}/heartbeat"),
            &session,
            &format!("_csrf={csrf}&activity=guidelines&focus=1&input=1"),
        )
        .await;
    assert_eq!(beat.status, StatusCode::OK, "{}", beat.body);
    let outcome: serde_json::Value = serde_json::from_str(&beat.body).unwrap();
    assert_eq!(outcome["paid"], true);
    assert_eq!(outcome["max_ms"], 1_800_000);
    // Without the CSRF token nothing is recorded.
    let forged = t
        .post(
            &format!("/guidelines/{project}/heartbeat"),
            &session,
            "activity=guidelines&focus=1&input=1",
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    // The time page lists what onboarding records.
    let time = t.get("/time", &session).await;
    assert!(time.body.contains("Onboarding heartbeats"), "{}", time.body);
}

#[tokio::test]
async fn the_gallery_offers_the_generated_video_qa_and_image_templates_with_a_preview() {
    let t = setup().await;
    let (session, _) = t.sign_in(REQUESTER).await;
    let list = t.get("/projects/new", &session).await;
    for name in [
        "generated_video_qa",
        "image_segments",
        "pose_keypoints",
        "object_tracking",
    ] {
        assert!(list.body.contains(name), "{name} is in the gallery");
    }
    let page = t
        .get("/projects/new?template=generated_video_qa", &session)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    // The worker's view: the video stage (30 fps assumed: the sample item gives no frame rate), the event
    // question as a widget with its taxonomy and severities, and the rating.
    assert!(page.body.contains(r#"data-stage="video""#), "{}", page.body);
    assert!(page.body.contains("data-fps-assumed"));
    assert!(page.body.contains(r#"data-widget="video_events""#));
    assert!(page.body.contains("object_permanence") && page.body.contains("critical"));
    assert!(!page.body.contains("not supported in the browser"));
    let page = t
        .get("/projects/new?template=image_segments", &session)
        .await;
    assert!(page.body.contains(r#"data-stage="image""#) && page.body.contains("src=\"data:image"));
    assert!(page.body.contains(r#"data-widget="polygons""#));
}

#[tokio::test]
async fn the_workbench_policy_allows_the_organizations_media_hosts_only() {
    let t = setup().await;
    let requester = t.principal(REQUESTER).await;
    let p = t
        .app
        .create_project(
            &requester,
            CreateProject {
                name: "Photos by URL".into(),
                template: json!({
                    "fields": [{"name": "photo", "type": "image", "source": "image"}],
                    "questions": [{"name": "ok", "type": "single_choice", "options": ["yes", "no"], "required": true}]
                }),
                overlap: Some(1),
                lease_seconds: None,
                max_open_per_worker: None,
                pay: None,
                budget_minor: None,
                gold_rate: None,
                adaptive_overlap: None,
            wellbeing: None,
            onboarding_pay: None,
            state: None,
                requirements: None,
            },
        )
        .await
        .unwrap();
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tx.send(vec![NewItem {
        external_id: None,
        data: json!({"image": "https://img.example/a.png"}).to_string(),
        priority: 0,
        gold: None,
        sensitivity: 0,
        own_sensitivity: 0,
    }])
    .await
    .unwrap();
    drop(tx);
    t.app
        .store
        .import_items(requester.org_id, p.id, rx, true)
        .await
        .unwrap();
    let (s, _) = t.sign_in(WORKER).await;
    let started = t.start(p.id, &s).await;
    let bench = t.get(started.location(), &s).await;
    assert_eq!(bench.status, StatusCode::OK, "{}", bench.body);
    let csp = |r: &Resp| {
        r.headers
            .get(header::CONTENT_SECURITY_POLICY)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string()
    };
    // Without allowed hosts: our own media only.
    assert_eq!(csp(&bench), super::UI_CSP);
    assert!(csp(&bench).contains("media-src 'self' data:;"));
    t.app
        .set_allowed_media_hosts(&requester, vec!["img.example".into()])
        .await
        .unwrap();
    let bench = t.get(started.location(), &s).await;
    let policy = csp(&bench);
    assert!(
        policy.contains("img-src 'self' data: https://img.example;"),
        "{policy}"
    );
    assert!(
        policy.contains("media-src 'self' https://img.example data:;"),
        "{policy}"
    );
    assert!(policy.contains("script-src 'self';"), "{policy}");
    // Other pages keep the plain policy.
    assert_eq!(csp(&t.get("/", &s).await), super::UI_CSP);
}
