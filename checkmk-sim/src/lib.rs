//! checkmk-sim: a CheckMK 2.x REST API simulator for NetRaven's integration tests and demos.
//!
//! It serves `http://127.0.0.1:PORT/{site}/check_mk/api/1.0` with bearer authentication,
//! problem+json errors, host and folder configuration with ETag/If-Match locking, bulk host
//! actions, pending changes and activation runs. State lives in memory.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use checkmk_sim::{Options, Sim};
//! let sim = Sim::start(Options::default()).await?;
//! sim.add_folder("/network/dc1");
//! sim.add_host("r1", "/network/dc1", serde_json::json!({"ipaddress": "192.0.2.1"}));
//! // ... point a client at sim.site_url() with `Bearer automation test-secret` ...
//! assert_eq!(sim.pending_changes(), 0);
//! # Ok(())
//! # }
//! ```
//!
//! The server runs on its own thread (an actix system with one worker) and stops when the
//! [`Sim`] is dropped. See `checkmk-sim/README.md` for every endpoint, the knobs and where
//! CheckMK's documentation was silent.

mod api;
mod server;
mod state;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;

use state::{Host, State, normalize_folder};

/// How the simulated site behaves. Every field can be changed later through [`Sim`] setters
/// where one exists.
#[derive(Debug, Clone)]
pub struct Options {
    /// Site name, the first path segment (`/cmk/check_mk/api/1.0`).
    pub site: String,
    /// Automation user accepted in `Authorization: Bearer <user> <secret>`.
    pub user: String,
    /// The automation user's secret.
    pub secret: String,
    /// Delay added before every answer.
    pub latency: Duration,
    /// Hosts whose `GET`/`PUT`/`DELETE /objects/host_config/{name}` and move answer 500.
    pub fail_hosts: Vec<String>,
    /// Answer a host move with 428 "Pending changes" while changes are pending.
    pub refuse_move_while_pending: bool,
    /// How long an activation run stays `is_running`.
    pub activation_time: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            site: "cmk".into(),
            user: "automation".into(),
            secret: "test-secret".into(),
            latency: Duration::ZERO,
            fail_hosts: Vec::new(),
            refuse_move_while_pending: true,
            activation_time: Duration::from_millis(200),
        }
    }
}

/// A running simulator bound to `127.0.0.1:PORT`; dropping it stops the server.
pub struct Sim {
    state: Arc<Mutex<State>>,
    port: u16,
    site: String,
    handle: actix_web::dev::ServerHandle,
}

impl Sim {
    /// Binds `127.0.0.1:0` and starts serving.
    pub async fn start(options: Options) -> std::io::Result<Sim> {
        Sim::start_on(options, 0).await
    }

    /// Like [`Sim::start`] on a chosen port (0: any free port). Binds 127.0.0.1 only.
    pub async fn start_on(options: Options, port: u16) -> std::io::Result<Sim> {
        let state = Arc::new(Mutex::new(State::new(&options)));
        let (handle, port) = server::spawn(state.clone(), port).await?;
        Ok(Sim {
            state,
            port,
            site: options.site,
            handle,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// What a user types as the site URL: `http://127.0.0.1:PORT/cmk`.
    pub fn site_url(&self) -> String {
        format!("http://127.0.0.1:{}/{}", self.port, self.site)
    }

    /// `site_url() + "/check_mk/api/1.0"`.
    pub fn api_base(&self) -> String {
        format!("{}/check_mk/api/1.0", self.site_url())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.settle();
        state
    }

    /// Adds a folder (`/network/dc1` or `~network~dc1`) and its missing parents, without a
    /// pending change.
    pub fn add_folder(&self, path: &str) {
        self.lock().seed_folder(path);
    }

    /// Adds (or replaces) a host, creating its folder if needed, without a pending change.
    /// `attributes` should be a JSON object; anything else counts as no attributes.
    pub fn add_host(&self, name: &str, folder: &str, attributes: Value) {
        let mut state = self.lock();
        state.seed_folder(folder);
        let mut attributes = attributes.as_object().cloned().unwrap_or_default();
        attributes.insert("meta_data".into(), state.meta_data());
        state.hosts.insert(
            name.to_string(),
            Host {
                folder: normalize_folder(folder),
                attributes,
            },
        );
    }

    /// A host's folder (`/network/dc1`) and attributes as the API shows them (with
    /// `meta_data`).
    pub fn host(&self, name: &str) -> Option<(String, Value)> {
        self.lock()
            .hosts
            .get(name)
            .map(|h| (h.folder.clone(), Value::Object(h.attributes.clone())))
    }

    /// Number of changes waiting for activation.
    pub fn pending_changes(&self) -> usize {
        self.lock().pending.len()
    }

    pub fn set_secret(&self, secret: &str) {
        self.lock().secret = secret.to_string();
    }

    pub fn set_fail_hosts(&self, hosts: Vec<String>) {
        self.lock().fail_hosts = hosts;
    }

    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    pub fn set_refuse_move_while_pending(&self, refuse: bool) {
        self.lock().refuse_move_while_pending = refuse;
    }

    /// Every request so far: method and path after the API base (`/version`), without the
    /// query string. Requests outside the API base are logged with their full path.
    pub fn requests(&self) -> Vec<(String, String)> {
        self.lock().requests.clone()
    }

    /// Stops the server and waits until it has stopped.
    pub async fn shutdown(self) {
        self.handle.stop(false).await;
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        // The stop command is sent when `stop` is called; waiting for it is optional.
        drop(self.handle.stop(false));
    }
}
