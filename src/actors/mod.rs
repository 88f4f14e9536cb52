//! Actors: the image worker pool behind its supervisor.

pub mod image_supervisor;
pub mod image_worker;

pub use image_supervisor::{ImageSupervisor, JobError, PoolStats, Submit};
pub use image_worker::{ImageWorker, MakeThumbnails, Normalise, ThumbnailSource};
