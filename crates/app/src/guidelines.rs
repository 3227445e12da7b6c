//! Guidelines (versioned, shown beside the work) and drafts (the workbench's unsent answers, kept on the
//! server so that a closed tab, a lost connection or a switch of device loses nothing).

use fairloop_domain::time::now_millis;
use fairloop_domain::{AssignmentId, ProjectId};
use fairloop_store::Principal;
use fairloop_store::worktools::Guidelines;

use crate::error::NotFoundAs;
use crate::projects::require_manager;
use crate::{App, AppError, AppResult};

/// Longest guidelines text accepted (Markdown).
pub const MAX_GUIDELINES_BYTES: usize = 200 * 1024;
/// Longest note on a guidelines version.
pub const MAX_NOTE_CHARS: usize = 500;
/// Largest draft kept (the posted form, as JSON pairs).
pub const MAX_DRAFT_BYTES: usize = 256 * 1024;

/// Checks a new version's text and note; answers them trimmed.
pub(crate) fn check_guidelines(
    markdown: &str,
    note: Option<&str>,
) -> AppResult<(String, Option<String>)> {
    let markdown = markdown.trim();
    if markdown.is_empty() {
        return Err(AppError::invalid(
            "invalid_guidelines",
            "the guidelines are empty; write what a worker needs to know",
        ));
    }
    if markdown.len() > MAX_GUIDELINES_BYTES {
        return Err(AppError::invalid(
            "invalid_guidelines",
            format!(
                "the guidelines are {} KB; at most {} KB are accepted (link to longer documents)",
                markdown.len() / 1024,
                MAX_GUIDELINES_BYTES / 1024
            ),
        ));
    }
    crate::reject_nul("markdown", markdown)?;
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if let Some(n) = note {
        crate::reject_nul("note", n)?;
        if n.chars().count() > MAX_NOTE_CHARS {
            return Err(AppError::invalid(
                "invalid_note",
                format!("the note is at most {MAX_NOTE_CHARS} characters"),
            ));
        }
    }
    Ok((markdown.to_string(), note.map(str::to_string)))
}

impl App {
    /// Publishes a new version of a project's guidelines (requesters and admins); answers its number. (With a
    /// quiz on the change: [`App::set_guidelines_with_quiz`].)
    pub async fn set_guidelines(
        &self,
        principal: &Principal,
        project: ProjectId,
        markdown: &str,
        note: Option<&str>,
    ) -> AppResult<i64> {
        self.set_guidelines_with_quiz(principal, project, markdown, note, None)
            .await
    }

    /// The current guidelines of a project of the caller's organization (anyone in it may read them).
    pub async fn guidelines(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<Option<Guidelines>> {
        self.project(principal, project).await?;
        Ok(self
            .store
            .latest_guidelines(principal.org_id, project)
            .await?)
    }

    /// Every version, newest first (requesters and admins).
    pub async fn guideline_history(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<Vec<Guidelines>> {
        require_manager(principal)?;
        self.project(principal, project).await?;
        Ok(self
            .store
            .guideline_versions(principal.org_id, project)
            .await?)
    }

    /// Keeps the workbench's draft of one of the caller's open assignments (`pairs`: the form's fields).
    pub async fn save_draft(
        &self,
        principal: &Principal,
        assignment: AssignmentId,
        pairs: &[(String, String)],
    ) -> AppResult<()> {
        let form = serde_json::to_string(pairs).expect("pairs serialize");
        if form.len() > MAX_DRAFT_BYTES {
            return Err(AppError::invalid(
                "draft_too_large",
                format!(
                    "the draft is over {} KB and was not kept on the server",
                    MAX_DRAFT_BYTES / 1024
                ),
            ));
        }
        self.store
            .save_draft(
                principal.org_id,
                principal.user_id,
                assignment,
                form,
                now_millis(),
            )
            .await
            .or_not_found("assignment")
    }

    /// The caller's saved draft of an assignment, as form pairs.
    pub async fn draft(
        &self,
        principal: &Principal,
        assignment: AssignmentId,
    ) -> AppResult<Option<Vec<(String, String)>>> {
        let raw = self
            .store
            .draft(principal.org_id, principal.user_id, assignment)
            .await?;
        Ok(raw.and_then(|r| serde_json::from_str(&r).ok()))
    }

    /// Forgets the caller's draft of an assignment (it was submitted or skipped).
    pub async fn discard_draft(
        &self,
        principal: &Principal,
        assignment: AssignmentId,
    ) -> AppResult<()> {
        Ok(self
            .store
            .delete_draft(principal.org_id, principal.user_id, assignment)
            .await?)
    }

    /// Refuses work until a worker who answered under earlier guidelines has acknowledged the current ones.
    pub(crate) async fn check_guidelines_acknowledged(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<()> {
        match self
            .store
            .guidelines_pending(principal.org_id, project, principal.user_id)
            .await?
        {
            None => Ok(()),
            Some(v) => Err(AppError::Forbidden {
                code: "guidelines_changed",
                message: format!(
                    "the guidelines changed (now version {v}); read what changed and acknowledge it before the next task"
                ),
            }),
        }
    }

    /// The worker acknowledges the current guidelines (by version number).
    pub async fn acknowledge_guidelines(
        &self,
        principal: &Principal,
        project: ProjectId,
        version: i64,
    ) -> AppResult<()> {
        self.project(principal, project).await?;
        self.store
            .acknowledge_guidelines(
                principal.org_id,
                project,
                principal.user_id,
                version,
                now_millis(),
            )
            .await
            .or_not_found("guidelines")
    }
}
