//! Pseudonymous annotator ids for exports.
//!
//! Exports leave the platform, so they must not carry emails or user ids. Each annotator gets an id that is a
//! keyed hash of (project, user): stable within a project so that agreement can be computed per annotator,
//! different between projects so that two exports cannot be joined, and impossible to reverse without the
//! installation's secret key.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::ids::{ProjectId, UserId};

/// The annotator pseudonym of `user` in `project` under the installation secret `key`.
pub fn annotator_pseudonym(key: &[u8], project: ProjectId, user: UserId) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"fairloop-annotator-v1\0");
    mac.update(&project.to_be_bytes());
    mac.update(&user.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    format!("a_{}", hex::encode(&digest[..10]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_within_a_project_and_different_across_projects_and_keys() {
        let a = annotator_pseudonym(b"k1", 1, 42);
        assert_eq!(a, annotator_pseudonym(b"k1", 1, 42));
        assert_ne!(a, annotator_pseudonym(b"k1", 2, 42));
        assert_ne!(a, annotator_pseudonym(b"k1", 1, 43));
        assert_ne!(a, annotator_pseudonym(b"k2", 1, 42));
        assert!(!a.contains("42"));
        assert_eq!(a.len(), 22);
    }
}
