//! Sensitivity categories: the fixed list of kinds of content that can harm the people who look at it.
//!
//! Why a fixed list rather than free text: the queue must filter on it (a worker is never handed an item of a
//! category they did not opt into) and count it (the daily exposure limit), and a worker's opt-ins must mean the
//! same thing on every project. So each category has a stable key, a plain description, and a bit: a set of
//! categories is stored as a bit mask (an `INTEGER` on both backends), which the queue tests with one `&`.
//!
//! Bits are never reused or reordered: a new category is appended with the next bit.

use serde::Serialize;

/// One sensitivity category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Category {
    /// The stable key used in the API, in import files and in exports.
    pub key: &'static str,
    /// A short name for pages.
    pub name: &'static str,
    /// What the category covers, in plain words, so a worker can decide whether to opt in.
    pub description: &'static str,
    /// Its bit in a [`Mask`].
    pub bit: u32,
}

/// A set of categories as a bit mask (bit `n` = the category whose `bit` is `n`).
pub type Mask = i64;

/// Every category, in bit order.
pub const CATEGORIES: &[Category] = &[
    Category {
        key: "violence",
        name: "Violence",
        description: "Physical violence against people or animals: fights, attacks, weapons in use, threats of harm.",
        bit: 0,
    },
    Category {
        key: "graphic_injury",
        name: "Graphic injury and gore",
        description: "Wounds, blood, mutilation, dead bodies, the aftermath of accidents or attacks.",
        bit: 1,
    },
    Category {
        key: "sexual_content",
        name: "Sexual content",
        description: "Nudity, sexual acts and sexually explicit text between adults.",
        bit: 2,
    },
    Category {
        key: "self_harm",
        name: "Self-harm and suicide",
        description: "Self-injury, suicide, suicidal thoughts, eating disorders.",
        bit: 3,
    },
    Category {
        key: "hate",
        name: "Hate and harassment",
        description: "Slurs, dehumanising speech about groups of people, targeted harassment and bullying.",
        bit: 4,
    },
    Category {
        key: "medical_imagery",
        name: "Medical imagery",
        description: "Surgery, disease, injuries in a clinical setting, medical procedures and anatomy.",
        bit: 5,
    },
    Category {
        key: "child_safety",
        name: "Child safety reports",
        description: "Reports and descriptions of possible harm to children (never the abusive material itself, \
                      which must not be uploaded to Fairloop).",
        bit: 6,
    },
    Category {
        key: "abuse",
        name: "Abuse and cruelty",
        description: "Domestic abuse, coercion, cruelty to people or animals, descriptions of torture.",
        bit: 7,
    },
    Category {
        key: "extremism",
        name: "Terrorism and violent extremism",
        description: "Propaganda, recruitment and glorification of terrorist or violent extremist groups.",
        bit: 8,
    },
    Category {
        key: "drugs",
        name: "Drug use",
        description: "Use, preparation and sale of illegal drugs, overdoses.",
        bit: 9,
    },
];

/// Every category's bit set.
pub const ALL: Mask = (1 << CATEGORIES.len()) - 1;

/// The category with this key.
pub fn by_key(key: &str) -> Option<&'static Category> {
    CATEGORIES.iter().find(|c| c.key == key)
}

/// The categories whose bits are set in `mask`, in bit order (bits of no category are ignored).
pub fn categories(mask: Mask) -> Vec<&'static Category> {
    CATEGORIES
        .iter()
        .filter(|c| mask & (1 << c.bit) != 0)
        .collect()
}

/// The keys of the categories in `mask`, in bit order.
pub fn keys(mask: Mask) -> Vec<String> {
    categories(mask).iter().map(|c| c.key.to_string()).collect()
}

/// The names of the categories in `mask`, joined for a sentence ("Violence, Hate and harassment").
pub fn names(mask: Mask) -> String {
    categories(mask)
        .iter()
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses keys into a mask; the error names the first unknown key and lists the known ones.
pub fn parse<S: AsRef<str>>(keys: &[S]) -> Result<Mask, String> {
    let mut mask = 0;
    for k in keys {
        let k = k.as_ref().trim();
        match by_key(k) {
            Some(c) => mask |= 1 << c.bit,
            None => {
                return Err(format!(
                    "unknown sensitivity category {k:?}; the categories are {}",
                    CATEGORIES
                        .iter()
                        .map(|c| c.key)
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
    }
    Ok(mask)
}

/// The UTC day (days since 1970-01-01) of a time in milliseconds: the unit of the daily exposure limit.
pub fn utc_day(ms: crate::time::Millis) -> i64 {
    ms.div_euclid(86_400_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_distinct_and_in_order() {
        for (i, c) in CATEGORIES.iter().enumerate() {
            assert_eq!(c.bit as usize, i, "{} is out of order", c.key);
        }
        assert_eq!(ALL.count_ones() as usize, CATEGORIES.len());
        assert!(
            CATEGORIES.len() < 63,
            "a mask must fit a signed 64-bit integer"
        );
    }

    #[test]
    fn keys_round_trip_through_a_mask() {
        let mask = parse(&["hate", "violence"]).unwrap();
        assert_eq!(mask, 0b1_0001);
        assert_eq!(keys(mask), vec!["violence", "hate"]);
        assert_eq!(names(mask), "Violence, Hate and harassment");
        assert_eq!(parse::<&str>(&[]).unwrap(), 0);
    }

    #[test]
    fn an_unknown_key_is_named_in_the_error() {
        let e = parse(&["violence", "gore"]).unwrap_err();
        assert!(e.contains("\"gore\""), "{e}");
        assert!(e.contains("graphic_injury"), "{e}");
    }

    #[test]
    fn days_are_utc() {
        assert_eq!(utc_day(0), 0);
        assert_eq!(utc_day(86_399_999), 0);
        assert_eq!(utc_day(86_400_000), 1);
        assert_eq!(utc_day(-1), -1);
    }
}
