//! Profile and matching pages (docs/workforce.md): the worker's profile with credentials, invitations and
//! "projects for you" (`GET|POST /profile`, `POST /profile/credentials`, `GET /profile/credentials/{id}`), a
//! worker's profile for the organization's managers with the admin's verification (`GET /workers/{id}`,
//! `POST /workers/{id}/credentials/{credential}`), and a project's requirements and ranked matches with
//! invitations (`GET /projects/{id}/matching`, `POST /projects/{id}/requirements`,
//! `POST /projects/{id}/matching/invite`). Forms work without JavaScript and carry the CSRF token.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use fairloop_app::AppError;
use fairloop_app::profiles::{
    Availability, CredentialDecision, Expertise, LanguageLevel, MinRate, ProfileInput, ProfileView,
};
use fairloop_domain::Role;
use fairloop_domain::workforce::{self, LanguageNeed, Requirements};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::Ui;
use super::UiError;
use super::pages::{PageResult, checked_form, finish_form, id, see_other, user_view};
use super::render::{self, render, ser};
use super::session::{CurrentUser, form_value};

/// Blank rows offered below the filled ones, so a worker can add entries without JavaScript.
const BLANK_ROWS: usize = 2;

/// `?done=…` after a form, and the matching page's page number.
#[derive(Deserialize, Default)]
pub struct PageQuery {
    done: Option<String>,
    page: Option<i64>,
}

#[derive(Serialize)]
struct Option2 {
    value: &'static str,
    label: String,
}

fn domain_options() -> Vec<Option2> {
    workforce::TAXONOMY
        .iter()
        .map(|d| Option2 {
            value: d.key,
            label: if d.key.contains('/') {
                format!("{} › {}", workforce::domain_label(d.top()), d.label)
            } else {
                d.label.to_string()
            },
        })
        .collect()
}

fn level_options() -> Vec<&'static str> {
    workforce::Level::ALL.iter().map(|l| l.as_str()).collect()
}

/// A money amount typed by a person ("25", "25.5", "25.50") in minor units (two decimals).
fn parse_amount(s: &str) -> Option<i64> {
    let s = s.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let cents = format!("{frac:0<2}").parse::<i64>().ok()?;
    whole
        .parse::<i64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(cents)
}

