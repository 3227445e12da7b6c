//! How item data names media: a media key of the organization, or a URL on a host the organization allows.
//!
//! An `image`, `video` or `audio` field holds a string. `media:KEY` or a bare `KEY` names a file uploaded to
//! Fairloop (served to the workbench from `/media/KEY`, only to people allowed to see it); an `http(s)://` URL
//! names a file elsewhere, which the worker's browser fetches directly, so only hosts the organization lists are
//! accepted (otherwise any item could make workers' browsers call any server). These rules are pure and shared
//! by the import (which refuses bad references line by line), the upload (which checks chosen keys) and the
//! web app (which turns a value into a URL).

/// Longest media key, in bytes.
pub const MAX_KEY_LEN: usize = 200;

/// The prefix that marks a value as a media key explicitly.
pub const KEY_PREFIX: &str = "media:";

/// What a media field's value refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaRef<'a> {
    /// A media key of the item's organization.
    Key(&'a str),
    /// An `http://` or `https://` URL, with its host (lowercase, without port).
    Url {
        /// The URL as written.
        url: &'a str,
        /// Its host, lowercased, without the port.
        host: String,
    },
}

impl<'a> MediaRef<'a> {
    /// Reads a field value: `http(s)://…` is a URL, `media:KEY` or anything else a key (checked by
    /// [`check_key`]). The error is a sentence naming what is wrong.
    pub fn parse(value: &'a str) -> Result<MediaRef<'a>, String> {
        let v = value.trim();
        let lower_scheme = v
            .get(..8)
            .map(|s| s.to_ascii_lowercase())
            .unwrap_or_default();
        if lower_scheme.starts_with("http://") || lower_scheme.starts_with("https://") {
            let host = url_host(v)?;
            return Ok(MediaRef::Url { url: v, host });
        }
        if v.contains("://") {
            return Err(format!(
                "{:?} is a URL with a scheme other than http or https",
                short(v)
            ));
        }
        let key = v.strip_prefix(KEY_PREFIX).unwrap_or(v);
        check_key(key)?;
        Ok(MediaRef::Key(key))
    }
}

/// Checks a media key: 1 to [`MAX_KEY_LEN`] bytes of `A-Z a-z 0-9 . _ -` and `/` between non-empty parts,
/// no part `.` or `..`, and a last part other than `thumb` and `info` (those name a file's thumbnail and
/// metadata under `/media/KEY/…`).
pub fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("a media key must not be empty".into());
    }
    if key.len() > MAX_KEY_LEN {
        return Err(format!(
            "the media key {:?} is longer than {MAX_KEY_LEN} bytes",
            short(key)
        ));
    }
    if let Some(c) = key
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/')))
    {
        return Err(format!(
            "the media key {:?} contains {c:?}; keys use only letters, digits, '.', '_', '-' and '/' \
             (or give an http(s) URL)",
            short(key)
        ));
    }
    let parts: Vec<&str> = key.split('/').collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || *p == "." || *p == "..")
    {
        return Err(format!(
            "the media key {:?} has an empty, '.' or '..' part between slashes",
            short(key)
        ));
    }
    if matches!(parts.last(), Some(&"thumb") | Some(&"info")) {
        return Err(format!(
            "the media key {:?} must not end in /thumb or /info (those name a file's thumbnail and details)",
            short(key)
        ));
    }
    Ok(())
}

/// A key made from an uploaded file's name: the last path part, with every character a key may not hold
/// turned into `-`; `None` when nothing usable is left.
pub fn key_from_file_name(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let mut out = String::with_capacity(base.len());
    for c in base.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            c
        } else {
            '-'
        };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    let mut out = out.trim_matches(['-', '.']).to_string();
    if out.len() > MAX_KEY_LEN {
        // Keep the extension: cut the stem.
        let ext = out
            .rsplit_once('.')
            .map(|(_, e)| e.to_string())
            .filter(|e| e.len() <= 10);
        let keep = MAX_KEY_LEN - ext.as_ref().map_or(0, |e| e.len() + 1);
        out.truncate(keep);
        if let Some(e) = ext {
            out = format!("{}.{e}", out.trim_end_matches(['-', '.']));
        }
    }
    (check_key(&out).is_ok()).then_some(out)
}

