use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Every stored avatar file, with the last time an upload produced it: `gc` removes a file
/// only when no employee references it and it was not stored within the grace period.
#[derive(DeriveIden)]
enum AvatarFiles {
    Table,
    Name,
    StoredAt,
}

#[derive(DeriveIden)]
enum Employees {
    Table,
    AvatarFileName,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AvatarFiles::Table)
                    .col(string_len(AvatarFiles::Name, 100).primary_key())
                    .col(big_integer(AvatarFiles::StoredAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("employees_avatar_file_name")
                    .table(Employees::Table)
                    .col(Employees::AvatarFileName)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("employees_avatar_file_name")
                    .table(Employees::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(AvatarFiles::Table).to_owned())
            .await
    }
}