fn amount_text(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

fn credential_rows(p: &ProfileView) -> Vec<minijinja::Value> {
    p.credentials
        .iter()
        .map(|c| {
            context! {
                id => c.id, title => &c.title, issuer => &c.issuer, status => &c.status,
                decided_by => &c.decided_by, note => &c.note,
                decided_at => c.decided_at.as_ref().map(|t| t.replace('T', " ").chars().take(16).collect::<String>()),
                kind => match c.content_type.as_str() { "application/pdf" => "PDF", "image/png" => "PNG", _ => "JPEG" },
                size_kb => (c.size_bytes + 1023) / 1024,
            }
        })
        .collect()
}

async fn profile_page(
    ui: &Ui,
    user: &CurrentUser,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<String>,
) -> PageResult {
    let p = &user.session.principal;
    let profile = ui.state.app.my_profile(p).await?;
    let mut expertise = profile.expertise.clone();
    expertise.extend((0..BLANK_ROWS).map(|_| Expertise {
        domain: String::new(),
        years: 0,
        label: String::new(),
    }));
    let mut languages = profile.languages.clone();
    languages.extend((0..BLANK_ROWS).map(|_| LanguageLevel {
        language: String::new(),
        level: String::new(),
    }));
    let days: Vec<minijinja::Value> = workforce::WEEKDAYS
        .iter()
        .map(
            |d| context! { key => *d, checked => profile.availability.days.iter().any(|x| x == d) },
        )
        .collect();
    let invites = if p.role.can_work() {
        ui.state.app.my_project_invites(p).await?
    } else {
        Vec::new()
    };
    let for_you = if p.role.can_work() {
        ui.state.app.projects_for_me(p).await?
    } else {
        Vec::new()
    };
    Ok((
        status,
        render(
            "profile.html",
            context! {
                title => "Your profile", nav => "profile",
                user => ser(&user_view(&user.session)), csrf => &user.session.csrf_token,
                notice => notice, error => error,
                profile => ser(&profile), expertise => ser(&expertise), languages => ser(&languages),
                credentials => credential_rows(&profile), days => days,
                domains => ser(&domain_options()), levels => level_options(),
                rate_amount => profile.min_rate.as_ref().map(|r| amount_text(r.amount_minor)),
                rate_currency => profile.min_rate.as_ref().map(|r| r.currency.clone()),
                quality => profile.quality.map(|q| format!("{:.1}%", q * 100.0)),
                invites => ser(&invites.iter().map(|i| context! {
                    project_id => i.project_id, name => &i.project_name, by => &i.invited_by,
                    when => i.invited_at.replace('T', " ").chars().take(16).collect::<String>(),
                }).collect::<Vec<_>>()),
                for_you => ser(&for_you),
                max_mb => workforce::MAX_CREDENTIAL_BYTES >> 20,
            },
        ),
    )
        .into_response())
}

/// The caller's profile page.
pub async fn show(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let notice = match q.done.as_deref() {
        Some("saved") => Some("Your profile is saved."),
        Some("credential") => {
            Some("Your credential is uploaded. An admin of your organization will verify it.")
        }
        _ => None,
    };
    profile_page(&ui, &user, StatusCode::OK, notice, None).await
}

/// Saves the profile form.
pub async fn save(Extension(ui): Extension<Arc<Ui>>, user: CurrentUser, body: Bytes) -> PageResult {
    let form = checked_form(&user, &body)?;
    let get = |k: &str| form_value(&form, k).unwrap_or_default().trim().to_string();
    let mut input = ProfileInput::default();
    for i in 0..64 {
        let domain = get(&format!("domain_{i}"));
        if domain.is_empty() {
            continue;
        }
        let years_raw = get(&format!("years_{i}"));
        let years = if years_raw.is_empty() {
            0
        } else {
            match years_raw.parse::<i64>() {
                Ok(y) => y,
                Err(_) => {
                    let e = format!("Years of experience: “{years_raw}” is not a whole number");
                    return profile_page(
                        &ui,
                        &user,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        None,
                        Some(e),
                    )
                    .await;
                }
            }
        };
        input.expertise.push(Expertise {
            domain,
            years,
            label: String::new(),
        });
    }
    for i in 0..64 {
        let language = get(&format!("language_{i}"));
        if language.is_empty() {
            continue;
        }
        input.languages.push(LanguageLevel {
            language,
            level: get(&format!("level_{i}")),
        });
    }
    input.country = Some(get("country"));
    input.time_zone = Some(get("time_zone"));
    let hours = get("hours_per_week");
    let hours_per_week = if hours.is_empty() {
        None
    } else {
        match hours.parse::<i64>() {
            Ok(h) => Some(h),
            Err(_) => {
                let e = format!("Hours a week: “{hours}” is not a whole number");
                return profile_page(&ui, &user, StatusCode::UNPROCESSABLE_ENTITY, None, Some(e))
                    .await;
            }
        }
    };
    input.availability = Availability {
        hours_per_week,
        days: form
            .iter()
            .filter(|(k, _)| k == "days")
            .map(|(_, v)| v.clone())
            .collect(),
    };
    let rate = get("rate_amount");
    if !rate.is_empty() {
        let Some(amount_minor) = parse_amount(&rate) else {
            let e = format!("Lowest hourly rate: “{rate}” is not an amount such as 25 or 25.50");
            return profile_page(&ui, &user, StatusCode::UNPROCESSABLE_ENTITY, None, Some(e)).await;
        };
        input.min_rate = Some(MinRate {
            amount_minor,
            currency: get("rate_currency"),
        });
    }
    let result = ui
        .state
        .app
        .save_my_profile(&user.session.principal, input)
        .await
        .map(|_| "/profile?done=saved".to_string());
    finish_form(result, |status, m| {
        profile_page(&ui, &user, status, None, Some(m))
    })
    .await
}

/// Uploads a credential with its evidence (multipart: `_csrf` first, then `title`, `issuer`, `file`).
pub async fn upload_credential(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    mut form: Multipart,
) -> PageResult {
    let broken = |e: String| {
        UiError::page(
            StatusCode::BAD_REQUEST,
            "The upload did not arrive",
            format!("The form could not be read ({e})."),
        )
    };
    let (mut csrf_ok, mut title, mut issuer, mut file) =
        (false, String::new(), String::new(), None);
    let limit = workforce::MAX_CREDENTIAL_BYTES;
    while let Some(mut field) = form.next_field().await.map_err(|e| broken(e.to_string()))? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "_csrf" {
            let sent = field.text().await.unwrap_or_default();
            user.check_csrf(&[("_csrf".to_string(), sent)])?;
            csrf_ok = true;
            continue;
        }
        if !csrf_ok {
            return Err(UiError::csrf());
        }
        match name.as_str() {
            "title" => title = field.text().await.unwrap_or_default(),
            "issuer" => issuer = field.text().await.unwrap_or_default(),
            "file" => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|e| broken(e.to_string()))? {
                    bytes.extend_from_slice(&chunk);
                    if bytes.len() > limit {
                        let e = format!(
                            "The document is over the limit of {} MB; upload a smaller file.",
                            limit >> 20
                        );
                        return profile_page(
                            &ui,
                            &user,
                            StatusCode::PAYLOAD_TOO_LARGE,
                            None,
                            Some(e),
                        )
                        .await;
                    }
                }
                file = Some(bytes);
            }
            _ => {}
        }
    }
    if !csrf_ok {
        return Err(UiError::csrf());
    }
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        let e = "Choose a document (PDF, PNG or JPEG) to upload.".to_string();
        return profile_page(&ui, &user, StatusCode::UNPROCESSABLE_ENTITY, None, Some(e)).await;
    };
    let result = ui
        .state
        .app
        .add_credential(&user.session.principal, &title, &issuer, bytes)
        .await
        .map(|_| "/profile?done=credential#credentials".to_string());
    finish_form(result, |status, m| {
        profile_page(&ui, &user, status, None, Some(m))
    })
    .await
}

