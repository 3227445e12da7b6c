//! Worker profiles, credentials with evidence, project requirements, eligibility and matching (issue 7, points
//! 1, 2 and 5; see docs/workforce.md).
//!
//! Why it is shaped like this: everything works inside one organization's worker pool (the org that owns the
//! project), so every read and write is scoped by the caller's organization and another org's worker or project
//! is simply "not found". The rules (taxonomy, levels, eligibility, score) live in `domain::workforce`; this
//! module checks roles, validates input with errors that name the field, stores credential evidence in the
//! MediaStore, and turns unmet requirements into `403 not_eligible` with the list of reasons. The eligibility
//! check returns a list so that further requirement kinds (qualifications) add their reasons to it.

use std::collections::HashMap;

use fairloop_domain::time::now_millis;
use fairloop_domain::workforce::{self, FieldError, Level, Requirements, Unmet};
use fairloop_domain::{ProjectId, Role, UserId};
use fairloop_media::ObjectKey;
use fairloop_store::Principal;
use fairloop_store::profiles::{
    CredentialRow, MatchQuery, NewCredential, ProfileRow, ProfileUpdate,
};
use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::error::NotFoundAs;
use crate::notices::{NoticeKind, Notify};
use crate::{App, AppError, AppResult};

/// Most expertise entries on one profile.
pub const MAX_EXPERTISE: usize = 30;
/// Most languages on one profile.
pub const MAX_LANGUAGES: usize = 20;
/// Most workers on one page of matches.
pub const MAX_MATCH_PAGE: i64 = 200;

fn field_error(e: FieldError) -> AppError {
    AppError::Invalid {
        code: "invalid_profile",
        message: e.to_string(),
        details: Some(serde_json::json!({ "field": e.field })),
    }
}

fn invalid_field(code: &'static str, field: &str, message: impl Into<String>) -> AppError {
    let message = message.into();
    AppError::Invalid {
        code,
        message: format!("{field}: {message}"),
        details: Some(serde_json::json!({ "field": field })),
    }
}

/// One area of expertise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Expertise {
    /// A taxonomy key (`medicine/dermatology`; see `GET /api/v1/taxonomy`).
    pub domain: String,
    /// Years of experience (0 to 70).
    pub years: i64,
    /// The plain label (in answers only).
    #[serde(default, skip_deserializing)]
    pub label: String,
}

/// A language with a level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LanguageLevel {
    /// ISO 639-1 code (`en`).
    pub language: String,
    /// `A1`…`C2` or `native`.
    pub level: String,
}

/// Weekly availability.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Availability {
    /// Hours a week (0 to 80).
    #[serde(default)]
    pub hours_per_week: Option<i64>,
    /// Days: `mon` … `sun`.
    #[serde(default)]
    pub days: Vec<String>,
}

/// The lowest hourly rate a worker accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MinRate {
    /// Minor units per hour (cents).
    pub amount_minor: i64,
    /// ISO 4217 code of the organization's pay (`USD`).
    pub currency: String,
}

/// The body of `PUT /api/v1/me/profile`: the whole profile (lists replace what was there).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileInput {
    /// Areas of expertise.
    #[serde(default)]
    pub expertise: Vec<Expertise>,
    /// Languages.
    #[serde(default)]
    pub languages: Vec<LanguageLevel>,
    /// ISO 3166 alpha-2; left out keeps the stored one, `""` clears it.
    #[serde(default)]
    pub country: Option<String>,
    /// IANA time zone name (`Europe/Berlin`).
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Weekly availability.
    #[serde(default)]
    pub availability: Availability,
    /// The lowest hourly rate accepted.
    #[serde(default)]
    pub min_rate: Option<MinRate>,
}

/// A credential as shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CredentialView {
    /// Id.
    pub id: i64,
    /// What it is.
    pub title: String,
    /// Who issued it.
    pub issuer: String,
    /// `pending`, `verified` or `rejected`.
    pub status: String,
    /// The admin who decided.
    pub decided_by: Option<String>,
    /// When (RFC 3339 UTC).
    pub decided_at: Option<String>,
    /// The admin's note.
    pub note: Option<String>,
    /// The evidence's type (from its bytes).
    pub content_type: String,
    /// Its size.
    pub size_bytes: i64,
    /// Where the owner and the organization's admins read the evidence.
    pub document_url: String,
}

