//! The fair-pay floor: a platform minimum effective hourly rate, a launch check that warns a requester whose
//! per-task rate would pay less, and per-period top-ups for workers who were paid less.
//!
//! Why a floor on the *effective* rate: per-task pay hides how long a task takes, and underpriced tasks are the
//! commonest way workers in this trade end up under a living wage. The check uses the pilot's median time; the
//! top-up uses each worker's own time in the period, so a worker is made whole even when the requester ignored
//! the warning. A submission's time is its measured active time (heartbeats and accepted disputes); without
//! heartbeats (an API client), the time from its claim to its submission, capped at the lease (docs/ledger.md).

use std::collections::BTreeMap;

use fairloop_domain::time::{Millis, now_millis};
use fairloop_domain::{ProjectId, UserId};
use fairloop_store::Principal;
use fairloop_store::ledger::{AccountRef, Posted, Posting, valid_currency};
use fairloop_store::payouts::{WEEK_MS, week_of};
use serde::{Deserialize, Serialize};

use crate::error::NotFoundAs;
use crate::ledger::{PayModel, PayPolicy};
use crate::projects::require_manager;
use crate::{App, AppError, AppResult};

/// Submissions the launch check looks at (the pilot).
pub const PILOT_SIZE: i64 = 20;

/// The platform's minimum effective hourly rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayFloor {
    /// ISO 4217 code the floor is in; projects paying in another currency are not checked.
    pub currency: String,
    /// Minimum per hour, in minor units.
    pub hourly_minor: i64,
    /// Higher or lower floors by ISO 3166 country code (e.g. `{"DE": 1400}`), for workers who said where they
    /// work from (settings page); everyone else gets `hourly_minor`.
    #[serde(default)]
    pub countries: BTreeMap<String, i64>,
}

impl PayFloor {
    /// The floor for a worker in `country` (their own country's floor when one is set, else the general one).
    pub fn for_country(&self, country: Option<&str>) -> i64 {
        country
            .and_then(|c| self.countries.get(c))
            .copied()
            .unwrap_or(self.hourly_minor)
    }

    /// Checks every field, naming the wrong one.
    pub fn validate(&self) -> AppResult<()> {
        if !valid_currency(&self.currency) {
            return Err(AppError::invalid(
                "invalid_currency",
                format!(
                    "currency must be a three-letter ISO 4217 code such as USD, got {:?}",
                    self.currency
                ),
            ));
        }
        if self.hourly_minor <= 0 {
            return Err(AppError::invalid(
                "invalid_amount",
                "hourly_minor must be more than zero",
            ));
        }
        for (country, rate) in &self.countries {
            if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(AppError::invalid(
                    "invalid_country",
                    format!("countries: {country:?} is not a two-letter ISO 3166 code such as DE"),
                ));
            }
            if *rate <= 0 {
                return Err(AppError::invalid(
                    "invalid_amount",
                    format!("countries.{country} must be more than zero"),
                ));
            }
        }
        Ok(())
    }
}

/// The launch check of a per-task project against the floor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PayCheck {
    /// Submissions measured (at most [`PILOT_SIZE`]).
    pub pilot_submissions: usize,
    /// Their median time in seconds (`None` before the first submission).
    pub median_seconds: Option<i64>,
    /// The per-task amount divided by the median time, per hour, in minor units.
    pub effective_hourly_minor: Option<i64>,
    /// The floor, when one is set in the project's currency.
    pub floor_hourly_minor: Option<i64>,
    /// True when the effective rate is under the floor.
    pub under_floor: bool,
    /// The per-task amount that would meet the floor at the median time.
    pub suggested_amount_minor: Option<i64>,
    /// A sentence for the requester when under the floor.
    pub warning: Option<String>,
}

/// What a top-up run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TopUpRun {
    /// Start of the period topped up (UTC millis).
    pub period_start: Millis,
    /// Top-up transactions posted now.
    pub posted: u64,
    /// Total topped up now, in minor units.
    pub total_minor: i64,
}

