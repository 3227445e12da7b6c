//! Project terms a worker reads and accepts before working: a plain summary of the fields that matter (what
//! intellectual property is assigned, what stays confidential, notice, duration, weekly hours, content
//! warnings) above the full text, versioned, with questions a person at the requester answers.
//!
//! The queue refuses a worker who has not accepted the current version (`403 terms_not_accepted`), so a new
//! version stops work until it is read; the acceptance records the version and the hash of exactly the text.

use fairloop_domain::ProjectId;
use fairloop_domain::time::now_millis;
use fairloop_store::Principal;
use fairloop_store::terms::{NewTerms, Terms, TermsChoice, TermsDecision, TermsQuestion};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::NotFoundAs;
use crate::notices::{NoticeKind, Notify};
use crate::projects::require_manager;
use crate::{App, AppError, AppResult};

/// Longest terms text accepted.
pub const MAX_TERMS_BYTES: usize = 200 * 1024;
/// Longest question or answer.
pub const MAX_QUESTION_CHARS: usize = 2000;

/// The structured part of the terms, shown as a plain summary above the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TermsSummary {
    /// What intellectual property the worker assigns (default: the work product of this project only).
    #[serde(default = "default_ip")]
    pub ip_assigned: String,
    /// What the worker must keep confidential.
    #[serde(default)]
    pub confidential: String,
    /// Days of notice before the project ends early.
    #[serde(default)]
    pub notice_days: u32,
    /// How long the project is expected to run, in words ("about 6 weeks").
    #[serde(default)]
    pub expected_duration: String,
    /// Expected weekly hours, in words ("5 to 10 hours").
    #[serde(default)]
    pub weekly_hours: String,
    /// Content the worker may find distressing, one warning per entry.
    #[serde(default)]
    pub content_warnings: Vec<String>,
    /// What each affected worker is paid if the project ends without the notice above, for the whole notice
    /// period, in minor units of the project's pay currency (prorated by the share of notice not given; see
    /// docs/lifecycle.md). 0: the terms name none.
    #[serde(default)]
    pub notice_compensation_minor: i64,
}

fn default_ip() -> String {
    "The work product of this project only".into()
}

/// A new version of the terms.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishTerms {
    /// The structured fields.
    pub summary: TermsSummary,
    /// The full text, Markdown.
    pub markdown: String,
}

/// The current terms as a worker reads them, with their own decision on that version.
#[derive(Debug, Clone)]
pub struct TermsView {
    /// The version, hash and text.
    pub terms: Terms,
    /// The structured fields, parsed.
    pub summary: TermsSummary,
    /// The caller's decision on this version, if any.
    pub my_decision: Option<TermsDecision>,
}

fn hash_terms(summary: &str, markdown: &str) -> String {
    let mut h = Sha256::new();
    h.update(summary.as_bytes());
    h.update([0u8]);
    h.update(markdown.as_bytes());
    hex::encode(h.finalize())
}

fn check_text(field: &'static str, s: &str, max_chars: usize) -> AppResult<String> {
    let s = s.trim();
    crate::reject_nul(field, s)?;
    if s.is_empty() {
        return Err(AppError::invalid(
            "invalid_text",
            format!("{field} must not be empty"),
        ));
    }
    if s.chars().count() > max_chars {
        return Err(AppError::invalid(
            "invalid_text",
            format!("{field} is at most {max_chars} characters"),
        ));
    }
    Ok(s.to_string())
}

impl App {
    /// Publishes a new version of a project's terms (requesters and admins); answers its number.
    pub async fn publish_terms(
        &self,
        principal: &Principal,
        project: ProjectId,
        input: PublishTerms,
    ) -> AppResult<i64> {
        require_manager(principal)?;
        let markdown = input.markdown.trim().to_string();
        if markdown.is_empty() {
            return Err(AppError::invalid(
                "invalid_terms",
                "the terms text is empty; write the full terms below the summary",
            ));
        }
        if markdown.len() > MAX_TERMS_BYTES {
            return Err(AppError::invalid(
                "invalid_terms",
                format!("the terms text is at most {} KB", MAX_TERMS_BYTES / 1024),
            ));
        }
        crate::reject_nul("markdown", &markdown)?;
        let mut summary = input.summary;
        summary.content_warnings = summary
            .content_warnings
            .iter()
            .map(|w| w.trim().to_string())
            .filter(|w| !w.is_empty())
            .collect();
        if summary.ip_assigned.trim().is_empty() {
            summary.ip_assigned = default_ip();
        }
        if !(0..=crate::lifecycle::MAX_COMPENSATION_MINOR)
            .contains(&summary.notice_compensation_minor)
        {
            return Err(AppError::invalid(
                "invalid_terms",
                format!(
                    "summary.notice_compensation_minor must be between 0 and {}",
                    crate::lifecycle::MAX_COMPENSATION_MINOR
                ),
            ));
        }
        if summary.notice_days > 365 {
            return Err(AppError::invalid(
                "invalid_terms",
                "summary.notice_days is at most 365",
            ));
        }
        for (field, v) in [
            ("summary.ip_assigned", &summary.ip_assigned),
            ("summary.confidential", &summary.confidential),
            ("summary.expected_duration", &summary.expected_duration),
            ("summary.weekly_hours", &summary.weekly_hours),
        ] {
            crate::reject_nul(field, v)?;
            if v.chars().count() > 1000 {
                return Err(AppError::invalid(
                    "invalid_terms",
                    format!("{field} is at most 1000 characters"),
                ));
            }
        }
        let summary_json = serde_json::to_string(&summary).expect("summary serializes");
        let version = self
            .store
            .publish_terms(NewTerms {
                org_id: principal.org_id,
                project_id: project,
                text_hash: hash_terms(&summary_json, &markdown),
                summary: summary_json,
                markdown,
                created_by: principal.user_id,
                now: now_millis(),
            })
            .await
            .or_not_found("project")?;
        let name = self.project_label(principal.org_id, project).await;
        self.notify_project_workers_logged(
            principal.org_id,
            project,
            Some(principal.user_id),
            Notify {
                kind: NoticeKind::Terms,
                project: Some(project),
                title: format!("{name}: new terms (version {version})"),
                body: "The terms of this project changed. Read the new version and accept it (or ask about it) \
                       before your next task."
                    .into(),
                link: Some(format!("/projects/{project}/terms")),
                source_key: format!("terms:{project}:{version}"),
            },
        )
        .await;
        Ok(version)
    }

