//! Invitation pages: requesters and admins create and withdraw links (`/invitations`); the invited person
//! opens one (`/invite/{token}`), chooses a password and is signed in.
//!
//! The accept form is public (its visitor has no session yet), so it protects itself like the sign-in form: a
//! double-submit CSRF cookie. The link's secret is in the path, so the page is never cached and sends no
//! referrer.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fairloop_app::AppError;
use fairloop_app::accounts::random_secret;
use fairloop_app::invitations::{AcceptInput, InviteInput, MAX_VALID_DAYS};
use fairloop_app::users::MIN_PASSWORD_LEN;
use fairloop_domain::Role;
use fairloop_domain::time::now_millis;
use minijinja::context;
use serde::Serialize;

use super::pages::{PageResult, capitalise, id, parse_form, see_other, short_time, user_view};
use super::render::{render, ser};
use super::session::{self, CSRF_FIELD, CurrentUser, SIGNIN_CSRF_COOKIE, form_value};
use super::{Ui, UiError};
use crate::api::invitations::invitation_status;

#[derive(Serialize)]
struct InvitationRow {
    id: i64,
    email: Option<String>,
    role: String,
    status: &'static str,
    created: String,
    expires: String,
    expires_iso: String,
}

/// What the list page shows besides the list: a link just made (shown once), or the form's error.
#[derive(Default)]
struct Extras {
    new_link: Option<String>,
    error: Option<String>,
    notice: Option<&'static str>,
}

