//! Typed values made from requests at the edge; what lies behind never checks them again.

pub mod employee;
pub mod list;
pub mod user;
