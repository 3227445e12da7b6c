//! Pure types and rules of Fairloop, with no I/O.
//!
//! Everything here is shared by the store, the use cases and the web layer, so it must stay free of database,
//! HTTP and CLI types: it is where a rule is written once and tested without a server.

pub mod ids;
pub mod lifecycle;
pub mod media;
pub mod pseudonym;
pub mod queue;
pub mod role;
pub mod sensitivity;
pub mod template;
pub mod time;
pub mod workforce;

pub use ids::{AnnotationId, AssignmentId, ItemId, OrgId, ProjectId, UserId};
pub use role::Role;
