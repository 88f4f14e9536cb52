//! Where avatars live. Names are content hashes, so a file never changes once written: a put of
//! a name that exists is a no-op, and readers never see a half-written file.

mod local;

use async_trait::async_trait;
use bytes::Bytes;

pub use local::LocalStore;

use crate::images::AvatarName;

/// One stored file: a normalised avatar, or one of its thumbnails.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StoredFile {
    pub name: AvatarName,
    /// `None` for the avatar itself, the side in pixels for a thumbnail.
    pub size: Option<u32>,
}

impl StoredFile {
    pub fn avatar(name: AvatarName) -> Self {
        Self { name, size: None }
    }

    pub fn thumbnail(name: AvatarName, size: u32) -> Self {
        Self {
            name,
            size: Some(size),
        }
    }

    /// The path below the store's root: `<name>` or `<size>/<name>`.
    pub fn relative_path(&self) -> String {
        match self.size {
            None => self.name.to_string(),
            Some(size) => format!("{size}/{}", self.name),
        }
    }
}

#[async_trait]
pub trait AvatarStore: Send + Sync {
    /// Stores the file durably and atomically; returns once it would survive a crash.
    async fn put(&self, file: &StoredFile, bytes: Bytes) -> std::io::Result<()>;

    /// The file's bytes, or `None` if it is not stored.
    async fn get(&self, file: &StoredFile) -> std::io::Result<Option<Bytes>>;
}
