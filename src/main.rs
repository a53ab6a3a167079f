use clap::Parser;

use netraven::cli::{Cli, CliError, Command, run_dev, run_key, run_migrate, run_user};
use netraven::config::Settings;
use netraven::startup::Application;

#[actix_web::main]
async fn main() {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(78);
        }
    };
    netraven::telemetry::init(&settings.log);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Migrate => run_migrate(&settings).await,
        Command::User(cmd) => run_user(&settings, cmd).await,
        Command::Dev(cmd) => run_dev(&settings, cmd).await,
        Command::Key(cmd) => run_key(&settings, cmd).await,
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(e.exit_code());
    }
}

async fn serve(settings: Settings) -> Result<(), CliError> {
    let app = Application::build(settings).await?;
    app.run_until_stopped().await.map_err(CliError::Server)
}
