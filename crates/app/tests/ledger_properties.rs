//! Property tests of the ledger on every backend: random sequences of funding, claims, submissions, skips,
//! expiries, pay posting, withholding, reversals, top-ups and payouts (with the provider's answers and
//! retries) keep every transaction balanced, every cached balance equal to the sum of its entries, every
//! submission paid at most once, and a budgeted project within its cap and its organization's funding.

mod common;

use std::collections::HashSet;

use common::*;
use fairloop_app::App;
use fairloop_app::jobs::LeaseExpiry;
use fairloop_app::ledger::WithholdBody;
use fairloop_app::payouts::SettleBody;
use fairloop_domain::Role;
use fairloop_domain::time::now_millis;
use fairloop_store::ledger::{AccountKind, AccountRef, Posting};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

#[derive(Debug, Clone)]
enum Op {
    Fund(i64),
    Work { worker: usize, submit: bool },
    Post,
    Expire,
    Withhold(usize),
    Reverse(usize),
    TopUp { worker: usize, amount: i64 },
    PayoutRun,
    Settle { pick: usize, paid: bool },
    Retry(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (1_i64..3000).prop_map(Op::Fund),
        6 => (0_usize..3, prop::bool::weighted(0.8)).prop_map(|(worker, submit)| Op::Work { worker, submit }),
        3 => Just(Op::Post),
        1 => Just(Op::Expire),
        2 => (0_usize..64).prop_map(Op::Withhold),
        1 => (0_usize..64).prop_map(Op::Reverse),
        1 => (0_usize..3, 1_i64..400).prop_map(|(worker, amount)| Op::TopUp { worker, amount }),
        2 => Just(Op::PayoutRun),
        2 => (0_usize..64, any::<bool>()).prop_map(|(pick, paid)| Op::Settle { pick, paid }),
        1 => (0_usize..64).prop_map(Op::Retry),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    price: i64,
    cap: Option<i64>,
    ops: Vec<Op>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        0_i64..500,
        prop::option::weighted(0.7, 0_i64..5000),
        prop::collection::vec(op(), 1..45),
    )
        .prop_map(|(price, cap, ops)| Case { price, cap, ops })
}

fn ignore_conflicts<T>(r: Result<T, fairloop_app::AppError>) -> Result<Option<T>, TestCaseError> {
    use fairloop_app::AppError;
    match r {
        Ok(v) => Ok(Some(v)),
        Err(AppError::Conflict { .. } | AppError::NotFound(_)) => Ok(None),
        Err(e) => Err(TestCaseError::fail(format!("unexpected error: {e:?}"))),
    }
}

