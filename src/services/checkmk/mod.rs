//! CheckMK, the monitoring system NetRaven keeps in step with the inventory: its connection
//! (`client`, the only code speaking its REST API) and the connection test (`probe`).

pub mod client;
pub mod probe;
