//! Taps and faults on the packets a stack exchanges with its device: a pcap file (raw IP, real
//! timestamps), a live trace in tcpdump's format, and seeded loss, duplication and reordering
//! in both directions, so that real-wire tests exercise retransmission without kernel qdiscs.

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::DataLink;
use std::fs::File;
use std::io;
use std::path::Path;
use synack_engine::SplitMix64;
use synack_wire::tcpdump::Formatter;

/// What the tap and the faults do; `Default` does nothing.
#[derive(Default)]
pub struct Tap {
    pcap: Option<PcapWriter<File>>,
    trace: Option<Formatter>,
    faults: Option<Faults>,
}

/// Seeded faults, as parts per million, each direction; `delay` holds every packet that long.
#[derive(Debug, Clone, Copy, Default)]
pub struct FaultConfig {
    pub loss_ppm: u32,
    pub duplicate_ppm: u32,
    pub reorder_ppm: u32,
    pub delay: std::time::Duration,
    pub seed: u64,
}

impl FaultConfig {
    /// Whether any packet would be lost, duplicated, reordered or held.
    pub fn is_active(&self) -> bool {
        self.loss_ppm > 0 || self.duplicate_ppm > 0 || self.reorder_ppm > 0 || !self.delay.is_zero()
    }
}

struct Faults {
    config: FaultConfig,
    rng: SplitMix64,
    /// Delayed packets by release time (and arrival order, to keep ties in order).
    delayed: std::collections::BTreeMap<(std::time::Instant, u64), (Direction, Vec<u8>)>,
    next_id: u64,
}

/// How long a reordered packet is held back: later packets overtake it, but it is not lost
/// (holding it until some later packet came would turn every burst's tail into a loss).
const REORDER_HOLD: std::time::Duration = std::time::Duration::from_millis(1);

/// Which way a packet goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    In = 0,
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

    /// Injects `config`'s faults. A config that does nothing leaves the tap transparent, so
    /// that the device keeps its offload path (super-packets both ways).
    pub fn faults(mut self, config: FaultConfig) -> Tap {
        self.faults = config.is_active().then(|| Faults {
            config,
            rng: SplitMix64::new(config.seed),
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

    pub fn pass(&mut self, dir: Direction, packet: &[u8]) -> Vec<Vec<u8>> {
        let out = match &mut self.faults {
            None => vec![packet.to_vec()],
            Some(f) => {
                let c = f.config;
                let now = std::time::Instant::now();
                let mut out = Vec::new();
                let hold = |f: &mut Faults, at: std::time::Instant, p: &[u8]| {
                    f.next_id += 1;
                    f.delayed.insert((at, f.next_id), (dir, p.to_vec()));
                };
                if !f.rng.chance(c.loss_ppm, 1_000_000) {
                    let copies = if f.rng.chance(c.duplicate_ppm, 1_000_000) { 2 } else { 1 };
                    for _ in 0..copies {
                        if f.rng.chance(c.reorder_ppm, 1_000_000) {
                            hold(f, now + c.delay + REORDER_HOLD, packet);
                        } else if !c.delay.is_zero() {
                            hold(f, now + c.delay, packet);
                        } else {
                            out.push(packet.to_vec());
                        }
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
        let mut tap = Tap::default().faults(FaultConfig { delay, ..Default::default() });
        assert!(tap.pass(Direction::Out, b"late").is_empty());
        assert!(tap.due().is_empty());
        assert!(tap.next_due().is_some_and(|d| d <= delay));
        std::thread::sleep(delay);
        assert_eq!(tap.due(), vec![(Direction::Out, b"late".to_vec())]);
        assert_eq!(tap.next_due(), None);
    }

    #[test]
    fn faults_that_do_nothing_leave_the_tap_transparent() {
        assert!(Tap::default().faults(FaultConfig { seed: 9, ..Default::default() }).is_transparent());
        assert!(!Tap::default().faults(FaultConfig { loss_ppm: 1, ..Default::default() }).is_transparent());
        let delay = std::time::Duration::from_millis(1);
        assert!(!Tap::default().faults(FaultConfig { delay, ..Default::default() }).is_transparent());
    }

    #[test]
    fn without_faults_every_packet_passes_once() {
        let mut tap = Tap::default();
        assert_eq!(tap.pass(Direction::Out, b"p"), vec![b"p".to_vec()]);
    }

    #[test]
    fn faults_lose_duplicate_and_reorder_at_about_their_rates() {
        let config = FaultConfig {
            loss_ppm: 100_000,
            duplicate_ppm: 100_000,
            reorder_ppm: 100_000,
            seed: 7,
            ..Default::default()
        };
        let mut tap = Tap::default().faults(config);
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
                std::thread::sleep(REORDER_HOLD);
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
