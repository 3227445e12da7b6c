//! Hourly project activity for the console's charts, and the item browser's pages.
//!
//! Charts must not scan annotations on every page view (a million-item project has millions of them), so a
//! background roll-up folds annotations into `project_hourly`: each step recomputes a window of whole hours
//! from the `annotations_submitted` index and replaces those rows. Recomputing (rather than adding) makes a
//! step idempotent, so a step that runs twice, or in two processes, leaves the same numbers; the previous hour
//! is recomputed once more after it closes, which picks up submissions that committed late.

use fairloop_domain::time::Millis;
use fairloop_domain::{ItemId, OrgId, ProjectId};

use crate::portable::{Param, Tx};
use crate::{Store, StoreResult, params};

/// Milliseconds in an hour: the roll-up's bucket.
pub const HOUR_MS: i64 = 3_600_000;
/// Most hours one roll-up step recomputes (bounds a step when catching up on history).
const HOURS_PER_STEP: i64 = 24;
/// Where the roll-up's next hour is kept.
const CURSOR_KEY: &str = "rollup.next_hour";

/// One hour of one project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HourActivity {
    /// Hours since the Unix epoch (UTC).
    pub hour: i64,
    /// Submissions in that hour.
    pub submissions: i64,
    /// Total time from hand-out to submission of those submissions, in milliseconds.
    pub work_ms: i64,
}

/// Which items the browser lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ItemFilter {
    /// Every item.
    #[default]
    All,
    /// No annotation yet.
    NotStarted,
    /// Some annotations, fewer than the overlap.
    InProgress,
    /// As many annotations as the overlap asks (or more).
    Done,
    /// Gold items (with a known answer).
    Gold,
}

/// What the item browser asks for.
#[derive(Debug, Clone, Default)]
pub struct ItemQuery {
    /// The project's overlap (what "done" means).
    pub overlap: i64,
    /// Which items.
    pub filter: ItemFilter,
    /// Only external ids starting with this.
    pub id_prefix: Option<String>,
    /// The page key: items after this internal id.
    pub after: ItemId,
    /// Page size.
    pub limit: i64,
}

/// An item as the browser lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemSummary {
    /// Internal id (the paging key).
    pub id: ItemId,
    /// External id, if any.
    pub external_id: Option<String>,
    /// The item data, JSON text, cut to a preview length.
    pub preview: String,
    /// Annotations so far.
    pub annotations: i64,
    /// Whether it is a gold item.
    pub gold: bool,
    /// Its priority.
    pub priority: i64,
}

/// Characters of item data in a browser row.
const PREVIEW_CHARS: i64 = 160;

fn rollup(tx: &dyn Tx, now: Millis) -> StoreResult<u64> {
    let now_hour = now.div_euclid(HOUR_MS);
    tx.execute(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        params![CURSOR_KEY, ""],
    )?;
    // Locks the cursor on PostgreSQL, so two processes take turns instead of racing on the same hours.
    let cursor = tx
        .query_one(
            &format!(
                "SELECT value FROM settings WHERE key = $1{}",
                tx.for_update()
            ),
            params![CURSOR_KEY],
        )?
        .string(0)?;
    let from_hour = match cursor.parse::<i64>() {
        Ok(h) => h,
        Err(_) => tx
            .query_one("SELECT MIN(submitted_at) FROM annotations", &[])?
            .opt_i64(0)?
            .map_or(now_hour, |ms| ms.div_euclid(HOUR_MS)),
    };
    let to_hour = (from_hour + HOURS_PER_STEP - 1).min(now_hour);
    let rows = tx.query(
        "SELECT a.org_id, a.project_id, a.submitted_at / 3600000 AS hour, CAST(COUNT(*) AS BIGINT), \
         CAST(SUM(a.submitted_at - s.created_at) AS BIGINT) \
         FROM annotations a JOIN assignments s ON s.id = a.assignment_id \
         WHERE a.submitted_at >= $1 AND a.submitted_at < $2 \
         GROUP BY a.org_id, a.project_id, a.submitted_at / 3600000",
        params![from_hour * HOUR_MS, (to_hour + 1) * HOUR_MS],
    )?;
    tx.execute(
        "DELETE FROM project_hourly WHERE hour >= $1 AND hour <= $2",
        params![from_hour, to_hour],
    )?;
    for r in &rows {
        tx.execute(
            "INSERT INTO project_hourly (org_id, project_id, hour, submissions, work_ms) \
             VALUES ($1, $2, $3, $4, $5)",
            params![r.i64(0)?, r.i64(1)?, r.i64(2)?, r.i64(3)?, r.i64(4)?],
        )?;
    }
    let next = if to_hour >= now_hour {
        now_hour - 1
    } else {
        to_hour + 1
    };
    tx.execute(
        "UPDATE settings SET value = $1 WHERE key = $2",
        params![next.to_string(), CURSOR_KEY],
    )?;
    Ok(rows.len() as u64)
}

