//! The raw counts behind a project's transparency report: appeals and how they ended, and how long workers'
//! questions about the terms waited for a person.

use fairloop_domain::time::Millis;
use fairloop_domain::{OrgId, ProjectId};

use crate::{Store, StoreResult, params};

/// How the project's appeals went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppealCounts {
    /// Decided appeals.
    pub decided: i64,
    /// Of those, judgements reversed by the second reviewer.
    pub overturned: i64,
    /// Still waiting for a second reviewer.
    pub open: i64,
}

impl dyn Store + '_ {
    /// The project's appeals by outcome.
    pub async fn appeal_counts(&self, org: OrgId, project: ProjectId) -> StoreResult<AppealCounts> {
        self.read_tx(move |tx| {
            let r = tx.query_one(
                "SELECT CAST(COALESCE(SUM(CASE WHEN status = 'decided' THEN 1 ELSE 0 END), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(CASE WHEN outcome = 'overturned' THEN 1 ELSE 0 END), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END), 0) AS BIGINT) \
                 FROM appeals WHERE org_id = $1 AND project_id = $2",
                params![org, project],
            )?;
            Ok(AppealCounts {
                decided: r.i64(0)?,
                overturned: r.i64(1)?,
                open: r.i64(2)?,
            })
        })
        .await
    }

    /// When each question about the project's terms was asked and, if it was, answered.
    pub async fn question_waits(
        &self,
        org: OrgId,
        project: ProjectId,
    ) -> StoreResult<Vec<(Millis, Option<Millis>)>> {
        self.read_tx(move |tx| {
            tx.query(
                "SELECT asked_at, answered_at FROM terms_questions WHERE org_id = $1 AND project_id = $2",
                params![org, project],
            )?
            .iter()
            .map(|r| Ok((r.i64(0)?, r.opt_i64(1)?)))
            .collect()
        })
        .await
    }
}
