//! Paid onboarding time: the minutes a worker spends reading a project's guidelines (and, later, on qualification)
//! outside any task, credited by the same idle rule as task time and paid once per project, worker and UTC day.
//!
//! Why one row per day rather than a row per heartbeat: onboarding is short and capped, nobody disputes single
//! beats of it, and a day row is exactly the unit that is paid (`onboarding:<project>:<worker>:<day>`), so the
//! posting job finds unpaid days through a partial index instead of grouping heartbeats.

use fairloop_domain::time::Millis;
use fairloop_domain::{OrgId, ProjectId, UserId};

use crate::ledger::{AccountRef, Posted, Posting};
use crate::time::{HeartbeatOutcome, MAX_CREDIT_MS, MIN_GAP_MS, credit};
use crate::{Store, StoreResult, params};

/// Milliseconds in a UTC day.
pub const DAY_MS: i64 = 86_400_000;

/// A pause longer than this between two onboarding heartbeats starts a new session: the first beat of a session
/// only marks its start (there is no claim time to measure from, as there is for a task).
pub const SESSION_GAP_MS: i64 = 2 * MAX_CREDIT_MS;

/// One onboarding heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnboardingBeat {
    /// Organization.
    pub org_id: OrgId,
    /// The project whose onboarding it is.
    pub project_id: ProjectId,
    /// The worker.
    pub worker_id: UserId,
    /// `guidelines`, `quiz` or `qualification`.
    pub activity: String,
    /// The page was visible and focused.
    pub focus: bool,
    /// There was input since the last beat.
    pub input: bool,
    /// The most onboarding time the project pays one worker, in milliseconds (credit stops there).
    pub max_ms: i64,
}

/// A day of onboarding time, for timesheets and for paying it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OnboardingDay {
    /// Organization.
    pub org_id: OrgId,
    /// Project.
    pub project_id: ProjectId,
    /// The project's name.
    pub project_name: String,
    /// Worker.
    pub worker_id: UserId,
    /// UTC day number (milliseconds since the epoch / 86,400,000).
    pub day: i64,
    /// The last activity recorded that day.
    pub activity: String,
    /// Active time credited, in milliseconds.
    pub active_ms: i64,
    /// Heartbeats recorded.
    pub beats: i64,
    /// The project's pay settings (JSON text), for the posting job.
    #[serde(skip)]
    pub pay: Option<String>,
    /// The ledger transaction that paid the day, once paid.
    pub transaction_id: Option<i64>,
}

const SELECT_DAY: &str = "SELECT o.org_id, o.project_id, p.name, o.worker_id, o.day, o.activity, o.active_ms, o.beats, \
     p.pay, o.transaction_id FROM onboarding_time o JOIN projects p ON p.id = o.project_id";

fn day_row(r: &crate::portable::Row) -> StoreResult<OnboardingDay> {
    Ok(OnboardingDay {
        org_id: r.i64(0)?,
        project_id: r.i64(1)?,
        project_name: r.string(2)?,
        worker_id: r.i64(3)?,
        day: r.i64(4)?,
        activity: r.string(5)?,
        active_ms: r.i64(6)?,
        beats: r.i64(7)?,
        pay: r.opt_string(8)?,
        transaction_id: r.opt_i64(9)?,
    })
}