async fn run_case(app: &App, backend: &str, case: Case) -> Result<(), TestCaseError> {
    let org = unique("prop");
    let admin = user(app, &org, Role::Admin).await;
    let reviewer = user(app, &org, Role::Reviewer).await;
    let mut workers = Vec::new();
    for _ in 0..3 {
        workers.push(user(app, &org, Role::Worker).await);
    }
    let project = per_task_project(app, &admin, case.price, case.cap, 25, 2).await;
    let org_id = admin.org_id;
    // Money that may legitimately take the budget below zero: top-ups (owed whatever the budget) and refunds
    // (reversed funding).
    let mut allowed_overdraft = 0_i64;
    let mut topups = 0;
    for op in case.ops {
        match op {
            Op::Fund(amount) => fund(app, &admin, amount).await,
            Op::Work { worker, submit } => {
                let w = &workers[worker];
                if let Some(task) = app.next_task(w, project).await.expect("next") {
                    if submit {
                        let body = fairloop_app::work::SubmitBody {
                            answers: serde_json::json!({"label": "b"}),
                            integrity: None,
                        };
                        ignore_conflicts(app.submit(w, task.assignment_id, body, None).await)?;
                    } else {
                        ignore_conflicts(
                            app.skip(w, task.assignment_id, Default::default()).await,
                        )?;
                    }
                }
            }
            Op::Post => post_all(app).await,
            Op::Expire => {
                LeaseExpiry::new(app.clone())
                    .try_run_one(now_millis() + 3_600_000)
                    .await
                    .expect("expiry");
            }
            Op::Withhold(pick) => {
                let posted: Vec<i64> = task_pays(app, org_id).await;
                if !posted.is_empty() {
                    let annotation = posted[pick % posted.len()];
                    let body = WithholdBody {
                        reason: "withheld by the property test".into(),
                    };
                    ignore_conflicts(app.withhold_pay(&reviewer, annotation, body).await)?;
                }
            }
            Op::Reverse(pick) => {
                let history = app.ledger_view(&admin).await.expect("view").transactions;
                if !history.is_empty() {
                    let t = &history[pick % history.len()];
                    let r = app
                        .store
                        .ledger_reverse(org_id, t.id, "correction".into(), None, now_millis())
                        .await;
                    match r {
                        Ok(fairloop_store::ledger::Posted::New(_)) if t.kind == "funding" => {
                            allowed_overdraft += t.amount_minor;
                        }
                        Ok(_) => {}
                        Err(fairloop_store::StoreError::Conflict { .. }) => {}
                        Err(e) => return Err(TestCaseError::fail(format!("reverse: {e}"))),
                    }
                }
            }
            Op::TopUp { worker, amount } => {
                topups += 1;
                let w = workers[worker].user_id;
                app.store
                    .ledger_post(
                        Posting {
                            org_id,
                            source_key: format!("topup:{org_id}:{topups}"),
                            kind: "top_up".into(),
                            project_id: None,
                            worker_id: Some(w),
                            annotation_id: None,
                            memo: String::new(),
                            created_by: None,
                            currency: "USD".into(),
                            entries: vec![
                                (AccountRef::BUDGET, -amount),
                                (AccountRef::earnings(w), amount),
                            ],
                        },
                        now_millis(),
                    )
                    .await
                    .expect("top-up");
                allowed_overdraft += amount;
            }
            Op::PayoutRun => {
                app.payout_run(&admin, now_millis())
                    .await
                    .expect("payout run");
            }
            Op::Settle { pick, paid } => {
                let list = app.payouts(&admin, None).await.expect("payouts");
                if !list.is_empty() {
                    let body = SettleBody {
                        status: if paid { "paid" } else { "failed" }.into(),
                        reason: Some("bank refused".into()),
                    };
                    ignore_conflicts(
                        app.payout_settle(&admin, list[pick % list.len()].id, body)
                            .await,
                    )?;
                }
            }
            Op::Retry(pick) => {
                let list = app.payouts(&admin, None).await.expect("payouts");
                if !list.is_empty() {
                    ignore_conflicts(app.payout_retry(&admin, list[pick % list.len()].id).await)?;
                }
            }
        }
    }
    post_all(app).await;

    let report = app.verify_ledger(|_, _| {}).await.expect("verify");
    prop_assert!(
        report.problems.is_empty(),
        "{backend}: {:#?}",
        report.problems
    );
    let accounts = app
        .store
        .ledger_org_accounts(org_id)
        .await
        .expect("accounts");
    let total: i64 = accounts.iter().map(|a| a.balance_minor).sum();
    prop_assert_eq!(
        total,
        0,
        "{}: an organization's balances sum to zero",
        backend
    );
    for a in &accounts {
        // Earnings may go below zero (pay withheld after it was paid out is owed back); money paid out cannot.
        if a.kind == AccountKind::Payouts {
            prop_assert!(a.balance_minor >= 0, "{backend}: {a:?} went negative");
        }
    }
    // Each submission is paid at most once.
    let pays = task_pays(app, org_id).await;
    let distinct: HashSet<i64> = pays.iter().copied().collect();
    prop_assert_eq!(
        pays.len(),
        distinct.len(),
        "{}: a submission was paid twice",
        backend
    );
    if case.cap.is_some() {
        let budget = balance(app, org_id, AccountKind::Budget, 0).await;
        prop_assert!(
            budget + allowed_overdraft >= 0,
            "{backend}: budgeted work overdrew the budget: {budget} (allowed {allowed_overdraft})"
        );
    }
    Ok(())
}

/// Annotation ids with a task-pay transaction in the organization (one entry per transaction).
async fn task_pays(app: &App, org: i64) -> Vec<i64> {
    app.store
        .read_tx(move |tx| {
            tx.query(
                "SELECT annotation_id FROM ledger_transactions WHERE org_id = $1 AND kind = 'task_pay' ORDER BY id",
                fairloop_store::params![org],
            )?
            .iter()
            .map(|r| r.i64(0))
            .collect()
        })
        .await
        .expect("task pays")
}

#[test]
fn random_sequences_keep_every_transaction_balanced_and_every_balance_equal_to_its_entries() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let backends = rt.block_on(backends());
    let cases = std::env::var("FAIRLOOP_LEDGER_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    for b in &backends {
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&case(), |c| rt.block_on(run_case(&b.app, b.name, c)));
        if let Err(e) = result {
            panic!("{}: {e}", b.name);
        }
    }
}
