//! Paid onboarding: time spent reading a project's guidelines (and answering a guideline quiz or a qualification)
//! before or between tasks is paid when the project offers an onboarding rate.
//!
//! Why a separate rate and cap rather than the task pay: per-task projects have no hourly rate to apply, and an
//! open-ended paid reading time would invite idling on the guidelines page; the requester states both up front
//! (they are shown on the worker's project card), and the platform measures the time with the same idle rule as
//! task time. Each finished UTC day is paid once by [`OnboardingPosting`], under the source key
//! `onboarding:<project>:<worker>:<day>`.

use fairloop_domain::ProjectId;
use fairloop_domain::time::{Millis, now_millis};
use fairloop_store::Principal;
use fairloop_store::onboarding::{DAY_MS, OnboardingBeat, OnboardingDay};
use fairloop_store::time::HeartbeatOutcome;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::NotFoundAs;
use crate::ledger::hourly_amount;
use crate::{App, AppError, AppResult};

/// The cap when a project names a rate but no `max_minutes`.
pub const DEFAULT_MAX_MINUTES: u32 = 60;
/// The highest cap a project may set: a working day.
pub const MAX_MAX_MINUTES: u32 = 8 * 60;
/// Unpaid days the posting job handles per step.
const BATCH: i64 = 500;

/// A project's offer to pay onboarding time (the `onboarding_pay` of "create a project").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OnboardingPay {
    /// Rate per hour of active onboarding time, in minor units of the project's pay currency.
    pub rate_minor: i64,
    /// The most onboarding time paid to one worker on this project, in minutes (default 60, at most 480).
    #[serde(default)]
    pub max_minutes: Option<u32>,
}

impl OnboardingPay {
    /// Checks the offer; errors name the field.
    pub(crate) fn validate(&self) -> AppResult<()> {
        if self.rate_minor <= 0 {
            return Err(AppError::invalid(
                "invalid_pay",
                "onboarding_pay.rate_minor must be greater than 0 (leave onboarding_pay out for unpaid onboarding)",
            ));
        }
        if let Some(m) = self.max_minutes
            && !(1..=MAX_MAX_MINUTES).contains(&m)
        {
            return Err(AppError::invalid(
                "invalid_pay",
                format!("onboarding_pay.max_minutes must be from 1 to {MAX_MAX_MINUTES}, got {m}"),
            ));
        }
        Ok(())
    }

    /// Reads the offer from a project's stored pay settings (`onboarding_rate_minor`, `onboarding_max_minutes`),
    /// with the currency; `None` when the project does not pay onboarding.
    pub fn from_stored(pay: Option<&str>) -> Option<(OnboardingPay, String)> {
        let v: Value = serde_json::from_str(pay?).ok()?;
        let rate = v
            .get("onboarding_rate_minor")?
            .as_i64()
            .filter(|r| *r > 0)?;
        let currency = v.get("currency")?.as_str()?.to_string();
        let max = v
            .get("onboarding_max_minutes")
            .and_then(Value::as_u64)
            .and_then(|m| u32::try_from(m).ok());
        Some((
            OnboardingPay {
                rate_minor: rate,
                max_minutes: max,
            },
            currency,
        ))
    }

    /// The cap in milliseconds.
    pub fn max_ms(&self) -> i64 {
        i64::from(self.max_minutes.unwrap_or(DEFAULT_MAX_MINUTES)) * 60_000
    }
}

/// What a worker is doing while onboarding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    /// Reading the guidelines or a change to them.
    Guidelines,
    /// Answering the quiz on a guideline change.
    Quiz,
    /// Taking a qualification assessment.
    Qualification,
}

impl Activity {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Activity::Guidelines => "guidelines",
            Activity::Quiz => "quiz",
            Activity::Qualification => "qualification",
        }
    }

    /// Parses a form or query value.
    pub fn parse(s: &str) -> AppResult<Activity> {
        match s {
            "guidelines" => Ok(Activity::Guidelines),
            "quiz" => Ok(Activity::Quiz),
            "qualification" => Ok(Activity::Qualification),
            other => Err(AppError::invalid(
                "invalid_activity",
                format!("activity must be guidelines, quiz or qualification, got {other:?}"),
            )),
        }
    }
}

/// The body of an onboarding heartbeat.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OnboardingBeatBody {
    /// What the worker is doing.
    pub activity: Activity,
    /// The page was visible and focused.
    pub focus: bool,
    /// There was input since the last heartbeat.
    pub input: bool,
}

