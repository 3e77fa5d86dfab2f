//! Captures as tcpdump and Wireshark write them: pcap (microsecond and nanosecond) and pcapng,
//! read with the `pcap-file` crate; each frame's link-layer header taken off down to its IP
//! packet. A damaged file ends the read with an error that names the record where it broke.

use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::TsResolution;
use std::fmt;
use std::time::Duration;

/// One captured frame's IP packet.
#[derive(Debug, Clone)]
pub struct Frame {
    /// The frame's number in the file, from 1 (as Wireshark numbers them).
    pub number: usize,
    /// When it was captured, since the Unix epoch.
    pub time: Duration,
    /// The IP packet as captured (cut short if the capture's snaplen was smaller).
    pub ip: Vec<u8>,
}

/// A capture read whole: its IP frames, and how many frames carried something else.
#[derive(Debug, Default)]
pub struct Capture {
    /// Frames that carried IPv4 or IPv6, in file order.
    pub frames: Vec<Frame>,
    /// Frames of other link-layer protocols (ARP, ...) or unknown link types.
    pub skipped: usize,
    /// The file's format: `pcap` or `pcapng`.
    pub format: &'static str,
}

/// Why a capture could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// The record (frame or pcapng block) where reading stopped, from 1; 0 for the file header.
    pub record: usize,
    /// What was wrong.
    pub message: String,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.record == 0 {
            write!(f, "not a capture tcpdump or Wireshark writes (pcap or pcapng): {}", self.message)
        } else {
            write!(f, "record {}: {}", self.record, self.message)
        }
    }
}

impl std::error::Error for ReadError {}

/// Reads a pcap or pcapng capture from its bytes.
pub fn read_capture(bytes: &[u8]) -> Result<Capture, ReadError> {
    const PCAPNG_SECTION: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
    if bytes.len() >= 4 && bytes[..4] == PCAPNG_SECTION {
        read_pcapng(bytes)
    } else {
        read_pcap(bytes)
    }
}

fn read_pcap(bytes: &[u8]) -> Result<Capture, ReadError> {
    let mut reader = PcapReader::new(bytes).map_err(|e| ReadError { record: 0, message: describe(&e) })?;
    let link = u32::from(reader.header().datalink);
    let mut capture = Capture { format: "pcap", ..Capture::default() };
    let mut number = 0;
    let nanos_per_frac = match reader.header().ts_resolution {
        TsResolution::MicroSecond => 1_000,
        TsResolution::NanoSecond => 1,
    };
    // Raw records: pcap-file's checked ones refuse an original length above the snaplen,
    // which is what every capture cut short by `-s` holds.
    while let Some(packet) = reader.next_raw_packet() {
        number += 1;
        let packet = packet.map_err(|e| ReadError { record: number, message: describe(&e) })?;
        if packet.incl_len > packet.orig_len && packet.orig_len != 0 {
            return Err(ReadError { record: number, message: "more bytes saved than the packet had".into() });
        }
        let nanos = (packet.ts_frac as u64 * nanos_per_frac).min(999_999_999) as u32;
        capture.push(number, Duration::new(packet.ts_sec as u64, nanos), link, &packet.data);
    }
    Ok(capture)
}

