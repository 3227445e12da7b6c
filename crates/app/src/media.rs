//! Media use cases: upload, read with access checks, the organization's allowed URL hosts, and the clean-up job.
//!
//! An upload arrives as a spooled file (the web layer streams the body to disk under the size limit). It is
//! judged by its bytes ([`fairloop_media::probe`]: type, pixel limit, full decode, codec), then stored in three
//! steps so that nothing broken is ever visible: a `pending` row reserves the key, the bytes and the thumbnail
//! go to the [`MediaStore`], and the row turns `ready`. A failure at any step removes what the earlier steps
//! made; a crash between them leaves a `pending` row that [`MediaJanitor`] removes with its bytes an hour later.
//!
//! Reading is tenant-scoped: admins, requesters and reviewers read their organization's media; a worker reads a
//! file only when a project they have taken work in refers to it (see `media_refs`, written at import by
//! [`MediaChecker`]); another organization's key is not found.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use fairloop_domain::media::{MediaRef, check_key, host_allowed, normalize_allowed_host};
use fairloop_domain::template::{FieldKind, TaskTemplate};
use fairloop_domain::time::{Millis, now_millis, to_rfc3339};
use fairloop_domain::{OrgId, ProjectId, Role};
use fairloop_media::store::ByteRange;
use fairloop_media::{MediaError, MediaRead, MediaStore, ObjectKey, ProbeLimits};
use fairloop_store::media::{MediaRow, NewMedia};
use fairloop_store::{Principal, Store};
use serde::Serialize;

use crate::projects::require_manager;
use crate::{App, AppError, AppResult};

/// Most hosts an organization may allow.
pub const MAX_ALLOWED_HOSTS: usize = 100;
/// How long a `pending` row may wait for its bytes before the janitor removes it.
pub const PENDING_GRACE: Duration = Duration::from_secs(3600);

/// Limits of the media path, from the server configuration.
#[derive(Debug, Clone)]
pub struct MediaConfig {
    /// Largest upload in bytes (413 above).
    pub max_upload_bytes: u64,
    /// Most pixels an image may declare.
    pub max_image_pixels: u64,
    /// Make video posters with ffmpeg when it is on the PATH.
    pub use_ffmpeg: bool,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            max_upload_bytes: 1 << 30,
            max_image_pixels: 50_000_000,
            use_ffmpeg: true,
        }
    }
}

/// A media file as the API and the console show it.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct MediaView {
    /// The key items use (`media:KEY` or `KEY`).
    pub key: String,
    /// `image`, `video` or `audio`.
    pub kind: String,
    /// The type read from the bytes.
    pub content_type: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// SHA-256 of the bytes (hex); also the `ETag`.
    pub sha256: String,
    /// Width in pixels (images, most videos).
    pub width: Option<i64>,
    /// Height in pixels.
    pub height: Option<i64>,
    /// Duration in seconds (videos, some audio).
    pub duration_seconds: Option<f64>,
    /// Frames per second (videos, when the container says).
    pub fps: Option<f64>,
    /// Video codec (`h264`, `vp8`, `vp9`, `av1`).
    pub codec: Option<String>,
    /// The name the uploader's file had.
    pub original_name: Option<String>,
    /// Upload time (RFC 3339 UTC).
    pub created_at: String,
    /// Where the signed-in browser reads it.
    pub url: String,
    /// Its thumbnail (images) or poster (videos).
    pub thumbnail_url: Option<String>,
}

/// The path of a key under `/media/`, each part percent-encoded (keys are ASCII-safe already, so this is a
/// formality kept in one place).
pub fn media_path(key: &str) -> String {
    format!("/media/{key}")
}

impl From<&MediaRow> for MediaView {
    fn from(m: &MediaRow) -> Self {
        MediaView {
            key: m.key.clone(),
            kind: m.kind.clone(),
            content_type: m.content_type.clone(),
            size_bytes: m.size_bytes,
            sha256: m.sha256.clone(),
            width: m.width,
            height: m.height,
            duration_seconds: m.duration_seconds,
            fps: m.fps,
            codec: m.codec.clone(),
            original_name: m.original_name.clone(),
            created_at: to_rfc3339(m.created_at),
            url: media_path(&m.key),
            thumbnail_url: m
                .thumb_key
                .as_ref()
                .map(|_| format!("{}/thumb", media_path(&m.key))),
        }
    }
}

