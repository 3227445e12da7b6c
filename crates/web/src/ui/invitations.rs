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

use super::pages::{
    PageResult, capitalise, checked_form, id, parse_form, see_other, short_time, user_view,
};
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

/// What an invitations page (this list, or the vendor console) shows besides its lists: a link just made (shown
/// once), or the form's error.
#[derive(Default)]
pub(super) struct Extras {
    /// The path of the link just made (`/invite/{token}`); the page prefixes the origin.
    pub(super) new_link: Option<String>,
    /// Why the form was refused, as a sentence.
    pub(super) error: Option<String>,
}

/// Whose invitations an invitation form acts on; all that differs between the two forms is here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    /// The organization's own (`/invitations`, requesters and admins): the form names a role.
    Organization,
    /// A vendor's, into a lab that contracts it (the vendor console at `/vendors`): the form names the lab.
    Vendor,
}

impl Scope {
    /// The page the forms live on (where a withdrawal goes back to).
    fn path(self) -> &'static str {
        match self {
            Scope::Organization => "/invitations",
            Scope::Vendor => "/vendors",
        }
    }

    /// Renders that page with `status` and `extras`.
    async fn page(
        self,
        ui: &Ui,
        user: &CurrentUser,
        headers: &HeaderMap,
        status: StatusCode,
        extras: Extras,
    ) -> PageResult {
        match self {
            Scope::Organization => list_page(ui, user, headers, status, extras).await,
            Scope::Vendor => {
                super::vendors::vendor_console(ui, user, headers, status, extras).await
            }
        }
    }

    /// Makes the invitation the form describes; answers its token.
    async fn invite(
        self,
        ui: &Ui,
        user: &CurrentUser,
        form: &[(String, String)],
    ) -> Result<String, AppError> {
        let p = &user.session.principal;
        let valid_days = match form_value(form, "valid_days").map(str::trim) {
            None | Some("") => None,
            Some(d) => Some(d.parse().unwrap_or(0)),
        };
        let email = form_value(form, "email");
        match self {
            Scope::Organization => {
                let role = form_value(form, "role").unwrap_or_default();
                let Ok(role) = role.parse::<Role>() else {
                    return Err(AppError::invalid(
                        "role",
                        format!("choose a role; {role:?} is not one"),
                    ));
                };
                let input = InviteInput {
                    email: email.map(str::to_string),
                    role,
                    valid_days,
                };
                Ok(ui.state.app.invite(p, input).await?.token)
            }
            Scope::Vendor => {
                let org = form_value(form, "org_id")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                Ok(ui
                    .state
                    .app
                    .vendor_invite(p, org, email, valid_days)
                    .await?
                    .token)
            }
        }
    }

    /// Withdraws invitation `id`.
    async fn revoke(self, ui: &Ui, user: &CurrentUser, id: i64) -> Result<(), AppError> {
        let p = &user.session.principal;
        match self {
            Scope::Organization => ui.state.app.revoke_invitation(p, id).await,
            Scope::Vendor => ui.state.app.revoke_vendor_invitation(p, id).await,
        }
    }

    /// The message of a refusal the page shows next to the form; any other error is passed back (an error page).
    /// A requester inviting above their role is told on the list page; a vendor's forbidden is an error page.
    fn refusal(self, e: AppError) -> Result<String, AppError> {
        match e {
            AppError::Invalid { message, .. } | AppError::Conflict { message, .. } => Ok(message),
            AppError::Forbidden { message, .. } if self == Scope::Organization => Ok(message),
            e => Err(e),
        }
    }
}

/// The invitation form of either scope: parse it, check CSRF, make the invitation, and show the page again with
/// the new link (once) or, at 422, with why it was refused.
pub(super) async fn create_in(
    ui: &Ui,
    user: &CurrentUser,
    headers: &HeaderMap,
    body: &Bytes,
    scope: Scope,
) -> PageResult {
    let form = checked_form(user, body)?;
    let (status, extras) = match scope.invite(ui, user, &form).await {
        Ok(token) => {
            let new_link = Some(format!("/invite/{token}"));
            (
                StatusCode::OK,
                Extras {
                    new_link,
                    ..Default::default()
                },
            )
        }
        Err(e) => {
            let error = Some(capitalise(&scope.refusal(e)?));
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Extras {
                    error,
                    ..Default::default()
                },
            )
        }
    };
    scope.page(ui, user, headers, status, extras).await
}

/// The withdraw button of either scope: the link stops working at once; back to the scope's page.
pub(super) async fn revoke_in(
    ui: &Ui,
    user: &CurrentUser,
    raw: &str,
    body: &Bytes,
    scope: Scope,
) -> PageResult {
    checked_form(user, body)?;
    scope.revoke(ui, user, id(raw)?).await?;
    Ok(see_other(scope.path()))
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
            max_days => MAX_VALID_DAYS, error => extras.error, notice => None::<&str>,
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
    create_in(&ui, &user, &headers, &body, Scope::Organization).await
}

/// Withdraws an invitation; the link stops working at once.
pub async fn revoke(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: Bytes,
) -> PageResult {
    revoke_in(&ui, &user, &raw, &body, Scope::Organization).await
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
