//! The tag list that list pages show in their filters, kept for a few seconds per process: it is
//! read on every device-list request and changes rarely. This process drops it whenever it
//! changes a tag; other nodes see a change within `TTL`.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sea_orm::{DatabaseConnection, DbErr};

use crate::entity::tags;
use crate::services;

const TTL: Duration = Duration::from_secs(5);

/// Each tag behind its own `Arc`, so that the rows of a list share them instead of copying.
pub type Tags = Arc<Vec<Arc<tags::Model>>>;

type Entry = (Instant, Tags);

#[derive(Default)]
pub struct TagCache(RwLock<Option<Entry>>);

impl TagCache {
    pub async fn get(&self, db: &DatabaseConnection) -> Result<Tags, DbErr> {
        if let Ok(guard) = self.0.read()
            && let Some((at, list)) = guard.as_ref()
            && at.elapsed() < TTL
        {
            return Ok(list.clone());
        }
        let fresh: Tags = Arc::new(
            services::tags::all(db)
                .await?
                .into_iter()
                .map(Arc::new)
                .collect(),
        );
        if let Ok(mut guard) = self.0.write() {
            *guard = Some((Instant::now(), fresh.clone()));
        }
        Ok(fresh)
    }

    pub fn invalidate(&self) {
        if let Ok(mut guard) = self.0.write() {
            *guard = None;
        }
    }
}
