//! Fairloop's use cases, over the [`Store`].
//!
//! Each public method of [`App`] is one thing a user does (create a project, import items, take the next task,
//! submit, export), written once here and called by both the HTTP API and the CLI. This layer checks roles,
//! validates input against the domain rules and turns store outcomes into [`AppError`]s with stable codes;
//! it knows neither HTTP nor SQL. Background jobs (lease expiry) live in [`jobs`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use fairloop_domain::ProjectId;
use fairloop_domain::template::TaskTemplate;
use fairloop_store::Store;

pub mod accounts;
pub mod assessments;
pub mod auth;
pub mod dashboard;
pub mod demo;
mod error;
pub mod export;
pub mod floor;
pub mod guidelines;
pub mod home;
pub mod import;
pub mod interview;
pub mod invitations;
pub mod jobs;
pub mod ledger;
pub mod lifecycle;
pub mod media;
pub mod media_export;
pub mod messages;
pub mod notices;
pub mod onboarding;
pub mod outbound;
pub mod payouts;
pub mod prefetch;
pub mod privacy;
pub mod profiles;
pub mod projects;
pub mod quality;
pub mod quiz;
pub mod review;
pub mod settings;
pub mod statements;
pub mod terms;
pub mod time;
pub mod transparency;
pub mod users;
pub mod vendors;
pub mod webhooks;
pub mod wellbeing;
pub mod work;
mod zipfile;

pub use error::{AppError, AppResult};

/// Refuses text containing U+0000: PostgreSQL cannot store it, and no real name, id or reason needs it, so both
/// backends refuse it the same way instead of one of them failing.
pub(crate) fn reject_nul(field: &str, value: &str) -> AppResult<()> {
    if value.contains('\0') {
        return Err(AppError::invalid(
            "invalid_text",
            format!("{field} must not contain the NUL character (U+0000)"),
        ));
    }
    Ok(())
}

/// Limits and settings the use cases need, passed down from the binary's configuration.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Largest import body (and file) accepted, in bytes.
    pub max_import_bytes: u64,
    /// Longest single line of an import file, in bytes.
    pub max_line_bytes: usize,
    /// Most bad lines listed in an import report (all are counted).
    pub max_reported_errors: usize,
    /// The platform's fee on funding, in basis points (500 = 5 %): taken when an organization funds its budget,
    /// so every later cost (pay, bonuses, top-ups) is exactly what the worker receives. 0 charges nothing.
    pub platform_fee_bps: u32,
    /// Outgoing webhooks: the hosts the platform admin allows, the timeout of an attempt.
    pub webhooks: webhooks::WebhookConfig,
    /// Upload size, pixel limit and posters of media files.
    pub media: media::MediaConfig,
    /// The platform's wellbeing defaults: daily exposure limit, break interval, support text.
    pub wellbeing: wellbeing::WellbeingDefaults,
    /// The screening interview's model endpoint; `None` when the platform runs no interviews.
    pub interview: Option<interview::InterviewConfig>,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            max_import_bytes: 1 << 30,
            max_line_bytes: 1 << 20,
            max_reported_errors: 1000,
            platform_fee_bps: 0,
            webhooks: webhooks::WebhookConfig::default(),
            media: media::MediaConfig::default(),
            wellbeing: wellbeing::WellbeingDefaults::default(),
            interview: None,
        }
    }
}

/// The application: a store, the configuration and small caches shared by every request.
#[derive(Clone, Debug)]
pub struct App {
    /// The storage backend.
    pub store: Arc<dyn Store>,
    /// Limits.
    pub config: AppConfig,
    /// Parsed templates by project: templates do not change after a project is created, and parsing one per
    /// submission would be wasted work on the hottest path.
    templates: Arc<Mutex<HashMap<ProjectId, Arc<TaskTemplate>>>>,
    /// Recently resolved tokens (see [`auth`]): saves a database read on almost every request.
    pub(crate) token_cache:
        Arc<Mutex<HashMap<String, (fairloop_store::Principal, std::time::Instant)>>>,
    /// Quality settings by (organization, project): fixed once a project exists (see [`quality`]).
    pub(crate) quality_settings: Arc<
        Mutex<
            HashMap<(fairloop_domain::OrgId, ProjectId), fairloop_store::quality::QualitySettings>,
        >,
    >,
    /// Pay settings by (organization, project) (immutable once a project exists): a claim needs them to know
    /// whether to hold budget, and reading the project on every claim would slow the queue. Keyed by the
    /// organization too, so a hit never answers for another organization's project.
    pub(crate) pay_policies: ledger::PayPolicyCache,
    /// The webhook allowlist, parsed once from [`AppConfig::webhooks`].
    pub(crate) webhook_policy: Arc<webhooks::HostPolicy>,
    /// Where media bytes live (see [`media`]); unconfigured until [`App::with_media`].
    pub(crate) media: fairloop_media::MediaStore,
    /// Whether each project has sensitive content (see `wellbeing`): picks the claim path without a statement.
    pub(crate) sensitive_projects: Arc<Mutex<HashMap<(fairloop_domain::OrgId, ProjectId), bool>>>,
    /// Whether a project has qualification requirements (see [`assessments`]): keeps the claim path of
    /// projects without any free of extra statements.
    pub(crate) requirements_cache: assessments::RequirementsCache,
}

impl App {
    /// An application over a connected store.
    pub fn new(store: Arc<dyn Store>, config: AppConfig) -> App {
        let webhook_policy = Arc::new(webhooks::HostPolicy::new(&config.webhooks.allowed_hosts));
        App {
            webhook_policy,
            store,
            config,
            templates: Arc::default(),
            token_cache: Arc::default(),
            quality_settings: Arc::default(),
            pay_policies: Arc::default(),
            media: fairloop_media::MediaStore::unconfigured(),
            sensitive_projects: Arc::default(),
            requirements_cache: Arc::default(),
        }
    }

    /// The parsed template of a project, from the cache or from its stored JSON.
    pub(crate) fn template_of(
        &self,
        project: ProjectId,
        json: &str,
    ) -> AppResult<Arc<TaskTemplate>> {
        if let Some(t) = self
            .templates
            .lock()
            .expect("template cache lock")
            .get(&project)
        {
            return Ok(t.clone());
        }
        let value: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| AppError::Internal(format!("stored template: {e}")))?;
        let parsed = Arc::new(
            TaskTemplate::from_json(&value)
                .map_err(|e| AppError::Internal(format!("stored template: {e}")))?,
        );
        self.templates
            .lock()
            .expect("template cache lock")
            .insert(project, parsed.clone());
        Ok(parsed)
    }
}
