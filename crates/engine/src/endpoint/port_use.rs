//! How many records (connections, half-open entries, TIME-WAIT records) hold each port of
//! each of the endpoint's own addresses, so that `connect` can tell that its 4-tuple is free
//! without reading the demultiplexing table: when no record holds the local address and port,
//! none holds the tuple. In a large table a new tuple's bucket is rarely cached; the counts of
//! an address take 64 KiB, and ports taken one after another (as the benchmark's client takes
//! them, and as RFC 6056's algorithms 3 and 4 do for one peer) share their cache lines.
//! Linux's connect skips its established-hash check on the same grounds when a socket alone
//! owns its bound port.
//!
//! Only the endpoint's own addresses are counted: `connect` takes no other, and a record on
//! another address (an any-IP listener's) can never hold a tuple it asks for.

/// Counts per port, 64 KiB for each of the endpoint's addresses, allocated zeroed (where the
/// allocator maps fresh pages for them, only pages whose counts change take memory). A count
/// that reaches 255 stays there (a listening port's accepted connections): that port is then
/// always checked in the table, which is slower, never wrong.
#[derive(Debug)]
pub(super) struct PortUse {
    /// The counts of the endpoint's `a`th address from `a << 16` on.
    counts: Box<[u8]>,
}

const STUCK: u8 = u8::MAX;

fn at(address: usize, port: u16) -> usize {
    address << 16 | port as usize
}

impl PortUse {
    pub fn new(addresses: usize) -> PortUse {
        PortUse { counts: vec![0; addresses << 16].into_boxed_slice() }
    }

    /// Whether some record may hold `port` of the endpoint's `address`th address.
    pub fn held(&self, address: usize, port: u16) -> bool {
        self.counts[at(address, port)] != 0
    }

    /// A record now holds `port` of the endpoint's `address`th address.
    pub fn add(&mut self, address: usize, port: u16) {
        let count = &mut self.counts[at(address, port)];
        *count = count.saturating_add(1);
    }

    /// A record that held `port` of the endpoint's `address`th address is gone.
    pub fn sub(&mut self, address: usize, port: u16) {
        let count = &mut self.counts[at(address, port)];
        debug_assert!(*count != 0, "a record left a port that none held");
        if *count != STUCK {
            *count = count.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_is_held_until_its_last_record_leaves() {
        let mut use_ = PortUse::new(2);
        assert!(!use_.held(0, 80));
        use_.add(0, 80);
        use_.add(0, 80);
        assert!(use_.held(0, 80));
        assert!(!use_.held(0, 81), "another port");
        assert!(!use_.held(1, 80), "another address");
        use_.sub(0, 80);
        assert!(use_.held(0, 80), "one record left");
        use_.sub(0, 80);
        assert!(!use_.held(0, 80));
    }

    #[test]
    fn a_count_that_reached_its_limit_stays_held() {
        let mut use_ = PortUse::new(1);
        for _ in 0..300 {
            use_.add(0, 7788);
        }
        for _ in 0..300 {
            use_.sub(0, 7788);
        }
        assert!(use_.held(0, 7788), "lost count: the table decides");
        for port in [0, u16::MAX] {
            use_.add(0, port);
            assert!(use_.held(0, port));
            use_.sub(0, port);
            assert!(!use_.held(0, port));
        }
    }
}