impl dyn Store + '_ {
    /// Records an onboarding heartbeat under the idle rule, up to the project's cap for the worker.
    pub async fn record_onboarding_beat(
        &self,
        beat: OnboardingBeat,
        now: Millis,
    ) -> StoreResult<HeartbeatOutcome> {
        self.write_tx(move |tx| {
            let (org, project, worker) = (beat.org_id, beat.project_id, beat.worker_id);
            // One worker's beats from two tabs must not both credit the same interval.
            tx.query_opt(
                &format!(
                    "SELECT id FROM users WHERE id = $1 AND org_id = $2{}",
                    tx.for_update()
                ),
                params![worker, org],
            )?;
            let last = tx.query_opt(
                "SELECT last_at, last_input FROM onboarding_time WHERE project_id = $1 AND worker_id = $2 \
                 AND org_id = $3 ORDER BY day DESC LIMIT 1",
                params![project, worker, org],
            )?;
            let total = tx
                .query_one(
                    "SELECT CAST(COALESCE(SUM(active_ms), 0) AS BIGINT) FROM onboarding_time \
                     WHERE project_id = $1 AND worker_id = $2 AND org_id = $3",
                    params![project, worker, org],
                )?
                .i64(0)?;
            let (gap, prev_input) = match &last {
                Some(r) => (now - r.i64(0)?, r.bool(1)?),
                None => (i64::MAX, false),
            };
            if gap < MIN_GAP_MS {
                return Ok(HeartbeatOutcome {
                    recorded: false,
                    credited_ms: 0,
                    active_ms: total,
                });
            }
            let credited = if gap > SESSION_GAP_MS {
                0
            } else {
                credit(gap, beat.focus, beat.input, prev_input).min((beat.max_ms - total).max(0))
            };
            let day = now.div_euclid(DAY_MS);
            tx.execute(
                "INSERT INTO onboarding_time (org_id, project_id, worker_id, day, activity, active_ms, beats, last_at, \
                 last_input) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8) \
                 ON CONFLICT (project_id, worker_id, day) DO UPDATE SET activity = $5, \
                 active_ms = onboarding_time.active_ms + $6, beats = onboarding_time.beats + 1, last_at = $7, \
                 last_input = $8",
                params![
                    org,
                    project,
                    worker,
                    day,
                    beat.activity.as_str(),
                    credited,
                    now,
                    // The first beat of a session stands for opening the page, which is input.
                    beat.input || gap > SESSION_GAP_MS
                ],
            )?;
            Ok(HeartbeatOutcome {
                recorded: true,
                credited_ms: credited,
                active_ms: total + credited,
            })
        })
        .await
    }

    /// A worker's onboarding days in `[from_day, to_day)`, oldest first.
    pub async fn onboarding_days(
        &self,
        org: OrgId,
        worker: UserId,
        from_day: i64,
        to_day: i64,
    ) -> StoreResult<Vec<OnboardingDay>> {
        self.read_tx(move |tx| {
            tx.query(
                &format!(
                    "{SELECT_DAY} WHERE o.org_id = $1 AND o.worker_id = $2 AND o.day >= $3 AND o.day < $4 \
                     ORDER BY o.day, o.project_id"
                ),
                params![org, worker, from_day, to_day],
            )?
            .iter()
            .map(day_row)
            .collect()
        })
        .await
    }

    /// Days before `before_day` with credited time and no payment yet, across organizations (the posting job).
    pub async fn onboarding_unpaid(
        &self,
        before_day: i64,
        limit: i64,
    ) -> StoreResult<Vec<OnboardingDay>> {
        self.read_tx(move |tx| {
            tx.query(
                &format!(
                    "{SELECT_DAY} WHERE o.transaction_id IS NULL AND o.day < $1 AND o.active_ms > 0 \
                     ORDER BY o.day LIMIT $2"
                ),
                params![before_day, limit],
            )?
            .iter()
            .map(day_row)
            .collect()
        })
        .await
    }

    /// Pays one onboarding day from the organization's budget (owed whatever the project's cap, like a floor
    /// top-up, so the transaction names the project in its memo and carries no `project_id`) and marks the day
    /// paid, in one transaction. A second caller finds the first one's transaction by its source key.
    pub async fn pay_onboarding_day(
        &self,
        day: OnboardingDay,
        amount_minor: i64,
        currency: String,
        now: Millis,
    ) -> StoreResult<Posted> {
        self.write_tx(move |tx| {
            let posted = crate::ledger::post(
                tx,
                &Posting {
                    org_id: day.org_id,
                    source_key: format!("onboarding:{}:{}:{}", day.project_id, day.worker_id, day.day),
                    kind: "onboarding".into(),
                    project_id: None,
                    worker_id: Some(day.worker_id),
                    annotation_id: None,
                    memo: format!(
                        "onboarding on project {} ({}): {} active minutes on {}",
                        day.project_id,
                        day.project_name,
                        (day.active_ms + 30_000) / 60_000,
                        fairloop_domain::time::to_rfc3339(day.day * DAY_MS)
                            .get(..10)
                            .unwrap_or_default()
                    ),
                    created_by: None,
                    currency,
                    entries: if amount_minor == 0 {
                        Vec::new()
                    } else {
                        vec![
                            (AccountRef::BUDGET, -amount_minor),
                            (AccountRef::earnings(day.worker_id), amount_minor),
                        ]
                    },
                },
                None,
                now,
            )?;
            tx.execute(
                "UPDATE onboarding_time SET transaction_id = $1 WHERE project_id = $2 AND worker_id = $3 AND day = $4 \
                 AND org_id = $5 AND transaction_id IS NULL",
                params![posted.id(), day.project_id, day.worker_id, day.day, day.org_id],
            )?;
            Ok(posted)
        })
        .await
    }
}
