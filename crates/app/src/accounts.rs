//! Web sign-in: passwords checked against their argon2id hash, sessions as random cookies stored only hashed,
//! a CSRF token per session, and a limit on failed sign-ins.
//!
//! A session id has 256 random bits, so (like API tokens) a fast SHA-256 is the right stored form: a leaked
//! database holds no usable cookie. Signing in always creates a new session and ends the one the browser
//! brought, so a session id planted before sign-in (session fixation) never becomes an authenticated one.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use fairloop_domain::time::now_millis;
use fairloop_store::{NewSession, SessionInfo, User};
use sha2::{Digest, Sha256};

use crate::{App, AppError, AppResult};

/// How long a session lasts after sign-in: a working week, so an expert is not signed out mid-task.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// The same message for an unknown email and a wrong password, so sign-in does not reveal who has an account.
pub const BAD_CREDENTIALS: &str = "the email or password is wrong; check both and try again";

/// What a successful sign-in hands to the web layer.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The new session's cookie value (shown to the browser only; the store keeps its hash).
    pub session_token: String,
    /// The new session's CSRF token, for the forms it renders.
    pub csrf_token: String,
    /// Who signed in.
    pub user: User,
}

/// A new random 256-bit secret in hex: session ids and CSRF tokens.
pub fn random_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

/// The stored form of a session id.
pub fn hash_session_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A hash to verify against when the email is unknown, so both failures take the same time.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        crate::users::hash_password(&random_secret()).expect("hashing a random password works")
    })
}

/// Checks a password against a PHC string; false for a wrong password or an unreadable hash.
pub(crate) fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::PasswordVerifier;
    argon2::Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

impl App {
    /// Checks an email and password and opens a new session, ending `previous` (the session the browser
    /// brought, if any) so that the session id changes at sign-in. 401 with [`BAD_CREDENTIALS`] otherwise.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        previous: Option<&str>,
    ) -> AppResult<SignedIn> {
        let email = email.trim().to_lowercase();
        if email.is_empty() || email.len() > 254 || password.is_empty() || password.len() > 1024 {
            return Err(AppError::Unauthorized(BAD_CREDENTIALS.into()));
        }
        let creds = self.store.user_credentials_by_email(&email).await?;
        let hash = creds
            .as_ref()
            .and_then(|c| c.password_hash.clone())
            .unwrap_or_else(|| dummy_hash().to_string());
        let password = password.to_string();
        // argon2 is deliberately slow (tens of milliseconds): keep it off the async workers.
        let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .map_err(|e| AppError::Internal(format!("password check: {e}")))?;
        let user = match creds {
            Some(c) if ok && c.password_hash.is_some() => c.user,
            _ => return Err(AppError::Unauthorized(BAD_CREDENTIALS.into())),
        };
        if let Some(old) = previous {
            self.store.delete_session(&hash_session_token(old)).await?;
        }
        let session_token = random_secret();
        let csrf_token = random_secret();
        self.store
            .create_session(NewSession {
                token_hash: hash_session_token(&session_token),
                user_id: user.id,
                csrf_token: csrf_token.clone(),
                expires_at: now_millis() + SESSION_LIFETIME.as_millis() as i64,
            })
            .await?;
        Ok(SignedIn {
            session_token,
            csrf_token,
            user,
        })
    }

    /// The live session a cookie value names, with its user; `None` when unknown, ended or expired.
    pub async fn session(&self, token: &str) -> AppResult<Option<SessionInfo>> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        Ok(self
            .store
            .session_by_hash(&hash_session_token(token), now_millis())
            .await?)
    }

    /// Ends a session (sign-out). The cookie value stops working at once, also if it was copied elsewhere.
    pub async fn sign_out(&self, token: &str) -> AppResult<()> {
        Ok(self
            .store
            .delete_session(&hash_session_token(token))
            .await?)
    }
}

/// Counts failed sign-ins per key (email and client address) in memory and refuses more than `max` within
/// `window`, so passwords cannot be guessed at speed. In memory because the count only needs to slow a guesser
/// down, and each `serve` process limiting on its own is enough for that.
#[derive(Debug)]
pub struct SignInLimiter {
    max: usize,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Default for SignInLimiter {
    /// Five failures per fifteen minutes.
    fn default() -> Self {
        SignInLimiter::new(5, Duration::from_secs(15 * 60))
    }
}

impl SignInLimiter {
    /// A limiter that allows `max` failures per key within `window`.
    pub fn new(max: usize, window: Duration) -> Self {
        SignInLimiter {
            max,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(wait)` when the key has used up its failures: how long until the oldest one ages out.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut map = self.failures.lock().expect("limiter lock");
        let Some(list) = map.get_mut(key) else {
            return Ok(());
        };
        while list
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            list.pop_front();
        }
        if list.is_empty() {
            map.remove(key);
            return Ok(());
        }
        if list.len() >= self.max {
            let oldest = *list.front().expect("not empty");
            return Err(self.window.saturating_sub(now.duration_since(oldest)));
        }
        Ok(())
    }

    /// Records a failed attempt.
    pub fn record_failure(&self, key: &str) {
        self.record_failure_at(key, Instant::now());
    }

    fn record_failure_at(&self, key: &str, now: Instant) {
        let mut map = self.failures.lock().expect("limiter lock");
        // Bound memory under a flood of distinct keys: drop the whole table rather than grow without end.
        if map.len() > 100_000 {
            map.clear();
        }
        map.entry(key.to_string()).or_default().push_back(now);
    }

    /// Forgets a key's failures (after a successful sign-in).
    pub fn reset(&self, key: &str) {
        self.failures.lock().expect("limiter lock").remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_allows_max_failures_per_window() {
        let l = SignInLimiter::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.check_at("k", t0).is_ok());
            l.record_failure_at("k", t0);
        }
        let wait = l.check_at("k", t0 + Duration::from_secs(10)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        assert!(l.check_at("other", t0).is_ok());
        assert!(l.check_at("k", t0 + Duration::from_secs(60)).is_ok());
        l.record_failure_at("k", t0);
        l.reset("k");
        assert!(l.check_at("k", t0).is_ok());
    }

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let h = crate::users::hash_password("correct horse battery").unwrap();
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse battery!", &h));
        assert!(!verify_password("x", "not a phc string"));
        assert_ne!(random_secret(), random_secret());
        assert_eq!(random_secret().len(), 64);
    }
}
