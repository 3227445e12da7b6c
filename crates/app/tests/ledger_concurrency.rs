//! Many workers at once, on every backend: concurrent claims and submissions on a budgeted project, with
//! several posting jobs running beside them (as several `serve` processes would), never post a submission's
//! pay twice and never overdraw the budget.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::*;
use fairloop_app::ledger::PayPosting;
use fairloop_domain::Role;
use fairloop_domain::time::now_millis;
use fairloop_store::ledger::AccountKind;

const WORKERS: usize = 16;
const JOBS: usize = 3;

async fn count(app: &fairloop_app::App, sql: &'static str, id: i64) -> i64 {
    app.store
        .read_tx(move |tx| tx.query_one(sql, fairloop_store::params![id])?.i64(0))
        .await
        .expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_workers_at_once_never_post_twice_nor_overdraw_the_budget() {
    for b in backends().await {
        let app = &b.app;
        let org = unique("org");
        let requester = user(app, &org, Role::Requester).await;
        // 1500 funded at 100 a task: exactly 15 tasks may be handed out, though the cap and the items allow more.
        fund(app, &requester, 1500).await;
        let budgeted = per_task_project(app, &requester, 100, Some(5000), 80, 1).await;
        // An unbudgeted project in another organization, worked at the same time (its spending is owed, and
        // must not touch the first organization's budget).
        let org2 = unique("org2");
        let requester2 = user(app, &org2, Role::Requester).await;
        let open = per_task_project(app, &requester2, 7, None, 80, 1).await;
        let mut workers = Vec::new();
        for i in 0..WORKERS {
            let (o, project) = if i % 2 == 0 {
                (&org, budgeted)
            } else {
                (&org2, open)
            };
            workers.push((user(app, o, Role::Worker).await, project));
        }

        let done = Arc::new(AtomicBool::new(false));
        let mut jobs = Vec::new();
        for _ in 0..JOBS {
            let job = PayPosting::new(app.clone());
            let done = done.clone();
            jobs.push(tokio::spawn(async move {
                while !done.load(Ordering::Relaxed) {
                    job.try_run_one(now_millis()).await.expect("posting step");
                    tokio::task::yield_now().await;
                }
            }));
        }
        let mut tasks = Vec::new();
        for (w, project) in workers.clone() {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                let mut n = 0;
                while work_one(&app, &w, project).await.is_some() {
                    n += 1;
                }
                n
            }));
        }
        let mut submitted = 0;
        for t in tasks {
            submitted += t.await.expect("worker task");
        }
        done.store(true, Ordering::Relaxed);
        for j in jobs {
            j.await.expect("job task");
        }
        // The last submissions may have landed after the jobs' last step; several jobs finish them at once.
        let mut finals = Vec::new();
        for _ in 0..JOBS {
            let job = PayPosting::new(app.clone());
            finals.push(tokio::spawn(async move {
                job.try_run_one(now_millis()).await.expect("final step")
            }));
        }
        for f in finals {
            f.await.expect("final job");
        }

        let name = b.name;
        let on_budgeted = count(
            app,
            "SELECT CAST(COUNT(*) AS BIGINT) FROM annotations WHERE project_id = $1",
            budgeted,
        )
        .await;
        assert_eq!(on_budgeted, 15, "{name}: funding allows exactly 15 tasks");
        assert_eq!(submitted, 15 + 80, "{name}");
        for project in [budgeted, open] {
            let annotations = count(
                app,
                "SELECT CAST(COUNT(*) AS BIGINT) FROM annotations WHERE project_id = $1",
                project,
            )
            .await;
            let pays = count(
                app,
                "SELECT CAST(COUNT(*) AS BIGINT) FROM ledger_transactions WHERE project_id = $1 AND kind = 'task_pay'",
                project,
            )
            .await;
            let distinct = count(
                app,
                "SELECT CAST(COUNT(DISTINCT annotation_id) AS BIGINT) FROM ledger_transactions \
                 WHERE project_id = $1 AND kind = 'task_pay'",
                project,
            )
            .await;
            assert_eq!(
                (pays, distinct),
                (annotations, annotations),
                "{name}: project {project}: every submission paid exactly once"
            );
        }
        let org_id = requester.org_id;
        assert_eq!(
            balance(app, org_id, AccountKind::Budget, 0).await,
            0,
            "{name}: the budgeted project spent exactly its funding"
        );
        assert_eq!(
            balance(app, requester2.org_id, AccountKind::Budget, 0).await,
            -80 * 7,
            "{name}: the unbudgeted project's spending is owed"
        );
        let budget = app
            .store
            .ledger_project_budget(org_id, budgeted)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (budget.spent_minor, budget.reserved_minor),
            (1500, 0),
            "{name}"
        );
        let earned: i64 = {
            let mut sum = 0;
            for (w, _) in &workers {
                sum += balance(app, w.org_id, AccountKind::Earnings, w.user_id).await;
            }
            sum
        };
        assert_eq!(earned, 1500 + 80 * 7, "{name}");
        assert_verified(app, name).await;
    }
}