impl From<&CredentialRow> for CredentialView {
    fn from(c: &CredentialRow) -> Self {
        CredentialView {
            id: c.id,
            title: c.title.clone(),
            issuer: c.issuer.clone(),
            status: c.status.clone(),
            decided_by: c.decided_by_name.clone(),
            decided_at: c.decided_at.map(fairloop_domain::time::to_rfc3339),
            note: c.note.clone(),
            content_type: c.content_type.clone(),
            size_bytes: c.size_bytes,
            document_url: format!("/api/v1/credentials/{}/document", c.id),
        }
    }
}

/// A worker's profile as shown to themselves and to their organization's managers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProfileView {
    /// The worker.
    pub user_id: i64,
    /// Their name.
    pub name: String,
    /// Areas of expertise, most years first.
    pub expertise: Vec<Expertise>,
    /// Languages, highest level first.
    pub languages: Vec<LanguageLevel>,
    /// Country (ISO 3166 alpha-2).
    pub country: Option<String>,
    /// IANA time zone.
    pub time_zone: Option<String>,
    /// Weekly availability.
    pub availability: Availability,
    /// Lowest hourly rate accepted.
    pub min_rate: Option<MinRate>,
    /// Quality over past work (0 to 1), from the quality job; null without history.
    pub quality: Option<f64>,
    /// Credentials with their verification.
    pub credentials: Vec<CredentialView>,
    /// Last change (RFC 3339 UTC), null if never saved.
    pub updated_at: Option<String>,
}

impl From<&ProfileRow> for ProfileView {
    fn from(p: &ProfileRow) -> Self {
        ProfileView {
            user_id: p.user_id,
            name: p.name.clone(),
            expertise: p
                .expertise
                .iter()
                .map(|(d, y)| Expertise {
                    domain: d.clone(),
                    years: *y,
                    label: workforce::domain_label(d).to_string(),
                })
                .collect(),
            languages: p
                .languages
                .iter()
                .filter_map(|(l, r)| {
                    Level::from_rank(*r).map(|lv| LanguageLevel {
                        language: l.clone(),
                        level: lv.as_str().to_string(),
                    })
                })
                .collect(),
            country: p.country.clone(),
            time_zone: p.time_zone.clone(),
            availability: Availability {
                hours_per_week: p.hours_per_week,
                days: workforce::mask_days(p.days_mask),
            },
            min_rate: p.min_rate_minor.zip(p.min_rate_currency.clone()).map(
                |(amount_minor, currency)| MinRate {
                    amount_minor,
                    currency,
                },
            ),
            quality: p.quality_permille.map(|q| q as f64 / 1000.0),
            credentials: p.credentials.iter().map(CredentialView::from).collect(),
            updated_at: (p.updated_at > 0).then(|| fairloop_domain::time::to_rfc3339(p.updated_at)),
        }
    }
}

/// An admin's decision on a credential.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialDecision {
    /// `true` verifies the credential, `false` rejects it.
    pub verified: bool,
    /// Why (shown to the worker).
    #[serde(default)]
    pub note: Option<String>,
}

/// Why a project is or is not open to the caller.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Eligibility {
    /// Open to the caller.
    pub eligible: bool,
    /// What is missing (empty when eligible).
    #[schema(value_type = Vec<Object>)]
    pub unmet: Vec<Unmet>,
    /// `needs: Dermatology; C1 English`, or empty.
    pub needs: String,
}

impl Eligibility {
    fn of(unmet: Vec<Unmet>) -> Eligibility {
        Eligibility {
            eligible: unmet.is_empty(),
            needs: if unmet.is_empty() {
                String::new()
            } else {
                workforce::needs_line(&unmet)
            },
            unmet,
        }
    }
}

