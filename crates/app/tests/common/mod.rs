//! Shared set-up for the ledger tests: an [`App`] on every backend, users, projects and items.
//!
//! SQLite always runs. PostgreSQL runs when `FAIRLOOP_TEST_DATABASE_URL` is set; with
//! `FAIRLOOP_REQUIRE_POSTGRES=1` a missing URL fails instead of skipping. Each PostgreSQL store is a fresh
//! database so tests do not see each other's rows.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use fairloop_app::projects::CreateProject;
use fairloop_app::{App, AppConfig};
use fairloop_domain::Role;
use fairloop_store::{NewItem, NewUser, Principal, Store};
use serde_json::{Value, json};

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A unique suffix for names in this process.
pub fn unique(prefix: &str) -> String {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_nanos();
    format!("{prefix}_{}_{nanos:x}_{n}", std::process::id())
}

/// An app on a backend, with what keeps its database alive.
pub struct Backend {
    /// `sqlite` or `postgres`.
    pub name: &'static str,
    /// The app.
    pub app: App,
    _dir: Option<tempfile::TempDir>,
}

/// Every backend to test: SQLite, and PostgreSQL when configured.
pub async fn backends() -> Vec<Backend> {
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = fairloop_store::connect(&fairloop_store::sqlite_url_in(dir.path()))
        .await
        .expect("open SQLite");
    let mut out = vec![Backend {
        name: "sqlite",
        app: App::new(sqlite, AppConfig::default()),
        _dir: Some(dir),
    }];
    match std::env::var("FAIRLOOP_TEST_DATABASE_URL") {
        Ok(url) => out.push(Backend {
            name: "postgres",
            app: App::new(fresh_postgres(&url).await, AppConfig::default()),
            _dir: None,
        }),
        Err(_) if std::env::var("FAIRLOOP_REQUIRE_POSTGRES").is_ok() => {
            panic!("FAIRLOOP_REQUIRE_POSTGRES is set but FAIRLOOP_TEST_DATABASE_URL is not")
        }
        Err(_) => {}
    }
    out
}

async fn fresh_postgres(url: &str) -> Arc<dyn Store> {
    use sqlx::Connection;
    let name = unique("fl_ledger");
    let mut admin = sqlx::PgConnection::connect(url)
        .await
        .expect("connect to PostgreSQL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("CREATE DATABASE");
    let (base, _) = url.rsplit_once('/').expect("URL has a database");
    fairloop_store::connect(&format!("{base}/{name}"))
        .await
        .expect("connect to the fresh database")
}

/// Creates a user and answers their principal.
pub async fn user(app: &App, org: &str, role: Role) -> Principal {
    let email = format!("{}@example.com", unique(role.as_str()));
    let u = app
        .store
        .upsert_user(NewUser {
            org_name: org.into(),
            email: email.clone(),
            name: email.clone(),
            role,
            password_hash: None,
        })
        .await
        .expect("user");
    Principal {
        user_id: u.id,
        org_id: u.org_id,
        role,
        email,
    }
}

/// The contract's minimal template.
pub fn template() -> Value {
    json!({
        "fields": [{"name": "text", "type": "text"}],
        "questions": [{"name": "label", "type": "single_choice", "options": ["a", "b"], "required": true}]
    })
}

/// A per-task project paying `price` (USD cents) with an optional budget cap, and `items` items.
pub async fn per_task_project(
    app: &App,
    requester: &Principal,
    price: i64,
    budget: Option<i64>,
    items: usize,
    overlap: u32,
) -> i64 {
    let project = app
        .create_project(
            requester,
            CreateProject {
                name: unique("project"),
                template: template(),
                overlap: Some(overlap),
                lease_seconds: Some(600),
                max_open_per_worker: Some(1),
                pay: Some(fairloop_app::projects::Pay::PerTask {
                    amount_minor: price,
                    currency: "USD".into(),
                }),
                budget_minor: budget,
                gold_rate: None,
                adaptive_overlap: None,
                state: None,
                onboarding_pay: None,
                requirements: None,
                wellbeing: None,
            },
        )
        .await
        .expect("project");
    let batch: Vec<NewItem> = (0..items)
        .map(|i| NewItem {
            external_id: Some(format!("i{i}")),
            data: json!({"text": format!("item {i}")}).to_string(),
            priority: 0,
            gold: None,
            sensitivity: 0,
            own_sensitivity: 0,
        })
        .collect();
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tx.send(batch).await.expect("send batch");
    drop(tx);
    app.store
        .import_items(requester.org_id, project.id, rx, true)
        .await
        .expect("import");
    project.id
}

/// Claims the next task and submits an answer; answers the assignment id, or `None` when nothing was handed out.
pub async fn work_one(app: &App, worker: &Principal, project: i64) -> Option<i64> {
    let task = app.next_task(worker, project).await.expect("next")?;
    app.submit(
        worker,
        task.assignment_id,
        fairloop_app::work::SubmitBody {
            answers: json!({"label": "a"}),
            integrity: None,
        },
        None,
    )
    .await
    .expect("submit");
    Some(task.assignment_id)
}

/// Funds the organization's budget.
pub async fn fund(app: &App, requester: &Principal, amount: i64) {
    app.fund_budget(
        requester,
        fairloop_app::ledger::FundBody {
            amount_minor: amount,
            currency: "USD".into(),
            reference: unique("wire"),
        },
    )
    .await
    .expect("fund");
}

/// Runs the posting job until it has nothing left to do.
pub async fn post_all(app: &App) {
    let job = fairloop_app::ledger::PayPosting::new(app.clone());
    loop {
        let step = job
            .try_run_one(fairloop_domain::time::now_millis())
            .await
            .expect("posting step");
        if !step.more {
            break;
        }
    }
}

/// Asserts that `fairloop ledger verify` finds nothing wrong.
pub async fn assert_verified(app: &App, backend: &str) {
    let report = app.verify_ledger(|_, _| {}).await.expect("verify");
    assert!(
        report.problems.is_empty(),
        "{backend}: ledger verify found problems: {:#?}",
        report.problems
    );
}

/// The balance of one account kind for an owner in the caller's organization (0 when absent).
pub async fn balance(
    app: &App,
    org: i64,
    kind: fairloop_store::ledger::AccountKind,
    owner: i64,
) -> i64 {
    app.store
        .ledger_org_accounts(org)
        .await
        .expect("accounts")
        .into_iter()
        .filter(|a| a.kind == kind && a.owner_id == owner)
        .map(|a| a.balance_minor)
        .sum()
}
