//! Pure types and rules of Fairloop, with no I/O.
//!
//! Everything here is shared by the store, the use cases and the web layer, so it must stay free of database,
//! HTTP and CLI types: it is where a rule is written once and tested without a server.

pub mod template;
