//! The database: connection, migrations and the queries of each table. SQLite and PostgreSQL
//! run the same code.

pub mod avatars;
pub mod employees;
pub mod entities;
pub mod sessions;
pub mod users;

use std::path::Path;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

use crate::config::DatabaseSettings;

/// Opens the pool; for a SQLite file, its folder is made first.
pub async fn connect(settings: &DatabaseSettings) -> Result<DatabaseConnection, DbErr> {
    if let Some(folder) = sqlite_folder(&settings.url) {
        std::fs::create_dir_all(folder)
            .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", folder.display())))?;
    }
    let timeout = Duration::from_secs(settings.connect_timeout_seconds);
    let mut options = ConnectOptions::new(settings.url.clone());
    options
        .max_connections(settings.max_connections)
        .connect_timeout(timeout)
        .acquire_timeout(timeout)
        .sqlx_logging(false);
    Database::connect(options).await
}

fn sqlite_folder(url: &str) -> Option<&Path> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next()?;
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Seconds since the Unix epoch: the one clock of stored timestamps.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_folders() {
        assert_eq!(
            sqlite_folder("sqlite://data/app.db?mode=rwc"),
            Some(Path::new("data"))
        );
        assert_eq!(sqlite_folder("sqlite://app.db"), None);
        assert_eq!(sqlite_folder("sqlite::memory:"), None);
        assert_eq!(sqlite_folder("postgres://localhost/x"), None);
    }
}
