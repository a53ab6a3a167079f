//! How this process's background parts (the device and job workers, the scheduler) are doing:
//! each reports when it works and when it cannot, the log hears of a change of state once (not
//! of every retry), and `/healthz` shows the current states.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum State {
    Ok,
    /// It cannot do its work and is retrying.
    Degraded {
        reason: String,
        since: DateTime<Utc>,
    },
}

#[derive(Clone, Default)]
pub struct Health(Arc<Mutex<BTreeMap<&'static str, State>>>);

impl Health {
    pub fn ok(&self, part: &'static str) {
        let before = self.set(part, State::Ok);
        if let Some(State::Degraded { since, .. }) = before {
            let secs = (Utc::now() - since).num_seconds();
            tracing::info!(part, "{part} works again after {secs} s");
        }
    }

    /// `part` failed; the first failure after working is logged, the retries are not.
    pub fn degraded(&self, part: &'static str, reason: &str) {
        let mut states = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let since = match states.get(part) {
            Some(State::Degraded { since, .. }) => *since,
            _ => {
                tracing::error!(part, reason, "{part} cannot work; retrying until it can");
                Utc::now()
            }
        };
        states.insert(
            part,
            State::Degraded {
                reason: reason.chars().take(300).collect(),
                since,
            },
        );
    }

    fn set(&self, part: &'static str, state: State) -> Option<State> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(part, state)
    }

    /// The first part that has not worked for longer than `limit`, and why.
    pub fn stuck_longer_than(&self, limit: chrono::Duration) -> Option<(&'static str, String)> {
        let now = Utc::now();
        self.snapshot()
            .into_iter()
            .find_map(|(part, state)| match state {
                State::Degraded { reason, since } if now - since > limit => Some((part, reason)),
                _ => None,
            })
    }

    pub fn snapshot(&self) -> BTreeMap<&'static str, State> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_keeps_when_the_trouble_began_and_recovery_clears_it() {
        let health = Health::default();
        health.ok("devices");
        health.degraded("devices", "database is locked");
        let first = health.snapshot()["devices"].clone();
        health.degraded("devices", "database is locked again");
        let State::Degraded { reason, since } = health.snapshot()["devices"].clone() else {
            panic!("degraded expected");
        };
        assert_eq!(reason, "database is locked again");
        assert!(matches!(first, State::Degraded { since: s, .. } if s == since));
        assert_eq!(health.stuck_longer_than(chrono::Duration::minutes(1)), None);
        assert_eq!(
            health.stuck_longer_than(chrono::Duration::zero()),
            Some(("devices", "database is locked again".to_string()))
        );
        health.ok("devices");
        assert_eq!(health.snapshot()["devices"], State::Ok);
        assert_eq!(health.stuck_longer_than(chrono::Duration::zero()), None);
    }
}
