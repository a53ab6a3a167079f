//! When a worker looks for new tasks: every `POLL`, and at once when this process hands its queue
//! work (the web side of `serve` and its workers share the process).
//!
//! apalis's own interval strategy arms its next delay without polling it, so when a fetch
//! finished in the same poll the worker slept until its next heartbeat (5 s): a "Back up now"
//! sometimes waited 2.5 s before its first device started. This strategy keeps its timer armed
//! and registered on every poll.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use apalis::prelude::{PollSnapshot, PollStrategy};
use futures_util::task::AtomicWaker;
use tokio::time::{Instant, Sleep};

/// A worker's doorbell: set by `nudge`, taken by the worker's next poll.
#[derive(Default)]
struct Bell {
    rung: AtomicBool,
    waker: AtomicWaker,
}

/// The bells of this process's workers, by queue name.
static BELLS: Mutex<Vec<(&'static str, Weak<Bell>)>> = Mutex::new(Vec::new());

/// Wake this process's workers of `queue` now (a task was just added).
pub fn nudge(queue: &str) {
    let Ok(mut bells) = BELLS.lock() else {
        return;
    };
    bells.retain(|(_, bell)| bell.strong_count() > 0);
    for bell in bells
        .iter()
        .filter(|(name, _)| *name == queue)
        .filter_map(|(_, bell)| bell.upgrade())
    {
        bell.rung.store(true, Ordering::Release);
        bell.waker.wake();
    }
}

/// The poll strategy of one worker of `queue`.
pub fn strategy(queue: &'static str, every: Duration) -> Wakeup {
    let bell = Arc::new(Bell::default());
    if let Ok(mut bells) = BELLS.lock() {
        bells.push((queue, Arc::downgrade(&bell)));
    }
    Wakeup {
        bell,
        every,
        timer: Box::pin(tokio::time::sleep(every)),
    }
}

pub struct Wakeup {
    bell: Arc<Bell>,
    every: Duration,
    timer: Pin<Box<Sleep>>,
}

impl PollStrategy for Wakeup {
    fn poll_drive(&mut self, cx: &mut Context<'_>, _: &PollSnapshot) -> Poll<Option<()>> {
        self.bell.waker.register(cx.waker());
        let rung = self.bell.rung.swap(false, Ordering::AcqRel);
        let mut ticked = false;
        // Re-arm and poll again until the timer is pending, so it always holds our waker.
        while self.timer.as_mut().poll(cx).is_ready() {
            ticked = true;
            let next = Instant::now() + self.every;
            self.timer.as_mut().reset(next);
        }
        if rung || ticked {
            Poll::Ready(Some(()))
        } else {
            Poll::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Polls a strategy the way an idle apalis worker does: once per wake-up, and after a
    /// `Ready` not again until something wakes it. Counts the `Ready`s within `window`.
    async fn readies_within(mut wakeup: Wakeup, window: Duration, ring: Option<&str>) -> usize {
        let mut readies = 0;
        let driven = std::future::poll_fn(|cx| {
            if wakeup.poll_drive(cx, &PollSnapshot::default()).is_ready() {
                readies += 1;
            }
            Poll::<()>::Pending
        });
        if let Some(queue) = ring {
            tokio::spawn({
                let queue = queue.to_string();
                async move {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    nudge(&queue);
                }
            });
        }
        let _ = tokio::time::timeout(window, driven).await;
        readies
    }

    #[tokio::test]
    async fn the_timer_keeps_waking_an_idle_worker() {
        let wakeup = strategy("test.timer", Duration::from_millis(20));
        let readies = readies_within(wakeup, Duration::from_millis(300), None).await;
        assert!(readies >= 5, "woken {readies} times in 300 ms at 20 ms");
    }

    #[tokio::test]
    async fn a_nudge_wakes_the_workers_of_its_queue_at_once() {
        let every = Duration::from_secs(3600);
        let woken = readies_within(
            strategy("test.nudged", every),
            Duration::from_millis(200),
            Some("test.nudged"),
        );
        let other = readies_within(
            strategy("test.other", every),
            Duration::from_millis(200),
            None,
        );
        let (woken, other) = tokio::join!(woken, other);
        assert_eq!((woken, other), (1, 0));
    }
}
