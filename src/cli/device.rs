//! `netraven device ...`: the device engine from the command line, without a database:
//! fetch one device, benchmark many, list the platforms.

use std::io::BufRead;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::device::fetch::{Credential, Options, Target, fetch};
use crate::device::{ErrorClass, profile, scrub};

const EXIT_CODES: &str = "Exit codes:
   0  the configuration was printed
   2  bad arguments or input (usage)
  10  connection refused
  11  no route to the device, or no answer in time
  12  the SSH host key differs from --known-host-key
  13  authentication failed
  14  enable refused (wrong or missing enable secret)
  15  prompt not recognised (the device printed something unexpected, or nothing)
  16  a command was rejected by the device
  17  the connection dropped in the middle of the session
  18  SSH negotiation failed (no common algorithm, protocol error)
  19  bad local settings (unreadable private key or host key)";

#[derive(Subcommand, Debug)]
pub enum DeviceCommand {
    /// Fetch one device's configuration over SSH and print it on standard output.
    #[command(after_help = EXIT_CODES)]
    Fetch(FetchArgs),
    /// Fetch every device of an inventory CSV concurrently and report timings, CPU and memory
    /// (developers' builds: `--features bench`).
    #[cfg(feature = "bench")]
    Bench(super::bench::BenchArgs),
    /// List the platform ids the engine knows.
    Platforms,
}

#[derive(Args, Debug)]
pub struct LoginArgs {
    #[arg(long)]
    pub username: String,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// Read the enable secret from the next line of standard input (the second with --password-stdin).
    #[arg(long)]
    pub enable_stdin: bool,
    /// Private key file (OpenSSH or PEM) for public-key authentication.
    #[arg(long)]
    pub private_key: Option<PathBuf>,
    /// Seconds to wait for any single step (connect, prompt, next output).
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
}

#[derive(Args, Debug)]
pub struct FetchArgs {
    #[arg(long)]
    pub host: String,
    #[arg(long, default_value_t = 22)]
    pub port: u16,
    /// Platform id, e.g. cisco_ios (see `netraven device platforms`).
    #[arg(long)]
    pub platform: String,
    #[command(flatten)]
    pub login: LoginArgs,
    /// Print a transcript of the session (secrets masked) on standard error.
    #[arg(long)]
    pub debug: bool,
    /// Print the facts (model, serial, OS version, host key, hashes) as JSON on standard error.
    #[arg(long)]
    pub facts: bool,
    /// Replace secrets in the printed configuration by a marker.
    #[arg(long)]
    pub mask: bool,
    /// The host key to expect (OpenSSH public-key line); without it the presented key is trusted.
    #[arg(long)]
    pub known_host_key: Option<String>,
    /// Command(s) to collect instead of the platform's configuration commands (repeatable).
    #[arg(long = "command")]
    pub commands: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DeviceCliError {
    #[error("{0}")]
    Usage(String),
    #[error("{message}")]
    Device { class: ErrorClass, message: String },
}

impl DeviceCliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            DeviceCliError::Usage(_) => 2,
            DeviceCliError::Device { class, .. } => class.exit_code(),
        }
    }
}

/// Reads the secrets the flags ask for, one per line of standard input, and the key file.
pub(super) fn credential(login: &LoginArgs) -> Result<Credential, DeviceCliError> {
    let mut lines = std::io::stdin().lock().lines();
    let mut next = |what: &str| -> Result<String, DeviceCliError> {
        match lines.next() {
            Some(Ok(line)) => Ok(line),
            Some(Err(e)) => Err(DeviceCliError::Usage(format!(
                "cannot read the {what} from standard input: {e}"
            ))),
            None => Err(DeviceCliError::Usage(format!(
                "standard input ended before the {what}"
            ))),
        }
    };
    let password = login.password_stdin.then(|| next("password")).transpose()?;
    let enable_secret = login
        .enable_stdin
        .then(|| next("enable secret"))
        .transpose()?;
    let private_key = login
        .private_key
        .as_ref()
        .map(|path| {
            std::fs::read_to_string(path)
                .map_err(|e| DeviceCliError::Usage(format!("cannot read {}: {e}", path.display())))
        })
        .transpose()?;
    if password.is_none() && private_key.is_none() {
        return Err(DeviceCliError::Usage(
            "give --password-stdin or --private-key".into(),
        ));
    }
    Ok(Credential {
        name: "command line".into(),
        username: login.username.clone(),
        private: false,
        password,
        enable_secret,
        private_key,
    })
}

pub(super) fn platform(id: &str) -> Result<&'static profile::Profile, DeviceCliError> {
    profile::find(id).ok_or_else(|| {
        let ids: Vec<&str> = profile::all().iter().map(|p| p.id.as_str()).collect();
        DeviceCliError::Usage(format!(
            "unknown platform {id:?}; known platforms: {}",
            ids.join(", ")
        ))
    })
}

pub async fn run_device(command: DeviceCommand) -> Result<(), DeviceCliError> {
    match command {
        DeviceCommand::Platforms => {
            for p in profile::all() {
                println!("{:<20} {}", p.id, p.name);
            }
            Ok(())
        }
        DeviceCommand::Fetch(args) => run_fetch(args).await,
        #[cfg(feature = "bench")]
        DeviceCommand::Bench(args) => super::bench::run_bench(args).await,
    }
}

async fn run_fetch(args: FetchArgs) -> Result<(), DeviceCliError> {
    let profile = platform(&args.platform)?;
    let credential = credential(&args.login)?;
    let target = Target {
        host: &args.host,
        port: args.port,
        profile,
        known_host_key: args.known_host_key.as_deref(),
    };
    let options = Options {
        step_timeout: Duration::from_secs(args.login.timeout.max(1)),
        debug: args.debug,
        config_commands: (!args.commands.is_empty()).then(|| args.commands.clone()),
        ..Options::default()
    };
    match fetch(&target, std::slice::from_ref(&credential), &options).await {
        Ok(fetched) => {
            let Some(config) = fetched.config else {
                return Err(DeviceCliError::Usage("no configuration was read".into()));
            };
            if let Some(t) = &fetched.transcript {
                eprint!("{t}");
            }
            for w in &fetched.warnings {
                eprintln!("warning: {w}");
            }
            if args.facts {
                let facts = serde_json::json!({
                    "platform": profile.id,
                    "model": fetched.facts.model,
                    "serial": fetched.facts.serial,
                    "os_version": fetched.facts.os_version,
                    "host_key": fetched.host_key.openssh,
                    "host_key_fingerprint": fetched.host_key.fingerprint,
                    "credential": fetched.credential_name,
                    "sha256": config.sha256,
                    "change_key": config.change_key,
                    "ignored_lines": scrub::ignored_lines(&profile.filters, &config.text),
                    "lines": config.text.lines().count(),
                    "duration_ms": fetched.duration.as_millis() as u64,
                });
                eprintln!("{facts}");
            }
            let text = if args.mask {
                &config.masked
            } else {
                &config.text
            };
            print!("{text}");
            Ok(())
        }
        Err(e) => {
            if let Some(t) = &e.transcript {
                eprint!("{t}");
            }
            Err(DeviceCliError::Device {
                class: e.class(),
                message: format!("{} ({})", e.error, e.class().describe()),
            })
        }
    }
}
