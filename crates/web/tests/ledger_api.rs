//! The ledger and payout endpoints over HTTP on every backend: funding (201, then 200 for the same
//! reference), role checks, field-level errors, a worker's earnings after the posting job, withholding,
//! bonuses, payout runs with the provider's CSV, and the OpenAPI document listing them.

mod common;

use common::{expect_status, minimal_template, on_every_backend};
use fairloop_domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fund_work_withhold_bonus_and_pay_out_over_http() {
    on_every_backend(async |app| {
        let admin = app.user("Acme", "ops@acme.test", Role::Admin).await;
        let reviewer = app.user("Acme", "rev@acme.test", Role::Reviewer).await;
        let worker = app.user("Acme", "pat@acme.test", Role::Worker).await;
        let api = app.api();

        let fund = json!({"amount_minor": 2000, "currency": "EUR", "reference": "sepa-1"});
        let first = expect_status(api.post(&admin.token, "/api/v1/ledger/fund", fund.clone()).await, StatusCode::CREATED).await;
        let again = expect_status(api.post(&admin.token, "/api/v1/ledger/fund", fund.clone()).await, StatusCode::OK).await;
        assert_eq!(first["transaction_id"], again["transaction_id"]);
        assert_eq!(again["created"], false);
        expect_status(api.post(&worker.token, "/api/v1/ledger/fund", fund).await, StatusCode::FORBIDDEN).await;
        let bad = expect_status(
            api.post(&admin.token, "/api/v1/ledger/fund", json!({"amount_minor": 5, "currency": "euro", "reference": "r"})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(bad["error"]["code"], "invalid_currency");
        assert!(bad["error"]["message"].as_str().unwrap().contains("currency"));

        let project = app
            .project(
                &admin.token,
                json!({"name": "Paid", "template": minimal_template(), "max_open_per_worker": 1,
                       "pay": {"model": "per_task", "amount_minor": 400, "currency": "EUR"}, "budget_minor": 1000}),
            )
            .await;
        app.items(&admin.token, project, "{\"id\":\"a\",\"data\":{\"text\":\"x\"}}\n{\"id\":\"b\",\"data\":{\"text\":\"y\"}}\n{\"id\":\"c\",\"data\":{\"text\":\"z\"}}\n").await;
        for _ in 0..2 {
            let task = app.claim(&worker.token, project).await;
            let id = task["assignment_id"].as_i64().unwrap();
            expect_status(app.submit(&worker.token, id, json!({"label": "a"}), None).await, StatusCode::OK).await;
        }
        // 800 of the 1000 cap is spent: a third task (400) is not handed out.
        assert_eq!(app.next(&worker.token, project).await.status(), StatusCode::NO_CONTENT);
        fairloop_app::ledger::PayPosting::new(app.app.clone())
            .try_run_one(fairloop_domain::time::now_millis())
            .await
            .unwrap();

        let mine = expect_status(app.get(&worker.token, "/api/v1/ledger").await, StatusCode::OK).await;
        let earnings: Vec<&Value> = mine["accounts"].as_array().unwrap().iter().filter(|a| a["kind"] == "earnings").collect();
        assert_eq!(earnings.len(), 1);
        assert_eq!(earnings[0]["balance_minor"], 800);
        assert_eq!(earnings[0]["currency"], "EUR");
        let annotation = mine["transactions"][0]["annotation_id"].as_i64().unwrap();

        let withhold = json!({"reason": "blank answers"});
        let path = format!("/api/v1/annotations/{annotation}/withhold");
        expect_status(api.post(&worker.token, &path, withhold.clone()).await, StatusCode::FORBIDDEN).await;
        expect_status(api.post(&reviewer.token, &path, withhold.clone()).await, StatusCode::CREATED).await;
        expect_status(api.post(&reviewer.token, &path, withhold).await, StatusCode::OK).await;
        let mine = expect_status(app.get(&worker.token, "/api/v1/ledger").await, StatusCode::OK).await;
        assert_eq!(mine["transactions"][0]["memo"], "blank answers");
        assert_eq!(mine["transactions"][0]["amount_minor"], -400);

        let bonus = json!({"worker_id": worker.id, "kind": "completion", "amount_minor": 100, "reference": "batch-1"});
        expect_status(api.post(&admin.token, &format!("/api/v1/projects/{project}/bonuses"), bonus).await, StatusCode::CREATED).await;
        let too_much = json!({"worker_id": worker.id, "kind": "quality", "amount_minor": 900, "reference": "q"});
        let over = expect_status(
            api.post(&admin.token, &format!("/api/v1/projects/{project}/bonuses"), too_much).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(over["error"]["code"], "budget_exhausted");

        expect_status(api.post(&worker.token, "/api/v1/payouts/run", json!({})).await, StatusCode::FORBIDDEN).await;
        let run = expect_status(api.post(&admin.token, "/api/v1/payouts/run", json!({})).await, StatusCode::OK).await;
        assert_eq!(run.as_array().unwrap().len(), 1);
        assert_eq!(run[0]["amount_minor"], 500);
        assert_eq!(run[0]["status"], "pending");
        let csv = app.get(&admin.token, "/api/v1/payouts.csv").await;
        assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let csv = csv.text().await.unwrap();
        assert!(csv.contains("pat@acme.test"), "{csv}");
        assert!(csv.contains(",5.00,500,EUR,"), "{csv}");
        let id = run[0]["id"].as_i64().unwrap();
        let paid = expect_status(
            api.post(&admin.token, &format!("/api/v1/payouts/{id}/settle"), json!({"status": "paid"})).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(paid["status"], "paid");
        let mine = expect_status(app.get(&worker.token, "/api/v1/payouts").await, StatusCode::OK).await;
        assert_eq!(mine[0]["status"], "paid");

        let statement = app.get(&worker.token, "/api/v1/statement.csv").await;
        assert_eq!(statement.status(), StatusCode::OK);
        let statement = statement.text().await.unwrap();
        assert!(statement.starts_with("at,what,project_id,annotation_id,memo,amount,amount_minor,currency"));
        assert!(statement.contains(",task pay,") && statement.contains("closing balance,,,,0.00,0,EUR"), "{statement}");
        expect_status(app.get(&worker.token, "/api/v1/invoice.csv").await, StatusCode::FORBIDDEN).await;
        let invoice = app.get(&admin.token, "/api/v1/invoice.csv").await.text().await.unwrap();
        assert!(invoice.contains(",funding,") && invoice.contains(",-4.00,-400,EUR"), "{invoice}");

        let outsider = app.user("Other", "eve@other.test", Role::Admin).await;
        let theirs = expect_status(app.get(&outsider.token, "/api/v1/payouts").await, StatusCode::OK).await;
        assert_eq!(theirs, json!([]));
        expect_status(
            api.post(&outsider.token, &format!("/api/v1/payouts/{id}/retry"), json!({})).await,
            StatusCode::NOT_FOUND,
        )
        .await;

        let floor = expect_status(app.get(&worker.token, "/api/v1/pay-floor").await, StatusCode::OK).await;
        assert_eq!(floor, Value::Null);
        let check = expect_status(
            app.get(&admin.token, &format!("/api/v1/projects/{project}/pay-check")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(check["pilot_submissions"], 2);
        assert_eq!(check["under_floor"], false);
        expect_status(
            app.get(&worker.token, &format!("/api/v1/projects/{project}/pay-check")).await,
            StatusCode::FORBIDDEN,
        )
        .await;
        let topped = expect_status(api.post(&admin.token, "/api/v1/ledger/top-ups/run", json!({})).await, StatusCode::OK).await;
        assert_eq!(topped["posted"], 0);

        let doc = expect_status(app.get_anon("/api/openapi.json").await, StatusCode::OK).await;
        for path in ["/api/v1/ledger/fund", "/api/v1/ledger", "/api/v1/annotations/{id}/withhold",
                     "/api/v1/projects/{id}/bonuses", "/api/v1/payouts/run", "/api/v1/payouts",
                     "/api/v1/payouts.csv", "/api/v1/payouts/{id}/settle", "/api/v1/payouts/{id}/retry", "/api/v1/pay-floor",
                     "/api/v1/projects/{id}/pay-check", "/api/v1/ledger/top-ups/run", "/api/v1/statement.csv",
                     "/api/v1/invoice.csv", "/api/v1/annotations/{id}/dispute-withholding", "/api/v1/pay-disputes",
                     "/api/v1/pay-disputes/{id}/resolve", "/api/v1/assignments/{id}/heartbeat", "/api/v1/timesheet",
                     "/api/v1/assignments/{id}/dispute", "/api/v1/time-disputes", "/api/v1/time-disputes/{id}/resolve"] {
            assert!(doc["paths"].get(path).is_some(), "OpenAPI lacks {path}");
        }
    })
    .await;
}
