//! The data folder and the SQLite database are private to the account NetRaven runs as: the
//! database holds every configuration, the session table and the encrypted secrets, and other
//! local users have no business reading them. Folders are made 0700 and files 0600 when NetRaven
//! creates them; existing ones that are open to others are tightened at start when this process
//! owns them, and reported when it cannot.

use std::path::Path;

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

pub const DIR_MODE: u32 = 0o700;
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and missing parents) as private folders, or tightens an existing `dir`.
pub fn ensure_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    if !dir.exists() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        builder.mode(DIR_MODE);
        return builder.create(dir);
    }
    tighten(dir, DIR_MODE);
    Ok(())
}

/// Before SQLite opens `db_file`: its folder exists and the file exists with mode 0600, so the
/// `-wal` and `-shm` files SQLite makes beside it take the same mode (SQLite copies the
/// database file's permissions to them). Existing files open to others are tightened.
pub fn prepare_sqlite_file(db_file: &Path) -> std::io::Result<()> {
    if let Some(dir) = db_file.parent().filter(|d| !d.as_os_str().is_empty()) {
        if dir.exists() {
            // A folder someone else chose for the database (not NetRaven's data folder) is
            // theirs to arrange; only the files are ours.
        } else {
            ensure_private_dir(dir)?;
        }
    }
    if !db_file.exists() {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(FILE_MODE);
        match options.open(db_file) {
            Ok(_) => {}
            // Another process created it in the meantime: check it like any existing file.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = db_file.as_os_str().to_owned();
        name.push(suffix);
        let path = Path::new(&name);
        if path.exists() {
            tighten(path, FILE_MODE);
        }
    }
    Ok(())
}

/// Takes group and other permissions away from `path` if it has any; says so either way.
fn tighten(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        let current = meta.permissions().mode() & 0o777;
        if current & 0o077 == 0 {
            return;
        }
        match std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)) {
            Ok(()) => tracing::warn!(
                path = %path.display(),
                "{} was open to other local users (mode {current:04o}); changed to {mode:04o}",
                path.display()
            ),
            Err(e) => tracing::warn!(
                path = %path.display(),
                "{} is open to other local users (mode {current:04o}) and this process cannot change it ({e}): run chmod {mode:o} on it",
                path.display()
            ),
        }
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_folders_and_files_are_private_and_open_ones_are_tightened() {
        let root = std::env::temp_dir().join(format!("netraven-modes-{}", std::process::id()));
        let dir = root.join("data");
        ensure_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        let db = dir.join("netraven.db");
        prepare_sqlite_file(&db).unwrap();
        assert_eq!(mode(&db), 0o600);

        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        let wal = dir.join("netraven.db-wal");
        std::fs::write(&wal, b"").unwrap();
        std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o644)).unwrap();
        ensure_private_dir(&dir).unwrap();
        prepare_sqlite_file(&db).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&wal), 0o600);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
