//! Spare stream buffers: a connection that ends gives its send and receive buffers back, and
//! the next connection to need one takes it, so that short connections cost no allocation
//! once the endpoint is warm (as Linux's slab caches recycle socket memory).
//!
//! Bounded twice: at most `MAX_SPARE` buffers wait here, and a buffer that grew past
//! `MAX_POOLED_CAPACITY` is freed instead, so the pool never holds much. A connection still
//! takes a buffer only when it first has data, so an idle connection holds none.

use std::collections::VecDeque;

const MAX_SPARE: usize = 64;
const MAX_POOLED_CAPACITY: usize = 16 * 1024;

#[derive(Debug, Default)]
pub(crate) struct BufferPool {
    spare: Vec<VecDeque<u8>>,
}

impl BufferPool {
    /// Gives `buf` an allocation from the pool if it has none yet.
    pub fn fill(&mut self, buf: &mut VecDeque<u8>) {
        if buf.capacity() == 0 {
            if let Some(spare) = self.spare.pop() {
                *buf = spare;
            }
        }
    }

    /// Takes `buf`'s allocation back (leaving it empty) if there is room and it is small.
    pub fn give(&mut self, buf: &mut VecDeque<u8>) {
        let mut buf = std::mem::take(buf);
        if buf.capacity() > 0 && buf.capacity() <= MAX_POOLED_CAPACITY && self.spare.len() < MAX_SPARE {
            buf.clear();
            self.spare.push(buf);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.spare.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_returned_buffer_is_reused_empty() {
        let mut pool = BufferPool::default();
        let mut a: VecDeque<u8> = VecDeque::new();
        a.extend(b"hello");
        let cap = a.capacity();
        pool.give(&mut a);
        assert_eq!((a.capacity(), pool.len()), (0, 1));
        let mut b = VecDeque::new();
        pool.fill(&mut b);
        assert_eq!((b.len(), b.capacity(), pool.len()), (0, cap, 0));
    }

    #[test]
    fn large_buffers_and_buffers_past_the_limit_are_freed() {
        let mut pool = BufferPool::default();
        let mut big: VecDeque<u8> = VecDeque::with_capacity(MAX_POOLED_CAPACITY + 1);
        pool.give(&mut big);
        assert_eq!(pool.len(), 0);
        for _ in 0..MAX_SPARE + 10 {
            let mut small: VecDeque<u8> = VecDeque::with_capacity(64);
            pool.give(&mut small);
        }
        assert_eq!(pool.len(), MAX_SPARE);
    }

    #[test]
    fn a_buffer_that_has_an_allocation_keeps_it() {
        let mut pool = BufferPool::default();
        let mut spare: VecDeque<u8> = VecDeque::with_capacity(64);
        pool.give(&mut spare);
        let mut own: VecDeque<u8> = VecDeque::with_capacity(8);
        own.push_back(1);
        pool.fill(&mut own);
        assert_eq!((own.len(), pool.len()), (1, 1));
    }
}
