//! The avatar service: an upload's way from checked bytes to a stored, referenced file, and
//! thumbnails, made in the background or on demand, once per avatar however many ask.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix::Addr;
use bytes::Bytes;
use futures::future::{BoxFuture, FutureExt, Shared};
use image::DynamicImage;
use sea_orm::DatabaseConnection;

use crate::actors::{
    ImageSupervisor, JobError, MakeThumbnails, Normalise, Submit, ThumbnailSource,
};
use crate::api::error::ApiError;
use crate::config::ImagesSettings;
use crate::domain::employee::EmployeeId;
use crate::images::{self, AvatarName, ImageError, Normalised, PipelineSettings};
use crate::repo::avatars as repo;
use crate::store::{AvatarStore, StoredFile};

/// Why thumbnails could not be made; cloned to every request waiting for the same avatar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThumbnailFailure {
    QueueFull,
    SourceMissing,
    Failed(String),
}

type ThumbnailJob = Shared<BoxFuture<'static, Result<(), ThumbnailFailure>>>;

#[derive(Clone)]
pub struct Avatars {
    pool: Addr<ImageSupervisor>,
    store: Arc<dyn AvatarStore>,
    pipeline: Arc<PipelineSettings>,
    retry_after_seconds: u32,
    thumbnails_in_flight: Arc<Mutex<HashMap<AvatarName, ThumbnailJob>>>,
}

impl Avatars {
    pub fn new(
        pool: Addr<ImageSupervisor>,
        store: Arc<dyn AvatarStore>,
        settings: &ImagesSettings,
    ) -> Self {
        Self {
            pool,
            store,
            pipeline: Arc::new(settings.pipeline()),
            retry_after_seconds: settings.retry_after_seconds,
            thumbnails_in_flight: Arc::default(),
        }
    }

    pub fn thumbnail_sizes(&self) -> &[u32] {
        &self.pipeline.thumbnail_sizes
    }

    fn job_error(&self, error: JobError) -> ApiError {
        match error {
            JobError::QueueFull => ApiError::QueueFull {
                retry_after_seconds: self.retry_after_seconds,
            },
            JobError::WorkerLost => ApiError::Internal(anyhow::anyhow!("an image worker stopped")),
            JobError::Image(ImageError::Encode(reason)) => {
                ApiError::Internal(anyhow::anyhow!("encoding failed: {reason}"))
            }
            JobError::Image(refused) => ApiError::InvalidDataFormat(refused.to_string()),
        }
    }

    /// Sniffs and header-checks the bytes here, then normalises them on a worker.
    pub async fn normalise(&self, bytes: Bytes) -> Result<Normalised, ApiError> {
        let info = images::inspect(&bytes, &self.pipeline)
            .map_err(|refused| ApiError::InvalidDataFormat(refused.to_string()))?;
        self.pool
            .send(Submit(Normalise { bytes, info }))
            .await
            .map_err(|_| self.job_error(JobError::WorkerLost))?
            .map_err(|e| self.job_error(e))
    }

    /// Stores a normalised upload and makes the employee show it: the file is recorded, then
    /// written durably, and only then referenced. Thumbnails follow in the background.
    pub async fn attach(
        &self,
        db: &DatabaseConnection,
        account_id: i64,
        employee: EmployeeId,
        normalised: Normalised,
    ) -> Result<AvatarName, ApiError> {
        repo::record_file(db, &normalised.name).await?;
        let (name, pixels) = self.put_avatar(normalised).await?;
        repo::show_uploaded(db, account_id, employee, &name).await?;
        let background = self.thumbnails(&name, Some(ThumbnailSource::Pixels(pixels)));
        actix_web::rt::spawn(async move {
            if let Err(failure) = background.await {
                tracing::debug!(?failure, "thumbnails left to be made on demand");
            }
        });
        Ok(name)
    }

    /// Stores a normalised image and all its thumbnails, returning when every file is durable:
    /// the `normalize` command's way, with no employee involved.
    pub async fn store_with_thumbnails(
        &self,
        normalised: Normalised,
    ) -> Result<AvatarName, ApiError> {
        let (name, pixels) = self.put_avatar(normalised).await?;
        self.thumbnails(&name, Some(ThumbnailSource::Pixels(pixels)))
            .await
            .map_err(|failure| self.thumbnail_error(&name, failure))?;
        Ok(name)
    }

