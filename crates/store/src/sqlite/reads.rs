//! Bulk reads on SQLite through `rusqlite`, for the paths that move many rows (exports).
//!
//! sqlx hands each row of a SQLite result across threads one message at a time; for a page of thousands of
//! rows that costs more than reading them. These reads run on a blocking thread with a plain connection, so a
//! page is read at SQLite's own speed. The SQL is the same as `ops::export_page`.

use fairloop_domain::{ItemId, OrgId, ProjectId};
use rusqlite::{Connection, params};

use crate::{ExportAnnotationRow, ExportRow, StoreError, StoreResult};

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Sqlite(e.to_string())
}

/// Up to `limit` items after `after`, each with its annotations in submission order.
pub(super) fn export_page(
    conn: &Connection,
    org: OrgId,
    project: ProjectId,
    after: ItemId,
    limit: i64,
) -> StoreResult<Vec<ExportRow>> {
    let mut items: Vec<ExportRow> = conn
        .prepare_cached(crate::sql::EXPORT_ITEMS)
        .and_then(|mut s| {
            s.query_map(params![project, org, after, limit], |r| {
                Ok(ExportRow {
                    item_id: r.get(0)?,
                    external_id: r.get(1)?,
                    data: r.get(2)?,
                    sensitivity: r.get(3)?,
                    annotations: Vec::new(),
                })
            })?
            .collect()
        })
        .map_err(db)?;
    let Some(last) = items.last().map(|i| i.item_id) else {
        return Ok(items);
    };
    let mut stmt = conn
        .prepare_cached(crate::sql::EXPORT_ANNOTATIONS)
        .map_err(db)?;
    let mut rows = stmt.query(params![project, org, after, last]).map_err(db)?;
    let mut idx = 0;
    while let Some(r) = rows.next().map_err(db)? {
        let item_id: i64 = r.get(1).map_err(db)?;
        while idx < items.len() && items[idx].item_id < item_id {
            idx += 1;
        }
        if let Some(row) = items.get_mut(idx).filter(|row| row.item_id == item_id) {
            row.annotations.push(ExportAnnotationRow {
                annotation_id: r.get(0).map_err(db)?,
                worker_id: r.get(2).map_err(db)?,
                answers: r.get(3).map_err(db)?,
                submitted_at: r.get(4).map_err(db)?,
            });
        }
    }
    Ok(items)
}
