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

/// Seeded faults, as parts per million, each direction.
#[derive(Debug, Clone, Copy, Default)]
pub struct FaultConfig {
    pub loss_ppm: u32,
    pub duplicate_ppm: u32,
    pub reorder_ppm: u32,
    pub seed: u64,
}

struct Faults {
    config: FaultConfig,
    rng: SplitMix64,
    /// A packet held back to be released after the next one (reordering), per direction.
    held: [Option<Vec<u8>>; 2],
}

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

    pub fn faults(mut self, config: FaultConfig) -> Tap {
        self.faults = Some(Faults { config, rng: SplitMix64::new(config.seed), held: [None, None] });
        self
    }

    /// Records `packet` and returns the packets that go on (none if lost, two if duplicated,
    /// a held one released after it when reordered).
    pub fn pass(&mut self, dir: Direction, packet: &[u8]) -> Vec<Vec<u8>> {
        let out = match &mut self.faults {
            None => vec![packet.to_vec()],
            Some(f) => {
                let c = f.config;
                let mut out = Vec::new();
                if !f.rng.chance(c.loss_ppm, 1_000_000) {
                    if f.rng.chance(c.reorder_ppm, 1_000_000) && f.held[dir as usize].is_none() {
                        f.held[dir as usize] = Some(packet.to_vec());
                    } else {
                        out.push(packet.to_vec());
                        if f.rng.chance(c.duplicate_ppm, 1_000_000) {
                            out.push(packet.to_vec());
                        }
                    }
                }
                if !out.is_empty() {
                    if let Some(held) = f.held[dir as usize].take() {
                        out.push(held);
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
    fn without_faults_every_packet_passes_once() {
        let mut tap = Tap::default();
        assert_eq!(tap.pass(Direction::Out, b"p"), vec![b"p".to_vec()]);
    }

    #[test]
    fn faults_lose_duplicate_and_reorder_at_about_their_rates() {
        let config = FaultConfig { loss_ppm: 100_000, duplicate_ppm: 100_000, reorder_ppm: 100_000, seed: 7 };
        let mut tap = Tap::default().faults(config);
        let mut passed = 0;
        let mut out_of_order = 0;
        let mut last = -1i64;
        for i in 0..10_000i64 {
            for p in tap.pass(Direction::In, &i.to_be_bytes()) {
                let n = i64::from_be_bytes(p.try_into().unwrap());
                if n < last {
                    out_of_order += 1;
                }
                last = last.max(n);
                passed += 1;
            }
        }
        assert!((9_000..=11_000).contains(&passed), "passed {passed}");
        assert!(out_of_order > 500, "reordered {out_of_order}");
    }
}
