use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Login,
    PasswordHash,
    MasterId,
    Rights,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Hash,
    UserId,
    CreatedAt,
    LastUsedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Employees {
    Table,
    Id,
    AccountId,
    TrackerId,
    FirstName,
    MiddleName,
    LastName,
    Email,
    Phone,
    DriverLicenseNumber,
    DriverLicenseCats,
    DriverLicenseIssueDate,
    DriverLicenseValidTill,
    HardwareKey,
    IconId,
    AvatarFileName,
    DepartmentId,
    LocationLat,
    LocationLng,
    LocationAddress,
    LocationRadius,
    PersonnelNumber,
    Ssn,
    Tags,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(big_pk_auto(Users::Id))
                    .col(string_len_uniq(Users::Login, 64))
                    .col(string(Users::PasswordHash))
                    .col(big_integer_null(Users::MasterId))
                    .col(string(Users::Rights))
                    .col(big_integer(Users::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Users::Table, Users::MasterId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(char_len(Sessions::Hash, 32).primary_key())
                    .col(big_integer(Sessions::UserId))
                    .col(big_integer(Sessions::CreatedAt))
                    .col(big_integer(Sessions::LastUsedAt))
                    .col(big_integer(Sessions::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Employees::Table)
                    .col(big_pk_auto(Employees::Id))
                    .col(big_integer(Employees::AccountId))
                    .col(big_integer_null(Employees::TrackerId))
                    .col(string_len(Employees::FirstName, 100))
                    .col(string_len(Employees::MiddleName, 100))
                    .col(string_len(Employees::LastName, 100))
                    .col(string_len(Employees::Email, 100))
                    .col(string_len(Employees::Phone, 32))
                    .col(string_len(Employees::DriverLicenseNumber, 32))
                    .col(string_len(Employees::DriverLicenseCats, 32))
                    .col(date_null(Employees::DriverLicenseIssueDate))
                    .col(date_null(Employees::DriverLicenseValidTill))
                    .col(string_len_null(Employees::HardwareKey, 64))
                    .col(big_integer_null(Employees::IconId))
                    .col(string_len_null(Employees::AvatarFileName, 100))
                    .col(big_integer_null(Employees::DepartmentId))
                    .col(double_null(Employees::LocationLat))
                    .col(double_null(Employees::LocationLng))
                    .col(text_null(Employees::LocationAddress))
                    .col(big_integer_null(Employees::LocationRadius))
                    .col(string_len_null(Employees::PersonnelNumber, 15))
                    .col(string_len_null(Employees::Ssn, 32))
                    .col(text(Employees::Tags))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Employees::Table, Employees::AccountId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        // Unique per account only when not null: both SQLite and PostgreSQL let NULLs repeat.
        manager
            .create_index(
                Index::create()
                    .name("employees_account_tracker_unique")
                    .table(Employees::Table)
                    .col(Employees::AccountId)
                    .col(Employees::TrackerId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("sessions_user")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Employees::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Sessions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}