async fn list_page(
    ui: &Ui,
    user: &CurrentUser,
    headers: &HeaderMap,
    status: StatusCode,
    extras: Extras,
) -> PageResult {
    let p = &user.session.principal;
    let now = now_millis();
    let rows: Vec<InvitationRow> = ui
        .state
        .app
        .invitations(p)
        .await?
        .into_iter()
        .map(|i| InvitationRow {
            id: i.id,
            status: invitation_status(&i, now),
            email: i.email,
            role: i.role.to_string(),
            created: short_time(i.created_at).0,
            expires: short_time(i.expires_at).0,
            expires_iso: short_time(i.expires_at).1,
        })
        .collect();
    let roles: Vec<&str> = if p.role == Role::Admin {
        vec!["worker", "reviewer", "requester", "admin"]
    } else {
        vec!["worker", "reviewer"]
    };
    let base = origin(headers);
    let html = render(
        "invitations.html",
        context! {
            title => "Invitations", nav => "invitations", user => ser(&user_view(&user.session)),
            csrf => &user.session.csrf_token, invitations => ser(&rows), roles => roles,
            max_days => MAX_VALID_DAYS, error => extras.error, notice => extras.notice,
            new_link => extras.new_link.map(|path| format!("{base}{path}")),
        },
    );
    let mut resp = (status, html).into_response();
    // A new link is a secret shown once: keep it out of caches and the back-forward history.
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// `https://host` as the browser reached us, so the link shown can be copied as it is.
pub(super) fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    let scheme = if session::is_https(headers) {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

/// The organization's invitations and the form to make one (requesters and admins).
pub async fn list(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    headers: HeaderMap,
) -> PageResult {
    list_page(&ui, &user, &headers, StatusCode::OK, Extras::default()).await
}

/// Creates an invitation and shows its link once.
pub async fn create(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let role = form_value(&form, "role").unwrap_or_default();
    let input = match role.parse::<Role>() {
        Ok(role) => InviteInput {
            email: form_value(&form, "email").map(str::to_string),
            role,
            valid_days: match form_value(&form, "valid_days").map(str::trim) {
                None | Some("") => None,
                Some(d) => Some(d.parse().unwrap_or(0)),
            },
        },
        Err(_) => {
            let extras = Extras {
                error: Some(format!("Choose a role; {role:?} is not one.")),
                ..Default::default()
            };
            return list_page(
                &ui,
                &user,
                &headers,
                StatusCode::UNPROCESSABLE_ENTITY,
                extras,
            )
            .await;
        }
    };
    match ui.state.app.invite(&user.session.principal, input).await {
        Ok(invited) => {
            let extras = Extras {
                new_link: Some(format!("/invite/{}", invited.token)),
                ..Default::default()
            };
            list_page(&ui, &user, &headers, StatusCode::OK, extras).await
        }
        Err(
            AppError::Invalid { message, .. }
            | AppError::Conflict { message, .. }
            | AppError::Forbidden { message, .. },
        ) => {
            let extras = Extras {
                error: Some(capitalise(&message)),
                ..Default::default()
            };
            list_page(
                &ui,
                &user,
                &headers,
                StatusCode::UNPROCESSABLE_ENTITY,
                extras,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// Withdraws an invitation; the link stops working at once.
pub async fn revoke(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: Bytes,
) -> PageResult {
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    ui.state
        .app
        .revoke_invitation(&user.session.principal, id(&raw)?)
        .await?;
    Ok(see_other("/invitations"))
}

fn accept_page(
    status: StatusCode,
    csrf: &str,
    invitation: &fairloop_store::invitations::PendingInvitation,
    email: &str,
    name: &str,
    error: Option<&str>,
    secure: bool,
) -> Response {
    let html = render(
        "invite.html",
        context! {
            title => "Join", csrf => csrf, org => &invitation.org_name, role => invitation.role.as_str(),
            bound_email => &invitation.email, email => email, name => name, error => error,
            min_password_len => MIN_PASSWORD_LEN, expires => short_time(invitation.expires_at).0,
        },
    );
    let mut resp = (status, html).into_response();
    let h = resp.headers_mut();
    h.append(
        header::SET_COOKIE,
        session::set_cookie(SIGNIN_CSRF_COOKIE, csrf, 3600, secure),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

/// An unusable link gets a page that says why and what to do (not a bare 404), without revealing anything.
fn link_error(e: AppError) -> UiError {
    match e {
        AppError::NotFound(_) => UiError::page(
            StatusCode::NOT_FOUND,
            "This invitation link does not work",
            "Check that you copied the whole link, or ask whoever invited you for a new one.",
        ),
        AppError::Conflict { message, .. } => UiError::page(
            StatusCode::GONE,
            "This invitation link does not work any more",
            capitalise(&message),
        ),
        e => e.into(),
    }
}

/// The form where the invited person chooses their name and password.
pub async fn accept_form(
    Extension(ui): Extension<Arc<Ui>>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> PageResult {
    let inv = ui
        .state
        .app
        .invitation_preview(&token)
        .await
        .map_err(link_error)?;
    let email = inv.email.clone().unwrap_or_default();
    Ok(accept_page(
        StatusCode::OK,
        &random_secret(),
        &inv,
        &email,
        "",
        None,
        session::is_https(&headers),
    ))
}

/// Creates the account, spends the link and signs the new user in.
pub async fn accept(
    Extension(ui): Extension<Arc<Ui>>,
    headers: HeaderMap,
    Path(token): Path<String>,
    body: Bytes,
) -> PageResult {
    let form = parse_form(&body)?;
    let cookie_token = session::cookie(&headers, SIGNIN_CSRF_COOKIE).unwrap_or_default();
    let sent = form_value(&form, CSRF_FIELD).unwrap_or_default();
    if cookie_token.is_empty() || !session::constant_time_eq(cookie_token, sent) {
        return Err(UiError::csrf());
    }
    let inv = ui
        .state
        .app
        .invitation_preview(&token)
        .await
        .map_err(link_error)?;
    let secure = session::is_https(&headers);
    let email = form_value(&form, "email").unwrap_or_default().trim();
    let name = form_value(&form, "name").unwrap_or_default().trim();
    let input = AcceptInput {
        email: email.to_string(),
        name: name.to_string(),
        password: form_value(&form, "password")
            .unwrap_or_default()
            .to_string(),
        confirm: form_value(&form, "confirm_password")
            .unwrap_or_default()
            .to_string(),
    };
    match ui.state.app.accept_invitation(&token, input).await {
        Ok(signed_in) => {
            let mut resp = see_other("/?welcome=1");
            let h = resp.headers_mut();
            h.append(
                header::SET_COOKIE,
                session::session_cookie(&signed_in.session_token, secure),
            );
            h.append(
                header::SET_COOKIE,
                session::clear_cookie(SIGNIN_CSRF_COOKIE, secure),
            );
            Ok(resp)
        }
        Err(AppError::Invalid { message, .. }) | Err(AppError::Conflict { message, .. }) => {
            Ok(accept_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &random_secret(),
                &inv,
                email,
                name,
                Some(&capitalise(&message)),
                secure,
            ))
        }
        Err(e) => Err(e.into()),
    }
}
