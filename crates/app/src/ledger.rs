//! Pay and the ledger as users see them: funding a budget, holding budget at claim time, posting pay for
//! submissions, withholding pay, reading balances and verifying the books.
//!
//! The bookkeeping itself (double entry, exactly-once source keys, cached balances) lives in
//! `fairloop_store::ledger`; this module decides *what* to post, *who* may ask for it and *when*. Pay is
//! posted by a background job ([`PayPosting`]) that scans for submissions without a posting, not inside the
//! submit request: submit is the hottest path (a group commit on SQLite) and stays one transaction, while the
//! job posts each submission exactly once by its source key however many processes run it (see
//! docs/design.md, "Posting pay").

use std::time::Duration;

use fairloop_domain::time::{Millis, now_millis};
use fairloop_domain::{ProjectId, UserId};
use fairloop_store::Principal;
use fairloop_store::ledger::{
    AccountKind, AccountRef, AccountView, HoldRequest, Posted, Posting, TaskPay, TaskPayOutcome,
    TransactionView, VerifyReport, valid_currency,
};
use fairloop_store::pay_disputes::PayDispute;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::NotFoundAs;
use crate::projects::require_manager;
use crate::{App, AppError, AppResult};

/// Most submissions posted in one job step.
const POSTING_BATCH: i64 = 500;
/// A hold that never got its assignment (the claim failed or the process died) is released after this long.
const ORPHANED_HOLD_MS: Millis = 60_000;
/// Largest single funding accepted (a typo guard: 10^12 minor units).
const MAX_FUNDING_MINOR: i64 = 1_000_000_000_000;

/// A project's pay settings as stored (the contract's `pay` object plus `budget_minor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayPolicy {
    /// `per_task` or `hourly`.
    pub model: PayModel,
    /// ISO 4217 code.
    pub currency: String,
    /// The most the project may spend, when it has a budget.
    pub budget_minor: Option<i64>,
    /// How long a lease lasts, for estimating an hourly claim's cost.
    pub lease_seconds: u32,
}

/// How much a project pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayModel {
    /// A fixed amount per submission.
    PerTask(i64),
    /// A rate per hour of active time.
    Hourly(i64),
}

impl PayPolicy {
    /// Reads stored pay settings; `None` when the project does not pay through Fairloop.
    pub fn parse(pay: Option<&str>, lease_seconds: u32) -> Option<PayPolicy> {
        let v: Value = serde_json::from_str(pay?).ok()?;
        let currency = v.get("currency")?.as_str()?.to_string();
        let model = match v.get("model")?.as_str()? {
            "per_task" => PayModel::PerTask(v.get("amount_minor")?.as_i64()?),
            "hourly" => PayModel::Hourly(v.get("rate_minor")?.as_i64()?),
            _ => return None,
        };
        Some(PayPolicy {
            model,
            currency,
            budget_minor: v.get("budget_minor").and_then(Value::as_i64),
            lease_seconds,
        })
    }

    /// What a claim holds of the budget: the task price, or for hourly pay the rate times the lease (the
    /// longest a claim can run before it goes back to the pool), rounded up.
    pub fn hold_minor(&self) -> i64 {
        match self.model {
            PayModel::PerTask(amount) => amount,
            PayModel::Hourly(rate) => {
                let secs = i128::from(self.lease_seconds);
                ((i128::from(rate) * secs + 3599) / 3600).min(i128::from(i64::MAX)) as i64
            }
        }
    }
}

/// The body of "fund the budget".
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FundBody {
    /// Amount in minor units (cents), more than zero.
    pub amount_minor: i64,
    /// ISO 4217 code, e.g. `USD`.
    pub currency: String,
    /// The payment's reference (e.g. the bank transfer id): funding the same reference twice posts once.
    pub reference: String,
}

/// Why a bonus is paid: each kind is its own entry in the worker's statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BonusKind {
    /// For high agreement or review scores.
    Quality,
    /// For answering gold (known-answer) items correctly.
    Gold,
    /// For finishing a batch or the project.
    Completion,
}

impl BonusKind {
    fn as_str(self) -> &'static str {
        match self {
            BonusKind::Quality => "quality",
            BonusKind::Gold => "gold",
            BonusKind::Completion => "completion",
        }
    }
}

