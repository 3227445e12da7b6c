//! Configuration: defaults < config file < `FAIRLOOP_*` environment < flags.
//!
//! clap reads the environment and the flags (each storage flag has an `env` name); the file is
//! `fairloop.toml` in the data directory, or the path in `--config`. The merged [`Config`] is passed down
//! explicitly; nothing reads a global.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use fairloop_app::AppConfig;
use serde::Deserialize;

/// Storage and server flags shared by every subcommand that touches the database.
#[derive(Debug, Clone, Args)]
pub struct StorageArgs {
    /// Data directory: the SQLite database, spooled uploads and the config file.
    #[arg(
        long,
        env = "FAIRLOOP_DATA_DIR",
        default_value = "./fairloop-data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Database URL; `postgres://…` switches to PostgreSQL (default: SQLite in the data directory).
    #[arg(long, env = "FAIRLOOP_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Config file (default: DATA_DIR/fairloop.toml when it exists).
    #[arg(long, env = "FAIRLOOP_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Where media bytes go: `s3://bucket/prefix` (credentials from the usual AWS_* variables) or
    /// `file:///path` (default: DATA_DIR/media).
    #[arg(long, env = "FAIRLOOP_MEDIA_URL", global = true)]
    pub media_url: Option<String>,
}

/// The config file's contents; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Address to listen on.
    pub listen: Option<String>,
    /// Database URL.
    pub database_url: Option<String>,
    /// Largest import body in bytes.
    pub max_import_bytes: Option<u64>,
    /// Longest line of an import file in bytes.
    pub max_line_bytes: Option<usize>,
    /// Platform fee on funding, in basis points.
    pub platform_fee_bps: Option<u32>,
    /// Hosts outgoing webhooks may be delivered to (names, `*.suffix`, addresses, ranges); none: webhooks off.
    pub webhook_allowed_hosts: Option<Vec<String>>,
    /// Where media bytes go (`s3://bucket/prefix` or `file:///path`).
    pub media_url: Option<String>,
    /// Largest media upload in bytes.
    pub max_media_bytes: Option<u64>,
    /// Most pixels an uploaded image may declare.
    pub max_image_pixels: Option<u64>,
    /// Make video posters with ffmpeg when it is on the PATH (else a placeholder).
    pub video_posters_with_ffmpeg: Option<bool>,
    /// The platform's wellbeing defaults (docs/wellbeing.md).
    #[serde(default)]
    pub wellbeing: WellbeingFile,
}

/// `[wellbeing]` in the config file; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WellbeingFile {
    /// Sensitive items of one category a worker may be handed per UTC day (projects may only lower it).
    pub daily_exposure_limit: Option<i64>,
    /// Minutes of active time before a break reminder (0: none), unless a project sets its own.
    pub break_after_minutes: Option<i64>,
    /// Support resources (Markdown) shown to workers, unless a project sets its own.
    pub support: Option<String>,
}

/// The merged configuration.
#[derive(Clone)]
pub struct Config {
    /// Data directory.
    pub data_dir: PathBuf,
    /// Database URL (always set after merging).
    pub database_url: String,
    /// Address to listen on.
    pub listen: String,
    /// Use-case limits.
    pub app: AppConfig,
    /// Media storage URL (`None`: DATA_DIR/media).
    pub media_url: Option<String>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password.
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact(&self.database_url))
            .field("listen", &self.listen)
            .field("app", &self.app)
            .field("media_url", &self.media_url)
            .finish()
    }
}

/// Hides the password of a URL like `postgres://user:secret@host/db`.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl Config {
    /// Merges the layers. `listen_flag` is the subcommand's `--listen` (flag or `FAIRLOOP_LISTEN`).
    pub fn load(storage: &StorageArgs, listen_flag: Option<&str>) -> Result<Config> {
        let file_path = storage
            .config
            .clone()
            .unwrap_or_else(|| storage.data_dir.join("fairloop.toml"));
        let file = read_file_config(&file_path, storage.config.is_some())?;
        let defaults = AppConfig::default();
        std::fs::create_dir_all(&storage.data_dir).with_context(|| {
            format!("creating the data directory {}", storage.data_dir.display())
        })?;
        let database_url = storage
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| fairloop_store::sqlite_url_in(&storage.data_dir));
        Ok(Config {
            data_dir: storage.data_dir.clone(),
            database_url,
            listen: listen_flag
                .map(String::from)
                .or(file.listen)
                .unwrap_or_else(|| "127.0.0.1:8080".into()),
            app: AppConfig {
                max_import_bytes: file.max_import_bytes.unwrap_or(defaults.max_import_bytes),
                max_line_bytes: file.max_line_bytes.unwrap_or(defaults.max_line_bytes),
                platform_fee_bps: match file.platform_fee_bps {
                    Some(bps) if bps > 5_000 => bail!(
                        "platform_fee_bps in {} is {bps}; it is in basis points (500 = 5 %) and at most 5000",
                        file_path.display()
                    ),
                    Some(bps) => bps,
                    None => defaults.platform_fee_bps,
                },
                webhooks: fairloop_app::webhooks::WebhookConfig {
                    allowed_hosts: file.webhook_allowed_hosts.unwrap_or_default(),
                    ..defaults.webhooks.clone()
                },
                media: fairloop_app::media::MediaConfig {
                    max_upload_bytes: file
                        .max_media_bytes
                        .unwrap_or(defaults.media.max_upload_bytes),
                    max_image_pixels: file
                        .max_image_pixels
                        .unwrap_or(defaults.media.max_image_pixels),
                    use_ffmpeg: file
                        .video_posters_with_ffmpeg
                        .unwrap_or(defaults.media.use_ffmpeg),
                },
                wellbeing: wellbeing_config(file.wellbeing, defaults.wellbeing.clone())?,
                ..defaults
            },
            media_url: storage.media_url.clone().or(file.media_url),
        })
    }

    /// The media store the configuration names (S3 or a directory; default DATA_DIR/media).
    pub fn media_store(&self) -> Result<fairloop_media::MediaStore> {
        fairloop_media::MediaStore::from_url(
            self.media_url.as_deref(),
            &self.data_dir.join("media"),
        )
        .with_context(|| {
            format!(
                "opening the media storage {}",
                self.media_url.as_deref().unwrap_or("(DATA_DIR/media)")
            )
        })
    }

    /// Where uploads are spooled.
    pub fn tmp_dir(&self) -> Result<PathBuf> {
        let dir = self.data_dir.join("tmp");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(dir)
    }
}

