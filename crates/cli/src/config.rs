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
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password.
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact(&self.database_url))
            .field("listen", &self.listen)
            .field("app", &self.app)
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
                wellbeing: wellbeing_config(file.wellbeing, defaults.wellbeing.clone())?,
                ..defaults
            },
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
        assert_eq!(redact("postgres://u:pw@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
    }
}
