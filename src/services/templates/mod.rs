//! Configuration templates: stored with version history (`store`), checked by kind (`check`,
//! with the TextFSM engine in `textfsm`), and rendered against a device (`render` for the
//! engine, `context` for what a template sees).

pub mod check;
pub mod context;
pub mod render;
pub mod store;
pub mod textfsm;
