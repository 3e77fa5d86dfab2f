//! Taps and faults on the packets a stack exchanges with its device: a pcap file (raw IP, real
//! timestamps), a live trace in tcpdump's format, and seeded faults in both directions (the
//! model the simulator's links use: loss, duplication, reordering, corruption, delay, jitter,
//! CE marks), so that real-wire tests exercise retransmission without kernel qdiscs.

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::DataLink;
use std::fs::File;
use std::io;
use std::path::Path;
use synack_engine::SplitMix64;
pub use synack_faults::Faults;
use synack_wire::tcpdump::Formatter;
use synack_wire::{ecn_of, set_ecn, Ecn};

/// What the tap and the faults do; `Default` does nothing.
#[derive(Default)]
pub struct Tap {
    pcap: Option<PcapWriter<File>>,
    trace: Option<Formatter>,
    faults: Option<Injector>,
}

/// The faults of both directions (`synack_faults`: the simulator's links draw theirs from
/// the same model), with their generator and the packets they hold back.
struct Injector {
    faults: Faults,
    rng: SplitMix64,
    /// Delayed packets by release time (and arrival order, to keep ties in order).
    delayed: std::collections::BTreeMap<(std::time::Instant, u64), (Direction, Vec<u8>)>,
    next_id: u64,
}

/// Which way a packet goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the device to the stack.
    In = 0,
    /// From the stack to the device.
    Out = 1,
}

