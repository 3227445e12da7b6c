//! The [`MediaStore`]: where media bytes live, over local files or S3-compatible storage.
//!
//! One interface over `object_store`, so the server holds no state of its own beyond the database and this
//! store, and several `serve` processes can share one bucket. Object names are made by the server
//! ([`ObjectKey::generate`]: the organization's number and 128 random bits), never from a file name or any other
//! user input, so no upload can reach outside its place or overwrite another. Writes stream from a local file
//! (multipart above a few megabytes) and reads stream out, with byte ranges for video seeking.
//!
//! Local files are synced to disk after they are written, so a row that says "ready" in the database (written
//! with a synchronous commit afterwards) never points at bytes a power cut could take back.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload};
use tokio::io::AsyncWriteExt;

use crate::MediaError;

/// The name of an object in the store, made by the server.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// A fresh, unguessable name for an object of organization `org`: `org-ORG/32 hex digits`.
    pub fn generate(org: i64) -> ObjectKey {
        let bits: u128 = rand::random();
        ObjectKey(format!("org-{org}/{bits:032x}"))
    }

    /// A name read back from the database. Refuses anything [`ObjectKey::generate`] would not have made, so a
    /// tampered row cannot point the store elsewhere.
    pub fn parse(s: &str) -> Result<ObjectKey, MediaError> {
        let ok = s
            .strip_prefix("org-")
            .and_then(|rest| rest.split_once('/'))
            .is_some_and(|(org, name)| {
                !org.is_empty()
                    && org.bytes().all(|b| b.is_ascii_digit())
                    && !name.is_empty()
                    && name.len() <= 64
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() || b == b'.' || b.is_ascii_lowercase())
                    && !name.contains("..")
            });
        if ok {
            Ok(ObjectKey(s.to_string()))
        } else {
            Err(MediaError::Store(format!("not a media object name: {s:?}")))
        }
    }

    /// The name of this object's thumbnail (or poster).
    pub fn thumbnail(&self) -> ObjectKey {
        ObjectKey(format!("{}.thumb", self.0))
    }

    /// The name as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn path(&self) -> ObjectPath {
        ObjectPath::from(self.0.as_str())
    }
}

/// Which bytes of an object to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `start..end` (end exclusive).
    Bounded(u64, u64),
    /// From `start` to the end.
    From(u64),
    /// The last `n` bytes.
    Suffix(u64),
}

/// An object being read: its total size, the bytes returned, and their stream.
pub struct MediaRead {
    /// Size of the whole object.
    pub total: u64,
    /// The byte range the stream carries.
    pub range: Range<u64>,
    /// The bytes.
    pub stream: BoxStream<'static, Result<Bytes, MediaError>>,
}

impl std::fmt::Debug for MediaRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaRead")
            .field("total", &self.total)
            .field("range", &self.range)
            .finish()
    }
}

/// Where media bytes live. Cheap to clone.
#[derive(Clone)]
pub struct MediaStore {
    inner: Option<Arc<dyn ObjectStore>>,
    /// The directory of a local store, to sync written files.
    local_root: Option<PathBuf>,
    describe: String,
}

impl std::fmt::Debug for MediaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaStore")
            .field("at", &self.describe)
            .finish()
    }
}

fn store_err(e: object_store::Error) -> MediaError {
    match e {
        object_store::Error::NotFound { .. } => MediaError::NotFound,
        other => MediaError::Store(other.to_string()),
    }
}

impl MediaStore {
    /// A store that refuses every operation: for processes (and tests) that never touch media bytes.
    pub fn unconfigured() -> MediaStore {
        MediaStore {
            inner: None,
            local_root: None,
            describe: "not configured".into(),
        }
    }

    /// Whether the store can hold bytes (false for [`MediaStore::unconfigured`]).
    pub fn is_configured(&self) -> bool {
        self.inner.is_some()
    }

