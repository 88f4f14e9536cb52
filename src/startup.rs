//! Builds the application from settings: database, migrations, demo data, HTTP server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{NormalizePath, TrailingSlash};
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use sea_orm::DatabaseConnection;

use actix::{Actor, Addr};

use crate::actors::{CacheActor, CacheStats, ImageSupervisor, Invalidate};
use crate::api::{self, params::BodyLimit, ApiPrefix};
use crate::avatars::Avatars;
use crate::config::Settings;
use crate::store::LocalStore;
use crate::{demo, repo};

/// What every handler may reach.
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub avatars: Avatars,
    pub cache: Addr<CacheActor>,
}

impl AppState {
    /// The employee-list cache hook: called after a write that changes what a list shows has
    /// been committed, and awaited before that write is answered.
    pub async fn lists_changed(&self, account_id: i64) {
        if self.cache.send(Invalidate { account_id }).await.is_err() {
            tracing::error!("the cache actor is gone; lists may be stale");
        }
    }
}

pub struct Application {
    port: u16,
    server: Server,
    cache_stats: Arc<CacheStats>,
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
        let cache = CacheActor::new(&settings.cache, &settings.redis).context("redis.url")?;
        let cache_stats = cache.stats();
        let server = run(listener, db, cache.start(), settings)?;
        Ok(Self {
            port,
            server,
            cache_stats,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn cache_stats(&self) -> Arc<CacheStats> {
        self.cache_stats.clone()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

fn run(
    listener: TcpListener,
    db: DatabaseConnection,
    cache: Addr<CacheActor>,
    settings: Settings,
) -> std::io::Result<Server> {
    let (image_pool, _) = ImageSupervisor::start(&settings.images);
    let store = Arc::new(LocalStore::new(settings.storage.dir.clone()));
    let avatars = Avatars::new(image_pool, store, &settings.images);
    let settings = Arc::new(settings);
    let state = web::Data::new(AppState {
        db,
        settings: settings.clone(),
        avatars,
        cache,
    });
    let prefix = web::Data::new(ApiPrefix(settings.server.api_prefix.clone()));
    let body_limit = BodyLimit(settings.server.max_body_bytes);
    let server = HttpServer::new(move || {
        App::new()
            .wrap(NormalizePath::new(TrailingSlash::Trim))
            .app_data(state.clone())
            .app_data(prefix.clone())
            .app_data(body_limit)
            .route("/health", web::get().to(api::health))
            .configure(api::configure(&settings.server.api_prefix))
            .default_service(web::route().to(api::unknown_call))
    })
    .listen(listener)?
    .run();
    Ok(server)
}
