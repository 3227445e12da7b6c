//! What the workbench keeps beside the answers: versioned guidelines and the worker's drafts.

use fairloop_domain::time::Millis;
use fairloop_domain::{AssignmentId, OrgId, ProjectId, UserId};

use crate::portable::Row;
use crate::{Store, StoreError, StoreResult, params};

/// One version of a project's guidelines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guidelines {
    /// 1, 2, 3…
    pub version: i64,
    /// The text, Markdown.
    pub markdown: String,
    /// What changed, in the author's words.
    pub note: Option<String>,
    /// Who wrote this version.
    pub created_by: UserId,
    /// When.
    pub created_at: Millis,
}

fn guidelines_from(r: &Row) -> StoreResult<Guidelines> {
    Ok(Guidelines {
        version: r.i64(0)?,
        markdown: r.string(1)?,
        note: r.opt_string(2)?,
        created_by: r.i64(3)?,
        created_at: r.i64(4)?,
    })
}

const GUIDELINE_COLUMNS: &str = "version, markdown, note, created_by, created_at";

/// The next version number of a per-project versioned document (`table` has `project_id` and `version`),
/// read under a lock of the project row (on PostgreSQL), so two editors get n and n+1, not a collision.
/// `NotFound` for another organization's project.
pub(crate) fn next_version_locked(
    tx: &dyn crate::portable::Tx,
    table: &'static str,
    org: OrgId,
    project: ProjectId,
) -> StoreResult<i64> {
    tx.query_one(
        &format!(
            "SELECT id FROM projects WHERE id = $1 AND org_id = $2{}",
            tx.for_update()
        ),
        params![project, org],
    )?;
    tx.query_one(
        &format!(
            "SELECT CAST(COALESCE(MAX(version), 0) + 1 AS BIGINT) FROM {table} WHERE project_id = $1"
        ),
        params![project],
    )?
    .i64(0)
}

/// Saves a new version of the project's guidelines inside a transaction; answers its number. Locks the project
/// row on PostgreSQL, so two editors get versions n and n+1, not a collision. `NotFound` for another
/// organization's project.
pub(crate) fn insert_guidelines(
    tx: &dyn crate::portable::Tx,
    org: OrgId,
    project: ProjectId,
    markdown: &str,
    note: Option<&str>,
    by: UserId,
    now: Millis,
) -> StoreResult<i64> {
    let version = next_version_locked(tx, "project_guidelines", org, project)?;
    tx.execute(
        "INSERT INTO project_guidelines (org_id, project_id, version, markdown, note, created_by, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        params![
            org,
            project,
            version,
            markdown,
            note.map(str::to_string),
            by,
            now
        ],
    )?;
    Ok(version)
}

