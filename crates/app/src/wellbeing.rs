//! Wellbeing: protecting the people who look at harmful content.
//!
//! Projects and items carry sensitivity categories from a fixed list (`fairloop_domain::sensitivity`). A
//! worker opts in per category (default: none). The queue never hands them an item of a category they did not
//! opt into, a project whose own categories they have not opted into hands them nothing (`403
//! sensitivity_opt_in_required`), and no worker is handed more than the daily limit of sensitive items of one
//! category per UTC day. Sensitive items are blurred in the workbench until revealed; break reminders come after
//! a set active time; skipping a sensitive item, or any item as "too distressing", never counts against the
//! worker; support resources are shown on the project page and one key away in the workbench.
//!
//! Why the claim is split: projects without sensitive content keep the tuned claim of `ops.rs` with no extra
//! statement. Whether a project is sensitive is cached per process (set and cleared by this process's edits and
//! imports); when the cache is stale, the tuned claim still never hands out a sensitive item (its query asks for
//! `sensitivity = 0`), and "nothing left" re-reads the project before it is believed. See docs/wellbeing.md.

use fairloop_domain::sensitivity::{self, CATEGORIES, Mask};
use fairloop_domain::time::{Millis, now_millis, to_rfc3339};
use fairloop_domain::{AssignmentId, OrgId, ProjectId};
use fairloop_store::Principal;
use fairloop_store::wellbeing::{SensitiveClaim, SensitiveClaimRequest, WellbeingUpdate};
use serde::{Deserialize, Serialize};

use crate::error::NotFoundAs;
use crate::projects::require_manager;
use crate::work::NextTask;
use crate::{App, AppError, AppResult};

/// Longest support text kept (characters).
pub const MAX_SUPPORT_CHARS: usize = 20_000;
/// Longest break interval a project may set (minutes): a working day.
pub const MAX_BREAK_MINUTES: i64 = 480;
/// A stretch without active time at least this long counts as a break already taken.
pub const PAUSE_COUNTS_AS_BREAK_MS: i64 = 10 * 60 * 1000;

/// The platform's defaults, from the configuration (`[wellbeing]` in `fairloop.toml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WellbeingDefaults {
    /// Sensitive items of one category a worker may be handed per UTC day, when a project sets none.
    pub daily_exposure_limit: i64,
    /// Minutes of active time before a break reminder, when a project sets none (0: no reminders).
    pub break_after_minutes: i64,
    /// Support resources (Markdown) shown when a project sets none.
    pub support: String,
}

/// The support text shipped with Fairloop; operators replace it with their own (`[wellbeing] support`).
pub const DEFAULT_SUPPORT: &str = "Looking at distressing content can affect anyone. You can stop at any time: \
skip an item as **too distressing** (it never counts against you), take a break, or opt out of a category in \
[Settings](/settings#sensitivity).\n\n\
If you are struggling, talk to someone you trust or to a professional. In an emergency, call your local \
emergency number. Find a free, confidential helpline in your country at \
[findahelpline.com](https://findahelpline.com).";

impl Default for WellbeingDefaults {
    fn default() -> Self {
        WellbeingDefaults {
            daily_exposure_limit: 40,
            break_after_minutes: 50,
            support: DEFAULT_SUPPORT.to_string(),
        }
    }
}

/// One sensitivity category as the API lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CategoryView {
    /// Stable key (use it in the API and in import files).
    pub key: &'static str,
    /// Short name.
    pub name: &'static str,
    /// What it covers.
    pub description: &'static str,
}

/// The fixed list of sensitivity categories.
pub fn category_list() -> Vec<CategoryView> {
    CATEGORIES
        .iter()
        .map(|c| CategoryView {
            key: c.key,
            name: c.name,
            description: c.description,
        })
        .collect()
}

/// A project's wellbeing settings as a requester sets them (at creation, or later with `PUT`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WellbeingInput {
    /// Categories of the whole project (every item is in them); keys from `GET /api/v1/sensitivity-categories`.
    #[serde(default)]
    pub sensitivity: Vec<String>,
    /// Sensitive items of one category a worker may be handed per UTC day; at most the platform's default
    /// (a project may be stricter, never looser). Absent: the platform default.
    #[serde(default)]
    pub daily_exposure_limit: Option<i64>,
    /// Minutes of active time before the workbench suggests a break (0: none). Absent: the platform default.
    #[serde(default)]
    pub break_after_minutes: Option<i64>,
    /// Support resources for workers, Markdown with links. Absent or empty: the platform default.
    #[serde(default)]
    pub support: Option<String>,
}

