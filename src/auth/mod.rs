//! Authentication and authorisation: passwords, server-side sessions, permissions, CSRF.

pub mod csrf;
pub mod extract;
pub mod flash;
pub mod password;
pub mod permissions;
pub mod session_store;

pub use extract::{Auth, Ctx, SignedIn};
pub use permissions::Permissions;
