//! Several berofos moved as one (four lines each): what the HA logic and `xivo-berofos`-style
//! commands need. A relay position counts only when every device reads it back.

use std::time::Duration;

use super::conf::{BnfosConf, Section};
use super::http::{self, Role};
use super::udp;

/// The devices of a bnfos.conf, each with its HTTP client and GBL4 target.
#[derive(Debug)]
pub struct Bank {
    devices: Vec<(Section, http::Client)>,
    timeout: Duration,
}

/// One device's failure, by section name.
#[derive(Debug)]
pub struct DeviceError {
    pub section: String,
    pub error: String,
}

impl Bank {
    /// Every section with a host (HTTP needs one); `timeout` per answer.
    pub fn new(conf: &BnfosConf, timeout: Duration) -> Bank {
        let devices = conf
            .sections
            .iter()
            .filter_map(|s| {
                let addr = s.http_addr()?;
                let client = http::Client::new(addr).with_credentials(s.login.clone()).with_timeout(timeout);
                Some((s.clone(), client))
            })
            .collect();
        Bank { devices, timeout }
    }

    pub fn len(&self) -> usize {
        self.devices.len()
    }

    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }

    /// Sets every device to `role`'s mode and reads it back. `Ok` only when all of them report
    /// it: a partial move splits the lines between the nodes, which the caller must treat as
    /// "not fenced" (and may retry).
    pub fn set_role(&self, role: Role) -> Result<(), Vec<DeviceError>> {
        let errors: Vec<DeviceError> = self
            .devices
            .iter()
            .filter_map(|(s, c)| {
                c.set_role(role).err().map(|e| DeviceError { section: s.name.clone(), error: e.to_string() })
            })
            .collect();
        if errors.is_empty() && !self.devices.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The relay mode all devices agree on; `None` if any is unreachable or they differ.
    pub fn mode(&self) -> Option<u8> {
        let mut modes = self.devices.iter().map(|(_, c)| c.get("mode").ok().and_then(|m| m.parse::<u8>().ok()));
        let first = modes.next()??;
        modes.all(|m| m == Some(first)).then_some(first)
    }

    /// Kicks every watchdog (GBL4, one datagram each, no retry); returns the sections that did
    /// not answer.
    pub fn kick(&self) -> Vec<DeviceError> {
        let mut errors = Vec::new();
        for (s, _) in &self.devices {
            let result = udp::Client::new(s.udp_addr(), self.timeout).and_then(|c| match s.mac {
                Some(mac) => c.kick(mac),
                None => {
                    let found = c.scan(Some(1))?;
                    let mac = found.first().map(|(i, _)| i.mac);
                    mac.map_or(
                        Err(udp::ClientError::Timeout { command: udp::Command::GetNetconf, target: s.udp_addr() }),
                        |m| c.kick(m),
                    )
                }
            });
            if let Err(e) = result {
                errors.push(DeviceError { section: s.name.clone(), error: e.to_string() });
            }
        }
        errors
    }
}

impl Bank {
    /// Writes `key` on every device and reads it back; the sections that failed.
    pub fn set_checked_all(&self, key: &str, value: &str) -> Vec<DeviceError> {
        self.devices
            .iter()
            .filter_map(|(s, c)| {
                c.set_checked(key, value).err().map(|e| DeviceError { section: s.name.clone(), error: e.to_string() })
            })
            .collect()
    }

    /// `key` as every device reports it, in section order (`None` for one that did not answer).
    pub fn get_all(&self, key: &str) -> Vec<Option<String>> {
        self.devices.iter().map(|(_, c)| c.get(key).ok()).collect()
    }
}