/// A project's wellbeing settings with the platform defaults applied.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProjectWellbeingView {
    /// The project's own categories (keys).
    pub sensitivity: Vec<String>,
    /// Categories some of its items were imported with (keys).
    pub item_sensitivity: Vec<String>,
    /// The daily limit per category that applies.
    pub daily_exposure_limit: i64,
    /// The project's own limit, when it sets one.
    pub daily_exposure_limit_override: Option<i64>,
    /// Minutes of active time before a break reminder (0: none).
    pub break_after_minutes: i64,
    /// The project's own interval, when it sets one.
    pub break_after_minutes_override: Option<i64>,
    /// Support resources (Markdown).
    pub support: String,
    /// True when the support text is the project's own.
    pub support_is_custom: bool,
    /// Skips marked "too distressing" (requesters and admins only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distressing_skips: Option<i64>,
}

/// The body of `PUT /api/v1/me/sensitivity`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OptInBody {
    /// Every category the worker opts into (replaces the previous list; empty: none).
    pub opted_in: Vec<String>,
}

/// Today's exposure in one category.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExposureView {
    /// Category key.
    pub category: &'static str,
    /// Sensitive items of it handed to the worker today (UTC).
    pub items: i64,
}

/// A worker's own wellbeing settings and today's exposure.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MySensitivity {
    /// The categories they opted into.
    pub opted_in: Vec<String>,
    /// The UTC day the counts are for (`YYYY-MM-DD`).
    pub day: String,
    /// Sensitive items handed to them today, per category that has any.
    pub exposure_today: Vec<ExposureView>,
}

/// Where a worker stands with one project's sensitive content.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectGate {
    /// The project's own categories.
    pub declared: Mask,
    /// Categories of some of its items.
    pub items: Mask,
    /// Project categories the worker has not opted into (no task until they do).
    pub missing: Mask,
    /// Item categories the worker has not opted into (those items are never handed to them).
    pub items_not_opted: Mask,
    /// Categories of the project in which the worker reached today's limit.
    pub at_limit: Mask,
}

/// The break reminder as the workbench needs it.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct BreakStatus {
    /// Minutes of active time between reminders (0: none).
    pub break_after_minutes: i64,
    /// Active seconds since the last break.
    pub active_seconds: i64,
    /// True when a break is due now.
    pub due: bool,
}

fn check_mask(field: &str, keys: &[String]) -> AppResult<Mask> {
    sensitivity::parse(keys).map_err(|e| AppError::Invalid {
        code: "invalid_sensitivity",
        message: format!("{field}: {e}"),
        details: Some(serde_json::json!({ "field": field })),
    })
}

impl App {
    /// Checks a project's wellbeing input against the platform defaults.
    pub(crate) fn validate_wellbeing(&self, input: &WellbeingInput) -> AppResult<WellbeingUpdate> {
        let defaults = &self.config.wellbeing;
        let sensitivity = check_mask("wellbeing.sensitivity", &input.sensitivity)?;
        if let Some(l) = input.daily_exposure_limit
            && !(1..=defaults.daily_exposure_limit).contains(&l)
        {
            return Err(AppError::Invalid {
                code: "invalid_wellbeing",
                message: format!(
                    "wellbeing.daily_exposure_limit must be 1 to {} (the platform's limit; a project may be \
                     stricter, never looser), got {l}",
                    defaults.daily_exposure_limit
                ),
                details: Some(serde_json::json!({"field": "wellbeing.daily_exposure_limit"})),
            });
        }
        if let Some(m) = input.break_after_minutes
            && !(0..=MAX_BREAK_MINUTES).contains(&m)
        {
            return Err(AppError::Invalid {
                code: "invalid_wellbeing",
                message: format!(
                    "wellbeing.break_after_minutes must be 0 (no reminders) to {MAX_BREAK_MINUTES}, got {m}"
                ),
                details: Some(serde_json::json!({"field": "wellbeing.break_after_minutes"})),
            });
        }
        let support = input
            .support
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if let Some(s) = support {
            crate::reject_nul("wellbeing.support", s)?;
            if s.chars().count() > MAX_SUPPORT_CHARS {
                return Err(AppError::Invalid {
                    code: "invalid_wellbeing",
                    message: format!(
                        "wellbeing.support must be at most {MAX_SUPPORT_CHARS} characters"
                    ),
                    details: Some(serde_json::json!({"field": "wellbeing.support"})),
                });
            }
        }
        Ok(WellbeingUpdate {
            sensitivity,
            daily_limit: input.daily_exposure_limit,
            break_minutes: input.break_after_minutes,
            support_markdown: support.map(str::to_string),
        })
    }

