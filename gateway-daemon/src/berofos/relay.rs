//! The simulated berofos' relays on simulated cables: four `SOCK_SEQPACKET` ports named after
//! the groups (`A.sock` ... `D.sock` in a directory), each taking one span cable (`line =
//! "connect:DIR/A.sock"`, hal's cable wire format: one datagram per 1 ms frame). Every datagram
//! that comes in on a port goes out on the port the relays join it to now (mode 1: A-B, and C-D
//! in the bypass scenario; mode 0, power off or watchdog expired: A-D), and nowhere when the port
//! is joined to nothing. The datagrams are not decoded: a relay passes the line as it is, and a
//! span cut off by it sees its signal stop (loss of signal after the cable's dry limit).
//!
//! A newer connection on a port replaces the older one (a restarted node plugs in again).

use std::io::{self, Read as _};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use socket2::{Domain, SockAddr, Socket, Type};

use super::sim::Device;

/// The four groups, in port order.
pub const GROUPS: [char; 4] = ['A', 'B', 'C', 'D'];
/// How often the forwarder looks at its ports: a quarter of a frame.
const POLL: Duration = Duration::from_micros(250);

fn index(g: char) -> usize {
    GROUPS.iter().position(|&x| x == g).unwrap_or(0)
}

/// The port each port is joined to, from the device's links.
fn joins(links: &[(char, char)]) -> [Option<usize>; 4] {
    let mut out = [None; 4];
    for &(a, z) in links {
        out[index(a)] = Some(index(z));
        out[index(z)] = Some(index(a));
    }
    out
}

/// Binds `DIR/A.sock` ... `DIR/D.sock` and starts the forwarder thread.
pub fn serve_cables(dir: &Path, device: Arc<Mutex<Device>>) -> io::Result<()> {
    let mut listeners = Vec::new();
    for g in GROUPS {
        let path = dir.join(format!("{g}.sock"));
        if path.exists() {
            std::fs::remove_file(&path)?;
        }
        let s = Socket::new(Domain::UNIX, Type::SEQPACKET, None)?;
        s.bind(&SockAddr::unix(&path)?)?;
        s.listen(2)?;
        s.set_nonblocking(true)?;
        listeners.push(s);
    }
    std::thread::Builder::new().name("berofos-relay".into()).spawn(move || {
        let mut conns: [Option<Socket>; 4] = [None, None, None, None];
        let mut buf = [0u8; 2048];
        loop {
            for (i, l) in listeners.iter().enumerate() {
                if let Ok((s, _)) = l.accept() {
                    if s.set_nonblocking(true).is_ok() {
                        log::info!("cable plugged into group {}", GROUPS[i]);
                        conns[i] = Some(s);
                    }
                }
            }
            let links = device.lock().unwrap_or_else(PoisonError::into_inner).links();
            let to = joins(&links);
            for i in 0..4 {
                while let Some(c) = &conns[i] {
                    // One read is one datagram on a SEQPACKET socket.
                    let mut reader: &Socket = c;
                    let n = match reader.read(&mut buf) {
                        Ok(0) => {
                            log::info!("cable unplugged from group {}", GROUPS[i]);
                            conns[i] = None;
                            break;
                        }
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(_) => {
                            conns[i] = None;
                            break;
                        }
                    };
                    if let Some(peer) = to[i].and_then(|j| conns[j].as_ref()) {
                        // A peer not reading fast enough loses this frame, as on a real wire.
                        let _ = peer.send(&buf[..n]);
                    }
                }
            }
            std::thread::sleep(POLL);
        }
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_follow_the_links() {
        assert_eq!(joins(&[('A', 'B'), ('C', 'D')]), [Some(1), Some(0), Some(3), Some(2)]);
        assert_eq!(joins(&[('A', 'D')]), [Some(3), None, None, Some(0)]);
        assert_eq!(joins(&[]), [None; 4]);
    }
}
