//! Each user's inbox of notices, and [`App::notify`], the one way every other use case tells people something.
//!
//! Workers are told of what changes their work or their pay: new terms, new guidelines, an answer to their
//! question, a review or appeal decided, pay withheld or a dispute decided, a payout paid or failed, an
//! announcement, and (once the lifecycle lands) a change of the project's state. A notice names its event by
//! a source key, so a retried call stores it once per user.
//!
//! Telling people is never allowed to undo what they are told about: the callers below act first and notify
//! after, through [`App::notify_logged`], which logs a failure instead of returning it. A crash between the
//! two loses that one notice, never the action.

use fairloop_domain::time::now_millis;
use fairloop_domain::{OrgId, ProjectId, UserId};
use fairloop_store::Principal;
use fairloop_store::messages::{NewNotice, NoticePage};

use crate::error::NotFoundAs;
use crate::{App, AppError, AppResult};

/// Most notices on one page of an inbox.
pub const MAX_PAGE: i64 = 100;
/// Notices on a page when the caller does not say.
pub const DEFAULT_PAGE: i64 = 25;

/// What a notice is about: shown as a label, filterable, and stable in the API.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// The requester posted an announcement to the project.
    Announcement,
    /// A new version of the terms needs accepting.
    Terms,
    /// A new version of the guidelines.
    Guidelines,
    /// A person at the requester answered the user's question (terms or board).
    Answer,
    /// A reviewer judged one of the user's submissions.
    Review,
    /// An appeal of the user's was decided.
    Appeal,
    /// Pay was withheld, or a dispute of withheld pay was decided.
    Pay,
    /// A payout was paid or failed.
    Payout,
    /// The project changed state (recruiting, paused, winding down, closed…): wired by the lifecycle.
    Lifecycle,
    /// A requester invited the worker to a project from its matching list (see `profiles`).
    Invitation,
}

impl NoticeKind {
    /// The stable name stored and shown in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Announcement => "announcement",
            NoticeKind::Terms => "terms",
            NoticeKind::Guidelines => "guidelines",
            NoticeKind::Answer => "answer",
            NoticeKind::Review => "review",
            NoticeKind::Appeal => "appeal",
            NoticeKind::Pay => "pay",
            NoticeKind::Payout => "payout",
            NoticeKind::Lifecycle => "lifecycle",
            NoticeKind::Invitation => "invitation",
        }
    }
}

/// What to tell: the same notice goes to every user named in [`App::notify`].
#[derive(Debug, Clone)]
pub struct Notify {
    /// What it is about.
    pub kind: NoticeKind,
    /// The project it concerns, if any.
    pub project: Option<ProjectId>,
    /// One line.
    pub title: String,
    /// A few plain sentences.
    pub body: String,
    /// Where to act on it: a path on this site (`/projects/3/terms`).
    pub link: Option<String>,
    /// Names the event (`terms:3:2`): the same key is stored once per user.
    pub source_key: String,
}

impl Notify {
    pub(crate) fn to_rows(&self, org: OrgId, users: &[UserId]) -> Vec<NewNotice> {
        let now = now_millis();
        users
            .iter()
            .map(|&user_id| NewNotice {
                org_id: org,
                user_id,
                kind: self.kind.as_str().to_string(),
                project_id: self.project,
                title: clip(&self.title, 200),
                body: clip(&self.body, 2000),
                link: self.link.clone(),
                source_key: self.source_key.clone(),
                now,
            })
            .collect()
    }
}

fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

impl App {
    /// Tells `users` of the organization (others are skipped) one notice; answers how many were new.
    pub async fn notify(&self, org: OrgId, users: &[UserId], notice: Notify) -> AppResult<u64> {
        if users.is_empty() {
            return Ok(0);
        }
        Ok(self.store.add_notices(notice.to_rows(org, users)).await?)
    }

    /// Tells everyone who works on the project (see `project_workers` in the store), except `except`.
    pub async fn notify_project_workers(
        &self,
        org: OrgId,
        project: ProjectId,
        except: Option<UserId>,
        notice: Notify,
    ) -> AppResult<u64> {
        let users: Vec<UserId> = self
            .store
            .project_workers(org, project)
            .await?
            .into_iter()
            .filter(|u| Some(*u) != except)
            .collect();
        self.notify(org, &users, notice).await
    }

    /// [`App::notify`] for callers whose own action already succeeded: a failure is logged, not returned.
    pub async fn notify_logged(&self, org: OrgId, users: &[UserId], notice: Notify) {
        let key = notice.source_key.clone();
        if let Err(e) = self.notify(org, users, notice).await {
            tracing::warn!(error = %e, source_key = %key, "a notice could not be stored");
        }
    }

    /// [`App::notify_project_workers`], logging a failure instead of returning it.
    pub async fn notify_project_workers_logged(
        &self,
        org: OrgId,
        project: ProjectId,
        except: Option<UserId>,
        notice: Notify,
    ) {
        let key = notice.source_key.clone();
        if let Err(e) = self
            .notify_project_workers(org, project, except, notice)
            .await
        {
            tracing::warn!(error = %e, source_key = %key, "notices could not be stored");
        }
    }

    /// A page of the caller's own inbox, newest first (`before`: the `next_before` of the previous page).
    pub async fn inbox(
        &self,
        principal: &Principal,
        before: Option<i64>,
        limit: Option<i64>,
    ) -> AppResult<NoticePage> {
        let limit = limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(AppError::invalid(
                "invalid_limit",
                format!("limit must be 1 to {MAX_PAGE}"),
            ));
        }
        Ok(self
            .store
            .notices(principal.org_id, principal.user_id, before, limit)
            .await?)
    }

    /// Marks one of the caller's notices read (404 for anyone else's).
    pub async fn mark_notice_read(&self, principal: &Principal, id: i64) -> AppResult<()> {
        self.store
            .mark_notice_read(principal.org_id, principal.user_id, id, now_millis())
            .await
            .or_not_found("notice")
    }

    /// Marks all of the caller's notices read; answers how many were unread.
    pub async fn mark_all_notices_read(&self, principal: &Principal) -> AppResult<u64> {
        Ok(self
            .store
            .mark_all_notices_read(principal.org_id, principal.user_id, now_millis())
            .await?)
    }

    /// The name of a project for a notice ("project 3" when it cannot be read).
    pub(crate) async fn project_label(&self, org: OrgId, project: ProjectId) -> String {
        match self.store.project(org, project).await {
            Ok(p) => p.name,
            Err(_) => format!("project {project}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_clipped_on_a_character_boundary() {
        assert_eq!(clip("abc", 5), "abc");
        assert_eq!(clip("ééééé", 3), "ééé…");
    }

    #[test]
    fn kinds_have_stable_names() {
        assert_eq!(NoticeKind::Lifecycle.as_str(), "lifecycle");
        assert_eq!(
            serde_json::to_string(&NoticeKind::Announcement).unwrap(),
            "\"announcement\""
        );
    }
}
