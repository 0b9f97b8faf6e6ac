//! Target names (RFC 7208 §4.8 `target-name`): the name a mechanism or modifier acts on, either the
//! text of a plain domain-spec or the expansion of one with macros.
//!
//! Expansions are written into a buffer kept per thread and given back when the name is dropped, so
//! that evaluating `exists:%{i}._spf.%{d}` does not allocate once the thread has used it.

use std::cell::Cell;
use std::ops::Deref;

/// The capacity of a new buffer: a name of up to 253 bytes, or a longer expansion before it is
/// truncated to one, fits without growing.
const CAPACITY: usize = 320;
/// A buffer that grew larger than this (long expansions, hostile input) is not kept.
const SPARE_CAPACITY: usize = 1024;

thread_local! {
    /// The thread's spare buffer (one: only nested `include:`s with macros hold several names).
    static SPARE: Cell<Option<String>> = const { Cell::new(None) };
}

/// The name a mechanism or modifier acts on.
pub(crate) enum Target<'s> {
    /// The text of a plain domain-spec (or the current domain).
    Spec(&'s str),
    /// An expansion.
    Built(Built),
}

impl Target<'_> {
    /// The name as an owned string (for an error or an outcome that outlives the evaluation).
    pub(crate) fn into_owned(self) -> String {
        match self {
            Target::Spec(name) => name.to_owned(),
            Target::Built(built) => built.as_str().to_owned(),
        }
    }
}

impl Deref for Target<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            Target::Spec(name) => name,
            Target::Built(built) => built.as_str(),
        }
    }
}

/// A name built into the thread's spare buffer (or a new one), given back when dropped.
pub(crate) struct Built(String);

impl Built {
    /// An empty buffer: the thread's spare one when it is free.
    pub(crate) fn new() -> Self {
        let spare = SPARE.try_with(Cell::take).ok().flatten();
        Built(spare.unwrap_or_else(|| String::with_capacity(CAPACITY)))
    }

    /// The buffer, to write the name into.
    pub(crate) fn buffer(&mut self) -> &mut String {
        &mut self.0
    }

    fn as_str(&self) -> &str {
        &self.0
    }
}

impl Drop for Built {
    fn drop(&mut self) {
        let mut name = std::mem::take(&mut self.0);
        if name.capacity() == 0 || name.capacity() > SPARE_CAPACITY {
            return;
        }
        name.clear();
        // During the thread's teardown the spare may be gone: the buffer is then just freed.
        let _ = SPARE.try_with(|spare| spare.set(Some(name)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buffer_is_reused_and_bounded() {
        let mut a = Built::new();
        a.buffer().push_str("first.example");
        let at = a.buffer().as_ptr();
        let mut b = Built::new();
        assert_ne!(
            b.buffer().as_ptr(),
            at,
            "a buffer in use is not handed out twice"
        );
        drop(b);
        drop(a);
        let mut c = Built::new();
        assert!(c.buffer().is_empty(), "the spare comes back empty");
        assert_eq!(c.buffer().as_ptr(), at, "the spare is reused");
        let target = Target::Built(c);
        assert_eq!(&*target, "");
        drop(target);
        let mut big = Built::new();
        big.buffer().push_str(&"x".repeat(SPARE_CAPACITY + 1));
        drop(big);
        assert!(
            SPARE.take().is_none(),
            "a buffer grown past the cap is not kept"
        );
    }
}