/// The answer to an onboarding heartbeat.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct OnboardingOutcome {
    /// False when the project does not pay onboarding (the page then stops sending heartbeats) or the beat came
    /// too soon after the previous one.
    pub recorded: bool,
    /// Whether the project pays onboarding time at all.
    pub paid: bool,
    /// Active time credited by this beat, in milliseconds.
    pub credited_ms: i64,
    /// Onboarding time credited on this project so far, in milliseconds.
    pub active_ms: i64,
    /// The cap, in milliseconds (0 when not paid).
    pub max_ms: i64,
}

impl App {
    /// Records an onboarding heartbeat of the caller on a project of their organization.
    pub async fn onboarding_heartbeat(
        &self,
        principal: &Principal,
        project: ProjectId,
        body: OnboardingBeatBody,
    ) -> AppResult<OnboardingOutcome> {
        self.onboarding_heartbeat_at(principal, project, body, now_millis())
            .await
    }

    /// [`App::onboarding_heartbeat`] at a given time (tests drive the clock).
    pub async fn onboarding_heartbeat_at(
        &self,
        principal: &Principal,
        project: ProjectId,
        body: OnboardingBeatBody,
        now: Millis,
    ) -> AppResult<OnboardingOutcome> {
        if !principal.role.can_work() {
            return Err(AppError::forbidden(format!(
                "onboarding time is recorded for workers; you are a {}",
                principal.role
            )));
        }
        let p = self
            .store
            .project(principal.org_id, project)
            .await
            .or_not_found("project")?;
        let Some((offer, _)) = OnboardingPay::from_stored(p.pay.as_deref()) else {
            return Ok(OnboardingOutcome {
                recorded: false,
                paid: false,
                credited_ms: 0,
                active_ms: 0,
                max_ms: 0,
            });
        };
        let outcome: HeartbeatOutcome = self
            .store
            .record_onboarding_beat(
                OnboardingBeat {
                    org_id: principal.org_id,
                    project_id: project,
                    worker_id: principal.user_id,
                    activity: body.activity.as_str().to_string(),
                    focus: body.focus,
                    input: body.input,
                    max_ms: offer.max_ms(),
                },
                now,
            )
            .await?;
        Ok(OnboardingOutcome {
            recorded: outcome.recorded,
            paid: true,
            credited_ms: outcome.credited_ms,
            active_ms: outcome.active_ms,
            max_ms: offer.max_ms(),
        })
    }

    /// A worker's onboarding days in `[from, to)`: the caller's own, or any worker's of the organization for
    /// requesters and admins (the same rows both ways, as with the timesheet).
    pub async fn onboarding_days(
        &self,
        principal: &Principal,
        worker: Option<i64>,
        from: Millis,
        to: Millis,
    ) -> AppResult<Vec<OnboardingDay>> {
        let worker = match worker {
            Some(w) if w != principal.user_id => {
                crate::projects::require_manager(principal)?;
                w
            }
            _ => principal.user_id,
        };
        Ok(self
            .store
            .onboarding_days(
                principal.org_id,
                worker,
                from.div_euclid(DAY_MS),
                (to + DAY_MS - 1).div_euclid(DAY_MS),
            )
            .await?)
    }
}

/// Pays finished onboarding days: each (project, worker, UTC day) with credited time once the day is over, at the
/// project's onboarding rate, rounded half up to a minor unit.
#[derive(Debug, Clone)]
pub struct OnboardingPosting {
    app: App,
}

impl OnboardingPosting {
    /// A posting job over the app's store.
    pub fn new(app: App) -> Self {
        OnboardingPosting { app }
    }

    /// Pays up to one batch of finished days; answers how many were paid now.
    pub async fn try_run_one(&self, now: Millis) -> AppResult<u64> {
        let store = &self.app.store;
        let today = now.div_euclid(DAY_MS);
        let mut paid = 0;
        for day in store.onboarding_unpaid(today, BATCH).await? {
            let Some((offer, currency)) = OnboardingPay::from_stored(day.pay.as_deref()) else {
                continue;
            };
            let amount = hourly_amount(offer.rate_minor, day.active_ms);
            if let fairloop_store::ledger::Posted::New(_) =
                store.pay_onboarding_day(day, amount, currency, now).await?
            {
                paid += 1;
            }
        }
        Ok(paid)
    }
}
