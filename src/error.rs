//! The domain error: what services, background workers, the scheduler and the command line
//! return. It knows nothing of HTTP; the web layer wraps it in `web::error::AppError`, which
//! decides the status and the page.

use std::panic::Location;

use sea_orm::DbErr;

use crate::crypto::CryptoError;
use crate::services::validation::FieldErrors;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found")]
    NotFound,
    /// Input that failed validation, with a message per field; a form shows them beside its
    /// fields, the command line prints them.
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// The change collides with what is stored (a name in use, a device in a running job).
    #[error("{0}")]
    Conflict(String),
    /// Well-formed, but it cannot be done as asked: nothing selected, a target that no longer
    /// exists, a state that does not allow it.
    #[error("{0}")]
    Refused(String),
    /// The acting user lacks permissions the change needs (granting rights one does not hold).
    #[error("missing permission: {}", .missing.join(", "))]
    NotPermitted { missing: Vec<&'static str> },
    /// A query failed; `at` is the service code that ran it, so the log names the operation.
    #[error("database error in {at}: {source}")]
    Db {
        source: DbErr,
        at: &'static Location<'static>,
    },
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("{0}")]
    Internal(String),
}

/// `?` on a query records where it ran: `#[track_caller]` makes `Location::caller()` the `?`.
impl From<DbErr> for Error {
    #[track_caller]
    fn from(source: DbErr) -> Self {
        Error::Db {
            source,
            at: Location::caller(),
        }
    }
}

impl Error {
    /// A fault of the database's storage that passes by itself or by an operator's hand
    /// (nothing the request did wrong), in words for the person who sees it.
    pub fn storage_unavailable(&self) -> Option<&'static str> {
        let Error::Db { source, .. } = self else {
            return None;
        };
        if matches!(source, DbErr::ConnectionAcquire(_)) {
            return Some("the database does not answer");
        }
        let text = source.to_string();
        if text.contains("database or disk is full") {
            Some("the disk that holds the database is full")
        } else if text.contains("database is locked") {
            Some("another program holds the database's write lock")
        } else {
            None
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn failing_query() -> Result<(), DbErr> {
        Err(DbErr::Custom("no such table".into()))
    }

    fn operation() -> Result<()> {
        failing_query()?;
        Ok(())
    }

    #[test]
    fn a_database_error_names_where_it_ran() {
        let message = operation().unwrap_err().to_string();
        assert!(
            message.starts_with("database error in src/error.rs:"),
            "{message}"
        );
        assert!(message.contains("no such table"), "{message}");
    }
}
