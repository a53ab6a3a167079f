//! `Application::build` connects, migrates, checks keys, binds the listener and wires the
//! middleware; tests bind port 0 and read the port back.

use std::net::TcpListener;

use actix_session::SessionMiddleware;
use actix_session::config::{BrowserSession, CookieContentSecurity};
use actix_web::cookie::SameSite;
use actix_web::dev::Server;
use actix_web::middleware::{Compress, DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use sea_orm::DatabaseConnection;
use tracing_actix_web::TracingLogger;

use crate::auth::session_store::DbSessionStore;
use crate::auth::{csrf, flash};
use crate::background::Health;
use crate::background::priority::Background;
use crate::bootstrap::{self, StartError};
use crate::config::Settings;
use crate::crypto;
use crate::web::error::AppError;
use crate::web::{self as routes, AppState};

pub const SESSION_COOKIE: &str = "netraven_session";

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'";

/// Headers on every response (a handler's own value wins: static assets are cached for a year).
/// Pages are never stored by browsers or proxies: they show configurations and who may do what,
/// and the Back button after signing out must not bring them back.
fn security_headers(behind_tls: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "same-origin"))
        .add(("Content-Security-Policy", CSP))
        .add(("Cache-Control", "no-store"));
    if behind_tls {
        headers.add(("Strict-Transport-Security", "max-age=31536000"))
    } else {
        headers
    }
}

pub struct Application {
    port: u16,
    server: Server,
    pub db: DatabaseConnection,
    settings: Settings,
    /// The workers' states, which `/healthz` shows.
    health: Health,
}

/// Workers and scheduler on an open database (`serve` and `worker`).
pub async fn start_workers(
    db: &DatabaseConnection,
    settings: &Settings,
    health: Health,
) -> Result<crate::background::Runner, StartError> {
    let vault = bootstrap::open_vault(db, settings).await?;
    let git = crate::services::git::GitHome::new(&settings.data_dir);
    crate::background::Runner::start(db.clone(), vault, git, health)
        .await
        .map_err(StartError::Workers)
}

/// Workers and scheduler on threads of lower priority (`priority`), with connections of their
/// own: a job of a thousand devices queues hundreds of queries at once, and pages must not wait
/// behind them for a pooled connection. Started from those threads, so that everything they
/// start (the workers' SQLite connection threads too) inherits the priority.
pub async fn start_background_workers(
    settings: &Settings,
    health: Health,
) -> Result<crate::background::Runner, StartError> {
    let failed = |what: String| StartError::Workers(crate::error::Error::Internal(what));
    let background = Background::new()
        .map_err(|e| failed(format!("cannot start the background threads: {e}")))?;
    let handle = background
        .handle()
        .ok_or_else(|| failed("the background runtime is gone".into()))?;
    let settings = settings.clone();
    let runner = handle
        .spawn(async move {
            let db = crate::db::connect_workers(&settings).await?;
            start_workers(&db, &settings, health).await
        })
        .await
        .map_err(|e| failed(format!("the workers' start ended abnormally: {e}")))??;
    Ok(runner.on(background))
}

impl Application {
    pub async fn build(config: Settings) -> Result<Self, StartError> {
        let db = crate::db::connect(&config).await?;
        crate::db::migrate(&db).await?;
        let vault = bootstrap::open_vault(&db, &config).await?;
        if let Some(password) = bootstrap::ensure_first_admin(&db, &config).await? {
            tracing::warn!(
                "first start: created user 'admin' with generated password {password} (shown once; change it under Profile)"
            );
        }
        crate::services::schedules::ensure_defaults(&db)
            .await
            .map_err(StartError::Workers)?;
        let session_key = crypto::load_session_key(&config)?;
        let listener = TcpListener::bind(&config.bind).map_err(|source| StartError::Bind {
            addr: config.bind.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartError::Bind {
                addr: config.bind.clone(),
                source,
            })?
            .port();

        let secure = config.cookie_secure;
        let behind_tls = config.behind_tls;
        let health = Health::default();
        let state = web::Data::new(AppState {
            db: db.clone(),
            health: health.clone(),
            cookie_key: session_key.clone(),
            queue: crate::background::Queue::new(&db),
            vault,
            config: config.clone(),
            tags: Default::default(),
        });
        let store_db = db.clone();
        let server = HttpServer::new(move || {
            let sessions = SessionMiddleware::builder(
                DbSessionStore::new(store_db.clone()),
                session_key.clone(),
            )
            .cookie_name(SESSION_COOKIE.to_string())
            .cookie_secure(secure)
            .cookie_http_only(true)
            .cookie_same_site(SameSite::Lax)
            .cookie_content_security(CookieContentSecurity::Private)
            .session_lifecycle(BrowserSession::default())
            .build();
            App::new()
                .app_data(state.clone())
                .app_data(web::QueryConfig::default().error_handler(|e, _| {
                    AppError::BadRequest(format!("The address has an invalid query: {e}")).into()
                }))
                .app_data(
                    web::PathConfig::default().error_handler(|_, _| AppError::not_found().into()),
                )
                .configure(routes::routes)
                // Middleware runs outermost-last: CSRF and flash keeping need the session, which
                // needs nothing; errors (the CSRF check's too) take the shape the client asked for.
                .wrap(from_fn(csrf::guard))
                .wrap(from_fn(crate::web::error::shape_errors))
                .wrap(from_fn(flash::keep_unshown))
                .wrap(sessions)
                .wrap(Compress::default())
                .wrap(security_headers(behind_tls))
                .wrap(TracingLogger::default())
        })
        .workers(config.http_workers)
        .listen(listener)
        .map_err(|source| StartError::Bind {
            addr: config.bind.clone(),
            source,
        })?
        .run();
        tracing::info!(address = %config.bind, port, "NetRaven is listening");
        Ok(Self {
            port,
            server,
            db,
            settings: config,
            health,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    /// Start this process's workers and scheduler beside the web server (`serve` without
    /// `--no-workers`).
    pub async fn start_workers(&self) -> Result<crate::background::Runner, StartError> {
        start_background_workers(&self.settings, self.health.clone()).await
    }
}
