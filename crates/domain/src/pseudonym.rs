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

/// The name under which `user` asks questions on the guidelines board of `project`: like the annotator pseudonym
/// stable within a project and different between projects, but derived under its own label, so the name other
/// workers read on the board cannot be matched against the annotator ids of an export.
pub fn board_pseudonym(key: &[u8], project: ProjectId, user: UserId) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"fairloop-board-v1\0");
    mac.update(&project.to_be_bytes());
    mac.update(&user.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    format!("Worker {}", hex::encode(&digest[..4]))
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

    #[test]
    fn board_names_are_per_project_and_unlike_export_ids() {
        let b = board_pseudonym(b"k1", 1, 42);
        assert_eq!(b, board_pseudonym(b"k1", 1, 42));
        assert_ne!(b, board_pseudonym(b"k1", 2, 42));
        assert_ne!(b, board_pseudonym(b"k1", 1, 43));
        let export = annotator_pseudonym(b"k1", 1, 42);
        assert!(!export.contains(b.trim_start_matches("Worker ")));
        assert_eq!(b.len(), "Worker ".len() + 8);
    }
}