/// What the uploader said about a file besides its bytes.
#[derive(Debug, Clone, Default)]
pub struct UploadRequest {
    /// The key to use; `None` picks one (`m-…` with the type's extension).
    pub key: Option<String>,
    /// The client's file name (kept for the console; never used to decide anything).
    pub original_name: Option<String>,
}

/// The result of an upload.
#[derive(Debug, Clone)]
pub struct Uploaded {
    /// The file as stored.
    pub media: MediaView,
    /// False when the same bytes were already stored under this key (or, without a key, under any key): the
    /// upload was a no-op.
    pub created: bool,
}

/// Turns a refusal of the media crate into the use-case error (422 with the crate's code).
pub fn media_error(e: MediaError) -> AppError {
    match e.code() {
        Some(code) => AppError::invalid(code, e.to_string()),
        None if matches!(e, MediaError::NotFound) => AppError::NotFound("media"),
        None => AppError::Internal(e.to_string()),
    }
}

fn may_read_all(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Requester | Role::Reviewer)
}

impl App {
    /// Uses `media` as the place for media bytes (the CLI passes the configured store; tests a temporary one).
    pub fn with_media(mut self, media: MediaStore) -> App {
        self.media = media;
        self
    }

    /// The media store (for jobs and tests).
    pub fn media_store(&self) -> &MediaStore {
        &self.media
    }

    /// Stores an uploaded file that the web layer spooled to `spool` (see the module docs for the steps).
    pub async fn upload_media(
        &self,
        principal: &Principal,
        spool: &Path,
        request: UploadRequest,
    ) -> AppResult<Uploaded> {
        require_manager(principal)?;
        if let Some(k) = &request.key {
            check_key(k).map_err(|m| AppError::bad_request("invalid_media_key", m))?;
        }
        let org = principal.org_id;
        let len = std::fs::metadata(spool)
            .map_err(|e| AppError::Internal(format!("reading the spooled upload: {e}")))?
            .len();
        if len > self.config.media.max_upload_bytes {
            return Err(AppError::PayloadTooLarge {
                limit: self.config.media.max_upload_bytes,
            });
        }
        let limits = ProbeLimits {
            max_image_pixels: self.config.media.max_image_pixels,
            use_ffmpeg: self.config.media.use_ffmpeg,
            ..ProbeLimits::default()
        };
        let path = spool.to_path_buf();
        let (probed, (sha256, size)) = tokio::task::spawn_blocking(move || {
            let sha = fairloop_media::sha256_file(&path)?;
            let probed = fairloop_media::probe(&path, &limits)?;
            Ok::<_, MediaError>((probed, sha))
        })
        .await
        .map_err(|e| AppError::Internal(format!("media probe task: {e}")))?
        .map_err(media_error)?;
        // The same bytes again: under the same key, or without a key, the upload is a no-op.
        let existing = match &request.key {
            Some(k) => self.store.media_by_key_any(org, k).await?,
            None => self.store.media_by_sha256(org, &sha256).await?,
        };
        if let Some(m) = existing {
            if m.sha256 == sha256 && m.status == "ready" {
                return Ok(Uploaded {
                    media: MediaView::from(&m),
                    created: false,
                });
            }
            if request.key.is_some() {
                return Err(AppError::Conflict {
                    code: "media_key_taken",
                    message: format!(
                        "the media key {:?} is already used in this organization for other content; choose \
                         another key",
                        m.key
                    ),
                });
            }
        }
        let object = ObjectKey::generate(org);
        let key = match request.key {
            Some(k) => k,
            None => format!(
                "m-{}.{}",
                &object.as_str()[object.as_str().len() - 16..],
                probed.format.extension()
            ),
        };
        let thumb = probed.thumbnail.as_ref().map(|_| object.thumbnail());
        let row = self
            .store
            .media_reserve(NewMedia {
                org_id: org,
                key,
                object_key: object.as_str().to_string(),
                thumb_key: thumb.as_ref().map(|t| t.as_str().to_string()),
                thumb_content_type: probed
                    .thumbnail
                    .as_ref()
                    .map(|t| t.content_type.to_string()),
                kind: probed.format.kind().as_str().to_string(),
                content_type: probed.format.content_type().to_string(),
                size_bytes: size as i64,
                sha256,
                width: probed.width.map(i64::from),
                height: probed.height.map(i64::from),
                duration_seconds: probed.duration,
                fps: probed.fps,
                codec: probed.codec.clone(),
                original_name: request
                    .original_name
                    .map(|n| n.chars().filter(|c| !c.is_control()).take(255).collect()),
                created_by: principal.user_id,
                created_at: now_millis(),
            })
            .await?;
        let stored = async {
            self.media.put_file(&object, spool).await?;
            if let (Some(t), Some(k)) = (probed.thumbnail, &thumb) {
                self.media.put_bytes(k, t.bytes).await?;
            }
            Ok::<_, MediaError>(())
        }
        .await;
        let ready = match stored {
            Ok(()) => self
                .store
                .media_mark_ready(org, row.id)
                .await
                .map_err(AppError::from),
            Err(e) => Err(media_error(e)),
        };
        if let Err(e) = ready {
            // Undo in reverse: bytes first, then the row, so a row never outlives its bytes.
            let _ = self.media.delete(&object).await;
            if let Some(t) = &thumb {
                let _ = self.media.delete(t).await;
            }
            if let Err(undo) = self.store.media_remove_pending(org, row.id).await {
                tracing::error!(error = %undo, media = row.id, "could not remove a failed upload's row; the janitor will");
            }
            return Err(e);
        }
        Ok(Uploaded {
            media: MediaView::from(&MediaRow {
                status: "ready".into(),
                ..row
            }),
            created: true,
        })
    }

