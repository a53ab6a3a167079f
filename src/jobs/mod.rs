//! Background work: the queue (apalis on the application's database), the workers that back up
//! devices and run retention, and the scheduler tick.

pub mod queue;

pub use queue::Queue;
