//! Worker statements and organization invoices for a pay period, as CSV and as data for a printable page.
//!
//! Both are read straight from the ledger (one account's opening balance and movements in the period), so a
//! statement can never disagree with the balances, and a past period's statement never changes: entries are
//! append-only.

use fairloop_domain::UserId;
use fairloop_domain::time::{Millis, to_rfc3339};
use fairloop_store::Principal;
use fairloop_store::ledger::{AccountRef, TransactionView};
use serde::Serialize;

use crate::payouts::decimal;
use crate::projects::require_manager;
use crate::{App, AppResult};

/// One line of a statement or invoice.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Line {
    /// When (UTC, RFC 3339).
    pub at: String,
    /// What (`task pay`, `bonus gold`, `reversal`, `payout`, `funding`, …).
    pub what: String,
    /// The project, when there is one.
    pub project_id: Option<i64>,
    /// The submission, when there is one.
    pub annotation_id: Option<i64>,
    /// A note (a withholding reason, a funding reference).
    pub memo: String,
    /// Signed amount in minor units.
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
}

/// Balances of one currency over the period.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Totals {
    /// ISO 4217 code.
    pub currency: String,
    /// Before the period.
    pub opening_minor: i64,
    /// Money in during the period.
    pub credits_minor: i64,
    /// Money out during the period (negative).
    pub debits_minor: i64,
    /// After the period.
    pub closing_minor: i64,
}

/// A statement (a worker's earnings) or an invoice (an organization's budget) for a period.
#[derive(Debug, Clone, Serialize)]
pub struct Statement {
    /// `Statement` or `Invoice`.
    pub title: &'static str,
    /// Whose: the worker's or organization's id.
    pub owner_id: i64,
    /// Start of the period (UTC, RFC 3339).
    pub from: String,
    /// End of the period, exclusive.
    pub to: String,
    /// Per currency.
    pub totals: Vec<Totals>,
    /// Every movement, oldest first.
    pub lines: Vec<Line>,
}

fn build(
    title: &'static str,
    owner: i64,
    from: Millis,
    to: Millis,
    p: fairloop_store::ledger::AccountPeriod,
) -> Statement {
    let mut totals: Vec<Totals> = p
        .opening
        .iter()
        .map(|(c, v)| Totals {
            currency: c.clone(),
            opening_minor: *v,
            credits_minor: 0,
            debits_minor: 0,
            closing_minor: *v,
        })
        .collect();
    let lines = p
        .movements
        .iter()
        .map(|t: &TransactionView| {
            let idx = match totals.iter().position(|x| x.currency == t.currency) {
                Some(i) => i,
                None => {
                    totals.push(Totals {
                        currency: t.currency.clone(),
                        opening_minor: 0,
                        credits_minor: 0,
                        debits_minor: 0,
                        closing_minor: 0,
                    });
                    totals.len() - 1
                }
            };
            let tot = &mut totals[idx];
            if t.amount_minor >= 0 {
                tot.credits_minor += t.amount_minor;
            } else {
                tot.debits_minor += t.amount_minor;
            }
            tot.closing_minor += t.amount_minor;
            Line {
                at: to_rfc3339(t.created_at),
                what: t.kind.replace('_', " "),
                project_id: t.project_id,
                annotation_id: t.annotation_id,
                memo: t.memo.clone(),
                amount_minor: t.amount_minor,
                currency: t.currency.clone(),
            }
        })
        .collect();
    Statement {
        title,
        owner_id: owner,
        from: to_rfc3339(from),
        to: to_rfc3339(to),
        totals,
        lines,
    }
}

impl Statement {
    /// The statement as CSV: one line per movement, then one `total` line per currency.
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let header = [
            "at",
            "what",
            "project_id",
            "annotation_id",
            "memo",
            "amount",
            "amount_minor",
            "currency",
        ];
        w.write_record(header).expect("writing to memory");
        for l in &self.lines {
            w.write_record([
                l.at.clone(),
                l.what.clone(),
                l.project_id.map(|v| v.to_string()).unwrap_or_default(),
                l.annotation_id.map(|v| v.to_string()).unwrap_or_default(),
                l.memo.clone(),
                decimal(l.amount_minor),
                l.amount_minor.to_string(),
                l.currency.clone(),
            ])
            .expect("writing to memory");
        }
        for t in &self.totals {
            for (what, v) in [
                ("opening balance", t.opening_minor),
                ("closing balance", t.closing_minor),
            ] {
                w.write_record([
                    self.to.clone(),
                    what.to_string(),
                    String::new(),
                    String::new(),
                    String::new(),
                    decimal(v),
                    v.to_string(),
                    t.currency.clone(),
                ])
                .expect("writing to memory");
            }
        }
        String::from_utf8(w.into_inner().expect("flush to memory")).expect("CSV is UTF-8")
    }
}

impl App {
    /// A worker's earnings statement for `[from, to)`: the caller's own, or (requesters and admins) any worker's
    /// of the organization.
    pub async fn statement(
        &self,
        principal: &Principal,
        worker: Option<UserId>,
        from: Millis,
        to: Millis,
    ) -> AppResult<Statement> {
        let worker = match worker {
            Some(w) if w != principal.user_id => {
                require_manager(principal)?;
                w
            }
            _ => principal.user_id,
        };
        let p = self
            .store
            .ledger_period(principal.org_id, AccountRef::earnings(worker), from, to)
            .await?;
        Ok(build("Statement", worker, from, to, p))
    }

    /// The organization's invoice for `[from, to)` (requesters and admins): every movement of its budget —
    /// pay, bonuses, top-ups (debits) and funding (credits).
    pub async fn invoice(
        &self,
        principal: &Principal,
        from: Millis,
        to: Millis,
    ) -> AppResult<Statement> {
        require_manager(principal)?;
        let p = self
            .store
            .ledger_period(principal.org_id, AccountRef::BUDGET, from, to)
            .await?;
        Ok(build("Invoice", principal.org_id, from, to, p))
    }
}
