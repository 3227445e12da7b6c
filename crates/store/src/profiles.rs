//! Worker profiles, credentials, project requirements, invitations to projects and the matching query.
//!
//! Why these shapes: matching must rank 100,000 workers of an organization in well under 100 ms, so everything
//! the filter and the score read is copied onto one denormalized row per active worker, `worker_match`
//! (migration `0023_match_rows`: country, languages and best years per domain in compact strings, quality,
//! base points, lowest rate, time zone offset). Every write that changes one of those inputs rewrites the row in
//! its own transaction ([`refresh_match_row`]); the query filters and scores that one table and Rust explains
//! only the page it returns. Every statement is scoped by the organization. Quality is rolled up per worker from the quality job's `worker_quality` rows
//! ([`refresh_worker_quality`](#method.refresh_worker_quality)), so a claim and the matching list read the same
//! figure.

use std::collections::HashMap;

use fairloop_domain::workforce::{self, Level, WorkerFacts};
use fairloop_domain::{OrgId, ProjectId, UserId};

use crate::portable::{Param, Row, Tx};
use crate::{Store, StoreError, StoreResult, params};

/// A stored profile, with the user's name and country.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProfileRow {
    /// The worker.
    pub user_id: UserId,
    /// Their display name.
    pub name: String,
    /// Their role (`worker`, …).
    pub role: String,
    /// ISO 3166 alpha-2, from `users.country`.
    pub country: Option<String>,
    /// IANA time zone name.
    pub time_zone: Option<String>,
    /// Hours a week offered.
    pub hours_per_week: Option<i64>,
    /// Days offered (bit 0 = Monday).
    pub days_mask: i64,
    /// Lowest hourly rate accepted, minor units.
    pub min_rate_minor: Option<i64>,
    /// Its currency.
    pub min_rate_currency: Option<String>,
    /// Quality over past work in thousandths.
    pub quality_permille: Option<i64>,
    /// Expertise: domain key and years.
    pub expertise: Vec<(String, i64)>,
    /// Languages: code and level rank (1 = A1 … 7 = native).
    pub languages: Vec<(String, i64)>,
    /// Credentials, oldest first.
    pub credentials: Vec<CredentialRow>,
    /// Last change of the profile (0 when never saved).
    pub updated_at: i64,
}

impl ProfileRow {
    /// The facts requirements and the score look at.
    pub fn facts(&self) -> WorkerFacts {
        WorkerFacts {
            expertise: self.expertise.clone(),
            languages: self
                .languages
                .iter()
                .filter_map(|(l, r)| Level::from_rank(*r).map(|lv| (l.clone(), lv)))
                .collect(),
            country: self.country.clone(),
            quality_permille: self.quality_permille,
            hours_per_week: self.hours_per_week,
            min_rate: self.min_rate_minor.zip(self.min_rate_currency.clone()),
            utc_offset: self
                .time_zone
                .as_deref()
                .and_then(workforce::utc_offset_minutes),
        }
    }
}

/// A credential row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CredentialRow {
    /// Id.
    pub id: i64,
    /// The worker it belongs to.
    pub user_id: UserId,
    /// What it is ("Board certification in dermatology").
    pub title: String,
    /// Who issued it.
    pub issuer: String,
    /// Where the evidence's bytes are in the MediaStore.
    pub object_key: String,
    /// `application/pdf`, `image/png` or `image/jpeg` (from the bytes).
    pub content_type: String,
    /// Size of the evidence.
    pub size_bytes: i64,
    /// SHA-256 of the evidence (hex).
    pub sha256: String,
    /// `pending`, `verified` or `rejected`.
    pub status: String,
    /// The admin who decided, and their name.
    pub decided_by: Option<UserId>,
    /// The deciding admin's name.
    pub decided_by_name: Option<String>,
    /// When.
    pub decided_at: Option<i64>,
    /// Their note.
    pub note: Option<String>,
    /// Uploaded at.
    pub created_at: i64,
}

/// A profile as the worker saves it (validated by the use case).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProfileUpdate {
    /// Organization.
    pub org_id: OrgId,
    /// The worker.
    pub user_id: UserId,
    /// New country; `None` keeps it, `Some(None)` clears it.
    pub country: Option<Option<String>>,
    /// IANA name.
    pub time_zone: Option<String>,
    /// Hours a week.
    pub hours_per_week: Option<i64>,
    /// Day mask.
    pub days_mask: i64,
    /// Lowest rate and currency.
    pub min_rate: Option<(i64, String)>,
    /// Expertise (validated keys).
    pub expertise: Vec<(String, i64)>,
    /// Languages with level.
    pub languages: Vec<(String, Level)>,
}