    /// The organization's media, newest first (managers and reviewers).
    pub async fn list_media(
        &self,
        principal: &Principal,
        before: Option<i64>,
        limit: i64,
    ) -> AppResult<Vec<(i64, MediaView)>> {
        if !may_read_all(principal.role) {
            return Err(AppError::forbidden(
                "listing the organization's media needs the admin, requester or reviewer role",
            ));
        }
        Ok(self
            .store
            .media_list(principal.org_id, before, limit.clamp(1, 500))
            .await?
            .iter()
            .map(|m| (m.id, MediaView::from(m)))
            .collect())
    }

    /// The row of `key` if the caller may read it; 404 otherwise (also for other organizations' keys, so a
    /// key's existence does not leak).
    pub async fn media_for_reading(&self, principal: &Principal, key: &str) -> AppResult<MediaRow> {
        if check_key(key).is_err() {
            return Err(AppError::NotFound("media"));
        }
        let row = self
            .store
            .media_by_key(principal.org_id, key)
            .await?
            .ok_or(AppError::NotFound("media"))?;
        if may_read_all(principal.role)
            || self
                .store
                .media_worker_may_read(principal.org_id, principal.user_id, row.id)
                .await?
        {
            Ok(row)
        } else {
            Err(AppError::NotFound("media"))
        }
    }

    /// Opens the bytes (or the thumbnail) of a readable media row, optionally a range of them.
    pub async fn read_media(
        &self,
        row: &MediaRow,
        thumbnail: bool,
        range: Option<ByteRange>,
    ) -> AppResult<MediaRead> {
        let key = if thumbnail {
            row.thumb_key
                .as_deref()
                .ok_or(AppError::NotFound("thumbnail"))?
        } else {
            &row.object_key
        };
        let key = ObjectKey::parse(key).map_err(|e| AppError::Internal(e.to_string()))?;
        self.media.get(&key, range).await.map_err(|e| match e {
            MediaError::NotFound => {
                AppError::Internal(format!("media {} has a row but no bytes", row.id))
            }
            other => media_error(other),
        })
    }

