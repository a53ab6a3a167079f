//! Nautobot, the source of truth: its connection (`client`, the only code speaking its API),
//! sources and the platform mapping (`sources`), how a Nautobot device becomes a NetRaven
//! device (`mapping`), the `nautobot_sync` job (`sync`), the connection test (`probe`), the
//! last-backup write-back after backup jobs (`write_back`) and *Add to Nautobot* (`onboard`).

pub mod client;
pub mod mapping;
pub mod onboard;
pub mod probe;
pub mod sources;
pub mod sync;
pub mod write_back;
