//! Row identifiers.
//!
//! Ids are plain 64-bit integers assigned by the database. They are named per entity so that a signature says
//! which id it wants; every lookup by id is still scoped by the organization in the store, so a guessed id of
//! another tenant's row finds nothing.

/// An organization (a tenant): every row that belongs to one carries its id.
pub type OrgId = i64;
/// A user of any role.
pub type UserId = i64;
/// A project of a requester organization.
pub type ProjectId = i64;
/// One item (a unit of work) of a project.
pub type ItemId = i64;
/// One lease of one item to one worker.
pub type AssignmentId = i64;
/// One submitted set of answers.
pub type AnnotationId = i64;