/// The body of "pay a bonus".
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BonusBody {
    /// The worker (of the caller's organization).
    pub worker_id: UserId,
    /// quality, gold or completion.
    pub kind: BonusKind,
    /// Amount in minor units of the project's currency, more than zero.
    pub amount_minor: i64,
    /// What it is for (e.g. the batch or week): the same worker, kind and reference posts once.
    pub reference: String,
    /// A note the worker sees.
    #[serde(default)]
    pub memo: String,
}

/// The body of "resolve a dispute of withheld pay".
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolvePayDispute {
    /// True to overturn the withholding (the pay is posted again); false to uphold it.
    pub overturn: bool,
    /// A note the worker reads.
    pub note: String,
}

/// The body of "withhold pay" (and of the worker's dispute of it).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithholdBody {
    /// Why, in words the worker will read.
    pub reason: String,
}

/// A posted transaction as the API answers it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PostedView {
    /// The transaction id.
    pub transaction_id: i64,
    /// False when the same reference or event had been posted before (nothing changed).
    pub created: bool,
}

impl From<Posted> for PostedView {
    fn from(p: Posted) -> Self {
        PostedView {
            transaction_id: p.id(),
            created: matches!(p, Posted::New(_)),
        }
    }
}

/// Balances and recent transactions, as the caller may see them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LedgerView {
    /// Accounts with their balances in minor units.
    #[schema(value_type = Vec<Object>)]
    pub accounts: Vec<AccountView>,
    /// Latest transactions on the caller's earnings (workers) or the budget (requesters), newest first.
    #[schema(value_type = Vec<Object>)]
    pub transactions: Vec<TransactionView>,
}

/// Pay settings by (organization, project), shared by every request of an [`App`].
pub(crate) type PayPolicyCache = std::sync::Arc<
    std::sync::Mutex<
        std::collections::HashMap<(fairloop_domain::OrgId, ProjectId), Option<PayPolicy>>,
    >,
>;

/// The outcome of holding budget before a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hold {
    /// The project has no budget: the claim path is unchanged.
    Unbudgeted,
    /// Held under this reservation id.
    Held(i64),
    /// The budget cannot cover another task.
    Exhausted,
}

fn require_reviewer(p: &Principal) -> AppResult<()> {
    use fairloop_domain::Role;
    if matches!(p.role, Role::Admin | Role::Reviewer) {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "withholding pay needs the reviewer or admin role; you are a {}",
            p.role
        )))
    }
}

