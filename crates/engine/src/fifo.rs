//! A first-in first-out queue of small `Copy` records: a vector read from a moving head.
//!
//! The endpoint's queues (connections with output, control segments, events) are filled and
//! then drained to empty again and again. Here a push is a vector push, a pop moves the head,
//! and draining the last record rewinds both to the start. `VecDeque` pays for wrapping around
//! its ring on every push and pop instead: about twice the instructions per operation, on a
//! path every packet takes.

#[derive(Debug, Clone)]
pub(crate) struct Fifo<T: Copy> {
    items: Vec<T>,
    /// The index of the first record still queued; those before it have been taken. Below
    /// `items.len()` whenever there are any.
    head: usize,
}

impl<T: Copy> Default for Fifo<T> {
    fn default() -> Self {
        Fifo { items: Vec::new(), head: 0 }
    }
}

impl<T: Copy> Fifo<T> {
    #[inline]
    pub fn is_empty(&self) -> bool {
        // Taking the last record empties the vector, so the head is never at its end.
        self.items.is_empty()
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.items.len() - self.head
    }

    #[inline]
    pub fn push_back(&mut self, item: T) {
        if self.items.len() == self.items.capacity() {
            self.make_room();
        }
        self.items.push(item);
    }

    #[inline]
    pub fn front(&self) -> Option<&T> {
        self.items.get(self.head)
    }

    #[inline]
    pub fn pop_front(&mut self) -> Option<T> {
        let item = *self.items.get(self.head)?;
        self.head += 1;
        if self.head == self.items.len() {
            self.items.clear();
            self.head = 0;
        }
        Some(item)
    }

    /// The vector is full. A queue that never quite empties keeps moving its head up: when at
    /// least half of the vector has been taken, the taken part is dropped instead of the
    /// vector growing (each record moves at most once per doubling, as in a growth).
    #[cold]
    #[inline(never)]
    fn make_room(&mut self) {
        if self.head > 0 && self.head * 2 >= self.items.len() {
            self.items.drain(..self.head);
            self.head = 0;
        } else {
            self.items.reserve(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Fifo;
    use std::collections::VecDeque;

    /// Any sequence of pushes and pops gives what `VecDeque` gives.
    #[test]
    fn behaves_as_a_vecdeque_under_random_operations() {
        let mut rng = crate::SplitMix64::new(7);
        for round in 0..200 {
            let (mut fifo, mut model) = (Fifo::default(), VecDeque::new());
            // Rounds lean to pushing or to popping, so that the queue both fills and drains.
            let push_share = 1 + round % 9;
            for step in 0..2_000u32 {
                if rng.below(10) < push_share {
                    fifo.push_back(step);
                    model.push_back(step);
                } else {
                    assert_eq!(fifo.pop_front(), model.pop_front(), "round {round}, step {step}");
                }
                assert_eq!(fifo.len(), model.len());
                assert_eq!(fifo.is_empty(), model.is_empty());
                assert_eq!(fifo.front(), model.front());
            }
        }
    }

    /// A queue that holds a few records at every moment, pushed and popped forever, keeps a
    /// vector about the size of its longest moment, not of everything ever pushed.
    #[test]
    fn a_queue_that_never_empties_stays_small() {
        let mut fifo = Fifo::default();
        fifo.push_back(0u64);
        for i in 1..1_000_000u64 {
            fifo.push_back(i);
            fifo.push_back(i);
            assert!(fifo.pop_front().is_some());
            assert!(fifo.pop_front().is_some());
            assert_eq!(fifo.len(), 1);
        }
        assert!(fifo.items.capacity() <= 8, "capacity {}", fifo.items.capacity());
    }
}
