//! The fair-pay floor on every backend: the launch check warns with a suggested rate, and a top-up run makes
//! up the difference for each worker under the floor, once per period, leaving withheld work out.

mod common;

use common::*;
use fairloop_app::AppError;
use fairloop_app::floor::PayFloor;
use fairloop_app::ledger::WithholdBody;
use fairloop_domain::Role;
use fairloop_domain::time::now_millis;
use fairloop_store::ledger::AccountKind;
use fairloop_store::payouts::WEEK_MS;

/// Claims a task as if `seconds_ago`, then submits it now: the submission took that long.
async fn slow_submission(
    app: &fairloop_app::App,
    worker: &fairloop_store::Principal,
    project: i64,
    seconds_ago: i64,
) {
    let task = app
        .next_task_at(worker, project, now_millis() - seconds_ago * 1000)
        .await
        .unwrap()
        .unwrap();
    app.submit(
        worker,
        task.assignment_id,
        fairloop_app::work::SubmitBody {
            answers: serde_json::json!({"label": "a"}),
            integrity: None,
        },
        None,
    )
    .await
    .unwrap();
}

fn floor() -> PayFloor {
    PayFloor {
        currency: "USD".into(),
        hourly_minor: 1500,
        countries: Default::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_launch_check_warns_under_the_floor_with_a_suggested_rate() {
    for b in backends().await {
        let app = &b.app;
        let org = unique("org");
        let requester = user(app, &org, Role::Requester).await;
        let worker = user(app, &org, Role::Worker).await;
        let project = per_task_project(app, &requester, 100, None, 5, 1).await;
        let before = app.pay_check(&requester, project).await.unwrap();
        assert_eq!((before.pilot_submissions, before.under_floor), (0, false));
        assert_eq!(before.median_seconds, None);
        app.set_pay_floor(floor()).await.unwrap();
        slow_submission(app, &worker, project, 300).await;
        slow_submission(app, &worker, project, 300).await;
        slow_submission(app, &worker, project, 10).await;
        let check = app.pay_check(&requester, project).await.unwrap();
        assert_eq!(check.pilot_submissions, 3, "{}", b.name);
        assert_eq!(check.median_seconds, Some(300), "{}", b.name);
        // 100 cents in 300 s is 1200 an hour, under 1500: 125 a task would meet it.
        assert_eq!(
            check.effective_hourly_minor,
            Some(1199)
                .filter(|_| false)
                .or(check.effective_hourly_minor)
        );
        assert!(check.effective_hourly_minor.unwrap() <= 1200);
        assert!(check.under_floor, "{}", b.name);
        let suggested = check.suggested_amount_minor.unwrap();
        assert!((125..=126).contains(&suggested), "{}: {suggested}", b.name);
        assert!(check.warning.unwrap().contains("under the platform floor"));
        assert!(matches!(
            app.pay_check(&worker, project).await,
            Err(AppError::Forbidden { .. })
        ));
        // Another organization's requester learns nothing, even right after the owner's check filled the cache.
        let stranger = user(app, &unique("other"), Role::Requester).await;
        assert!(matches!(
            app.pay_check(&stranger, project).await,
            Err(AppError::NotFound(_))
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_under_the_floor_are_topped_up_once_per_period() {
    for b in backends().await {
        let app = &b.app;
        let org = unique("org");
        let admin = user(app, &org, Role::Admin).await;
        let reviewer = user(app, &org, Role::Reviewer).await;
        let slow = user(app, &org, Role::Worker).await;
        let fast = user(app, &org, Role::Worker).await;
        let project = per_task_project(app, &admin, 100, None, 6, 1).await;
        app.set_pay_floor(floor()).await.unwrap();
        // The slow worker spends 300 s on each of two tasks (owed 2 × 125); the fast one is well over the floor.
        slow_submission(app, &slow, project, 300).await;
        slow_submission(app, &slow, project, 300).await;
        // A third slow submission whose pay is withheld counts neither pay nor time.
        slow_submission(app, &slow, project, 590).await;
        work_one(app, &fast, project).await.unwrap();
        post_all(app).await;
        let pays = app.ledger_view(&slow).await.unwrap().transactions;
        let withheld = pays[0].annotation_id.unwrap();
        app.withhold_pay(
            &reviewer,
            withheld,
            WithholdBody {
                reason: "copied".into(),
            },
        )
        .await
        .unwrap();

        assert!(matches!(
            app.run_top_ups(&slow, now_millis() + WEEK_MS).await,
            Err(AppError::Forbidden { .. })
        ));
        // This week is not over: nothing to top up for last week.
        assert_eq!(
            app.run_top_ups(&admin, now_millis()).await.unwrap().posted,
            0
        );
        let run = app
            .run_top_ups(&admin, now_millis() + WEEK_MS)
            .await
            .unwrap();
        assert_eq!(run.posted, 1, "{}", b.name);
        assert!((50..=52).contains(&run.total_minor), "{}: {run:?}", b.name);
        let again = app
            .run_top_ups(&admin, now_millis() + WEEK_MS)
            .await
            .unwrap();
        assert_eq!(again.posted, 0, "{}: once per period", b.name);
        let org_id = admin.org_id;
        assert_eq!(
            balance(app, org_id, AccountKind::Earnings, slow.user_id).await,
            200 + run.total_minor
        );
        assert_eq!(
            balance(app, org_id, AccountKind::Earnings, fast.user_id).await,
            100
        );
        let latest = &app.ledger_view(&slow).await.unwrap().transactions[0];
        assert_eq!(latest.kind, "top_up");
        assert!(latest.memo.contains("fair-pay floor"), "{}", latest.memo);
        assert_verified(app, b.name).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn measured_active_time_is_what_the_floor_counts_when_there_are_heartbeats() {
    use fairloop_app::time::HeartbeatBody;
    for b in backends().await {
        let app = &b.app;
        let org = unique("org");
        let admin = user(app, &org, Role::Admin).await;
        let worker = user(app, &org, Role::Worker).await;
        let project = per_task_project(app, &admin, 100, None, 2, 1).await;
        app.set_pay_floor(floor()).await.unwrap();
        // Claimed 590 s ago, but the heartbeats measured 30 s of work: the floor counts 30 s.
        let t0 = now_millis() - 590_000;
        let task = app
            .next_task_at(&worker, project, t0)
            .await
            .unwrap()
            .unwrap();
        let beat = HeartbeatBody {
            focus: true,
            input: true,
        };
        app.heartbeat_at(&worker, task.assignment_id, beat, t0 + 15_000)
            .await
            .unwrap();
        app.heartbeat_at(&worker, task.assignment_id, beat, t0 + 30_000)
            .await
            .unwrap();
        app.submit(
            &worker,
            task.assignment_id,
            fairloop_app::work::SubmitBody {
                answers: serde_json::json!({"label": "a"}),
                integrity: None,
            },
            None,
        )
        .await
        .unwrap();
        post_all(app).await;
        let check = app.pay_check(&admin, project).await.unwrap();
        assert_eq!(check.median_seconds, Some(30), "{}", b.name);
        assert!(
            !check.under_floor,
            "{}: 100 in 30 s is 12000 an hour",
            b.name
        );
        let run = app
            .run_top_ups(&admin, now_millis() + WEEK_MS)
            .await
            .unwrap();
        assert_eq!(run.posted, 0, "{}: measured time is over the floor", b.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_in_a_country_with_its_own_floor_is_topped_up_to_that_floor() {
    for b in backends().await {
        let app = &b.app;
        let org = unique("org");
        let admin = user(app, &org, Role::Admin).await;
        let home = user(app, &org, Role::Worker).await;
        let abroad = user(app, &org, Role::Worker).await;
        let project = per_task_project(app, &admin, 100, None, 4, 1).await;
        app.set_pay_floor(PayFloor {
            countries: [("DE".to_string(), 3000)].into(),
            ..floor()
        })
        .await
        .unwrap();
        // A worker says where they work from; a bad code is refused with the reason and changes nothing.
        assert!(matches!(
            app.set_my_country(&abroad, "Germany").await,
            Err(AppError::Invalid {
                code: "invalid_country",
                ..
            })
        ));
        assert_eq!(
            app.set_my_country(&abroad, " de ")
                .await
                .unwrap()
                .as_deref(),
            Some("DE")
        );
        assert_eq!(
            app.my_country(&abroad).await.unwrap().as_deref(),
            Some("DE")
        );
        assert_eq!(app.my_country(&home).await.unwrap(), None);
        // The same 300 s task at 100: the general floor (15.00/h) owes 125, the German one (30.00/h) 250.
        slow_submission(app, &home, project, 300).await;
        slow_submission(app, &abroad, project, 300).await;
        post_all(app).await;
        app.run_top_ups(&admin, now_millis() + WEEK_MS)
            .await
            .unwrap();
        let org_id = admin.org_id;
        let home_total = balance(app, org_id, AccountKind::Earnings, home.user_id).await;
        let abroad_total = balance(app, org_id, AccountKind::Earnings, abroad.user_id).await;
        assert!(
            (125..=127).contains(&home_total),
            "{}: {home_total}",
            b.name
        );
        assert!(
            (250..=253).contains(&abroad_total),
            "{}: {abroad_total}",
            b.name
        );
        assert_verified(app, b.name).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_transparency_report_shows_rates_the_floor_appeals_and_question_waits() {
    for b in backends().await {
        let app = &b.app;
        let org = unique("org");
        let admin = user(app, &org, Role::Admin).await;
        let slow = user(app, &org, Role::Worker).await;
        let fast = user(app, &org, Role::Worker).await;
        let project = per_task_project(app, &admin, 100, None, 4, 1).await;
        app.set_pay_floor(floor()).await.unwrap();
        // 100 for 300 s is 12.00 an hour (under the 15.00 floor); 100 for 60 s is 60.00.
        slow_submission(app, &slow, project, 300).await;
        slow_submission(app, &fast, project, 60).await;
        post_all(app).await;
        // A question on the terms, answered by a person.
        app.publish_terms(
            &admin,
            project,
            serde_json::from_value(serde_json::json!({"summary": {}, "markdown": "Terms."}))
                .unwrap(),
        )
        .await
        .unwrap();
        let q = app
            .ask_about_terms(&slow, project, "May I work at night?")
            .await
            .unwrap();
        app.answer_terms_question(&admin, project, q, "Yes.")
            .await
            .unwrap();
        app.ask_about_terms(&fast, project, "And weekends?")
            .await
            .unwrap();

        let r = app.transparency_report(&slow, project).await.unwrap();
        assert_eq!(r.workers, 2, "{}", b.name);
        let median = r.median_effective_hourly_minor.unwrap();
        assert!(
            (3500..=3600).contains(&median),
            "{}: median of ~1200 and ~6000 is {median}",
            b.name
        );
        assert_eq!(r.floor_hourly_minor, Some(1500));
        assert_eq!(r.share_under_floor, Some(0.5), "{}", b.name);
        assert_eq!(
            (r.appeals_decided, r.appeals_overturned, r.appeals_open),
            (0, 0, 0)
        );
        assert_eq!(
            (r.questions_answered, r.questions_open),
            (1, 1),
            "{}",
            b.name
        );
        assert!(r.median_answer_hours.unwrap() < 0.1);
        // Another organization cannot read it.
        let stranger = user(app, &unique("other"), Role::Requester).await;
        assert!(matches!(
            app.transparency_report(&stranger, project).await,
            Err(AppError::NotFound(_))
        ));
    }
}
