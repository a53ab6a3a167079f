//! How bytes reach a device's CLI. The session logic (`session.rs`) sees only [`Transport`], so a
//! telnet transport can be added beside SSH without touching it.

pub mod ssh;

use std::future::Future;

/// The other side closed the session.
#[derive(Debug, Clone, Copy)]
pub struct Closed;

/// An interactive terminal session with a device.
pub trait Transport: Send {
    /// Type bytes at the terminal.
    fn send(&mut self, data: &[u8]) -> impl Future<Output = Result<(), Closed>> + Send;
    /// The next chunk of terminal output; `None` once the device has closed the session.
    fn recv(&mut self) -> impl Future<Output = Option<Vec<u8>>> + Send;
    /// End the session politely (the device may already be gone).
    fn close(self) -> impl Future<Output = ()> + Send;
}
