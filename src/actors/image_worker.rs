//! `ImageWorker`: one per worker thread (a `SyncArbiter`), running the pure pipeline off the
//! async runtime. A panic inside a decoder is contained: the job fails with 234 and the worker
//! is replaced by a fresh one.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use actix::{Actor, ActorContext, Handler, Message, SyncContext};
use bytes::Bytes;
use image::DynamicImage;

use super::image_supervisor::{PoolStats, Queued};
use crate::images::{
    self, ImageError, Normalised, OutputFormat, PipelineSettings, SourceInfo, Thumbnail,
};

pub struct ImageWorker {
    pub(super) settings: Arc<PipelineSettings>,
    pub(super) stats: Arc<PoolStats>,
}

impl Actor for ImageWorker {
    type Context = SyncContext<Self>;
}

/// Normalise an upload whose header passed `images::inspect`.
pub struct Normalise {
    pub bytes: Bytes,
    pub info: SourceInfo,
}

impl Message for Normalise {
    type Result = Result<Normalised, ImageError>;
}

/// Where the thumbnails of an avatar are made from.
pub enum ThumbnailSource {
    /// The pixels a `Normalise` job just produced.
    Pixels(Arc<DynamicImage>),
    /// The stored, normalised file.
    Stored { bytes: Bytes, format: OutputFormat },
}

/// Make every configured thumbnail of one avatar.
pub struct MakeThumbnails(pub ThumbnailSource);

impl Message for MakeThumbnails {
    type Result = Result<Vec<Thumbnail>, ImageError>;
}

/// A job the worker runs, with the name its processing time is recorded under.
pub trait ImageJob: Message {
    const NAME: &'static str;

    fn run(self, settings: &PipelineSettings) -> Self::Result;
}

impl ImageJob for Normalise {
    const NAME: &'static str = "normalise";

    fn run(self, settings: &PipelineSettings) -> Self::Result {
        images::normalise(&self.bytes, &self.info, settings)
    }
}

impl ImageJob for MakeThumbnails {
    const NAME: &'static str = "thumbnails";

    fn run(self, settings: &PipelineSettings) -> Self::Result {
        match &self.0 {
            ThumbnailSource::Pixels(pixels) => images::thumbnails(pixels, settings),
            ThumbnailSource::Stored { bytes, format } => {
                let pixels = images::decode_stored(bytes, *format, settings)?;
                images::thumbnails(&pixels, settings)
            }
        }
    }
}

impl<M, T> Handler<Queued<M>> for ImageWorker
where
    M: ImageJob<Result = Result<T, ImageError>>,
    T: 'static,
{
    type Result = Result<T, ImageError>;

    /// Runs the job with panics contained: a panic fails this job alone, and the worker is
    /// replaced by a fresh one from the arbiter's factory.
    fn handle(&mut self, queued: Queued<M>, ctx: &mut SyncContext<Self>) -> Self::Result {
        let stats = &self.stats;
        stats
            .queue_wait
            .observe(queued.since.elapsed().as_secs_f64());
        stats.supervisor.depth.dec();
        stats.workers.depth.inc();
        let timer = stats.processing.with_label_values(&[M::NAME]).start_timer();
        let outcome = catch_unwind(AssertUnwindSafe(|| queued.job.run(&self.settings)));
        timer.observe_duration();
        stats.workers.depth.dec();
        stats.workers.handled.inc();
        match outcome {
            Ok(result) => {
                if result.is_err() {
                    stats.workers.failures.inc();
                }
                result
            }
            Err(_) => {
                tracing::error!(job = M::NAME, "an image job panicked; replacing the worker");
                stats.workers.failures.inc();
                stats.workers.restarts.inc();
                ctx.stop();
                Err(ImageError::DecoderPanicked)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::actors::{ImageSupervisor, JobError, Submit};
    use crate::config::Settings;
    use crate::metrics::Metrics;

    /// A job whose decoder blows up, standing in for a decoder bug.
    struct Explode;

    impl Message for Explode {
        type Result = Result<(), ImageError>;
    }

    impl ImageJob for Explode {
        const NAME: &'static str = "explode";

        fn run(self, _: &PipelineSettings) -> Self::Result {
            panic!("decoder bug")
        }
    }

    #[actix_web::test]
    async fn a_panicking_job_fails_alone_and_its_worker_is_replaced() {
        let mut settings = Settings::defaults().images;
        settings.workers = 1;
        let (pool, stats) = ImageSupervisor::start(&settings, &Metrics::new());
        let outcome = pool.send(Submit(Explode)).await.unwrap();
        assert_eq!(outcome, Err(JobError::Image(ImageError::DecoderPanicked)));
        assert_eq!(stats.workers.restarts.get(), 1);

        let mut png = Cursor::new(Vec::new());
        image::DynamicImage::new_rgb8(8, 8)
            .write_to(&mut png, image::ImageFormat::Png)
            .unwrap();
        let bytes = Bytes::from(png.into_inner());
        let info = images::inspect(&bytes, &settings.pipeline()).unwrap();
        let normalised = pool
            .send(Submit(Normalise { bytes, info }))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(normalised.name.format(), OutputFormat::Jpeg);
        assert_eq!(stats.pending.load(std::sync::atomic::Ordering::SeqCst), 0);
        assert_eq!(stats.workers.handled.get(), 2);
        assert_eq!(
            (stats.supervisor.depth.get(), stats.workers.depth.get()),
            (0, 0)
        );
    }
}