    /// Saves a project's wellbeing settings (requesters and admins).
    pub async fn set_project_wellbeing(
        &self,
        principal: &Principal,
        project: ProjectId,
        input: WellbeingInput,
    ) -> AppResult<ProjectWellbeingView> {
        require_manager(principal)?;
        let update = self.validate_wellbeing(&input)?;
        self.save_wellbeing(principal.org_id, project, update)
            .await?;
        self.project_wellbeing(principal, project).await
    }

    /// Stores settings already validated, and forgets this process's view of the project (the edit is
    /// seen by the next claim).
    pub(crate) async fn save_wellbeing(
        &self,
        org: OrgId,
        project: ProjectId,
        update: WellbeingUpdate,
    ) -> AppResult<()> {
        self.forget_wellbeing(org, project);
        let saved = self
            .store
            .set_project_wellbeing(org, project, update, now_millis())
            .await
            .or_not_found("project");
        self.forget_wellbeing(org, project);
        saved.map(|_| ())
    }

    /// A project's settings with the defaults applied (anyone in the organization).
    pub async fn project_wellbeing(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<ProjectWellbeingView> {
        let w = self
            .store
            .project_wellbeing(principal.org_id, project)
            .await
            .or_not_found("project")?;
        let defaults = &self.config.wellbeing;
        let distressing_skips = if principal.role.can_manage_projects() {
            Some(
                self.store
                    .distressing_skips(principal.org_id, project)
                    .await?,
            )
        } else {
            None
        };
        Ok(ProjectWellbeingView {
            sensitivity: sensitivity::keys(w.sensitivity),
            item_sensitivity: sensitivity::keys(w.item_sensitivity),
            daily_exposure_limit: w.daily_limit.unwrap_or(defaults.daily_exposure_limit),
            daily_exposure_limit_override: w.daily_limit,
            break_after_minutes: w.break_minutes.unwrap_or(defaults.break_after_minutes),
            break_after_minutes_override: w.break_minutes,
            support_is_custom: w.support_markdown.is_some(),
            support: w
                .support_markdown
                .unwrap_or_else(|| defaults.support.clone()),
            distressing_skips,
        })
    }

    /// The caller's own opt-ins and today's exposure. There is no way to ask for another worker's.
    pub async fn my_sensitivity(&self, principal: &Principal) -> AppResult<MySensitivity> {
        let now = now_millis();
        let opted = self
            .store
            .opted_in(principal.org_id, principal.user_id)
            .await?;
        let exposure = self
            .store
            .exposure_today(principal.org_id, principal.user_id, now)
            .await?;
        Ok(MySensitivity {
            opted_in: sensitivity::keys(opted),
            day: to_rfc3339(now)[..10].to_string(),
            exposure_today: exposure
                .iter()
                .filter_map(|e| {
                    CATEGORIES.get(e.category as usize).map(|c| ExposureView {
                        category: c.key,
                        items: e.items,
                    })
                })
                .collect(),
        })
    }

    /// Replaces the caller's opt-ins (workers, reviewers and admins: whoever can take tasks).
    pub async fn set_my_sensitivity(
        &self,
        principal: &Principal,
        body: OptInBody,
    ) -> AppResult<MySensitivity> {
        if !principal.role.can_work() {
            return Err(AppError::forbidden(format!(
                "opting into sensitive content is for people who take tasks; you are a {}",
                principal.role
            )));
        }
        let mask = check_mask("opted_in", &body.opted_in)?;
        self.store
            .set_opted_in(principal.org_id, principal.user_id, mask, now_millis())
            .await
            .or_not_found("user")?;
        self.my_sensitivity(principal).await
    }

    /// Where the caller stands with each sensitive project of their organization (projects without
    /// sensitive content are absent).
    pub async fn project_gates(
        &self,
        principal: &Principal,
    ) -> AppResult<std::collections::HashMap<ProjectId, ProjectGate>> {
        let all = self.store.org_wellbeing(principal.org_id).await?;
        if all.values().all(|w| !w.is_sensitive()) {
            return Ok(Default::default());
        }
        let now = now_millis();
        let opted = self
            .store
            .opted_in(principal.org_id, principal.user_id)
            .await?;
        let exposure = self
            .store
            .exposure_today(principal.org_id, principal.user_id, now)
            .await?;
        let limit_default = self.config.wellbeing.daily_exposure_limit;
        Ok(all
            .into_iter()
            .filter(|(_, w)| w.is_sensitive())
            .map(|(id, w)| {
                let limit = w.daily_limit.unwrap_or(limit_default);
                let reached = exposure
                    .iter()
                    .filter(|e| e.items >= limit)
                    .fold(0, |m, e| m | (1 << e.category));
                let all = w.sensitivity | w.item_sensitivity;
                (
                    id,
                    ProjectGate {
                        declared: w.sensitivity,
                        items: w.item_sensitivity,
                        missing: w.sensitivity & !opted,
                        items_not_opted: w.item_sensitivity & !opted & !w.sensitivity,
                        at_limit: all & reached,
                    },
                )
            })
            .collect())
    }

    /// The break reminder for the workbench: active time since the caller's last break (from heartbeats).
    pub async fn break_status(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<BreakStatus> {
        let w = self
            .store
            .project_wellbeing(principal.org_id, project)
            .await
            .or_not_found("project")?;
        let minutes = w
            .break_minutes
            .unwrap_or(self.config.wellbeing.break_after_minutes);
        let active_ms = self
            .store
            .active_since_break(
                principal.org_id,
                principal.user_id,
                now_millis(),
                PAUSE_COUNTS_AS_BREAK_MS,
            )
            .await?;
        Ok(BreakStatus {
            break_after_minutes: minutes,
            active_seconds: active_ms / 1000,
            due: minutes > 0 && active_ms >= minutes * 60_000,
        })
    }

    /// The caller takes a break now: the next reminder counts active time from here.
    pub async fn take_break(&self, principal: &Principal) -> AppResult<()> {
        self.store
            .take_break(principal.org_id, principal.user_id, now_millis())
            .await
            .or_not_found("user")
    }

    /// Whether claims of a project take the sensitive path (cached; see the module docs).
    pub(crate) async fn project_is_sensitive(
        &self,
        org: OrgId,
        project: ProjectId,
    ) -> AppResult<bool> {
        if let Some(s) = self
            .sensitive_projects
            .lock()
            .expect("wellbeing cache lock")
            .get(&(org, project))
        {
            return Ok(*s);
        }
        let sensitive = self
            .store
            .project_wellbeing(org, project)
            .await
            .or_not_found("project")?
            .is_sensitive();
        self.sensitive_projects
            .lock()
            .expect("wellbeing cache lock")
            .insert((org, project), sensitive);
        Ok(sensitive)
    }

    /// Forgets this process's view of a project's sensitivity (after an edit or an import).
    pub(crate) fn forget_wellbeing(&self, org: OrgId, project: ProjectId) {
        self.sensitive_projects
            .lock()
            .expect("wellbeing cache lock")
            .remove(&(org, project));
    }

    /// "Nothing left" from the ordinary claim: true when the project turned out to have sensitive content since
    /// this process last looked (then the sensitive claim is asked instead).
    pub(crate) async fn turned_sensitive(&self, org: OrgId, project: ProjectId) -> AppResult<bool> {
        self.forget_wellbeing(org, project);
        self.project_is_sensitive(org, project).await
    }

    /// The claim for projects with sensitive content (the store's `claim_sensitive`).
    pub(crate) async fn sensitive_task(
        &self,
        principal: &Principal,
        project: ProjectId,
        now: Millis,
    ) -> AppResult<Option<NextTask>> {
        let quality = self.cached_quality_settings(principal, project).await?;
        let want_gold = quality.gold_rate > 0.0 && rand::random::<f64>() < quality.gold_rate;
        let outcome = self
            .store
            .claim_sensitive(SensitiveClaimRequest {
                org_id: principal.org_id,
                project_id: project,
                worker_id: principal.user_id,
                now,
                default_limit: self.config.wellbeing.daily_exposure_limit,
                want_gold,
            })
            .await
            .or_not_found("project")?;
        match outcome {
            SensitiveClaim::Claimed(c) => Ok(Some(NextTask::from(c))),
            SensitiveClaim::Nothing { .. } => Ok(None),
            SensitiveClaim::OptInNeeded { missing } => Err(AppError::Forbidden {
                code: "sensitivity_opt_in_required",
                message: format!(
                    "this project shows content in categories you have not opted into: {}; opt into them in \
                     your settings (PUT /api/v1/me/sensitivity) to work on it",
                    sensitivity::names(missing)
                ),
            }),
        }
    }

    /// Skips an item as "too distressing", or skips a sensitive item: never counted against the worker.
    pub(crate) async fn skip_protected(
        &self,
        principal: &Principal,
        assignment: AssignmentId,
        reason: String,
        distressing: bool,
    ) -> AppResult<()> {
        self.store
            .skip_protected(
                principal.org_id,
                principal.user_id,
                assignment,
                reason,
                distressing,
                now_millis(),
            )
            .await
            .or_not_found("assignment")
    }
}