    /// Deletes the media `key` of the caller's organization (admins and requesters): refused with `409
    /// media_in_use`, naming how many items refer to it, while any item does; otherwise the row goes first (so
    /// no row ever outlives its bytes), then the bytes and the thumbnail or poster from the store (local or S3).
    /// The key stays reserved for the same content (see `media_deleted_keys`). Another organization's key is
    /// `404` like a missing one.
    pub async fn delete_media(&self, principal: &Principal, key: &str) -> AppResult<MediaView> {
        require_manager(principal)?;
        if check_key(key).is_err() {
            return Err(AppError::NotFound("media"));
        }
        let row = self
            .store
            .media_delete_unreferenced(principal.org_id, key, principal.user_id, now_millis())
            .await
            .map_err(|e| match e {
                fairloop_store::StoreError::NotFound => AppError::NotFound("media"),
                other => AppError::from(other),
            })?;
        let mut keys = vec![row.object_key.clone()];
        keys.extend(row.thumb_key.clone());
        for k in keys {
            let deleted = match ObjectKey::parse(&k) {
                Ok(k) => self.media.delete(&k).await,
                Err(e) => Err(e),
            };
            match deleted {
                Ok(()) | Err(MediaError::NotFound) => {}
                // The row is gone, so nothing can reach these bytes; they only cost space. Said in the log.
                Err(e) => {
                    tracing::error!(error = %e, object = %k, media = row.id, "could not remove a deleted media file's bytes")
                }
            }
        }
        Ok(MediaView::from(&row))
    }

    /// The hosts the caller's organization allows media URLs from.
    pub async fn allowed_media_hosts(&self, principal: &Principal) -> AppResult<Vec<String>> {
        Ok(self.store.media_allowed_hosts(principal.org_id).await?)
    }

    /// Replaces the organization's allowed media hosts (admins and requesters); answers the stored list.
    pub async fn set_allowed_media_hosts(
        &self,
        principal: &Principal,
        hosts: Vec<String>,
    ) -> AppResult<Vec<String>> {
        require_manager(principal)?;
        let mut clean: Vec<String> = Vec::new();
        for (i, h) in hosts.iter().enumerate() {
            if h.trim().is_empty() {
                continue;
            }
            let n = normalize_allowed_host(h).map_err(|m| AppError::Invalid {
                code: "invalid_host",
                message: format!("allowed_hosts[{i}]: {m}"),
                details: Some(serde_json::json!({"field": format!("allowed_hosts[{i}]")})),
            })?;
            if !clean.contains(&n) {
                clean.push(n);
            }
        }
        if clean.len() > MAX_ALLOWED_HOSTS {
            return Err(AppError::invalid(
                "invalid_host",
                format!(
                    "allowed_hosts lists {} hosts; at most {MAX_ALLOWED_HOSTS}",
                    clean.len()
                ),
            ));
        }
        self.store
            .set_media_allowed_hosts(principal.org_id, clean.clone(), now_millis())
            .await?;
        Ok(clean)
    }

    /// A checker for the media references of items imported into `project`, or `None` when the template shows
    /// no media (then imports pay nothing for it).
    pub(crate) async fn media_checker(
        &self,
        org: OrgId,
        project: ProjectId,
        template: &TaskTemplate,
    ) -> AppResult<Option<MediaChecker>> {
        let fields: Vec<(String, FieldKind)> = template
            .fields
            .iter()
            .filter(|f| {
                matches!(
                    f.kind,
                    FieldKind::Image | FieldKind::Video | FieldKind::Audio
                )
            })
            .map(|f| (f.source().to_string(), f.kind))
            .collect();
        if fields.is_empty() {
            return Ok(None);
        }
        Ok(Some(MediaChecker {
            org,
            project,
            fields,
            allowed_hosts: self.store.media_allowed_hosts(org).await?,
            store: self.store.clone(),
            handle: tokio::runtime::Handle::current(),
            known: HashMap::new(),
            seen: HashSet::new(),
            unsaved: Vec::new(),
        }))
    }
}

/// Checks the media references of imported items, line by line, on the import's blocking thread: URLs must be
/// on an allowed host, keys must name a ready file of the organization of the field's kind. It remembers the
/// media the items refer to, so the import can record them ([`MediaChecker::save_refs`]) before the items become
/// visible to workers.
pub(crate) struct MediaChecker {
    org: OrgId,
    project: ProjectId,
    fields: Vec<(String, FieldKind)>,
    allowed_hosts: Vec<String>,
    store: Arc<dyn Store>,
    handle: tokio::runtime::Handle,
    /// Keys looked up so far: (id, kind) or absent.
    known: HashMap<String, Option<(i64, String)>>,
    seen: HashSet<i64>,
    unsaved: Vec<i64>,
}