/// The evidence of a credential, for its owner and the organization's admins.
pub async fn credential_document(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
) -> PageResult {
    let (content_type, bytes) = ui
        .state
        .app
        .credential_document(&user.session.principal, id(&raw)?)
        .await?;
    Ok(crate::api::profiles::document_response(content_type, bytes))
}

async fn worker_page(ui: &Ui, user: &CurrentUser, worker: i64, notice: Option<&str>) -> PageResult {
    let p = &user.session.principal;
    let profile = ui.state.app.worker_profile(p, worker).await?;
    Ok(render(
        "worker_profile.html",
        context! {
            title => format!("Profile · {}", profile.name), nav => "invitations",
            user => ser(&user_view(&user.session)), csrf => &user.session.csrf_token,
            notice => notice, profile => ser(&profile), credentials => credential_rows(&profile),
            is_admin => p.role == Role::Admin,
            quality => profile.quality.map(|q| format!("{:.1}%", q * 100.0)),
            rate => profile.min_rate.as_ref().map(|r| render::money(r.amount_minor, &r.currency)),
        },
    )
    .into_response())
}

/// A worker's profile for the organization's requesters, reviewers and admins.
pub async fn worker(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let notice = match q.done.as_deref() {
        Some("verified") => Some("The credential is marked verified, with your name and the time."),
        Some("rejected") => Some("The credential is marked rejected; the worker sees your note."),
        _ => None,
    };
    worker_page(&ui, &user, id(&raw)?, notice).await
}