    /// Writes the normalised file; its name and pixels remain for the thumbnails.
    async fn put_avatar(
        &self,
        normalised: Normalised,
    ) -> Result<(AvatarName, Arc<DynamicImage>), ApiError> {
        let Normalised {
            name,
            bytes,
            pixels,
        } = normalised;
        self.store
            .put(&StoredFile::avatar(name.clone()), Bytes::from(bytes))
            .await
            .map_err(ApiError::CannotSaveFile)?;
        Ok((name, pixels))
    }

    fn thumbnail_error(&self, name: &AvatarName, failure: ThumbnailFailure) -> ApiError {
        match failure {
            ThumbnailFailure::QueueFull => self.job_error(JobError::QueueFull),
            ThumbnailFailure::SourceMissing => {
                ApiError::Internal(anyhow::anyhow!("the avatar {name} is not stored"))
            }
            ThumbnailFailure::Failed(reason) => {
                ApiError::Internal(anyhow::anyhow!("thumbnails of {name} failed: {reason}"))
            }
        }
    }

    /// The bytes of a stored file; a missing thumbnail of a stored avatar is made first.
    pub async fn file(&self, file: &StoredFile) -> Result<Option<Bytes>, ApiError> {
        let stored = |e: std::io::Error| ApiError::Internal(e.into());
        if let Some(bytes) = self.store.get(file).await.map_err(stored)? {
            return Ok(Some(bytes));
        }
        if file.size.is_none() {
            return Ok(None);
        }
        match self.thumbnails(&file.name, None).await {
            Ok(()) => self.store.get(file).await.map_err(stored),
            Err(ThumbnailFailure::SourceMissing) => Ok(None),
            Err(failure) => Err(self.thumbnail_error(&file.name, failure)),
        }
    }

    /// The one job making `name`'s thumbnails: joined if running, started otherwise. It runs to
    /// its end even when every waiter goes away.
    fn thumbnails(&self, name: &AvatarName, source: Option<ThumbnailSource>) -> ThumbnailJob {
        let mut in_flight = self
            .thumbnails_in_flight
            .lock()
            .expect("the thumbnail registry is never poisoned");
        if let Some(job) = in_flight.get(name) {
            return job.clone();
        }
        let this = self.clone();
        let key = name.clone();
        let job = async move {
            let outcome = this.make_thumbnails(&key, source).await;
            this.thumbnails_in_flight
                .lock()
                .expect("the thumbnail registry is never poisoned")
                .remove(&key);
            outcome
        }
        .boxed()
        .shared();
        in_flight.insert(name.clone(), job.clone());
        actix_web::rt::spawn(job.clone());
        job
    }

    async fn make_thumbnails(
        &self,
        name: &AvatarName,
        source: Option<ThumbnailSource>,
    ) -> Result<(), ThumbnailFailure> {
        let failed = |e: &dyn std::fmt::Display| ThumbnailFailure::Failed(e.to_string());
        let source = match source {
            Some(source) => source,
            None => {
                let stored = self
                    .store
                    .get(&StoredFile::avatar(name.clone()))
                    .await
                    .map_err(|e| failed(&e))?
                    .ok_or(ThumbnailFailure::SourceMissing)?;
                ThumbnailSource::Stored {
                    bytes: stored,
                    format: name.format(),
                }
            }
        };
        let thumbnails = self
            .pool
            .send(Submit(MakeThumbnails(source)))
            .await
            .map_err(|e| failed(&e))?
            .map_err(|e| match e {
                JobError::QueueFull => ThumbnailFailure::QueueFull,
                other => failed(&other),
            })?;
        for thumbnail in thumbnails {
            let file = StoredFile::thumbnail(name.clone(), thumbnail.size);
            self.store
                .put(&file, Bytes::from(thumbnail.bytes))
                .await
                .map_err(|e| failed(&e))?;
        }
        Ok(())
    }
}
