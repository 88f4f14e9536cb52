//! Settings: the embedded `config/default.toml`, then the file named by `APP_CONFIG`, then
//! environment variables `APP__SECTION__KEY`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use config::{Config, Environment, File, FileFormat};
use serde::Deserialize;

use crate::images::PipelineSettings;

const DEFAULTS: &str = include_str!("../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub redis: RedisSettings,
    pub cache: CacheSettings,
    pub storage: StorageSettings,
    pub images: ImagesSettings,
    pub session: SessionSettings,
    pub demo: DemoSettings,
    pub log: LogSettings,
    pub limits: LimitSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LimitSettings {
    pub requests_per_second: u32,
    pub burst: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub bind: String,
    pub api_prefix: String,
    pub max_body_bytes: usize,
    pub shutdown_timeout_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
    pub connect_timeout_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RedisSettings {
    pub url: String,
    pub connect_timeout_ms: u64,
    pub command_timeout_ms: u64,
    pub retry_interval_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CacheSettings {
    pub enabled: bool,
    pub ttl_seconds: u64,
    pub key_prefix: String,
    pub memory_max_entries: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StorageSettings {
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ImagesSettings {
    pub max_upload_bytes: usize,
    pub max_source_pixels: u64,
    pub max_source_side: u32,
    pub max_side: u32,
    pub jpeg_quality: u8,
    pub thumbnail_sizes: Vec<u32>,
    pub workers: usize,
    pub queue_capacity: usize,
    pub retry_after_seconds: u32,
}

impl ImagesSettings {
    pub fn pipeline(&self) -> PipelineSettings {
        PipelineSettings {
            max_source_pixels: self.max_source_pixels,
            max_source_side: self.max_source_side,
            max_side: self.max_side,
            jpeg_quality: self.jpeg_quality,
            thumbnail_sizes: self.thumbnail_sizes.clone(),
        }
    }

    /// The number of image workers: as configured, or one per CPU core.
    pub fn worker_count(&self) -> usize {
        match self.workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct SessionSettings {
    pub idle_timeout_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DemoSettings {
    pub seed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    pub format: LogFormat,
}

/// A setting that cannot be used, described in one line that names its key.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct SettingsError(String);

impl Settings {
    /// Reads the layered configuration of this process.
    pub fn load() -> Result<Self, SettingsError> {
        let mut builder = Config::builder().add_source(File::from_str(DEFAULTS, FileFormat::Toml));
        if let Some(path) = std::env::var_os("APP_CONFIG") {
            let path = PathBuf::from(path);
            builder = builder.add_source(File::from(path.clone()).required(true));
        }
        let config = builder
            .add_source(
                Environment::with_prefix("APP")
                    .prefix_separator("__")
                    .separator("__")
                    .list_separator(",")
                    .with_list_parse_key("images.thumbnail_sizes")
                    .try_parsing(true),
            )
            .build()
            .map_err(|e| SettingsError(e.to_string()))?;
        let settings: Settings = config
            .try_deserialize()
            .map_err(|e| SettingsError(e.to_string()))?;
        settings.validate()?;
        Ok(settings)
    }

    /// The embedded defaults alone, as a base that tests and tools adjust in code.
    pub fn defaults() -> Self {
        Config::builder()
            .add_source(File::from_str(DEFAULTS, FileFormat::Toml))
            .build()
            .and_then(Config::try_deserialize)
            .expect("the embedded config/default.toml is valid")
    }

    fn validate(&self) -> Result<(), SettingsError> {
        let invalid = |key: &str, why: &str| Err(SettingsError(format!("{key}: {why}")));
        if self.server.bind.parse::<SocketAddr>().is_err() {
            return invalid("server.bind", "expected an address such as 127.0.0.1:8080");
        }
        let prefix = &self.server.api_prefix;
        if !prefix.is_empty() && (!prefix.starts_with('/') || prefix.ends_with('/')) {
            return invalid("server.api_prefix", "expected empty or a path such as /v2");
        }
        if self.server.max_body_bytes == 0 {
            return invalid("server.max_body_bytes", "must be positive");
        }
        if !(self.database.url.starts_with("sqlite:") || self.database.url.starts_with("postgres"))
        {
            return invalid("database.url", "expected a sqlite:// or postgres:// URL");
        }
        if self.database.max_connections == 0 {
            return invalid("database.max_connections", "must be positive");
        }
        if !self.redis.url.is_empty() && redis::Client::open(self.redis.url.as_str()).is_err() {
            return invalid("redis.url", "expected empty or a redis:// URL");
        }
        if self.cache.ttl_seconds == 0 {
            return invalid("cache.ttl_seconds", "must be positive");
        }
        if self.cache.key_prefix.is_empty() {
            return invalid("cache.key_prefix", "must not be empty");
        }
        let images = &self.images;
        if images.max_upload_bytes == 0 {
            return invalid("images.max_upload_bytes", "must be positive");
        }
        if images.max_source_pixels == 0 {
            return invalid("images.max_source_pixels", "must be positive");
        }
        if images.max_source_side == 0 {
            return invalid("images.max_source_side", "must be positive");
        }
        if !(1..=8192).contains(&images.max_side) {
            return invalid("images.max_side", "must be from 1 to 8192");
        }
        if !(1..=100).contains(&images.jpeg_quality) {
            return invalid("images.jpeg_quality", "must be from 1 to 100");
        }
        let mut sizes = images.thumbnail_sizes.clone();
        sizes.sort_unstable();
        sizes.dedup();
        if sizes.len() != images.thumbnail_sizes.len()
            || sizes
                .iter()
                .any(|&size| !(1..=images.max_side).contains(&size))
        {
            return invalid(
                "images.thumbnail_sizes",
                "distinct sizes from 1 to images.max_side",
            );
        }
        if self.limits.requests_per_second == 0 {
            return invalid("limits.requests_per_second", "must be positive");
        }
        if self.limits.burst == 0 {
            return invalid("limits.burst", "must be positive");
        }
        if self.session.idle_timeout_seconds == 0 {
            return invalid("session.idle_timeout_seconds", "must be positive");
        }
        Ok(())
    }

    pub fn bind_address(&self) -> SocketAddr {
        self.server
            .bind
            .parse()
            .expect("server.bind was validated when the settings were loaded")
    }

    pub fn session_idle_timeout(&self) -> Duration {
        Duration::from_secs(self.session.idle_timeout_seconds)
    }
}
