//! Cookies, the signed-in user of a page request, CSRF checks and safe redirects.
//!
//! The session cookie is HttpOnly (scripts cannot read it), SameSite=Lax (other sites' forms do not carry it on
//! POST) and Secure when the request came over https. Every state-changing form also carries the session's
//! CSRF token in a hidden field, checked in constant time, so SameSite is not the only line of defence. The
//! sign-in form, which has no session yet, uses a double-submit cookie instead.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use fairloop_app::accounts::SESSION_LIFETIME;
use fairloop_store::SessionInfo;

use super::Ui;
use super::UiError;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "fl_session";
/// The cookie holding the sign-in form's CSRF token (before there is a session).
pub const SIGNIN_CSRF_COOKIE: &str = "fl_signin_csrf";
/// The hidden form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "_csrf";

/// The value of a cookie in the request, if present.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether the browser reached us over https (directly or through a proxy that says so), which decides the
/// cookies' Secure flag: a Secure cookie over plain http would simply not come back.
pub fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value with the attributes every Fairloop cookie has.
pub fn set_cookie(name: &str, value: &str, max_age_secs: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    ))
    .expect("cookie values are hex")
}

/// The session cookie for a new session.
pub fn session_cookie(token: &str, secure: bool) -> HeaderValue {
    set_cookie(SESSION_COOKIE, token, SESSION_LIFETIME.as_secs(), secure)
}

/// A cookie that makes the browser forget `name`.
pub fn clear_cookie(name: &str, secure: bool) -> HeaderValue {
    set_cookie(name, "", 0, secure)
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Only a path on this site may be a redirect target after sign-in: `/work/3` yes; `//evil.test`,
/// `https://evil.test`, `/\evil.test` and anything with control characters no.
pub fn safe_next(next: Option<&str>) -> Option<String> {
    let next = next?.trim();
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 512
        && !next.chars().any(|c| c.is_control() || c.is_whitespace());
    ok.then(|| next.to_string())
}

/// The client's address, when the server was started with connection info (used to key the sign-in limit).
pub fn client_ip(parts_extensions: &axum::http::Extensions) -> String {
    parts_extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip().to_string())
        .unwrap_or_else(|| "-".into())
}

/// The signed-in user of a page request. Pages that need one take this; without a live session the request
/// is sent to the sign-in page and comes back afterwards.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// The session and its user.
    pub session: SessionInfo,
    /// The cookie value (to end the session at sign-out).
    pub token: String,
}

impl CurrentUser {
    /// Checks the CSRF token of a posted form against the session's.
    pub fn check_csrf(&self, form: &[(String, String)]) -> Result<(), UiError> {
        let sent = form_value(form, CSRF_FIELD).unwrap_or_default();
        if constant_time_eq(sent, &self.session.csrf_token) {
            Ok(())
        } else {
            Err(UiError::csrf())
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ui = parts
            .extensions
            .get::<std::sync::Arc<Ui>>()
            .cloned()
            .expect("the UI router adds its state");
        let next = parts.uri.path_and_query().map(|p| p.as_str().to_string());
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(UiError::SignIn { next });
        };
        match ui.state.app.session(token).await? {
            Some(session) => Ok(CurrentUser {
                session,
                token: token.to_string(),
            }),
            None => Err(UiError::SignIn { next }),
        }
    }
}

/// The first value of a form field.
pub fn form_value<'a>(form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_accepts_only_local_paths() {
        assert_eq!(safe_next(Some("/work/3")).as_deref(), Some("/work/3"));
        assert_eq!(
            safe_next(Some("/projects?x=1")).as_deref(),
            Some("/projects?x=1")
        );
        for bad in [
            "//evil.test",
            "https://evil.test",
            "/\\evil.test",
            "evil",
            "/a\nb",
            "/a b",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), None, "{bad:?}");
        }
        assert_eq!(safe_next(None), None);
    }

    #[test]
    fn cookies_parse_and_compare() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; fl_session=abc; b=2".parse().unwrap());
        assert_eq!(cookie(&h, "fl_session"), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
        let c = session_cookie("tok", true).to_str().unwrap().to_string();
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Secure"));
        let c = session_cookie("tok", false).to_str().unwrap().to_string();
        assert!(!c.contains("Secure"));
    }
}