/// The host of an http(s) URL, lowercased and without port or credentials.
fn url_host(url: &str) -> Result<String, String> {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(format!(
            "the URL {:?} carries a user name or password; media URLs must not",
            short(url)
        ));
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default().to_string()
    } else {
        authority
            .rsplit_once(':')
            .map_or(authority, |(h, _)| h)
            .to_string()
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("the URL {:?} has no valid host", short(url)));
    }
    Ok(host.to_ascii_lowercase())
}

/// Normalises an entry of an organization's allowed hosts: `example.com`, `cdn.example.com` or
/// `*.example.com` (any subdomain), lowercase, no scheme, port or path.
pub fn normalize_allowed_host(entry: &str) -> Result<String, String> {
    let e = entry.trim().to_ascii_lowercase();
    let name = e.strip_prefix("*.").unwrap_or(&e);
    let ok = !name.is_empty()
        && name.len() <= 253
        && name
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        || (name.contains(':') && name.chars().all(|c| c.is_ascii_hexdigit() || c == ':'));
    if !ok {
        return Err(format!(
            "{:?} is not a host name; write it like images.example.com or *.example.com (no https://, port or path)",
            short(entry.trim())
        ));
    }
    Ok(e)
}

/// Whether `host` (as [`MediaRef::Url`] gives it) is on the list: an exact entry, or `*.domain` for any
/// subdomain of `domain`.
pub fn host_allowed(host: &str, allowed: &[String]) -> bool {
    allowed.iter().any(|a| match a.strip_prefix("*.") {
        Some(domain) => host
            .strip_suffix(domain)
            .is_some_and(|sub| sub.ends_with('.') && sub.len() > 1),
        None => a == host,
    })
}

fn short(s: &str) -> String {
    if s.chars().count() <= 60 {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(60).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_keys_or_urls() {
        assert_eq!(
            MediaRef::parse("media:scan-1.png"),
            Ok(MediaRef::Key("scan-1.png"))
        );
        assert_eq!(
            MediaRef::parse("media/ward-3.mp4"),
            Ok(MediaRef::Key("media/ward-3.mp4"))
        );
        assert_eq!(
            MediaRef::parse("HTTPS://Img.Example.COM:8443/a/b.jpg?x=1"),
            Ok(MediaRef::Url {
                url: "HTTPS://Img.Example.COM:8443/a/b.jpg?x=1",
                host: "img.example.com".into()
            })
        );
        for bad in [
            "ftp://x/y.png",
            "../etc/passwd",
            "a//b.png",
            "a b.png",
            "x/thumb",
            "https://user:pw@example.com/a.png",
            "https:///nohost",
            "media:",
        ] {
            assert!(MediaRef::parse(bad).is_err(), "{bad}");
        }
        assert!(check_key(&"a".repeat(MAX_KEY_LEN + 1)).is_err());
    }

    #[test]
    fn file_names_become_keys() {
        assert_eq!(
            key_from_file_name("IMG 0001 (2).JPG").as_deref(),
            Some("IMG-0001-2-.JPG")
        );
        assert_eq!(
            key_from_file_name("C:\\scans\\x-ray.png").as_deref(),
            Some("x-ray.png")
        );
        assert_eq!(key_from_file_name("...").as_deref(), None);
        let long = format!("{}.png", "a".repeat(400));
        let k = key_from_file_name(&long).unwrap();
        assert!(k.len() <= MAX_KEY_LEN && k.ends_with(".png"));
    }

    #[test]
    fn hosts_match_exactly_or_by_wildcard() {
        let allowed = vec![
            normalize_allowed_host("Images.Example.com").unwrap(),
            normalize_allowed_host("*.cdn.test").unwrap(),
        ];
        assert!(host_allowed("images.example.com", &allowed));
        assert!(!host_allowed("evil-images.example.com", &allowed));
        assert!(!host_allowed("example.com", &allowed));
        assert!(host_allowed("eu.cdn.test", &allowed));
        assert!(!host_allowed("cdn.test", &allowed));
        assert!(!host_allowed("evilcdn.test", &allowed));
        assert!(normalize_allowed_host("https://x.test/").is_err());
        assert!(normalize_allowed_host("").is_err());
    }
}