/// `ceil(a * b / c)` in 128 bits, saturating to `i64`.
fn mul_div_ceil(a: i64, b: i64, c: i64) -> i64 {
    let (a, b, c) = (i128::from(a), i128::from(b), i128::from(c));
    let v = (a * b + c - 1).div_euclid(c);
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// The median of a list of non-negative numbers (the lower middle for an even count).
fn median(mut v: Vec<i64>) -> Option<i64> {
    v.sort_unstable();
    if v.is_empty() {
        None
    } else {
        Some(v[(v.len() - 1) / 2])
    }
}

impl App {
    /// The platform's pay floor, if set.
    pub async fn pay_floor(&self) -> AppResult<Option<PayFloor>> {
        match self.store.pay_floor().await? {
            None => Ok(None),
            Some(s) => serde_json::from_str(&s)
                .map(Some)
                .map_err(|e| AppError::Internal(format!("stored pay floor: {e}"))),
        }
    }

    /// Sets the platform's pay floor (operators: the CLI; it applies to every organization).
    pub async fn set_pay_floor(&self, floor: PayFloor) -> AppResult<()> {
        floor.validate()?;
        let json = serde_json::to_string(&floor).expect("floor serializes");
        Ok(self.store.set_pay_floor(json).await?)
    }

    /// Checks a per-task project's rate against the floor at the pilot's median time (requesters).
    pub async fn pay_check(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<PayCheck> {
        require_manager(principal)?;
        let policy = self.pay_policy(principal, project).await?;
        let amount = match policy.as_ref().map(|p| p.model) {
            Some(PayModel::PerTask(a)) => a,
            _ => {
                return Err(AppError::invalid(
                    "invalid_pay",
                    "the floor check applies to per-task projects; hourly pay meets the floor by its rate",
                ));
            }
        };
        let currency = policy.map(|p| p.currency).unwrap_or_default();
        let times = self
            .store
            .pilot_times(principal.org_id, project, PILOT_SIZE)
            .await
            .or_not_found("project")?;
        let n = times.len();
        let median_ms = median(times);
        let floor = self
            .pay_floor()
            .await?
            .filter(|f| f.currency == currency)
            .map(|f| f.hourly_minor);
        let effective = median_ms
            .filter(|ms| *ms > 0)
            .map(|ms| amount.saturating_mul(3_600_000) / ms);
        let (under, suggested) = match (floor, median_ms, effective) {
            (Some(f), Some(ms), Some(eff)) if eff < f => {
                (true, Some(mul_div_ceil(f, ms, 3_600_000)))
            }
            _ => (false, None),
        };
        Ok(PayCheck {
            pilot_submissions: n,
            median_seconds: median_ms.map(|ms| ms / 1000),
            effective_hourly_minor: effective,
            floor_hourly_minor: floor,
            under_floor: under,
            suggested_amount_minor: suggested,
            warning: suggested.map(|s| {
                format!(
                    "at the pilot's median time of {} s, {amount} {currency} a task pays {} {currency} an hour, \
                     under the platform floor of {} {currency}; pay at least {s} {currency} a task",
                    median_ms.unwrap_or(0) / 1000,
                    effective.unwrap_or(0),
                    floor.unwrap_or(0)
                )
            }),
        })
    }

    /// Tops up every worker whose effective rate on a per-task project fell under the floor in the last
    /// completed weekly period before `at` (admins). Each (project, worker, period) is topped up at most once.
    pub async fn run_top_ups(&self, principal: &Principal, at: Millis) -> AppResult<TopUpRun> {
        if principal.role != fairloop_domain::Role::Admin {
            return Err(AppError::forbidden(format!(
                "a top-up run needs the admin role; you are a {}",
                principal.role
            )));
        }
        let start = week_of(at).0 - WEEK_MS;
        let mut run = TopUpRun {
            period_start: start,
            ..TopUpRun::default()
        };
        let Some(floor) = self.pay_floor().await? else {
            return Ok(run);
        };
        let org = principal.org_id;
        for project in self.store.projects(org).await? {
            let Some(policy) = PayPolicy::parse(project.pay.as_deref(), 0) else {
                continue;
            };
            if !matches!(policy.model, PayModel::PerTask(_)) || policy.currency != floor.currency {
                continue;
            }
            let mut per_worker: BTreeMap<UserId, (i64, i64)> = BTreeMap::new();
            for s in self
                .store
                .paid_submissions(org, project.id, start, start + WEEK_MS)
                .await?
            {
                if s.withheld {
                    continue;
                }
                let e = per_worker.entry(s.worker_id).or_default();
                e.0 += s.pay_minor;
                e.1 += s.millis;
            }
            for (worker, (paid, millis)) in per_worker {
                let country = self.store.user_country(org, worker).await?;
                let hourly = floor.for_country(country.as_deref());
                let owed = mul_div_ceil(hourly, millis, 3_600_000);
                let top_up = owed - paid;
                if top_up <= 0 {
                    continue;
                }
                let posted = self
                    .store
                    .ledger_post(
                        Posting {
                            org_id: org,
                            source_key: format!("topup:{}:{worker}:{start}", project.id),
                            kind: "top_up".into(),
                            // Not counted against the project's cap: the floor is owed whatever the budget.
                            project_id: None,
                            worker_id: Some(worker),
                            annotation_id: None,
                            memo: format!(
                                "fair-pay floor top-up for project {} ({}): paid {paid} for {} min of work, \
                                 floor {} an hour",
                                project.id,
                                project.name,
                                millis / 60_000,
                                hourly
                            ),
                            created_by: Some(principal.user_id),
                            currency: floor.currency.clone(),
                            entries: vec![
                                (AccountRef::BUDGET, -top_up),
                                (AccountRef::earnings(worker), top_up),
                            ],
                        },
                        now_millis(),
                    )
                    .await?;
                if let Posted::New(_) = posted {
                    run.posted += 1;
                    run.total_minor += top_up;
                }
            }
        }
        Ok(run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_rounding_favour_nobody_by_accident() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![5]), Some(5));
        assert_eq!(median(vec![9, 1, 5]), Some(5));
        assert_eq!(median(vec![4, 1, 3, 2]), Some(2));
        assert_eq!(mul_div_ceil(1500, 120_000, 3_600_000), 50);
        assert_eq!(mul_div_ceil(1500, 120_001, 3_600_000), 51);
        assert_eq!(mul_div_ceil(i64::MAX, i64::MAX, 1), i64::MAX);
    }

    #[test]
    fn a_floor_names_its_wrong_field() {
        let f = |currency: &str, hourly, country: &str| PayFloor {
            currency: currency.into(),
            hourly_minor: hourly,
            countries: [(country.to_string(), 100)].into(),
        };
        let code = |r: AppResult<()>| match r {
            Err(AppError::Invalid { code, .. }) => code,
            other => panic!("{other:?}"),
        };
        assert_eq!(code(f("usd", 1, "DE").validate()), "invalid_currency");
        assert_eq!(code(f("USD", 0, "DE").validate()), "invalid_amount");
        assert_eq!(code(f("USD", 1, "Germany").validate()), "invalid_country");
        assert!(f("USD", 1500, "DE").validate().is_ok());
    }
}
