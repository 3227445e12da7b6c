//! Paid onboarding on every backend: reading the guidelines outside a task is measured by the idle rule, capped
//! per worker, paid once per finished UTC day from the budget, shown on the same timesheet to the worker and the
//! requester, and invisible to other organizations.

mod common;

use common::*;
use fairloop_app::AppError;
use fairloop_app::onboarding::{Activity, OnboardingBeatBody, OnboardingPay, OnboardingPosting};
use fairloop_app::projects::{CreateProject, Pay};
use fairloop_domain::Role;
use fairloop_store::ledger::AccountKind;
use fairloop_store::onboarding::DAY_MS;

fn create(pay: Option<Pay>, onboarding: Option<OnboardingPay>) -> CreateProject {
    CreateProject {
        name: unique("onboarding"),
        template: template(),
        overlap: Some(1),
        lease_seconds: Some(600),
        max_open_per_worker: Some(1),
        pay,
        budget_minor: None,
        gold_rate: None,
        adaptive_overlap: None,
        wellbeing: None,
        onboarding_pay: onboarding,
        state: None,
        requirements: None,
    }
}

fn per_task() -> Option<Pay> {
    Some(Pay::PerTask {
        amount_minor: 25,
        currency: "USD".into(),
    })
}

fn reading(focus: bool, input: bool) -> OnboardingBeatBody {
    OnboardingBeatBody {
        activity: Activity::Guidelines,
        focus,
        input,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_time_is_measured_capped_and_paid_once_per_finished_day() {
    for b in backends().await {
        let app = &b.app;
        let org = unique("org");
        let requester = user(app, &org, Role::Requester).await;
        let worker = user(app, &org, Role::Worker).await;
        fund(app, &requester, 10_000).await;
        // $12.00 an hour, at most 2 minutes per worker.
        let project = app
            .create_project(
                &requester,
                create(
                    per_task(),
                    Some(OnboardingPay {
                        rate_minor: 1200,
                        max_minutes: Some(2),
                    }),
                ),
            )
            .await
            .unwrap()
            .id;
        // Noon of some UTC day.
        let day = 20_000;
        let t0 = day * DAY_MS + DAY_MS / 2;
        let hb = |at: i64, focus: bool, input: bool| {
            let (app, worker) = (app.clone(), worker.clone());
            async move {
                app.onboarding_heartbeat_at(&worker, project, reading(focus, input), at)
                    .await
                    .unwrap()
            }
        };
        // Opening the page starts a session and credits nothing.
        let first = hb(t0, true, false).await;
        assert!(first.recorded && first.paid, "{}", b.name);
        assert_eq!(first.credited_ms, 0);
        assert_eq!(first.max_ms, 120_000);
        // Reading (opening the page counts as input for the next interval).
        assert_eq!(hb(t0 + 15_000, true, false).await.credited_ms, 15_000);
        // Too soon after the last beat: ignored.
        assert!(!hb(t0 + 17_000, true, true).await.recorded);
        // No input in this interval nor the one before: away, not reading.
        assert_eq!(hb(t0 + 30_000, true, false).await.credited_ms, 0);
        // Another tab had focus: nothing.
        assert_eq!(hb(t0 + 45_000, false, true).await.credited_ms, 0);
        // A pause of over a minute ends the session; the next beat starts a new one.
        assert_eq!(
            hb(t0 + 120_000, true, true).await.credited_ms,
            0,
            "a gap over 60 s starts a new session"
        );
        assert_eq!(hb(t0 + 150_000, true, true).await.credited_ms, 30_000);
        for i in 1..=4 {
            hb(t0 + 150_000 + i * 30_000, true, true).await;
        }
        // 15 + 30 + 4 × 30 = 165 s, capped at 120 s.
        let capped = hb(t0 + 300_000, true, true).await;
        assert_eq!(capped.active_ms, 120_000, "{}", b.name);
        assert_eq!(capped.credited_ms, 0);

        // The same day is not paid yet; the next day pays it once: 1200 × 2 min / 60 = 40 cents.
        let job = OnboardingPosting::new(app.clone());
        assert_eq!(job.try_run_one(t0 + 1000).await.unwrap(), 0);
        assert_eq!(job.try_run_one(t0 + DAY_MS).await.unwrap(), 1, "{}", b.name);
        assert_eq!(job.try_run_one(t0 + DAY_MS + 1).await.unwrap(), 0);
        assert_eq!(
            balance(app, worker.org_id, AccountKind::Earnings, worker.user_id).await,
            40,
            "{}",
            b.name
        );
        assert_eq!(
            balance(app, worker.org_id, AccountKind::Budget, 0).await,
            10_000 - 40
        );
        assert_verified(app, b.name).await;

        // The worker and the requester read the same onboarding lines on the timesheet.
        let window = (day * DAY_MS, (day + 1) * DAY_MS);
        let own = app
            .timesheet(&worker, None, window.0, window.1)
            .await
            .unwrap();
        let seen = app
            .timesheet(&requester, Some(worker.user_id), window.0, window.1)
            .await
            .unwrap();
        assert_eq!(own.onboarding.len(), 1, "{}", b.name);
        assert_eq!(own.onboarding, seen.onboarding);
        assert_eq!(own.total_onboarding_seconds, 120);
        assert!(own.onboarding[0].transaction_id.is_some());

        // Another worker of the organization cannot read it; another organization cannot beat on the project.
        let colleague = user(app, &org, Role::Worker).await;
        assert!(matches!(
            app.timesheet(&colleague, Some(worker.user_id), window.0, window.1)
                .await,
            Err(AppError::Forbidden { .. })
        ));
        let stranger = user(app, &unique("org"), Role::Worker).await;
        assert!(matches!(
            app.onboarding_heartbeat_at(&stranger, project, reading(true, true), t0)
                .await,
            Err(AppError::NotFound { .. })
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects_without_an_onboarding_rate_record_nothing_and_bad_offers_are_refused() {
    for b in backends().await {
        let app = &b.app;
        let org = unique("org");
        let requester = user(app, &org, Role::Requester).await;
        let worker = user(app, &org, Role::Worker).await;
        let unpaid = app
            .create_project(&requester, create(per_task(), None))
            .await
            .unwrap()
            .id;
        let out = app
            .onboarding_heartbeat(&worker, unpaid, reading(true, true))
            .await
            .unwrap();
        assert!(!out.recorded && !out.paid, "{}", b.name);
        let sheet = app.timesheet(&worker, None, 0, i64::MAX / 2).await.unwrap();
        assert!(sheet.onboarding.is_empty());
        // Requesters do not beat.
        assert!(matches!(
            app.onboarding_heartbeat(&requester, unpaid, reading(true, true))
                .await,
            Err(AppError::Forbidden { .. })
        ));
        for (pay, offer, needle) in [
            (
                None,
                OnboardingPay {
                    rate_minor: 100,
                    max_minutes: None,
                },
                "needs pay",
            ),
            (
                per_task(),
                OnboardingPay {
                    rate_minor: 0,
                    max_minutes: None,
                },
                "onboarding_pay.rate_minor",
            ),
            (
                per_task(),
                OnboardingPay {
                    rate_minor: 100,
                    max_minutes: Some(481),
                },
                "onboarding_pay.max_minutes",
            ),
        ] {
            match app
                .create_project(&requester, create(pay, Some(offer)))
                .await
            {
                Err(AppError::Invalid { code, message, .. }) => {
                    assert_eq!(code, "invalid_pay");
                    assert!(message.contains(needle), "{message}");
                }
                other => panic!("{}: expected invalid_pay, got {other:?}", b.name),
            }
        }
        // A valid offer is stored with the pay and shown in the project's pay settings.
        let p = app
            .create_project(
                &requester,
                create(
                    per_task(),
                    Some(OnboardingPay {
                        rate_minor: 900,
                        max_minutes: None,
                    }),
                ),
            )
            .await
            .unwrap();
        let (offer, currency) = OnboardingPay::from_stored(p.pay.as_deref()).unwrap();
        assert_eq!(
            (offer.rate_minor, offer.max_ms(), currency.as_str()),
            (900, 3_600_000, "USD")
        );
    }
}