    /// Files under `dir` (created if missing).
    pub fn local(dir: &Path) -> Result<MediaStore, MediaError> {
        std::fs::create_dir_all(dir)?;
        let dir = dir.canonicalize()?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(&dir)
            .map_err(|e| MediaError::Store(format!("opening {}: {e}", dir.display())))?;
        Ok(MediaStore {
            inner: Some(Arc::new(fs)),
            describe: format!("file://{}", dir.display()),
            local_root: Some(dir),
        })
    }

    /// Memory only (tests of code above the store).
    pub fn memory() -> MediaStore {
        MediaStore {
            inner: Some(Arc::new(object_store::memory::InMemory::new())),
            local_root: None,
            describe: "memory".into(),
        }
    }

    /// S3-compatible storage at `s3://bucket/prefix`, configured by the usual `AWS_*` environment variables
    /// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT` for other services,
    /// `AWS_ALLOW_HTTP=true` for a plain-http endpoint), then by `options` (object_store's `aws_*` keys, e.g.
    /// `("aws_endpoint", "http://127.0.0.1:5055")`).
    #[cfg(feature = "s3")]
    pub fn s3<'a>(
        url: &str,
        options: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<MediaStore, MediaError> {
        use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
        let rest = url.strip_prefix("s3://").ok_or_else(|| {
            MediaError::Store(format!("an S3 media URL starts with s3://, got {url:?}"))
        })?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(MediaError::Store(format!(
                "the media URL {url:?} names no bucket"
            )));
        }
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_http_connector(crate::s3http::RingConnector);
        for (k, v) in options {
            let key: AmazonS3ConfigKey = k
                .parse()
                .map_err(|e| MediaError::Store(format!("S3 option {k:?}: {e}")))?;
            builder = builder.with_config(key, v);
        }
        let s3 = builder
            .build()
            .map_err(|e| MediaError::Store(format!("configuring S3 for {url}: {e}")))?;
        let prefix = prefix.trim_matches('/');
        let inner: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(object_store::prefix::PrefixStore::new(s3, prefix))
        };
        Ok(MediaStore {
            inner: Some(inner),
            local_root: None,
            describe: url.to_string(),
        })
    }

    /// The store a media URL names: none means files under `default_dir`; `file:///path` a directory;
    /// `s3://bucket/prefix` S3 (when built with the `s3` feature).
    pub fn from_url(url: Option<&str>, default_dir: &Path) -> Result<MediaStore, MediaError> {
        match url.map(str::trim).filter(|u| !u.is_empty()) {
            None => MediaStore::local(default_dir),
            Some(u) if u.starts_with("file://") => MediaStore::local(Path::new(&u[7..])),
            #[cfg(feature = "s3")]
            Some(u) if u.starts_with("s3://") => MediaStore::s3(u, []),
            #[cfg(not(feature = "s3"))]
            Some(u) if u.starts_with("s3://") => Err(MediaError::Store(format!(
                "{u}: this fairloop was built without the `s3` feature"
            ))),
            Some(u) => Err(MediaError::Store(format!(
                "unknown media URL {u:?}: use file:///path or s3://bucket/prefix"
            ))),
        }
    }

    /// Where the bytes go, for logs and `fairloop` messages (no secrets: credentials come from the environment).
    pub fn describe(&self) -> &str {
        &self.describe
    }

    fn inner(&self) -> Result<&Arc<dyn ObjectStore>, MediaError> {
        self.inner.as_ref().ok_or_else(|| {
            MediaError::Store("media storage is not configured in this process".into())
        })
    }

    /// Writes the file at `file` as object `key`, streamed (multipart for large files). On failure nothing
    /// is left under `key`.
    pub async fn put_file(&self, key: &ObjectKey, file: &Path) -> Result<(), MediaError> {
        let store = self.inner()?.clone();
        let mut src = tokio::fs::File::open(file).await?;
        let mut w = object_store::buffered::BufWriter::new(store, key.path());
        let copied = async {
            tokio::io::copy(&mut src, &mut w).await?;
            w.shutdown().await
        }
        .await;
        if let Err(e) = copied {
            let _ = w.abort().await;
            let _ = self.delete(key).await;
            return Err(MediaError::Store(format!("writing {}: {e}", key.as_str())));
        }
        self.sync(key).await
    }

    /// Writes small bytes (a thumbnail) as object `key`.
    pub async fn put_bytes(&self, key: &ObjectKey, bytes: Vec<u8>) -> Result<(), MediaError> {
        self.inner()?
            .put(&key.path(), PutPayload::from(bytes))
            .await
            .map_err(store_err)?;
        self.sync(key).await
    }

    /// On a local store, flushes the written file and its directory to disk.
    async fn sync(&self, key: &ObjectKey) -> Result<(), MediaError> {
        let Some(root) = &self.local_root else {
            return Ok(());
        };
        let path = root.join(key.as_str());
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            std::fs::File::open(&path)?.sync_all()?;
            if let Some(dir) = path.parent() {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok(())
        })
        .await
        .map_err(|e| MediaError::Store(format!("syncing: {e}")))??;
        Ok(())
    }

    /// Reads object `key`, or a range of it, as a stream.
    pub async fn get(
        &self,
        key: &ObjectKey,
        range: Option<ByteRange>,
    ) -> Result<MediaRead, MediaError> {
        let options = GetOptions {
            range: range.map(|r| match r {
                ByteRange::Bounded(a, b) => GetRange::Bounded(a..b),
                ByteRange::From(a) => GetRange::Offset(a),
                ByteRange::Suffix(n) => GetRange::Suffix(n),
            }),
            ..GetOptions::default()
        };
        let got = self
            .inner()?
            .get_opts(&key.path(), options)
            .await
            .map_err(store_err)?;
        let (total, range) = (got.meta.size, got.range.clone());
        Ok(MediaRead {
            total,
            range,
            stream: got.into_stream().map(|r| r.map_err(store_err)).boxed(),
        })
    }

    /// The whole object in memory (thumbnails; tests).
    pub async fn get_bytes(&self, key: &ObjectKey) -> Result<Bytes, MediaError> {
        let got = self.inner()?.get(&key.path()).await.map_err(store_err)?;
        got.bytes().await.map_err(store_err)
    }

    /// The size of object `key`.
    pub async fn size(&self, key: &ObjectKey) -> Result<u64, MediaError> {
        Ok(self
            .inner()?
            .head(&key.path())
            .await
            .map_err(store_err)?
            .size)
    }

    /// Removes object `key`; removing one that is not there is not an error.
    pub async fn delete(&self, key: &ObjectKey) -> Result<(), MediaError> {
        match self.inner()?.delete(&key.path()).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(store_err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_keys_are_generated_and_nothing_else_parses() {
        let k = ObjectKey::generate(7);
        assert!(k.as_str().starts_with("org-7/"));
        assert_eq!(ObjectKey::parse(k.as_str()).unwrap(), k);
        assert!(ObjectKey::parse(k.thumbnail().as_str()).is_ok());
        for bad in [
            "../etc/passwd",
            "org-1/../x",
            "org-x/abc",
            "org-1/",
            "/abs",
            "org-1/a b",
        ] {
            assert!(ObjectKey::parse(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_local_store_writes_reads_ranges_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let store = MediaStore::local(&dir.path().join("media")).unwrap();
        let src = dir.path().join("src.bin");
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&src, &data).unwrap();
        let key = ObjectKey::generate(1);
        store.put_file(&key, &src).await.unwrap();
        assert_eq!(store.size(&key).await.unwrap(), data.len() as u64);
        assert_eq!(store.get_bytes(&key).await.unwrap().as_ref(), &data[..]);
        let read = store
            .get(&key, Some(ByteRange::Bounded(1000, 1010)))
            .await
            .unwrap();
        assert_eq!((read.total, read.range.clone()), (200_000, 1000..1010));
        let got: Vec<u8> = read.stream.map(|c| c.unwrap().to_vec()).concat().await;
        assert_eq!(got, &data[1000..1010]);
        store.delete(&key).await.unwrap();
        assert!(matches!(store.size(&key).await, Err(MediaError::NotFound)));
        store.delete(&key).await.unwrap();
        assert!(MediaStore::unconfigured().size(&key).await.is_err());
    }
}
