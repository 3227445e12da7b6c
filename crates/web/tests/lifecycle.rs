//! The project lifecycle and the guideline quiz over the API, on every backend: moves and refusals per state, no
//! work outside active and winding down, closing with notice and at the end date, closing now paying notice
//! exactly once (also when two closes race), tenancy, the forecast, and a quiz that blocks the next task.

mod common;

use common::{
    TestApp, TestUser, expect_error, expect_status, jsonl_items, minimal_template, on_every_backend,
};
use fairloop_app::lifecycle::LifecycleClosing;
use fairloop_domain::Role;
use fairloop_domain::lifecycle::DAY_MS;
use fairloop_domain::time::now_millis;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn set_state(app: &TestApp, token: &str, project: i64, state: &str) -> reqwest::Response {
    app.post(
        token,
        &format!("/api/v1/projects/{project}/lifecycle"),
        json!({"state": state, "reason": format!("going {state}")}),
    )
    .await
}

async fn lifecycle(app: &TestApp, token: &str, project: i64) -> Value {
    expect_status(
        app.api
            .get(token, &format!("/api/v1/projects/{project}/lifecycle"))
            .await,
        StatusCode::OK,
    )
    .await
}

/// A paying project with items, terms promising `notice_days` of notice and `compensation` per worker.
async fn paying_project(app: &TestApp, req: &TestUser, notice_days: u32, compensation: i64) -> i64 {
    let project = app
        .project(
            &req.token,
            json!({"name": "Fruit", "template": minimal_template(), "overlap": 3,
                   "pay": {"model": "per_task", "amount_minor": 10, "currency": "USD"}}),
        )
        .await;
    app.items(&req.token, project, &jsonl_items("f", 0..10))
        .await;
    let r = app.post(&req.token,
        &format!("/api/v1/projects/{project}/terms"),
        json!({"summary": {"notice_days": notice_days, "notice_compensation_minor": compensation},
               "markdown": "Work for pay."}),
    )
    .await;
    expect_status(r, StatusCode::CREATED).await;
    project
}

/// The worker accepts the current terms.
async fn accept_terms(app: &TestApp, worker: &TestUser, project: i64) {
    let t = expect_status(
        app.api
            .get(&worker.token, &format!("/api/v1/projects/{project}/terms"))
            .await,
        StatusCode::OK,
    )
    .await;
    let r = app
        .post(
            &worker.token,
            &format!("/api/v1/projects/{project}/terms/decision"),
            json!({"version": t["version"], "text_hash": t["text_hash"], "accept": true}),
        )
        .await;
    assert!(r.status().is_success(), "accept: {}", r.status());
}

/// The worker takes a task and answers it.
async fn work_one(app: &TestApp, worker: &TestUser, project: i64) {
    let t = app.claim(&worker.token, project).await;
    let r = app
        .submit(
            &worker.token,
            t["assignment_id"].as_i64().unwrap(),
            json!({"label": "a"}),
            None,
        )
        .await;
    expect_status(r, StatusCode::OK).await;
}

async fn notice_transactions(app: &TestApp, project: i64) -> Vec<(i64, String)> {
    app.app
        .store
        .read_tx(move |tx| {
            tx.query(
                "SELECT worker_id, source_key FROM ledger_transactions WHERE kind = 'notice_compensation' \
                 AND project_id = $1 ORDER BY worker_id",
                fairloop_store::params![project],
            )?
            .iter()
            .map(|r| Ok((r.i64(0)?, r.string(1)?)))
            .collect()
        })
        .await
        .unwrap()
}

fn principal(u: &TestUser, role: Role) -> fairloop_store::Principal {
    fairloop_store::Principal {
        user_id: u.id,
        org_id: u.org_id,
        role,
        email: u.email.clone(),
    }
}

