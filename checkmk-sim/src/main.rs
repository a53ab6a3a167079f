//! checkmk-sim: serves a simulated CheckMK 2.x REST API on 127.0.0.1 until Ctrl-C.
//!
//! ```text
//! checkmk-sim --port 8090 --site cmk --user automation --secret S \
//!             --latency-ms 50 --fail-host r2 --seed-folder /network
//! ```

use std::process::ExitCode;
use std::time::Duration;

use checkmk_sim::{Options, Sim};
use clap::Parser;

/// Simulates a CheckMK 2.x site's REST API for NetRaven demos and tests.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// TCP port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 8090)]
    port: u16,
    /// Site name (the first path segment).
    #[arg(long, default_value = "cmk")]
    site: String,
    /// Automation user.
    #[arg(long, default_value = "automation")]
    user: String,
    /// The automation user's secret.
    #[arg(long, default_value = "test-secret")]
    secret: String,
    /// Delay before every answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Host whose object endpoints answer 500 (repeatable).
    #[arg(long = "fail-host", value_name = "NAME")]
    fail_hosts: Vec<String>,
    /// Folder to create at start, with its parents (repeatable), e.g. /network/dc1.
    #[arg(long = "seed-folder", value_name = "PATH")]
    seed_folders: Vec<String>,
    /// How long an activation run takes, in milliseconds.
    #[arg(long, default_value_t = 200)]
    activation_ms: u64,
    /// Allow host moves while changes are pending (CheckMK as observed refuses them).
    #[arg(long)]
    allow_move_while_pending: bool,
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    let options = Options {
        site: args.site,
        user: args.user.clone(),
        secret: args.secret,
        latency: Duration::from_millis(args.latency_ms),
        fail_hosts: args.fail_hosts,
        refuse_move_while_pending: !args.allow_move_while_pending,
        activation_time: Duration::from_millis(args.activation_ms),
    };
    let sim = match Sim::start_on(options, args.port).await {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("checkmk-sim: cannot listen on 127.0.0.1:{}: {e}", args.port);
            return ExitCode::FAILURE;
        }
    };
    for folder in &args.seed_folders {
        sim.add_folder(folder);
    }
    println!(
        "CheckMK simulator at {} (user {})",
        sim.site_url(),
        args.user
    );
    eprintln!("checkmk-sim: Ctrl-C to stop");
    wait_for_stop().await;
    sim.shutdown().await;
    ExitCode::SUCCESS
}