/// A new credential.
#[derive(Debug, Clone)]
pub struct NewCredential {
    /// Organization.
    pub org_id: OrgId,
    /// The worker.
    pub user_id: UserId,
    /// Title.
    pub title: String,
    /// Issuer.
    pub issuer: String,
    /// MediaStore object key.
    pub object_key: String,
    /// Content type (from the bytes).
    pub content_type: String,
    /// Size.
    pub size_bytes: i64,
    /// SHA-256 hex.
    pub sha256: String,
    /// Now.
    pub now: i64,
}

/// The matching query's input.
#[derive(Debug, Clone, Default)]
pub struct MatchQuery {
    /// Organization (its worker pool).
    pub org_id: OrgId,
    /// Validated requirements.
    pub requirements: workforce::Requirements,
    /// The project's hourly rate and currency, when it pays by the hour.
    pub project_rate: Option<(i64, String)>,
    /// Page size.
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
}

/// One ranked worker.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchRow {
    /// The worker.
    pub user_id: UserId,
    /// Their name.
    pub name: String,
    /// The score (0 to 100).
    pub score: i64,
    /// Everything the reasons need.
    pub facts: WorkerFacts,
    /// Invited to this project already.
    pub invited: bool,
}

/// An invitation to a project, as the worker sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct InviteRow {
    /// The project.
    pub project_id: ProjectId,
    /// Its name.
    pub project_name: String,
    /// Who invited.
    pub invited_by_name: String,
    /// When.
    pub invited_at: i64,
}

const CREDENTIAL_COLUMNS: &str = "c.id, c.user_id, c.title, c.issuer, c.object_key, c.content_type, \
     c.size_bytes, c.sha256, c.status, c.decided_by, d.name, c.decided_at, c.note, c.created_at";

fn credential_from(r: &Row) -> StoreResult<CredentialRow> {
    Ok(CredentialRow {
        id: r.i64(0)?,
        user_id: r.i64(1)?,
        title: r.string(2)?,
        issuer: r.string(3)?,
        object_key: r.string(4)?,
        content_type: r.string(5)?,
        size_bytes: r.i64(6)?,
        sha256: r.string(7)?,
        status: r.string(8)?,
        decided_by: r.opt_i64(9)?,
        decided_by_name: r.opt_string(10)?,
        decided_at: r.opt_i64(11)?,
        note: r.opt_string(12)?,
        created_at: r.i64(13)?,
    })
}

/// Every project requirement of the organization (the stored JSON spec by project), inside a caller's transaction:
/// the home page and "projects for you" explain every project from it.
pub(crate) fn requirements_in(tx: &dyn Tx, org: OrgId) -> StoreResult<HashMap<ProjectId, String>> {
    tx.query(
        "SELECT project_id, spec FROM project_requirements WHERE org_id = $1",
        params![org],
    )?
    .iter()
    .map(|r| Ok((r.i64(0)?, r.string(1)?)))
    .collect()
}

/// Reads a user's profile inside a transaction; `None` when the user is not in the organization.
pub fn profile_in(tx: &dyn Tx, org: OrgId, user: UserId) -> StoreResult<Option<ProfileRow>> {
    let Some(u) = tx.query_opt(
        "SELECT u.name, u.role, u.country, p.time_zone, p.hours_per_week, p.days_mask, p.min_rate_minor, \
         p.min_rate_currency, p.quality_permille, p.updated_at \
         FROM users u LEFT JOIN worker_profiles p ON p.user_id = u.id AND p.org_id = u.org_id \
         WHERE u.id = $1 AND u.org_id = $2",
        params![user, org],
    )?
    else {
        return Ok(None);
    };
    let expertise = tx
        .query(
            "SELECT domain, years FROM worker_expertise WHERE user_id = $1 AND org_id = $2 ORDER BY years DESC, domain",
            params![user, org],
        )?
        .iter()
        .map(|r| Ok((r.string(0)?, r.i64(1)?)))
        .collect::<StoreResult<Vec<_>>>()?;
    let languages = tx
        .query(
            "SELECT language, level_rank FROM worker_languages WHERE user_id = $1 AND org_id = $2 \
             ORDER BY level_rank DESC, language",
            params![user, org],
        )?
        .iter()
        .map(|r| Ok((r.string(0)?, r.i64(1)?)))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Some(ProfileRow {
        user_id: user,
        name: u.string(0)?,
        role: u.string(1)?,
        country: u.opt_string(2)?,
        time_zone: u.opt_string(3)?,
        hours_per_week: u.opt_i64(4)?,
        days_mask: u.opt_i64(5)?.unwrap_or(0),
        min_rate_minor: u.opt_i64(6)?,
        min_rate_currency: u.opt_string(7)?,
        quality_permille: u.opt_i64(8)?,
        expertise,
        languages,
        credentials: Vec::new(),
        updated_at: u.opt_i64(9)?.unwrap_or(0),
    }))
}

