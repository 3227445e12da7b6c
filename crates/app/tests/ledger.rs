//! The ledger end to end on every backend: funding, budget holds at claim time, pay posted exactly once,
//! withholding as a reversal, append-only storage, verification, and tenant isolation.

mod common;

use common::*;
use fairloop_app::AppError;
use fairloop_app::ledger::{FundBody, PayPosting, WithholdBody};
use fairloop_domain::Role;
use fairloop_domain::time::now_millis;
use fairloop_store::ledger::AccountKind;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budgeted_project_stops_handing_out_work_before_its_cap_and_pays_each_submission_once() {
    for b in backends().await {
        let app = &b.app;
        let org = unique("org");
        let requester = user(app, &org, Role::Requester).await;
        let w1 = user(app, &org, Role::Worker).await;
        let w2 = user(app, &org, Role::Worker).await;
        fund(app, &requester, 10_000).await;
        // Cap 1000 at 300 a task: three tasks fit, the fourth would overspend.
        let project = per_task_project(app, &requester, 300, Some(1000), 10, 1).await;
        assert!(work_one(app, &w1, project).await.is_some(), "{}", b.name);
        assert!(work_one(app, &w2, project).await.is_some(), "{}", b.name);
        assert!(work_one(app, &w1, project).await.is_some(), "{}", b.name);
        assert!(
            app.next_task(&w2, project).await.unwrap().is_none(),
            "{}: a fourth task would overspend the cap",
            b.name
        );
        post_all(app).await;
        let org_id = requester.org_id;
        assert_eq!(
            balance(app, org_id, AccountKind::Earnings, w1.user_id).await,
            600
        );
        assert_eq!(
            balance(app, org_id, AccountKind::Earnings, w2.user_id).await,
            300
        );
        assert_eq!(
            balance(app, org_id, AccountKind::Budget, 0).await,
            10_000 - 900
        );
        assert_eq!(balance(app, org_id, AccountKind::Funding, 0).await, -10_000);
        // Running the job again posts nothing twice.
        let again = PayPosting::new(app.clone())
            .try_run_one(now_millis())
            .await
            .unwrap();
        assert_eq!((again.posted, again.deferred), (0, 0), "{}", b.name);
        assert_eq!(
            balance(app, org_id, AccountKind::Earnings, w1.user_id).await,
            600
        );
        let budget = app
            .store
            .ledger_project_budget(org_id, project)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((budget.spent_minor, budget.reserved_minor), (900, 0));
        assert_verified(app, b.name).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_organizations_funding_bounds_claims_and_a_skip_gives_the_hold_back() {
    for b in backends().await {
        let app = &b.app;
        let org = unique("org");
        let requester = user(app, &org, Role::Requester).await;
        let worker = user(app, &org, Role::Worker).await;
        let other = user(app, &org, Role::Worker).await;
        fund(app, &requester, 500).await;
        let project = per_task_project(app, &requester, 300, Some(1_000_000), 5, 1).await;
        let task = app.next_task(&worker, project).await.unwrap().unwrap();
        assert!(
            app.next_task(&other, project).await.unwrap().is_none(),
            "{}: 500 funded covers one hold of 300",
            b.name
        );
        app.skip(&worker, task.assignment_id, Default::default())
            .await
            .unwrap();
        let step = PayPosting::new(app.clone())
            .try_run_one(now_millis())
            .await
            .unwrap();
        assert_eq!(step.released, 1, "{}", b.name);
        assert!(
            work_one(app, &other, project).await.is_some(),
            "{}: the released hold lets the next claim through",
            b.name
        );
        post_all(app).await;
        assert_eq!(
            balance(app, requester.org_id, AccountKind::Budget, 0).await,
            200
        );
        assert_verified(app, b.name).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects_without_a_budget_claim_as_before_and_still_post_pay() {
    for b in backends().await {
        let app = &b.app;
        let org = unique("org");
        let requester = user(app, &org, Role::Requester).await;
        let worker = user(app, &org, Role::Worker).await;
        let project = per_task_project(app, &requester, 125, None, 3, 1).await;
        for _ in 0..3 {
            assert!(work_one(app, &worker, project).await.is_some());
        }
        assert!(
            app.store
                .ledger_project_budget(requester.org_id, project)
                .await
                .unwrap()
                .is_none(),
            "{}: no holds for unbudgeted projects",
            b.name
        );
        post_all(app).await;
        let org_id = requester.org_id;
        assert_eq!(
            balance(app, org_id, AccountKind::Earnings, worker.user_id).await,
            375
        );
        // Unfunded spending shows as a negative budget: what the organization owes.
        assert_eq!(balance(app, org_id, AccountKind::Budget, 0).await, -375);
        assert_verified(app, b.name).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withholding_needs_a_human_reverses_once_and_the_worker_reads_the_reason() {
    for b in backends().await {
        let app = &b.app;
        let org = unique("org");
        let requester = user(app, &org, Role::Requester).await;
        let reviewer = user(app, &org, Role::Reviewer).await;
        let worker = user(app, &org, Role::Worker).await;
        fund(app, &requester, 1000).await;
        let project = per_task_project(app, &requester, 400, Some(1000), 2, 1).await;
        work_one(app, &worker, project).await.unwrap();
        post_all(app).await;
        let view = app.ledger_view(&worker).await.unwrap();
        let annotation = view.transactions[0].annotation_id.unwrap();
        let body = || WithholdBody {
            reason: "answers copied from another item".into(),
        };
        for who in [&worker, &requester] {
            let err = app.withhold_pay(who, annotation, body()).await.unwrap_err();
            assert!(
                matches!(err, AppError::Forbidden { .. }),
                "{}: {err:?}",
                b.name
            );
        }
        let empty = app
            .withhold_pay(&reviewer, annotation, WithholdBody { reason: " ".into() })
            .await
            .unwrap_err();
        assert!(
            matches!(
                empty,
                AppError::Invalid {
                    code: "invalid_reason",
                    ..
                }
            ),
            "{}",
            b.name
        );
        let first = app
            .withhold_pay(&reviewer, annotation, body())
            .await
            .unwrap();
        assert!(first.created);
        let second = app
            .withhold_pay(&reviewer, annotation, body())
            .await
            .unwrap();
        assert!(!second.created, "{}: withholding twice is a no-op", b.name);
        assert_eq!(first.transaction_id, second.transaction_id);
        let view = app.ledger_view(&worker).await.unwrap();
        let reversal = &view.transactions[0];
        assert_eq!(reversal.kind, "reversal");
        assert_eq!(reversal.amount_minor, -400);
        assert_eq!(reversal.memo, "answers copied from another item");
        let org_id = requester.org_id;
        assert_eq!(
            balance(app, org_id, AccountKind::Earnings, worker.user_id).await,
            0
        );
        assert_eq!(balance(app, org_id, AccountKind::Budget, 0).await, 1000);
        let budget = app
            .store
            .ledger_project_budget(org_id, project)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(budget.spent_minor, 0, "{}", b.name);
        assert_verified(app, b.name).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_organization_or_worker_sees_and_changes_nothing() {
    for b in backends().await {
        let app = &b.app;
        let org_a = unique("org_a");
        let org_b = unique("org_b");
        let requester_a = user(app, &org_a, Role::Requester).await;
        let worker_a = user(app, &org_a, Role::Worker).await;
        let worker_a2 = user(app, &org_a, Role::Worker).await;
        let requester_b = user(app, &org_b, Role::Requester).await;
        let reviewer_b = user(app, &org_b, Role::Reviewer).await;
        let worker_b = user(app, &org_b, Role::Worker).await;
        fund(app, &requester_a, 1000).await;
        let project = per_task_project(app, &requester_a, 100, Some(1000), 2, 1).await;
        work_one(app, &worker_a, project).await.unwrap();
        post_all(app).await;
        let annotation = app.ledger_view(&worker_a).await.unwrap().transactions[0]
            .annotation_id
            .unwrap();

        let b_view = app.ledger_view(&requester_b).await.unwrap();
        assert!(b_view.accounts.is_empty(), "{}: {b_view:?}", b.name);
        assert!(b_view.transactions.is_empty());
        assert!(
            app.ledger_view(&worker_b)
                .await
                .unwrap()
                .accounts
                .is_empty()
        );
        let err = app
            .withhold_pay(
                &reviewer_b,
                annotation,
                WithholdBody {
                    reason: "not yours".into(),
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::NotFound(_)), "{}: {err:?}", b.name);
        // Another organization's worker cannot claim (so cannot hold budget) in this project.
        assert!(app.next_task(&worker_b, project).await.is_err());
        // A worker sees only their own accounts, and may not read a colleague's earnings.
        let a2 = app.ledger_view(&worker_a2).await.unwrap();
        assert!(a2.accounts.is_empty() && a2.transactions.is_empty());
        assert!(matches!(
            app.earnings_of(&worker_a2, worker_a.user_id).await,
            Err(AppError::Forbidden { .. })
        ));
        // Funding the same reference in another organization is a different payment.
        let same_ref = |p: &fairloop_store::Principal| {
            let p = p.clone();
            let app = app.clone();
            async move {
                app.fund_budget(
                    &p,
                    FundBody {
                        amount_minor: 50,
                        currency: "USD".into(),
                        reference: "wire-1".into(),
                    },
                )
                .await
                .unwrap()
            }
        };
        assert!(same_ref(&requester_a).await.created);
        assert!(same_ref(&requester_b).await.created);
        assert!(!same_ref(&requester_b).await.created);
        assert_eq!(
            balance(app, requester_a.org_id, AccountKind::Budget, 0).await,
            1000 - 100 + 50
        );
        assert_eq!(
            balance(app, requester_b.org_id, AccountKind::Budget, 0).await,
            50
        );
        assert_verified(app, b.name).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn funding_is_for_requesters_and_bad_input_names_the_field() {
    for b in backends().await {
        let app = &b.app;
        let org = unique("org");
        let requester = user(app, &org, Role::Requester).await;
        let worker = user(app, &org, Role::Worker).await;
        let body = |amount: i64, currency: &str, reference: &str| FundBody {
            amount_minor: amount,
            currency: currency.into(),
            reference: reference.into(),
        };
        assert!(matches!(
            app.fund_budget(&worker, body(100, "USD", "r")).await,
            Err(AppError::Forbidden { .. })
        ));
        for (input, code, field) in [
            (body(0, "USD", "r"), "invalid_amount", "amount_minor"),
            (body(-5, "USD", "r"), "invalid_amount", "amount_minor"),
            (body(100, "usd", "r"), "invalid_currency", "currency"),
            (body(100, "USD", "  "), "invalid_reference", "reference"),
        ] {
            match app.fund_budget(&requester, input).await {
                Err(AppError::Invalid {
                    code: got, message, ..
                }) => {
                    assert_eq!(got, code, "{}", b.name);
                    assert!(message.contains(field), "{message}");
                }
                other => panic!("{}: expected {code}, got {other:?}", b.name),
            }
        }
        assert!(
            app.ledger_view(&requester)
                .await
                .unwrap()
                .accounts
                .is_empty()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_are_append_only_and_verify_names_a_tampered_balance() {
    for b in backends().await {
        let app = &b.app;
        let org = unique("org");
        let requester = user(app, &org, Role::Requester).await;
        fund(app, &requester, 700).await;
        for sql in [
            "UPDATE ledger_entries SET amount_minor = amount_minor + 1",
            "DELETE FROM ledger_entries",
            "UPDATE ledger_transactions SET memo = 'x'",
            "DELETE FROM ledger_transactions",
        ] {
            let r = app.store.write_tx(move |tx| tx.execute(sql, &[])).await;
            let err = r.expect_err(sql).to_string();
            assert!(err.contains("append-only"), "{}: {sql}: {err}", b.name);
        }
        assert_verified(app, b.name).await;
        let org_id = requester.org_id;
        app.store
            .write_tx(move |tx| {
                tx.execute(
                    "UPDATE ledger_accounts SET balance_minor = balance_minor + 1 WHERE org_id = $1 AND kind = 'budget'",
                    fairloop_store::params![org_id],
                )
            })
            .await
            .unwrap();
        let report = app.verify_ledger(|_, _| {}).await.unwrap();
        assert_eq!(
            report.problems.len(),
            1,
            "{}: {:?}",
            b.name,
            report.problems
        );
        assert!(
            report.problems[0].contains("caches balance 701 but its entries sum to 700"),
            "{}",
            report.problems[0]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bonuses_are_their_own_entries_once_per_reference_and_within_the_budget() {
    use fairloop_app::ledger::{BonusBody, BonusKind};
    for b in backends().await {
        let app = &b.app;
        let org = unique("org");
        let requester = user(app, &org, Role::Requester).await;
        let worker = user(app, &org, Role::Worker).await;
        let outsider = user(app, &unique("other"), Role::Worker).await;
        fund(app, &requester, 1000).await;
        let project = per_task_project(app, &requester, 100, Some(600), 3, 1).await;
        let bonus = |kind, amount, reference: &str, worker_id| BonusBody {
            worker_id,
            kind,
            amount_minor: amount,
            reference: reference.into(),
            memo: "thank you".into(),
        };
        let first = app
            .pay_bonus(
                &requester,
                project,
                bonus(BonusKind::Gold, 250, "week-1", worker.user_id),
            )
            .await
            .unwrap();
        assert!(first.created, "{}", b.name);
        let again = app
            .pay_bonus(
                &requester,
                project,
                bonus(BonusKind::Gold, 250, "week-1", worker.user_id),
            )
            .await
            .unwrap();
        assert!(!again.created, "{}: same reference posts once", b.name);
        app.pay_bonus(
            &requester,
            project,
            bonus(BonusKind::Quality, 250, "week-1", worker.user_id),
        )
        .await
        .unwrap();
        // 500 of the 600 cap spent: a 200 bonus would overspend.
        let over = app
            .pay_bonus(
                &requester,
                project,
                bonus(BonusKind::Completion, 200, "done", worker.user_id),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(
                over,
                AppError::Conflict {
                    code: "budget_exhausted",
                    ..
                }
            ),
            "{}: {over:?}",
            b.name
        );
        let outside = app
            .pay_bonus(
                &requester,
                project,
                bonus(BonusKind::Gold, 1, "x", outsider.user_id),
            )
            .await
            .unwrap_err();
        assert!(matches!(outside, AppError::NotFound(_)), "{}", b.name);
        assert!(matches!(
            app.pay_bonus(
                &worker,
                project,
                bonus(BonusKind::Gold, 1, "y", worker.user_id)
            )
            .await,
            Err(AppError::Forbidden { .. })
        ));
        let kinds: Vec<String> = app
            .ledger_view(&worker)
            .await
            .unwrap()
            .transactions
            .into_iter()
            .map(|t| t.kind)
            .collect();
        assert_eq!(kinds, ["bonus_quality", "bonus_gold"], "{}", b.name);
        assert_eq!(
            balance(app, requester.org_id, AccountKind::Earnings, worker.user_id).await,
            500
        );
        assert_verified(app, b.name).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payout_run_pays_once_per_period_and_a_failed_payout_is_owed_again_until_retried() {
    use fairloop_app::payouts::{SettleBody, payouts_csv};
    for b in backends().await {
        let app = &b.app;
        let org = unique("org");
        let admin = user(app, &org, Role::Admin).await;
        let w1 = user(app, &org, Role::Worker).await;
        let w2 = user(app, &org, Role::Worker).await;
        let project = per_task_project(app, &admin, 250, None, 4, 1).await;
        work_one(app, &w1, project).await.unwrap();
        work_one(app, &w1, project).await.unwrap();
        work_one(app, &w2, project).await.unwrap();
        post_all(app).await;
        let now = now_millis();
        let run = app.payout_run(&admin, now).await.unwrap();
        assert_eq!(run.len(), 2, "{}", b.name);
        assert!(
            app.payout_run(&admin, now).await.unwrap().is_empty(),
            "{}: once per period",
            b.name
        );
        let csv = payouts_csv(&run);
        assert!(csv.contains(&format!(",{},", "5.00")), "{csv}");
        assert!(csv.contains(&w1.email));
        let org_id = admin.org_id;
        assert_eq!(
            balance(app, org_id, AccountKind::Earnings, w1.user_id).await,
            0
        );
        assert_eq!(
            balance(app, org_id, AccountKind::Payouts, w1.user_id).await,
            500
        );
        let p1 = run.iter().find(|p| p.worker_id == w1.user_id).unwrap().id;
        let p2 = run.iter().find(|p| p.worker_id == w2.user_id).unwrap().id;
        let settle = |status: &str, reason: Option<&str>| SettleBody {
            status: status.into(),
            reason: reason.map(str::to_string),
        };
        assert!(matches!(
            app.payout_settle(&admin, p1, settle("failed", None)).await,
            Err(AppError::Invalid {
                code: "invalid_reason",
                ..
            })
        ));
        let failed = app
            .payout_settle(&admin, p1, settle("failed", Some("account closed")))
            .await
            .unwrap();
        assert_eq!(failed.status, "failed");
        assert_eq!(
            balance(app, org_id, AccountKind::Earnings, w1.user_id).await,
            500
        );
        assert_eq!(
            balance(app, org_id, AccountKind::Payouts, w1.user_id).await,
            0
        );
        app.payout_settle(&admin, p2, settle("paid", None))
            .await
            .unwrap();
        assert!(matches!(
            app.payout_settle(&admin, p2, settle("failed", Some("late")))
                .await,
            Err(AppError::Conflict {
                code: "payout_not_pending",
                ..
            })
        ));
        assert!(matches!(
            app.payout_settle(&w1, p1, settle("paid", None)).await,
            Err(AppError::Forbidden { .. })
        ));
        let retried = app.payout_retry(&admin, p1).await.unwrap().unwrap();
        assert_eq!(
            (retried.status.as_str(), retried.retry_of),
            ("pending", Some(p1))
        );
        assert_eq!(retried.amount_minor, 500);
        assert!(matches!(
            app.payout_retry(&admin, p1).await,
            Err(AppError::Conflict {
                code: "payout_not_failed",
                ..
            })
        ));
        assert_eq!(
            balance(app, org_id, AccountKind::Payouts, w1.user_id).await,
            500
        );
        // A worker sees their own payouts only; another organization sees none.
        let own = app.payouts(&w2, None).await.unwrap();
        assert_eq!(own.len(), 1);
        assert_eq!(own[0].status, "paid");
        let stranger = user(app, &unique("other"), Role::Admin).await;
        assert!(app.payouts(&stranger, None).await.unwrap().is_empty());
        assert!(matches!(
            app.payout_settle(&stranger, p1, settle("paid", None)).await,
            Err(AppError::NotFound(_))
        ));
        assert_verified(app, b.name).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_pay_policy_never_answers_for_another_organization() {
    for b in backends().await {
        let app = &b.app;
        let requester = user(app, &unique("org"), Role::Requester).await;
        let outsider = user(app, &unique("other"), Role::Worker).await;
        fund(app, &requester, 1000).await;
        let project = per_task_project(app, &requester, 100, Some(1000), 3, 1).await;
        // The owner's organization fills the cache; an outsider's claim must still be "not found" and hold nothing.
        let own_worker = {
            let org_name = app.store.org_name(requester.org_id).await.unwrap();
            user(app, &org_name, Role::Worker).await
        };
        assert!(work_one(app, &own_worker, project).await.is_some());
        let err = app.next_task(&outsider, project).await.unwrap_err();
        assert!(matches!(err, AppError::NotFound(_)), "{}: {err:?}", b.name);
        let budget = app
            .store
            .ledger_project_budget(requester.org_id, project)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            budget.reserved_minor, 100,
            "{}: only the insider's hold",
            b.name
        );
        assert!(
            app.ledger_view(&outsider)
                .await
                .unwrap()
                .accounts
                .is_empty()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_disputes_withheld_pay_and_a_human_overturns_it_once() {
    use fairloop_app::ledger::ResolvePayDispute;
    for b in backends().await {
        let app = &b.app;
        let org = unique("org");
        let requester = user(app, &org, Role::Requester).await;
        let reviewer = user(app, &org, Role::Reviewer).await;
        let worker = user(app, &org, Role::Worker).await;
        let colleague = user(app, &org, Role::Worker).await;
        fund(app, &requester, 1000).await;
        let project = per_task_project(app, &requester, 300, Some(1000), 3, 1).await;
        work_one(app, &worker, project).await.unwrap();
        work_one(app, &worker, project).await.unwrap();
        post_all(app).await;
        let pays = app.ledger_view(&worker).await.unwrap().transactions;
        let (withheld, kept) = (
            pays[0].annotation_id.unwrap(),
            pays[1].annotation_id.unwrap(),
        );
        let reason = |r: &str| WithholdBody { reason: r.into() };
        // Nothing withheld yet: nothing to dispute.
        assert!(matches!(
            app.dispute_withholding(&worker, withheld, reason("why?"))
                .await,
            Err(AppError::NotFound(_))
        ));
        app.withhold_pay(&reviewer, withheld, reason("blank answers"))
            .await
            .unwrap();
        assert!(matches!(
            app.dispute_withholding(&colleague, withheld, reason("not mine"))
                .await,
            Err(AppError::NotFound(_))
        ));
        assert!(matches!(
            app.dispute_withholding(&worker, kept, reason("never withheld"))
                .await,
            Err(AppError::NotFound(_))
        ));
        let d = app
            .dispute_withholding(&worker, withheld, reason("the item was empty"))
            .await
            .unwrap();
        assert_eq!(d.status, "open");
        assert!(matches!(
            app.dispute_withholding(&worker, withheld, reason("again"))
                .await,
            Err(AppError::Conflict {
                code: "dispute_exists",
                ..
            })
        ));
        let overturn = || ResolvePayDispute {
            overturn: true,
            note: "the item was indeed empty".into(),
        };
        for who in [&worker, &requester] {
            assert!(matches!(
                app.resolve_pay_dispute(who, d.id, overturn()).await,
                Err(AppError::Forbidden { .. })
            ));
        }
        let stranger = user(app, &unique("other"), Role::Reviewer).await;
        assert!(matches!(
            app.resolve_pay_dispute(&stranger, d.id, overturn()).await,
            Err(AppError::NotFound(_))
        ));
        let done = app
            .resolve_pay_dispute(&reviewer, d.id, overturn())
            .await
            .unwrap();
        assert_eq!(done.status, "overturned");
        assert!(matches!(
            app.resolve_pay_dispute(&reviewer, d.id, overturn()).await,
            Err(AppError::Conflict {
                code: "dispute_resolved",
                ..
            })
        ));
        assert_eq!(
            balance(app, requester.org_id, AccountKind::Earnings, worker.user_id).await,
            600,
            "{}: the withheld pay is paid again",
            b.name
        );
        let latest = &app.ledger_view(&worker).await.unwrap().transactions[0];
        assert_eq!(latest.kind, "reinstated");
        assert!(latest.memo.contains("withholding overturned"));
        assert_eq!(app.pay_disputes(&worker).await.unwrap().len(), 1);
        assert!(app.pay_disputes(&colleague).await.unwrap().is_empty());
        assert!(app.pay_disputes(&stranger).await.unwrap().is_empty());
        assert_verified(app, b.name).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_and_invoices_come_from_the_ledger_and_stay_in_their_organization() {
    for b in backends().await {
        let app = &b.app;
        let org = unique("org");
        let requester = user(app, &org, Role::Requester).await;
        let worker = user(app, &org, Role::Worker).await;
        let colleague = user(app, &org, Role::Worker).await;
        let stranger = user(app, &unique("other"), Role::Requester).await;
        fund(app, &requester, 1000).await;
        let project = per_task_project(app, &requester, 250, None, 2, 1).await;
        work_one(app, &worker, project).await.unwrap();
        post_all(app).await;
        let (from, to) = (now_millis() - 3_600_000, now_millis() + 3_600_000);
        let s = app.statement(&worker, None, from, to).await.unwrap();
        assert_eq!(s.lines.len(), 1, "{}", b.name);
        assert_eq!(s.lines[0].what, "task pay");
        assert_eq!(
            (s.totals[0].opening_minor, s.totals[0].closing_minor),
            (0, 250)
        );
        // A later period opens with what this one closed with.
        let later = app
            .statement(&worker, None, to, to + 3_600_000)
            .await
            .unwrap();
        assert_eq!((later.totals[0].opening_minor, later.lines.len()), (250, 0));
        let seen = app
            .statement(&requester, Some(worker.user_id), from, to)
            .await
            .unwrap();
        assert_eq!(
            seen.lines, s.lines,
            "{}: the requester sees the same statement",
            b.name
        );
        assert!(matches!(
            app.statement(&colleague, Some(worker.user_id), from, to)
                .await,
            Err(AppError::Forbidden { .. })
        ));
        let foreign = app
            .statement(&stranger, Some(worker.user_id), from, to)
            .await
            .unwrap();
        assert!(
            foreign.lines.is_empty() && foreign.totals.is_empty(),
            "{}",
            b.name
        );
        let invoice = app.invoice(&requester, from, to).await.unwrap();
        let whats: Vec<&str> = invoice.lines.iter().map(|l| l.what.as_str()).collect();
        assert_eq!(whats, ["funding", "task pay"], "{}", b.name);
        assert_eq!(invoice.totals[0].closing_minor, 750);
        assert!(invoice.to_csv().contains("closing balance,,,,7.50,750,USD"));
        assert!(matches!(
            app.invoice(&worker, from, to).await,
            Err(AppError::Forbidden { .. })
        ));
        assert!(
            app.invoice(&stranger, from, to)
                .await
                .unwrap()
                .lines
                .is_empty()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_platform_fee_is_taken_from_funding_and_shown_on_the_invoice() {
    for b in backends().await {
        // The same store, with a 2.5 % fee configured.
        let app = fairloop_app::App::new(
            b.app.store.clone(),
            fairloop_app::AppConfig {
                platform_fee_bps: 250,
                ..fairloop_app::AppConfig::default()
            },
        );
        let org = unique("org");
        let requester = user(&app, &org, Role::Requester).await;
        let fund = |amount: i64, reference: &str| FundBody {
            amount_minor: amount,
            currency: "EUR".into(),
            reference: reference.into(),
        };
        app.fund_budget(&requester, fund(10_000, "wire-1"))
            .await
            .unwrap();
        // 2.5 % of 10,001 is 250.025: rounded half up to 250.
        app.fund_budget(&requester, fund(10_001, "wire-2"))
            .await
            .unwrap();
        // Retrying a funding charges the fee once.
        assert!(
            !app.fund_budget(&requester, fund(10_001, "wire-2"))
                .await
                .unwrap()
                .created
        );
        let org_id = requester.org_id;
        assert_eq!(balance(&app, org_id, AccountKind::Fees, 0).await, 500);
        assert_eq!(
            balance(&app, org_id, AccountKind::Budget, 0).await,
            20_001 - 500
        );
        assert_eq!(
            balance(&app, org_id, AccountKind::Funding, 0).await,
            -20_001
        );
        let invoice = app.invoice(&requester, 0, now_millis() + 1).await.unwrap();
        assert_eq!(invoice.lines.len(), 2, "{}", b.name);
        assert_eq!(invoice.lines[0].amount_minor, 9_750);
        assert!(
            invoice.lines[0]
                .memo
                .contains("platform fee 2.50 = 2.50 % of 100.00"),
            "{}",
            invoice.lines[0].memo
        );
        // Without a fee (the default) a funding has no fee entry and the budget gets all of it.
        let other = user(&b.app, &unique("org"), Role::Requester).await;
        b.app.fund_budget(&other, fund(999, "w")).await.unwrap();
        assert_eq!(
            balance(&b.app, other.org_id, AccountKind::Budget, 0).await,
            999
        );
        assert_eq!(balance(&b.app, other.org_id, AccountKind::Fees, 0).await, 0);
        assert_verified(&app, b.name).await;
    }
}
