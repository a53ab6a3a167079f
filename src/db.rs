//! Database connection and migrations, for SQLite (embedded default) and PostgreSQL.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::config::Settings;

pub async fn connect(settings: &Settings) -> Result<DatabaseConnection, DbErr> {
    connect_pool(settings, 8).await
}

/// The job workers' own pool in `serve`. On SQLite their writes take turns on one lock anyway,
/// and every extra connection is one more thread waiting for it on two cores.
pub async fn connect_workers(settings: &Settings) -> Result<DatabaseConnection, DbErr> {
    connect_pool(settings, SQLITE_WORKER_CONNECTIONS).await
}

const SQLITE_WORKER_CONNECTIONS: u32 = 4;

const IDLE_BEFORE_PING: Duration = Duration::from_secs(5);

/// Start a transaction that writes. Every transaction here writes, so this is the only way to
/// start one (clippy.toml forbids a plain `begin`). On SQLite a plain `BEGIN` is deferred: a
/// transaction that reads first holds a read snapshot, and when it then writes while another
/// connection (a worker's queue poll, another process) holds or has just released the write lock,
/// SQLite fails it at once with "database is locked" without waiting, since waiting could
/// deadlock. `BEGIN IMMEDIATE` takes the write lock first and waits for it through the busy
/// handler. PostgreSQL ignores the mode.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    #[allow(clippy::disallowed_methods)]
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

async fn connect_pool(
    settings: &Settings,
    sqlite_connections: u32,
) -> Result<DatabaseConnection, DbErr> {
    let url = &settings.database_url;
    let mut options = ConnectOptions::new(url.clone());
    options
        .sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(10))
        // sqlx pings every connection it hands out by default: one more round trip per query
        // (a wake-up of SQLite's connection thread, or a message to PostgreSQL). A connection
        // in steady use has just proven itself; only one idle long enough for a server restart
        // or a firewall to have dropped it is checked.
        .test_before_acquire_if_idle_for(IDLE_BEFORE_PING);
    // Every process connects first: the moment to make sure the data folder is private.
    crate::data_dir::ensure_private_dir(&settings.data_dir).map_err(|e| {
        DbErr::Custom(format!(
            "cannot create the data folder {}: {e}",
            settings.data_dir.display()
        ))
    })?;
    if settings.is_sqlite() {
        prepare_sqlite_file(url)?;
        // WAL lets readers proceed while one writer commits; writers wait for the lock (see
        // `sqlite_setup`) instead of failing with "database is locked".
        options
            .max_connections(sqlite_connections)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    // The default 2 MB page cache is smaller than a real inventory, so list scans
                    // re-read pages through syscalls; 64 MB per connection keeps them in memory.
                    // No mmap: SQLite does not cache memory-mapped pages, so every visit to one
                    // parsed its header again (7% of a device list statement).
                    .pragma("cache_size", "-65536")
                    .pragma("temp_store", "memory")
                    // A checkpoint copies the WAL into the database and syncs both, on the
                    // connection whose commit crossed the limit. At SQLite's default (1,000
                    // pages) a 1,000-device backup ran several mid-job, in the commits of
                    // waiting devices; 16,384 pages (64 MiB) leaves one or none.
                    .pragma("wal_autocheckpoint", "16384")
            });
        options.map_sqlx_sqlite_pool_opts(|o| {
            o.after_connect(|conn, _| {
                Box::pin(async move {
                    let mut handle = conn.lock_handle().await?;
                    sqlite_setup::install(handle.as_raw_handle());
                    Ok(())
                })
            })
            // A connection that comes back still inside a transaction is closed, not reused:
            // when a statement fails mid-transaction with "database or disk is full", SQLite
            // keeps that statement pending and refuses the ROLLBACK that sqlx sends on drop, so
            // the connection would hold the write lock in the pool for ever and every other
            // writer would fail with "database is locked" after the disk was freed. Closing it
            // releases the lock.
            .after_release(|conn, _| {
                Box::pin(async move {
                    use sea_orm::sqlx::Connection;
                    // The usual case costs an atomic read; only a connection sqlx still counts
                    // inside a transaction is asked (after its queued rollback has run).
                    if !conn.is_in_transaction() {
                        return Ok(true);
                    }
                    let open = {
                        let mut handle = conn.lock_handle().await?;
                        sqlite_setup::in_transaction(handle.as_raw_handle())
                    };
                    // Either count still open: SQLite's, or sqlx's (whose next BEGIN would then
                    // be a SAVEPOINT).
                    let open = open || conn.is_in_transaction();
                    if open {
                        tracing::warn!(
                            "a database connection came back inside a transaction its rollback could not end; closing it"
                        );
                    }
                    Ok(!open)
                })
            })
        });
    } else {
        options.max_connections(16);
    }
    Database::connect(options).await
}

