//! Wellbeing on every backend: opt-ins gate projects and items, the daily exposure limit holds under
//! concurrent claims, skips of sensitive items never count, and opt-ins belong to their worker alone.

mod common;

use std::sync::Arc;

use common::{backends, template, unique, user};
use fairloop_app::import::{ImportMode, ImportProgress};
use fairloop_app::projects::CreateProject;
use fairloop_app::wellbeing::{OptInBody, WellbeingInput};
use fairloop_app::work::{SkipBody, SubmitBody};
use fairloop_app::{App, AppError};
use fairloop_domain::Role;
use fairloop_formats::ImportFormat;
use fairloop_store::Principal;
use serde_json::json;

/// A project with `wellbeing` and one item per line of `jsonl` (imported through the real import path).
async fn project(
    app: &App,
    requester: &Principal,
    wellbeing: Option<WellbeingInput>,
    max_open: u32,
    jsonl: &str,
) -> i64 {
    let p = app
        .create_project(
            requester,
            CreateProject {
                name: unique("wellbeing"),
                template: template(),
                overlap: Some(1),
                lease_seconds: Some(600),
                max_open_per_worker: Some(max_open),
                pay: None,
                budget_minor: None,
                gold_rate: None,
                adaptive_overlap: None,
                wellbeing,
                state: None,
                onboarding_pay: None,
                requirements: None,
            },
        )
        .await
        .expect("project");
    let report = import(app, requester, p.id, jsonl).await;
    assert_eq!(report.error_count, 0, "{:?}", report.errors);
    p.id
}

async fn import(
    app: &App,
    requester: &Principal,
    project: i64,
    jsonl: &str,
) -> fairloop_app::import::ImportReport {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("items.jsonl");
    std::fs::write(&path, jsonl).unwrap();
    app.import_file(
        requester,
        project,
        path,
        ImportFormat::Jsonl,
        ImportMode::Atomic,
        Arc::new(ImportProgress::default()),
    )
    .await
    .expect("import")
}

/// `n` lines of items `{prefix}{i}` with the given categories.
fn lines(prefix: &str, n: usize, categories: &[&str]) -> String {
    (0..n)
        .map(|i| {
            json!({"id": format!("{prefix}{i}"), "data": {"text": format!("{prefix} {i}")}, "sensitivity": categories})
                .to_string()
                + "\n"
        })
        .collect()
}

fn declared(categories: &[&str], limit: Option<i64>) -> Option<WellbeingInput> {
    Some(WellbeingInput {
        sensitivity: categories.iter().map(|c| c.to_string()).collect(),
        daily_exposure_limit: limit,
        ..Default::default()
    })
}

async fn opt_in(app: &App, worker: &Principal, categories: &[&str]) {
    app.set_my_sensitivity(
        worker,
        OptInBody {
            opted_in: categories.iter().map(|c| c.to_string()).collect(),
        },
    )
    .await
    .expect("opt in");
}

/// Takes and answers tasks until none is left; answers the external ids handed out.
async fn drain(app: &App, worker: &Principal, project: i64) -> Vec<String> {
    let mut ids = Vec::new();
    while let Some(t) = app.next_task(worker, project).await.expect("next") {
        ids.push(t.item.id.clone());
        app.submit(
            worker,
            t.assignment_id,
            SubmitBody {
                answers: json!({"label": "a"}),
                integrity: None,
            },
            None,
        )
        .await
        .expect("submit");
        assert!(ids.len() < 1000, "the queue never ends");
    }
    ids
}

