//! sea-orm entities, one per table of the `migration` crate.

pub mod avatar_file;
pub mod employee;
pub mod session;
pub mod user;
