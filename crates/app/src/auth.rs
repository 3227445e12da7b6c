//! API tokens: random, shown once, stored only as a hash.
//!
//! A token is `fl_` followed by 48 hex digits (192 random bits). The database keeps its SHA-256, so a leaked
//! database does not leak usable tokens; lookups by hash are exact and need no slow password hashing because
//! the token itself has full entropy.

use fairloop_store::Principal;
use sha2::{Digest, Sha256};

use crate::{App, AppError, AppResult};

/// How long a resolved token is trusted without asking the database again.
pub const TOKEN_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);
/// Most tokens kept in the cache (it is simply emptied when full).
const TOKEN_CACHE_MAX: usize = 100_000;

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
    ///
    /// Resolved tokens are kept for [`TOKEN_CACHE_TTL`]: a revocation takes effect at once in the process that
    /// revokes (which clears its cache) and within that time in other `serve` processes sharing the database.
    pub async fn authenticate(&self, token: &str) -> AppResult<Principal> {
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 200 {
            return Err(AppError::Unauthorized(
                "the API token is malformed; tokens start with fl_".into(),
            ));
        }
        let hash = hash_token(token);
        if let Some((p, at)) = self
            .token_cache
            .lock()
            .expect("token cache lock")
            .get(&hash)
            && at.elapsed() < TOKEN_CACHE_TTL
        {
            return Ok(p.clone());
        }
        let principal = self
            .store
            .principal_by_token_hash(&hash)
            .await?
            .ok_or_else(|| AppError::Unauthorized("the API token is unknown or revoked".into()))?;
        let mut cache = self.token_cache.lock().expect("token cache lock");
        if cache.len() >= TOKEN_CACHE_MAX {
            cache.clear();
        }
        cache.insert(hash, (principal.clone(), std::time::Instant::now()));
        Ok(principal)
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
        let revoked = self.store.revoke_token(principal.user_id, token_id).await;
        if revoked.is_ok() {
            self.token_cache.lock().expect("token cache lock").clear();
        }
        revoked.map_err(|e| match e {
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
