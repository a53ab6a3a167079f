//! Background work: the queue (apalis on the application's database), the workers that back up
//! devices and run retention, and the scheduler tick.

pub mod backup;
pub mod health;
pub mod priority;
pub mod queue;
pub mod scheduler;
pub mod wakeup;
pub mod worker;

pub use health::Health;
pub use queue::Queue;
pub use worker::Runner;
