//! Accounts: masters and their sub-users, with argon2 password hashes.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set, SqlErr,
};

use super::entities::user;
use crate::domain::user::{CurrentUser, Login, Password, Rights};

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("the login {0:?} is taken")]
    LoginTaken(String),
    #[error("no master account has the login {0:?}")]
    MasterNotFound(String),
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// A hash no password matches, verified for unknown logins so that they take as long as known.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$1jG8o8lqWbhwcWoBgaGy8tVPlR0ZLaBwMCf2VGzEfj4";

async fn hash_password(password: Password) -> Result<String, DbErr> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|hash| hash.to_string())
    })
    .await
    .map_err(|e| DbErr::Custom(format!("password hashing stopped: {e}")))?
    .map_err(|e| DbErr::Custom(format!("password hashing failed: {e}")))
}

async fn verify_password(password: Password, stored: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored).is_ok_and(|hash| {
            Argon2::default()
                .verify_password(password.expose().as_bytes(), &hash)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

async fn insert(
    db: &impl ConnectionTrait,
    login: &Login,
    password: Password,
    master_id: Option<i64>,
    rights: &Rights,
) -> Result<i64, CreateUserError> {
    let model = user::ActiveModel {
        login: Set(login.as_str().to_owned()),
        password_hash: Set(hash_password(password).await?),
        master_id: Set(master_id),
        rights: Set(rights.to_string()),
        created_at: Set(super::now()),
        ..Default::default()
    };
    match model.insert(db).await {
        Ok(model) => Ok(model.id),
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Err(CreateUserError::LoginTaken(login.as_str().to_owned()))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn create_master(
    db: &impl ConnectionTrait,
    login: &Login,
    password: Password,
) -> Result<i64, CreateUserError> {
    insert(db, login, password, None, &Rights::default()).await
}

pub async fn create_subuser(
    db: &impl ConnectionTrait,
    master: &Login,
    login: &Login,
    password: Password,
    rights: &Rights,
) -> Result<i64, CreateUserError> {
    let master = user::Entity::find()
        .filter(user::Column::Login.eq(master.as_str()))
        .filter(user::Column::MasterId.is_null())
        .one(db)
        .await?
        .ok_or_else(|| CreateUserError::MasterNotFound(master.as_str().to_owned()))?;
    insert(db, login, password, Some(master.id), rights).await
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<user::Model>, DbErr> {
    user::Entity::find()
        .order_by_asc(user::Column::Id)
        .all(db)
        .await
}

pub async fn count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    user::Entity::find().count(db).await
}

/// The account and rights a user acts with.
pub fn current_user(model: &user::Model) -> CurrentUser {
    match model.master_id {
        None => CurrentUser {
            user_id: model.id,
            account_id: model.id,
            rights: Rights::all(),
        },
        Some(master_id) => CurrentUser {
            user_id: model.id,
            account_id: master_id,
            rights: Rights::from_stored(&model.rights),
        },
    }
}

/// The user whose login and password these are, if any.
pub async fn verify(
    db: &impl ConnectionTrait,
    login: &str,
    password: Password,
) -> Result<Option<user::Model>, DbErr> {
    let found = user::Entity::find()
        .filter(user::Column::Login.eq(login))
        .one(db)
        .await?;
    let stored = found
        .as_ref()
        .map_or_else(|| DUMMY_HASH.to_owned(), |u| u.password_hash.clone());
    let matches = verify_password(password, stored).await;
    Ok(found.filter(|_| matches))
}
