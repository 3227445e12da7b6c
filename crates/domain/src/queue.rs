//! The assignment queue's policy: how many workers answer each item, how long a lease lasts, how much one
//! worker may hold at once.
//!
//! The mechanics (who gets which item) live in the store, where they can be made atomic; the numbers and
//! their limits live here so that the API, the CLI and the demo agree on them.

use serde::{Deserialize, Serialize};

/// Per-project queue settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueuePolicy {
    /// How many different workers answer each item.
    pub overlap: u32,
    /// How long a claimed item stays reserved for its worker before it returns to the pool.
    pub lease_seconds: u32,
    /// How many open assignments one worker may hold in the project at once.
    pub max_open_per_worker: u32,
}

impl Default for QueuePolicy {
    fn default() -> Self {
        QueuePolicy {
            overlap: 1,
            lease_seconds: 30 * 60,
            max_open_per_worker: 2,
        }
    }
}

/// A queue setting out of its allowed range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} must be between {min} and {max}, got {got}")]
pub struct PolicyError {
    /// The offending setting's name, as in the API.
    pub field: &'static str,
    /// Smallest allowed value.
    pub min: u64,
    /// Largest allowed value.
    pub max: u64,
    /// What was given.
    pub got: u64,
}

impl QueuePolicy {
    /// Largest overlap a project may ask for.
    pub const MAX_OVERLAP: u32 = 100;

    /// Checks every setting against its range.
    pub fn validate(&self) -> Result<(), PolicyError> {
        check("overlap", self.overlap, 1, Self::MAX_OVERLAP)?;
        check("lease_seconds", self.lease_seconds, 10, 7 * 24 * 3600)?;
        check("max_open_per_worker", self.max_open_per_worker, 1, 100)?;
        Ok(())
    }
}

fn check(field: &'static str, got: u32, min: u32, max: u32) -> Result<(), PolicyError> {
    if (min..=max).contains(&got) {
        Ok(())
    } else {
        Err(PolicyError {
            field,
            min: min.into(),
            max: max.into(),
            got: got.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_out_of_range_names_the_field() {
        QueuePolicy::default().validate().unwrap();
        let bad = QueuePolicy {
            overlap: 0,
            ..QueuePolicy::default()
        };
        let err = bad.validate().unwrap_err();
        assert_eq!(err.field, "overlap");
        assert!(err.to_string().contains("between 1 and 100"));
    }
}
