//! Users and their tokens, as the CLI and the demo create them.

use fairloop_domain::Role;
use fairloop_store::{NewUser, Principal, User};

use crate::{App, AppError, AppResult};

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 10;

/// An argon2id hash (PHC string) of a password, with a fresh random salt.
pub fn hash_password(password: &str) -> AppResult<String> {
    use argon2::PasswordHasher;
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AppError::invalid(
            "weak_password",
            format!("the password must be at least {MIN_PASSWORD_LEN} characters long"),
        ));
    }
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("hashing a password: {e}")))
}

/// The body of "add a user to my organization" (admins).
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Sign-in email; must not exist yet.
    pub email: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// admin, requester, reviewer or worker.
    #[schema(value_type = String)]
    pub role: Role,
    /// Optional password for web sign-in.
    #[serde(default)]
    pub password: Option<String>,
}

impl App {
    /// An admin adds a user to their own organization and receives the user's first API token.
    pub async fn create_org_user(
        &self,
        admin: &Principal,
        input: CreateUser,
    ) -> AppResult<(User, String)> {
        if admin.role != Role::Admin {
            return Err(AppError::forbidden(format!(
                "adding users needs the admin role; you are a {}",
                admin.role
            )));
        }
        if self
            .store
            .user_by_email(&input.email.trim().to_lowercase())
            .await?
            .is_some()
        {
            return Err(AppError::Conflict {
                code: "email_taken",
                message: "a user with this email already exists".into(),
            });
        }
        let org = self.store.org_name(admin.org_id).await?;
        self.add_user(
            &org,
            &input.email,
            &input.name,
            input.role,
            input.password.as_deref(),
        )
        .await
    }

    /// Creates the user (and organization) if missing and issues a fresh API token.
    ///
    /// An existing email keeps its organization and role; asking for a different one is an error rather than a
    /// silent change of someone's access.
    /// `password`, when given, lets the user sign in to the web app; it is stored only as an argon2id hash.
    pub async fn add_user(
        &self,
        org: &str,
        email: &str,
        name: &str,
        role: Role,
        password: Option<&str>,
    ) -> AppResult<(User, String)> {
        let email = email.trim().to_lowercase();
        crate::reject_nul("email", &email)?;
        crate::reject_nul("name", name)?;
        crate::reject_nul("org", org)?;
        if !email.contains('@') || email.len() > 254 {
            return Err(AppError::bad_request(
                "invalid_email",
                format!("{email:?} is not an email address"),
            ));
        }
        if org.trim().is_empty() {
            return Err(AppError::bad_request(
                "invalid_org",
                "the organization name must not be empty",
            ));
        }
        let user = self
            .store
            .upsert_user(NewUser {
                org_name: org.trim().to_string(),
                email: email.clone(),
                name: if name.trim().is_empty() {
                    email.clone()
                } else {
                    name.trim().to_string()
                },
                role,
                password_hash: password.map(hash_password).transpose()?,
            })
            .await?;
        if user.role != role {
            return Err(AppError::Conflict {
                code: "role_mismatch",
                message: format!(
                    "{email} already exists with role {}; roles are not changed here",
                    user.role
                ),
            });
        }
        let (_, token) = self.issue_token(user.id, "cli").await?;
        Ok((user, token))
    }
}