impl dyn Store + '_ {
    /// Saves a new version of the project's guidelines; answers its number. `NotFound` for another
    /// organization's project.
    pub async fn add_guidelines(
        &self,
        org: OrgId,
        project: ProjectId,
        markdown: String,
        note: Option<String>,
        by: UserId,
        now: Millis,
    ) -> StoreResult<i64> {
        self.write_tx(move |tx| {
            insert_guidelines(tx, org, project, &markdown, note.as_deref(), by, now)
        })
        .await
    }

    /// The latest version of the project's guidelines, if any.
    pub async fn latest_guidelines(
        &self,
        org: OrgId,
        project: ProjectId,
    ) -> StoreResult<Option<Guidelines>> {
        self.read_tx(move |tx| {
            tx.query_opt(
                &format!(
                    "SELECT {GUIDELINE_COLUMNS} FROM project_guidelines WHERE org_id = $1 AND project_id = $2 \
                     ORDER BY version DESC LIMIT 1"
                ),
                params![org, project],
            )?
            .as_ref()
            .map(guidelines_from)
            .transpose()
        })
        .await
    }

    /// Every version of the project's guidelines, newest first.
    pub async fn guideline_versions(
        &self,
        org: OrgId,
        project: ProjectId,
    ) -> StoreResult<Vec<Guidelines>> {
        self.read_tx(move |tx| {
            tx.query(
                &format!(
                    "SELECT {GUIDELINE_COLUMNS} FROM project_guidelines WHERE org_id = $1 AND project_id = $2 \
                     ORDER BY version DESC"
                ),
                params![org, project],
            )?
            .iter()
            .map(guidelines_from)
            .collect()
        })
        .await
    }

    /// Saves the draft of one of the worker's open assignments (`NotFound` for anyone else's, or a closed one).
    pub async fn save_draft(
        &self,
        org: OrgId,
        worker: UserId,
        assignment: AssignmentId,
        form: String,
        now: Millis,
    ) -> StoreResult<()> {
        self.write_tx(move |tx| {
            let open = tx.query_opt(
                "SELECT id FROM assignments WHERE id = $1 AND org_id = $2 AND worker_id = $3 AND status = 'open'",
                params![assignment, org, worker],
            )?;
            if open.is_none() {
                return Err(StoreError::NotFound);
            }
            tx.execute(
                "INSERT INTO drafts (assignment_id, org_id, worker_id, form, updated_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (assignment_id) DO UPDATE SET form = excluded.form, updated_at = excluded.updated_at",
                params![assignment, org, worker, form, now],
            )?;
            Ok(())
        })
        .await
    }

    /// The saved draft of one of the worker's assignments, if any.
    pub async fn draft(
        &self,
        org: OrgId,
        worker: UserId,
        assignment: AssignmentId,
    ) -> StoreResult<Option<String>> {
        self.read_tx(move |tx| {
            tx.query_opt(
                "SELECT form FROM drafts WHERE assignment_id = $1 AND org_id = $2 AND worker_id = $3",
                params![assignment, org, worker],
            )?
            .map(|r| r.string(0))
            .transpose()
        })
        .await
    }

    /// Drops the worker's draft of an assignment (after it was submitted or skipped).
    pub async fn delete_draft(
        &self,
        org: OrgId,
        worker: UserId,
        assignment: AssignmentId,
    ) -> StoreResult<()> {
        self.write_tx(move |tx| {
            tx.execute(
                "DELETE FROM drafts WHERE assignment_id = $1 AND org_id = $2 AND worker_id = $3",
                params![assignment, org, worker],
            )?;
            Ok(())
        })
        .await
    }

    /// The worker's open, unexpired leases in a project, oldest first (the workbench resumes and prefetches
    /// with them).
    pub async fn open_assignments(
        &self,
        org: OrgId,
        worker: UserId,
        project: ProjectId,
        now: Millis,
    ) -> StoreResult<Vec<AssignmentId>> {
        self.read_tx(move |tx| {
            tx.query(
                "SELECT id FROM assignments WHERE worker_id = $1 AND project_id = $2 AND org_id = $3 \
                 AND status = 'open' AND expires_at > $4 ORDER BY id",
                params![worker, project, org, now],
            )?
            .iter()
            .map(|r| r.i64(0))
            .collect()
        })
        .await
    }

    /// The guideline version the worker still has to acknowledge before their next task, if any: the current
    /// one, when it is not the first, the worker answered in the project before it was published, and has not
    /// acknowledged it. Someone new to the project simply reads the current version.
    pub async fn guidelines_pending(
        &self,
        org: OrgId,
        project: ProjectId,
        worker: UserId,
    ) -> StoreResult<Option<i64>> {
        self.read_tx(move |tx| {
            let Some(current) = tx.query_opt(
                "SELECT version, created_at FROM project_guidelines WHERE org_id = $1 AND project_id = $2 \
                 ORDER BY version DESC LIMIT 1",
                params![org, project],
            )?
            else {
                return Ok(None);
            };
            let (version, published) = (current.i64(0)?, current.i64(1)?);
            if version < 2 {
                return Ok(None);
            }
            let worked_before = tx.query_opt(
                "SELECT 1 FROM annotations WHERE worker_id = $1 AND project_id = $2 AND org_id = $3 \
                 AND submitted_at < $4 LIMIT 1",
                params![worker, project, org, published],
            )?;
            if worked_before.is_none() {
                return Ok(None);
            }
            let acked = tx.query_opt(
                "SELECT 1 FROM guideline_acks WHERE project_id = $1 AND worker_id = $2 AND version = $3",
                params![project, worker, version],
            )?;
            Ok(acked.is_none().then_some(version))
        })
        .await
    }

    /// Records that the worker read the current guidelines (`version` must be the current one).
    pub async fn acknowledge_guidelines(
        &self,
        org: OrgId,
        project: ProjectId,
        worker: UserId,
        version: i64,
        now: Millis,
    ) -> StoreResult<()> {
        self.write_tx(move |tx| {
            let current = tx
                .query_one(
                    "SELECT MAX(version) FROM project_guidelines WHERE org_id = $1 AND project_id = $2",
                    params![org, project],
                )?
                .opt_i64(0)?
                .ok_or(StoreError::NotFound)?;
            if current != version {
                return Err(crate::conflict(
                    "guidelines_outdated",
                    format!("version {version} is not the current guidelines (version {current} is)"),
                ));
            }
            // A version with a quiz is acknowledged by passing it (`crate::quiz`), not by saying so.
            if crate::quiz::quiz_pending(tx, org, project, worker, version)? {
                return Err(crate::conflict(
                    "quiz_required",
                    format!("version {version} of the guidelines comes with a short quiz; pass it to acknowledge the change"),
                ));
            }
            tx.execute(
                "INSERT INTO guideline_acks (org_id, project_id, worker_id, version, acked_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project_id, worker_id, version) DO NOTHING",
                params![org, project, worker, version, now],
            )?;
            Ok(())
        })
        .await
    }

    /// Sets (or with `None` clears) the country a user works from.
    pub async fn set_user_country(
        &self,
        org: OrgId,
        user: UserId,
        country: Option<String>,
    ) -> StoreResult<()> {
        self.write_tx(move |tx| {
            let n = tx.execute(
                "UPDATE users SET country = $1 WHERE id = $2 AND org_id = $3",
                params![country, user, org],
            )?;
            if n == 0 {
                Err(StoreError::NotFound)
            } else {
                crate::profiles::refresh_match_row(tx, org, user)
            }
        })
        .await
    }

    /// The country a user of the organization works from, if they said.
    pub async fn user_country(&self, org: OrgId, user: UserId) -> StoreResult<Option<String>> {
        self.read_tx(move |tx| {
            tx.query_opt(
                "SELECT country FROM users WHERE id = $1 AND org_id = $2",
                params![user, org],
            )?
            .map(|r| r.opt_string(0))
            .transpose()
            .map(Option::flatten)
        })
        .await
    }
}
