//! employee-avatars: a Navixy-compatible employee service with avatars. See ARCHITECTURE.md.

pub mod actors;
pub mod api;
pub mod avatars;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod gc;
pub mod images;
pub mod metrics;
pub mod repo;
pub mod startup;
pub mod store;
pub mod telemetry;
