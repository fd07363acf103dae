//! High availability between two spangate nodes (Step 6), sans-IO: the authenticated heartbeat
//! (`heartbeat`) and the per-node state machine (`node`); `runtime` drives a node from the
//! daemon's event loop (heartbeat socket, health, a worker thread for the berofos and the
//! second-path probe of the peer's HTTP API), `page` shows it on the status page, JSON and metrics.
//! `replica` replicates the configuration from the master to the slave (a signed push of the
//! master's shareable config to the slave's API; see its module documentation). Not replicated
//! between the nodes: call state and CDRs (calls up on a failed node end with it).
//!
//! Wiring assumed (XiVO's): provider on berofos group A, master on B, slave on D. The master
//! holds the lines in relay mode 1 (A–B), the slave in mode 0 (A–D), which is also where the
//! relays fall with the berofos unpowered or its watchdog expired.
//!
//! **One owner, always: the berofos is the arbiter.** A node activates its spans only after it
//! has commanded the relay to its mode and read that mode back; the relay has one position, so
//! at most one node holds the lines. A node that cannot reach the berofos takes nothing.
//!
//! Timers: heartbeat every `interval` (200 ms); the peer is lost after `misses` (5) intervals
//! without a valid heartbeat; `hold` (10 s) of own health before the master takes the lines
//! back; `relay_check` (1 s) between relay reads of an active node with a silent peer.
//!
//! ## Decision table (`Node::evaluate`, `handle_probe`, `handle_relay`)
//!
//! | row | state | condition | action | next |
//! |---|---|---|---|---|
//! | S1 | Standby | own health bad, or we yielded less than `yield_time` ago, or backing off | nothing | Standby |
//! | S2 | Standby | peer alive, healthy, Acquiring/Active | nothing; the master after `hold` of own health (and no manual switchover since) asks for failback in its heartbeats (the slave yields: A6, then S3) | Standby |
//! | S3 | Standby | peer alive and yielding (manual switchover) | end our own yield, if any; set relay to own mode | Acquiring |
//! | S4 | Standby | peer alive, reports itself unhealthy | set relay to own mode | Acquiring |
//! | S5 | Standby | peer alive, healthy, Standby | master: set relay; slave: only after nobody held the lines for `hold` | Acquiring |
//! | S6 | Standby | no heartbeat yet, started less than `misses` intervals ago | wait | Standby |
//! | S7 | Standby | peer lost, second path said alive less than `misses` intervals ago | nothing (network split: never take lines from a live peer) | Standby |
//! | S8 | Standby | peer lost | probe the peer's HTTP API | Probing |
//! | P1 | Probing | probe: healthy | nothing | Standby |
//! | P2 | Probing | probe: unhealthy, or unreachable (no answer in `request_timeout` included) | set relay to own mode | Acquiring |
//! | P3 | Probing | probe: unreachable, and the relay was last found in the peer's mode (A4) with no heartbeat since | nothing (the peer is alive and holds the lines: do not flap) | Standby |
//! | Q1 | Acquiring | relay reads back own mode | activate spans | Active |
//! | Q2 | Acquiring | berofos unreachable, or another mode | nothing (cannot fence: take no lines); retry after `retry` | Standby |
//! | A1 | Active | own health bad | deactivate spans | Standby |
//! | A2 | Active | peer Active too (partition healed, failback) | read the relay | Active |
//! | A3 | Active | peer lost | read the relay every `relay_check` | Active |
//! | A4 | Active | relay read: the peer's mode | deactivate spans; remember the peer took them | Standby |
//! | A5 | Active | relay read: unreachable | keep the lines (nobody else can move them) | Active |
//! | A6 | Active (slave) | the master, healthy and standby, asks for failback | deactivate spans, yield (flag in heartbeats) | Standby |
//! | M1 | Active | manual switchover | deactivate spans, yield (flag in heartbeats) | Standby |
//! | M2 | Standby | manual switchover, own health good | set relay to own mode | Acquiring |
//!
//! A yield (M1, A6) ends when the peer holds the lines or yields them back: a switchover from
//! either side always leaves one node to take the lines.
//!
//! A node "healthy" has its event loop alive and its media thread ticking; spans down do not make
//! it unhealthy (a standby node's spans are down for want of lines) but are reported.

pub mod heartbeat;
pub mod node;
pub mod page;
pub mod replica;
pub mod runtime;

#[cfg(test)]
mod tests;
