//! Command-line interface: `serve` (default), `migrate`, `user create`, `user reset-password`,
//! `key rotate|prune`, `dev seed`, and the device engine's `device fetch|bench|platforms`.

// Benchmark drivers: developers build them with `--features bench`; users' binaries lack them.
#[cfg(feature = "bench")]
mod bench;
#[cfg(feature = "bench")]
mod bench_git;
#[cfg(feature = "bench")]
mod bench_versions;
pub mod device;

use std::io::Read;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::auth::permissions::{Permissions, flag_bits, role_bits};
use crate::bootstrap::StartError;
use crate::config::Settings;
use crate::error::Error;
use crate::services::audit::Actor;
use crate::services::users;

#[derive(Parser, Debug)]
#[command(
    name = "netraven",
    version,
    about = "Network configuration backup and management"
)]
pub struct Cli {
    /// Optional TOML configuration file (also NETRAVEN_CONFIG).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web application with its workers and scheduler (the default).
    Serve(ServeArgs),
    /// Run only workers and the scheduler, for extra machines sharing a PostgreSQL database.
    Worker,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Fernet key management for stored secrets.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Developer tools (benchmark data).
    #[command(subcommand)]
    Dev(DevCommand),
    /// The device engine without a database: fetch a device, benchmark many, list platforms.
    #[command(subcommand)]
    Device(device::DeviceCommand),
}

#[derive(Args, Debug, Default)]
pub struct ServeArgs {
    /// Serve the web application only; `netraven worker` processes do the jobs.
    #[arg(long)]
    pub no_workers: bool,
}

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Add a new first key and re-encrypt every stored secret with it (old keys stay readable).
    Rotate,
    /// Drop every key but the first, after checking that nothing still needs them.
    Prune,
}

#[derive(Subcommand, Debug)]
pub enum DevCommand {
    /// Add synthetic devices and tags (names seed-NNNNN / seed-tag-NN) for benchmarks and demos.
    Seed {
        #[arg(long, default_value_t = 10_000)]
        devices: usize,
        #[arg(long, default_value_t = 50)]
        tags: usize,
    },
    /// Seed and time stored versions: history, diff, configuration search (see
    /// scripts/bench-versions.sh; developers' builds: `--features bench`).
    #[cfg(feature = "bench")]
    BenchVersions(bench_versions::BenchVersionsArgs),
    /// Seed and time the configuration mirror and a file's history (see scripts/bench-git.sh;
    /// developers' builds: `--features bench`).
    #[cfg(feature = "bench")]
    BenchGit(bench_git::BenchGitArgs),
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user. The password is read from stdin with --password-stdin, else generated and printed.
    Create(CreateArgs),
    /// Set a new password for a user and end their sessions.
    ResetPassword(ResetArgs),
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    #[arg(long)]
    pub username: String,
    /// Role preset: viewer, operator, engineer or admin.
    #[arg(long, conflicts_with = "permissions")]
    pub role: Option<String>,
    /// Comma-separated flags: read,write,delete,admin,user_manage.
    #[arg(long)]
    pub permissions: Option<String>,
    #[arg(long, default_value = "")]
    pub realname: String,
    #[arg(long, default_value = "")]
    pub email: String,
    /// Read the password from standard input (first line).
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Args, Debug)]
pub struct ResetArgs {
    #[arg(long)]
    pub username: String,
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    App(#[from] Error),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    #[error("the server stopped: {0}")]
    Server(std::io::Error),
    #[error(
        "the {part} worker has not worked for {seconds} s ({reason}); exiting so the service manager starts this process again"
    )]
    WorkersStuck {
        part: &'static str,
        seconds: u64,
        reason: String,
    },
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Start(e) => e.exit_code(),
            CliError::Usage(_) | CliError::App(Error::Invalid(_)) => 2,
            // EX_TEMPFAIL: worth starting again.
            CliError::WorkersStuck { .. } => 75,
            _ => 1,
        }
    }
}

pub fn parse_permissions(role: Option<&str>, flags: Option<&str>) -> Result<i32, CliError> {
    match (role, flags) {
        (Some(r), _) => role_bits(r).ok_or_else(|| {
            CliError::Usage(format!(
                "unknown role {r:?}: use viewer, operator, engineer or admin"
            ))
        }),
        (None, Some(list)) => list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .try_fold(0, |acc, name| {
                flag_bits(name).map(|b| acc | b).ok_or_else(|| {
                    CliError::Usage(format!(
                        "unknown permission {name:?}: use read, write, delete, admin, user_manage"
                    ))
                })
            }),
        (None, None) => Err(CliError::Usage("give --role or --permissions".into())),
    }
}

fn password_input(from_stdin: bool) -> Result<(String, bool), CliError> {
    if !from_stdin {
        return Ok((users::generate_password(), true));
    }
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| CliError::Usage(format!("cannot read the password from stdin: {e}")))?;
    let line = text.lines().next().unwrap_or_default().to_string();
    Ok((line, false))
}

