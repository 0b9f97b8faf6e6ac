//! An overall time limit that costs nothing when the work finishes without waiting, and that works
//! on any executor.
//!
//! The limit is kept by this crate's own timer thread rather than by `tokio::time`: Tokio's timers
//! panic on a runtime built without the time driver (`enable_time`), and a runtime handle does not
//! tell whether it has one, so a library cannot know in advance whether `tokio::time::timeout` would
//! panic. The thread (`sender-identity-timer`) is started the first time an evaluation has to wait,
//! sleeps until the earliest deadline, and wakes the tasks whose limit ran out. If it cannot be
//! started, no limit is applied (the resolver's own timeouts still bound the work).

use std::collections::BTreeMap;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Runs `work` under `limit`: `None` when the limit ran out first.
///
/// The timer is only armed if `work` has to wait (its first poll is pending), so work answered from
/// memory or a cache never reads the clock.
pub(crate) async fn within<F: Future>(limit: Option<Duration>, work: F) -> Option<F::Output> {
    let mut work = pin!(work);
    if let Poll::Ready(out) = poll_fn(|cx| Poll::Ready(work.as_mut().poll(cx))).await {
        return Some(out);
    }
    let Some(limit) = limit else {
        return Some(work.await);
    };
    // A limit too far ahead to represent is no limit.
    let Some(deadline) = Instant::now().checked_add(limit) else {
        return Some(work.await);
    };
    let mut alarm = Alarm::new(deadline);
    poll_fn(|cx| {
        if let Poll::Ready(out) = work.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        match alarm.poll(cx) {
            Poll::Ready(()) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// The process's timer: deadlines (with a sequence number, as two may be equal) and the wakers of
/// the tasks waiting for them.
struct Timer {
    alarms: Mutex<Alarms>,
    /// Signalled when a deadline is added that comes before the thread would wake by itself.
    earlier: Condvar,
}

#[derive(Default)]
struct Alarms {
    waiting: BTreeMap<(Instant, u64), Waker>,
    next: u64,
    /// When the timer thread last went to sleep, the instant it set to wake up at by itself
    /// (`None`: no deadline, it sleeps until signalled). A deadline at or after it needs no
    /// signal: the thread wakes in time and looks again. So checks one after another, each with
    /// a deadline later than the one before, signal the thread (a system call and a context
    /// switch) once per time limit, not once per check.
    wakes_at: Option<Instant>,
}

impl Timer {
    /// The timer, its thread started on first use; `None` if the thread cannot be started.
    ///
    /// The first use waits until the thread is running: the thread's own start-up (the standard
    /// library allocates its name there) then happens within that first use, not at some later
    /// moment in the middle of the caller's work.
    fn get() -> Option<&'static Timer> {
        static TIMER: OnceLock<Option<&'static Timer>> = OnceLock::new();
        *TIMER.get_or_init(|| {
            let timer: &'static Timer = Box::leak(Box::new(Timer {
                alarms: Mutex::new(Alarms::default()),
                earlier: Condvar::new(),
            }));
            let (started, running) = std::sync::mpsc::sync_channel::<()>(0);
            std::thread::Builder::new()
                .name("sender-identity-timer".into())
                .spawn(move || {
                    // Dropped: the receiver sees the thread has started.
                    drop(started);
                    timer.run()
                })
                .ok()?;
            let _ = running.recv();
            Some(timer)
        })
    }

    // A panic while the lock was held cannot leave the map inconsistent: use it anyway.
    fn lock(&self) -> MutexGuard<'_, Alarms> {
        self.alarms.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sleeps until the earliest deadline, then wakes (and forgets) every task whose deadline passed.
    fn run(&self) {
        let mut alarms = self.lock();
        loop {
            let now = Instant::now();
            let mut due = Vec::new();
            while let Some(entry) = alarms.waiting.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                due.push(entry.remove());
            }
            if !due.is_empty() {
                drop(alarms);
                due.into_iter().for_each(Waker::wake);
                alarms = self.lock();
                continue;
            }
            let first = alarms.waiting.keys().next().map(|&(at, _)| at);
            alarms.wakes_at = first;
            alarms = match first {
                Some(at) => {
                    let wait = at.saturating_duration_since(now);
                    let (guard, _) = self
                        .earlier
                        .wait_timeout(alarms, wait)
                        .unwrap_or_else(|e| e.into_inner());
                    guard
                }
                None => self.earlier.wait(alarms).unwrap_or_else(|e| e.into_inner()),
            };
        }
    }
}

/// One task's deadline, registered with the [`Timer`] while the task waits; unregistered on drop.
struct Alarm {
    deadline: Instant,
    /// The key under which the waker is registered, while it is.
    key: Option<(Instant, u64)>,
}

impl Alarm {
    fn new(deadline: Instant) -> Self {
        Alarm {
            deadline,
            key: None,
        }
    }

