//! The workforce rules: the expertise taxonomy, language levels, time zones, credential documents, project
//! requirements, the eligibility check and the matching score.
//!
//! Why here, in the pure crate: the same rules decide a claim (`app::profiles`), the worker's home page, the
//! ranked matching list (computed partly in SQL for speed) and the "projects for you" list, so they are written
//! once and tested without a database. The SQL of the matching query uses the point values defined here
//! ([`domain_points`], [`rate_points`], [`base_points`]) and a test in the store checks both agree.

use serde::{Deserialize, Serialize};

/// A bad value, naming the field it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The field, as a path (`expertise[0].domain`).
    pub field: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

fn bad(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// One entry of the expertise taxonomy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Domain {
    /// Stable key: `medicine` or `medicine/dermatology`.
    pub key: &'static str,
    /// Plain label shown to people.
    pub label: &'static str,
}

impl Domain {
    /// The top-level domain's key (`medicine` for `medicine/dermatology`; itself for a top-level one).
    pub fn top(&self) -> &'static str {
        self.key.split('/').next().unwrap_or(self.key)
    }
}

macro_rules! taxonomy {
    ($(($k:literal, $l:literal)),* $(,)?) => { &[$(Domain { key: $k, label: $l }),*] };
}

/// The fixed taxonomy (documented in docs/workforce.md): top-level domains, each followed by its sub-domains.
/// Keys never change once released (profiles and requirements store them); labels may be reworded.
pub const TAXONOMY: &[Domain] = taxonomy![
    ("medicine", "Medicine"),
    ("medicine/dermatology", "Dermatology"),
    ("medicine/radiology", "Radiology"),
    ("medicine/pathology", "Pathology"),
    ("medicine/cardiology", "Cardiology"),
    ("medicine/oncology", "Oncology"),
    ("medicine/psychiatry", "Psychiatry"),
    ("medicine/general-practice", "General practice"),
    ("medicine/nursing", "Nursing"),
    ("medicine/pharmacy", "Pharmacy"),
    ("law", "Law"),
    ("law/patents", "Patent law"),
    ("law/contracts", "Contract law"),
    ("law/criminal", "Criminal law"),
    ("law/employment", "Employment law"),
    ("law/privacy", "Privacy and data protection law"),
    ("law/tax", "Tax law"),
    ("finance", "Finance"),
    ("finance/investment-banking", "Investment banking"),
    ("finance/accounting", "Accounting"),
    ("finance/insurance", "Insurance"),
    ("finance/trading", "Trading"),
    ("finance/personal-finance", "Personal finance"),
    ("software", "Software"),
    ("software/backend", "Backend development"),
    ("software/frontend", "Frontend development"),
    ("software/data-engineering", "Data engineering"),
    ("software/machine-learning", "Machine learning"),
    ("software/security", "Software security"),
    ("software/devops", "DevOps and infrastructure"),
    ("software/mobile", "Mobile development"),
    ("science", "Science"),
    ("science/mathematics", "Mathematics"),
    ("science/physics", "Physics"),
    ("science/chemistry", "Chemistry"),
    ("science/biology", "Biology"),
    ("creative-writing", "Creative writing"),
    ("creative-writing/poetry", "Poetry"),
    ("creative-writing/fiction", "Fiction"),
    ("creative-writing/screenwriting", "Screenwriting"),
    ("creative-writing/copywriting", "Copywriting"),
    ("music", "Music"),
    ("music/composition", "Music composition"),
    ("music/performance", "Music performance"),
    ("music/production", "Music production"),
    ("music/theory", "Music theory"),
    ("languages", "Languages"),
    ("languages/translation", "Translation"),
    ("languages/interpreting", "Interpreting"),
    ("languages/linguistics", "Linguistics"),
    ("languages/proofreading", "Proofreading"),
    ("education", "Education"),
    ("education/k12-teaching", "School teaching"),
    ("education/higher-education", "Higher education"),
    ("engineering", "Engineering"),
    ("engineering/mechanical", "Mechanical engineering"),
    ("engineering/electrical", "Electrical engineering"),
    ("engineering/civil", "Civil engineering"),
];

