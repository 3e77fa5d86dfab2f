//! The run's packets as a pcap file (link type raw IP), timestamps from the virtual clock.

use crate::net::{LogEntry, Sim};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::DataLink;
use std::io::Write;
use std::time::Duration;

/// Writes every packet the hosts sent (lost ones included, as a capture at the sender would).
pub fn write_pcap<W: Write>(sim: &Sim, out: W) -> Result<(), String> {
    let header = PcapHeader { datalink: DataLink::RAW, ..Default::default() };
    let mut writer = PcapWriter::with_header(out, header).map_err(|e| e.to_string())?;
    for entry in &sim.log {
        if let LogEntry::Packet { at, bytes, .. } = entry {
            let ts = Duration::from_micros(at.as_micros());
            let packet = PcapPacket::new(ts, bytes.len() as u32, bytes);
            writer.write_packet(&packet).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}
