//! Messages between the people of a project: announcements by the requester, a public question-and-answer
//! board on the guidelines, and each user's inbox of notices.
//!
//! Every statement names the organization (and, for the inbox, the user), so a guessed id of another tenant's
//! or another worker's row is simply not found. Notices carry a source key unique per user, so telling a user
//! of the same event twice (a retried request, two processes) stores one notice.

use fairloop_domain::time::Millis;
use fairloop_domain::{OrgId, ProjectId, UserId};

use crate::portable::{Row, Tx};
use crate::{Store, StoreError, StoreResult, conflict, params};

/// A requester's announcement to a project's workers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// Id.
    pub id: i64,
    /// The project.
    pub project_id: ProjectId,
    /// Who wrote it (a person at the requester).
    pub author_id: UserId,
    /// The author's display name.
    pub author_name: String,
    /// Heading.
    pub title: String,
    /// Text, Markdown.
    pub markdown: String,
    /// When.
    pub created_at: Millis,
}

/// A question on the board, with its answer once given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardQuestion {
    /// Id.
    pub id: i64,
    /// The project.
    pub project_id: ProjectId,
    /// Who asked: never shown to workers (they see a pseudonym), used to tell the asker of the answer.
    pub asker_id: UserId,
    /// The guidelines version current when it was asked.
    pub guideline_version: Option<i64>,
    /// The question.
    pub question: String,
    /// When.
    pub asked_at: Millis,
    /// The answer.
    pub answer: Option<String>,
    /// The display name of the person who answered.
    pub answered_by_name: Option<String>,
    /// When it was answered.
    pub answered_at: Option<Millis>,
    /// In the FAQ.
    pub pinned: bool,
}

/// A notice to store in one user's inbox.
#[derive(Debug, Clone)]
pub struct NewNotice {
    /// Organization of the user.
    pub org_id: OrgId,
    /// The user told.
    pub user_id: UserId,
    /// What it is about (`terms`, `guidelines`, `review`, `pay`, …).
    pub kind: String,
    /// The project it concerns, if any.
    pub project_id: Option<ProjectId>,
    /// One line.
    pub title: String,
    /// A few sentences, plain text.
    pub body: String,
    /// Where to act on it (a path on this site).
    pub link: Option<String>,
    /// Names the event: the same key for the same user is stored once.
    pub source_key: String,
    /// When.
    pub now: Millis,
}

/// A stored notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Id.
    pub id: i64,
    /// Kind.
    pub kind: String,
    /// Project, if any.
    pub project_id: Option<ProjectId>,
    /// One line.
    pub title: String,
    /// Plain text.
    pub body: String,
    /// Where to act on it.
    pub link: Option<String>,
    /// When.
    pub created_at: Millis,
    /// When the user marked it read.
    pub read_at: Option<Millis>,
}

/// One page of an inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticePage {
    /// Newest first.
    pub notices: Vec<Notice>,
    /// How many of the user's notices are unread (all pages).
    pub unread: i64,
    /// Pass as `before` for the next page; `None` on the last.
    pub next_before: Option<i64>,
}

const ANNOUNCEMENT_COLUMNS: &str =
    "a.id, a.project_id, a.author_id, u.name, a.title, a.markdown, a.created_at";
const QUESTION_COLUMNS: &str = "q.id, q.project_id, q.asker_id, q.guideline_version, q.question, q.asked_at, \
     q.answer, u.name, q.answered_at, q.pinned";
const NOTICE_COLUMNS: &str = "id, kind, project_id, title, body, link, created_at, read_at";

fn announcement_from(r: &Row) -> StoreResult<Announcement> {
    Ok(Announcement {
        id: r.i64(0)?,
        project_id: r.i64(1)?,
        author_id: r.i64(2)?,
        author_name: r.string(3)?,
        title: r.string(4)?,
        markdown: r.string(5)?,
        created_at: r.i64(6)?,
    })
}