/// The taxonomy entry for `key`, or an error naming `field` and listing the top-level keys.
pub fn domain(field: &str, key: &str) -> Result<&'static Domain, FieldError> {
    TAXONOMY.iter().find(|d| d.key == key).ok_or_else(|| {
        let tops: Vec<&str> = TAXONOMY
            .iter()
            .filter(|d| !d.key.contains('/'))
            .map(|d| d.key)
            .collect();
        bad(
            field,
            format!(
                "unknown domain {key:?}; use a key of the taxonomy (GET /api/v1/taxonomy), such as {} or \
                 medicine/dermatology",
                tops.join(", ")
            ),
        )
    })
}

/// The label of a stored domain key (the key itself for one no longer in the taxonomy).
pub fn domain_label(key: &str) -> &str {
    TAXONOMY
        .iter()
        .find(|d| d.key == key)
        .map(|d| d.label)
        .unwrap_or(key)
}

/// A worker's expertise in `have` satisfies a requirement of `want`: the same key, or `want` is the top-level
/// domain of `have` (a dermatologist meets "medicine"; a general "medicine" does not meet "dermatology").
pub fn domain_fits(have: &str, want: &str) -> bool {
    have == want || (!want.contains('/') && have.split('/').next() == Some(want))
}

/// A language level: CEFR A1 to C2, or native.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Level {
    /// CEFR A1.
    A1,
    /// CEFR A2.
    A2,
    /// CEFR B1.
    B1,
    /// CEFR B2.
    B2,
    /// CEFR C1.
    C1,
    /// CEFR C2.
    C2,
    /// A native speaker.
    #[serde(rename = "native")]
    Native,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 7] = [
        Level::A1,
        Level::A2,
        Level::B1,
        Level::B2,
        Level::C1,
        Level::C2,
        Level::Native,
    ];

    /// Stored and shown name (`A1`…`C2`, `native`).
    pub fn as_str(self) -> &'static str {
        match self {
            Level::A1 => "A1",
            Level::A2 => "A2",
            Level::B1 => "B1",
            Level::B2 => "B2",
            Level::C1 => "C1",
            Level::C2 => "C2",
            Level::Native => "native",
        }
    }

    /// 1 (A1) to 7 (native): stored beside the name so SQL can compare levels.
    pub fn rank(self) -> i64 {
        Level::ALL.iter().position(|l| *l == self).unwrap_or(0) as i64 + 1
    }

    /// The level of a rank.
    pub fn from_rank(rank: i64) -> Option<Level> {
        usize::try_from(rank - 1)
            .ok()
            .and_then(|i| Level::ALL.get(i).copied())
    }

    /// Parses a level (case-insensitive); the error names `field`.
    pub fn parse(field: &str, s: &str) -> Result<Level, FieldError> {
        Level::ALL
            .iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(s.trim()))
            .copied()
            .ok_or_else(|| {
                bad(
                    field,
                    format!("unknown level {s:?}; use A1, A2, B1, B2, C1, C2 or native"),
                )
            })
    }
}

const LANGUAGE_NAMES: &[(&str, &str)] = &[
    ("ar", "Arabic"),
    ("bn", "Bengali"),
    ("cs", "Czech"),
    ("da", "Danish"),
    ("de", "German"),
    ("el", "Greek"),
    ("en", "English"),
    ("es", "Spanish"),
    ("fa", "Persian"),
    ("fi", "Finnish"),
    ("fr", "French"),
    ("he", "Hebrew"),
    ("hi", "Hindi"),
    ("hu", "Hungarian"),
    ("id", "Indonesian"),
    ("it", "Italian"),
    ("ja", "Japanese"),
    ("ko", "Korean"),
    ("ms", "Malay"),
    ("nl", "Dutch"),
    ("no", "Norwegian"),
    ("pl", "Polish"),
    ("pt", "Portuguese"),
    ("ro", "Romanian"),
    ("ru", "Russian"),
    ("sv", "Swedish"),
    ("sw", "Swahili"),
    ("ta", "Tamil"),
    ("th", "Thai"),
    ("tl", "Tagalog"),
    ("tr", "Turkish"),
    ("uk", "Ukrainian"),
    ("ur", "Urdu"),
    ("vi", "Vietnamese"),
    ("yo", "Yoruba"),
    ("zh", "Chinese"),
];

