//! `ImageSupervisor`: owns the worker pool and bounds its queue. A job that finds the queue
//! full is refused at once (error 8), never left to time out.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use actix::{Actor, Addr, Context, Handler, MailboxError, Message, ResponseFuture, SyncArbiter};

use super::image_worker::ImageWorker;
use crate::config::ImagesSettings;
use crate::images::ImageError;

/// Live figures of the pool, shared with whoever reports them.
#[derive(Debug, Default)]
pub struct PoolStats {
    /// Jobs accepted and not finished: waiting plus running.
    pub pending: AtomicUsize,
    /// Jobs a worker is running now.
    pub running: AtomicUsize,
    pub handled: AtomicU64,
    pub failures: AtomicU64,
    pub restarts: AtomicU64,
    pub rejected: AtomicU64,
    /// The most jobs accepted at once: workers plus queue capacity.
    pub capacity: usize,
}

impl PoolStats {
    /// Jobs waiting for a worker.
    pub fn queued(&self) -> usize {
        self.pending
            .load(Ordering::SeqCst)
            .saturating_sub(self.running.load(Ordering::SeqCst))
    }
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
    pub fn start(settings: &ImagesSettings) -> (Addr<Self>, Arc<PoolStats>) {
        let workers = settings.worker_count();
        let stats = Arc::new(PoolStats {
            capacity: workers + settings.queue_capacity,
            ..PoolStats::default()
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

impl<M, T> Handler<Submit<M>> for ImageSupervisor
where
    M: Message<Result = Result<T, ImageError>> + Send + 'static,
    T: Send + 'static,
    ImageWorker: Handler<M>,
{
    type Result = ResponseFuture<Result<T, JobError>>;

    fn handle(&mut self, Submit(job): Submit<M>, _: &mut Context<Self>) -> Self::Result {
        let stats = self.stats.clone();
        let accepted = stats
            .pending
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |pending| {
                (pending < stats.capacity).then_some(pending + 1)
            })
            .is_ok();
        if !accepted {
            stats.rejected.fetch_add(1, Ordering::Relaxed);
            return Box::pin(async { Err(JobError::QueueFull) });
        }
        let done = self.workers.send(job);
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