/// The stored requirements of a project (JSON), read with its lifecycle in one statement: the claim path's
/// single read of project state (see `App::check_open_for_work`) carries them, so projects without
/// requirements cost no extra statement.
pub fn lifecycle_and_requirements(
    tx: &dyn Tx,
    org: OrgId,
    project: ProjectId,
) -> StoreResult<(Option<crate::lifecycle::Lifecycle>, Option<String>)> {
    let cols: Vec<String> = crate::lifecycle::COLUMNS
        .split(',')
        .map(|c| format!("l.{}", c.trim()))
        .collect();
    let Some(r) = tx.query_opt(
        &format!(
            "SELECT {}, r.spec FROM projects p \
             LEFT JOIN project_lifecycle l ON l.project_id = p.id AND l.org_id = p.org_id \
             LEFT JOIN project_requirements r ON r.project_id = p.id AND r.org_id = p.org_id \
             WHERE p.id = $1 AND p.org_id = $2",
            cols.join(", ")
        ),
        params![project, org],
    )?
    else {
        return Ok((None, None));
    };
    let spec = r.opt_string(cols.len())?;
    let lifecycle = if r.opt_string(0)?.is_some() {
        Some(crate::lifecycle::lifecycle_from(&r)?)
    } else {
        None
    };
    Ok((lifecycle, spec))
}

/// The compact forms of a worker's languages and expertise on the match row (the same as the backfill in
/// migration `0023_match_rows` writes): `langs` lists each language once per level it reaches (`,en1,…,en5,`),
/// `fit` the best years per top-level domain and per sub-domain, capped at 10 and written as years + 10
/// (`,medicine:18,medicine/dermatology:18,`); both are `,` when empty.
pub fn match_tokens(expertise: &[(String, i64)], languages: &[(String, i64)]) -> (String, String) {
    let mut langs = vec![String::new()];
    for (l, rank) in languages {
        for r in 1..=*rank {
            langs.push(format!("{l}{r}"));
        }
    }
    let mut best: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    for (domain, years) in expertise {
        let top = domain.split('/').next().unwrap_or(domain).to_string();
        let y = (*years).clamp(0, 10) + 10;
        let e = best.entry(top).or_insert(y);
        *e = (*e).max(y);
        if domain.contains('/') {
            let e = best.entry(domain.clone()).or_insert(y);
            *e = (*e).max(y);
        }
    }
    let mut fit = vec![String::new()];
    fit.extend(best.iter().map(|(k, y)| format!("{k}:{y}")));
    let close = |mut v: Vec<String>| {
        v.push(String::new());
        if v.len() == 2 {
            ",".to_string()
        } else {
            v.join(",")
        }
    };
    (close(fit), close(langs))
}

/// Rewrites the worker's match row from their user row, profile, expertise and languages, inside the caller's
/// transaction: deleted, or not a worker (or not in the organization), means no row. Called by every write that
/// changes an input (profile save, quality roll-up, country); account deletion removes the row and user creation
/// inserts an empty one (`sql::INSERT_MATCH_ROW`).
pub fn refresh_match_row(tx: &dyn Tx, org: OrgId, user: UserId) -> StoreResult<()> {
    let active = tx
        .query_opt(
            "SELECT u.id FROM users u WHERE u.id = $1 AND u.org_id = $2 AND u.role = 'worker' \
             AND u.deleted_at IS NULL",
            params![user, org],
        )?
        .is_some();
    let Some(p) = active
        .then(|| profile_in(tx, org, user))
        .transpose()?
        .flatten()
    else {
        tx.execute(
            "DELETE FROM worker_match WHERE org_id = $1 AND user_id = $2",
            params![org, user],
        )?;
        return Ok(());
    };
    let (fit, langs) = match_tokens(&p.expertise, &p.languages);
    let facts = p.facts();
    tx.execute(
        "INSERT INTO worker_match (org_id, user_id, country, langs, fit, quality_permille, base_points, \
         min_rate_minor, min_rate_currency, utc_offset) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (org_id, user_id) DO UPDATE SET country = excluded.country, langs = excluded.langs, \
         fit = excluded.fit, quality_permille = excluded.quality_permille, base_points = excluded.base_points, \
         min_rate_minor = excluded.min_rate_minor, min_rate_currency = excluded.min_rate_currency, \
         utc_offset = excluded.utc_offset",
        params![
            org,
            user,
            p.country.clone(),
            langs,
            fit,
            p.quality_permille,
            workforce::base_points(p.quality_permille, p.hours_per_week),
            p.min_rate_minor,
            p.min_rate_currency.clone(),
            facts.utc_offset
        ],
    )?;
    Ok(())
}