    /// The project's current terms and the caller's decision on them; `None` when the project has no terms.
    pub async fn terms(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<Option<TermsView>> {
        self.project(principal, project).await?;
        let Some(terms) = self.store.current_terms(principal.org_id, project).await? else {
            return Ok(None);
        };
        let summary = serde_json::from_str(&terms.summary)
            .map_err(|e| AppError::Internal(format!("stored terms summary: {e}")))?;
        let my_decision = self
            .store
            .terms_decisions(principal.org_id, project, principal.user_id)
            .await?
            .into_iter()
            .find(|d| d.version == terms.version);
        Ok(Some(TermsView {
            terms,
            summary,
            my_decision,
        }))
    }

    /// Accepts or declines the current version (by number and the hash of the text the worker was shown).
    pub async fn decide_terms(
        &self,
        principal: &Principal,
        project: ProjectId,
        version: i64,
        text_hash: &str,
        accept: bool,
    ) -> AppResult<()> {
        if !principal.role.can_work() {
            return Err(AppError::forbidden(format!(
                "terms are accepted by the people who do the work; you are a {}",
                principal.role
            )));
        }
        self.project(principal, project).await?;
        self.store
            .decide_terms(
                principal.org_id,
                project,
                TermsChoice {
                    worker: principal.user_id,
                    version,
                    text_hash: text_hash.to_string(),
                    accepted: accept,
                    now: now_millis(),
                },
            )
            .await
            .or_not_found("terms")
    }

    /// Refuses work until the worker has accepted the project's current terms (when it has any).
    pub(crate) async fn check_terms_accepted(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<()> {
        match self
            .store
            .terms_pending(principal.org_id, project, principal.user_id)
            .await?
        {
            None => Ok(()),
            Some(v) => Err(AppError::Forbidden {
                code: "terms_not_accepted",
                message: format!(
                    "read and accept version {v} of this project's terms before working on it"
                ),
            }),
        }
    }

    /// A worker asks about the current terms; a person at the requester answers.
    pub async fn ask_about_terms(
        &self,
        principal: &Principal,
        project: ProjectId,
        question: &str,
    ) -> AppResult<i64> {
        let question = check_text("question", question, MAX_QUESTION_CHARS)?;
        self.project(principal, project).await?;
        self.store
            .ask_terms_question(
                principal.org_id,
                project,
                principal.user_id,
                question,
                now_millis(),
            )
            .await
            .or_not_found("terms")
    }

    /// Questions on the terms: a worker sees their own, requesters and admins all of them.
    pub async fn terms_questions(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<Vec<TermsQuestion>> {
        self.project(principal, project).await?;
        let only = (!principal.role.can_manage_projects()).then_some(principal.user_id);
        Ok(self
            .store
            .terms_questions(principal.org_id, project, only)
            .await?)
    }

    /// Answers a question on the terms (requesters and admins), once.
    pub async fn answer_terms_question(
        &self,
        principal: &Principal,
        project: ProjectId,
        question: i64,
        answer: &str,
    ) -> AppResult<()> {
        require_manager(principal)?;
        let answer = check_text("answer", answer, MAX_QUESTION_CHARS)?;
        self.store
            .answer_terms_question(
                principal.org_id,
                project,
                question,
                answer,
                principal.user_id,
                now_millis(),
            )
            .await
            .or_not_found("question")?;
        let asked = self
            .store
            .terms_questions(principal.org_id, project, None)
            .await?
            .into_iter()
            .find(|q| q.id == question);
        if let Some(q) = asked {
            let name = self.project_label(principal.org_id, project).await;
            self.notify_logged(
                principal.org_id,
                &[q.worker_id],
                Notify {
                    kind: NoticeKind::Answer,
                    project: Some(project),
                    title: format!("{name}: your question on the terms was answered"),
                    body: q.question.chars().take(280).collect(),
                    link: Some(format!("/projects/{project}/terms#questions")),
                    source_key: format!("terms_answer:{question}"),
                },
            )
            .await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_covers_summary_and_text_and_keeps_them_apart() {
        assert_ne!(hash_terms("a", "bc"), hash_terms("ab", "c"));
        assert_eq!(hash_terms("s", "t"), hash_terms("s", "t"));
        assert_eq!(hash_terms("s", "t").len(), 64);
    }

    #[test]
    fn a_summary_defaults_to_assigning_only_this_projects_work_product() {
        let s: TermsSummary = serde_json::from_str("{}").unwrap();
        assert_eq!(s.ip_assigned, "The work product of this project only");
        assert!(serde_json::from_str::<TermsSummary>("{\"ip\": \"all\"}").is_err());
    }
}