fn wellbeing_config(
    file: WellbeingFile,
    defaults: fairloop_app::wellbeing::WellbeingDefaults,
) -> Result<fairloop_app::wellbeing::WellbeingDefaults> {
    let limit = file
        .daily_exposure_limit
        .unwrap_or(defaults.daily_exposure_limit);
    if limit < 1 {
        bail!("wellbeing.daily_exposure_limit must be at least 1, got {limit}");
    }
    let minutes = file
        .break_after_minutes
        .unwrap_or(defaults.break_after_minutes);
    if !(0..=fairloop_app::wellbeing::MAX_BREAK_MINUTES).contains(&minutes) {
        bail!(
            "wellbeing.break_after_minutes must be 0 to {}, got {minutes}",
            fairloop_app::wellbeing::MAX_BREAK_MINUTES
        );
    }
    Ok(fairloop_app::wellbeing::WellbeingDefaults {
        daily_exposure_limit: limit,
        break_after_minutes: minutes,
        support: file
            .support
            .filter(|s| !s.trim().is_empty())
            .unwrap_or(defaults.support),
    })
}

fn read_file_config(path: &Path, required: bool) -> Result<FileConfig> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text)
            .with_context(|| format!("reading the config file {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            Ok(FileConfig::default())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("the config file {} does not exist", path.display())
        }
        Err(e) => Err(e).with_context(|| format!("reading the config file {}", path.display())),
    }
}

/// The commented example printed by `fairloop default-config`.
pub const DEFAULT_CONFIG: &str = r#"# Fairloop configuration: DATA_DIR/fairloop.toml (or --config FILE).
# Precedence: built-in defaults < this file < FAIRLOOP_* environment variables < command-line flags.

# Address the server listens on (FAIRLOOP_LISTEN, --listen).
listen = "127.0.0.1:8080"

# Storage. Default: SQLite in the data directory. A postgres:// URL switches to PostgreSQL, where several
# `fairloop serve` processes can share one database (FAIRLOOP_DATABASE_URL, --database-url).
# database_url = "postgres://fairloop:secret@127.0.0.1:5432/fairloop"

# Largest accepted import upload, in bytes (a larger body gets 413).
max_import_bytes = 1073741824

# Longest single line of an import file, in bytes (a longer line is reported as a bad line).
max_line_bytes = 1048576

# The platform's fee, in basis points of each funding (500 = 5 %, at most 5000). It is taken when an organization
# funds its budget and shows on its invoice; workers' pay is never reduced by it. 0 charges nothing.
platform_fee_bps = 0

# Hosts that organizations' outgoing webhooks may be delivered to. Empty: webhooks are off. Entries are host
# names ("hooks.example.com"), wildcards ("*.example.com": its subdomains), addresses and ranges ("203.0.113.7",
# "10.1.0.0/16"). A loopback, private or reserved address is refused even behind a listed name unless the
# address itself is listed.
webhook_allowed_hosts = []

# Media (images, videos, audio). Default: files under DATA_DIR/media. An s3:// URL stores them in an
# S3-compatible bucket instead (FAIRLOOP_MEDIA_URL, --media-url), with credentials and endpoint from the usual
# AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT (for non-AWS services) and
# AWS_ALLOW_HTTP=true (plain-http endpoints) variables. Several `serve` processes can share one bucket.
# media_url = "s3://my-bucket/fairloop-media"

# Largest media upload, in bytes (a larger one gets 413).
max_media_bytes = 1073741824

# Most pixels (width x height) an uploaded image may declare; larger ones, and decompression bombs, are refused
# before they are decoded.
max_image_pixels = 50000000

# Video posters: a frame made by ffmpeg when it is on the PATH; false (or no ffmpeg) uses a neutral placeholder
# that shows the video's size and duration.
video_posters_with_ffmpeg = true
# Worker wellbeing (docs/wellbeing.md).
[wellbeing]
# Sensitive items of one category a worker may be handed per UTC day. A project may set a lower limit, never a
# higher one.
daily_exposure_limit = 40
# Minutes of active time (measured by the workbench's heartbeats) before it suggests a break; 0 turns
# reminders off. A project may set its own.
break_after_minutes = 50
# Support resources shown on project pages and in the workbench (Markdown), unless a project sets its own.
# support = "Our wellbeing team: [wellbeing@example.com](mailto:wellbeing@example.com)"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_printed_default_config_parses_and_passwords_are_redacted() {
        let parsed: FileConfig = toml::from_str(DEFAULT_CONFIG).unwrap();
        assert_eq!(parsed.listen.as_deref(), Some("127.0.0.1:8080"));
        assert_eq!(parsed.max_media_bytes, Some(1 << 30));
        assert_eq!(parsed.max_image_pixels, Some(50_000_000));
        assert_eq!(redact("postgres://u:pw@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
    }
}
