//! Payout runs, the provider's answers, and the CSV the payment provider reads.
//!
//! Runs and answers need the admin role: they move money out. Requesters may list payouts (their invoice);
//! workers see their own. Amounts stay integer minor units everywhere; the CSV also spells them as decimals
//! for people, computed from the integer, never from a float.

use fairloop_domain::time::{Millis, now_millis, to_rfc3339};
use fairloop_domain::{Role, UserId};
use fairloop_store::Principal;
use fairloop_store::payouts::{Payout, week_of};
use serde::Deserialize;

use crate::notices::{NoticeKind, Notify};
use crate::{App, AppError, AppResult};

/// The body of "record the provider's answer".
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettleBody {
    /// `paid` or `failed`.
    pub status: String,
    /// Why it failed (required with `failed`).
    #[serde(default)]
    pub reason: Option<String>,
}

fn require_admin(p: &Principal, what: &str) -> AppResult<()> {
    if p.role == Role::Admin {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "{what} needs the admin role; you are a {}",
            p.role
        )))
    }
}

/// `12345` minor units as `123.45` (two decimals: every currency Fairloop pays in today has two).
pub fn decimal(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// The provider's CSV: one line per payout.
pub fn payouts_csv(payouts: &[Payout]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "payout_id",
        "worker_email",
        "worker_name",
        "amount",
        "amount_minor",
        "currency",
        "period_start",
        "period_end",
        "status",
    ])
    .expect("writing to memory");
    for p in payouts {
        w.write_record([
            p.id.to_string(),
            p.worker_email.clone(),
            p.worker_name.clone(),
            decimal(p.amount_minor),
            p.amount_minor.to_string(),
            p.currency.clone(),
            to_rfc3339(p.period_start),
            to_rfc3339(p.period_end),
            p.status.clone(),
        ])
        .expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("flush to memory")).expect("CSV is UTF-8")
}

impl App {
    /// Pays out the organization's earnings payable for the weekly period containing `at` (admins). Running it
    /// again in the same period pays nothing twice.
    pub async fn payout_run(&self, principal: &Principal, at: Millis) -> AppResult<Vec<Payout>> {
        require_admin(principal, "a payout run")?;
        Ok(self
            .store
            .payout_run(principal.org_id, week_of(at), now_millis())
            .await?)
    }

    /// Records the payment provider's answer for a pending payout (admins).
    pub async fn payout_settle(
        &self,
        principal: &Principal,
        id: i64,
        body: SettleBody,
    ) -> AppResult<Payout> {
        require_admin(principal, "recording a payout's result")?;
        let paid = match body.status.as_str() {
            "paid" => true,
            "failed" => false,
            other => {
                return Err(AppError::invalid(
                    "invalid_status",
                    format!("status must be paid or failed, got {other:?}"),
                ));
            }
        };
        let reason = body.reason.map(|r| r.trim().to_string());
        if let Some(r) = &reason {
            crate::reject_nul("reason", r)?;
        }
        if !paid && reason.as_deref().is_none_or(str::is_empty) {
            return Err(AppError::invalid(
                "invalid_reason",
                "reason is required when a payout failed: the worker reads it",
            ));
        }
        let payout = self
            .store
            .payout_settle(principal.org_id, id, paid, reason, now_millis())
            .await
            .map_err(|e| match e {
                fairloop_store::StoreError::NotFound => AppError::NotFound("payout"),
                e => e.into(),
            })?;
        self.after_payout_settled(&payout).await;
        Ok(payout)
    }

    /// Tells the worker their payout was paid or failed, and queues `payout.paid` / `payout.failed`.
    async fn after_payout_settled(&self, p: &Payout) {
        let amount = format!("{} {}", decimal(p.amount_minor), p.currency);
        let (title, body, event) = if p.status == "paid" {
            (
                format!("Payout of {amount} paid"),
                "The payment provider confirmed the payout.".to_string(),
                "payout.paid",
            )
        } else {
            (
                format!("Payout of {amount} failed"),
                format!(
                    "{} The amount stays yours and is paid again when the payout is retried.",
                    p.failure_reason.clone().unwrap_or_default()
                ),
                "payout.failed",
            )
        };
        self.notify_logged(
            p.org_id,
            &[p.worker_id],
            Notify {
                kind: NoticeKind::Payout,
                project: None,
                title,
                body,
                link: Some("/earnings".into()),
                source_key: format!("payout:{}:{}", p.id, p.status),
            },
        )
        .await;
        self.emit_webhook_event_logged(
            p.org_id,
            event,
            &format!("{event}:{}", p.id),
            serde_json::json!({"payout_id": p.id, "amount_minor": p.amount_minor, "currency": p.currency,
                               "status": p.status, "failure_reason": p.failure_reason}),
        )
        .await;
    }

    /// Retries a failed payout (admins).
    pub async fn payout_retry(&self, principal: &Principal, id: i64) -> AppResult<Option<Payout>> {
        require_admin(principal, "retrying a payout")?;
        self.store
            .payout_retry(principal.org_id, id, now_millis())
            .await
            .map_err(|e| match e {
                fairloop_store::StoreError::NotFound => AppError::NotFound("payout"),
                e => e.into(),
            })
    }

    /// Payouts the caller may see: the organization's for requesters and admins, their own for workers.
    pub async fn payouts(
        &self,
        principal: &Principal,
        worker: Option<UserId>,
    ) -> AppResult<Vec<Payout>> {
        let worker = if principal.role.can_manage_projects() {
            worker
        } else {
            Some(principal.user_id)
        };
        Ok(self.store.payouts(principal.org_id, worker).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_come_from_integers() {
        assert_eq!(decimal(0), "0.00");
        assert_eq!(decimal(5), "0.05");
        assert_eq!(decimal(12345), "123.45");
        assert_eq!(decimal(-101), "-1.01");
        assert_eq!(decimal(i64::MIN), "-92233720368547758.08");
    }
}
