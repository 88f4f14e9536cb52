//! employee-avatars: a Navixy-compatible employee service with avatars. See ARCHITECTURE.md.

pub mod api;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod repo;
pub mod startup;
pub mod telemetry;
