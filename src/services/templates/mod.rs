//! Configuration templates: stored with version history (`store`), checked by kind (`check`,
//! with the TextFSM engine in `textfsm`), and rendered against a device (`render` for the
//! engine, `context` for what a template sees, `rendering` for one template and many devices),
//! and kept in a git repository (`git_source`).

pub mod check;
pub mod context;
pub mod git_source;
pub mod pre_run;
pub mod render;
pub mod rendering;
pub mod store;
pub mod textfsm;