/// pcapng: each packet names its interface, whose description gives the link type and the
/// timestamps' unit (`if_tsresol`, microseconds unless it says otherwise).
fn read_pcapng(bytes: &[u8]) -> Result<Capture, ReadError> {
    let mut reader = PcapNgReader::new(bytes).map_err(|e| ReadError { record: 0, message: describe(&e) })?;
    let mut capture = Capture { format: "pcapng", ..Capture::default() };
    // Per interface of the current section: (link type, nanoseconds per timestamp unit or
    // None for a binary fraction 2^-n, n).
    let mut interfaces: Vec<(u32, Resolution)> = Vec::new();
    let (mut record, mut number) = (1, 0);
    while let Some(block) = reader.next_block() {
        record += 1;
        let block = block.map_err(|e| ReadError { record, message: describe(&e) })?;
        match block {
            Block::SectionHeader(_) => interfaces.clear(),
            Block::InterfaceDescription(idb) => {
                let resolution = idb
                    .options
                    .iter()
                    .find_map(|o| match o {
                        InterfaceDescriptionOption::IfTsResol(r) => Some(Resolution(*r)),
                        _ => None,
                    })
                    .unwrap_or(Resolution(6));
                interfaces.push((u32::from(idb.linktype), resolution));
            }
            Block::EnhancedPacket(epb) => {
                number += 1;
                let (link, resolution) = interface(&interfaces, epb.interface_id, record)?;
                // pcap-file hands the raw 64-bit timestamp over as nanoseconds.
                let ticks = epb.timestamp.as_nanos() as u64;
                capture.push(number, resolution.duration(ticks), link, &epb.data);
            }
            Block::SimplePacket(spb) => {
                number += 1;
                let link = interfaces.first().map_or(u32::MAX, |i| i.0);
                capture.push(number, Duration::ZERO, link, &spb.data);
            }
            Block::Packet(pb) => {
                number += 1;
                let (link, resolution) = interface(&interfaces, pb.interface_id as u32, record)?;
                capture.push(number, resolution.duration(pb.timestamp), link, &pb.data);
            }
            _ => {}
        }
    }
    Ok(capture)
}

/// What went wrong with a record, in words: a reader over a byte slice reports a file that ends
/// inside a record as an I/O error.
fn describe(e: &pcap_file::PcapError) -> String {
    match e {
        pcap_file::PcapError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the file ends inside it (cut short)".into()
        }
        pcap_file::PcapError::IncompleteBuffer => "the file ends inside it (cut short)".into(),
        other => other.to_string(),
    }
}

/// The link type and timestamp unit of the interface a packet names.
fn interface(interfaces: &[(u32, Resolution)], id: u32, record: usize) -> Result<(u32, Resolution), ReadError> {
    interfaces
        .get(id as usize)
        .copied()
        .ok_or_else(|| ReadError { record, message: format!("packet of undescribed interface {id}") })
}

/// `if_tsresol`: the high bit clear, 10^-n seconds; set, 2^-n.
#[derive(Debug, Clone, Copy)]
struct Resolution(u8);

impl Resolution {
    fn duration(self, ticks: u64) -> Duration {
        let n = (self.0 & 0x7f) as u32;
        if self.0 & 0x80 == 0 {
            match 10u64.checked_pow(n) {
                Some(per_second) => Duration::new(
                    ticks / per_second,
                    ((ticks % per_second) as u128 * 1_000_000_000 / per_second as u128) as u32,
                ),
                None => Duration::ZERO,
            }
        } else if n < 64 {
            let secs = ticks >> n;
            let frac = ticks & ((1u64 << n) - 1);
            Duration::new(secs, ((frac as u128 * 1_000_000_000) >> n) as u32)
        } else {
            Duration::ZERO
        }
    }
}

impl Capture {
    fn push(&mut self, number: usize, time: Duration, link: u32, data: &[u8]) {
        match ip_of_frame(link, data) {
            Some(ip) => self.frames.push(Frame { number, time, ip: ip.to_vec() }),
            None => self.skipped += 1,
        }
    }
}

