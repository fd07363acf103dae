//! pcap capture of D-channel frames with link type 177 (LINUX_LAPD), which Wireshark and tshark
//! decode as LAPD, TEI management and Q.931 with no preferences set.
//!
//! Each record is the 16-octet Linux "cooked" LAPD pseudo-header, then the frame as the
//! `hal::DChannel` carries it (address first, no FCS). The pseudo-header says whether the frame was
//! sent or received and whether the capturing side is the network: Wireshark needs both to tell
//! commands from responses, since the C/R bit means opposite things in the two directions.

use std::io::{self, Write};
use std::time::Duration;

use super::q921::Role;

/// `LINKTYPE_LINUX_LAPD`.
pub const LINKTYPE_LINUX_LAPD: u32 = 177;
/// `ARPHRD_LAPD`, the pseudo-header's hardware type.
const ARPHRD_LAPD: u16 = 8445;
/// `ETH_P_LAPD`, the pseudo-header's protocol.
const ETH_P_LAPD: u16 = 0x0030;
/// `PACKET_OUTGOING` and `PACKET_HOST` of the Linux packet socket.
const PKTTYPE_SENT: u16 = 4;
const PKTTYPE_RECEIVED: u16 = 0;
/// Longest frame a record carries; a D-channel frame is far shorter (N201 = 260).
const SNAPLEN: u32 = 65_535;

/// Whether the capturing side sent or received a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Sent,
    Received,
}

