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

/// Before SQLite opens `db_file` (which exists): this process can write it and its folder.
/// SQLite itself says only "attempt to write a readonly database" when either is not so (the
/// folder, because the `-wal` and `-shm` files are made beside the database), without naming a
/// file; this names the path and what to look at.
pub fn check_writable(db_file: &Path) -> Result<(), String> {
    let dir = db_file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let probe = dir.join(format!(".netraven-write-check-{}", std::process::id()));
    let folder = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map(|_| {
            let _ = std::fs::remove_file(&probe);
        });
    if let Err(e) = folder {
        return Err(format!(
            "the database {} cannot be written: its folder {} does not accept new files ({e}); \
             SQLite keeps its -wal and -shm files beside the database. {}",
            db_file.display(),
            dir.display(),
            what_to_check(dir)
        ));
    }
    if let Err(e) = std::fs::OpenOptions::new().write(true).open(db_file) {
        return Err(format!(
            "the database {} cannot be written ({e}). {}",
            db_file.display(),
            what_to_check(db_file)
        ));
    }
    Ok(())
}

/// The owner and mode of `path` against the user this process runs as, and the mount.
fn what_to_check(path: &Path) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if let Ok(meta) = std::fs::metadata(path) {
            return format!(
                "Check its owner (uid {}; NetRaven runs as uid {me}), its mode ({:04o}), and \
                 that its file system is not mounted read-only.",
                meta.uid(),
                meta.mode() & 0o7777
            );
        }
    }
    let _ = path;
    "Check its owner, its mode, and that its file system is not mounted read-only.".to_string()
}

/// Room a SQLite data folder needs beyond the database itself: during a job the write-ahead log
/// grows to about 70 MiB before a checkpoint folds it back (the 64 MiB `wal_autocheckpoint` in
/// `db`, plus what commits while the checkpoint runs), and migrations rewrite tables.
pub const SQLITE_HEADROOM: u64 = 256 * 1024 * 1024;

/// Warns when the folder of `db_file` has less free space than the database's size plus
/// `SQLITE_HEADROOM`: a full disk stops every write, backups included.
pub fn warn_if_short_of_space(db_file: &Path) {
    let dir = db_file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Some(free) = free_bytes(dir) else {
        return;
    };
    let database = std::fs::metadata(db_file).map_or(0, |m| m.len());
    let needed = database + SQLITE_HEADROOM;
    if free < needed {
        const MIB: u64 = 1024 * 1024;
        tracing::warn!(
            folder = %dir.display(),
            free_mib = free / MIB,
            needed_mib = needed / MIB,
            "{} has {} MiB free; keep at least {} MiB (the database's {} MiB plus 256 MiB for the write-ahead log during jobs), or writes will fail with \"database or disk is full\"",
            dir.display(),
            free / MIB,
            needed / MIB,
            database / MIB
        );
    }
}

/// Bytes an unprivileged process may still write in `dir`'s file system.
fn free_bytes(dir: &Path) -> Option<u64> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
        let mut stat = std::mem::MaybeUninit::<libc::statvfs>::uninit();
        // SAFETY: `path` is a NUL-terminated string and `stat` a buffer of the right type,
        // read only after statvfs reported success.
        let stat = unsafe {
            if libc::statvfs(path.as_ptr(), stat.as_mut_ptr()) != 0 {
                return None;
            }
            stat.assume_init()
        };
        #[allow(clippy::useless_conversion)] // the field types differ between platforms
        Some(u64::from(stat.f_bavail).saturating_mul(u64::from(stat.f_frsize)))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        None
    }
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

    #[test]
    fn free_space_is_read_from_the_file_system() {
        let free = free_bytes(&std::env::temp_dir()).expect("statvfs");
        assert!(free > 0);
        assert_eq!(free_bytes(Path::new("/no/such/folder")), None);
    }
}