/// How a SQLite connection waits for another connection's write lock, and plans its queries.
mod sqlite_setup {
    use std::os::raw::{c_int, c_void};
    use std::ptr::NonNull;
    use std::time::Duration;

    use libsqlite3_sys::{
        SQLITE_DBCONFIG_ENABLE_QPSG, sqlite3, sqlite3_busy_handler, sqlite3_db_config,
        sqlite3_get_autocommit,
    };

    /// About 10 s in all before "database is locked".
    const MAX_ATTEMPTS: c_int = 6_000;

    /// SQLite's own busy timeout sleeps 1, 2, 5, 10 ... then 100 ms between tries, while most
    /// write transactions here hold the lock for well under a millisecond: under a burst of
    /// writes (a backup job finishing hundreds of devices) connections slept while the lock was
    /// free, and reads queued behind them for the pool. Retry after 50 µs, doubling to 1.6 ms.
    unsafe extern "C" fn retry(_: *mut c_void, attempt: c_int) -> c_int {
        if attempt >= MAX_ATTEMPTS {
            return 0;
        }
        let shift = attempt.clamp(0, 5) as u32;
        std::thread::sleep(Duration::from_micros(50u64 << shift));
        1
    }

    /// Whether the connection is inside a transaction (not in autocommit mode).
    pub fn in_transaction(db: NonNull<sqlite3>) -> bool {
        // SAFETY: `db` is an open connection that sqlx holds locked for us.
        unsafe { sqlite3_get_autocommit(db.as_ptr()) == 0 }
    }

    pub fn install(db: NonNull<sqlite3>) {
        // SAFETY: `db` is an open connection that sqlx holds locked for us; the handler keeps
        // no state (null argument) and replaces the busy timeout sqlx set. `sqlite3_db_config`
        // with ENABLE_QPSG takes an int and a nullable int pointer.
        unsafe {
            sqlite3_busy_handler(db.as_ptr(), Some(retry), std::ptr::null_mut());
            // The query planner stability guarantee: plans never depend on bound values. Without
            // it SQLite reads a bound `LIMIT ?` (which SeaORM's `.one()` adds) while planning,
            // so binding the next value expires the cached statement and every such query was
            // parsed and planned again (5% of a backup job's samples).
            sqlite3_db_config(
                db.as_ptr(),
                SQLITE_DBCONFIG_ENABLE_QPSG,
                1 as std::os::raw::c_int,
                std::ptr::null_mut::<c_int>(),
            );
        }
    }
}

/// Our schema, then the job queue's tables.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await?;
    crate::background::Queue::setup(db).await
}

/// The database file of a SQLite URL, created private (see `data_dir`) before SQLite opens it.
fn prepare_sqlite_file(url: &str) -> Result<(), DbErr> {
    let path = url
        .trim_start_matches("sqlite:")
        .trim_start_matches("//")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    let file = std::path::Path::new(path);
    crate::data_dir::prepare_sqlite_file(file).map_err(|e| {
        DbErr::Custom(format!(
            "cannot create the database file {path}: {e}. Check the folder's owner and mode, and that its file system is not mounted read-only."
        ))
    })?;
    crate::data_dir::check_writable(file).map_err(DbErr::Custom)?;
    crate::data_dir::warn_if_short_of_space(file);
    Ok(())
}
