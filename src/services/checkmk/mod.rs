//! CheckMK, the monitoring system NetRaven keeps in step with the inventory: its connection
//! (`client`, the only code speaking its REST API; `probe`, the connection test), the mapping
//! from source devices to hosts (`rules`, `mapping`, `source`), what is done with hosts
//! (`hosts`), and the jobs comparing (`compare`) and acting on the comparison (`apply`).

pub mod apply;
pub mod client;
pub mod compare;
pub mod hosts;
pub mod mapping;
pub mod probe;
pub mod rules;
pub mod source;
