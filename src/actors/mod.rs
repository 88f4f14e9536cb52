//! Actors: the image worker pool behind its supervisor, and the employee-list cache.

pub mod cache;
pub mod image_supervisor;
pub mod image_worker;

pub use cache::{CacheActor, ListCache, Lookup, PageKey, Ticket};
pub use image_supervisor::{ImageSupervisor, JobError, PoolStats, Queued, Submit};
pub use image_worker::{ImageJob, ImageWorker, MakeThumbnails, Normalise, ThumbnailSource};
