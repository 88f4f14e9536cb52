use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;

use super::{AvatarStore, StoredFile};

/// Files in a local directory (`storage.dir`), written to a temporary file in the target's own
/// directory, synced, renamed into place, and the directory synced.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn path_of(&self, file: &StoredFile) -> PathBuf {
        self.root.join(file.relative_path())
    }
}

fn write_atomically(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if target.exists() {
        return Ok(());
    }
    let folder = target
        .parent()
        .ok_or_else(|| std::io::Error::new(ErrorKind::InvalidInput, "no parent folder"))?;
    std::fs::create_dir_all(folder)?;
    let mut temporary = tempfile::Builder::new()
        .prefix(".incoming-")
        .tempfile_in(folder)?;
    temporary.write_all(bytes)?;
    temporary.as_file().sync_all()?;
    temporary.persist(target).map_err(|e| e.error)?;
    std::fs::File::open(folder)?.sync_all()
}

#[async_trait]
impl AvatarStore for LocalStore {
    async fn put(&self, file: &StoredFile, bytes: Bytes) -> std::io::Result<()> {
        let target = self.path_of(file);
        tokio::task::spawn_blocking(move || write_atomically(&target, &bytes))
            .await
            .map_err(std::io::Error::other)?
    }

    async fn get(&self, file: &StoredFile) -> std::io::Result<Option<Bytes>> {
        match tokio::fs::read(self.path_of(file)).await {
            Ok(bytes) => Ok(Some(Bytes::from(bytes))),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::{AvatarName, OutputFormat};

    #[actix_web::test]
    async fn a_put_is_atomic_idempotent_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let name = AvatarName::for_content(b"one", OutputFormat::Jpeg);
        let avatar = StoredFile::avatar(name.clone());
        let thumbnail = StoredFile::thumbnail(name, 64);
        assert_eq!(store.get(&avatar).await.unwrap(), None);
        store
            .put(&avatar, Bytes::from_static(b"one"))
            .await
            .unwrap();
        store
            .put(&avatar, Bytes::from_static(b"one"))
            .await
            .unwrap();
        store
            .put(&thumbnail, Bytes::from_static(b"1"))
            .await
            .unwrap();
        assert_eq!(store.get(&avatar).await.unwrap().unwrap(), "one");
        assert_eq!(store.get(&thumbnail).await.unwrap().unwrap(), "1");
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["64".to_owned(), avatar.relative_path()]);
    }

    #[actix_web::test]
    async fn a_failing_store_reports_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("not-a-folder");
        std::fs::write(&blocker, b"x").unwrap();
        let store = LocalStore::new(blocker.join("avatars"));
        let file = StoredFile::avatar(AvatarName::for_content(b"x", OutputFormat::Png));
        assert!(store.put(&file, Bytes::from_static(b"x")).await.is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
