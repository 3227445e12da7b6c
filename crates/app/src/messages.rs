//! Announcements and the question-and-answer board of a project.
//!
//! Announcements: a person at the requester writes to the project's workers (Markdown, rendered sanitised on
//! the page); they appear on the project's pages and in the inbox of everyone who works on it.
//!
//! The board: workers ask about the guidelines in public, so one answer serves everyone and the same question
//! is not answered twice in private. Workers never see each other's names or emails there, only a per-project
//! pseudonym (see [`fairloop_domain::pseudonym::board_pseudonym`]); a person at the requester answers, and can
//! pin an answer into the project's FAQ. Everything is scoped by organization: another organization's people
//! see neither the board nor the announcements (404, as if the project did not exist).

use fairloop_domain::ProjectId;
use fairloop_domain::pseudonym::board_pseudonym;
use fairloop_domain::time::now_millis;
use fairloop_store::Principal;
use fairloop_store::messages::{Announcement, BoardQuestion};

use crate::error::NotFoundAs;
use crate::notices::{NoticeKind, Notify};
use crate::projects::require_manager;
use crate::{App, AppError, AppResult};

/// Longest announcement title.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest announcement text, in bytes of Markdown.
pub const MAX_ANNOUNCEMENT_BYTES: usize = 20 * 1024;
/// Longest board question or answer.
pub const MAX_BOARD_CHARS: usize = 4000;
/// Most announcements or board questions listed.
pub const LIST_LIMIT: i64 = 200;

/// A new announcement.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAnnouncement {
    /// Heading (1 to 200 characters).
    pub title: String,
    /// Text, Markdown (up to 20 KB).
    pub markdown: String,
}

/// A board question as anyone of the project reads it: the asker only as a pseudonym.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct BoardEntry {
    /// Id.
    pub id: i64,
    /// The asker's pseudonym in this project (never a name or an email).
    pub asked_by: String,
    /// Whether the caller asked it.
    pub mine: bool,
    /// The guidelines version current when it was asked (null: the project had none).
    pub guideline_version: Option<i64>,
    /// The question.
    pub question: String,
    /// When, in milliseconds since the epoch (UTC).
    pub asked_at: i64,
    /// The answer, once a person at the requester gave one.
    pub answer: Option<String>,
    /// Who answered (a person at the requester, by display name).
    pub answered_by: Option<String>,
    /// When it was answered.
    pub answered_at: Option<i64>,
    /// In the FAQ.
    pub pinned: bool,
}

