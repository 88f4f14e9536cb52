//! Every schema change of employee-avatars, in order. Run by `serve` at start-up and by `migrate`.

pub use sea_orm_migration::prelude::*;

mod m20261204_000001_accounts_and_employees;
mod m20261204_000002_avatar_files;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261204_000001_accounts_and_employees::Migration),
            Box::new(m20261204_000002_avatar_files::Migration),
        ]
    }
}