async fn connect(settings: &Settings) -> Result<sea_orm::DatabaseConnection, CliError> {
    let db = crate::db::connect(settings)
        .await
        .map_err(StartError::from)?;
    crate::db::migrate(&db).await.map_err(StartError::from)?;
    Ok(db)
}

pub async fn run_user(settings: &Settings, command: UserCommand) -> Result<(), CliError> {
    let db = connect(settings).await?;
    let actor = Actor::system("command line");
    match command {
        UserCommand::Create(args) => {
            let permissions = parse_permissions(args.role.as_deref(), args.permissions.as_deref())?;
            let (password, generated) = password_input(args.password_stdin)?;
            let user = users::create(
                &db,
                &actor,
                users::Manager::Console,
                &users::NewUser {
                    username: args.username,
                    password: password.clone(),
                    account: users::UserInput {
                        realname: args.realname,
                        email: args.email,
                        permissions: Permissions(permissions),
                        is_active: true,
                    },
                },
            )
            .await?;
            println!("created user {} (id {})", user.username, user.id);
            if generated {
                println!("password: {password}");
            }
        }
        UserCommand::ResetPassword(args) => {
            let user = users::find_by_username(&db, &args.username)
                .await?
                .ok_or_else(|| CliError::Usage(format!("no user named {:?}", args.username)))?;
            let (password, generated) = password_input(args.password_stdin)?;
            users::reset_password(
                &db,
                &actor,
                users::Manager::Console,
                user.id,
                password.clone(),
            )
            .await?;
            println!(
                "password of {} reset; their sessions were ended",
                user.username
            );
            if generated {
                println!("password: {password}");
            }
        }
    }
    Ok(())
}

pub async fn run_key(settings: &Settings, command: KeyCommand) -> Result<(), CliError> {
    let db = connect(settings).await?;
    let vault = crate::bootstrap::open_vault(&db, settings).await?;
    let actor = Actor::system("command line");
    match command {
        KeyCommand::Rotate => {
            match crate::services::keys::rotate(&db, settings, &vault, &actor).await? {
                (_, Some(instructions)) => println!("{instructions}"),
                (r, None) => println!(
                    "re-encrypted {} credentials and {} settings with a new key; {} keys are configured (run `netraven key prune` to drop the old ones)",
                    r.credentials, r.settings, r.keys_now
                ),
            }
        }
        KeyCommand::Prune => {
            let dropped = crate::services::keys::prune(&db, settings, &vault, &actor).await?;
            println!("dropped {dropped} old key(s)");
        }
    }
    Ok(())
}

pub async fn run_dev(settings: &Settings, command: DevCommand) -> Result<(), CliError> {
    let db = connect(settings).await?;
    match command {
        DevCommand::Seed { devices, tags } => {
            let started = std::time::Instant::now();
            let s = crate::services::seed::seed(&db, devices, tags).await?;
            println!(
                "seeded {} devices, {} tags, {} device-tag links in {:.2} s",
                s.devices,
                s.tags,
                s.links,
                started.elapsed().as_secs_f64()
            );
        }
        #[cfg(feature = "bench")]
        DevCommand::BenchVersions(args) => bench_versions::run(&db, args).await?,
        #[cfg(feature = "bench")]
        DevCommand::BenchGit(args) => bench_git::run(&db, settings, args).await?,
    }
    Ok(())
}

pub async fn run_migrate(settings: &Settings) -> Result<(), CliError> {
    connect(settings).await?;
    println!("database is up to date");
    Ok(())
}

/// `netraven worker`: workers and scheduler until SIGINT or SIGTERM.
pub async fn run_worker(settings: &Settings) -> Result<(), CliError> {
    // Migrated first, on a connection of this thread.
    connect(settings).await?;
    let health = crate::background::Health::default();
    let runner = crate::startup::start_background_workers(settings, health.clone()).await?;
    tracing::info!("worker running; stop it with Ctrl-C or SIGTERM");
    let outcome = tokio::select! {
        _ = wait_for_stop_signal() => {
            tracing::info!("stopping: running devices finish first");
            Ok(())
        }
        stuck = stuck_workers(&health, settings.worker_give_up) => Err(stuck),
    };
    runner.shutdown(std::time::Duration::from_secs(30)).await;
    outcome
}

/// A worker process has no health page for anyone to watch: when its workers have retried for
/// this long without working (the database gone for good, or something a fresh process would
/// fix: a stale address, a broken pool), it exits non-zero for its service manager to restart.
/// `serve` stays up instead and reports the state on `/healthz`.
async fn stuck_workers(
    health: &crate::background::Health,
    give_up: std::time::Duration,
) -> CliError {
    let limit = chrono::Duration::from_std(give_up).unwrap_or(chrono::Duration::MAX);
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        if let Some((part, reason)) = health.stuck_longer_than(limit) {
            return CliError::WorkersStuck {
                part,
                seconds: give_up.as_secs(),
                reason,
            };
        }
    }
}

async fn wait_for_stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