impl App {
    /// The pay policy of a project, cached (pay settings do not change after creation).
    pub(crate) async fn pay_policy(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<Option<PayPolicy>> {
        if let Some(p) = self
            .pay_policies
            .lock()
            .expect("pay policy cache lock")
            .get(&(principal.org_id, project))
        {
            return Ok(p.clone());
        }
        let p = self
            .store
            .project(principal.org_id, project)
            .await
            .or_not_found("project")?;
        let policy = PayPolicy::parse(p.pay.as_deref(), p.policy.lease_seconds);
        self.pay_policies
            .lock()
            .expect("pay policy cache lock")
            .insert((principal.org_id, project), policy.clone());
        Ok(policy)
    }

    /// Holds a task's cost before a claim on a budgeted project.
    pub(crate) async fn hold_budget(
        &self,
        principal: &Principal,
        project: ProjectId,
        now: Millis,
    ) -> AppResult<Hold> {
        let Some(policy) = self.pay_policy(principal, project).await? else {
            return Ok(Hold::Unbudgeted);
        };
        let Some(cap) = policy.budget_minor else {
            return Ok(Hold::Unbudgeted);
        };
        let held = self
            .store
            .ledger_reserve(
                HoldRequest {
                    org_id: principal.org_id,
                    project_id: project,
                    worker_id: principal.user_id,
                    amount_minor: policy.hold_minor(),
                    currency: policy.currency.clone(),
                    cap_minor: cap,
                },
                now,
            )
            .await?;
        Ok(held.map_or(Hold::Exhausted, Hold::Held))
    }

    /// Ties a hold to the assignment a claim produced (`None`: release it).
    pub(crate) async fn settle_hold(
        &self,
        principal: &Principal,
        reservation: i64,
        assignment: Option<i64>,
        now: Millis,
    ) -> AppResult<()> {
        Ok(self
            .store
            .ledger_settle_reservation(principal.org_id, reservation, assignment, now)
            .await?)
    }

    /// Funds the organization's budget (requesters and admins); the same `reference` posts once.
    pub async fn fund_budget(
        &self,
        principal: &Principal,
        body: FundBody,
    ) -> AppResult<PostedView> {
        require_manager(principal)?;
        if body.amount_minor <= 0 || body.amount_minor > MAX_FUNDING_MINOR {
            return Err(AppError::invalid(
                "invalid_amount",
                format!("amount_minor must be between 1 and {MAX_FUNDING_MINOR} minor units"),
            ));
        }
        if !valid_currency(&body.currency) {
            return Err(AppError::invalid(
                "invalid_currency",
                format!(
                    "currency must be a three-letter ISO 4217 code such as USD, got {:?}",
                    body.currency
                ),
            ));
        }
        let reference = body.reference.trim();
        crate::reject_nul("reference", reference)?;
        if reference.is_empty() || reference.len() > 200 {
            return Err(AppError::invalid(
                "invalid_reference",
                "reference must be 1 to 200 bytes (the payment's id, so a retry posts once)",
            ));
        }
        let posted = self
            .store
            .ledger_post(
                Posting {
                    org_id: principal.org_id,
                    source_key: format!("fund:{}:{reference}", principal.org_id),
                    kind: "funding".into(),
                    project_id: None,
                    worker_id: None,
                    annotation_id: None,
                    memo: funding_memo(reference, body.amount_minor, self.config.platform_fee_bps),
                    created_by: Some(principal.user_id),
                    currency: body.currency.clone(),
                    entries: funding_entries(body.amount_minor, self.config.platform_fee_bps),
                },
                now_millis(),
            )
            .await?;
        Ok(posted.into())
    }

    /// Pays a worker a bonus on a project (requesters and admins), out of the budget; a budgeted project must
    /// be able to cover it. The same worker, kind and reference posts once.
    pub async fn pay_bonus(
        &self,
        principal: &Principal,
        project: ProjectId,
        body: BonusBody,
    ) -> AppResult<PostedView> {
        require_manager(principal)?;
        let policy = self.pay_policy(principal, project).await?.ok_or_else(|| {
            AppError::invalid(
                "invalid_pay",
                "this project has no pay settings, so it has no currency to pay a bonus in",
            )
        })?;
        if body.amount_minor <= 0 || body.amount_minor > MAX_FUNDING_MINOR {
            return Err(AppError::invalid(
                "invalid_amount",
                format!("amount_minor must be between 1 and {MAX_FUNDING_MINOR} minor units"),
            ));
        }
        let reference = body.reference.trim();
        crate::reject_nul("reference", reference)?;
        crate::reject_nul("memo", &body.memo)?;
        if reference.is_empty() || reference.len() > 200 || body.memo.len() > 2000 {
            return Err(AppError::invalid(
                "invalid_reference",
                "reference must be 1 to 200 bytes and memo at most 2000",
            ));
        }
        let worker = body.worker_id;
        if !self.store.user_in_org(principal.org_id, worker).await? {
            return Err(AppError::NotFound("worker"));
        }
        let kind = body.kind.as_str();
        let posted = self
            .store
            .ledger_post_from_budget(
                Posting {
                    org_id: principal.org_id,
                    source_key: format!("bonus:{project}:{kind}:{worker}:{reference}"),
                    kind: format!("bonus_{kind}"),
                    project_id: Some(project),
                    worker_id: Some(worker),
                    annotation_id: None,
                    memo: body.memo.trim().to_string(),
                    created_by: Some(principal.user_id),
                    currency: policy.currency.clone(),
                    entries: vec![
                        (AccountRef::BUDGET, -body.amount_minor),
                        (AccountRef::earnings(worker), body.amount_minor),
                    ],
                },
                policy.budget_minor,
                now_millis(),
            )
            .await?;
        Ok(posted.into())
    }

    /// Withholds a submission's pay (reviewers and admins): posts the reversal of its pay with the reason,
    /// which the worker sees on their statement. Withholding twice is a no-op.
    pub async fn withhold_pay(
        &self,
        principal: &Principal,
        annotation: i64,
        body: WithholdBody,
    ) -> AppResult<PostedView> {
        require_reviewer(principal)?;
        let reason = body.reason.trim();
        crate::reject_nul("reason", reason)?;
        if reason.is_empty() || reason.len() > 2000 {
            return Err(AppError::invalid(
                "invalid_reason",
                "reason must be 1 to 2000 bytes: the worker reads it",
            ));
        }
        let posted = self
            .store
            .ledger_withhold(
                principal.org_id,
                annotation,
                reason.to_string(),
                principal.user_id,
                now_millis(),
            )
            .await
            .or_not_found("posted pay for this submission")?;
        Ok(posted.into())
    }

    /// The worker disputes the withholding of their own submission's pay, with a reason.
    pub async fn dispute_withholding(
        &self,
        principal: &Principal,
        annotation: i64,
        body: WithholdBody,
    ) -> AppResult<PayDispute> {
        let reason = body.reason.trim();
        crate::reject_nul("reason", reason)?;
        if reason.is_empty() || reason.len() > 2000 {
            return Err(AppError::invalid(
                "invalid_reason",
                "reason must be 1 to 2000 bytes: a reviewer reads it",
            ));
        }
        self.store
            .open_pay_dispute(
                principal.org_id,
                principal.user_id,
                annotation,
                reason.to_string(),
                now_millis(),
            )
            .await
            .or_not_found("withheld pay of yours for this submission")
    }

    /// A reviewer or admin resolves a dispute of withheld pay: `overturn` pays it again.
    pub async fn resolve_pay_dispute(
        &self,
        principal: &Principal,
        id: i64,
        body: ResolvePayDispute,
    ) -> AppResult<PayDispute> {
        require_reviewer(principal)?;
        let note = body.note.trim();
        crate::reject_nul("note", note)?;
        if note.is_empty() || note.len() > 2000 {
            return Err(AppError::invalid(
                "invalid_reason",
                "note must be 1 to 2000 bytes: the worker reads it",
            ));
        }
        self.store
            .resolve_pay_dispute(
                principal.org_id,
                id,
                body.overturn,
                note.to_string(),
                principal.user_id,
                now_millis(),
            )
            .await
            .or_not_found("dispute")
    }

    /// Disputes of withheld pay the caller may see: their own, or the organization's for reviewers, requesters
    /// and admins.
    pub async fn pay_disputes(&self, principal: &Principal) -> AppResult<Vec<PayDispute>> {
        use fairloop_domain::Role;
        let worker = match principal.role {
            Role::Worker => Some(principal.user_id),
            _ => None,
        };
        Ok(self.store.pay_disputes(principal.org_id, worker).await?)
    }

    /// The caller's view of the ledger: a worker sees their own accounts and earnings; a requester or admin
    /// sees the organization's accounts and budget history.
    pub async fn ledger_view(&self, principal: &Principal) -> AppResult<LedgerView> {
        let org = principal.org_id;
        if principal.role.can_manage_projects() {
            Ok(LedgerView {
                accounts: self.store.ledger_org_accounts(org).await?,
                transactions: self
                    .store
                    .ledger_history(org, AccountRef::BUDGET, 200)
                    .await?,
            })
        } else {
            Ok(LedgerView {
                accounts: self
                    .store
                    .ledger_worker_accounts(org, principal.user_id)
                    .await?,
                transactions: self
                    .store
                    .ledger_history(org, AccountRef::earnings(principal.user_id), 200)
                    .await?,
            })
        }
    }

    /// A worker's earnings balance per currency (what they are owed).
    pub async fn earnings_of(
        &self,
        principal: &Principal,
        worker: UserId,
    ) -> AppResult<Vec<(String, i64)>> {
        if worker != principal.user_id {
            require_manager(principal)?;
        }
        Ok(self
            .store
            .ledger_worker_accounts(principal.org_id, worker)
            .await?
            .into_iter()
            .filter(|a| a.kind == AccountKind::Earnings)
            .map(|a| (a.currency, a.balance_minor))
            .collect())
    }

    /// Checks the whole ledger (operators: the CLI); see `fairloop_store::ledger::verify`.
    pub async fn verify_ledger(
        &self,
        progress: impl FnMut(u64, u64) + Send,
    ) -> AppResult<VerifyReport> {
        Ok(fairloop_store::ledger::verify(self.store.as_ref(), progress).await?)
    }
}

/// Hourly pay for `ms` of active time at `rate_minor` an hour, rounded half up to a whole minor unit.
pub fn hourly_amount(rate_minor: i64, ms: i64) -> i64 {
    let v = (i128::from(rate_minor) * i128::from(ms) + 1_800_000).div_euclid(3_600_000);
    v.clamp(0, i128::from(i64::MAX)) as i64
}

/// The platform fee on a funding of `amount` minor units at `bps` basis points, rounded half up.
pub fn platform_fee(amount: i64, bps: u32) -> i64 {
    let v = (i128::from(amount) * i128::from(bps) + 5_000).div_euclid(10_000);
    v.clamp(0, i128::from(amount)) as i64
}

/// The entries of a funding: all of it leaves `funding`; the fee goes to `fees` and the rest to the budget (no fee
/// entry at all when the fee is zero, so installations without a fee keep two-entry fundings).
fn funding_entries(amount: i64, bps: u32) -> Vec<(AccountRef, i64)> {
    let fee = platform_fee(amount, bps);
    let mut entries = vec![
        (AccountRef::FUNDING, -amount),
        (AccountRef::BUDGET, amount - fee),
    ];
    if fee > 0 {
        entries.push((AccountRef::FEES, fee));
    }
    entries
}

/// The memo of a funding: its reference, and the fee when there is one (so the invoice, which lists the budget's
/// movements, shows why the budget grew by less than the payment).
fn funding_memo(reference: &str, amount: i64, bps: u32) -> String {
    match platform_fee(amount, bps) {
        0 => reference.to_string(),
        fee => format!(
            "{reference} (platform fee {} = {}.{:02} % of {})",
            crate::payouts::decimal(fee),
            bps / 100,
            bps % 100,
            crate::payouts::decimal(amount)
        ),
    }
}

/// Posts pay for new submissions and gives back holds of skipped or expired claims.
#[derive(Debug, Clone)]
pub struct PayPosting {
    app: App,
}

/// What one step of [`PayPosting`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PostingStep {
    /// Submissions posted now.
    pub posted: u64,
    /// Submissions someone else had posted already.
    pub already: u64,
    /// Submissions whose budget cannot cover them yet.
    pub deferred: u64,
    /// Holds released.
    pub released: u64,
    /// Finished days of paid onboarding time paid now (see [`crate::onboarding`]).
    pub onboarding_paid: u64,
    /// True when a batch was full (more work is waiting).
    pub more: bool,
}