impl dyn Store + '_ {
    /// One roll-up step at `now`: recomputes up to a day of hours; answers how many project-hours it wrote.
    /// Call again while it returns something and the cursor is behind (see [`Store::rollup_behind`]).
    pub async fn rollup_activity(&self, now: Millis) -> StoreResult<u64> {
        self.write_tx(move |tx| rollup(tx, now)).await
    }

    /// Whether the roll-up still has whole past hours to catch up on at `now`.
    pub async fn rollup_behind(&self, now: Millis) -> StoreResult<bool> {
        self.read_tx(move |tx| {
            let cursor = tx
                .query_opt(
                    "SELECT value FROM settings WHERE key = $1",
                    params![CURSOR_KEY],
                )?
                .map(|r| r.string(0))
                .transpose()?;
            Ok(match cursor.and_then(|c| c.parse::<i64>().ok()) {
                Some(h) => h < now.div_euclid(HOUR_MS) - 1,
                None => true,
            })
        })
        .await
    }

    /// The project's activity from `since_hour` on, oldest first (hours without submissions are absent).
    pub async fn project_activity(
        &self,
        org: OrgId,
        project: ProjectId,
        since_hour: i64,
    ) -> StoreResult<Vec<HourActivity>> {
        self.read_tx(move |tx| {
            tx.query(
                "SELECT hour, submissions, work_ms FROM project_hourly \
                 WHERE org_id = $1 AND project_id = $2 AND hour >= $3 ORDER BY hour",
                params![org, project, since_hour],
            )?
            .iter()
            .map(|r| {
                Ok(HourActivity {
                    hour: r.i64(0)?,
                    submissions: r.i64(1)?,
                    work_ms: r.i64(2)?,
                })
            })
            .collect()
        })
        .await
    }

    /// A page of the project's items after `query.after` (by internal id), optionally only those whose
    /// external id starts with a prefix, filtered by state. Paged by key, so page 10,000 costs what page 1 does.
    pub async fn browse_items(
        &self,
        org: OrgId,
        project: ProjectId,
        query: ItemQuery,
    ) -> StoreResult<Vec<ItemSummary>> {
        let ItemQuery {
            overlap,
            filter,
            id_prefix,
            after,
            limit,
        } = query;
        self.read_tx(move |tx| {
            let mut params: Vec<Param> = Vec::new();
            let mut arg = |v: Param| {
                params.push(v);
                format!("${}", params.len())
            };
            let mut sql = format!(
                "SELECT id, external_id, SUBSTR(data, 1, {PREVIEW_CHARS}), annotations, \
                 CASE WHEN gold IS NULL THEN 0 ELSE 1 END, priority FROM items \
                 WHERE org_id = {} AND project_id = {}",
                arg(org.into()),
                arg(project.into()),
            );
            let state = match filter {
                ItemFilter::All => String::new(),
                ItemFilter::NotStarted => " AND annotations = 0".into(),
                ItemFilter::InProgress => {
                    format!(
                        " AND annotations > 0 AND annotations < {}",
                        arg(overlap.into())
                    )
                }
                ItemFilter::Done => format!(" AND annotations >= {}", arg(overlap.into())),
                ItemFilter::Gold => " AND gold IS NOT NULL".into(),
            };
            sql += &state;
            // Each way of listing walks an index in the order it pages by, so a page costs the same anywhere in a
            // million items: the id prefix by external id, the partly and fully answered by (answers, id), the
            // rest by id. The page key is always the last item's internal id.
            let order = if let Some(prefix) = id_prefix.filter(|p| !p.is_empty()) {
                let upper = format!("{prefix}\u{10FFFF}");
                let from = tx
                    .query_opt(
                        "SELECT external_id FROM items WHERE id = $1 AND project_id = $2",
                        params![after, project],
                    )?
                    .and_then(|r| r.opt_string(0).transpose())
                    .transpose()?;
                sql += &format!(
                    " AND external_id >= {} AND external_id < {}",
                    arg(prefix.into()),
                    arg(upper.into())
                );
                if let Some(from) = from {
                    sql += &format!(" AND external_id > {}", arg(from.into()));
                }
                "external_id"
            } else if matches!(filter, ItemFilter::InProgress | ItemFilter::Done) {
                let answers = tx
                    .query_opt(
                        "SELECT annotations FROM items WHERE id = $1 AND project_id = $2",
                        params![after, project],
                    )?
                    .map(|r| r.i64(0))
                    .transpose()?
                    .unwrap_or(-1);
                let (a, id) = (arg(answers.into()), arg(after.into()));
                sql += &format!(" AND (annotations, id) > ({a}, {id})");
                "annotations, id"
            } else {
                sql += &format!(" AND id > {}", arg(after.into()));
                "id"
            };
            sql += &format!(" ORDER BY {order} LIMIT {}", arg(limit.into()));
            let rows = tx.query(&sql, &params)?;
            rows.iter()
                .map(|r| {
                    Ok(ItemSummary {
                        id: r.i64(0)?,
                        external_id: r.opt_string(1)?,
                        preview: r.string(2)?,
                        annotations: r.i64(3)?,
                        gold: r.bool(4)?,
                        priority: r.i64(5)?,
                    })
                })
                .collect()
        })
        .await
    }

    /// How many answers the worker has submitted in each project of the organization.
    pub async fn worker_submissions(
        &self,
        org: OrgId,
        worker: fairloop_domain::UserId,
    ) -> StoreResult<Vec<(ProjectId, i64)>> {
        self.read_tx(move |tx| {
            tx.query(
                "SELECT project_id, CAST(COUNT(*) AS BIGINT) FROM annotations \
                 WHERE worker_id = $1 AND org_id = $2 GROUP BY project_id",
                params![worker, org],
            )?
            .iter()
            .map(|r| Ok((r.i64(0)?, r.i64(1)?)))
            .collect()
        })
        .await
    }

    /// Submissions and their total hand-out-to-submit time per project since `since_hour`, for pace estimates.
    pub async fn recent_pace(
        &self,
        org: OrgId,
        since_hour: i64,
    ) -> StoreResult<Vec<(ProjectId, i64, i64)>> {
        self.read_tx(move |tx| {
            tx.query(
                "SELECT project_id, CAST(SUM(submissions) AS BIGINT), CAST(SUM(work_ms) AS BIGINT) \
                 FROM project_hourly WHERE org_id = $1 AND hour >= $2 GROUP BY project_id",
                params![org, since_hour],
            )?
            .iter()
            .map(|r| Ok((r.i64(0)?, r.i64(1)?, r.i64(2)?)))
            .collect()
        })
        .await
    }
}
