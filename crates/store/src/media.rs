//! Media rows: what each uploaded file is, where its bytes are, which projects refer to it, and the hosts an
//! organization allows media URLs from (tables in migration `0015_media`).
//!
//! Written once for both backends on the portable layer. Every query names the organization, so another
//! organization's key is simply not found. A row is `pending` while its bytes are being written and `ready`
//! after; everything that serves or exports media reads only `ready` rows.

use fairloop_domain::time::Millis;
use fairloop_domain::{OrgId, ProjectId, UserId};

use crate::portable::{Param, Row, Tx};
use crate::{Store, StoreResult, conflict, params};

/// One media file as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaRow {
    /// Internal id.
    pub id: i64,
    /// Owning organization.
    pub org_id: OrgId,
    /// The key items use.
    pub key: String,
    /// Where the bytes are in the MediaStore.
    pub object_key: String,
    /// Where the thumbnail (or poster) is, if any.
    pub thumb_key: Option<String>,
    /// The thumbnail's content type.
    pub thumb_content_type: Option<String>,
    /// `pending` or `ready`.
    pub status: String,
    /// `image`, `video` or `audio`.
    pub kind: String,
    /// The content type read from the bytes.
    pub content_type: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// SHA-256 of the bytes (hex).
    pub sha256: String,
    /// Width in pixels, when known.
    pub width: Option<i64>,
    /// Height in pixels, when known.
    pub height: Option<i64>,
    /// Duration in seconds, when known.
    pub duration_seconds: Option<f64>,
    /// Frames per second, when known.
    pub fps: Option<f64>,
    /// Video codec.
    pub codec: Option<String>,
    /// The file name the uploader's client sent (shown only to the organization).
    pub original_name: Option<String>,
    /// The uploader.
    pub created_by: UserId,
    /// When.
    pub created_at: Millis,
}

/// A media row to reserve before its bytes are written.
#[derive(Debug, Clone)]
pub struct NewMedia {
    /// Owning organization.
    pub org_id: OrgId,
    /// The key items will use.
    pub key: String,
    /// Where the bytes will be.
    pub object_key: String,
    /// Where the thumbnail will be.
    pub thumb_key: Option<String>,
    /// Its content type.
    pub thumb_content_type: Option<String>,
    /// `image`, `video` or `audio`.
    pub kind: String,
    /// Content type read from the bytes.
    pub content_type: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// SHA-256 (hex).
    pub sha256: String,
    /// Width.
    pub width: Option<i64>,
    /// Height.
    pub height: Option<i64>,
    /// Duration in seconds.
    pub duration_seconds: Option<f64>,
    /// Frames per second.
    pub fps: Option<f64>,
    /// Video codec.
    pub codec: Option<String>,
    /// The client's file name.
    pub original_name: Option<String>,
    /// The uploader.
    pub created_by: UserId,
    /// When.
    pub created_at: Millis,
}

const COLUMNS: &str = "id, org_id, media_key, object_key, thumb_key, thumb_content_type, status, kind, \
     content_type, size_bytes, sha256, width, height, duration_seconds, fps, codec, original_name, created_by, \
     created_at";

fn row_to_media(r: &Row) -> StoreResult<MediaRow> {
    Ok(MediaRow {
        id: r.i64(0)?,
        org_id: r.i64(1)?,
        key: r.string(2)?,
        object_key: r.string(3)?,
        thumb_key: r.opt_string(4)?,
        thumb_content_type: r.opt_string(5)?,
        status: r.string(6)?,
        kind: r.string(7)?,
        content_type: r.string(8)?,
        size_bytes: r.i64(9)?,
        sha256: r.string(10)?,
        width: r.opt_i64(11)?,
        height: r.opt_i64(12)?,
        duration_seconds: r.opt_f64(13)?,
        fps: r.opt_f64(14)?,
        codec: r.opt_string(15)?,
        original_name: r.opt_string(16)?,
        created_by: r.i64(17)?,
        created_at: r.i64(18)?,
    })
}

fn by_key(tx: &dyn Tx, org: OrgId, key: &str) -> StoreResult<Option<MediaRow>> {
    tx.query_opt(
        &format!("SELECT {COLUMNS} FROM media WHERE org_id = $1 AND media_key = $2"),
        params![org, key],
    )?
    .as_ref()
    .map(row_to_media)
    .transpose()
}