/// Checks an ISO 639-1 language code (two lowercase letters) and answers it lowercased.
pub fn language(field: &str, code: &str) -> Result<String, FieldError> {
    let c = code.trim().to_ascii_lowercase();
    if c.len() == 2 && c.bytes().all(|b| b.is_ascii_lowercase()) {
        Ok(c)
    } else {
        Err(bad(
            field,
            format!(
                "{code:?} is not a language code; use two letters (ISO 639-1), such as en, de or sw"
            ),
        ))
    }
}

/// The English name of a language code (the code itself when not in the short list).
pub fn language_label(code: &str) -> &str {
    LANGUAGE_NAMES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| *n)
        .unwrap_or(code)
}

/// Checks a country code (ISO 3166 alpha-2) and answers it uppercased.
pub fn country(field: &str, code: &str) -> Result<String, FieldError> {
    let c = code.trim().to_ascii_uppercase();
    if c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(c)
    } else {
        Err(bad(
            field,
            format!(
                "{code:?} is not a country code; use two letters (ISO 3166), such as DE, KE or BR"
            ),
        ))
    }
}

/// IANA time zone names of tzdata 2025b (zones and links), sorted bytewise, each with its standard (winter)
/// and summer offset from UTC in minutes (`Europe/Berlin 60 120`), as of 2026: validating against a list of
/// 600 names costs 14 KB, where a time zone crate would add its build time for a lookup and an offset nothing
/// else needs. Regenerated from the system's tzdata with Python's `zoneinfo` when the list changes.
const TIME_ZONES: &str = include_str!("time_zone_offsets.txt");

fn time_zone_entry(name: &str) -> Option<(&'static str, i64)> {
    let lines: Vec<&'static str> = TIME_ZONES.lines().collect();
    let i = lines
        .binary_search_by(|l| l.split(' ').next().unwrap_or("").cmp(name))
        .ok()?;
    let mut parts = lines[i].split(' ');
    let n = parts.next()?;
    let standard = parts.next()?.parse().ok()?;
    Some((n, standard))
}

/// Checks an IANA time zone name (`Europe/Berlin`, `America/Sao_Paulo`, `UTC`); exact spelling.
pub fn time_zone(field: &str, name: &str) -> Result<String, FieldError> {
    let n = name.trim();
    if time_zone_entry(n).is_some() {
        Ok(n.to_string())
    } else {
        Err(bad(
            field,
            format!(
                "{name:?} is not an IANA time zone name; use one such as Europe/Berlin, America/Sao_Paulo or UTC"
            ),
        ))
    }
}

/// The standard (winter) offset from UTC of an IANA time zone, in minutes (`Europe/Berlin`: 60; during summer
/// time the clocks there are an hour later). `None` for a name not in the list. Matching compares this figure
/// with a project's [`OffsetRange`].
pub fn utc_offset_minutes(name: &str) -> Option<i64> {
    time_zone_entry(name.trim()).map(|(_, m)| m)
}

/// An offset from UTC in minutes written as people read it: `+01:00`, `-03:00`, `+05:30`, `+00:00`.
pub fn format_utc_offset(minutes: i64) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let m = minutes.abs();
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}

/// The short form for reasons: `UTC+1`, `UTC-3`, `UTC+5:30`, `UTC`.
pub fn utc_offset_label(minutes: i64) -> String {
    if minutes == 0 {
        return "UTC".to_string();
    }
    let sign = if minutes < 0 { '-' } else { '+' };
    let m = minutes.abs();
    if m % 60 == 0 {
        format!("UTC{sign}{}", m / 60)
    } else {
        format!("UTC{sign}{}:{:02}", m / 60, m % 60)
    }
}