/// The worker's earnings balance in USD (what the ledger owes them).
async fn earned(app: &TestApp, worker: &TestUser) -> i64 {
    app.app
        .earnings_of(&principal(worker, Role::Worker), worker.id)
        .await
        .unwrap()
        .into_iter()
        .find(|(c, _)| c == "USD")
        .map_or(0, |(_, m)| m)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_state_allows_only_its_moves_and_its_work() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("Lab", "req@lab.test", Role::Requester).await;
        let worker = app.user("Lab", "w@lab.test", Role::Worker).await;
        // Created through the API as before: active, and it says so.
        let plain = app
            .project(
                &req.token,
                json!({"name": "Plain", "template": minimal_template()}),
            )
            .await;
        let p = expect_status(app.get_project(&req.token, plain).await, StatusCode::OK).await;
        assert_eq!(p["state"], "active");
        // A draft: invisible to workers (not listed, 404), no tasks, no terms to accept.
        let r = app
            .create_project(
                &req.token,
                &json!({"name": "Draft", "template": minimal_template(), "state": "draft"}),
            )
            .await;
        let draft = expect_status(r, StatusCode::CREATED).await;
        assert_eq!(draft["state"], "draft");
        let draft = draft["id"].as_i64().unwrap();
        app.items(&req.token, draft, &jsonl_items("d", 0..3)).await;
        let listed = expect_status(
            app.api.get(&worker.token, "/api/v1/projects").await,
            StatusCode::OK,
        )
        .await;
        let ids: Vec<i64> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_i64().unwrap())
            .collect();
        assert!(ids.contains(&plain) && !ids.contains(&draft), "{ids:?}");
        expect_status(
            app.get_project(&worker.token, draft).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        expect_status(app.next(&worker.token, draft).await, StatusCode::NOT_FOUND).await;
        expect_status(
            app.api
                .get(
                    &worker.token,
                    &format!("/api/v1/projects/{draft}/lifecycle"),
                )
                .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        // A bad move is 409 with a clear code; a worker may not move anything.
        expect_error(
            set_state(&app, &req.token, draft, "paused").await,
            StatusCode::CONFLICT,
            "invalid_transition",
        )
        .await;
        expect_error(
            set_state(&app, &req.token, draft, "winding_down").await,
            StatusCode::CONFLICT,
            "invalid_transition",
        )
        .await;
        expect_status(
            set_state(&app, &worker.token, draft, "active").await,
            StatusCode::FORBIDDEN,
        )
        .await;
        let r = app
            .post(
                &req.token,
                &format!("/api/v1/projects/{draft}/lifecycle"),
                json!({"state": "open"}),
            )
            .await;
        assert!(
            r.status().is_client_error(),
            "an unknown state is refused: {}",
            r.status()
        );

        // Recruiting: visible, terms can be accepted, no tasks.
        let v = expect_status(
            set_state(&app, &req.token, draft, "recruiting").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(v["state"], "recruiting");
        assert_eq!(
            v["allowed"],
            json!(["active", "paused", "winding_down", "closed"])
        );
        expect_status(
            app.post(
                &req.token,
                &format!("/api/v1/projects/{draft}/terms"),
                json!({"summary": {}, "markdown": "Terms."}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        accept_terms(&app, &worker, draft).await;
        let e = expect_error(
            app.next(&worker.token, draft).await,
            StatusCode::CONFLICT,
            "project_not_active",
        )
        .await;
        assert!(e["message"].as_str().unwrap().contains("recruiting"), "{e}");
        let seen = lifecycle(&app, &worker.token, draft).await;
        assert_eq!(
            (
                seen["state"].as_str(),
                seen["allowed"].as_array().map(Vec::len)
            ),
            (Some("recruiting"), Some(0))
        );

        // Active: tasks. Paused: no new tasks, but the lease held is submitted; the reason is shown.
        expect_status(
            set_state(&app, &req.token, draft, "active").await,
            StatusCode::OK,
        )
        .await;
        let held = app.claim(&worker.token, draft).await;
        expect_status(
            set_state(&app, &req.token, draft, "paused").await,
            StatusCode::OK,
        )
        .await;
        let e = expect_error(
            app.next(&worker.token, draft).await,
            StatusCode::CONFLICT,
            "project_not_active",
        )
        .await;
        assert!(
            e["message"].as_str().unwrap().contains("going paused"),
            "{e}"
        );
        let r = app
            .submit(
                &worker.token,
                held["assignment_id"].as_i64().unwrap(),
                json!({"label": "b"}),
                None,
            )
            .await;
        expect_status(r, StatusCode::OK).await;
        expect_error(
            set_state(&app, &req.token, draft, "draft").await,
            StatusCode::CONFLICT,
            "invalid_transition",
        )
        .await;
        expect_status(
            set_state(&app, &req.token, draft, "active").await,
            StatusCode::OK,
        )
        .await;
        let open = app.claim(&worker.token, draft).await;

        // Closed (no notice promised: closing with notice closes at once): no tasks, nothing submitted, final.
        let out = expect_status(
            app.post(
                &req.token,
                &format!("/api/v1/projects/{draft}/close"),
                json!({"mode": "with_notice"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(out["lifecycle"]["state"], "closed");
        expect_error(
            app.next(&worker.token, draft).await,
            StatusCode::CONFLICT,
            "project_not_active",
        )
        .await;
        let r = app
            .submit(
                &worker.token,
                open["assignment_id"].as_i64().unwrap(),
                json!({"label": "a"}),
                None,
            )
            .await;
        expect_error(r, StatusCode::CONFLICT, "project_not_active").await;
        expect_error(
            set_state(&app, &req.token, draft, "active").await,
            StatusCode::CONFLICT,
            "invalid_transition",
        )
        .await;
        expect_error(
            app.post(
                &req.token,
                &format!("/api/v1/projects/{draft}/close"),
                json!({"mode": "now"}),
            )
            .await,
            StatusCode::CONFLICT,
            "project_closed",
        )
        .await;
        // Read-only: no new items either.
        expect_error(
            app.import_jsonl(&req.token, draft, &jsonl_items("late", 0..1), None)
                .await,
            StatusCode::CONFLICT,
            "project_closed",
        )
        .await;
        // The closed lease gave its slot back: the counts stay true.
        let stats = app.stats_json(&req.token, draft).await;
        assert_eq!(stats["open_assignments"], 0);
        let history = expect_status(
            app.api
                .get(
                    &req.token,
                    &format!("/api/v1/projects/{draft}/lifecycle/history"),
                )
                .await,
            StatusCode::OK,
        )
        .await;
        let moves: Vec<String> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                format!(
                    "{}>{}",
                    e["from"].as_str().unwrap(),
                    e["to"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(
            moves,
            [
                "active>closed",
                "paused>active",
                "active>paused",
                "recruiting>active",
                "draft>recruiting"
            ]
        );
        // The untouched project still works as it always did.
        app.items(&req.token, plain, &jsonl_items("p", 0..1)).await;
        app.claim(&worker.token, plain).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_organization_can_neither_see_nor_change_a_lifecycle() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("Lab", "req@lab.test", Role::Requester).await;
        let other_req = app.user("Other", "req@other.test", Role::Requester).await;
        let other_worker = app.user("Other", "w@other.test", Role::Worker).await;
        let project = app
            .project(
                &req.token,
                json!({"name": "Mine", "template": minimal_template()}),
            )
            .await;
        for token in [&other_req.token, &other_worker.token] {
            expect_status(
                app.api
                    .get(token, &format!("/api/v1/projects/{project}/lifecycle"))
                    .await,
                StatusCode::NOT_FOUND,
            )
            .await;
            expect_status(
                app.api
                    .get(
                        token,
                        &format!("/api/v1/projects/{project}/lifecycle/history"),
                    )
                    .await,
                StatusCode::NOT_FOUND,
            )
            .await;
        }
        expect_status(
            set_state(&app, &other_req.token, project, "paused").await,
            StatusCode::NOT_FOUND,
        )
        .await;
        expect_status(
            app.post(
                &other_req.token,
                &format!("/api/v1/projects/{project}/close"),
                json!({"mode": "now"}),
            )
            .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        expect_status(
            set_state(&app, &other_worker.token, project, "paused").await,
            StatusCode::FORBIDDEN,
        )
        .await;
        // Nothing changed.
        assert_eq!(
            lifecycle(&app, &req.token, project).await["state"],
            "active"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_with_notice_shows_the_end_date_and_the_job_closes_it_then() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("Lab", "req@lab.test", Role::Requester).await;
        let worker = app.user("Lab", "w@lab.test", Role::Worker).await;
        let project = paying_project(&app, &req, 14, 1400).await;
        accept_terms(&app, &worker, project).await;
        work_one(&app, &worker, project).await;
        let before = now_millis();
        let out = expect_status(
            app.post(
                &req.token,
                &format!("/api/v1/projects/{project}/close"),
                json!({"mode": "with_notice", "reason": "the model shipped"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(out["compensation_posted"], 0);
        let v = lifecycle(&app, &worker.token, project).await;
        assert_eq!(v["state"], "winding_down");
        assert_eq!(v["reason"], "the model shipped");
        let ends = app
            .app
            .store
            .lifecycle(req.org_id, project)
            .await
            .unwrap()
            .ends_at
            .unwrap();
        assert!(
            (ends - (before + 14 * DAY_MS)).abs() < 60_000,
            "ends 14 days on: {v}"
        );
        // The worker is told in their inbox, with the requester's reason; the requester is not.
        let inbox = expect_status(
            app.api.get(&worker.token, "/api/v1/me/notices").await,
            StatusCode::OK,
        )
        .await;
        let notice = inbox["notices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["kind"] == "lifecycle")
            .unwrap_or_else(|| panic!("a lifecycle notice: {inbox}"));
        assert!(
            notice["body"]
                .as_str()
                .unwrap()
                .contains("the model shipped"),
            "{notice}"
        );
        let own = expect_status(
            app.api.get(&req.token, "/api/v1/me/notices").await,
            StatusCode::OK,
        )
        .await;
        assert!(
            own["notices"]
                .as_array()
                .unwrap()
                .iter()
                .all(|n| n["kind"] != "lifecycle"),
            "{own}"
        );
        // The worker sees the end date and the work left in the forecast, and keeps working.
        let f = &v["forecast"];
        assert_eq!(f["ends_at"], v["ends_at"]);
        assert_eq!(f["remaining"], 10 * 3 - 1);
        assert_eq!(
            f["recent_submissions"], 0,
            "the hourly roll-up has not run yet"
        );
        assert!(
            (f["days_to_end"].as_f64().unwrap() - 14.0).abs() < 0.01,
            "{f}"
        );
        work_one(&app, &worker, project).await;
        let listed = expect_status(
            app.api.get(&worker.token, "/api/v1/projects").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(listed[0]["state"], "winding_down");
        // Closing with notice again is refused; the transparency report says notice was given.
        expect_error(
            app.post(
                &req.token,
                &format!("/api/v1/projects/{project}/close"),
                json!({"mode": "with_notice"}),
            )
            .await,
            StatusCode::CONFLICT,
            "invalid_transition",
        )
        .await;
        let t = expect_status(
            app.api
                .get(
                    &worker.token,
                    &format!("/api/v1/projects/{project}/transparency"),
                )
                .await,
            StatusCode::OK,
        )
        .await;
        assert!(
            t["notice"].as_str().unwrap().contains("14 days of notice"),
            "{t}"
        );

        // The job leaves it alone before the end date and closes it after; the full notice was given: no pay.
        let job = LifecycleClosing::new(app.app.clone());
        assert_eq!(job.try_run_one(ends - 1).await.unwrap(), 0);
        assert_eq!(job.try_run_one(ends + 1).await.unwrap(), 1);
        assert_eq!(job.try_run_one(ends + 2).await.unwrap(), 0);
        let v = lifecycle(&app, &worker.token, project).await;
        assert_eq!(v["state"], "closed");
        assert_eq!(v["closure"]["compensated_workers"], 0);
        assert!(
            v["closure"]["notice_given_days"].as_f64().unwrap() >= 13.99,
            "{v}"
        );
        assert!(notice_transactions(&app, project).await.is_empty());
        expect_error(
            app.next(&worker.token, project).await,
            StatusCode::CONFLICT,
            "project_not_active",
        )
        .await;
        let t = expect_status(
            app.api
                .get(
                    &worker.token,
                    &format!("/api/v1/projects/{project}/transparency"),
                )
                .await,
            StatusCode::OK,
        )
        .await;
        assert!(
            t["notice"]
                .as_str()
                .unwrap()
                .starts_with("Closed with 14 of the 14 days"),
            "{t}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_now_pays_the_notice_once_even_when_two_closes_race() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("Lab", "req@lab.test", Role::Requester).await;
        let admin = app.user("Lab", "admin@lab.test", Role::Admin).await;
        let w1 = app.user("Lab", "w1@lab.test", Role::Worker).await;
        let w2 = app.user("Lab", "w2@lab.test", Role::Worker).await;
        let idle = app.user("Lab", "idle@lab.test", Role::Worker).await;
        let project = paying_project(&app, &req, 14, 1400).await;
        for w in [&w1, &w2, &idle] {
            accept_terms(&app, w, project).await;
        }
        work_one(&app, &w1, project).await;
        work_one(&app, &w2, project).await;
        let held = app.claim(&w1.token, project).await;

        // Two closes at once, by two people: one closes, the other finds it closed.
        let path = format!("/api/v1/projects/{project}/close");
        let body = json!({"mode": "now", "reason": "funding ended"});
        let (a, b) = tokio::join!(
            app.post(&req.token, &path, body.clone()),
            app.post(&admin.token, &path, body.clone())
        );
        let mut statuses = [a.status(), b.status()];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
        let ok = if a.status() == StatusCode::OK { a } else { b };
        let out = expect_status(ok, StatusCode::OK).await;
        assert_eq!(out["compensation_posted"], 2);
        assert_eq!(out["lifecycle"]["closure"]["compensated_workers"], 2);
        assert_eq!(out["lifecycle"]["closure"]["compensation_minor"], 2800);
        assert_eq!(out["lifecycle"]["closure"]["notice_given_days"], 0.0);
        // A third close pays nothing more.
        expect_error(
            app.post(&req.token, &path, body).await,
            StatusCode::CONFLICT,
            "project_closed",
        )
        .await;
        let paid = notice_transactions(&app, project).await;
        assert_eq!(
            paid,
            [
                (w1.id, format!("notice:{project}:{}", w1.id)),
                (w2.id, format!("notice:{project}:{}", w2.id))
            ]
        );
        // Each worker who worked was paid 14.00 for the notice; the one who only accepted the terms was not.
        assert_eq!(earned(&app, &w1).await, 1400);
        assert_eq!(earned(&app, &w2).await, 1400);
        assert_eq!(earned(&app, &idle).await, 0);
        let report = app.app.verify_ledger(|_, _| {}).await.unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        // The lease held at the close ended with it.
        let r = app
            .submit(
                &w1.token,
                held["assignment_id"].as_i64().unwrap(),
                json!({"label": "a"}),
                None,
            )
            .await;
        expect_error(r, StatusCode::CONFLICT, "project_not_active").await;
        let t = expect_status(
            app.api
                .get(
                    &w2.token,
                    &format!("/api/v1/projects/{project}/transparency"),
                )
                .await,
            StatusCode::OK,
        )
        .await;
        let notice = t["notice"].as_str().unwrap();
        assert!(
            notice.contains("Closed with 0 of the 14 days")
                && notice.contains("2 workers were paid"),
            "{notice}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_early_during_the_notice_pays_the_share_not_given() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("Lab", "req@lab.test", Role::Requester).await;
        let w = app.user("Lab", "w@lab.test", Role::Worker).await;
        let project = paying_project(&app, &req, 10, 1000).await;
        accept_terms(&app, &w, project).await;
        work_one(&app, &w, project).await;
        let p = principal(&req, Role::Requester);
        use fairloop_app::lifecycle::{CloseBody, CloseMode};
        let t0 = now_millis();
        app.app
            .close_project_at(
                &p,
                project,
                CloseBody {
                    mode: CloseMode::WithNotice,
                    reason: String::new(),
                },
                t0,
            )
            .await
            .unwrap();
        // Four of the ten days later it is closed now: six tenths of 10.00 are owed.
        let out = app
            .app
            .close_project_at(
                &p,
                project,
                CloseBody {
                    mode: CloseMode::Now,
                    reason: String::new(),
                },
                t0 + 4 * DAY_MS,
            )
            .await
            .unwrap();
        assert_eq!(out.compensation_posted, 1);
        assert_eq!(earned(&app, &w).await, 600);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guideline_quiz_blocks_the_next_task_until_passed() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("Lab", "req@lab.test", Role::Requester).await;
        let w = app.user("Lab", "w@lab.test", Role::Worker).await;
        let other = app.user("Other", "req@other.test", Role::Requester).await;
        let project = app.project(&req.token, json!({"name": "Fruit", "template": minimal_template(), "overlap": 2})).await;
        app.items(&req.token, project, &jsonl_items("f", 0..5)).await;
        let g = format!("/api/v1/projects/{project}/guidelines");
        expect_status(app.post(&req.token, &g, json!({"markdown": "Pick a for apples."})).await, StatusCode::CREATED).await;
        work_one(&app, &w, project).await;
        // A bad quiz is refused with the field named.
        let bad = json!({"markdown": "v2", "quiz": {"questions": [{"prompt": "?", "options": ["a", "b"], "answer": "c"}]}});
        let e = expect_error(app.post(&req.token, &g, bad).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_quiz").await;
        assert!(e["message"].as_str().unwrap().contains("quiz.questions[0].answer"), "{e}");
        let quiz = json!({"questions": [
            {"prompt": "Bananas?", "options": ["a", "b"], "answer": "b", "explanation": "Bananas are b since version 2."},
            {"prompt": "Apples?", "options": ["a", "b"], "answer": "a", "explanation": "Apples stay a."}
        ]});
        let r = app.post(&req.token, &g, json!({"markdown": "Pick a for apples, b for bananas.", "quiz": quiz})).await;
        assert_eq!(expect_status(r, StatusCode::CREATED).await["version"], 2);

        // The worker must acknowledge version 2, and saying so is not enough: the quiz must be passed.
        expect_error(app.next(&w.token, project).await, StatusCode::FORBIDDEN, "guidelines_changed").await;
        expect_error(
            app.post(&w.token, &format!("{g}/acknowledge"), json!({"version": 2})).await,
            StatusCode::CONFLICT,
            "quiz_required",
        )
        .await;
        let q = expect_status(app.api.get(&w.token, &format!("{g}/quiz")).await, StatusCode::OK).await;
        assert_eq!((q["version"].as_i64(), q["pass_mark"].as_i64(), q["passed"].as_bool()), (Some(2), Some(2), Some(false)));
        assert!(q["questions"][0].get("answer").is_none() && q["questions"][0].get("explanation").is_none(), "{q}");
        // An incomplete attempt is invalid (and not recorded); a wrong one is recorded and explained.
        expect_error(
            app.post(&w.token, &format!("{g}/quiz"), json!({"version": 2, "answers": {"q1": "b"}})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_answer",
        )
        .await;
        let r = expect_status(
            app.post(&w.token, &format!("{g}/quiz"), json!({"version": 2, "answers": {"q1": "a", "q2": "a"}})).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!((r["passed"].as_bool(), r["correct"].as_i64()), (Some(false), Some(1)));
        assert_eq!(r["results"][0]["explanation"], "Bananas are b since version 2.");
        assert_eq!(r["results"][1]["explanation"], Value::Null, "a right answer needs no explanation");
        expect_error(app.next(&w.token, project).await, StatusCode::FORBIDDEN, "guidelines_changed").await;
        // Another organization sees neither the quiz nor its results.
        expect_status(app.api.get(&other.token, &format!("{g}/quiz")).await, StatusCode::NOT_FOUND).await;
        expect_status(app.api.get(&other.token, &format!("{g}/quiz/results")).await, StatusCode::NOT_FOUND).await;
        expect_status(app.api.get(&w.token, &format!("{g}/quiz/results")).await, StatusCode::FORBIDDEN).await;

        let r = expect_status(
            app.post(&w.token, &format!("{g}/quiz"), json!({"version": 2, "answers": {"q1": "b", "q2": "a"}})).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(r["passed"], true);
        app.claim(&w.token, project).await;
        // The requester sees every attempt.
        let res = expect_status(app.api.get(&req.token, &format!("{g}/quiz/results")).await, StatusCode::OK).await;
        assert_eq!((res["attempts"].as_i64(), res["workers_passed"].as_i64()), (Some(2), Some(1)));
        assert_eq!(res["questions"][0]["right_share"], 0.5);
        assert_eq!(res["questions"][1]["right_share"], 1.0);
        assert_eq!(res["workers"][0]["email"], "w@lab.test");
        assert_eq!(res["workers"][0]["attempts"], 2);
    })
    .await;
}