    /// Ready once the deadline has passed; otherwise registers (or refreshes) the task's waker.
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            self.cancel();
            return Poll::Ready(());
        }
        let Some(timer) = Timer::get() else {
            return Poll::Pending;
        };
        let mut alarms = timer.lock();
        match self.key {
            // Still registered: keep the latest waker (the task may have moved).
            Some(key) if alarms.waiting.contains_key(&key) => {
                if let Some(waker) = alarms.waiting.get_mut(&key)
                    && !waker.will_wake(cx.waker())
                {
                    waker.clone_from(cx.waker());
                }
            }
            // Woken by the timer in the instant before the deadline (a coarse sleep): register
            // again; or registered for the first time.
            _ => {
                let key = (self.deadline, alarms.next);
                alarms.next += 1;
                // Awake, the thread looks at the map before it sleeps again; asleep, it needs a
                // signal only if this deadline comes before it wakes by itself.
                let sooner = alarms.wakes_at.is_none_or(|at| self.deadline < at);
                alarms.waiting.insert(key, cx.waker().clone());
                self.key = Some(key);
                if sooner {
                    alarms.wakes_at = Some(self.deadline);
                    timer.earlier.notify_one();
                }
            }
        }
        Poll::Pending
    }

    fn cancel(&mut self) {
        if let (Some(key), Some(timer)) = (self.key.take(), Timer::get()) {
            timer.lock().waiting.remove(&key);
        }
    }
}

impl Drop for Alarm {
    fn drop(&mut self) {
        self.cancel();
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
        assert_eq!(
            within(Some(Duration::MAX), async {
                tokio::task::yield_now().await;
                2
            })
            .await,
            Some(2),
            "a limit past the clock's range is no limit"
        );
    }

    #[tokio::test]
    async fn an_earlier_deadline_wakes_the_timer_and_a_later_one_is_kept() {
        // The timer thread sleeps until the 28 s deadline (under the 30 s that the test of
        // unregistered alarms looks for); a 20 ms one must wake it.
        let long = tokio::spawn(within(
            Some(Duration::from_secs(28)),
            std::future::pending::<()>(),
        ));
        tokio::task::yield_now().await;
        let short = within(
            Some(Duration::from_millis(20)),
            std::future::pending::<()>(),
        );
        let later = within(
            Some(Duration::from_millis(40)),
            std::future::pending::<()>(),
        );
        // The guard only keeps a failure from hanging the suite for a minute.
        let both = tokio::time::timeout(Duration::from_secs(10), async {
            tokio::join!(short, later)
        });
        assert_eq!(both.await, Ok((None, None)));
        long.abort();
    }

    #[test]
    fn the_limit_holds_without_tokio_timers_or_tokio() {
        // A runtime without the time driver, where `tokio::time` panics.
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let out = rt.block_on(within(
            Some(Duration::from_millis(20)),
            std::future::pending::<()>(),
        ));
        assert_eq!(out, None);
        let work = async {
            tokio::task::yield_now().await;
            3
        };
        assert_eq!(
            rt.block_on(within(Some(Duration::from_secs(5)), work)),
            Some(3)
        );
        // No runtime at all: a minimal executor that parks the thread until woken.
        let out = block_on(within(
            Some(Duration::from_millis(20)),
            std::future::pending::<()>(),
        ));
        assert_eq!(out, None);
    }

    #[test]
    fn finished_and_dropped_alarms_are_unregistered() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for _ in 0..10 {
            let work = async {
                tokio::task::yield_now().await;
            };
            rt.block_on(within(Some(Duration::from_secs(60)), work));
        }
        let timer = Timer::get().expect("the timer thread");
        let long = timer
            .lock()
            .waiting
            .keys()
            .filter(|(at, _)| {
                at.saturating_duration_since(Instant::now()) > Duration::from_secs(30)
            })
            .count();
        assert_eq!(long, 0, "no 60 s alarm is left registered");
    }

    /// A task polled again by another waker (it moved) is woken through that one at the deadline.
    #[test]
    fn the_latest_waker_is_woken() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        #[derive(Default)]
        struct Flag(AtomicBool);
        impl std::task::Wake for Flag {
            fn wake(self: Arc<Self>) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let (first, second) = (Arc::new(Flag::default()), Arc::new(Flag::default()));
        let (first_waker, second_waker) = (Waker::from(first.clone()), Waker::from(second.clone()));
        let mut alarm = Alarm::new(Instant::now() + Duration::from_millis(50));
        for waker in [&first_waker, &first_waker, &second_waker, &second_waker] {
            assert!(alarm.poll(&mut Context::from_waker(waker)).is_pending());
        }
        let started = Instant::now();
        while !second.0.load(Ordering::SeqCst) {
            assert!(started.elapsed() < Duration::from_secs(10), "never woken");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(!first.0.load(Ordering::SeqCst));
        assert!(
            alarm
                .poll(&mut Context::from_waker(&second_waker))
                .is_ready()
        );
    }

    /// Runs `fut` to completion on this thread, parking between polls.
    fn block_on<F: Future>(fut: F) -> F::Output {
        struct Unpark(std::thread::Thread);
        impl std::task::Wake for Unpark {
            fn wake(self: std::sync::Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Waker::from(std::sync::Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut fut = pin!(fut);
        loop {
            if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
                return out;
            }
            std::thread::park();
        }
    }
}