/// Parses an offset from UTC (`+01:00`, `-03:00`, `+05:30`, `+1`, `UTC+1`, `0`) into minutes: from -12:00 to
/// +14:00, in quarter hours (every offset in use is one). The error names `field`.
pub fn parse_utc_offset(field: &str, s: &str) -> Result<i64, FieldError> {
    let err = || {
        bad(
            field,
            format!(
                "{s:?} is not an offset from UTC; write it as +01:00, -03:00 or +05:30 (from -12:00 to +14:00)"
            ),
        )
    };
    let t = s.trim();
    let t = t
        .strip_prefix("UTC")
        .or_else(|| t.strip_prefix("utc"))
        .unwrap_or(t)
        .trim();
    if t.is_empty() || t == "0" || t == "00:00" {
        return if t.is_empty() && !s.trim().eq_ignore_ascii_case("utc") {
            Err(err())
        } else {
            Ok(0)
        };
    }
    let (sign, rest) = match t.as_bytes()[0] {
        b'+' => (1, &t[1..]),
        b'-' => (-1, &t[1..]),
        _ => return Err(err()),
    };
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) => (h, m),
        None => (rest, "0"),
    };
    let ok_digits =
        |x: &str| !x.is_empty() && x.len() <= 2 && x.bytes().all(|b| b.is_ascii_digit());
    if !ok_digits(h) || !ok_digits(m) {
        return Err(err());
    }
    let (h, m): (i64, i64) = (h.parse().map_err(|_| err())?, m.parse().map_err(|_| err())?);
    let total = sign * (h * 60 + m);
    if m % 15 != 0 || m >= 60 || !(-12 * 60..=14 * 60).contains(&total) {
        return Err(err());
    }
    Ok(total)
}

/// Weekdays, Monday first, as stored in the availability's day mask (bit 0 = Monday).
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Turns day names into a bit mask (bit 0 = Monday).
pub fn days_mask(field: &str, days: &[String]) -> Result<i64, FieldError> {
    let mut mask = 0;
    for (i, d) in days.iter().enumerate() {
        let lower = d.trim().to_ascii_lowercase();
        let Some(bit) = WEEKDAYS
            .iter()
            .position(|w| lower.starts_with(w) && lower.len() >= 3)
        else {
            return Err(bad(
                format!("{field}[{i}]"),
                format!("{d:?} is not a day; use mon, tue, wed, thu, fri, sat or sun"),
            ));
        };
        mask |= 1 << bit;
    }
    Ok(mask)
}

/// The day names of a mask.
pub fn mask_days(mask: i64) -> Vec<String> {
    WEEKDAYS
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, d)| d.to_string())
        .collect()
}

/// The most a credential document may weigh.
pub const MAX_CREDENTIAL_BYTES: usize = 10 * 1024 * 1024;

/// What a credential document is, read from its first bytes (never its name or a header): `application/pdf`,
/// `image/png` or `image/jpeg`; anything else is refused with a sentence naming what it looks like.
pub fn credential_document_type(head: &[u8]) -> Result<&'static str, FieldError> {
    if head.starts_with(b"%PDF-") {
        Ok("application/pdf")
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok("image/png")
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok("image/jpeg")
    } else if head.is_empty() {
        Err(bad("document", "the document is empty"))
    } else {
        let looks = if head.starts_with(b"PK\x03\x04") {
            "a zip archive (perhaps a Word document)"
        } else if head.starts_with(b"GIF8") {
            "a GIF image"
        } else if head.iter().take(512).all(|b| b.is_ascii()) {
            "text"
        } else {
            "another kind of file"
        };
        Err(bad(
            "document",
            format!("the document looks like {looks}; upload a PDF, PNG or JPEG file"),
        ))
    }
}

/// A language with the least level a project needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageNeed {
    /// ISO 639-1 code.
    pub language: String,
    /// The least level (`A1`…`C2`, `native`).
    pub min_level: String,
}

/// A window of offsets from UTC (both ends included) a project wants its workers in, so that their working
/// hours overlap the project's: `{"min": "-03:00", "max": "+02:00"}`. Stored normalized (`+HH:MM`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OffsetRange {
    /// The westernmost offset (`-03:00`).
    pub min: String,
    /// The easternmost offset (`+02:00`).
    pub max: String,
}

impl OffsetRange {
    /// The two ends in minutes (validated values; an unparsable end reads as the widest).
    pub fn minutes(&self) -> (i64, i64) {
        (
            parse_utc_offset("min", &self.min).unwrap_or(-12 * 60),
            parse_utc_offset("max", &self.max).unwrap_or(14 * 60),
        )
    }

    /// `UTC-3 to UTC+2`.
    pub fn label(&self) -> String {
        let (a, b) = self.minutes();
        format!("{} to {}", utc_offset_label(a), utc_offset_label(b))
    }
}

