//! Background work beside the web server (device sessions, queue polls, the scheduler) runs on
//! threads of lower CPU priority than the threads that serve pages: at the start of a big job a
//! thousand SSH handshakes want both cores at once, and a person opening a page should not wait
//! behind them. The job barely notices, since pages take little CPU; the kernel gives the
//! background threads every cycle the web threads leave.

use std::sync::Once;

/// The nice value of background threads: a tenth of a web thread's share when both want a core.
const NICE: i32 = 10;

/// A runtime whose threads (and the threads they start, such as SQLite's connection threads,
/// which inherit the priority) run at lower priority.
pub struct Background(Option<tokio::runtime::Runtime>);

impl Background {
    pub fn new() -> std::io::Result<Background> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .thread_name("netraven-background")
            .on_thread_start(lower_this_thread)
            .enable_all()
            .build()?;
        Ok(Background(Some(runtime)))
    }

    pub fn handle(&self) -> Option<tokio::runtime::Handle> {
        self.0.as_ref().map(|r| r.handle().clone())
    }
}

impl Drop for Background {
    /// Without waiting: it may be dropped inside another runtime, where blocking is not allowed,
    /// and its tasks have been stopped (or are to be abandoned) by then.
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

fn lower_this_thread() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid has no preconditions; setpriority with PRIO_PROCESS and a thread id
        // changes that one thread's nice value on Linux, and only reports failure.
        let failed = unsafe {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, NICE) != 0
        };
        if failed {
            static WARNED: Once = Once::new();
            let error = std::io::Error::last_os_error();
            WARNED.call_once(|| {
                tracing::warn!(%error, "cannot lower the CPU priority of background threads; pages may be slower during big jobs");
            });
        }
    }
}