fn code(e: AppError) -> &'static str {
    match e {
        AppError::Forbidden { code, .. }
        | AppError::Invalid { code, .. }
        | AppError::Conflict { code, .. }
        | AppError::BadRequest { code, .. } => code,
        other => panic!("unexpected error {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn items_of_categories_not_opted_into_are_never_claimed() {
    for b in backends().await {
        let app = &b.app;
        let org = unique("org");
        let req = user(app, &org, Role::Requester).await;
        let file = lines("plain", 4, &[])
            + &lines("violent", 3, &["violence"])
            + &lines("hateful", 3, &["hate"]);
        let p = project(app, &req, None, 2, &file).await;

        // Nobody opted in: only the plain items, for every worker.
        let shy = user(app, &org, Role::Worker).await;
        let got = drain(app, &shy, p).await;
        assert_eq!(got.len(), 4, "{}: {got:?}", b.name);
        assert!(
            got.iter().all(|i| i.starts_with("plain")),
            "{}: {got:?}",
            b.name
        );

        // Opted into violence: the violent items too, with their categories; never the hateful ones.
        let brave = user(app, &org, Role::Worker).await;
        opt_in(app, &brave, &["violence"]).await;
        let first = app.next_task(&brave, p).await.unwrap().unwrap();
        let mut seen = vec![first.item.id.clone()];
        app.skip(&brave, first.assignment_id, SkipBody::default())
            .await
            .unwrap();
        seen.extend(drain(app, &brave, p).await);
        assert!(
            seen.iter().all(|i| !i.starts_with("hateful")),
            "{}: {seen:?}",
            b.name
        );
        assert_eq!(
            seen.iter().filter(|i| i.starts_with("violent")).count(),
            3,
            "{}: {seen:?}",
            b.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_project_with_categories_hands_out_nothing_until_the_worker_opts_in() {
    for b in backends().await {
        let app = &b.app;
        let org = unique("org");
        let req = user(app, &org, Role::Requester).await;
        let p = project(
            app,
            &req,
            declared(&["self_harm"], None),
            2,
            &lines("x", 3, &[]),
        )
        .await;
        let w = user(app, &org, Role::Worker).await;
        let e = app.next_task(&w, p).await.unwrap_err();
        assert_eq!(code(e), "sensitivity_opt_in_required", "{}", b.name);
        // Opting into something else does not help.
        opt_in(app, &w, &["violence"]).await;
        assert_eq!(
            code(app.next_task(&w, p).await.unwrap_err()),
            "sensitivity_opt_in_required"
        );
        opt_in(app, &w, &["violence", "self_harm"]).await;
        let t = app.next_task(&w, p).await.unwrap().expect("a task");
        assert_eq!(t.item.sensitivity, vec!["self_harm"], "{}", b.name);
        // The home page's view agrees.
        let gates = app.project_gates(&w).await.unwrap();
        assert_eq!(gates[&p].missing, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn changing_a_projects_categories_applies_to_the_next_claim_also_in_another_process() {
    for b in backends().await {
        let app = &b.app;
        // A second App on the same store: another `serve` process with its own caches.
        let other = App::new(app.store.clone(), app.config.clone());
        let org = unique("org");
        let req = user(app, &org, Role::Requester).await;
        let p = project(app, &req, None, 1, &lines("x", 6, &[])).await;
        let w = user(app, &org, Role::Worker).await;
        // `app` now believes the project has no sensitive content.
        drain_one(app, &w, p).await;
        other
            .set_project_wellbeing(&req, p, declared(&["graphic_injury"], None).unwrap())
            .await
            .unwrap();
        let e = app.next_task(&w, p).await.unwrap_err();
        assert_eq!(code(e), "sensitivity_opt_in_required", "{}", b.name);
        // Taking the category away again frees the items.
        other
            .set_project_wellbeing(&req, p, WellbeingInput::default())
            .await
            .unwrap();
        assert!(app.next_task(&w, p).await.unwrap().is_some(), "{}", b.name);
    }
}

async fn drain_one(app: &App, w: &Principal, p: i64) {
    let t = app.next_task(w, p).await.unwrap().expect("a task");
    app.submit(
        w,
        t.assignment_id,
        SubmitBody {
            answers: json!({"label": "a"}),
            integrity: None,
        },
        None,
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_daily_exposure_limit_holds_under_concurrent_claims() {
    for b in backends().await {
        let app = &b.app;
        let org = unique("org");
        let req = user(app, &org, Role::Requester).await;
        // Two projects showing violence, each allowing 5 a day; the count is the worker's, across projects.
        let a = project(
            app,
            &req,
            declared(&["violence"], Some(5)),
            100,
            &lines("a", 30, &[]),
        )
        .await;
        let file = lines("bv", 30, &["violence"]) + &lines("bplain", 10, &[]);
        let bp = project(
            app,
            &req,
            Some(WellbeingInput {
                daily_exposure_limit: Some(5),
                ..Default::default()
            }),
            100,
            &file,
        )
        .await;
        let w = user(app, &org, Role::Worker).await;
        opt_in(app, &w, &["violence"]).await;

        let mut claims = Vec::new();
        for i in 0..48 {
            let (app, w) = (app.clone(), w.clone());
            let project = if i % 2 == 0 { a } else { bp };
            claims.push(tokio::spawn(
                async move { app.next_task(&w, project).await },
            ));
        }
        let mut violent = std::collections::HashSet::new();
        let mut plain = std::collections::HashSet::new();
        for c in claims {
            if let Some(t) = c.await.unwrap().expect("claim") {
                if t.item.sensitivity.is_empty() {
                    plain.insert(t.assignment_id);
                } else {
                    assert_eq!(t.item.sensitivity, vec!["violence"]);
                    violent.insert(t.assignment_id);
                }
            }
        }
        assert_eq!(
            violent.len(),
            5,
            "{}: never over the limit, and up to it",
            b.name
        );
        // Other items still come: every plain item of the second project.
        assert_eq!(plain.len(), 10, "{}", b.name);
        let mine = app.my_sensitivity(&w).await.unwrap();
        assert_eq!(mine.exposure_today.len(), 1);
        assert_eq!(
            (
                mine.exposure_today[0].category,
                mine.exposure_today[0].items
            ),
            ("violence", 5)
        );
        // Nothing new: at most a lease the worker already holds comes back.
        let again = app.next_task(&w, a).await.unwrap();
        assert!(
            again.as_ref().is_none_or(|t| t.reused),
            "{}: {again:?}",
            b.name
        );
        assert_eq!(app.project_gates(&w).await.unwrap()[&a].at_limit, 1);
        // The next UTC day the count starts again.
        let tomorrow = fairloop_domain::time::now_millis() + 86_400_000;
        let fresh = app
            .next_task_at(&w, a, tomorrow)
            .await
            .unwrap()
            .expect("a task tomorrow");
        assert!(!fresh.reused, "{}", b.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn skipping_a_sensitive_item_or_as_too_distressing_never_counts() {
    for b in backends().await {
        let app = &b.app;
        let org = unique("org");
        let req = user(app, &org, Role::Requester).await;
        let file = lines("gore", 2, &["graphic_injury"]) + &lines("plain", 3, &[]);
        let p = project(app, &req, None, 1, &file).await;
        let w = user(app, &org, Role::Worker).await;
        opt_in(app, &w, &["graphic_injury"]).await;
        let mut ordinary = 0;
        let mut distressing = 0;
        while let Some(t) = app.next_task(&w, p).await.unwrap() {
            let sensitive = !t.item.sensitivity.is_empty();
            let too_distressing = !sensitive && distressing == 0;
            app.skip(
                &w,
                t.assignment_id,
                SkipBody {
                    reason: Some(if sensitive { "not today" } else { "" }.into())
                        .filter(|r: &String| !r.is_empty()),
                    too_distressing,
                },
            )
            .await
            .unwrap();
            if too_distressing {
                distressing += 1;
            } else if !sensitive {
                ordinary += 1;
            }
        }
        assert_eq!((ordinary, distressing), (2, 1));
        // Only the two ordinary skips of plain items count as skips anywhere.
        let stats = app.project_stats(&req, p).await.unwrap();
        assert_eq!(stats.skipped_assignments, 2, "{}", b.name);
        let view = app.project_wellbeing(&req, p).await.unwrap();
        assert_eq!(view.distressing_skips, Some(1), "{}", b.name);
        // The reason of a "too distressing" skip without words is stored for the requester to read.
        let reasons: Vec<String> = app
            .store
            .read_tx(move |tx| {
                tx.query(
                    "SELECT skip_reason FROM assignments WHERE project_id = $1 ORDER BY id",
                    fairloop_store::params![p],
                )?
                .iter()
                .map(|r| r.opt_string(0).map(|s| s.unwrap_or_default()))
                .collect()
            })
            .await
            .unwrap();
        assert!(
            reasons.contains(&"Too distressing".to_string()),
            "{reasons:?}"
        );
        // Nothing in the review queue, no pause: the worker goes on working at once.
        assert!(
            app.review_queue(&req, p).await.unwrap().is_empty(),
            "{}",
            b.name
        );
        assert!(app.check_not_paused(&w, p).await.is_ok());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_worker_cannot_read_or_change_another_workers_opt_ins() {
    for b in backends().await {
        let app = &b.app;
        let org = unique("org");
        let a = user(app, &org, Role::Worker).await;
        let other = user(app, &org, Role::Worker).await;
        let stranger = user(app, &unique("org"), Role::Worker).await;
        opt_in(app, &a, &["violence", "hate"]).await;
        opt_in(app, &other, &["drugs"]).await;
        assert_eq!(
            app.my_sensitivity(&a).await.unwrap().opted_in,
            vec!["violence", "hate"]
        );
        assert_eq!(
            app.my_sensitivity(&other).await.unwrap().opted_in,
            vec!["drugs"]
        );
        assert!(
            app.my_sensitivity(&stranger)
                .await
                .unwrap()
                .opted_in
                .is_empty()
        );
        // The store refuses a worker id outside the caller's organization.
        let e = app
            .store
            .set_opted_in(stranger.org_id, a.user_id, 1, 0)
            .await
            .unwrap_err();
        assert!(
            matches!(e, fairloop_store::StoreError::NotFound),
            "{}: {e:?}",
            b.name
        );
        assert_eq!(
            app.store
                .opted_in(stranger.org_id, a.user_id)
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            app.my_sensitivity(&a).await.unwrap().opted_in,
            vec!["violence", "hate"]
        );
        // Requesters do not opt in (they take no tasks); unknown categories are named.
        let req = user(app, &org, Role::Requester).await;
        let e = app
            .set_my_sensitivity(
                &req,
                OptInBody {
                    opted_in: vec!["violence".into()],
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Forbidden { .. }));
        let e = app
            .set_my_sensitivity(
                &a,
                OptInBody {
                    opted_in: vec!["gore".into()],
                },
            )
            .await
            .unwrap_err();
        assert_eq!(code(e), "invalid_sensitivity");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn imports_name_unknown_categories_and_exports_carry_them() {
    for b in backends().await {
        let app = &b.app;
        let org = unique("org");
        let req = user(app, &org, Role::Requester).await;
        let p = project(app, &req, None, 1, &lines("ok", 1, &["medical_imagery"])).await;
        let bad = lines("x", 1, &[]) + &lines("y", 1, &["gore"]);
        let report = import(app, &req, p, &bad).await;
        assert!(report.rejected);
        assert_eq!(report.errors.len(), 1);
        assert_eq!(report.errors[0].line, 2);
        assert!(
            report.errors[0]
                .message
                .starts_with("sensitivity: unknown sensitivity category \"gore\""),
            "{}",
            report.errors[0].message
        );
        let view = app.project_wellbeing(&req, p).await.unwrap();
        assert_eq!(view.item_sensitivity, vec!["medical_imagery"]);
        // Export: the item's categories as imported.
        let mut rx = app
            .export(
                &req,
                p,
                fairloop_app::export::ExportFormat::Jsonl,
                Default::default(),
            )
            .await
            .expect("export");
        let mut out = Vec::new();
        while let Some(chunk) = rx.recv().await {
            out.extend(chunk.expect("chunk"));
        }
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains(r#""sensitivity":["medical_imagery"]"#),
            "{}: {text}",
            b.name
        );
        // Limits above the platform's are refused with the field named.
        let e = app
            .set_project_wellbeing(
                &req,
                p,
                WellbeingInput {
                    daily_exposure_limit: Some(1000),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        assert!(
            format!("{e:?}").contains("wellbeing.daily_exposure_limit"),
            "{e:?}"
        );
    }
}