/// What a project asks of its workers (all optional; an empty value asks nothing). Extended by further kinds
/// (qualifications) that add their own reasons to [`unmet`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirements {
    /// Taxonomy keys; a worker needs expertise in any one of them.
    #[serde(default)]
    pub domains: Vec<String>,
    /// Every language listed, at its least level.
    #[serde(default)]
    pub languages: Vec<LanguageNeed>,
    /// Countries (ISO 3166 alpha-2) the worker must work from; empty means any.
    #[serde(default)]
    pub countries: Vec<String>,
    /// The least quality (0 to 1: gold accuracy, else agreement with the aggregate) over the worker's past work.
    #[serde(default)]
    pub min_quality: Option<f64>,
    /// With `min_quality`, also turn away workers with no quality history yet (default false: they may start).
    #[serde(default)]
    pub exclude_without_history: bool,
    /// The offsets from UTC the worker's time zone (its standard offset) must fall in; absent means anywhere.
    /// Filters like the other requirements and adds no points: a worker outside the window, or who has not
    /// said their time zone, is not offered the project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utc_offset: Option<OffsetRange>,
}

impl Requirements {
    /// Checks and normalises every field; errors name the field (`requirements.languages[0].min_level`).
    pub fn validate(mut self) -> Result<Requirements, FieldError> {
        let p = "requirements";
        for (i, d) in self.domains.iter().enumerate() {
            domain(&format!("{p}.domains[{i}]"), d)?;
        }
        self.domains.sort();
        self.domains.dedup();
        for (i, l) in self.languages.iter_mut().enumerate() {
            l.language = language(&format!("{p}.languages[{i}].language"), &l.language)?;
            l.min_level = Level::parse(&format!("{p}.languages[{i}].min_level"), &l.min_level)?
                .as_str()
                .to_string();
        }
        for (i, c) in self.countries.iter_mut().enumerate() {
            *c = country(&format!("{p}.countries[{i}]"), c)?;
        }
        self.countries.sort();
        self.countries.dedup();
        if let Some(q) = self.min_quality
            && !(0.0..=1.0).contains(&q)
        {
            return Err(bad(
                format!("{p}.min_quality"),
                format!("must be from 0 to 1 (a share of answers), got {q}"),
            ));
        }
        if let Some(r) = &mut self.utc_offset {
            let min = parse_utc_offset(&format!("{p}.utc_offset.min"), &r.min)?;
            let max = parse_utc_offset(&format!("{p}.utc_offset.max"), &r.max)?;
            if min > max {
                return Err(bad(
                    format!("{p}.utc_offset.max"),
                    format!(
                        "must not be west of min ({} is before {}); list the westernmost offset as min",
                        format_utc_offset(max),
                        format_utc_offset(min)
                    ),
                ));
            }
            r.min = format_utc_offset(min);
            r.max = format_utc_offset(max);
        }
        if self.domains.len() > 50 || self.languages.len() > 20 || self.countries.len() > 250 {
            return Err(bad(p, "at most 50 domains, 20 languages and 250 countries"));
        }
        Ok(self)
    }

    /// Asks nothing at all.
    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
            && self.languages.is_empty()
            && self.countries.is_empty()
            && self.min_quality.is_none()
            && self.utc_offset.is_none()
    }

    /// The least quality in thousandths, as stored and compared.
    pub fn min_quality_permille(&self) -> Option<i64> {
        self.min_quality.map(|q| (q * 1000.0).round() as i64)
    }
}

/// What is known of a worker that requirements and matching look at.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkerFacts {
    /// Expertise: domain key and years of experience.
    pub expertise: Vec<(String, i64)>,
    /// Languages: code and level.
    pub languages: Vec<(String, Level)>,
    /// Country (ISO 3166 alpha-2).
    pub country: Option<String>,
    /// Quality over past work in thousandths; `None` without history.
    pub quality_permille: Option<i64>,
    /// Hours a week the worker offers.
    pub hours_per_week: Option<i64>,
    /// The least hourly rate accepted, in minor units, with its currency.
    pub min_rate: Option<(i64, String)>,
    /// The standard offset from UTC of the worker's time zone, in minutes; `None` when not stated.
    pub utc_offset: Option<i64>,
}

/// One requirement a worker does not meet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unmet {
    /// `domain`, `language`, `country`, `time_zone`, `quality` (further kinds add their own).
    pub kind: &'static str,
    /// What is needed, in a few words ("Dermatology", "C1 English").
    pub needs: String,
}

