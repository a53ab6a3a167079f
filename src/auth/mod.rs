//! Authentication and authorisation: passwords, server-side sessions, API tokens, permissions,
//! CSRF.

pub mod bearer;
pub mod csrf;
pub mod extract;
pub mod flash;
pub mod password;
pub mod permissions;
pub mod session_store;

pub use extract::{Auth, Ctx, SignedIn};
pub use permissions::Permissions;
