//! beroNet berofos failover switch control: the HTTP client (`http`), the GBL4 UDP protocol
//! (`udp`), the variables and `config.txt` (`vars`), `/etc/bnfos.conf` (`conf`), HTTP
//! authentication (`auth`), several devices moved as one (`bank`), and a simulator faithful to
//! reference/berofos.md (`sim`) whose relays also switch simulated span cables (`relay`).
//!
//! The codecs (`udp`'s `Packet`/`Request`/`Reply`, `httpmsg`, `vars`, `conf`, `auth`) are pure
//! functions that never panic on any input; the clients do blocking std socket I/O with
//! timeouts and are meant for the CLI and a worker thread of the HA logic, never the event loop.
//!
//! A berofos has four groups (A–D) of four ports; relay mode 1 joins A–B (and C–D in the bypass
//! scenario), mode 0 (the rest position, also with the power off or the watchdog expired) joins
//! A–D. More than four lines need several berofos: one `bnfos.conf` section each.

pub mod auth;
pub mod bank;
pub mod conf;
pub mod http;
pub mod httpmsg;
pub mod relay;
pub mod sim;
pub mod udp;
pub mod vars;
