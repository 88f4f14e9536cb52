//! `ImageSupervisor`: owns the worker pool and bounds its queue. A job that finds the queue
//! full is refused at once (error 8), never left to time out.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use actix::{Actor, Addr, Context, Handler, MailboxError, Message, ResponseFuture, SyncArbiter};
use prometheus::{Histogram, HistogramVec};

use super::image_worker::ImageWorker;
use crate::config::ImagesSettings;
use crate::images::ImageError;
use crate::metrics::{ActorStats, Metrics};

/// Live figures of the pool, shared by the supervisor, the workers and the metrics.
pub struct PoolStats {
    /// Jobs accepted and not finished: waiting plus running.
    pub pending: AtomicUsize,
    /// The most jobs accepted at once: workers plus queue capacity.
    pub capacity: usize,
    /// Depth: jobs waiting for a worker; failures: jobs refused because the queue was full.
    pub supervisor: ActorStats,
    /// Depth: jobs running; failures: jobs that failed; restarts: workers replaced.
    pub workers: ActorStats,
    pub queue_wait: Histogram,
    pub processing: HistogramVec,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    #[error("the image queue is full")]
    QueueFull,
    #[error("the image worker stopped")]
    WorkerLost,
    #[error(transparent)]
    Image(#[from] ImageError),
}

pub struct ImageSupervisor {
    workers: Addr<ImageWorker>,
    stats: Arc<PoolStats>,
}

impl Actor for ImageSupervisor {
    type Context = Context<Self>;
}

impl ImageSupervisor {
    /// Starts `images.workers` workers and their supervisor in the current actix system.
    pub fn start(settings: &ImagesSettings, metrics: &Metrics) -> (Addr<Self>, Arc<PoolStats>) {
        let workers = settings.worker_count();
        let capacity = workers + settings.queue_capacity;
        let stats = Arc::new(PoolStats {
            pending: AtomicUsize::new(0),
            capacity,
            supervisor: metrics.actor("image_supervisor", settings.queue_capacity),
            workers: metrics.actor("image_workers", workers),
            queue_wait: metrics.image_queue_wait.clone(),
            processing: metrics.image_processing.clone(),
        });
        let pipeline = Arc::new(settings.pipeline());
        let worker_stats = stats.clone();
        let workers = SyncArbiter::start(workers, move || ImageWorker {
            settings: pipeline.clone(),
            stats: worker_stats.clone(),
        });
        let supervisor = Self {
            workers,
            stats: stats.clone(),
        };
        (supervisor.start(), stats)
    }
}

/// A job for the pool, refused with `JobError::QueueFull` when the pool is at capacity.
pub struct Submit<M>(pub M);

impl<M, T> Message for Submit<M>
where
    M: Message<Result = Result<T, ImageError>>,
    T: 'static,
{
    type Result = Result<T, JobError>;
}

/// A job on its way to a worker, stamped when it was accepted.
pub struct Queued<M> {
    pub job: M,
    pub since: Instant,
}

impl<M, T> Message for Queued<M>
where
    M: Message<Result = Result<T, ImageError>>,
    T: 'static,
{
    type Result = Result<T, ImageError>;
}

impl<M, T> Handler<Submit<M>> for ImageSupervisor
where
    M: Message<Result = Result<T, ImageError>> + Send + 'static,
    T: Send + 'static,
    ImageWorker: Handler<Queued<M>>,
{
    type Result = ResponseFuture<Result<T, JobError>>;

    fn handle(&mut self, Submit(job): Submit<M>, _: &mut Context<Self>) -> Self::Result {
        let stats = self.stats.clone();
        stats.supervisor.handled.inc();
        let accepted = stats
            .pending
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |pending| {
                (pending < stats.capacity).then_some(pending + 1)
            })
            .is_ok();
        if !accepted {
            stats.supervisor.failures.inc();
            return Box::pin(async { Err(JobError::QueueFull) });
        }
        stats.supervisor.depth.inc();
        let done = self.workers.send(Queued {
            job,
            since: Instant::now(),
        });
        Box::pin(async move {
            let outcome = done.await;
            stats.pending.fetch_sub(1, Ordering::SeqCst);
            match outcome {
                Ok(result) => result.map_err(JobError::Image),
                Err(MailboxError::Closed | MailboxError::Timeout) => Err(JobError::WorkerLost),
            }
        })
    }
}