impl PayPosting {
    /// A posting job over the app's store.
    pub fn new(app: App) -> Self {
        PayPosting { app }
    }

    /// One bounded step: releases stale holds, posts a batch of new submissions, retries deferred ones.
    pub async fn try_run_one(&self, now: Millis) -> AppResult<PostingStep> {
        let store = &self.app.store;
        let mut step = PostingStep {
            released: store
                .ledger_release_stale(now - ORPHANED_HOLD_MS, now, POSTING_BATCH)
                .await?,
            ..PostingStep::default()
        };
        step.onboarding_paid = crate::onboarding::OnboardingPosting::new(self.app.clone())
            .try_run_one(now)
            .await?;
        let fresh = store.ledger_unposted(0, POSTING_BATCH).await?;
        step.more = fresh.len() as i64 == POSTING_BATCH;
        let deferred = store.ledger_deferred(0, POSTING_BATCH).await?;
        for s in fresh.into_iter().chain(deferred) {
            let Some(policy) = PayPolicy::parse(Some(&s.pay), 0) else {
                continue;
            };
            let amount = match policy.model {
                PayModel::PerTask(amount) => amount,
                PayModel::Hourly(rate) => {
                    hourly_amount(rate, store.measured_ms(s.org_id, s.assignment_id).await?)
                }
            };
            let outcome = store
                .ledger_post_task_pay(
                    TaskPay {
                        org_id: s.org_id,
                        project_id: s.project_id,
                        annotation_id: s.annotation_id,
                        assignment_id: s.assignment_id,
                        worker_id: s.worker_id,
                        amount_minor: amount,
                        currency: policy.currency.clone(),
                        cap_minor: policy.budget_minor,
                    },
                    now,
                )
                .await?;
            match outcome {
                TaskPayOutcome::Posted(Posted::New(_)) => step.posted += 1,
                TaskPayOutcome::Posted(Posted::Already(_)) => step.already += 1,
                TaskPayOutcome::Deferred => step.deferred += 1,
            }
        }
        Ok(step)
    }

    /// Runs forever: a step every `period`, or at once again while there is a backlog.
    pub async fn run(self, period: Duration) {
        loop {
            match self.try_run_one(now_millis()).await {
                Ok(step) if step.more => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "pay posting step failed"),
            }
            tokio::time::sleep(period).await;
        }
    }
}
