//! Joining by invitation: open registration is off, so people enter an organization through a link that a
//! requester or admin created for them.
//!
//! Requesters may invite workers and reviewers; only admins may invite requesters and admins, so an invitation
//! can never hand out more access than its creator could grant. The link's secret is shown once, at creation.

use fairloop_domain::Role;
use fairloop_domain::time::now_millis;
use fairloop_store::Principal;
use fairloop_store::invitations::{Acceptance, Invitation, NewInvitation, PendingInvitation};

use crate::accounts::{SignedIn, hash_session_token, random_secret};
use crate::{App, AppError, AppResult};

/// How long a link works unless the inviter says otherwise.
pub const DEFAULT_VALID_DAYS: u32 = 7;
/// The longest a link may work: a forgotten link should not stay a way in for ever.
pub const MAX_VALID_DAYS: u32 = 30;

/// What the inviter asks for.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteInput {
    /// Bind the link to this email (recommended); without one, whoever holds the link may use it once.
    #[serde(default)]
    pub email: Option<String>,
    /// The role the new user gets: `worker` or `reviewer` (requesters), or any role (admins).
    #[schema(value_type = String)]
    pub role: Role,
    /// Days the link works (1 to 30; default 7).
    #[serde(default)]
    pub valid_days: Option<u32>,
}

/// A new invitation, with the secret that is never shown again.
#[derive(Debug, Clone)]
pub struct Invited {
    /// The invitation, as it is listed from now on.
    pub invitation: Invitation,
    /// The secret for the link `/invite/{token}`.
    pub token: String,
}

/// The account the invited person chooses.
#[derive(Debug, Clone)]
pub struct AcceptInput {
    /// Their sign-in email.
    pub email: String,
    /// Their display name.
    pub name: String,
    /// Their password (at least [`crate::users::MIN_PASSWORD_LEN`] characters).
    pub password: String,
    /// The password again.
    pub confirm: String,
}

fn may_invite(principal: &Principal, role: Role) -> AppResult<()> {
    match (principal.role, role) {
        (Role::Admin, _) => Ok(()),
        (Role::Requester, Role::Worker | Role::Reviewer) => Ok(()),
        (Role::Requester, _) => Err(AppError::forbidden(format!(
            "requesters may invite workers and reviewers; inviting a {role} needs an admin"
        ))),
        (r, _) => Err(AppError::forbidden(format!(
            "inviting people needs the requester or admin role; you are a {r}"
        ))),
    }
}

fn manages_invitations(principal: &Principal) -> AppResult<()> {
    match principal.role {
        Role::Admin | Role::Requester => Ok(()),
        r => Err(AppError::forbidden(format!(
            "invitations are managed by requesters and admins; you are a {r}"
        ))),
    }
}

impl App {
    /// Creates an invitation into the caller's organization.
    pub async fn invite(&self, principal: &Principal, input: InviteInput) -> AppResult<Invited> {
        may_invite(principal, input.role)?;
        let email = match input.email.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(e) => {
                crate::reject_nul("email", e)?;
                if !e.contains('@') || e.len() > 254 {
                    return Err(AppError::invalid(
                        "invalid_email",
                        format!("{e:?} is not an email address"),
                    ));
                }
                Some(e.to_lowercase())
            }
        };
        let days = input.valid_days.unwrap_or(DEFAULT_VALID_DAYS);
        if !(1..=MAX_VALID_DAYS).contains(&days) {
            return Err(AppError::invalid(
                "invalid_valid_days",
                format!("valid_days must be between 1 and {MAX_VALID_DAYS}; it was {days}"),
            ));
        }
        if let Some(e) = &email
            && self.store.user_by_email(e).await?.is_some()
        {
            return Err(AppError::Conflict {
                code: "email_taken",
                message: format!("{e} already has an account"),
            });
        }
        let token = random_secret();
        let now = now_millis();
        let expires_at = now + i64::from(days) * 24 * 3600 * 1000;
        let id = self
            .store
            .create_invitation(NewInvitation {
                org_id: principal.org_id,
                token_hash: hash_session_token(&token),
                email: email.clone(),
                role: input.role,
                created_by: principal.user_id,
                created_at: now,
                expires_at,
            })
            .await?;
        Ok(Invited {
            invitation: Invitation {
                id,
                email,
                role: input.role,
                created_by: principal.user_id,
                created_at: now,
                expires_at,
                accepted_at: None,
                revoked_at: None,
            },
            token,
        })
    }

    /// The caller's organization's invitations, newest first.
    pub async fn invitations(&self, principal: &Principal) -> AppResult<Vec<Invitation>> {
        manages_invitations(principal)?;
        Ok(self.store.invitations(principal.org_id).await?)
    }

    /// Withdraws an unused invitation of the caller's organization.
    pub async fn revoke_invitation(&self, principal: &Principal, id: i64) -> AppResult<()> {
        manages_invitations(principal)?;
        self.store
            .revoke_invitation(principal.org_id, id, now_millis())
            .await
            .map_err(|e| match e {
                fairloop_store::StoreError::NotFound => AppError::NotFound("invitation"),
                e => e.into(),
            })
    }

    /// What a link invites to, for the page that asks the invited person to choose a password.
    pub async fn invitation_preview(&self, token: &str) -> AppResult<PendingInvitation> {
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AppError::NotFound("invitation"));
        }
        self.store
            .pending_invitation(&hash_session_token(token), now_millis())
            .await
            .map_err(|e| match e {
                fairloop_store::StoreError::NotFound => AppError::NotFound("invitation"),
                e => e.into(),
            })
    }

    /// Creates the invited person's account and signs them in.
    pub async fn accept_invitation(&self, token: &str, input: AcceptInput) -> AppResult<SignedIn> {
        self.invitation_preview(token).await?;
        let email = input.email.trim().to_lowercase();
        crate::reject_nul("email", &email)?;
        crate::reject_nul("name", &input.name)?;
        if !email.contains('@') || email.len() > 254 {
            return Err(AppError::invalid(
                "invalid_email",
                format!("{email:?} is not an email address"),
            ));
        }
        if input.password != input.confirm {
            return Err(AppError::invalid(
                "password_mismatch",
                "the two passwords are not the same; type it twice",
            ));
        }
        if input.password.len() > 1024 {
            return Err(AppError::invalid(
                "password_too_long",
                "passwords are at most 1024 bytes long",
            ));
        }
        let name = match input.name.trim() {
            "" => email.clone(),
            n => n.chars().take(200).collect(),
        };
        let password = input.password.clone();
        let password_hash =
            tokio::task::spawn_blocking(move || crate::users::hash_password(&password))
                .await
                .map_err(|e| AppError::Internal(format!("password hashing: {e}")))??;
        self.store
            .accept_invitation(
                &hash_session_token(token),
                Acceptance {
                    email: email.clone(),
                    name,
                    password_hash,
                    now: now_millis(),
                },
            )
            .await?;
        self.sign_in(&email, &input.password, None).await
    }
}
