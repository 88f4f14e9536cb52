//! Actors: the image worker pool behind its supervisor, and the employee-list cache.

pub mod cache;
pub mod image_supervisor;
pub mod image_worker;

pub use cache::{CacheActor, CacheStats, Find, Invalidate, Keep, Lookup, PageKey};
pub use image_supervisor::{ImageSupervisor, JobError, PoolStats, Submit};
pub use image_worker::{ImageWorker, MakeThumbnails, Normalise, ThumbnailSource};
