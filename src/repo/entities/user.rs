use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub login: String,
    pub password_hash: String,
    /// Null for a master account; the owning master for a sub-user.
    pub master_id: Option<i64>,
    /// Comma-separated right names; a master's are implied.
    pub rights: String,
    pub created_at: i64,
}

impl ActiveModelBehavior for ActiveModel {}
