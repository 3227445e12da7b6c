//! Creating and reading projects.

use fairloop_domain::ProjectId;
use fairloop_domain::queue::QueuePolicy;
use fairloop_domain::template::TaskTemplate;
use fairloop_domain::time::to_rfc3339;
use fairloop_store::{NewProject, Principal, Project, ProjectStats};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::NotFoundAs;
use crate::{App, AppError, AppResult};

/// The body of "create a project".
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProject {
    /// Display name.
    pub name: String,
    /// The task template document (see docs/templates.md).
    #[schema(value_type = Object)]
    pub template: Value,
    /// How many different workers answer each item (default 1).
    #[serde(default)]
    pub overlap: Option<u32>,
    /// How long a lease lasts, in seconds (default 1800).
    #[serde(default)]
    pub lease_seconds: Option<u32>,
    /// How many open assignments a worker may hold at once (default 2, so the web app can prefetch).
    #[serde(default)]
    pub max_open_per_worker: Option<u32>,
    /// Pay: `{"model":"per_task","amount_minor":N,"currency":"USD"}` or `{"model":"hourly","rate_minor":N,…}`.
    #[serde(default)]
    pub pay: Option<Pay>,
    /// The most the project may spend, in minor units of the pay currency.
    #[serde(default)]
    pub budget_minor: Option<i64>,
    /// Pay for onboarding time (reading guidelines, quizzes, qualification); needs `pay` for its currency.
    #[serde(default)]
    pub onboarding_pay: Option<crate::onboarding::OnboardingPay>,
    /// Share (0 to 1) of tasks that are gold items when the project has some (default 0: none handed out).
    #[serde(default)]
    pub gold_rate: Option<f64>,
    /// Ask more workers when an item's answers disagree (see docs/quality.md).
    #[serde(default)]
    pub adaptive_overlap: Option<crate::quality::AdaptiveOverlap>,
    /// The state it starts in: `draft`, `recruiting` or `active` (default, as before the lifecycle existed).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub state: Option<fairloop_domain::lifecycle::ProjectState>,
    /// What workers need to be offered the project: domains, languages with a least level, countries, least
    /// quality (see docs/workforce.md). Left out: open to every worker of the organization.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub requirements: Option<fairloop_domain::workforce::Requirements>,
    /// Sensitivity categories, daily exposure limit, break reminders and support resources (docs/wellbeing.md).
    #[serde(default)]
    pub wellbeing: Option<crate::wellbeing::WellbeingInput>,
}

/// How a project pays (the contract's `pay` object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "model", rename_all = "snake_case", deny_unknown_fields)]
pub enum Pay {
    /// A fixed amount per accepted submission.
    PerTask {
        /// Amount in minor units (cents).
        amount_minor: i64,
        /// ISO 4217 code.
        currency: String,
    },
    /// Active time times a rate.
    Hourly {
        /// Rate per hour in minor units.
        rate_minor: i64,
        /// ISO 4217 code.
        currency: String,
    },
}

impl Pay {
    fn validate(&self) -> AppResult<()> {
        let (amount, currency, field) = match self {
            Pay::PerTask {
                amount_minor,
                currency,
            } => (*amount_minor, currency, "pay.amount_minor"),
            Pay::Hourly {
                rate_minor,
                currency,
            } => (*rate_minor, currency, "pay.rate_minor"),
        };
        if amount < 0 {
            return Err(AppError::invalid(
                "invalid_pay",
                format!("{field} must not be negative"),
            ));
        }
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(AppError::invalid(
                "invalid_pay",
                format!(
                    "pay.currency must be a three-letter ISO 4217 code such as USD, got {currency:?}"
                ),
            ));
        }
        Ok(())
    }
}

/// A project as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProjectView {
    /// Id.
    pub id: ProjectId,
    /// Display name.
    pub name: String,
    /// The template document.
    #[schema(value_type = Object)]
    pub template: Value,
    /// Workers per item.
    pub overlap: u32,
    /// Lease length in seconds.
    pub lease_seconds: u32,
    /// Open assignments per worker.
    pub max_open_per_worker: u32,
    /// Pay settings.
    #[schema(value_type = Option<Object>)]
    pub pay: Option<Value>,
    /// Creation time, RFC 3339 UTC.
    pub created_at: String,
    /// Gold rate and adaptive overlap; present when one project is read or created (not in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<crate::quality::QualitySettingsView>,
    /// The lifecycle state that applies now (docs/lifecycle.md); the API always fills it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub state: Option<fairloop_domain::lifecycle::ProjectState>,
}

impl From<&Project> for ProjectView {
    fn from(p: &Project) -> Self {
        ProjectView {
            id: p.id,
            name: p.name.clone(),
            template: serde_json::from_str(&p.template).unwrap_or(Value::Null),
            overlap: p.policy.overlap,
            lease_seconds: p.policy.lease_seconds,
            max_open_per_worker: p.policy.max_open_per_worker,
            pay: p.pay.as_deref().and_then(|s| serde_json::from_str(s).ok()),
            created_at: to_rfc3339(p.created_at),
            quality: None,
            state: None,
        }
    }
}

/// Requester-only endpoints check this first (the import endpoint before it reads the body).
pub fn require_manager(p: &Principal) -> AppResult<()> {
    if p.role.can_manage_projects() {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "this needs the requester or admin role; you are a {}",
            p.role
        )))
    }
}