fn question_from(r: &Row) -> StoreResult<BoardQuestion> {
    Ok(BoardQuestion {
        id: r.i64(0)?,
        project_id: r.i64(1)?,
        asker_id: r.i64(2)?,
        guideline_version: r.opt_i64(3)?,
        question: r.string(4)?,
        asked_at: r.i64(5)?,
        answer: r.opt_string(6)?,
        answered_by_name: r.opt_string(7)?,
        answered_at: r.opt_i64(8)?,
        pinned: r.bool(9)?,
    })
}

fn notice_from(r: &Row) -> StoreResult<Notice> {
    Ok(Notice {
        id: r.i64(0)?,
        kind: r.string(1)?,
        project_id: r.opt_i64(2)?,
        title: r.string(3)?,
        body: r.string(4)?,
        link: r.opt_string(5)?,
        created_at: r.i64(6)?,
        read_at: r.opt_i64(7)?,
    })
}

fn project_exists(tx: &dyn Tx, org: OrgId, project: ProjectId) -> StoreResult<()> {
    tx.query_opt(
        "SELECT 1 FROM projects WHERE id = $1 AND org_id = $2",
        params![project, org],
    )?
    .map(|_| ())
    .ok_or(StoreError::NotFound)
}

/// Stores a notice inside a transaction that is already open (so an event and its notice commit together);
/// answers whether it is new (`false`: this user was already told of this event).
pub fn insert_notice(tx: &dyn Tx, n: &NewNotice) -> StoreResult<bool> {
    let changed = tx.execute(
        "INSERT INTO notices (org_id, user_id, kind, project_id, title, body, link, source_key, created_at) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 FROM users WHERE id = $2 AND org_id = $1 \
         ON CONFLICT (user_id, source_key) DO NOTHING",
        params![
            n.org_id,
            n.user_id,
            n.kind.as_str(),
            n.project_id,
            n.title.as_str(),
            n.body.as_str(),
            n.link.clone(),
            n.source_key.as_str(),
            n.now
        ],
    )?;
    Ok(changed == 1)
}