/// One ranked worker for a project.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MatchView {
    /// The worker.
    pub worker_id: i64,
    /// Their name.
    pub name: String,
    /// 0 to 100: domain fit (40), quality history (30), availability (15), pay vs their lowest rate (15).
    pub score: i64,
    /// The reasons, one short sentence per part.
    pub reasons: Vec<String>,
    /// Invited to this project already.
    pub invited: bool,
}

/// A page of matches.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MatchPage {
    /// Eligible workers in all.
    pub total: i64,
    /// This page, best first.
    pub workers: Vec<MatchView>,
    /// The page number (from 1).
    pub page: i64,
    /// Workers per page.
    pub per_page: i64,
}

/// A project offered to the caller, ranked like matching ranks workers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProjectForYou {
    /// The project.
    pub project_id: i64,
    /// Its name.
    pub name: String,
    /// The same score as the project's matching list gives the caller.
    pub score: i64,
    /// The reasons.
    pub reasons: Vec<String>,
    /// A requester invited the caller.
    pub invited: bool,
}

/// An invitation to a project.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProjectInviteView {
    /// The project.
    pub project_id: i64,
    /// Its name.
    pub project_name: String,
    /// Who invited.
    pub invited_by: String,
    /// When (RFC 3339 UTC).
    pub invited_at: String,
}

/// The project's hourly rate and currency, when it pays by the hour.
pub(crate) fn hourly_rate(pay: Option<&str>) -> Option<(i64, String)> {
    let v: serde_json::Value = serde_json::from_str(pay?).ok()?;
    if v["model"].as_str()? != "hourly" {
        return None;
    }
    Some((
        v["rate_minor"].as_i64()?,
        v["currency"].as_str()?.to_string(),
    ))
}

/// Whether each of `projects` is open to a worker with `profile`, given the organization's requirements (the
/// stored specs by project): the profile's part of eligibility, from data already read.
pub(crate) fn eligibility_of(
    requirements: &HashMap<ProjectId, String>,
    profile: Option<&ProfileRow>,
    projects: &[ProjectId],
) -> AppResult<HashMap<ProjectId, Eligibility>> {
    let facts = profile.map(|p| p.facts()).unwrap_or_default();
    let mut out = HashMap::new();
    for id in projects {
        let unmet = match requirements.get(id) {
            Some(s) => workforce::unmet(&parse_requirements(s)?, &facts),
            None => Vec::new(),
        };
        out.insert(*id, Eligibility::of(unmet));
    }
    Ok(out)
}

/// Parses stored requirements (written by this module, so a failure is ours).
pub(crate) fn parse_requirements(spec: &str) -> AppResult<Requirements> {
    serde_json::from_str(spec).map_err(|e| AppError::Internal(format!("stored requirements: {e}")))
}

/// Checks requirements from a request; errors name the field.
pub fn validate_requirements(req: Requirements) -> AppResult<Requirements> {
    req.validate().map_err(|e| AppError::Invalid {
        code: "invalid_requirements",
        message: e.to_string(),
        details: Some(serde_json::json!({ "field": e.field })),
    })
}

fn not_eligible(unmet: Vec<Unmet>) -> AppError {
    let needs = workforce::needs_line(&unmet);
    AppError::Refused {
        code: "not_eligible",
        message: format!("this project is not open to you: it {needs} (see your profile)"),
        details: Some(serde_json::json!({ "reasons": unmet })),
    }
}

fn require_admin(p: &Principal) -> AppResult<()> {
    if p.role == Role::Admin {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "verifying credentials needs the admin role; you are a {}",
            p.role
        )))
    }
}

impl App {
    /// The caller's own profile.
    pub async fn my_profile(&self, principal: &Principal) -> AppResult<ProfileView> {
        let p = self
            .store
            .profile(principal.org_id, principal.user_id)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        Ok(ProfileView::from(&p))
    }

    /// A worker's profile for their organization's requesters, reviewers and admins (404 for anyone of another
    /// organization; a worker may read only their own).
    pub async fn worker_profile(
        &self,
        principal: &Principal,
        worker: UserId,
    ) -> AppResult<ProfileView> {
        if worker != principal.user_id
            && !(principal.role.can_manage_projects() || principal.role == Role::Reviewer)
        {
            return Err(AppError::forbidden("a worker sees only their own profile"));
        }
        let p = self
            .store
            .profile(principal.org_id, worker)
            .await?
            .ok_or(AppError::NotFound("worker"))?;
        Ok(ProfileView::from(&p))
    }