impl App {
    /// Creates a project after validating its name, template, queue policy and pay.
    pub async fn create_project(
        &self,
        principal: &Principal,
        input: CreateProject,
    ) -> AppResult<Project> {
        require_manager(principal)?;
        use fairloop_domain::lifecycle::ProjectState;
        let state = input.state.unwrap_or(ProjectState::Active);
        if !matches!(
            state,
            ProjectState::Draft | ProjectState::Recruiting | ProjectState::Active
        ) {
            return Err(AppError::invalid(
                "invalid_state",
                format!("state must be draft, recruiting or active for a new project, got {state}"),
            ));
        }
        let name = input.name.trim();
        crate::reject_nul("name", name)?;
        if name.is_empty() || name.chars().count() > 200 {
            return Err(AppError::invalid(
                "invalid_name",
                "name must be 1 to 200 characters",
            ));
        }
        let template = TaskTemplate::from_json(&input.template).map_err(|e| AppError::Invalid {
            code: "invalid_template",
            message: format!("template.{e}"),
            details: Some(serde_json::json!({"path": format!("template.{}", e.path())})),
        })?;
        let defaults = QueuePolicy::default();
        let policy = QueuePolicy {
            overlap: input.overlap.unwrap_or(defaults.overlap),
            lease_seconds: input.lease_seconds.unwrap_or(defaults.lease_seconds),
            max_open_per_worker: input
                .max_open_per_worker
                .unwrap_or(defaults.max_open_per_worker),
        };
        policy.validate().map_err(|e| AppError::Invalid {
            code: "invalid_policy",
            message: e.to_string(),
            details: Some(serde_json::json!({"field": e.field})),
        })?;
        let quality = crate::quality::validate_settings(
            input.gold_rate,
            input.adaptive_overlap,
            policy.overlap,
        )?;
        let mut pay = match &input.pay {
            Some(p) => {
                p.validate()?;
                Some(serde_json::to_value(p).expect("pay serializes"))
            }
            None => None,
        };
        if let Some(onboarding) = input.onboarding_pay {
            onboarding.validate()?;
            let Some(obj) = pay.as_mut() else {
                return Err(AppError::invalid(
                    "invalid_pay",
                    "onboarding_pay needs pay (its currency and model) as well",
                ));
            };
            obj["onboarding_rate_minor"] = onboarding.rate_minor.into();
            obj["onboarding_max_minutes"] = onboarding
                .max_minutes
                .unwrap_or(crate::onboarding::DEFAULT_MAX_MINUTES)
                .into();
        }
        let wellbeing = input
            .wellbeing
            .as_ref()
            .map(|w| self.validate_wellbeing(w))
            .transpose()?;
        if let Some(budget) = input.budget_minor {
            if budget < 0 {
                return Err(AppError::invalid(
                    "invalid_pay",
                    "budget_minor must not be negative",
                ));
            }
            let obj = pay.get_or_insert_with(|| serde_json::json!({}));
            obj["budget_minor"] = budget.into();
        }
        let requirements = input
            .requirements
            .map(crate::profiles::validate_requirements)
            .transpose()?
            .filter(|r| !r.is_empty());
        let project = self
            .store
            .create_project(NewProject {
                org_id: principal.org_id,
                name: name.to_string(),
                template: template.to_json().to_string(),
                policy,
                pay: pay.map(|p| p.to_string()),
                created_by: principal.user_id,
            })
            .await?;
        if state != ProjectState::Active {
            let (org, id, by) = (project.org_id, project.id, principal.user_id);
            let now = fairloop_domain::time::now_millis();
            self.store
                .write_tx(move |tx| {
                    fairloop_store::lifecycle::set_initial_state(tx, org, id, state, by, now)
                })
                .await?;
        }
        if let Some(req) = requirements {
            self.store
                .set_requirements(
                    project.org_id,
                    project.id,
                    Some(serde_json::to_string(&req).expect("requirements serialize")),
                    principal.user_id,
                    fairloop_domain::time::now_millis(),
                )
                .await?;
        }
        if quality != fairloop_store::quality::QualitySettings::default() {
            self.store
                .set_quality_settings(project.org_id, project.id, quality)
                .await?;
        }
        if let Some(w) = wellbeing.filter(|w| *w != Default::default()) {
            self.save_wellbeing(project.org_id, project.id, w).await?;
        }
        Ok(project)
    }

    /// One project of the caller's organization (404 for any other, and for a draft to anyone who does not
    /// manage projects: drafts are invisible to workers).
    pub async fn project(&self, principal: &Principal, id: ProjectId) -> AppResult<Project> {
        let project = self
            .store
            .project(principal.org_id, id)
            .await
            .or_not_found("project")?;
        if !principal.role.can_manage_projects() {
            self.visible_state(principal, id).await?;
        }
        Ok(project)
    }

    /// The projects of the caller's organization (without drafts for those who do not manage projects).
    pub async fn projects(&self, principal: &Principal) -> AppResult<Vec<Project>> {
        let all = self.store.projects(principal.org_id).await?;
        if principal.role.can_manage_projects() {
            return Ok(all);
        }
        let states = self.store.lifecycles(principal.org_id).await?;
        Ok(all
            .into_iter()
            .filter(|p| {
                states
                    .get(&p.id)
                    .is_none_or(|l| l.state.visible_to_workers())
            })
            .collect())
    }

    /// Live counts of a project (requesters).
    pub async fn project_stats(
        &self,
        principal: &Principal,
        id: ProjectId,
    ) -> AppResult<ProjectStats> {
        require_manager(principal)?;
        self.store
            .project_stats(principal.org_id, id)
            .await
            .or_not_found("project")
    }
}