fn store_profile_points(
    tx: &dyn Tx,
    org: OrgId,
    user: UserId,
    quality: Option<i64>,
    hours: Option<i64>,
    now: i64,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO worker_profiles (user_id, org_id, quality_permille, base_points, updated_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id) DO UPDATE SET quality_permille = excluded.quality_permille, \
         base_points = excluded.base_points",
        params![
            user,
            org,
            quality,
            workforce::base_points(quality, hours),
            now
        ],
    )?;
    refresh_match_row(tx, org, user)
}

impl dyn Store + '_ {
    /// A user's profile with credentials; `None` for a user of another organization.
    pub async fn profile(&self, org: OrgId, user: UserId) -> StoreResult<Option<ProfileRow>> {
        self.read_tx(move |tx| {
            let Some(mut p) = profile_in(tx, org, user)? else {
                return Ok(None);
            };
            p.credentials = tx
                .query(
                    &format!(
                        "SELECT {CREDENTIAL_COLUMNS} FROM worker_credentials c \
                         LEFT JOIN users d ON d.id = c.decided_by WHERE c.user_id = $1 AND c.org_id = $2 \
                         ORDER BY c.id"
                    ),
                    params![user, org],
                )?
                .iter()
                .map(credential_from)
                .collect::<StoreResult<_>>()?;
            Ok(Some(p))
        })
        .await
    }

    /// Saves a worker's whole profile (expertise and languages replace what was there); `NotFound` for a user
    /// of another organization.
    pub async fn save_profile(&self, u: ProfileUpdate, now: i64) -> StoreResult<()> {
        self.write_tx(move |tx| {
            let (org, user) = (u.org_id, u.user_id);
            tx.query_opt(
                &format!(
                    "SELECT id FROM users WHERE id = $1 AND org_id = $2{}",
                    tx.for_update()
                ),
                params![user, org],
            )?
            .ok_or(StoreError::NotFound)?;
            if let Some(country) = &u.country {
                tx.execute(
                    "UPDATE users SET country = $1 WHERE id = $2 AND org_id = $3",
                    params![country.clone(), user, org],
                )?;
            }
            let quality = tx
                .query_opt(
                    "SELECT quality_permille FROM worker_profiles WHERE user_id = $1 AND org_id = $2",
                    params![user, org],
                )?
                .map(|r| r.opt_i64(0))
                .transpose()?
                .flatten();
            let (rate, currency) = match &u.min_rate {
                Some((r, c)) => (Some(*r), Some(c.clone())),
                None => (None, None),
            };
            tx.execute(
                "INSERT INTO worker_profiles (user_id, org_id, time_zone, hours_per_week, days_mask, \
                 min_rate_minor, min_rate_currency, quality_permille, base_points, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (user_id) DO UPDATE SET \
                 time_zone = excluded.time_zone, hours_per_week = excluded.hours_per_week, \
                 days_mask = excluded.days_mask, min_rate_minor = excluded.min_rate_minor, \
                 min_rate_currency = excluded.min_rate_currency, base_points = excluded.base_points, \
                 updated_at = excluded.updated_at",
                params![
                    user,
                    org,
                    u.time_zone.clone(),
                    u.hours_per_week,
                    u.days_mask,
                    rate,
                    currency,
                    quality,
                    workforce::base_points(quality, u.hours_per_week),
                    now
                ],
            )?;
            tx.execute(
                "DELETE FROM worker_expertise WHERE user_id = $1 AND org_id = $2",
                params![user, org],
            )?;
            for (domain, years) in &u.expertise {
                let top = domain.split('/').next().unwrap_or(domain);
                tx.execute(
                    "INSERT INTO worker_expertise (user_id, org_id, domain, top, years) VALUES ($1, $2, $3, $4, $5)",
                    params![user, org, domain.as_str(), top, *years],
                )?;
            }
            tx.execute(
                "DELETE FROM worker_languages WHERE user_id = $1 AND org_id = $2",
                params![user, org],
            )?;
            for (language, level) in &u.languages {
                tx.execute(
                    "INSERT INTO worker_languages (user_id, org_id, language, level_rank) VALUES ($1, $2, $3, $4)",
                    params![user, org, language.as_str(), level.rank()],
                )?;
            }
            refresh_match_row(tx, org, user)
        })
        .await
    }

    /// Records a credential whose evidence is already in the MediaStore.
    pub async fn add_credential(&self, c: NewCredential) -> StoreResult<i64> {
        self.write_tx(move |tx| {
            tx.query_one(
                    "INSERT INTO worker_credentials (org_id, user_id, title, issuer, object_key, content_type, \
                     size_bytes, sha256, status, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9) RETURNING id",
                    params![
                        c.org_id,
                        c.user_id,
                        c.title.as_str(),
                        c.issuer.as_str(),
                        c.object_key.as_str(),
                        c.content_type.as_str(),
                        c.size_bytes,
                        c.sha256.as_str(),
                        c.now
                    ],
                )?
                .i64(0)
        })
        .await
    }

    /// One credential of the organization.
    pub async fn credential(&self, org: OrgId, id: i64) -> StoreResult<Option<CredentialRow>> {
        self.read_tx(move |tx| {
            tx.query_opt(
                &format!(
                    "SELECT {CREDENTIAL_COLUMNS} FROM worker_credentials c LEFT JOIN users d ON d.id = c.decided_by \
                     WHERE c.id = $1 AND c.org_id = $2"
                ),
                params![id, org],
            )?
            .as_ref()
            .map(credential_from)
            .transpose()
        })
        .await
    }

    /// Records an admin's decision on a credential (`verified` or `rejected`); a later decision replaces it.
    pub async fn decide_credential(
        &self,
        org: OrgId,
        id: i64,
        status: &'static str,
        by: UserId,
        note: Option<String>,
        now: i64,
    ) -> StoreResult<()> {
        self.write_tx(move |tx| {
            let n = tx.execute(
                "UPDATE worker_credentials SET status = $1, decided_by = $2, decided_at = $3, note = $4 \
                 WHERE id = $5 AND org_id = $6",
                params![status, by, now, note.clone(), id, org],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    /// Sets (or with `None` removes) a project's requirements; `NotFound` for another organization's project.
    pub async fn set_requirements(
        &self,
        org: OrgId,
        project: ProjectId,
        spec: Option<String>,
        by: UserId,
        now: i64,
    ) -> StoreResult<()> {
        self.write_tx(move |tx| {
            tx.query_opt(
                "SELECT id FROM projects WHERE id = $1 AND org_id = $2",
                params![project, org],
            )?
            .ok_or(StoreError::NotFound)?;
            match &spec {
                Some(s) => tx.execute(
                    "INSERT INTO project_requirements (project_id, org_id, spec, updated_by, updated_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project_id) DO UPDATE SET spec = excluded.spec, \
                     updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                    params![project, org, s.as_str(), by, now],
                )?,
                None => tx.execute(
                    "DELETE FROM project_requirements WHERE project_id = $1 AND org_id = $2",
                    params![project, org],
                )?,
            };
            Ok(())
        })
        .await
    }

    /// A project's requirements (JSON), `None` when it has none.
    pub async fn requirements(
        &self,
        org: OrgId,
        project: ProjectId,
    ) -> StoreResult<Option<String>> {
        self.read_tx(move |tx| {
            tx.query_opt(
                "SELECT spec FROM project_requirements WHERE project_id = $1 AND org_id = $2",
                params![project, org],
            )?
            .map(|r| r.string(0))
            .transpose()
        })
        .await
    }

    /// Every project requirement of the organization and the worker's profile, in one read: the home page and
    /// "projects for you" explain every project from it.
    pub async fn requirements_and_profile(
        &self,
        org: OrgId,
        user: UserId,
    ) -> StoreResult<(HashMap<ProjectId, String>, Option<ProfileRow>)> {
        self.read_tx(move |tx| {
            let reqs = requirements_in(tx, org)?;
            Ok((reqs, profile_in(tx, org, user)?))
        })
        .await
    }

    /// The worker's profile facts for a claim (only read for projects with requirements).
    pub async fn worker_facts(&self, org: OrgId, user: UserId) -> StoreResult<WorkerFacts> {
        self.read_tx(move |tx| {
            Ok(profile_in(tx, org, user)?
                .map(|p| p.facts())
                .unwrap_or_default())
        })
        .await
    }

    /// Rolls the quality of every worker of `project` up over all their work in the organization: gold accuracy
    /// when they have gold answers, otherwise agreement with the aggregate; stored in thousandths with the
    /// score's base points. Called by the quality job after it saves a project's figures.
    pub async fn refresh_worker_quality(
        &self,
        org: OrgId,
        project: ProjectId,
        now: i64,
    ) -> StoreResult<usize> {
        self.write_tx(move |tx| {
            let rows = tx.query(
                "SELECT q.worker_id, CAST(SUM(q.compared) AS BIGINT), CAST(SUM(q.agreed) AS BIGINT), \
                 CAST(SUM(q.gold_answers) AS BIGINT), SUM(q.gold_score_sum), p.hours_per_week \
                 FROM worker_quality q LEFT JOIN worker_profiles p ON p.user_id = q.worker_id \
                 WHERE q.org_id = $1 AND q.worker_id IN (SELECT worker_id FROM worker_quality \
                 WHERE project_id = $2 AND org_id = $1) GROUP BY q.worker_id, p.hours_per_week",
                params![org, project],
            )?;
            for r in &rows {
                let (compared, agreed, gold, gold_sum) =
                    (r.i64(1)?, r.i64(2)?, r.i64(3)?, r.opt_f64(4)?.unwrap_or(0.0));
                let q = if gold > 0 {
                    Some(((gold_sum / gold as f64) * 1000.0).round() as i64)
                } else if compared > 0 {
                    Some((agreed * 1000 + compared / 2) / compared)
                } else {
                    None
                };
                store_profile_points(tx, org, r.i64(0)?, q, r.opt_i64(5)?, now)?;
            }
            Ok(rows.len())
        })
        .await
    }

    /// The ranked, eligible workers of the organization for requirements, a page at a time, and how many there
    /// are in all. The filter is the SQL twin of `workforce::unmet`; the score is `workforce::score`.
    pub async fn match_workers(
        &self,
        q: MatchQuery,
        project: Option<ProjectId>,
    ) -> StoreResult<(i64, Vec<MatchRow>)> {
        self.read_tx(move |tx| match_in(tx, &q, project)).await
    }

    /// Invites a worker of the organization to a project; `false` when already invited; `NotFound` when either
    /// is not in the organization (or the user is not a worker).
    pub async fn invite_to_project(
        &self,
        org: OrgId,
        project: ProjectId,
        worker: UserId,
        by: UserId,
        now: i64,
    ) -> StoreResult<bool> {
        self.write_tx(move |tx| {
            tx.query_opt(
                "SELECT id FROM projects WHERE id = $1 AND org_id = $2",
                params![project, org],
            )?
            .ok_or(StoreError::NotFound)?;
            tx.query_opt(
                "SELECT id FROM users WHERE id = $1 AND org_id = $2 AND role = 'worker'",
                params![worker, org],
            )?
            .ok_or(StoreError::NotFound)?;
            Ok(tx.execute(
                "INSERT INTO project_invites (project_id, worker_id, org_id, invited_by, invited_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project_id, worker_id) DO NOTHING",
                params![project, worker, org, by, now],
            )? == 1)
        })
        .await
    }

    /// The worker's invitations, newest first.
    pub async fn my_project_invites(
        &self,
        org: OrgId,
        worker: UserId,
    ) -> StoreResult<Vec<InviteRow>> {
        self.read_tx(move |tx| {
            tx.query(
                "SELECT i.project_id, p.name, u.name, i.invited_at FROM project_invites i \
                 JOIN projects p ON p.id = i.project_id AND p.org_id = i.org_id \
                 JOIN users u ON u.id = i.invited_by WHERE i.org_id = $1 AND i.worker_id = $2 \
                 ORDER BY i.invited_at DESC, i.project_id",
                params![org, worker],
            )?
            .iter()
            .map(|r| {
                Ok(InviteRow {
                    project_id: r.i64(0)?,
                    project_name: r.string(1)?,
                    invited_by_name: r.string(2)?,
                    invited_at: r.i64(3)?,
                })
            })
            .collect()
        })
        .await
    }
}

/// Numbered parameters for a statement built piece by piece.
struct Binds(Vec<Param>);

impl Binds {
    fn add(&mut self, p: impl Into<Param>) -> String {
        self.0.push(p.into());
        format!("${}", self.0.len())
    }
    fn list(&mut self, items: &[String]) -> String {
        items
            .iter()
            .map(|i| self.add(i.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn match_in(
    tx: &dyn Tx,
    q: &MatchQuery,
    project: Option<ProjectId>,
) -> StoreResult<(i64, Vec<MatchRow>)> {
    let req = &q.requirements;
    let pg = tx.backend() == crate::portable::Backend::Postgres;
    let mut b = Binds(Vec::new());
    let org = b.add(q.org_id);
    // Everything reads the organization's match rows (`worker_match`, one per active worker): one pass over
    // one narrow table, with no join per candidate.
    let mut filter = format!("m.org_id = {org}");
    let domain_points = if req.domains.is_empty() {
        workforce::NO_DOMAIN_POINTS.to_string()
    } else {
        // The best capped years in a fitting domain, -1 when none fits: a top-level requirement reads the
        // top-level token (`,medicine:18,`, the best of the domain and its sub-domains), a sub-domain its own.
        let find = if pg { "strpos" } else { "instr" };
        let years: Vec<String> = req
            .domains
            .iter()
            .map(|d| {
                let key = format!(",{d}:");
                let len = key.len();
                let k = b.add(key);
                format!(
                    "(CASE WHEN {find}(m.fit, {k}) > 0 THEN CAST(substr(m.fit, {find}(m.fit, {k}) + {len}, 2) \
                     AS INTEGER) - 10 ELSE -1 END)"
                )
            })
            .collect();
        let best = if years.len() == 1 {
            years[0].clone()
        } else if pg {
            format!("GREATEST({})", years.join(", "))
        } else {
            format!("max({})", years.join(", "))
        };
        filter += &format!(" AND {best} >= 0");
        format!("4 * {best}")
    };
    // Sub-domains only (`medicine/dermatology`): a few percent of the pool at most, so the candidates come from
    // the expertise index and each is one primary-key read of its match row, instead of a pass over them all.
    let from = if !req.domains.is_empty() && req.domains.iter().all(|d| d.contains('/')) {
        format!(
            "(SELECT DISTINCT user_id FROM worker_expertise WHERE org_id = {org} AND domain IN ({})) c \
             JOIN worker_match m ON m.org_id = {org} AND m.user_id = c.user_id",
            b.list(&req.domains)
        )
    } else {
        "worker_match m".to_string()
    };
    if !req.countries.is_empty() {
        filter += &format!(" AND m.country IN ({})", b.list(&req.countries));
    }
    for need in &req.languages {
        let rank = Level::parse("min_level", &need.min_level)
            .map(Level::rank)
            .unwrap_or(7);
        filter += &format!(
            " AND m.langs LIKE {}",
            b.add(format!("%,{}{rank},%", need.language))
        );
    }
    if let Some(min) = req.min_quality_permille() {
        filter += &format!(" AND (m.quality_permille >= {}", b.add(min));
        filter += if req.exclude_without_history {
            ")"
        } else {
            " OR m.quality_permille IS NULL)"
        };
    }
    if let Some(range) = &req.utc_offset {
        let (min, max) = range.minutes();
        filter += &format!(
            " AND m.utc_offset >= {} AND m.utc_offset <= {}",
            b.add(min),
            b.add(max)
        );
    }
    let n_filter = b.0.len();
    let rate_points = match &q.project_rate {
        Some((rate, currency)) => format!(
            "(CASE WHEN m.min_rate_minor IS NULL OR m.min_rate_currency IS NULL OR m.min_rate_currency <> {c} \
             THEN {unknown} WHEN m.min_rate_minor <= {r} THEN {full} ELSE 0 END)",
            c = b.add(currency.as_str()),
            r = b.add(*rate),
            unknown = workforce::UNKNOWN_RATE_POINTS,
            full = workforce::RATE_POINTS,
        ),
        None => workforce::UNKNOWN_RATE_POINTS.to_string(),
    };
    let limit = b.add(q.limit);
    let offset = b.add(q.offset);
    let sql = format!(
        // Only the id and the score go through the sort: the page's details are read afterwards for 50 ids
        // rather than carried along for every eligible worker.
        "SELECT m.user_id, {domain_points} + m.base_points + {rate_points} AS score \
         FROM {from} WHERE {filter} ORDER BY score DESC, m.user_id LIMIT {limit} OFFSET {offset}"
    );
    let rows = tx.query(&sql, &b.0)?;
    // The total is a count of its own (a window count would make SQLite materialize every eligible row before
    // the top-N sort), read only when the page does not already tell it: a short, non-empty page (or a short
    // first page) ends the list.
    let total =
        if !rows.is_empty() && (rows.len() as i64) < q.limit || q.offset == 0 && rows.is_empty() {
            q.offset + rows.len() as i64
        } else {
            tx.query_one(
                &format!("SELECT COUNT(*) FROM {from} WHERE {filter}"),
                &b.0[..n_filter],
            )?
            .i64(0)?
        };
    let ids: Vec<i64> = rows.iter().map(|r| r.i64(0)).collect::<StoreResult<_>>()?;
    // The page's expertise and languages, for the reasons: two reads of at most a page of workers.
    let mut expertise: HashMap<i64, Vec<(String, i64)>> = HashMap::new();
    let mut languages: HashMap<i64, Vec<(String, Level)>> = HashMap::new();
    if !ids.is_empty() {
        let mut b2 = Binds(Vec::new());
        let o = b2.add(q.org_id);
        let list = ids
            .iter()
            .map(|i| b2.add(*i))
            .collect::<Vec<_>>()
            .join(", ");
        for r in tx.query(
            &format!(
                "SELECT user_id, domain, years FROM worker_expertise WHERE org_id = {o} AND user_id IN ({list}) \
                 ORDER BY years DESC, domain"
            ),
            &b2.0,
        )? {
            expertise
                .entry(r.i64(0)?)
                .or_default()
                .push((r.string(1)?, r.i64(2)?));
        }
        for r in tx.query(
            &format!(
                "SELECT user_id, language, level_rank FROM worker_languages WHERE org_id = {o} \
                 AND user_id IN ({list}) ORDER BY level_rank DESC, language"
            ),
            &b2.0,
        )? {
            if let Some(l) = Level::from_rank(r.i64(2)?) {
                languages
                    .entry(r.i64(0)?)
                    .or_default()
                    .push((r.string(1)?, l));
            }
        }
    }
    let mut details: HashMap<i64, Row> = HashMap::new();
    if !ids.is_empty() {
        let mut b3 = Binds(Vec::new());
        let o = b3.add(q.org_id);
        let list = ids
            .iter()
            .map(|i| b3.add(*i))
            .collect::<Vec<_>>()
            .join(", ");
        let invited = match project {
            Some(pid) => format!(
                "EXISTS (SELECT 1 FROM project_invites i WHERE i.project_id = {} AND i.worker_id = u.id)",
                b3.add(pid)
            ),
            None => "0 = 1".to_string(),
        };
        for r in tx.query(
            &format!(
                "SELECT u.id, u.name, u.country, p.hours_per_week, p.min_rate_minor, p.min_rate_currency, \
                 p.quality_permille, CASE WHEN {invited} THEN 1 ELSE 0 END, p.time_zone FROM users u \
                 LEFT JOIN worker_profiles p ON p.user_id = u.id AND p.org_id = u.org_id \
                 WHERE u.org_id = {o} AND u.id IN ({list})"
            ),
            &b3.0,
        )? {
            details.insert(r.i64(0)?, r);
        }
    }
    let out = rows
        .iter()
        .map(|r| {
            let id = r.i64(0)?;
            let d = details.get(&id).ok_or(StoreError::NotFound)?;
            Ok(MatchRow {
                user_id: id,
                name: d.string(1)?,
                score: r.i64(1)?,
                invited: d.i64(7)? == 1,
                facts: WorkerFacts {
                    expertise: expertise.remove(&id).unwrap_or_default(),
                    languages: languages.remove(&id).unwrap_or_default(),
                    country: d.opt_string(2)?,
                    quality_permille: d.opt_i64(6)?,
                    hours_per_week: d.opt_i64(3)?,
                    min_rate: d.opt_i64(4)?.zip(d.opt_string(5)?),
                    utc_offset: d
                        .opt_string(8)?
                        .as_deref()
                        .and_then(workforce::utc_offset_minutes),
                },
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    Ok((total, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_tokens_list_levels_reached_and_capped_best_years() {
        let (fit, langs) = match_tokens(
            &[
                ("medicine/dermatology".into(), 15),
                ("medicine".into(), 3),
                ("law/tax".into(), 4),
            ],
            &[("en".into(), 2), ("de".into(), 1)],
        );
        assert_eq!(
            fit,
            ",law:14,law/tax:14,medicine:20,medicine/dermatology:20,"
        );
        assert_eq!(langs, ",en1,en2,de1,");
        assert_eq!(match_tokens(&[], &[]), (",".to_string(), ",".to_string()));
    }

    #[test]
    fn a_new_workers_row_has_the_base_points_of_an_empty_profile() {
        // `sql::INSERT_MATCH_ROW` and the backfill of migration 0023 write this figure as a literal.
        assert_eq!(workforce::base_points(None, None), 20);
        assert!(crate::sql::INSERT_MATCH_ROW.contains("',', ',', 20 FROM users"));
        for m in [
            include_str!("../migrations/sqlite/0023_match_rows.sql"),
            include_str!("../migrations/postgres/0023_match_rows.sql"),
        ] {
            assert!(m.contains("COALESCE(p.base_points, 20)"));
        }
    }
}