/// Writes a classic pcap stream of one D-channel, seen from one side.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    side: Role,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header. `side` is the role of the entity whose traffic is captured.
    pub fn new(mut out: W, side: Role) -> io::Result<PcapWriter<W>> {
        let mut header = Vec::with_capacity(24);
        header.extend_from_slice(&0xa1b2_c3d4_u32.to_le_bytes());
        header.extend_from_slice(&2u16.to_le_bytes());
        header.extend_from_slice(&4u16.to_le_bytes());
        header.extend_from_slice(&0i32.to_le_bytes()); // thiszone: timestamps are UTC
        header.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        header.extend_from_slice(&SNAPLEN.to_le_bytes());
        header.extend_from_slice(&LINKTYPE_LINUX_LAPD.to_le_bytes());
        out.write_all(&header)?;
        Ok(PcapWriter { out, side })
    }

    /// Writes one frame. `timestamp` is the time since the Unix epoch (the caller reads the
    /// clock, so captures of virtual-time tests are repeatable).
    pub fn write_frame(&mut self, timestamp: Duration, direction: Direction, frame: &[u8]) -> io::Result<()> {
        let len = u32::try_from(frame.len() + 16)
            .ok()
            .filter(|&l| l <= SNAPLEN)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "frame too long for a pcap record"))?;
        // pcap's seconds field is 32 bits; saturate rather than wrap after 2106.
        let secs = u32::try_from(timestamp.as_secs()).unwrap_or(u32::MAX);
        let mut record = Vec::with_capacity(16 + 16 + frame.len());
        record.extend_from_slice(&secs.to_le_bytes());
        record.extend_from_slice(&timestamp.subsec_micros().to_le_bytes());
        record.extend_from_slice(&len.to_le_bytes());
        record.extend_from_slice(&len.to_le_bytes());
        let pkttype = match direction {
            Direction::Sent => PKTTYPE_SENT,
            Direction::Received => PKTTYPE_RECEIVED,
        };
        record.extend_from_slice(&pkttype.to_be_bytes());
        record.extend_from_slice(&ARPHRD_LAPD.to_be_bytes());
        record.extend_from_slice(&1u16.to_be_bytes()); // halen
        let mut addr = [0u8; 8];
        addr[0] = u8::from(self.side == Role::Nt);
        record.extend_from_slice(&addr);
        record.extend_from_slice(&ETH_P_LAPD.to_be_bytes());
        record.extend_from_slice(frame);
        self.out.write_all(&record)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Gives the sink back.
    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;
    use crate::isdn::q921::harness::Line;
    use crate::isdn::q921::{Mode, Q921Config};

    #[test]
    fn header_and_pseudo_header_octets() {
        let mut w = PcapWriter::new(Vec::new(), Role::Nt).unwrap();
        w.write_frame(Duration::new(1, 2_000), Direction::Sent, &[0x02, 0x01, 0x7f]).unwrap();
        let bytes = w.into_inner();
        assert_eq!(bytes[..4], [0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(bytes[20..24], [177, 0, 0, 0]);
        let record = &bytes[24..];
        assert_eq!(record[..16], [1, 0, 0, 0, 2, 0, 0, 0, 19, 0, 0, 0, 19, 0, 0, 0]);
        assert_eq!(record[16..32], [0, 4, 0x20, 0xfd, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x30]);
        assert_eq!(record[32..], [0x02, 0x01, 0x7f]);
    }

    // Q.931 messages from the libpri trace in test-peers.md §1, so that tshark decodes the I frames'
    // contents too: SETUP, CALL PROCEEDING, CONNECT ACK, DISCONNECT.
    const SETUP: &[u8] = &[
        0x08, 0x02, 0x00, 0x01, 0x05, 0x04, 0x03, 0x80, 0x90, 0xa3, 0x18, 0x03, 0xa9, 0x83, 0x81, 0x6c, 0x06, 0x00,
        0x80, 0x35, 0x36, 0x37, 0x38, 0x70, 0x05, 0x80, 0x31, 0x32, 0x33, 0x34, 0xa1,
    ];
    const CALL_PROCEEDING: &[u8] = &[0x08, 0x02, 0x80, 0x01, 0x02, 0x18, 0x03, 0xa9, 0x83, 0x81];
    const CONNECT_ACK: &[u8] = &[0x08, 0x02, 0x00, 0x01, 0x0f];
    const DISCONNECT: &[u8] = &[0x08, 0x02, 0x00, 0x01, 0x45, 0x08, 0x02, 0x81, 0x90];
    /// A BRI SETUP as the NT broadcasts it in point-to-multipoint mode (Channel ID `18 01 89`).
    const BRI_SETUP: &[u8] = &[0x08, 0x01, 0x01, 0x05, 0x04, 0x03, 0x80, 0x90, 0xa3, 0x18, 0x01, 0x89];

    /// Writes every frame of the line to a pcap seen from node `observer`, and returns the
    /// expected tshark direction (0 = user to network) and the trace line per frame.
    fn capture(line: &Line, observer: usize, path: &std::path::Path) -> Vec<(u8, String)> {
        let side = line.nodes[observer].config().role;
        let file = std::fs::File::create(path).unwrap();
        let mut w = PcapWriter::new(io::BufWriter::new(file), side).unwrap();
        let mut expected = Vec::new();
        let epoch = Duration::from_secs(1_795_000_000);
        let trace = line.trace();
        for (wire, text) in line.wire.iter().zip(trace) {
            // On a bus the observer sees what it sent and what was meant for it or for all.
            let direction = if wire.from == observer {
                Direction::Sent
            } else if observer == 0 || wire.from == 0 {
                Direction::Received
            } else {
                continue;
            };
            if wire.dropped && direction == Direction::Received {
                continue;
            }
            w.write_frame(epoch + wire.at, direction, &wire.octets).unwrap();
            let sender = line.nodes[wire.from].config().role;
            expected.push((u8::from(sender == Role::Nt), text));
        }
        w.flush().unwrap();
        expected
    }

    fn tshark(args: &[&str]) -> String {
        let out = Command::new("tshark").args(args).output().unwrap_or_else(|e| {
            panic!("cannot run tshark ({e}): install the Debian package `tshark` (cargo xtask deps does it)")
        });
        assert!(out.status.success(), "tshark {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Decodes the capture and checks every frame: not malformed, the direction we meant, and the
    /// frame type and message our own trace says.
    fn check_with_tshark(path: &std::path::Path, expected: &[(u8, String)]) -> Vec<String> {
        let file = path.to_str().unwrap();
        let verbose = tshark(&["-r", file, "-V"]);
        assert!(!verbose.contains("Malformed"), "tshark found a malformed packet:\n{verbose}");
        assert!(!verbose.contains("Expert Info (Error"), "tshark reported an error:\n{verbose}");
        let fields =
            tshark(&["-r", file, "-T", "fields", "-E", "separator=|", "-e", "lapd.direction", "-e", "_ws.col.Info"]);
        let rows: Vec<String> = fields.lines().map(str::to_owned).collect();
        assert_eq!(rows.len(), expected.len(), "{fields}");
        for (row, (direction, ours)) in rows.iter().zip(expected) {
            let (dir, info) = row.split_once('|').unwrap();
            assert_eq!(dir, direction.to_string(), "direction of {ours}: tshark says {row}");
            let kind = ours.split_whitespace().nth(2).unwrap();
            let expect = match kind {
                "I" => "I, N(R)",
                "RR" | "RNR" | "REJ" => kind,
                "UI" if ours.contains("Identity") => "",
                other => other,
            };
            assert!(info.contains(expect), "{ours} decoded as {info}");
            let tei_message = [("Identity request", "Identity Request"), ("Identity assigned", "Identity Assigned")];
            for (ours_name, tshark_name) in tei_message {
                if ours.contains(ours_name) {
                    assert!(info.contains(tshark_name), "{ours} decoded as {info}");
                }
            }
        }
        rows
    }

    #[test]
    fn tshark_decodes_a_point_to_point_session_without_error() {
        let mut line = Line::new(&[Q921Config::pri(Role::Nt), Q921Config::pri(Role::Te)]);
        let now = line.now;
        line.nodes[1].dl_establish_request(now).unwrap();
        line.nodes[0].dl_establish_request(now).unwrap();
        line.settle();
        // A lost CALL PROCEEDING provokes a REJ, and a quiet period a T203 poll.
        let mut lost = false;
        line.drop = Some(Box::new(move |from, octets| {
            let drop = from == 0 && octets.len() > 4 && octets[2] == 0x00 && !lost;
            lost |= drop;
            drop
        }));
        line.nodes[1].dl_data_request(line.now, SETUP).unwrap();
        line.settle();
        line.nodes[0].dl_data_request(line.now, CALL_PROCEEDING).unwrap();
        line.nodes[0].dl_data_request(line.now, CALL_PROCEEDING).unwrap();
        line.settle();
        line.nodes[1].dl_data_request(line.now, CONNECT_ACK).unwrap();
        line.nodes[1].dl_data_request(line.now, DISCONNECT).unwrap();
        line.run_for(Duration::from_secs(11));
        line.nodes[1].dl_release_request(line.now).unwrap();
        line.settle();
        let path = std::env::temp_dir().join(format!("spangate-q921-ptp-{}.pcap", std::process::id()));
        let expected = capture(&line, 1, &path);
        let rows = check_with_tshark(&path, &expected);
        let all = rows.join("\n");
        for needle in
            ["SABME", "UA", "SETUP", "CALL PROCEEDING", "CONNECT ACKNOWLEDGE", "DISCONNECT", "REJ", "RR", "DISC"]
        {
            assert!(all.contains(needle), "no {needle} in\n{all}");
        }
        // The same traffic seen from the network side decodes as well.
        let expected = capture(&line, 0, &path);
        check_with_tshark(&path, &expected);
        std::fs::remove_file(&path).ok();
    }

    #[test]
    fn tshark_decodes_tei_management_and_the_broadcast_setup() {
        let te = |seed| Q921Config { seed, ..Q921Config::bri(Role::Te, Mode::PointToMultipoint) };
        let mut line = Line::new(&[Q921Config::bri(Role::Nt, Mode::PointToMultipoint), te(5), te(6)]);
        let now = line.now;
        line.nodes[0].dl_unit_data_request(now, BRI_SETUP).unwrap();
        line.nodes[1].dl_establish_request(now).unwrap();
        line.nodes[2].dl_establish_request(now).unwrap();
        line.settle();
        line.nodes[0].check_tei(line.now, 65).unwrap();
        line.settle();
        line.nodes[0].remove_tei(line.now, 65).unwrap();
        line.settle();
        let path = std::env::temp_dir().join(format!("spangate-q921-ptmp-{}.pcap", std::process::id()));
        let expected = capture(&line, 0, &path);
        let rows = check_with_tshark(&path, &expected);
        let all = rows.join("\n");
        for needle in ["Identity Request", "Identity Assigned", "Check Request", "Check Response", "Remove", "SETUP"] {
            assert!(all.contains(needle), "no {needle} in\n{all}");
        }
        // A TE's view: its own frames, and what the NT sent to everyone.
        let expected = capture(&line, 1, &path);
        check_with_tshark(&path, &expected);
        std::fs::remove_file(&path).ok();
    }
}
