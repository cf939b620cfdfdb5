//! How a mount waits out a server it cannot reach: the one policy every call follows.
//!
//! Only `Unavailable` is retried (a refused connection, a 503, a timeout); any other answer
//! is the answer. Waits grow from 50 ms to 2 s, and stop once the mount's `--retry-for` has
//! passed since the first attempt. Time is tokio's, so tests run it paused.

use std::time::Duration;
use strata_core::{Error, ErrorKind};
use tokio::time::Instant;

const FIRST_WAIT: Duration = Duration::from_millis(50);
const LONGEST_WAIT: Duration = Duration::from_secs(2);

/// The waits of one call's attempts.
pub struct Backoff {
    deadline: Instant,
    wait: Duration,
}

impl Backoff {
    /// Attempts for up to `retry_for` from now.
    pub fn new(retry_for: Duration) -> Self {
        Backoff {
            deadline: Instant::now() + retry_for,
            wait: FIRST_WAIT,
        }
    }

    /// After an attempt failed with `e`: waits and says `true` when another attempt is due,
    /// or says `false` at once when `e` is final or the time is up.
    pub async fn retry_after(&mut self, e: &Error) -> bool {
        let now = Instant::now();
        if e.kind != ErrorKind::Unavailable || now >= self.deadline {
            return false;
        }
        // The last wait ends at the deadline, so a call gives up when `--retry-for` says.
        tokio::time::sleep(self.wait.min(self.deadline - now)).await;
        self.wait = (self.wait * 2).min(LONGEST_WAIT);
        true
    }
}

/// Runs `call` until it answers, waiting out an unreachable server for up to `retry_for`.
pub async fn retried<T, F: Future<Output = Result<T, Error>>>(
    retry_for: Duration,
    call: impl Fn() -> F,
) -> Result<T, Error> {
    let mut backoff = Backoff::new(retry_for);
    loop {
        match call().await {
            Err(e) if backoff.retry_after(&e).await => {}
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn down() -> Error {
        Error::new(ErrorKind::Unavailable, "down")
    }

    #[tokio::test(start_paused = true)]
    async fn waits_grow_and_stop_at_the_deadline() {
        let start = Instant::now();
        let mut backoff = Backoff::new(Duration::from_secs(10));
        let mut waits = Vec::new();
        let mut at = start;
        while backoff.retry_after(&down()).await {
            waits.push(at.elapsed().as_millis());
            at = Instant::now();
        }
        assert_eq!(waits, [50, 100, 200, 400, 800, 1600, 2000, 2000, 2000, 850]);
        // The last wait ends at the deadline, and none begins after it.
        assert_eq!(start.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn only_an_unreachable_server_is_waited_for() {
        let start = Instant::now();
        let mut backoff = Backoff::new(Duration::from_secs(10));
        assert!(!backoff.retry_after(&Error::not_found("gone")).await);
        assert!(!backoff.retry_after(&Error::new(ErrorKind::Stale, "stale")).await);
        assert_eq!(start.elapsed(), Duration::ZERO);
        assert!(!Backoff::new(Duration::ZERO).retry_after(&down()).await);
    }
}
