//! The shared, mutable state of one running device: its added configuration lines, the cached
//! rendering of its configuration, its save counter, its current enable secret and host key.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use russh::keys::PublicKey;

use crate::error::SimError;
use crate::keys;
use crate::render::{self, ConfigView, Identity, Template};
use crate::server::ssh_config;
use crate::spec::DeviceSpec;

/// One simulated device, shared by its listener and all its sessions.
#[derive(Debug)]
pub(crate) struct Device {
    pub(crate) spec: DeviceSpec,
    pub(crate) identity: Identity,
    state: Mutex<State>,
    sessions_served: AtomicU64,
    saves: AtomicUsize,
}

#[derive(Debug)]
struct State {
    /// Lines added since start (configuration modes, `Sim::change_config`), in order.
    extra: Vec<String>,
    /// Bumped on every content change; invalidates `cache`.
    revision: u64,
    /// Stable renderings per view, tagged with the revision they were built from.
    cache: [Option<(u64, Arc<Template>)>; ConfigView::COUNT],
    enable_secret: Option<String>,
    key_generation: u32,
    ssh: Arc<russh::server::Config>,
    public_key: PublicKey,
}

impl Device {
    pub(crate) fn new(spec: DeviceSpec) -> Result<Device, SimError> {
        let identity = Identity::new(spec.platform, &spec.hostname, spec.seed, spec.config_lines);
        let key = keys::host_key(spec.seed, &spec.hostname, 0, spec.legacy_only)?;
        let public_key = key.public_key().clone();
        let state = State {
            extra: Vec::new(),
            revision: 0,
            cache: Default::default(),
            enable_secret: spec.enable_secret.clone(),
            key_generation: 0,
            ssh: Arc::new(ssh_config(&spec, key)),
            public_key,
        };
        Ok(Device {
            spec,
            identity,
            state: Mutex::new(state),
            sessions_served: AtomicU64::new(0),
            saves: AtomicUsize::new(0),
        })
    }

    /// The lock is never held across an await or while rendering, and no code panics while
    /// holding it; a poisoned lock still holds consistent data, so it is used anyway.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The configuration's template for `view`, rebuilt only after a change.
    pub(crate) fn config(&self, view: ConfigView) -> Arc<Template> {
        let (revision, extra) = {
            let state = self.state();
            if let Some((rev, template)) = &state.cache[view.index()]
                && *rev == state.revision
            {
                return Arc::clone(template);
            }
            (state.revision, state.extra.clone())
        };
        // Rendering happens outside the lock; a concurrent change just makes this copy stale.
        let template = Arc::new(render::config(&self.identity, &extra, view));
        let mut state = self.state();
        if state.revision == revision {
            state.cache[view.index()] = Some((revision, Arc::clone(&template)));
        }
        template
    }

    pub(crate) fn add_config_line(&self, line: &str) {
        self.edit_config(|extra| extra.push(line.to_string()));
    }

    /// Changes the added lines in one step: sessions never see half of a commit.
    pub(crate) fn edit_config<R>(&self, edit: impl FnOnce(&mut Vec<String>) -> R) -> R {
        let mut state = self.state();
        let result = edit(&mut state.extra);
        state.revision += 1;
        result
    }

    /// Counts a save of the configuration (`write memory`, a commit that is the save, ...).
    pub(crate) fn count_save(&self) {
        self.saves.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn saves(&self) -> usize {
        self.saves.load(Ordering::Relaxed)
    }

    pub(crate) fn enable_secret(&self) -> Option<String> {
        self.state().enable_secret.clone()
    }

    pub(crate) fn set_enable_secret(&self, secret: Option<String>) {
        self.state().enable_secret = secret;
    }

    /// The SSH server configuration new connections use (it holds the current host key).
    pub(crate) fn ssh_config(&self) -> Arc<russh::server::Config> {
        Arc::clone(&self.state().ssh)
    }

    pub(crate) fn public_key(&self) -> PublicKey {
        self.state().public_key.clone()
    }

    /// Moves to the next host key; connections made afterwards see it.
    pub(crate) fn rotate_host_key(&self) -> Result<PublicKey, SimError> {
        let generation = self.state().key_generation + 1;
        let key = keys::host_key(
            self.spec.seed,
            &self.spec.hostname,
            generation,
            self.spec.legacy_only,
        )?;
        let public_key = key.public_key().clone();
        let ssh = Arc::new(ssh_config(&self.spec, key));
        let mut state = self.state();
        state.key_generation = generation;
        state.ssh = ssh;
        state.public_key = public_key.clone();
        Ok(public_key)
    }

    pub(crate) fn count_session(&self) {
        self.sessions_served.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn sessions_served(&self) -> u64 {
        self.sessions_served.load(Ordering::Relaxed)
    }
}
