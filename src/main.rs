use clap::Parser;

use netraven::cli::device::run_device;
use netraven::cli::{
    Cli, CliError, Command, ServeArgs, run_dev, run_key, run_migrate, run_user, run_worker,
};
use netraven::config::Settings;
use netraven::startup::Application;

// glibc's allocator spent about a tenth of the web workers' time on a device list page (every
// row, value and rendered string is allocated and freed per request); mimalloc's thread-local
// free lists make that several times cheaper.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// A multi-threaded runtime: actix-web runs its own workers under it, and device sessions
// (the `device` commands now, background jobs later) spread over every core.
#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve(ServeArgs::default()));
    if let Command::Device(cmd) = command {
        // The device engine needs no settings and no database.
        if let Err(e) = run_device(cmd).await {
            eprintln!("error: {e}");
            std::process::exit(e.exit_code());
        }
        return;
    }
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(78);
        }
    };
    netraven::telemetry::init(&settings.log);
    let result = match command {
        Command::Serve(args) => serve(settings, args).await,
        Command::Worker => run_worker(&settings).await,
        Command::Migrate => run_migrate(&settings).await,
        Command::User(cmd) => run_user(&settings, cmd).await,
        Command::Dev(cmd) => run_dev(&settings, cmd).await,
        Command::Key(cmd) => run_key(&settings, cmd).await,
        Command::Device(_) => Ok(()),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}

async fn serve(settings: Settings, args: ServeArgs) -> Result<(), CliError> {
    let app = Application::build(settings).await?;
    let runner = if args.no_workers {
        None
    } else {
        Some(app.start_workers().await?)
    };
    // The server stops on SIGINT/SIGTERM; the workers then finish their running devices.
    let served = app.run_until_stopped().await.map_err(CliError::Server);
    if let Some(runner) = runner {
        runner.shutdown(SHUTDOWN_GRACE).await;
    }
    served
}

const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(30);
