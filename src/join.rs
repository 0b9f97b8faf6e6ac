//! Waiting for several futures at once on the current task, without an executor of our own and
//! without the `futures` crate.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;

/// Runs `futures` concurrently and returns their outputs in their order. Each wake polls every
/// future still pending: the lists here are short (the lookups of one round, at most the bound of
/// one evaluation).
pub(crate) async fn join_all<F: Future + Unpin>(futures: Vec<F>) -> Vec<F::Output> {
    let mut slots: Vec<Slot<F>> = futures.into_iter().map(Slot::Waiting).collect();
    poll_fn(|cx| {
        let mut waiting = false;
        for slot in slots.iter_mut() {
            if let Slot::Waiting(future) = slot {
                match Pin::new(future).poll(cx) {
                    Poll::Ready(value) => *slot = Slot::Done(value),
                    Poll::Pending => waiting = true,
                }
            }
        }
        if waiting {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    slots
        .into_iter()
        .filter_map(|slot| match slot {
            Slot::Done(value) => Some(value),
            Slot::Waiting(_) => None,
        })
        .collect()
}

/// A future of [`join_all`], then its output.
enum Slot<F: Future> {
    Waiting(F),
    Done(F::Output),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::{Context, Waker};

    #[test]
    fn outputs_come_in_order_once_all_are_ready() {
        // The second future needs two polls, the others one.
        let mut polls = 0;
        let slow = poll_fn(move |cx| {
            polls += 1;
            if polls < 2 {
                cx.waker().wake_by_ref();
                Poll::Pending
            } else {
                Poll::Ready(2)
            }
        });
        let futures: Vec<Pin<Box<dyn Future<Output = i32>>>> =
            vec![Box::pin(async { 1 }), Box::pin(slow), Box::pin(async { 3 })];
        let mut all = std::pin::pin!(join_all(futures));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(all.as_mut().poll(&mut cx).is_pending());
        assert_eq!(all.as_mut().poll(&mut cx), Poll::Ready(vec![1, 2, 3]));
        let none: Vec<Pin<Box<dyn Future<Output = i32>>>> = Vec::new();
        let mut empty = std::pin::pin!(join_all(none));
        assert_eq!(empty.as_mut().poll(&mut cx), Poll::Ready(vec![]));
    }
}