/// A pending row whose upload never finished, as the clean-up job sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StalePending {
    /// Row id.
    pub id: i64,
    /// Organization.
    pub org_id: OrgId,
    /// Where its bytes would be.
    pub object_key: String,
    /// Where its thumbnail would be.
    pub thumb_key: Option<String>,
}

impl dyn Store + '_ {
    /// Reserves a `pending` row for an upload. A key already used in the organization (by any row, pending or
    /// ready) is a conflict: keys name one content for good, so a cached copy can never be stale.
    pub async fn media_reserve(&self, m: NewMedia) -> StoreResult<MediaRow> {
        self.write_tx(move |tx| {
            // A deleted file's key stays its content's: other bytes under it could meet a browser's cached copy.
            if let Some(r) = tx.query_opt(
                "SELECT sha256 FROM media_deleted_keys WHERE org_id = $1 AND media_key = $2",
                params![m.org_id, &m.key],
            )? && r.string(0)? != m.sha256
            {
                return Err(conflict(
                    "media_key_taken",
                    format!(
                        "the media key {:?} named a file that was deleted; browsers may still hold that file \
                         under it, so it can only be used again for the same content; choose another key",
                        m.key
                    ),
                ));
            }
            let inserted = tx.query_opt(
                &format!(
                    "INSERT INTO media (org_id, media_key, object_key, thumb_key, thumb_content_type, status, \
                     kind, content_type, size_bytes, sha256, width, height, duration_seconds, fps, codec, \
                     original_name, created_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
                     ON CONFLICT (org_id, media_key) DO NOTHING RETURNING {COLUMNS}"
                ),
                &[
                    Param::from(m.org_id),
                    Param::from(&m.key),
                    Param::from(&m.object_key),
                    Param::from(m.thumb_key.clone()),
                    Param::from(m.thumb_content_type.clone()),
                    Param::from(&m.kind),
                    Param::from(&m.content_type),
                    Param::from(m.size_bytes),
                    Param::from(&m.sha256),
                    Param::from(m.width),
                    Param::from(m.height),
                    Param::from(m.duration_seconds),
                    Param::from(m.fps),
                    Param::from(m.codec.clone()),
                    Param::from(m.original_name.clone()),
                    Param::from(m.created_by),
                    Param::from(m.created_at),
                ],
            )?;
            match inserted {
                Some(r) => row_to_media(&r),
                None => Err(conflict(
                    "media_key_taken",
                    format!(
                        "the media key {:?} is already used in this organization for other content; choose \
                         another key",
                        m.key
                    ),
                )),
            }
        })
        .await
    }

    /// Marks a reserved row `ready` once all its bytes are stored.
    pub async fn media_mark_ready(&self, org: OrgId, id: i64) -> StoreResult<()> {
        self.write_tx(move |tx| {
            let n = tx.execute(
                "UPDATE media SET status = 'ready' WHERE org_id = $1 AND id = $2 AND status = 'pending'",
                params![org, id],
            )?;
            if n == 1 {
                Ok(())
            } else {
                Err(crate::StoreError::NotFound)
            }
        })
        .await
    }

    /// Removes a row that is still `pending` (its upload failed or was abandoned).
    pub async fn media_remove_pending(&self, org: OrgId, id: i64) -> StoreResult<()> {
        self.write_tx(move |tx| {
            tx.execute(
                "DELETE FROM media WHERE org_id = $1 AND id = $2 AND status = 'pending'",
                params![org, id],
            )?;
            Ok(())
        })
        .await
    }

    /// The row with this key in the organization, whatever its status.
    pub async fn media_by_key_any(&self, org: OrgId, key: &str) -> StoreResult<Option<MediaRow>> {
        let key = key.to_string();
        self.read_tx(move |tx| by_key(tx, org, &key)).await
    }

    /// The `ready` row with this key in the organization.
    pub async fn media_by_key(&self, org: OrgId, key: &str) -> StoreResult<Option<MediaRow>> {
        Ok(self
            .media_by_key_any(org, key)
            .await?
            .filter(|m| m.status == "ready"))
    }

    /// A `ready` row of the organization with these bytes (the oldest), for idempotent uploads.
    pub async fn media_by_sha256(&self, org: OrgId, sha256: &str) -> StoreResult<Option<MediaRow>> {
        let sha = sha256.to_string();
        self.read_tx(move |tx| {
            tx.query_opt(
                &format!(
                    "SELECT {COLUMNS} FROM media WHERE org_id = $1 AND sha256 = $2 AND status = 'ready' \
                     ORDER BY id LIMIT 1"
                ),
                params![org, sha],
            )?
            .as_ref()
            .map(row_to_media)
            .transpose()
        })
        .await
    }

    /// The `ready` rows with these keys (for an export page); unknown keys are simply absent.
    pub async fn media_by_keys(&self, org: OrgId, keys: Vec<String>) -> StoreResult<Vec<MediaRow>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        self.read_tx(move |tx| {
            let mut out = Vec::new();
            for chunk in keys.chunks(200) {
                let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
                let mut ps = vec![Param::from(org)];
                ps.extend(chunk.iter().map(Param::from));
                for r in tx.query(
                    &format!(
                        "SELECT {COLUMNS} FROM media WHERE org_id = $1 AND status = 'ready' AND media_key IN ({})",
                        marks.join(", ")
                    ),
                    &ps,
                )? {
                    out.push(row_to_media(&r)?);
                }
            }
            Ok(out)
        })
        .await
    }

    /// The organization's `ready` media, newest first, `limit` at a time below id `before` (a key walk).
    pub async fn media_list(
        &self,
        org: OrgId,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<MediaRow>> {
        self.read_tx(move |tx| {
            tx.query(
                &format!(
                    "SELECT {COLUMNS} FROM media WHERE org_id = $1 AND status = 'ready' AND id < $2 \
                     ORDER BY id DESC LIMIT $3"
                ),
                params![org, before.unwrap_or(i64::MAX), limit],
            )?
            .iter()
            .map(row_to_media)
            .collect()
        })
        .await
    }

    /// Records that items of `project` refer to these media (idempotent).
    pub async fn media_add_refs(
        &self,
        org: OrgId,
        project: ProjectId,
        media_ids: Vec<i64>,
    ) -> StoreResult<()> {
        if media_ids.is_empty() {
            return Ok(());
        }
        self.write_tx(move |tx| {
            for id in media_ids {
                // The media row must be the organization's own: the insert selects it under that condition.
                tx.execute(
                    "INSERT INTO media_refs (org_id, project_id, media_id) \
                     SELECT $1, $2, id FROM media WHERE org_id = $1 AND id = $3 \
                     ON CONFLICT (media_id, project_id) DO NOTHING",
                    params![org, project, id],
                )?;
            }
            Ok(())
        })
        .await
    }

    /// Whether `worker` may read media `media_id`: some project of the organization refers to it and the worker
    /// has taken work there (any assignment, open or closed, so their past work keeps its pictures).
    pub async fn media_worker_may_read(
        &self,
        org: OrgId,
        worker: UserId,
        media_id: i64,
    ) -> StoreResult<bool> {
        self.read_tx(move |tx| {
            Ok(tx
                .query_opt(
                    "SELECT 1 FROM media_refs r WHERE r.org_id = $1 AND r.media_id = $2 AND EXISTS \
                     (SELECT 1 FROM assignments a WHERE a.worker_id = $3 AND a.project_id = r.project_id \
                      AND a.org_id = $1)",
                    params![org, media_id, worker],
                )?
                .is_some())
        })
        .await
    }

    /// Deletes the `ready` media `key` of the organization when no item refers to it: the row, the projects'
    /// references to it (left by items that no longer exist or by an import that failed), and a tombstone so the
    /// key is never reused for other content. Answers the deleted row (whose bytes the caller then removes), or
    /// `Conflict media_in_use` naming how many items refer to it, or `NotFound`.
    ///
    /// An item refers to the file when one of its data's top-level values is `KEY` or `media:KEY` in a project
    /// that `media_refs` links to the file (the import writes those links before the items).
    pub async fn media_delete_unreferenced(
        &self,
        org: OrgId,
        key: &str,
        deleted_by: UserId,
        now: Millis,
    ) -> StoreResult<MediaRow> {
        let key = key.to_string();
        self.write_tx(move |tx| {
            let row = tx
                .query_opt(
                    &format!(
                        "SELECT {COLUMNS} FROM media WHERE org_id = $1 AND media_key = $2 AND status = 'ready'{}",
                        tx.for_update()
                    ),
                    params![org, &key],
                )?
                .as_ref()
                .map(row_to_media)
                .transpose()?
                .ok_or(crate::StoreError::NotFound)?;
            // A LIKE narrows the items to those whose data mentions the key; each is then read exactly.
            let pattern = format!(
                "%{}%",
                key.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            let media_value = format!("media:{key}");
            let mut items = 0u64;
            for r in tx.query(
                "SELECT i.data FROM media_refs r JOIN items i ON i.project_id = r.project_id AND i.org_id = r.org_id \
                 WHERE r.org_id = $1 AND r.media_id = $2 AND i.data LIKE $3 ESCAPE '\\'",
                params![org, row.id, pattern],
            )? {
                let data: serde_json::Value =
                    serde_json::from_str(&r.string(0)?).unwrap_or(serde_json::Value::Null);
                let refers = data.as_object().is_some_and(|o| {
                    o.values()
                        .filter_map(serde_json::Value::as_str)
                        .any(|v| v.trim() == key || v.trim() == media_value)
                });
                items += u64::from(refers);
            }
            if items > 0 {
                return Err(conflict(
                    "media_in_use",
                    format!(
                        "{items} item{} refer{} to the media {key:?}; it can be deleted once no item refers to it",
                        if items == 1 { "" } else { "s" },
                        if items == 1 { "s" } else { "" },
                    ),
                ));
            }
            tx.execute(
                "DELETE FROM media_refs WHERE org_id = $1 AND media_id = $2",
                params![org, row.id],
            )?;
            tx.execute(
                "DELETE FROM media WHERE org_id = $1 AND id = $2",
                params![org, row.id],
            )?;
            tx.execute(
                "INSERT INTO media_deleted_keys (org_id, media_key, sha256, deleted_by, deleted_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id, media_key) DO UPDATE SET sha256 = $3, \
                 deleted_by = $4, deleted_at = $5",
                params![org, &key, &row.sha256, deleted_by, now],
            )?;
            Ok(row)
        })
        .await
    }

    /// Pending rows older than `before` (uploads a crash or a failure left behind), at most `limit`.
    pub async fn media_stale_pending(
        &self,
        before: Millis,
        limit: i64,
    ) -> StoreResult<Vec<StalePending>> {
        self.read_tx(move |tx| {
            tx.query(
                "SELECT id, org_id, object_key, thumb_key FROM media WHERE status = 'pending' AND created_at < $1 \
                 ORDER BY created_at LIMIT $2",
                params![before, limit],
            )?
            .iter()
            .map(|r| {
                Ok(StalePending {
                    id: r.i64(0)?,
                    org_id: r.i64(1)?,
                    object_key: r.string(2)?,
                    thumb_key: r.opt_string(3)?,
                })
            })
            .collect()
        })
        .await
    }

    /// The hosts the organization allows media URLs from (empty: none).
    pub async fn media_allowed_hosts(&self, org: OrgId) -> StoreResult<Vec<String>> {
        self.read_tx(move |tx| {
            let json = tx
                .query_opt(
                    "SELECT allowed_hosts FROM media_settings WHERE org_id = $1",
                    params![org],
                )?
                .map(|r| r.string(0))
                .transpose()?;
            Ok(json
                .and_then(|j| serde_json::from_str::<Vec<String>>(&j).ok())
                .unwrap_or_default())
        })
        .await
    }

    /// Replaces the organization's allowed hosts.
    pub async fn set_media_allowed_hosts(
        &self,
        org: OrgId,
        hosts: Vec<String>,
        now: Millis,
    ) -> StoreResult<()> {
        let json = serde_json::to_string(&hosts).expect("a list of strings serializes");
        self.write_tx(move |tx| {
            tx.execute(
                "INSERT INTO media_settings (org_id, allowed_hosts, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (org_id) DO UPDATE SET allowed_hosts = $2, updated_at = $3",
                params![org, json, now],
            )?;
            Ok(())
        })
        .await
    }
}