/// Every requirement the worker does not meet; empty means the project is open to them.
pub fn unmet(req: &Requirements, w: &WorkerFacts) -> Vec<Unmet> {
    let mut out = Vec::new();
    if !req.domains.is_empty()
        && !w
            .expertise
            .iter()
            .any(|(have, _)| req.domains.iter().any(|want| domain_fits(have, want)))
    {
        let labels: Vec<&str> = req.domains.iter().map(|d| domain_label(d)).collect();
        out.push(Unmet {
            kind: "domain",
            needs: labels.join(" or "),
        });
    }
    for need in &req.languages {
        let min = Level::parse("min_level", &need.min_level).unwrap_or(Level::Native);
        if !w
            .languages
            .iter()
            .any(|(l, lvl)| *l == need.language && *lvl >= min)
        {
            let level = if min == Level::Native {
                "native".to_string()
            } else {
                min.as_str().to_string()
            };
            out.push(Unmet {
                kind: "language",
                needs: format!("{level} {}", language_label(&need.language)),
            });
        }
    }
    if !req.countries.is_empty()
        && !w
            .country
            .as_ref()
            .is_some_and(|c| req.countries.contains(c))
    {
        out.push(Unmet {
            kind: "country",
            needs: format!("working from {}", req.countries.join(", ")),
        });
    }
    if let Some(range) = &req.utc_offset {
        let (min, max) = range.minutes();
        if !w.utc_offset.is_some_and(|o| (min..=max).contains(&o)) {
            out.push(Unmet {
                kind: "time_zone",
                needs: format!(
                    "a time zone from {}{}",
                    range.label(),
                    match w.utc_offset {
                        None => " (you have not said your time zone)".to_string(),
                        Some(o) => format!(" (yours is {})", utc_offset_label(o)),
                    }
                ),
            });
        }
    }
    if let Some(min) = req.min_quality_permille() {
        let ok = match w.quality_permille {
            Some(q) => q >= min,
            None => !req.exclude_without_history,
        };
        if !ok {
            out.push(Unmet {
                kind: "quality",
                needs: format!(
                    "quality of {}% or more{}",
                    min / 10,
                    if w.quality_permille.is_none() {
                        " (you have no quality history yet)"
                    } else {
                        ""
                    }
                ),
            });
        }
    }
    out
}

/// The "needs: …" line of a project a worker may not take: `needs: Dermatology; C1 English`.
pub fn needs_line(unmet: &[Unmet]) -> String {
    let parts: Vec<&str> = unmet.iter().map(|u| u.needs.as_str()).collect();
    format!("needs: {}", parts.join("; "))
}

/// Most points for domain fit (10 or more years in a fitting domain).
pub const DOMAIN_POINTS: i64 = 40;
/// Domain points of every worker when the project names no domain.
pub const NO_DOMAIN_POINTS: i64 = 20;
/// Most points for quality history.
pub const QUALITY_POINTS: i64 = 30;
/// Quality points without history.
pub const NEW_QUALITY_POINTS: i64 = 15;
/// Most points for availability (40 hours a week or more).
pub const AVAILABILITY_POINTS: i64 = 15;
/// Availability points when the worker has not said.
pub const UNKNOWN_AVAILABILITY_POINTS: i64 = 5;
/// Points when the project's hourly pay meets the worker's lowest rate.
pub const RATE_POINTS: i64 = 15;
/// Rate points when the two cannot be compared (per-task pay, no stated rate, another currency).
pub const UNKNOWN_RATE_POINTS: i64 = 8;

/// Domain points from the most years in a domain that fits (capped at 10 years); `None` years when the
/// project names no domain.
pub fn domain_points(best_years: Option<i64>) -> i64 {
    match best_years {
        None => NO_DOMAIN_POINTS,
        Some(y) => 4 * y.clamp(0, 10),
    }
}

/// Quality points from quality in thousandths (integer division, the same in SQL).
pub fn quality_points(permille: Option<i64>) -> i64 {
    match permille {
        None => NEW_QUALITY_POINTS,
        Some(q) => QUALITY_POINTS * q.clamp(0, 1000) / 1000,
    }
}

/// Availability points from hours a week (capped at 40).
pub fn availability_points(hours: Option<i64>) -> i64 {
    match hours {
        None => UNKNOWN_AVAILABILITY_POINTS,
        Some(h) => AVAILABILITY_POINTS * h.clamp(0, 40) / 40,
    }
}