impl MediaChecker {
    /// Checks one item's data; the error names the data key.
    pub(crate) fn check(
        &mut self,
        data: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), String> {
        for i in 0..self.fields.len() {
            let (source, kind) = (&self.fields[i].0, self.fields[i].1);
            let Some(value) = data.get(source).and_then(|v| v.as_str()) else {
                continue; // Missing or null: the template's own check has spoken.
            };
            let source = source.clone();
            match MediaRef::parse(value).map_err(|m| format!("data.{source}: {m}"))? {
                MediaRef::Url { host, .. } => {
                    if !host_allowed(&host, &self.allowed_hosts) {
                        return Err(format!(
                            "data.{source}: the host {host:?} is not among the organization's allowed media hosts; \
                             add it in the project's Media page (or PUT /api/v1/media/settings), or upload the \
                             file and use its key"
                        ));
                    }
                }
                MediaRef::Key(key) => {
                    if !self.known.contains_key(key) {
                        let found = self
                            .handle
                            .block_on(self.store.media_by_key(self.org, key))
                            .map_err(|e| {
                                format!("data.{source}: looking the media key up failed: {e}")
                            })?
                            .map(|m| (m.id, m.kind));
                        if self.known.len() > 100_000 {
                            self.known.clear();
                        }
                        self.known.insert(key.to_string(), found);
                    }
                    match &self.known[key] {
                        None => {
                            return Err(format!(
                                "data.{source}: no media with the key {key:?} in this organization; upload it \
                                 first (POST /api/v1/media or the project's Media page) or check the spelling"
                            ));
                        }
                        Some((_, k)) if k != kind.as_str() => {
                            return Err(format!(
                                "data.{source}: the media {key:?} is {} {k}, but the template shows this field as \
                                 {} {}",
                                article(k),
                                article(kind.as_str()),
                                kind.as_str()
                            ));
                        }
                        Some((id, _)) => {
                            if self.seen.insert(*id) {
                                self.unsaved.push(*id);
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Records the media seen since the last call as referred to by the project. Called from the blocking
    /// thread before the items that refer to them are written.
    pub(crate) fn save_refs(&mut self) -> AppResult<()> {
        if self.unsaved.is_empty() {
            return Ok(());
        }
        let ids = std::mem::take(&mut self.unsaved);
        self.handle
            .block_on(self.store.media_add_refs(self.org, self.project, ids))?;
        Ok(())
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// Removes uploads that never finished (a `pending` row older than [`PENDING_GRACE`]) together with any bytes
/// they got, so no bytes are left without a row and no row without its bytes.
#[derive(Debug, Clone)]
pub struct MediaJanitor {
    app: App,
}

impl MediaJanitor {
    /// A janitor over the application's store and media store.
    pub fn new(app: App) -> MediaJanitor {
        MediaJanitor { app }
    }

    /// One bounded step at time `now`: removes up to 100 stale uploads; answers how many.
    pub async fn try_run_one(&self, now: Millis) -> AppResult<usize> {
        let before = now - PENDING_GRACE.as_millis() as i64;
        let stale = self.app.store.media_stale_pending(before, 100).await?;
        let mut removed = 0;
        for s in stale {
            let mut ok = true;
            let mut keys = vec![s.object_key.clone()];
            keys.extend(s.thumb_key.clone());
            for key in keys {
                let deleted = match ObjectKey::parse(&key) {
                    Ok(k) => self.app.media.delete(&k).await,
                    Err(e) => Err(e),
                };
                if let Err(e) = deleted {
                    tracing::warn!(error = %e, media = s.id, "could not remove an abandoned upload's bytes");
                    ok = false;
                }
            }
            if ok {
                self.app.store.media_remove_pending(s.org_id, s.id).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Runs forever, one step per period.
    pub async fn run(self, period: Duration) {
        loop {
            if let Err(e) = self.try_run_one(now_millis()).await {
                tracing::error!(error = %e, "media clean-up failed");
            }
            tokio::time::sleep(period).await;
        }
    }
}
