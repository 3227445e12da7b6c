//! The time and money pages as a signed-in browser sees them, on every backend: the workbench loads the
//! heartbeat module and its heartbeats count (CSRF-checked, refused once the task is closed), the time page
//! lists exactly what is recorded and takes disputes, the earnings page shows pay and a chart, and the spend
//! page is for requesters only.

mod common;

use common::{minimal_template, on_every_backend};
use fairloop_domain::Role;
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_timesheet_disputes_earnings_and_spend_pages() {
    on_every_backend(async |app| {
        let (requester, rtoken) = app
            .page_session("Acme", "req@acme.test", Role::Requester)
            .await;
        let (worker, _) = app
            .page_session("Acme", "pat@acme.test", Role::Worker)
            .await;
        let project = app
            .project(
                &rtoken,
                json!({"name": "Sentiment", "template": minimal_template(),
                       "pay": {"model": "per_task", "amount_minor": 90, "currency": "USD"}}),
            )
            .await;
        app.items(
            &rtoken,
            project,
            "{\"data\":{\"text\":\"x\"}}\n{\"data\":{\"text\":\"y\"}}\n",
        )
        .await;

        // The workbench, reached like a browser does, loads the heartbeat module.
        // "Start" posts the start form (a GET never takes a lease).
        let claim = worker
            .post_raw(
                &format!("/work/{project}"),
                &format!("_csrf={}", worker.csrf),
            )
            .await;
        let bench = claim.headers()[LOCATION].to_str().unwrap().to_string();
        let (status, page) = worker.get(&bench).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("<script type=\"module\" src=\"/assets/heartbeat.js\"></script>"));
        let (status, js) = worker.get("/assets/heartbeat.js").await;
        assert_eq!(status, StatusCode::OK);
        assert!(js.contains("/heartbeat"));

        let beat = format!("{bench}/heartbeat");
        let r = worker
            .post_raw(&beat, &format!("_csrf={}&focus=1&input=1", worker.csrf))
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let r = worker.post_raw(&beat, "_csrf=forged&focus=1&input=1").await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let (_, requester_csrf) = (0, requester.csrf.clone());
        let r = requester
            .post_raw(&beat, &format!("_csrf={requester_csrf}&focus=1&input=1"))
            .await;
        assert_ne!(
            r.status(),
            StatusCode::NO_CONTENT,
            "another user's assignment takes no heartbeat"
        );

        // Submit through the workbench; then heartbeats are refused and the page's script stops.
        let r = worker
            .post_raw(&bench, &format!("_csrf={}&q.label=a", worker.csrf))
            .await;
        assert!(
            r.status().is_redirection() || r.status() == StatusCode::OK,
            "{}",
            r.status()
        );
        let r = worker
            .post_raw(&beat, &format!("_csrf={}&focus=1&input=1", worker.csrf))
            .await;
        assert_eq!(r.status(), StatusCode::CONFLICT);

        let (status, time) = worker.get("/time").await;
        assert_eq!(status, StatusCode::OK);
        for text in [
            "What is recorded",
            "Never recorded",
            "screenshots",
            "The idle rule",
            "Sentiment",
            "submitted",
        ] {
            assert!(time.contains(text), "the time page lacks {text:?}");
        }
        let assignment = bench.rsplit('/').next().unwrap();
        let r = worker
            .post_raw(
                &format!("/time/{assignment}/dispute"),
                &format!("_csrf={}&reason=I+worked+longer", worker.csrf),
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (_, time) = worker.get("/time").await;
        assert!(
            time.contains("I worked longer") && time.contains(">open<"),
            "{time}"
        );

        fairloop_app::ledger::PayPosting::new(app.app.clone())
            .try_run_one(fairloop_domain::time::now_millis())
            .await
            .unwrap();
        let (status, earnings) = worker.get("/earnings").await;
        assert_eq!(status, StatusCode::OK);
        assert!(earnings.contains("<strong>0.90 USD</strong>"), "{earnings}");
        assert!(earnings.contains("<svg class=\"chart\""));
        assert!(earnings.contains("Sentiment"));

        let (status, _) = worker.get("/spend").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, spend) = requester.get("/spend").await;
        assert_eq!(status, StatusCode::OK);
        assert!(spend.contains("<svg class=\"chart\""));
        assert!(spend.contains("Sentiment") && spend.contains("Cost per paid label"));
        assert!(spend.contains("<strong>-0.90 USD</strong>"), "{spend}");
        // Spend per question type: the one project's single-choice question.
        let by_type = &spend[spend
            .find("id=\"spend-by-type\"")
            .expect("a per-type table")..];
        assert!(by_type.contains("<td>single choice</td>"), "{by_type}");
        let (status, statement) = worker.get("/earnings/statement").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            statement.contains("Statement")
                && statement.contains("task pay")
                && statement.contains("0.90")
        );
        assert!(statement.contains("Previous week"));
        let (status, invoice) = requester.get("/spend/invoice").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            invoice.contains("Invoice") && invoice.contains("-0.90"),
            "{invoice}"
        );
        let (status, _) = worker.get("/spend/invoice").await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // The navigation offers each page to the roles it is for.
        assert!(earnings.contains("href=\"/earnings\"") && !earnings.contains("href=\"/spend\""));
        assert!(spend.contains("href=\"/spend\""));
    })
    .await;
}
