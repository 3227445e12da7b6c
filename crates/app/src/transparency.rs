//! A project's transparency report: what its workers earned per hour, how many fell under the floor before
//! top-ups, how appeals ended and how long questions waited — the same page for the workers and the lab.
//!
//! Everyone in the organization may read it (workers included); it names no worker.

use fairloop_domain::ProjectId;
use fairloop_domain::time::now_millis;
use fairloop_store::Principal;
use serde::Serialize;

use crate::error::NotFoundAs;
use crate::ledger::{PayModel, PayPolicy};
use crate::{App, AppResult};

/// The report (all money in minor units of the project's pay currency).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TransparencyReport {
    /// The pay currency, when the project pays.
    pub currency: Option<String>,
    /// Workers with paid submissions.
    pub workers: usize,
    /// The median, over workers, of pay divided by time worked (per hour), before top-ups.
    pub median_effective_hourly_minor: Option<i64>,
    /// The general pay floor per hour, when one is set in this currency.
    pub floor_hourly_minor: Option<i64>,
    /// Share (0..1) of workers whose effective rate was under the floor that applies to them, before top-ups.
    pub share_under_floor: Option<f64>,
    /// Appeals decided by a second reviewer.
    pub appeals_decided: i64,
    /// Of those, judgements reversed.
    pub appeals_overturned: i64,
    /// Appeals still waiting.
    pub appeals_open: i64,
    /// Questions about the terms that a person answered.
    pub questions_answered: usize,
    /// Questions still waiting for an answer.
    pub questions_open: usize,
    /// The median time an answered question waited, in hours.
    pub median_answer_hours: Option<f64>,
    /// Notice given before the end: the end date announced, or how much notice the workers had when it closed
    /// and who was compensated for the rest (see docs/lifecycle.md).
    pub notice: String,
}

fn median_i64(mut v: Vec<i64>) -> Option<i64> {
    v.sort_unstable();
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2),
    }
}

impl App {
    /// The transparency report of a project of the caller's organization (anyone in it may read it).
    pub async fn transparency_report(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<TransparencyReport> {
        let org = principal.org_id;
        let p = self
            .store
            .project(org, project)
            .await
            .or_not_found("project")?;
        let policy = PayPolicy::parse(p.pay.as_deref(), 0);
        let floor = self.pay_floor().await?.filter(|f| {
            policy
                .as_ref()
                .is_some_and(|pol| pol.currency == f.currency)
        });
        // Pay and time per worker over the project's whole life, withheld work left out (it counts neither).
        let mut per_worker: std::collections::BTreeMap<i64, (i64, i64)> = Default::default();
        if policy
            .as_ref()
            .is_some_and(|pol| matches!(pol.model, PayModel::PerTask(_) | PayModel::Hourly(_)))
        {
            for s in self
                .store
                .paid_submissions(org, project, 0, now_millis() + 1)
                .await?
            {
                if s.withheld {
                    continue;
                }
                let e = per_worker.entry(s.worker_id).or_default();
                e.0 += s.pay_minor;
                e.1 += s.millis;
            }
        }
        let mut rates = Vec::new();
        let mut under = 0usize;
        for (worker, (paid, millis)) in &per_worker {
            if *millis <= 0 {
                continue;
            }
            let rate = (*paid as f64 * 3_600_000.0 / *millis as f64).round() as i64;
            rates.push(rate);
            if let Some(f) = &floor {
                let country = self.store.user_country(org, *worker).await?;
                if rate < f.for_country(country.as_deref()) {
                    under += 1;
                }
            }
        }
        let counted = rates.len();
        let appeals = self.store.appeal_counts(org, project).await?;
        let waits = self.store.question_waits(org, project).await?;
        let answered: Vec<i64> = waits
            .iter()
            .filter_map(|(asked, answered)| answered.map(|a| a - asked))
            .collect();
        let questions_open = waits.iter().filter(|(_, a)| a.is_none()).count();
        Ok(TransparencyReport {
            currency: policy.map(|pol| pol.currency),
            workers: counted,
            median_effective_hourly_minor: median_i64(rates),
            floor_hourly_minor: floor.as_ref().map(|f| f.hourly_minor),
            share_under_floor: (floor.is_some() && counted > 0)
                .then(|| under as f64 / counted as f64),
            appeals_decided: appeals.decided,
            appeals_overturned: appeals.overturned,
            appeals_open: appeals.open,
            questions_answered: answered.len(),
            questions_open,
            median_answer_hours: median_i64(answered).map(|ms| ms as f64 / 3_600_000.0),
            notice: self.notice_summary(principal, project).await?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::median_i64;

    #[test]
    fn medians_of_odd_even_and_empty_lists() {
        assert_eq!(median_i64(vec![]), None);
        assert_eq!(median_i64(vec![3, 1, 2]), Some(2));
        assert_eq!(median_i64(vec![4, 1, 3, 2]), Some(2));
    }
}