impl dyn Store + '_ {
    /// Posts an announcement; answers its id.
    pub async fn add_announcement(
        &self,
        org: OrgId,
        project: ProjectId,
        author: UserId,
        title: String,
        markdown: String,
        now: Millis,
    ) -> StoreResult<i64> {
        self.write_tx(move |tx| {
            project_exists(tx, org, project)?;
            tx.query_one(
                "INSERT INTO announcements (org_id, project_id, author_id, title, markdown, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                params![org, project, author, title, markdown, now],
            )?
            .i64(0)
        })
        .await
    }

    /// A project's announcements, newest first (at most `limit`).
    pub async fn announcements(
        &self,
        org: OrgId,
        project: ProjectId,
        limit: i64,
    ) -> StoreResult<Vec<Announcement>> {
        self.read_tx(move |tx| {
            project_exists(tx, org, project)?;
            tx.query(
                &format!(
                    "SELECT {ANNOUNCEMENT_COLUMNS} FROM announcements a JOIN users u ON u.id = a.author_id \
                     WHERE a.org_id = $1 AND a.project_id = $2 ORDER BY a.id DESC LIMIT $3"
                ),
                params![org, project, limit],
            )?
            .iter()
            .map(announcement_from)
            .collect()
        })
        .await
    }

    /// The people of the organization who work on the project: anyone who took a task in it, decided on its
    /// terms or acknowledged its guidelines, and is still in the organization. Announcements and changes of
    /// terms or guidelines are sent to their inboxes.
    pub async fn project_workers(
        &self,
        org: OrgId,
        project: ProjectId,
    ) -> StoreResult<Vec<UserId>> {
        self.read_tx(move |tx| {
            tx.query(
                "SELECT u.id FROM users u WHERE u.org_id = $1 AND (\
                   EXISTS (SELECT 1 FROM assignments a WHERE a.project_id = $2 AND a.worker_id = u.id) \
                   OR EXISTS (SELECT 1 FROM terms_decisions d WHERE d.project_id = $2 AND d.worker_id = u.id) \
                   OR EXISTS (SELECT 1 FROM guideline_acks g WHERE g.project_id = $2 AND g.worker_id = u.id)) \
                 ORDER BY u.id",
                params![org, project],
            )?
            .iter()
            .map(|r| r.i64(0))
            .collect()
        })
        .await
    }

    /// Files a question on the board; answers its id.
    pub async fn ask_board_question(
        &self,
        org: OrgId,
        project: ProjectId,
        asker: UserId,
        question: String,
        now: Millis,
    ) -> StoreResult<i64> {
        self.write_tx(move |tx| {
            project_exists(tx, org, project)?;
            let version = tx
                .query_one(
                    "SELECT MAX(version) FROM project_guidelines WHERE org_id = $1 AND project_id = $2",
                    params![org, project],
                )?
                .opt_i64(0)?;
            tx.query_one(
                "INSERT INTO board_questions (org_id, project_id, asker_id, guideline_version, question, asked_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                params![org, project, asker, version, question, now],
            )?
            .i64(0)
        })
        .await
    }

    /// The board of a project: pinned questions (the FAQ) first, then the rest, newest first.
    pub async fn board(
        &self,
        org: OrgId,
        project: ProjectId,
        limit: i64,
    ) -> StoreResult<Vec<BoardQuestion>> {
        self.read_tx(move |tx| {
            project_exists(tx, org, project)?;
            tx.query(
                &format!(
                    "SELECT {QUESTION_COLUMNS} FROM board_questions q LEFT JOIN users u ON u.id = q.answered_by \
                     WHERE q.org_id = $1 AND q.project_id = $2 ORDER BY q.pinned DESC, q.id DESC LIMIT $3"
                ),
                params![org, project, limit],
            )?
            .iter()
            .map(question_from)
            .collect()
        })
        .await
    }

    /// One question of the board.
    pub async fn board_question(
        &self,
        org: OrgId,
        project: ProjectId,
        id: i64,
    ) -> StoreResult<BoardQuestion> {
        self.read_tx(move |tx| {
            let r = tx.query_one(
                &format!(
                    "SELECT {QUESTION_COLUMNS} FROM board_questions q LEFT JOIN users u ON u.id = q.answered_by \
                     WHERE q.org_id = $1 AND q.project_id = $2 AND q.id = $3"
                ),
                params![org, project, id],
            )?;
            question_from(&r)
        })
        .await
    }

    /// Answers a question (once: `already_answered` after) and tells the asker in the same transaction;
    /// `notice` is built from the question as stored.
    #[allow(clippy::too_many_arguments)]
    pub async fn answer_board_question(
        &self,
        org: OrgId,
        project: ProjectId,
        id: i64,
        answer: String,
        by: UserId,
        now: Millis,
        notice: impl FnOnce(&BoardQuestion) -> NewNotice + Send + 'static,
    ) -> StoreResult<()> {
        self.write_tx(move |tx| {
            let n = tx.execute(
                "UPDATE board_questions SET answer = $1, answered_by = $2, answered_at = $3 \
                 WHERE id = $4 AND org_id = $5 AND project_id = $6 AND answer IS NULL",
                params![answer, by, now, id, org, project],
            )?;
            let r = tx.query_opt(
                &format!(
                    "SELECT {QUESTION_COLUMNS} FROM board_questions q LEFT JOIN users u ON u.id = q.answered_by \
                     WHERE q.org_id = $1 AND q.project_id = $2 AND q.id = $3"
                ),
                params![org, project, id],
            )?;
            let q = question_from(&r.ok_or(StoreError::NotFound)?)?;
            if n == 0 {
                return Err(conflict(
                    "already_answered",
                    "this question was already answered",
                ));
            }
            insert_notice(tx, &notice(&q))?;
            Ok(())
        })
        .await
    }

    /// Pins an answered question into the FAQ, or unpins it.
    pub async fn pin_board_question(
        &self,
        org: OrgId,
        project: ProjectId,
        id: i64,
        pinned: bool,
        now: Millis,
    ) -> StoreResult<()> {
        self.write_tx(move |tx| {
            let row = tx
                .query_opt(
                    "SELECT answer FROM board_questions WHERE id = $1 AND org_id = $2 AND project_id = $3",
                    params![id, org, project],
                )?
                .ok_or(StoreError::NotFound)?;
            if pinned && row.opt_string(0)?.is_none() {
                return Err(conflict(
                    "not_answered",
                    "answer the question before pinning it to the FAQ",
                ));
            }
            tx.execute(
                "UPDATE board_questions SET pinned = $1, pinned_at = $2 WHERE id = $3 AND org_id = $4",
                params![pinned, pinned.then_some(now), id, org],
            )?;
            Ok(())
        })
        .await
    }

    /// Stores notices (each at most once per user and source key); answers how many are new.
    pub async fn add_notices(&self, notices: Vec<NewNotice>) -> StoreResult<u64> {
        self.write_tx(move |tx| {
            let mut added = 0;
            for n in &notices {
                added += u64::from(insert_notice(tx, n)?);
            }
            Ok(added)
        })
        .await
    }

    /// One page of a user's inbox, newest first: notices with an id below `before` (all when `None`).
    pub async fn notices(
        &self,
        org: OrgId,
        user: UserId,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<NoticePage> {
        self.read_tx(move |tx| {
            let rows = tx.query(
                &format!(
                    "SELECT {NOTICE_COLUMNS} FROM notices WHERE org_id = $1 AND user_id = $2 AND id < $3 \
                     ORDER BY id DESC LIMIT $4"
                ),
                params![org, user, before.unwrap_or(i64::MAX), limit + 1],
            )?;
            let mut notices = rows.iter().map(notice_from).collect::<StoreResult<Vec<_>>>()?;
            let next_before = if notices.len() as i64 > limit {
                notices.truncate(limit as usize);
                notices.last().map(|n| n.id)
            } else {
                None
            };
            let unread = tx
                .query_one(
                    "SELECT CAST(COUNT(*) AS BIGINT) FROM notices WHERE org_id = $1 AND user_id = $2 \
                     AND read_at IS NULL",
                    params![org, user],
                )?
                .i64(0)?;
            Ok(NoticePage {
                notices,
                unread,
                next_before,
            })
        })
        .await
    }

    /// Marks one of the user's notices read (`NotFound` for anyone else's).
    pub async fn mark_notice_read(
        &self,
        org: OrgId,
        user: UserId,
        id: i64,
        now: Millis,
    ) -> StoreResult<()> {
        self.write_tx(move |tx| {
            tx.query_opt(
                "SELECT 1 FROM notices WHERE id = $1 AND org_id = $2 AND user_id = $3",
                params![id, org, user],
            )?
            .ok_or(StoreError::NotFound)?;
            tx.execute(
                "UPDATE notices SET read_at = $1 WHERE id = $2 AND user_id = $3 AND read_at IS NULL",
                params![now, id, user],
            )?;
            Ok(())
        })
        .await
    }

    /// Who made an annotation of the organization and in which project (to tell them about its pay).
    pub async fn annotation_owner(
        &self,
        org: OrgId,
        annotation: i64,
    ) -> StoreResult<Option<(UserId, ProjectId)>> {
        self.read_tx(move |tx| {
            tx.query_opt(
                "SELECT worker_id, project_id FROM annotations WHERE id = $1 AND org_id = $2",
                params![annotation, org],
            )?
            .map(|r| Ok((r.i64(0)?, r.i64(1)?)))
            .transpose()
        })
        .await
    }

    /// Marks every notice of the user read; answers how many were unread.
    pub async fn mark_all_notices_read(
        &self,
        org: OrgId,
        user: UserId,
        now: Millis,
    ) -> StoreResult<u64> {
        self.write_tx(move |tx| {
            tx.execute(
                "UPDATE notices SET read_at = $1 WHERE org_id = $2 AND user_id = $3 AND read_at IS NULL",
                params![now, org, user],
            )
        })
        .await
    }
}
