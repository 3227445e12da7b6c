//! API tokens: random, shown once, stored only as a hash.
//!
//! A token is `fl_` followed by 48 hex digits (192 random bits). The database keeps its SHA-256, so a leaked
//! database does not leak usable tokens; lookups by hash are exact and need no slow password hashing because
//! the token itself has full entropy.

use fairloop_store::Principal;
use sha2::{Digest, Sha256};

use crate::{App, AppError, AppResult};

/// The prefix that makes Fairloop tokens recognisable (for secret scanners and for people).
pub const TOKEN_PREFIX: &str = "fl_";

/// A new random token.
pub fn generate_token() -> String {
    let bytes: [u8; 24] = rand::random();
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

/// The stored form of a token.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl App {
    /// Resolves a bearer token to its user; 401 when missing, malformed, unknown or revoked.
    pub async fn authenticate(&self, token: &str) -> AppResult<Principal> {
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
            return Err(AppError::Unauthorized(
                "the API token is malformed; tokens start with fl_".into(),
            ));
        }
        self.store
            .principal_by_token_hash(&hash_token(token))
            .await?
            .ok_or_else(|| AppError::Unauthorized("the API token is unknown or revoked".into()))
    }

    /// Issues a new token for a user and returns it (the only time it is visible).
    pub async fn issue_token(&self, user_id: i64, label: &str) -> AppResult<(i64, String)> {
        crate::reject_nul("label", label)?;
        let token = generate_token();
        let id = self
            .store
            .create_token(user_id, &hash_token(&token), label)
            .await?;
        Ok((id, token))
    }

    /// Revokes one of the caller's tokens.
    pub async fn revoke_token(&self, principal: &Principal, token_id: i64) -> AppResult<()> {
        self.store
            .revoke_token(principal.user_id, token_id)
            .await
            .map_err(|e| match e {
                fairloop_store::StoreError::NotFound => AppError::NotFound("token"),
                other => other.into(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hash_stably() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 3 + 48);
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_ne!(hash_token(&a), hash_token(&b));
        assert!(!hash_token(&a).contains(&a[3..]));
    }
}