/// The part of the score that does not depend on the project (quality and availability): stored per worker so
/// the matching query adds two numbers instead of recomputing it for every row.
pub fn base_points(quality_permille: Option<i64>, hours: Option<i64>) -> i64 {
    quality_points(quality_permille) + availability_points(hours)
}

/// Rate points: the project's hourly rate (minor units, currency) against the worker's lowest rate.
pub fn rate_points(project_rate: Option<(i64, &str)>, worker_min: Option<(i64, &str)>) -> i64 {
    match (project_rate, worker_min) {
        (Some((rate, pc)), Some((min, wc))) if pc == wc => {
            if rate >= min {
                RATE_POINTS
            } else {
                0
            }
        }
        _ => UNKNOWN_RATE_POINTS,
    }
}

/// The best years of expertise in a domain that fits one of `domains` (`None` when `domains` is empty; `Some(0)`
/// when nothing fits).
pub fn best_years(domains: &[String], expertise: &[(String, i64)]) -> Option<i64> {
    if domains.is_empty() {
        return None;
    }
    Some(
        expertise
            .iter()
            .filter(|(have, _)| domains.iter().any(|want| domain_fits(have, want)))
            .map(|(_, y)| *y)
            .max()
            .unwrap_or(0),
    )
}

/// The whole score (0 to 100) of a worker for a project, and the reasons in words.
pub fn score(
    req: &Requirements,
    project_rate: Option<(i64, &str)>,
    w: &WorkerFacts,
) -> (i64, Vec<String>) {
    let years = best_years(&req.domains, &w.expertise);
    let min = w.min_rate.as_ref().map(|(m, c)| (*m, c.as_str()));
    let total = domain_points(years)
        + base_points(w.quality_permille, w.hours_per_week)
        + rate_points(project_rate, min);
    (total, reasons(req, years, project_rate, w))
}

/// The reasons behind a score, one short sentence per part.
pub fn reasons(
    req: &Requirements,
    years: Option<i64>,
    project_rate: Option<(i64, &str)>,
    w: &WorkerFacts,
) -> Vec<String> {
    let mut out = Vec::new();
    match years {
        None => out.push("the project names no domain".to_string()),
        Some(y) => {
            let fit: Vec<&str> = w
                .expertise
                .iter()
                .filter(|(have, _)| req.domains.iter().any(|want| domain_fits(have, want)))
                .map(|(d, _)| domain_label(d))
                .collect();
            out.push(format!(
                "{}: {y} year{} of experience",
                if fit.is_empty() {
                    "no fitting domain".to_string()
                } else {
                    fit.join(", ")
                },
                if y == 1 { "" } else { "s" }
            ));
        }
    }
    out.push(match w.quality_permille {
        Some(q) => format!("quality {}.{}% on past work", q / 10, q % 10),
        None => "no quality history yet".to_string(),
    });
    out.push(match w.hours_per_week {
        Some(h) => format!("available {h} h a week"),
        None => "availability not stated".to_string(),
    });
    let min = w.min_rate.as_ref().map(|(m, c)| (*m, c.as_str()));
    out.push(match (project_rate, min) {
        (Some((rate, pc)), Some((m, wc))) if pc == wc => {
            let lowest = format!("{}.{:02} {wc} an hour", m / 100, m % 100);
            if rate >= m {
                format!("the project's rate meets their lowest rate ({lowest})")
            } else {
                format!("the project's rate is below their lowest rate ({lowest})")
            }
        }
        (None, _) => "the project has no hourly rate to compare".to_string(),
        (_, None) => "no lowest rate stated".to_string(),
        _ => "their lowest rate is in another currency".to_string(),
    });
    // Only a project with a window of offsets says where the worker is: a fifth sentence, after the four parts
    // of the score (it filters and adds no points).
    if let Some(range) = &req.utc_offset {
        let (min, max) = range.minutes();
        out.push(match w.utc_offset {
            Some(o) if (min..=max).contains(&o) => format!(
                "{}, within the project's hours ({})",
                utc_offset_label(o),
                range.label()
            ),
            Some(o) => format!(
                "{}, outside the project's hours ({})",
                utc_offset_label(o),
                range.label()
            ),
            None => "time zone not stated".to_string(),
        });
    }
    out
}

#[cfg(test)]
mod tests;
