//! Vendors, data downloads, account deletion and duplicate emails (issue 7), on every backend:
//! - a vendor manager sees and changes only their own workers (API and pages), never another vendor's or the
//!   lab's direct workers, and sees their work and pay; the lab sees which vendor each worker came through;
//! - a worker's data download holds their data and nobody else's;
//! - deleting an account removes the identity, keeps the ledger balanced and blocks sign-in, and the email can
//!   be registered again;
//! - an email that already has an account (in any case, with spaces) is refused with a clear error.

mod common;

use common::{TestApp, expect_error, expect_status, minimal_template, on_every_backend};
use fairloop_app::invitations::AcceptInput;
use fairloop_domain::Role;
use fairloop_domain::time::now_millis;
use reqwest::StatusCode;
use serde_json::{Value, json};

const PASSWORD: &str = "a long test password";

/// A vendor with one manager; answers (organization id, manager token).
async fn vendor(app: &TestApp, name: &str, email: &str) -> (i64, String) {
    let (user, token) = app
        .app
        .create_vendor(name, email, "Manager", Some(PASSWORD))
        .await
        .unwrap();
    (user.org_id, token)
}

/// The vendor manager invites a worker into the lab and the worker accepts; answers (user id, API token).
async fn vendor_worker(app: &TestApp, manager: &str, lab: i64, email: &str) -> (i64, String) {
    let created = expect_status(
        app.post(
            manager,
            "/api/v1/vendor/invitations",
            json!({"org_id": lab, "email": email}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let secret = created["path"]
        .as_str()
        .unwrap()
        .strip_prefix("/invite/")
        .unwrap()
        .to_string();
    let signed_in = app
        .app
        .accept_invitation(
            &secret,
            AcceptInput {
                email: email.into(),
                name: format!("Worker {email}"),
                password: PASSWORD.into(),
                confirm: PASSWORD.into(),
            },
        )
        .await
        .unwrap();
    let (_, token) = app
        .app
        .issue_token(signed_in.user.id, "test")
        .await
        .unwrap();
    (signed_in.user.id, token)
}

/// A paying project (400 minor units a task) with `n` items, funded.
async fn paid_project(app: &TestApp, admin: &str, n: usize) -> i64 {
    expect_status(
        app.post(
            admin,
            "/api/v1/ledger/fund",
            json!({"amount_minor": 100_000, "currency": "EUR", "reference": "f1"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let project = app
        .project(
            admin,
            json!({"name": "Skin images", "template": minimal_template(), "max_open_per_worker": 1,
                   "pay": {"model": "per_task", "amount_minor": 400, "currency": "EUR"}}),
        )
        .await;
    app.items(admin, project, &common::jsonl_items("i", 0..n))
        .await;
    project
}

async fn work(app: &TestApp, token: &str, project: i64, tasks: usize) {
    for _ in 0..tasks {
        let task = app.claim(token, project).await;
        let id = task["assignment_id"].as_i64().unwrap();
        expect_status(
            app.submit(token, id, json!({"label": "a"}), None).await,
            StatusCode::OK,
        )
        .await;
    }
}

async fn post_pay(app: &TestApp) {
    fairloop_app::ledger::PayPosting::new(app.app.clone())
        .try_run_one(now_millis())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vendor_a_sees_and_changes_only_its_own_workers() {
    on_every_backend(async |app: TestApp| {
        let admin = app.user("Lab", "admin@lab.test", Role::Admin).await;
        let requester = app.user("Lab", "req@lab.test", Role::Requester).await;
        let direct = app.user("Lab", "direct@lab.test", Role::Worker).await;
        let other_lab = app.user("Other Lab", "admin@other.test", Role::Admin).await;
        let (vendor_a, a) = vendor(&app, "Vendor A", "a@vendor-a.test").await;
        let (vendor_b, b) = vendor(&app, "Vendor B", "b@vendor-b.test").await;

        // A lab cannot be turned into a vendor, and the refusal adds no one to it.
        let err = app
            .app
            .create_vendor("Lab", "sneaky@vendor.test", "Sneaky", None)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                fairloop_app::AppError::Conflict {
                    code: "organization_in_use",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(
            app.app
                .store
                .user_by_email("sneaky@vendor.test")
                .await
                .unwrap()
                .is_none()
        );

        // Contracting: lab admins only, by the vendor's exact name.
        let r = app
            .post(
                &requester.token,
                "/api/v1/vendors/contracts",
                json!({"vendor": "Vendor A"}),
            )
            .await;
        expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
        let r = app
            .post(
                &a,
                "/api/v1/vendors/contracts",
                json!({"vendor": "Vendor B"}),
            )
            .await;
        expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
        let r = app
            .post(
                &admin.token,
                "/api/v1/vendors/contracts",
                json!({"vendor": "Vendor Z"}),
            )
            .await;
        let body = expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_vendor").await;
        assert!(body["message"].as_str().unwrap().starts_with("vendor:"));
        // A lab is not a vendor: its name does not contract it.
        let r = app
            .post(
                &admin.token,
                "/api/v1/vendors/contracts",
                json!({"vendor": "Other Lab"}),
            )
            .await;
        expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "unknown_vendor").await;
        for name in ["Vendor A", "Vendor B"] {
            let c = expect_status(
                app.post(
                    &admin.token,
                    "/api/v1/vendors/contracts",
                    json!({"vendor": name}),
                )
                .await,
                StatusCode::CREATED,
            )
            .await;
            assert_eq!(c["vendor_name"], name);
        }

        // A vendor invites only into labs that contract it, and only vendor managers use the vendor API.
        let r = app
            .post(
                &a,
                "/api/v1/vendor/invitations",
                json!({"org_id": other_lab.org_id}),
            )
            .await;
        expect_error(r, StatusCode::CONFLICT, "no_contract").await;
        let r = app
            .post(
                &admin.token,
                "/api/v1/vendor/invitations",
                json!({"org_id": admin.org_id}),
            )
            .await;
        expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
        expect_error(
            app.get(&admin.token, "/api/v1/vendor/workers").await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        expect_error(
            app.get(&direct.token, "/api/v1/vendor/workers").await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;

        let (wa, wa_token) = vendor_worker(&app, &a, admin.org_id, "ann@workers.test").await;
        let (wb, wb_token) = vendor_worker(&app, &b, admin.org_id, "bob@workers.test").await;
        // Vendor workers are the lab's workers: same organization, same projects.
        let me: Value = app.me(&wa_token).await.json().await.unwrap();
        assert_eq!(me["org_id"], admin.org_id);
        assert_eq!(me["role"], "worker");

        let project = paid_project(&app, &admin.token, 10).await;
        work(&app, &wa_token, project, 2).await;
        work(&app, &wb_token, project, 1).await;
        work(&app, &direct.token, project, 1).await;
        post_pay(&app).await;

        // Vendor A: its one worker, with work and pay; nobody else.
        let pool = expect_status(app.get(&a, "/api/v1/vendor/workers").await, StatusCode::OK).await;
        let workers = pool["workers"].as_array().unwrap();
        assert_eq!(workers.len(), 1, "{pool}");
        assert_eq!(workers[0]["id"], wa);
        assert_eq!(workers[0]["annotations"], 2);
        assert_eq!(workers[0]["org_name"], "Lab");
        let balances = pool["balances"].as_array().unwrap();
        assert_eq!(balances.len(), 1, "{pool}");
        assert_eq!(balances[0]["worker_id"], wa);
        assert_eq!(balances[0]["kind"], "earnings");
        assert_eq!(balances[0]["balance_minor"], 800);
        let detail = expect_status(
            app.get(&a, &format!("/api/v1/vendor/workers/{wa}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(detail["projects"][0]["name"], "Skin images");
        assert_eq!(detail["projects"][0]["annotations"], 2);
        let entries = detail["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 2, "{detail}");
        assert!(
            entries
                .iter()
                .all(|e| e["kind"] == "task_pay" && e["amount_minor"] == 400)
        );

        // Vendor B: the mirror image.
        let pool_b =
            expect_status(app.get(&b, "/api/v1/vendor/workers").await, StatusCode::OK).await;
        let ids: Vec<&Value> = pool_b["workers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| &w["id"])
            .collect();
        assert_eq!(ids, vec![&json!(wb)]);
        assert_eq!(pool_b["balances"][0]["balance_minor"], 400);

        // Vendor A can neither read nor change B's worker or the lab's direct worker: 404, as if absent.
        for other in [wb, direct.id] {
            let path = format!("/api/v1/vendor/workers/{other}");
            expect_error(app.get(&a, &path).await, StatusCode::NOT_FOUND, "not_found").await;
            let r = app
                .send(
                    reqwest::Method::PUT,
                    &a,
                    &path,
                    Some(json!({"reference": "mine now"})),
                )
                .await;
            expect_error(r, StatusCode::NOT_FOUND, "not_found").await;
        }
        let path = format!("/api/v1/vendor/workers/{wa}");
        let r = app
            .send(
                reqwest::Method::PUT,
                &a,
                &path,
                Some(json!({"reference": "EMP-7"})),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let detail = expect_status(app.get(&a, &path).await, StatusCode::OK).await;
        assert_eq!(detail["worker"]["vendor_ref"], "EMP-7");
        let detail_b = expect_status(
            app.get(&b, &format!("/api/v1/vendor/workers/{wb}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(detail_b["worker"]["vendor_ref"], Value::Null);

        // Invitations: B cannot withdraw A's.
        let open = expect_status(
            app.post(
                &a,
                "/api/v1/vendor/invitations",
                json!({"org_id": admin.org_id}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let inv = open["id"].as_i64().unwrap();
        let r = app
            .send(
                reqwest::Method::DELETE,
                &b,
                &format!("/api/v1/vendor/invitations/{inv}"),
                None,
            )
            .await;
        expect_error(r, StatusCode::NOT_FOUND, "not_found").await;
        let listed = expect_status(
            app.get(&b, "/api/v1/vendor/invitations").await,
            StatusCode::OK,
        )
        .await;
        assert!(
            listed["invitations"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["id"] != inv)
        );
        let r = app
            .send(
                reqwest::Method::DELETE,
                &a,
                &format!("/api/v1/vendor/invitations/{inv}"),
                None,
            )
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);

        // The lab sees who came through which vendor.
        let lab = expect_status(
            app.get(&requester.token, "/api/v1/vendors/workers").await,
            StatusCode::OK,
        )
        .await;
        let by_id = |id: i64| {
            lab["workers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|w| w["id"] == id)
                .cloned()
                .unwrap()
        };
        assert_eq!(by_id(wa)["vendor_name"], "Vendor A");
        assert_eq!(by_id(wb)["vendor_name"], "Vendor B");
        assert_eq!(by_id(direct.id)["vendor_name"], Value::Null);
        expect_error(
            app.get(&wa_token, "/api/v1/vendors/workers").await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        let labs = expect_status(app.get(&a, "/api/v1/vendor/labs").await, StatusCode::OK).await;
        assert_eq!(labs["labs"].as_array().unwrap().len(), 1);
        assert_eq!(labs["labs"][0]["org_name"], "Lab");
        assert_eq!(labs["labs"][0]["workers"], 1);

        // Pages: the console lists A's worker only; B's worker page is a 404 for A.
        let sa = app.sign_in_page("a@vendor-a.test", PASSWORD).await;
        let (status, html) = sa.get("/vendors").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Worker ann@workers.test"), "{html}");
        assert!(!html.contains("bob@workers.test") && !html.contains("direct@lab.test"));
        // A vendor's nav is about its workers: none of the lab's pages (projects, spend, webhooks).
        assert!(html.contains(">Your workers</a>"), "{html}");
        assert!(!html.contains(r#"href="/projects""#) && !html.contains(r#"href="/spend""#));
        assert!(html.contains("€8.00") || html.contains("8.00"), "{html}");
        let (status, html) = sa.get(&format!("/vendor/workers/{wa}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains("Skin images") && html.contains("EMP-7"),
            "{html}"
        );
        let (status, html) = sa.get(&format!("/vendor/workers/{wb}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(!html.contains("bob@workers.test"));
        let r = sa
            .post(
                &format!("/vendor/workers/{wb}/reference"),
                "reference=stolen",
            )
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let detail_b = expect_status(
            app.get(&b, &format!("/api/v1/vendor/workers/{wb}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(detail_b["worker"]["vendor_ref"], Value::Null);
        // An invitation made on the page is A's and admits to the lab.
        let r = sa
            .post(
                "/vendor/invitations",
                &format!(
                    "org_id={}&email=cat%40workers.test&valid_days=3",
                    admin.org_id
                ),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("id=\"new-link\"") && html.contains("invite&#x2f;"),
            "{html}"
        );
        let listed = expect_status(
            app.get(&a, "/api/v1/vendor/invitations").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(listed["invitations"][0]["email"], "cat@workers.test");
        // The lab's page names the vendors.
        app.app
            .add_user(
                "Lab",
                "admin2@lab.test",
                "Admin Two",
                Role::Admin,
                Some(PASSWORD),
            )
            .await
            .unwrap();
        let sl = app.sign_in_page("admin2@lab.test", PASSWORD).await;
        let (status, html) = sl.get("/vendors").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains(r#"href="/projects""#),
            "a lab admin keeps the lab's nav"
        );
        assert!(
            html.contains("Vendor A") && html.contains("Vendor B") && html.contains("direct"),
            "{html}"
        );

        // Ending the contract stops A's invitations; A's worker stays, still A's.
        let r = app
            .send(
                reqwest::Method::DELETE,
                &admin.token,
                &format!("/api/v1/vendors/contracts/{vendor_a}"),
                None,
            )
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let r = app
            .post(
                &a,
                "/api/v1/vendor/invitations",
                json!({"org_id": admin.org_id}),
            )
            .await;
        expect_error(r, StatusCode::CONFLICT, "no_contract").await;
        let pool = expect_status(app.get(&a, "/api/v1/vendor/workers").await, StatusCode::OK).await;
        assert_eq!(pool["workers"][0]["id"], wa);
        let _ = vendor_b;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_download_holds_the_workers_data_and_nobody_elses() {
    on_every_backend(async |app: TestApp| {
        let admin = app.user("Lab", "admin@lab.test", Role::Admin).await;
        let w1 = app.user("Lab", "one@lab.test", Role::Worker).await;
        let w2 = app.user("Lab", "two@lab.test", Role::Worker).await;
        let stranger = app.user("Elsewhere", "x@else.test", Role::Worker).await;
        let project = paid_project(&app, &admin.token, 6).await;
        work(&app, &w1.token, project, 2).await;
        work(&app, &w2.token, project, 1).await;
        post_pay(&app).await;

        let r = app.get(&w1.token, "/api/v1/me/data").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains("attachment")
        );
        let doc: Value = r.json().await.unwrap();
        assert_eq!(doc["format"], "fairloop-personal-data/1");
        assert_eq!(doc["account"]["email"], "one@lab.test");
        assert_eq!(doc["account"]["organization"], "Lab");
        let annotations = doc["annotations"].as_array().unwrap();
        assert_eq!(annotations.len(), 2);
        assert!(
            annotations
                .iter()
                .all(|a| a["project"] == "Skin images" && a["answers"]["label"] == "a")
        );
        let entries = doc["ledger_entries"].as_array().unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries
                .iter()
                .map(|e| e["amount_minor"].as_i64().unwrap())
                .sum::<i64>(),
            800
        );
        assert_eq!(doc["ledger_accounts"][0]["balance_minor"], 800);
        assert_eq!(doc["assignments"].as_array().unwrap().len(), 2);
        for key in [
            "time_records",
            "terms_decisions",
            "guideline_acknowledgements",
            "notices",
            "payouts",
            "reviews",
            "expertise",
            "credentials",
            "sensitivity_opt_ins",
            "assessment_attempts",
            "interview_transcripts",
        ] {
            assert!(doc[key].is_array(), "{key} missing");
        }
        // Nothing of the other worker: not their email, not their answers, not their pay.
        let text = doc.to_string();
        assert!(!text.contains(&w2.email) && !text.contains(&stranger.email));
        let ids: Vec<i64> = annotations
            .iter()
            .map(|a| a["id"].as_i64().unwrap())
            .collect();
        let doc2: Value = app
            .get(&w2.token, "/api/v1/me/data")
            .await
            .json()
            .await
            .unwrap();
        let ids2: Vec<i64> = doc2["annotations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids2.len(), 1);
        assert!(ids2.iter().all(|i| !ids.contains(i)));
        assert_eq!(doc2["ledger_entries"].as_array().unwrap().len(), 1);

        // The settings page offers it too, to a signed-in browser.
        app.app
            .add_user(
                "Lab",
                "three@lab.test",
                "Three",
                Role::Worker,
                Some(PASSWORD),
            )
            .await
            .unwrap();
        let s = app.sign_in_page("three@lab.test", PASSWORD).await;
        let (status, html) = s.get("/settings").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("/settings/data") && html.contains("delete-account"));
        let (status, body) = s.get("/settings/data").await;
        assert_eq!(status, StatusCode::OK);
        let doc3: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(doc3["account"]["email"], "three@lab.test");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletion_removes_the_identity_keeps_the_ledger_and_blocks_sign_in() {
    on_every_backend(async |app: TestApp| {
        let admin = app.user("Lab", "admin@lab.test", Role::Admin).await;
        let (worker, worker_token) = app
            .app
            .add_user(
                "Lab",
                "leaver@lab.test",
                "Lee Leaver",
                Role::Worker,
                Some(PASSWORD),
            )
            .await
            .unwrap();
        app.app
            .set_my_country(&principal(&app, &worker_token).await, "DE")
            .await
            .unwrap();
        let project = paid_project(&app, &admin.token, 4).await;
        work(&app, &worker_token, project, 2).await;
        post_pay(&app).await;
        // A profile: part of the identity, so it goes with the account.
        let r = app
            .send(
                reqwest::Method::PUT,
                &worker_token,
                "/api/v1/me/profile",
                Some(
                    json!({"expertise": [{"domain": "medicine/dermatology", "years": 7}],
                        "languages": [{"language": "de", "level": "native"}],
                        "time_zone": "Europe/Berlin"}),
                ),
            )
            .await;
        expect_status(r, StatusCode::OK).await;

        // Wrong password, or money still owed: refused, and nothing changes.
        let r = app
            .post(
                &worker_token,
                "/api/v1/me/delete",
                json!({"password": "not my password"}),
            )
            .await;
        let body = expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "wrong_password").await;
        assert!(body["message"].as_str().unwrap().starts_with("password:"));
        let r = app
            .post(
                &worker_token,
                "/api/v1/me/delete",
                json!({"password": PASSWORD}),
            )
            .await;
        let body = expect_error(r, StatusCode::CONFLICT, "money_owed").await;
        assert!(
            body["message"].as_str().unwrap().contains("800 EUR"),
            "{body}"
        );
        // Admins and requesters do not delete themselves here.
        let r = app
            .post(
                &admin.token,
                "/api/v1/me/delete",
                json!({"password": PASSWORD}),
            )
            .await;
        expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;

        // Paid out (pending, then paid): now it may go.
        let run = expect_status(
            app.post(&admin.token, "/api/v1/payouts/run", json!({}))
                .await,
            StatusCode::OK,
        )
        .await;
        let payout = run[0]["id"].as_i64().unwrap();
        let r = app
            .post(
                &worker_token,
                "/api/v1/me/delete",
                json!({"password": PASSWORD}),
            )
            .await;
        expect_error(r, StatusCode::CONFLICT, "payout_pending").await;
        expect_status(
            app.post(
                &admin.token,
                &format!("/api/v1/payouts/{payout}/settle"),
                json!({"status": "paid"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let spend_before = expect_status(
            app.get(&admin.token, "/api/v1/ledger").await,
            StatusCode::OK,
        )
        .await;
        let browser = app.sign_in_page("leaver@lab.test", PASSWORD).await;
        let r = app
            .post(
                &worker_token,
                "/api/v1/me/delete",
                json!({"password": PASSWORD}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);

        // Identity gone: token, session and password all stop working.
        assert_eq!(
            app.me(&worker_token).await.status(),
            StatusCode::UNAUTHORIZED
        );
        let (status, _) = browser.get("/settings").await;
        assert_ne!(status, StatusCode::OK);
        assert!(
            app.app
                .sign_in("leaver@lab.test", PASSWORD, None)
                .await
                .is_err()
        );
        let lab = expect_status(
            app.get(&admin.token, "/api/v1/vendors/workers").await,
            StatusCode::OK,
        )
        .await;
        let row = lab["workers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["id"] == worker.id)
            .cloned()
            .unwrap();
        assert_eq!(row["name"], format!("deleted worker #{}", worker.id));
        assert!(!row.to_string().contains("leaver") && !row.to_string().contains("Lee"));
        assert!(row["deleted_at"].is_i64());
        // The profile is gone with the identity: nothing of it in what the store still holds for the row.
        let left = app.app.store.personal_data(worker.id).await.unwrap();
        for key in ["expertise", "languages", "profile", "credentials"] {
            assert_eq!(left[key], json!([]), "{key} kept after deletion");
        }
        // Work and money stay: the export still has the answers, the ledger balances, the org's books agree.
        assert_eq!(
            app.stats_json(&admin.token, project).await["annotations"],
            2
        );
        let report = app.app.verify_ledger(|_, _| {}).await.unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        let spend_after = expect_status(
            app.get(&admin.token, "/api/v1/ledger").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(spend_before["accounts"], spend_after["accounts"]);

        // The email is free again: a new person, a new account.
        let (again, _) = app
            .app
            .add_user(
                "Lab",
                "Leaver@lab.test ",
                "New Lee",
                Role::Worker,
                Some(PASSWORD),
            )
            .await
            .unwrap();
        assert_ne!(again.id, worker.id);
        assert!(
            app.app
                .sign_in("leaver@lab.test", PASSWORD, None)
                .await
                .is_ok()
        );
        let doc: Value = app
            .get(
                &app.app.issue_token(again.id, "t").await.unwrap().1,
                "/api/v1/me/data",
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(doc["annotations"].as_array().unwrap().len(), 0);

        // The page flow: the box must be ticked, then the account goes and the browser is signed out.
        app.app
            .add_user("Lab", "page@lab.test", "Page", Role::Worker, Some(PASSWORD))
            .await
            .unwrap();
        let s = app.sign_in_page("page@lab.test", PASSWORD).await;
        let r = s
            .post(
                "/settings/delete",
                &format!("password={}", PASSWORD.replace(' ', "+")),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("Tick the box"));
        let r = s
            .post(
                "/settings/delete",
                &format!("password={}&confirm=yes", PASSWORD.replace(' ', "+")),
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()["location"], "/signin?deleted=1");
        assert!(
            app.app
                .sign_in("page@lab.test", PASSWORD, None)
                .await
                .is_err()
        );
    })
    .await;
}

async fn principal(app: &TestApp, token: &str) -> fairloop_store::Principal {
    app.app.authenticate(token).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_that_has_an_account_is_refused_in_any_case_or_spacing() {
    on_every_backend(async |app: TestApp| {
        let admin = app.user("Lab", "admin@lab.test", Role::Admin).await;
        app.user("Lab", "Pat@Lab.test", Role::Worker).await;
        let (_, manager) = vendor(&app, "Vendor A", "a@vendor-a.test").await;
        expect_status(
            app.post(
                &admin.token,
                "/api/v1/vendors/contracts",
                json!({"vendor": "Vendor A"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        // Stored normalized.
        let me: Value = app
            .me(&app.user("Lab", "  Pat@LAB.test ", Role::Worker).await.token)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(me["email"], "pat@lab.test");

        // Inviting: by the lab, and by a vendor.
        let r = app
            .post(
                &admin.token,
                "/api/v1/invitations",
                json!({"role": "worker", "email": " PAT@lab.TEST "}),
            )
            .await;
        let body = expect_error(r, StatusCode::CONFLICT, "email_taken").await;
        assert!(body["message"].as_str().unwrap().contains("pat@lab.test"));
        let r = app
            .post(
                &manager,
                "/api/v1/vendor/invitations",
                json!({"org_id": admin.org_id, "email": "pat@LAB.test"}),
            )
            .await;
        let body = expect_error(r, StatusCode::CONFLICT, "email_taken").await;
        assert!(body["message"].as_str().unwrap().starts_with("email:"));
        // Adding by an admin.
        let r = app
            .post(
                &admin.token,
                "/api/v1/users",
                json!({"email": "PAT@lab.test", "role": "worker"}),
            )
            .await;
        expect_error(r, StatusCode::CONFLICT, "email_taken").await;

        // Accepting an open link with that email.
        let created = expect_status(
            app.post(
                &admin.token,
                "/api/v1/invitations",
                json!({"role": "worker"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let secret = created["path"]
            .as_str()
            .unwrap()
            .strip_prefix("/invite/")
            .unwrap()
            .to_string();
        let err = app
            .app
            .accept_invitation(
                &secret,
                AcceptInput {
                    email: "  Pat@Lab.Test".into(),
                    name: "Copy".into(),
                    password: PASSWORD.into(),
                    confirm: PASSWORD.into(),
                },
            )
            .await
            .unwrap_err();
        match err {
            fairloop_app::AppError::Conflict { code, message } => {
                assert_eq!(code, "email_taken");
                assert!(message.contains("already exists"), "{message}");
            }
            other => panic!("expected email_taken, got {other:?}"),
        }
        // The link was not spent by the refused attempt.
        let fresh = app
            .app
            .accept_invitation(
                &secret,
                AcceptInput {
                    email: "new@lab.test".into(),
                    name: "New".into(),
                    password: PASSWORD.into(),
                    confirm: PASSWORD.into(),
                },
            )
            .await
            .unwrap();
        assert_eq!(fresh.user.email, "new@lab.test");
    })
    .await;
}
