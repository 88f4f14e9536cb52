//! Builds the application from settings: database, migrations, demo data, HTTP server.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, NormalizePath, TrailingSlash};
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use sea_orm::DatabaseConnection;

use crate::actors::{ImageSupervisor, ListCache};
use crate::api::limits::RateLimits;
use crate::api::observe::observe;
use crate::api::{self, params::BodyLimit, ApiPrefix};
use crate::avatars::Avatars;
use crate::config::Settings;
use crate::metrics::Metrics;
use crate::store::LocalStore;
use crate::{demo, repo};

/// What every handler may reach.
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub avatars: Avatars,
    pub cache: ListCache,
    pub metrics: Arc<Metrics>,
    pub limits: Arc<RateLimits>,
}

impl AppState {
    /// The employee-list cache hook: called after a write that changes what a list shows has
    /// been committed, and awaited before that write is answered.
    pub async fn lists_changed(&self, account_id: i64) {
        self.cache.invalidate(account_id).await;
    }
}

pub struct Application {
    port: u16,
    server: Server,
    metrics: Arc<Metrics>,
}

impl Application {
    /// Connects, migrates, seeds the demo account if asked, and binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = repo::connect(&settings.database)
            .await
            .context("cannot connect to the database (database.url)")?;
        repo::migrate(&db).await.context("migrations failed")?;
        if settings.demo.seed {
            demo::seed_if_empty(&db).await.context("demo data")?;
        }
        let listener = TcpListener::bind(settings.bind_address())
            .with_context(|| format!("cannot listen on {} (server.bind)", settings.server.bind))?;
        let port = listener.local_addr()?.port();
        let metrics = Arc::new(Metrics::new());
        let cache =
            ListCache::start(&settings.cache, &settings.redis, &metrics).context("redis.url")?;
        let server = run(listener, db, cache, metrics.clone(), settings)?;
        Ok(Self {
            port,
            server,
            metrics,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    /// Serves until stopped: by the handle, or by SIGTERM or SIGINT when `on_signals`, which
    /// stop accepting, let in-flight requests finish within `server.shutdown_timeout_seconds`,
    /// and return.
    pub async fn run_until_stopped(self, on_signals: bool) -> std::io::Result<()> {
        if on_signals {
            let handle = self.server.handle();
            actix_web::rt::spawn(async move {
                let signal = stop_signal().await;
                tracing::info!(signal, "stopping: no new connections, finishing requests");
                handle.stop(true).await;
            });
        }
        self.server.await
    }
}

fn run(
    listener: TcpListener,
    db: DatabaseConnection,
    cache: ListCache,
    metrics: Arc<Metrics>,
    settings: Settings,
) -> std::io::Result<Server> {
    let (image_pool, _) = ImageSupervisor::start(&settings.images, &metrics);
    let limits = Arc::new(RateLimits::new(&settings.limits));
    let store = Arc::new(LocalStore::new(settings.storage.dir.clone()));
    let avatars = Avatars::new(image_pool, store, &settings.images);
    let settings = Arc::new(settings);
    let state = web::Data::new(AppState {
        db,
        settings: settings.clone(),
        avatars,
        cache,
        metrics,
        limits: limits.clone(),
    });
    actix_web::rt::spawn(async move {
        let mut every_minute = actix_web::rt::time::interval(Duration::from_secs(60));
        loop {
            every_minute.tick().await;
            limits.forget_quiet_clients();
        }
    });
    let prefix = web::Data::new(ApiPrefix(settings.server.api_prefix.clone()));
    let body_limit = BodyLimit(settings.server.max_body_bytes);
    let shutdown_timeout = settings.server.shutdown_timeout_seconds;
    let server = HttpServer::new(move || {
        App::new()
            .wrap(NormalizePath::new(TrailingSlash::Trim))
            .wrap(from_fn(observe))
            .app_data(state.clone())
            .app_data(prefix.clone())
            .app_data(body_limit)
            .route("/health", web::get().to(api::health))
            .route("/ready", web::get().to(api::ready))
            .route("/metrics", web::get().to(api::metrics))
            .configure(api::configure(&settings.server.api_prefix))
            .default_service(web::route().to(api::unknown_call))
    })
    .shutdown_timeout(shutdown_timeout)
    .disable_signals()
    .listen(listener)?
    .run();
    Ok(server)
}

/// Waits for SIGTERM or SIGINT and names it.
async fn stop_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut interrupt = signal(SignalKind::interrupt()).expect("SIGINT handler");
    tokio::select! {
        _ = terminate.recv() => "SIGTERM",
        _ = interrupt.recv() => "SIGINT",
    }
}
