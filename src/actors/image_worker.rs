//! `ImageWorker`: one per worker thread (a `SyncArbiter`), running the pure pipeline off the
//! async runtime. A panic inside a decoder is contained: the job fails with 234 and the worker
//! is replaced by a fresh one.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use actix::{Actor, ActorContext, Handler, Message, SyncContext};
use bytes::Bytes;
use image::DynamicImage;

use super::image_supervisor::PoolStats;
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

impl ImageWorker {
    fn contained<T>(
        &self,
        ctx: &mut SyncContext<Self>,
        work: impl FnOnce(&PipelineSettings) -> Result<T, ImageError>,
    ) -> Result<T, ImageError> {
        self.stats.running.fetch_add(1, Ordering::SeqCst);
        let outcome = catch_unwind(AssertUnwindSafe(|| work(&self.settings)));
        self.stats.running.fetch_sub(1, Ordering::SeqCst);
        self.stats.handled.fetch_add(1, Ordering::Relaxed);
        match outcome {
            Ok(result) => {
                if result.is_err() {
                    self.stats.failures.fetch_add(1, Ordering::Relaxed);
                }
                result
            }
            Err(_) => {
                tracing::error!("an image job panicked; replacing the worker");
                self.stats.failures.fetch_add(1, Ordering::Relaxed);
                self.stats.restarts.fetch_add(1, Ordering::Relaxed);
                // A stopped sync actor is replaced by the arbiter's factory.
                ctx.stop();
                Err(ImageError::DecoderPanicked)
            }
        }
    }
}

impl Handler<Normalise> for ImageWorker {
    type Result = Result<Normalised, ImageError>;

    fn handle(&mut self, job: Normalise, ctx: &mut SyncContext<Self>) -> Self::Result {
        self.contained(ctx, |settings| {
            images::normalise(&job.bytes, &job.info, settings)
        })
    }
}

impl Handler<MakeThumbnails> for ImageWorker {
    type Result = Result<Vec<Thumbnail>, ImageError>;

    fn handle(&mut self, job: MakeThumbnails, ctx: &mut SyncContext<Self>) -> Self::Result {
        self.contained(ctx, |settings| match &job.0 {
            ThumbnailSource::Pixels(pixels) => images::thumbnails(pixels, settings),
            ThumbnailSource::Stored { bytes, format } => {
                let pixels = images::decode_stored(bytes, *format, settings)?;
                images::thumbnails(&pixels, settings)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::actors::{ImageSupervisor, JobError, Submit};
    use crate::config::Settings;

    /// A job whose decoder blows up, standing in for a decoder bug.
    struct Explode;

    impl Message for Explode {
        type Result = Result<(), ImageError>;
    }

    impl Handler<Explode> for ImageWorker {
        type Result = Result<(), ImageError>;

        fn handle(&mut self, _: Explode, ctx: &mut SyncContext<Self>) -> Self::Result {
            self.contained(ctx, |_| panic!("decoder bug"))
        }
    }

    #[actix_web::test]
    async fn a_panicking_job_fails_alone_and_its_worker_is_replaced() {
        let mut settings = Settings::defaults().images;
        settings.workers = 1;
        let (pool, stats) = ImageSupervisor::start(&settings);
        let outcome = pool.send(Submit(Explode)).await.unwrap();
        assert_eq!(outcome, Err(JobError::Image(ImageError::DecoderPanicked)));
        assert_eq!(stats.restarts.load(Ordering::Relaxed), 1);

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
        assert_eq!(stats.pending.load(Ordering::SeqCst), 0);
        assert_eq!(stats.handled.load(Ordering::Relaxed), 2);
    }
}