fn text(field: &'static str, s: &str, max_chars: usize) -> AppResult<String> {
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
    /// Posts an announcement to a project (requesters and admins) and puts it in the inbox of everyone who
    /// works on it; answers its id.
    pub async fn announce(
        &self,
        principal: &Principal,
        project: ProjectId,
        input: NewAnnouncement,
    ) -> AppResult<i64> {
        require_manager(principal)?;
        let title = text("title", &input.title, MAX_TITLE_CHARS)?;
        let markdown = input.markdown.trim().to_string();
        crate::reject_nul("markdown", &markdown)?;
        if markdown.is_empty() {
            return Err(AppError::invalid(
                "invalid_text",
                "markdown must not be empty: write what the workers should know",
            ));
        }
        if markdown.len() > MAX_ANNOUNCEMENT_BYTES {
            return Err(AppError::invalid(
                "invalid_text",
                format!("markdown is at most {} KB", MAX_ANNOUNCEMENT_BYTES / 1024),
            ));
        }
        let org = principal.org_id;
        let id = self
            .store
            .add_announcement(
                org,
                project,
                principal.user_id,
                title.clone(),
                markdown.clone(),
                now_millis(),
            )
            .await
            .or_not_found("project")?;
        let name = self.project_label(org, project).await;
        // The inbox shows plain text: the Markdown's emphasis and heading marks would only be noise there.
        let plain = markdown
            .replace("**", "")
            .replace("__", "")
            .replace('`', "")
            .lines()
            .map(|l| l.trim_start_matches('#').trim())
            .collect::<Vec<_>>()
            .join(" ");
        let preview: String = plain.chars().take(280).collect();
        self.notify_project_workers_logged(
            org,
            project,
            Some(principal.user_id),
            Notify {
                kind: NoticeKind::Announcement,
                project: Some(project),
                title: format!("{name}: {title}"),
                body: preview,
                link: Some(format!("/projects/{project}/board#announcements")),
                source_key: format!("announcement:{id}"),
            },
        )
        .await;
        Ok(id)
    }

    /// A project's announcements, newest first (anyone of the organization).
    pub async fn announcements(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<Vec<Announcement>> {
        self.recent_announcements(principal, project, LIST_LIMIT)
            .await
    }

    /// A project's newest `limit` announcements (the worker's home shows the latest).
    pub async fn recent_announcements(
        &self,
        principal: &Principal,
        project: ProjectId,
        limit: i64,
    ) -> AppResult<Vec<Announcement>> {
        self.store
            .announcements(principal.org_id, project, limit.clamp(1, LIST_LIMIT))
            .await
            .or_not_found("project")
    }

    /// Asks a question on the board (anyone of the organization who may work); answers its id.
    pub async fn ask_board(
        &self,
        principal: &Principal,
        project: ProjectId,
        question: &str,
    ) -> AppResult<i64> {
        if !principal.role.can_work() {
            return Err(AppError::forbidden(format!(
                "the board is where workers ask; you are a {}, so answer questions instead",
                principal.role
            )));
        }
        let question = text("question", question, MAX_BOARD_CHARS)?;
        self.store
            .ask_board_question(
                principal.org_id,
                project,
                principal.user_id,
                question,
                now_millis(),
            )
            .await
            .or_not_found("project")
    }

    /// The board: the FAQ (pinned) first, then every other question, newest first, askers as pseudonyms.
    pub async fn board(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<Vec<BoardEntry>> {
        let rows = self
            .store
            .board(principal.org_id, project, LIST_LIMIT)
            .await
            .or_not_found("project")?;
        let key = self.store.installation_secret().await?;
        Ok(rows
            .into_iter()
            .map(|q| entry(&key, principal, q))
            .collect())
    }

    /// Answers a board question (requesters and admins), once, and tells the asker.
    pub async fn answer_board(
        &self,
        principal: &Principal,
        project: ProjectId,
        question: i64,
        answer: &str,
    ) -> AppResult<()> {
        require_manager(principal)?;
        let answer = text("answer", answer, MAX_BOARD_CHARS)?;
        let org = principal.org_id;
        let name = self.project_label(org, project).await;
        self.store
            .answer_board_question(
                org,
                project,
                question,
                answer,
                principal.user_id,
                now_millis(),
                move |q| {
                    Notify {
                        kind: NoticeKind::Answer,
                        project: Some(project),
                        title: format!("{name}: your question on the board was answered"),
                        body: q.question.chars().take(280).collect(),
                        link: Some(format!("/projects/{project}/board#q{}", q.id)),
                        source_key: format!("board_answer:{}", q.id),
                    }
                    .to_rows(org, &[q.asker_id])
                    .remove(0)
                },
            )
            .await
            .or_not_found("question")
    }

    /// Pins an answered question into the FAQ, or takes it out (requesters and admins).
    pub async fn pin_board(
        &self,
        principal: &Principal,
        project: ProjectId,
        question: i64,
        pinned: bool,
    ) -> AppResult<()> {
        require_manager(principal)?;
        self.store
            .pin_board_question(principal.org_id, project, question, pinned, now_millis())
            .await
            .or_not_found("question")
    }
}

fn entry(key: &[u8], principal: &Principal, q: BoardQuestion) -> BoardEntry {
    BoardEntry {
        id: q.id,
        asked_by: board_pseudonym(key, q.project_id, q.asker_id),
        mine: q.asker_id == principal.user_id,
        guideline_version: q.guideline_version,
        question: q.question,
        asked_at: q.asked_at,
        answer: q.answer,
        answered_by: q.answered_by_name,
        answered_at: q.answered_at,
        pinned: q.pinned,
    }
}