/// The IP packet inside a frame of link type `link` (LINKTYPE_* numbers), if it holds one.
pub fn ip_of_frame(link: u32, data: &[u8]) -> Option<&[u8]> {
    const ETHERTYPE_IPV4: u16 = 0x0800;
    const ETHERTYPE_IPV6: u16 = 0x86dd;
    let ip_by_type = |ethertype: u16, rest: &'_ [u8]| -> Option<usize> {
        matches!(ethertype, ETHERTYPE_IPV4 | ETHERTYPE_IPV6).then_some(data.len() - rest.len())
    };
    let be16 = |at: usize| data.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let start = match link {
        // Ethernet, with any number of 802.1Q / 802.1ad tags.
        1 => {
            let mut at = 12;
            let mut ethertype = be16(at)?;
            while matches!(ethertype, 0x8100 | 0x88a8 | 0x9100) {
                at += 4;
                ethertype = be16(at)?;
            }
            ip_by_type(ethertype, data.get(at + 2..)?)?
        }
        // Linux cooked capture v1: the protocol at offset 14 of a 16-byte header.
        113 => ip_by_type(be16(14)?, data.get(16..)?)?,
        // v2: the protocol first, in a 20-byte header.
        276 => ip_by_type(be16(0)?, data.get(20..)?)?,
        // Raw IP (LINKTYPE_RAW, and the IPv4- and IPv6-only kinds).
        101 | 228 | 229 | 12 | 14 => 0,
        // BSD loopback: a 4-byte address family, host order (NULL) or network order (LOOP).
        0 | 108 => {
            let family = data.get(..4)?;
            let family = if link == 0 {
                // The capturing machine's byte order, unknown here: the reading that is small.
                u32::from_le_bytes(family.try_into().ok()?).min(u32::from_be_bytes(family.try_into().ok()?))
            } else {
                u32::from_be_bytes(family.try_into().ok()?)
            };
            // AF_INET 2; AF_INET6 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (macOS), 10 (Linux).
            matches!(family, 2 | 10 | 24 | 28 | 30).then_some(4)?
        }
        _ => return None,
    };
    let ip = data.get(start..)?;
    matches!(ip.first()? >> 4, 4 | 6).then_some(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_layers_come_off_down_to_the_ip_packet() {
        let ip = [0x45u8, 0, 0, 20];
        let mut eth = vec![0u8; 12];
        eth.extend_from_slice(&[0x81, 0x00, 0, 5, 0x08, 0x00]);
        eth.extend_from_slice(&ip);
        assert_eq!(ip_of_frame(1, &eth), Some(&ip[..]), "Ethernet with a VLAN tag");
        let mut sll = vec![0u8; 14];
        sll.extend_from_slice(&[0x86, 0xdd, 0x60, 0]);
        assert_eq!(ip_of_frame(113, &sll), Some(&[0x60u8, 0][..]), "Linux cooked, IPv6");
        let mut sll2 = vec![0x08, 0x00];
        sll2.extend_from_slice(&[0u8; 18]);
        sll2.extend_from_slice(&ip);
        assert_eq!(ip_of_frame(276, &sll2), Some(&ip[..]), "Linux cooked v2");
        let mut null = vec![2, 0, 0, 0];
        null.extend_from_slice(&ip);
        assert_eq!(ip_of_frame(0, &null), Some(&ip[..]), "BSD loopback");
        assert_eq!(ip_of_frame(101, &ip), Some(&ip[..]), "raw");
        let mut arp = vec![0u8; 12];
        arp.extend_from_slice(&[0x08, 0x06, 0, 1]);
        assert_eq!(ip_of_frame(1, &arp), None, "ARP is not IP");
        assert_eq!(ip_of_frame(1, &[0u8; 5]), None, "short frames are skipped");
    }

    #[test]
    fn pcapng_timestamps_follow_the_interfaces_resolution() {
        assert_eq!(Resolution(6).duration(1_500_000), Duration::from_millis(1500));
        assert_eq!(Resolution(9).duration(1_500_000_000), Duration::from_millis(1500));
        assert_eq!(Resolution(0x80 | 10).duration(1024 + 512), Duration::from_millis(1500));
        assert_eq!(Resolution(30).duration(5), Duration::ZERO, "10^30 ticks a second overflow: no time");
    }

    #[test]
    fn damage_is_named_by_record() {
        assert_eq!(read_capture(b"nonsense").unwrap_err().record, 0);
        let mut pcap = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0];
        // One record header claiming 100 bytes, with 3.
        pcap.extend_from_slice(&[0; 8]);
        pcap.extend_from_slice(&100u32.to_le_bytes());
        pcap.extend_from_slice(&100u32.to_le_bytes());
        pcap.extend_from_slice(&[1, 2, 3]);
        let err = read_capture(&pcap).unwrap_err();
        assert_eq!(err.record, 1, "{err}");
    }
}