/// An admin verifies or rejects a credential.
pub async fn decide(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path((raw_worker, raw_id)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let form = checked_form(&user, &body)?;
    let worker = id(&raw_worker)?;
    let verified = form_value(&form, "decision") == Some("verify");
    let note = form_value(&form, "note").map(str::to_string);
    ui.state
        .app
        .decide_credential(
            &user.session.principal,
            id(&raw_id)?,
            CredentialDecision { verified, note },
        )
        .await?;
    Ok(see_other(&format!(
        "/workers/{worker}?done={}",
        if verified { "verified" } else { "rejected" }
    )))
}

const PER_PAGE: i64 = 25;

async fn matching_page(
    ui: &Ui,
    user: &CurrentUser,
    project_id: i64,
    page: i64,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<String>,
) -> PageResult {
    let p = &user.session.principal;
    fairloop_app::projects::require_manager(p)?;
    let project = ui.state.app.project(p, project_id).await?;
    let req = ui.state.app.requirements(p, project_id).await?;
    let page = page.max(1);
    let matches = ui.state.app.matches(p, project_id, page, PER_PAGE).await?;
    let pages = (matches.total + PER_PAGE - 1) / PER_PAGE;
    let mut languages: Vec<LanguageNeed> = req.languages.clone();
    languages.extend((0..BLANK_ROWS).map(|_| LanguageNeed {
        language: String::new(),
        min_level: String::new(),
    }));
    let rank_base = (page - 1) * PER_PAGE;
    let workers: Vec<minijinja::Value> = matches
        .workers
        .iter()
        .enumerate()
        .map(|(i, w)| context! {
            rank => rank_base + i as i64 + 1, id => w.worker_id, name => &w.name, score => w.score,
            reasons => &w.reasons, invited => w.invited,
        })
        .collect();
    Ok((
        status,
        render(
            "matching.html",
            context! {
                title => format!("Matching · {}", project.name), nav => "projects",
                user => ser(&user_view(&user.session)), csrf => &user.session.csrf_token,
                notice => notice, error => error,
                project => context! { id => project.id, name => &project.name, pay => render::pay_text(project.pay.as_deref()) },
                req => ser(&req), languages => ser(&languages),
                chosen => ser(&req.domains), domains => ser(&domain_options()), levels => level_options(),
                countries => req.countries.join(", "),
                min_quality => req.min_quality.map(|q| format!("{}", (q * 100.0).round())),
                utc_min => req.utc_offset.as_ref().map(|r| r.min.clone()).unwrap_or_default(),
                utc_max => req.utc_offset.as_ref().map(|r| r.max.clone()).unwrap_or_default(),
                workers => workers, total => matches.total, page => page, pages => pages,
                prev => (page > 1).then_some(page - 1), next => (page < pages).then_some(page + 1),
            },
        ),
    )
        .into_response())
}

/// A project's requirements and its ranked, eligible workers (requesters and admins).
pub async fn matching(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let notice = match q.done.as_deref() {
        Some("requirements") => {
            Some("The requirements are saved; the list of workers follows them.")
        }
        Some("invited") => Some("The worker is invited and told in their inbox."),
        Some("invited_before") => Some("That worker was invited before; they were not told twice."),
        _ => None,
    };
    matching_page(
        &ui,
        &user,
        id(&raw)?,
        q.page.unwrap_or(1),
        StatusCode::OK,
        notice,
        None,
    )
    .await
}

/// Saves the requirements form.
pub async fn save_requirements(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: Bytes,
) -> PageResult {
    let project = id(&raw)?;
    let form = checked_form(&user, &body)?;
    let get = |k: &str| form_value(&form, k).unwrap_or_default().trim().to_string();
    let mut req = Requirements {
        domains: form
            .iter()
            .filter(|(k, _)| k == "domains")
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
            .collect(),
        countries: get("countries")
            .split([',', ' '])
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect(),
        exclude_without_history: form_value(&form, "exclude_without_history").is_some(),
        ..Default::default()
    };
    for i in 0..16 {
        let language = get(&format!("language_{i}"));
        if !language.is_empty() {
            req.languages.push(LanguageNeed {
                language,
                min_level: get(&format!("min_level_{i}")),
            });
        }
    }
    // A window of offsets: both ends, or neither (one end alone is checked, and named, by the validation).
    let (utc_min, utc_max) = (get("utc_offset_min"), get("utc_offset_max"));
    if !utc_min.is_empty() || !utc_max.is_empty() {
        req.utc_offset = Some(workforce::OffsetRange {
            min: utc_min,
            max: utc_max,
        });
    }
    let q = get("min_quality");
    if !q.is_empty() {
        match q.trim_end_matches('%').parse::<f64>() {
            Ok(v) => req.min_quality = Some(v / 100.0),
            Err(_) => {
                let e = format!("Least quality: “{q}” is not a percentage such as 80");
                return matching_page(
                    &ui,
                    &user,
                    project,
                    1,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    None,
                    Some(e),
                )
                .await;
            }
        }
    }
    let result = match ui
        .state
        .app
        .set_requirements(&user.session.principal, project, req)
        .await
    {
        Ok(_) => Ok(format!("/projects/{project}/matching?done=requirements")),
        // The form asks for a percentage where the API takes a share: say it in the form's words.
        Err(AppError::Invalid {
            code,
            message,
            details,
        }) => Err(AppError::Invalid {
            code,
            message: message.replace(
                "requirements.min_quality: must be from 0 to 1 (a share of answers)",
                "least quality: must be a percentage from 0 to 100",
            ),
            details,
        }),
        Err(e) => Err(e),
    };
    finish_form(result, |status, m| {
        matching_page(&ui, &user, project, 1, status, None, Some(m))
    })
    .await
}

/// Invites one worker from the matching list.
pub async fn invite(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: Bytes,
) -> PageResult {
    let project = id(&raw)?;
    let form = checked_form(&user, &body)?;
    let worker = id(form_value(&form, "worker_id").unwrap_or_default())?;
    let created = ui
        .state
        .app
        .invite_worker(&user.session.principal, project, worker)
        .await?;
    let page = form_value(&form, "page")
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(1);
    Ok(see_other(&format!(
        "/projects/{project}/matching?page={page}&done={}#w{worker}",
        if created { "invited" } else { "invited_before" }
    )))
}