impl Tap {
    /// Writes every packet, both ways, to a pcap file at `path`.
    pub fn pcap(mut self, path: &Path) -> io::Result<Tap> {
        let file = File::create(path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let header = PcapHeader { datalink: DataLink::RAW, ..Default::default() };
        // Unbuffered: one write per packet, so that nothing is lost however the program ends.
        self.pcap = Some(PcapWriter::with_header(file, header).map_err(io::Error::other)?);
        Ok(self)
    }

    /// Prints every packet, both ways, as `tcpdump -nn` would.
    pub fn trace(mut self) -> Tap {
        self.trace = Some(Formatter::new(false));
        self
    }

    /// Injects `faults` in both directions, drawn from a generator seeded with `seed`. Faults
    /// that do nothing leave the tap transparent, so that the device keeps its offload path
    /// (super-packets both ways).
    pub fn faults(mut self, faults: Faults, seed: u64) -> Tap {
        self.faults = faults.is_active().then(|| Injector {
            faults,
            rng: SplitMix64::new(seed),
            delayed: Default::default(),
            next_id: 0,
        });
        self
    }

    /// Records `packet` and returns the packets that go on (none if lost, two if duplicated,
    /// a held one released after it when reordered).
    /// No pcap, no trace, no faults: `pass` would hand every packet back unchanged, and the
    /// driver can skip it (and its copy).
    pub fn is_transparent(&self) -> bool {
        self.pcap.is_none() && self.trace.is_none() && self.faults.is_none()
    }

    /// Records `packet` and returns the packets that go on now (none if lost or held back, two
    /// if duplicated); held ones come out of `due` when their time comes.
    pub fn pass(&mut self, dir: Direction, packet: &[u8]) -> Vec<Vec<u8>> {
        let out = match &mut self.faults {
            None => vec![packet.to_vec()],
            Some(f) => {
                let now = std::time::Instant::now();
                let mut out = Vec::new();
                let fate = f.faults.decide(&mut f.rng);
                for copy in fate.copies() {
                    let mut p = packet.to_vec();
                    if copy.corrupted {
                        Faults::corrupt(&mut p, &mut f.rng);
                    }
                    let ect = matches!(ecn_of(&p), Some(Ecn::Ect0 | Ecn::Ect1));
                    if ect && f.faults.mark_ce(&mut f.rng) {
                        set_ecn(&mut p, Ecn::Ce);
                    }
                    let hold = f.faults.delay + copy.jitter + copy.reordered.unwrap_or_default();
                    if hold.is_zero() {
                        out.push(p);
                    } else {
                        f.next_id += 1;
                        f.delayed.insert((now + hold, f.next_id), (dir, p));
                    }
                }
                out
            }
        };
        for p in &out {
            self.record(dir, p);
        }
        out
    }

    /// Delayed packets whose time has come, with their direction.
    pub fn due(&mut self) -> Vec<(Direction, Vec<u8>)> {
        let Some(f) = &mut self.faults else { return Vec::new() };
        let now = std::time::Instant::now();
        let mut out = Vec::new();
        while f.delayed.first_key_value().is_some_and(|((at, _), _)| *at <= now) {
            let (_, (dir, p)) = f.delayed.pop_first().expect("first checked");
            out.push((dir, p));
        }
        for (dir, p) in &out {
            self.record(*dir, p);
        }
        out
    }

    /// How long until the next delayed packet is due, if any is waiting.
    pub fn next_due(&self) -> Option<std::time::Duration> {
        let f = self.faults.as_ref()?;
        f.delayed.first_key_value().map(|((at, _), _)| at.saturating_duration_since(std::time::Instant::now()))
    }

    fn record(&mut self, dir: Direction, packet: &[u8]) {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        if let Some(w) = &mut self.pcap {
            let _ = w.write_packet(&PcapPacket::new(now, packet.len() as u32, packet));
        }
        if let Some(f) = &mut self.trace {
            let arrow = if dir == Direction::In { "in " } else { "out" };
            println!("{}.{:06} {arrow} {}", now.as_secs(), now.subsec_micros(), f.format(packet));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delayed_packets_come_out_when_due_and_not_before() {
        let delay = std::time::Duration::from_millis(30);
        let mut tap = Tap::default().faults(Faults { delay, ..Faults::default() }, 1);
        assert!(tap.pass(Direction::Out, b"late").is_empty());
        assert!(tap.due().is_empty());
        assert!(tap.next_due().is_some_and(|d| d <= delay));
        std::thread::sleep(delay);
        assert_eq!(tap.due(), vec![(Direction::Out, b"late".to_vec())]);
        assert_eq!(tap.next_due(), None);
    }

    #[test]
    fn faults_that_do_nothing_leave_the_tap_transparent() {
        assert!(Tap::default().faults(Faults::default(), 9).is_transparent());
        assert!(!Tap::default().faults(Faults { loss_ppm: 1, ..Faults::default() }, 9).is_transparent());
        let delay = std::time::Duration::from_millis(1);
        assert!(!Tap::default().faults(Faults { delay, ..Faults::default() }, 9).is_transparent());
    }

    #[test]
    fn marking_turns_ect_packets_into_ce_and_leaves_the_rest() {
        let mut tap = Tap::default().faults(Faults { ce_mark_ppm: synack_faults::PPM, ..Faults::default() }, 1);
        let mut ect = [0u8; 20];
        ect[0] = 0x45; // IPv4, 20-byte header
        ect[1] = Ecn::Ect0.bits();
        let out = tap.pass(Direction::In, &ect);
        assert_eq!(ecn_of(&out[0]), Some(Ecn::Ce));
        let mut not_ect = ect;
        not_ect[1] = 0;
        assert_eq!(ecn_of(&tap.pass(Direction::In, &not_ect)[0]), Some(Ecn::NotEct));
    }

    #[test]
    fn without_faults_every_packet_passes_once() {
        let mut tap = Tap::default();
        assert_eq!(tap.pass(Direction::Out, b"p"), vec![b"p".to_vec()]);
    }

    #[test]
    fn faults_lose_duplicate_and_reorder_at_about_their_rates() {
        let faults = Faults { loss_ppm: 100_000, duplicate_ppm: 100_000, reorder_ppm: 100_000, ..Faults::default() };
        let mut tap = Tap::default().faults(faults, 7);
        let mut passed = 0;
        let mut out_of_order = 0;
        let mut last = -1i64;
        let take = |p: Vec<u8>, last: &mut i64| {
            let n = i64::from_be_bytes(p.try_into().unwrap());
            let late = n < *last;
            *last = (*last).max(n);
            late
        };
        for i in 0..10_000i64 {
            for p in tap.pass(Direction::In, &i.to_be_bytes()) {
                out_of_order += take(p, &mut last) as i32;
                passed += 1;
            }
            if i % 100 == 99 {
                std::thread::sleep(std::time::Duration::from_millis(2)); // a reordered packet's hold
                for (_, p) in tap.due() {
                    out_of_order += take(p, &mut last) as i32;
                    passed += 1;
                }
            }
        }
        assert!((9_000..=11_000).contains(&passed), "passed {passed}");
        assert!(out_of_order > 500, "reordered {out_of_order}");
    }
}
