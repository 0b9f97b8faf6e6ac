//! An overall time limit that costs nothing when the work finishes without waiting.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

/// Runs `work` under `limit`: `None` when the limit ran out first.
///
/// The timer is only armed if `work` has to wait (its first poll is pending), so work answered from
/// memory or a cache never reads the clock. The timer needs a Tokio runtime with the time driver;
/// outside Tokio the limit is not applied.
pub(crate) async fn within<F: Future>(limit: Option<Duration>, work: F) -> Option<F::Output> {
    let mut work = pin!(work);
    if let Poll::Ready(out) = poll_fn(|cx| Poll::Ready(work.as_mut().poll(cx))).await {
        return Some(out);
    }
    match limit {
        Some(limit) if tokio::runtime::Handle::try_current().is_ok() => {
            tokio::time::timeout(limit, work).await.ok()
        }
        _ => Some(work.await),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ready_work_is_not_timed() {
        assert_eq!(within(Some(Duration::ZERO), async { 7 }).await, Some(7));
    }

    #[tokio::test]
    async fn pending_work_times_out() {
        let out = within(
            Some(Duration::from_millis(20)),
            std::future::pending::<()>(),
        )
        .await;
        assert_eq!(out, None);
    }

    #[tokio::test]
    async fn waiting_work_finishes_within_the_limit() {
        let work = async {
            tokio::task::yield_now().await;
            5
        };
        assert_eq!(within(Some(Duration::from_secs(5)), work).await, Some(5));
        assert_eq!(within(None, async { 1 }).await, Some(1));
    }
}