    /// Saves the caller's whole profile; every bad value is an error naming its field.
    pub async fn save_my_profile(
        &self,
        principal: &Principal,
        input: ProfileInput,
    ) -> AppResult<ProfileView> {
        if input.expertise.len() > MAX_EXPERTISE {
            return Err(invalid_field(
                "invalid_profile",
                "expertise",
                format!("at most {MAX_EXPERTISE} entries"),
            ));
        }
        if input.languages.len() > MAX_LANGUAGES {
            return Err(invalid_field(
                "invalid_profile",
                "languages",
                format!("at most {MAX_LANGUAGES} entries"),
            ));
        }
        let mut expertise: Vec<(String, i64)> = Vec::new();
        for (i, e) in input.expertise.iter().enumerate() {
            let d = workforce::domain(&format!("expertise[{i}].domain"), e.domain.trim())
                .map_err(field_error)?;
            if !(0..=70).contains(&e.years) {
                return Err(invalid_field(
                    "invalid_profile",
                    &format!("expertise[{i}].years"),
                    format!("must be from 0 to 70, got {}", e.years),
                ));
            }
            if expertise.iter().any(|(k, _)| k == d.key) {
                return Err(invalid_field(
                    "invalid_profile",
                    &format!("expertise[{i}].domain"),
                    format!("{} is listed twice", d.key),
                ));
            }
            expertise.push((d.key.to_string(), e.years));
        }
        let mut languages: Vec<(String, Level)> = Vec::new();
        for (i, l) in input.languages.iter().enumerate() {
            let code = workforce::language(&format!("languages[{i}].language"), &l.language)
                .map_err(field_error)?;
            let level =
                Level::parse(&format!("languages[{i}].level"), &l.level).map_err(field_error)?;
            if languages.iter().any(|(c, _)| *c == code) {
                return Err(invalid_field(
                    "invalid_profile",
                    &format!("languages[{i}].language"),
                    format!("{code} is listed twice"),
                ));
            }
            languages.push((code, level));
        }
        let country = match input.country.as_deref().map(str::trim) {
            None => None,
            Some("") => Some(None),
            Some(c) => Some(Some(workforce::country("country", c).map_err(field_error)?)),
        };
        let time_zone = match input.time_zone.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(tz) => Some(workforce::time_zone("time_zone", tz).map_err(field_error)?),
        };
        if let Some(h) = input.availability.hours_per_week
            && !(0..=80).contains(&h)
        {
            return Err(invalid_field(
                "invalid_profile",
                "availability.hours_per_week",
                format!("must be from 0 to 80, got {h}"),
            ));
        }
        let days_mask = workforce::days_mask("availability.days", &input.availability.days)
            .map_err(field_error)?;
        let min_rate = match input.min_rate {
            None => None,
            Some(r) => {
                if !(0..=100_000_000).contains(&r.amount_minor) {
                    return Err(invalid_field(
                        "invalid_profile",
                        "min_rate.amount_minor",
                        "must be from 0 to 100000000 minor units an hour",
                    ));
                }
                let c = r.currency.trim().to_ascii_uppercase();
                if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
                    return Err(invalid_field(
                        "invalid_profile",
                        "min_rate.currency",
                        format!("{:?} is not an ISO 4217 code such as USD", r.currency),
                    ));
                }
                Some((r.amount_minor, c))
            }
        };
        self.store
            .save_profile(
                ProfileUpdate {
                    org_id: principal.org_id,
                    user_id: principal.user_id,
                    country,
                    time_zone,
                    hours_per_week: input.availability.hours_per_week,
                    days_mask,
                    min_rate,
                    expertise,
                    languages,
                },
                now_millis(),
            )
            .await
            .or_not_found("user")?;
        self.my_profile(principal).await
    }

    /// Stores a credential with its evidence: the type is read from the bytes (PDF, PNG or JPEG), never the
    /// name or a header; the bytes go to the MediaStore under a generated name.
    pub async fn add_credential(
        &self,
        principal: &Principal,
        title: &str,
        issuer: &str,
        bytes: Vec<u8>,
    ) -> AppResult<CredentialView> {
        let title = title.trim();
        let issuer = issuer.trim();
        crate::reject_nul("title", title)?;
        crate::reject_nul("issuer", issuer)?;
        if title.is_empty() || title.chars().count() > 200 {
            return Err(invalid_field(
                "invalid_credential",
                "title",
                "must be 1 to 200 characters",
            ));
        }
        if issuer.chars().count() > 200 {
            return Err(invalid_field(
                "invalid_credential",
                "issuer",
                "must be at most 200 characters",
            ));
        }
        if bytes.len() > workforce::MAX_CREDENTIAL_BYTES {
            return Err(AppError::PayloadTooLarge {
                limit: workforce::MAX_CREDENTIAL_BYTES as u64,
            });
        }
        let content_type =
            workforce::credential_document_type(&bytes).map_err(|e| AppError::Invalid {
                code: "invalid_document",
                message: e.to_string(),
                details: Some(serde_json::json!({ "field": e.field })),
            })?;
        let sha = hex::encode(sha2::Sha256::digest(&bytes));
        let size = bytes.len() as i64;
        let key = ObjectKey::generate(principal.org_id);
        self.media
            .put_bytes(&key, bytes)
            .await
            .map_err(crate::media::media_error)?;
        let added = self
            .store
            .add_credential(NewCredential {
                org_id: principal.org_id,
                user_id: principal.user_id,
                title: title.to_string(),
                issuer: issuer.to_string(),
                object_key: key.as_str().to_string(),
                content_type: content_type.to_string(),
                size_bytes: size,
                sha256: sha,
                now: now_millis(),
            })
            .await;
        let id = match added {
            Ok(id) => id,
            Err(e) => {
                let _ = self.media.delete(&key).await;
                return Err(e.into());
            }
        };
        let row = self
            .store
            .credential(principal.org_id, id)
            .await?
            .ok_or(AppError::NotFound("credential"))?;
        Ok(CredentialView::from(&row))
    }

    /// The evidence of a credential, for its owner and the organization's admins only (404 to anyone else, so
    /// nobody learns that it exists).
    pub async fn credential_document(
        &self,
        principal: &Principal,
        id: i64,
    ) -> AppResult<(String, Vec<u8>)> {
        let c = self
            .store
            .credential(principal.org_id, id)
            .await?
            .ok_or(AppError::NotFound("credential"))?;
        if c.user_id != principal.user_id && principal.role != Role::Admin {
            return Err(AppError::NotFound("credential"));
        }
        let key = ObjectKey::parse(&c.object_key).map_err(crate::media::media_error)?;
        let bytes = self
            .media
            .get_bytes(&key)
            .await
            .map_err(crate::media::media_error)?;
        Ok((c.content_type, bytes.to_vec()))
    }

    /// An admin verifies or rejects a credential of a worker of their organization.
    pub async fn decide_credential(
        &self,
        principal: &Principal,
        id: i64,
        decision: CredentialDecision,
    ) -> AppResult<CredentialView> {
        require_admin(principal)?;
        let note = decision
            .note
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty());
        if let Some(n) = &note {
            crate::reject_nul("note", n)?;
            if n.chars().count() > 1000 {
                return Err(invalid_field(
                    "invalid_credential",
                    "note",
                    "must be at most 1000 characters",
                ));
            }
        }
        let status = if decision.verified {
            "verified"
        } else {
            "rejected"
        };
        self.store
            .decide_credential(
                principal.org_id,
                id,
                status,
                principal.user_id,
                note,
                now_millis(),
            )
            .await
            .or_not_found("credential")?;
        let row = self
            .store
            .credential(principal.org_id, id)
            .await?
            .ok_or(AppError::NotFound("credential"))?;
        Ok(CredentialView::from(&row))
    }

    /// Sets a project's requirements (managers); empty requirements remove them.
    pub async fn set_requirements(
        &self,
        principal: &Principal,
        project: ProjectId,
        req: Requirements,
    ) -> AppResult<Requirements> {
        crate::projects::require_manager(principal)?;
        let req = validate_requirements(req)?;
        let spec =
            (!req.is_empty()).then(|| serde_json::to_string(&req).expect("requirements serialize"));
        self.store
            .set_requirements(
                principal.org_id,
                project,
                spec,
                principal.user_id,
                now_millis(),
            )
            .await
            .or_not_found("project")?;
        Ok(req)
    }

    /// A project's requirements (empty when it has none); any member of the organization may read them.
    pub async fn requirements(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<Requirements> {
        self.project(principal, project).await?;
        match self.store.requirements(principal.org_id, project).await? {
            Some(s) => parse_requirements(&s),
            None => Ok(Requirements::default()),
        }
    }

    /// Refuses a claim when the project's requirements (read with its state, see `check_open_for_work`) are
    /// not met: `403 not_eligible` with every reason. Projects without requirements never get here.
    pub(crate) async fn check_eligible(&self, principal: &Principal, spec: &str) -> AppResult<()> {
        let req = parse_requirements(spec)?;
        let facts = self
            .store
            .worker_facts(principal.org_id, principal.user_id)
            .await?;
        let unmet = workforce::unmet(&req, &facts);
        if unmet.is_empty() {
            Ok(())
        } else {
            Err(not_eligible(unmet))
        }
    }

    /// Whether each of the given projects is open to the caller, and why not: one read for all of them.
    pub async fn eligibility(
        &self,
        principal: &Principal,
        projects: &[ProjectId],
    ) -> AppResult<HashMap<ProjectId, Eligibility>> {
        let (reqs, profile) = self
            .store
            .requirements_and_profile(principal.org_id, principal.user_id)
            .await?;
        eligibility_of(&reqs, profile.as_ref(), projects)
    }

    /// Whether one project is open to the caller, with every kind of requirement: the profile's (domains,
    /// languages, countries, quality) and the assessments it asks for (`kind: "qualification"`, assessments.rs).
    pub async fn project_eligibility(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<Eligibility> {
        self.project(principal, project).await?;
        let mut unmet = self
            .eligibility(principal, &[project])
            .await?
            .remove(&project)
            .unwrap_or_default()
            .unmet;
        for (_, r) in self
            .my_unmet_requirements(principal)
            .await?
            .into_iter()
            .filter(|(p, _)| *p == project)
        {
            unmet.push(Unmet {
                kind: "qualification",
                needs: format!("{} % on the assessment “{}”", r.pass_mark, r.title),
            });
        }
        Ok(Eligibility::of(unmet))
    }

    /// The eligible workers of the project's organization, ranked with reasons, a page at a time (managers).
    pub async fn matches(
        &self,
        principal: &Principal,
        project: ProjectId,
        page: i64,
        per_page: i64,
    ) -> AppResult<MatchPage> {
        crate::projects::require_manager(principal)?;
        if page < 1 {
            return Err(invalid_field("invalid_page", "page", "must be 1 or more"));
        }
        if !(1..=MAX_MATCH_PAGE).contains(&per_page) {
            return Err(invalid_field(
                "invalid_page",
                "per_page",
                format!("must be from 1 to {MAX_MATCH_PAGE}"),
            ));
        }
        let p = self.project(principal, project).await?;
        let req = match self.store.requirements(principal.org_id, project).await? {
            Some(s) => parse_requirements(&s)?,
            None => Requirements::default(),
        };
        let rate = hourly_rate(p.pay.as_deref());
        let (total, rows) = self
            .store
            .match_workers(
                MatchQuery {
                    org_id: principal.org_id,
                    requirements: req.clone(),
                    project_rate: rate.clone(),
                    limit: per_page,
                    offset: (page - 1).saturating_mul(per_page),
                },
                Some(project),
            )
            .await?;
        let rate_ref = rate.as_ref().map(|(r, c)| (*r, c.as_str()));
        let workers = rows
            .into_iter()
            .map(|r| {
                let years = workforce::best_years(&req.domains, &r.facts.expertise);
                MatchView {
                    worker_id: r.user_id,
                    name: r.name,
                    score: r.score,
                    reasons: workforce::reasons(&req, years, rate_ref, &r.facts),
                    invited: r.invited,
                }
            })
            .collect();
        Ok(MatchPage {
            total,
            workers,
            page,
            per_page,
        })
    }

    /// Invites a worker of the organization to a project and tells them in their inbox (managers); inviting
    /// twice tells once. Answers whether the invitation is new.
    pub async fn invite_worker(
        &self,
        principal: &Principal,
        project: ProjectId,
        worker: UserId,
    ) -> AppResult<bool> {
        crate::projects::require_manager(principal)?;
        let p = self.project(principal, project).await?;
        let created = self
            .store
            .invite_to_project(
                principal.org_id,
                project,
                worker,
                principal.user_id,
                now_millis(),
            )
            .await
            .or_not_found("worker or project")?;
        if created {
            self.notify_logged(
                principal.org_id,
                &[worker],
                Notify {
                    kind: NoticeKind::Invitation,
                    project: Some(project),
                    title: format!("You are invited to {}", p.name),
                    body: "A requester picked you for this project from its matching list. See \"Projects for you\" on your profile.".into(),
                    link: Some("/profile#for-you".into()),
                    source_key: format!("project-invite:{project}:{worker}"),
                },
            )
            .await;
        }
        Ok(created)
    }

    /// The caller's invitations to projects, newest first.
    pub async fn my_project_invites(
        &self,
        principal: &Principal,
    ) -> AppResult<Vec<ProjectInviteView>> {
        Ok(self
            .store
            .my_project_invites(principal.org_id, principal.user_id)
            .await?
            .into_iter()
            .map(|i| ProjectInviteView {
                project_id: i.project_id,
                project_name: i.project_name,
                invited_by: i.invited_by_name,
                invited_at: fairloop_domain::time::to_rfc3339(i.invited_at),
            })
            .collect())
    }

    /// The projects open to the caller that hand out work, ranked by the same score matching gives them.
    pub async fn projects_for_me(&self, principal: &Principal) -> AppResult<Vec<ProjectForYou>> {
        let now = now_millis();
        let projects = self.projects(principal).await?;
        let states = self.store.lifecycles(principal.org_id).await?;
        let (reqs, profile) = self
            .store
            .requirements_and_profile(principal.org_id, principal.user_id)
            .await?;
        let facts = profile.map(|p| p.facts()).unwrap_or_default();
        let invited: std::collections::HashSet<ProjectId> = self
            .store
            .my_project_invites(principal.org_id, principal.user_id)
            .await?
            .into_iter()
            .map(|i| i.project_id)
            .collect();
        let mut out = Vec::new();
        for p in projects {
            let open = states.get(&p.id).is_none_or(|l| {
                fairloop_domain::lifecycle::effective_state(l.state, l.ends_at, now)
                    .hands_out_work()
            });
            if !open {
                continue;
            }
            let req = match reqs.get(&p.id) {
                Some(s) => parse_requirements(s)?,
                None => Requirements::default(),
            };
            if !workforce::unmet(&req, &facts).is_empty() {
                continue;
            }
            let rate = hourly_rate(p.pay.as_deref());
            let (score, reasons) =
                workforce::score(&req, rate.as_ref().map(|(r, c)| (*r, c.as_str())), &facts);
            out.push(ProjectForYou {
                project_id: p.id,
                name: p.name.clone(),
                score,
                reasons,
                invited: invited.contains(&p.id),
            });
        }
        out.sort_by(|a, b| b.score.cmp(&a.score).then(a.project_id.cmp(&b.project_id)));
        Ok(out)
    }

    /// Rolls the quality of a project's workers up into their profiles (the quality job calls it after saving
    /// the project's figures; a failure is logged by the caller, never undoes them).
    pub async fn refresh_worker_quality(
        &self,
        org: fairloop_domain::OrgId,
        project: ProjectId,
    ) -> AppResult<usize> {
        Ok(self
            .store
            .refresh_worker_quality(org, project, now_millis())
            .await?)
    }
}
