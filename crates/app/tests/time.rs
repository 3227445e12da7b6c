//! Time tracking on every backend: the idle rule turns heartbeats into active time, the worker and the
//! requester read the same timesheet, hourly pay is posted from it, and disputes are resolved by a human.

mod common;

use common::*;
use fairloop_app::AppError;
use fairloop_app::projects::{CreateProject, Pay};
use fairloop_app::time::{DisputeBody, HeartbeatBody, ResolveBody};
use fairloop_domain::Role;
use fairloop_domain::time::now_millis;
use fairloop_store::ledger::AccountKind;

async fn hourly_project(app: &fairloop_app::App, requester: &fairloop_store::Principal) -> i64 {
    let p = app
        .create_project(
            requester,
            CreateProject {
                name: unique("hourly"),
                template: template(),
                overlap: Some(1),
                lease_seconds: Some(600),
                max_open_per_worker: Some(1),
                pay: Some(Pay::Hourly {
                    rate_minor: 3600,
                    currency: "USD".into(),
                }),
                budget_minor: Some(10_000),
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
        (0..3)
            .map(|i| fairloop_store::NewItem {
                external_id: Some(format!("h{i}")),
                data: serde_json::json!({"text": "x"}).to_string(),
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
    app.store
        .import_items(requester.org_id, p.id, rx, true)
        .await
        .unwrap();
    p.id
}

fn beat(focus: bool, input: bool) -> HeartbeatBody {
    HeartbeatBody { focus, input }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_become_active_time_that_worker_and_requester_see_alike_and_hourly_pay_follows()
{
    for b in backends().await {
        let app = &b.app;
        let org = unique("org");
        let requester = user(app, &org, Role::Requester).await;
        let worker = user(app, &org, Role::Worker).await;
        let colleague = user(app, &org, Role::Worker).await;
        let outsider = user(app, &unique("other"), Role::Requester).await;
        fund(app, &requester, 10_000).await;
        let project = hourly_project(app, &requester).await;
        let t0 = now_millis();
        let task = app
            .next_task_at(&worker, project, t0)
            .await
            .unwrap()
            .unwrap();
        let a = task.assignment_id;
        let s = 1000;
        let steps = [
            (15 * s, beat(true, true), true, 15_000),  // working
            (30 * s, beat(true, false), true, 15_000), // reading right after input
            (45 * s, beat(true, false), true, 0),      // a second silent interval: idle
            (47 * s, beat(true, true), false, 0),      // too soon: ignored
            (60 * s, beat(false, true), true, 0),      // page not focused
            (120 * s, beat(true, true), true, 30_000), // a long gap credits at most 30 s
        ];
        for (at, body, recorded, credited) in steps {
            let out = app.heartbeat_at(&worker, a, body, t0 + at).await.unwrap();
            assert_eq!(
                (out.recorded, out.credited_ms),
                (recorded, credited),
                "{}: at {at}",
                b.name
            );
        }
        assert!(matches!(
            app.heartbeat_at(&colleague, a, beat(true, true), t0 + 130 * s)
                .await,
            Err(AppError::NotFound(_))
        ));
        assert!(matches!(
            app.heartbeat_at(&worker, a, beat(true, true), t0 + 601 * s)
                .await,
            Err(AppError::Conflict {
                code: "assignment_closed",
                ..
            })
        ));
        app.submit(
            &worker,
            a,
            fairloop_app::work::SubmitBody {
                answers: serde_json::json!({"label": "a"}),
                integrity: None,
            },
            None,
        )
        .await
        .unwrap();
        assert!(matches!(
            app.heartbeat_at(&worker, a, beat(true, true), t0 + 200 * s)
                .await,
            Err(AppError::Conflict {
                code: "assignment_closed",
                ..
            })
        ));

        let range = (t0 - 86_400_000, t0 + 86_400_000);
        let own = app
            .timesheet(&worker, None, range.0, range.1)
            .await
            .unwrap();
        let seen = app
            .timesheet(&requester, Some(worker.user_id), range.0, range.1)
            .await
            .unwrap();
        assert_eq!(own.total_active_seconds, 60, "{}", b.name);
        assert_eq!(
            own.entries, seen.entries,
            "{}: the same timesheet for both",
            b.name
        );
        assert_eq!(own.days, seen.days);
        assert_eq!(own.days.len(), 1);
        assert_eq!(own.entries[0].heartbeats, 5);
        assert!(matches!(
            app.timesheet(&colleague, Some(worker.user_id), range.0, range.1)
                .await,
            Err(AppError::Forbidden { .. })
        ));
        let theirs = app
            .timesheet(&outsider, Some(worker.user_id), range.0, range.1)
            .await
            .unwrap();
        assert!(
            theirs.entries.is_empty(),
            "{}: another organization sees nothing",
            b.name
        );

        // 60 active seconds at 3600 an hour.
        post_all(app).await;
        assert_eq!(
            balance(app, requester.org_id, AccountKind::Earnings, worker.user_id).await,
            60,
            "{}",
            b.name
        );

        // The worker disputes; a human accepts 30 more seconds, which are paid.
        let reason = || DisputeBody {
            reason: "I was reading the guidelines in another window".into(),
        };
        let d = app.dispute_time(&worker, a, reason()).await.unwrap();
        assert_eq!(d.status, "open");
        assert!(matches!(
            app.dispute_time(&worker, a, reason()).await,
            Err(AppError::Conflict {
                code: "dispute_open",
                ..
            })
        ));
        assert!(matches!(
            app.dispute_time(&colleague, a, reason()).await,
            Err(AppError::NotFound(_))
        ));
        let accept = || ResolveBody {
            accept: true,
            added_seconds: 30,
            note: "guidelines count".into(),
        };
        assert!(matches!(
            app.resolve_time_dispute(&worker, d.id, accept()).await,
            Err(AppError::Forbidden { .. })
        ));
        assert!(matches!(
            app.resolve_time_dispute(&outsider, d.id, accept()).await,
            Err(AppError::NotFound(_))
        ));
        let done = app
            .resolve_time_dispute(&requester, d.id, accept())
            .await
            .unwrap();
        assert_eq!((done.status.as_str(), done.added_ms), ("accepted", 30_000));
        assert!(matches!(
            app.resolve_time_dispute(&requester, d.id, accept()).await,
            Err(AppError::Conflict {
                code: "dispute_resolved",
                ..
            })
        ));
        let own = app
            .timesheet(&worker, None, range.0, range.1)
            .await
            .unwrap();
        assert_eq!(own.total_active_seconds, 90);
        assert_eq!(own.entries[0].dispute.as_deref(), Some("accepted"));
        assert_eq!(
            balance(app, requester.org_id, AccountKind::Earnings, worker.user_id).await,
            90
        );
        assert_eq!(app.time_disputes(&worker).await.unwrap().len(), 1);
        assert!(app.time_disputes(&colleague).await.unwrap().is_empty());
        assert_verified(app, b.name).await;
    }
}
