//! The account settings a signed-in user manages for themselves: their password and their API tokens.
//!
//! A password change proves the current password first (a borrowed unlocked browser must not be enough to take
//! the account over), stores only the new argon2id hash, and then ends every other session of the user and
//! rotates the current one, so a stolen cookie stops working the moment the owner reacts.

use fairloop_domain::time::now_millis;
use fairloop_store::{NewSession, Principal, TokenInfo};

use crate::accounts::{SESSION_LIFETIME, SignedIn, hash_session_token, random_secret};
use crate::{App, AppError, AppResult};

/// Longest token label kept: enough to say which machine or job a token is for.
pub const MAX_TOKEN_LABEL: usize = 100;

/// The sentence for a wrong current password (403 on the settings page).
pub const WRONG_CURRENT_PASSWORD: &str =
    "the current password is wrong, so the password was not changed; type it again";

/// A password change as the settings form sends it.
#[derive(Debug, Clone)]
pub struct PasswordChange {
    /// The password the user has now.
    pub current: String,
    /// The one they want.
    pub new: String,
    /// The same again, to catch a typo the user could not see behind the dots.
    pub confirm: String,
}

impl App {
    /// Changes the caller's password and answers the session that replaces the one the request came with.
    ///
    /// Refused with 422 when the two new passwords differ or the new one is shorter than
    /// [`crate::users::MIN_PASSWORD_LEN`], and with 403 ([`WRONG_CURRENT_PASSWORD`]) when the current password is
    /// wrong. On success every session of the user ends, the current one included, and a new one is opened.
    pub async fn change_password(
        &self,
        principal: &Principal,
        change: PasswordChange,
    ) -> AppResult<SignedIn> {
        if change.new != change.confirm {
            return Err(AppError::invalid(
                "password_mismatch",
                "the two new passwords are not the same; type the new one twice",
            ));
        }
        if change.new.len() > 1024 || change.current.len() > 1024 {
            return Err(AppError::invalid(
                "password_too_long",
                "passwords are at most 1024 bytes long",
            ));
        }
        let creds = self
            .store
            .user_credentials_by_email(&principal.email)
            .await?
            .filter(|c| c.user.id == principal.user_id)
            .ok_or(AppError::NotFound("user"))?;
        let stored = creds.password_hash.clone();
        let (current, new) = (change.current, change.new);
        // Both argon2 steps are deliberately slow: keep them off the async workers.
        let hashed = tokio::task::spawn_blocking(move || {
            let ok = stored
                .as_deref()
                .is_some_and(|h| crate::accounts::verify_password(&current, h));
            if !ok {
                return Err(AppError::forbidden(WRONG_CURRENT_PASSWORD));
            }
            crate::users::hash_password(&new)
        })
        .await
        .map_err(|e| AppError::Internal(format!("password change: {e}")))??;
        self.store
            .set_password_hash(principal.user_id, &hashed)
            .await?;
        let session_token_new = random_secret();
        let csrf_token = random_secret();
        let new_hash = hash_session_token(&session_token_new);
        self.store
            .create_session(NewSession {
                token_hash: new_hash.clone(),
                user_id: principal.user_id,
                csrf_token: csrf_token.clone(),
                expires_at: now_millis() + SESSION_LIFETIME.as_millis() as i64,
            })
            .await?;
        // Ends the other sessions and the one this request came with: only the new session is left.
        self.store
            .delete_other_sessions(principal.user_id, &new_hash)
            .await?;
        Ok(SignedIn {
            session_token: session_token_new,
            csrf_token,
            user: creds.user,
        })
    }

    /// The caller's API tokens for the settings page, newest first (labels and dates; never the secrets).
    pub async fn my_tokens(&self, principal: &Principal) -> AppResult<Vec<TokenInfo>> {
        Ok(self.store.user_tokens(principal.user_id).await?)
    }

    /// Issues a token for the caller with a label they chose; the token is returned once and never again.
    pub async fn create_my_token(
        &self,
        principal: &Principal,
        label: &str,
    ) -> AppResult<(i64, String)> {
        let label = label.trim();
        if label.is_empty() {
            return Err(AppError::invalid(
                "invalid_label",
                "give the token a label, such as the machine or script that will use it",
            ));
        }
        if label.chars().count() > MAX_TOKEN_LABEL {
            return Err(AppError::invalid(
                "invalid_label",
                format!("the label must be at most {MAX_TOKEN_LABEL} characters long"),
            ));
        }
        self.issue_token(principal.user_id, label).await
    }
}

impl App {
    /// Sets the country the caller works from (ISO 3166 alpha-2, e.g. `DE`), or clears it with an empty value.
    /// It picks the pay floor that applies to them when the platform sets one per country.
    pub async fn set_my_country(
        &self,
        principal: &fairloop_store::Principal,
        country: &str,
    ) -> AppResult<Option<String>> {
        let code = country.trim().to_ascii_uppercase();
        let code = match code.as_str() {
            "" => None,
            c if c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()) => Some(code),
            _ => {
                return Err(AppError::invalid(
                    "invalid_country",
                    format!("{country:?} is not a two-letter country code such as DE or KE"),
                ));
            }
        };
        self.store
            .set_user_country(principal.org_id, principal.user_id, code.clone())
            .await?;
        Ok(code)
    }

    /// The country the caller works from, if they said.
    pub async fn my_country(
        &self,
        principal: &fairloop_store::Principal,
    ) -> AppResult<Option<String>> {
        Ok(self
            .store
            .user_country(principal.org_id, principal.user_id)
            .await?)
    }
}
