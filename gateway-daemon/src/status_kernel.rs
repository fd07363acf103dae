//! The kernel's own view of a DAHDI span on the status page, in JSON and in the metrics: what
//! `/proc/dahdi/N` shows (alarm words, line configuration, BPV/CRC-4/E-bit/FAS counters, IRQ
//! misses, timing slips, each channel's signalling, open state and echo canceller) plus the
//! D-channel's HDLC events fetched through `-ELAST`. Sim boards have no such block.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use dahdi_driver::backend::procfs::ProcSpan;
use serde::Serialize;

use crate::status::esc;

/// One DAHDI span as the kernel reports it.
#[derive(Debug, Clone, Serialize, Default, PartialEq, Eq)]
pub struct KernelSnap {
    /// The kernel's span name and description (`TE2/0/1`, `"T2XXP (PCI) Card 0 Span 1"`).
    pub name: String,
    pub desc: String,
    /// The span is DAHDI's timing master / the clock source.
    pub master: bool,
    pub clock_source: bool,
    /// `CCS/HDB3/CRC4`...
    pub lineconfig: String,
    /// The kernel's alarm words; empty when none.
    pub alarms: Vec<String>,
    pub bpv: u64,
    pub crc4_errors: u64,
    pub ebit_errors: u64,
    pub fas_errors: u64,
    pub irq_misses: u64,
    pub timing_slips: u64,
    /// HDLC events on the D-channel (bad FCS, aborts, overruns) and its frames.
    pub dchan: Option<DchanKernelSnap>,
    pub channels: Vec<KernelChannelSnap>,
}

/// One kernel channel of the span.
#[derive(Debug, Clone, Serialize, Default, PartialEq, Eq)]
pub struct KernelChannelSnap {
    /// DAHDI's global channel number.
    pub channo: u32,
    /// Position in the span (1-based).
    pub pos: u32,
    pub sig: String,
    pub in_use: bool,
    pub alarms: Vec<String>,
    /// The attached echo canceller (`VPMOCT064`, `MG2`...) and whether it runs.
    pub echo: Option<String>,
    pub echo_active: bool,
}

/// The D-channel's counters as the DAHDI backend keeps them.
#[derive(Debug, Clone, Copy, Serialize, Default, PartialEq, Eq)]
pub struct DchanKernelSnap {
    pub channo: i32,
    pub rx_frames: u64,
    pub tx_frames: u64,
    pub bad_fcs: u64,
    pub aborts: u64,
    pub overruns: u64,
    pub alarm_events: u64,
}

impl DchanKernelSnap {
    /// The counters of a DAHDI D-channel.
    pub fn of(d: &dahdi_driver::backend::DChannel) -> DchanKernelSnap {
        DchanKernelSnap {
            channo: d.channo(),
            rx_frames: d.rx_frames,
            tx_frames: d.tx_frames,
            bad_fcs: d.events.bad_fcs,
            aborts: d.events.aborts,
            overruns: d.events.overruns,
            alarm_events: d.events.alarms,
        }
    }
}

impl KernelSnap {
    /// The block for a parsed `/proc/dahdi/N`.
    pub fn from_proc(p: &ProcSpan, dchan: Option<DchanKernelSnap>) -> KernelSnap {
        // Channels are listed in span order, so the position is the line's index.
        let channels = p
            .channels
            .iter()
            .enumerate()
            .map(|(i, c)| KernelChannelSnap {
                channo: c.channo,
                pos: u32::try_from(i + 1).unwrap_or(u32::MAX),
                sig: c.sig.clone(),
                in_use: c.in_use,
                alarms: c.alarms.clone(),
                echo: c.echo.as_ref().map(|(n, _)| n.clone()),
                echo_active: c.echo.as_ref().is_some_and(|(_, a)| *a),
            })
            .collect();
        KernelSnap {
            name: p.name.clone(),
            desc: p.desc.clone(),
            master: p.master,
            clock_source: p.clock_source,
            lineconfig: p.lineconfig.clone(),
            alarms: p.alarms.clone(),
            bpv: p.bpv,
            crc4_errors: p.crc4_errors,
            ebit_errors: p.ebit_errors,
            fas_errors: p.fas_errors,
            irq_misses: p.irq_misses,
            timing_slips: p.timing_slips,
            dchan,
            channels,
        }
    }

    /// The alarm words as one text: `OK` when there are none.
    pub fn alarm_text(&self) -> String {
        if self.alarms.is_empty() {
            "OK".into()
        } else {
            self.alarms.join(" ")
        }
    }
}

/// How long a read of `/proc/dahdi/N` is reused: the page is rebuilt by the kernel on every read
/// and the event loop publishes ten times a second; once a second is plenty for counters.
const PROC_EVERY: Duration = Duration::from_secs(1);

thread_local! {
    /// The last `/proc/dahdi/N` read per span, on the event loop's thread (the only caller).
    static PROC_CACHE: RefCell<HashMap<u32, (Instant, Option<ProcSpan>)>> = RefCell::new(HashMap::new());
}

/// The kernel block of DAHDI span `number` (its `/proc/dahdi/N`, read at most once a second, and
/// the counters of its D-channel when the event loop holds one); `None` when the page cannot be
/// read.
pub fn read(number: u32, dchan: Option<&crate::media_board::BoardDChannel>) -> Option<KernelSnap> {
    let now = Instant::now();
    let p = PROC_CACHE.with(|c| {
        let mut c = c.borrow_mut();
        match c.get(&number) {
            Some((at, p)) if now.duration_since(*at) < PROC_EVERY => p.clone(),
            _ => {
                let p = dahdi_driver::backend::procfs::read(number).ok();
                c.insert(number, (now, p.clone()));
                p
            }
        }
    })?;
    Some(KernelSnap::from_proc(&p, dchan.and_then(|d| d.dahdi()).map(DchanKernelSnap::of)))
}

/// The span card's "Kernel" rows.
pub fn html(h: &mut String, span: u32, k: &KernelSnap) {
    let open = k.channels.iter().filter(|c| c.in_use).count();
    let ec: Vec<String> = k
        .channels
        .iter()
        .filter_map(|c| {
            c.echo.as_ref().map(|e| format!("{}: {} {}", c.pos, e, if c.echo_active { "on" } else { "off" }))
        })
        .collect();
    let _ = write!(
        h,
        r#"<table class="kv kernel" id="kernel-{span}">
<tr><td>DAHDI span</td><td>{name} “{desc}”{master}</td></tr>
<tr><td>Kernel alarms</td><td>{alarms} · {line}</td></tr>
<tr><td>IRQ misses / slips</td><td>{irq} / {slips}</td></tr>
<tr><td>BPV / CRC-4 / E-bit / FAS</td><td>{bpv} / {crc} / {ebit} / {fas}</td></tr>
<tr><td>Channels open</td><td>{open} of {n}</td></tr>
"#,
        name = esc(&k.name),
        desc = esc(&k.desc),
        master = if k.master { " (MASTER)" } else { "" },
        alarms = esc(&k.alarm_text()),
        line = esc(&k.lineconfig),
        irq = k.irq_misses,
        slips = k.timing_slips,
        bpv = k.bpv,
        crc = k.crc4_errors,
        ebit = k.ebit_errors,
        fas = k.fas_errors,
        n = k.channels.len(),
    );
    if let Some(d) = &k.dchan {
        let _ = writeln!(
            h,
            "<tr><td>D-channel {} events</td><td>bad FCS {} · aborts {} · overruns {} · alarms {}</td></tr>",
            d.channo, d.bad_fcs, d.aborts, d.overruns, d.alarm_events
        );
    }
    if !ec.is_empty() {
        let _ = writeln!(h, "<tr><td>Echo cancellers</td><td>{}</td></tr>", esc(&ec.join(", ")));
    }
    h.push_str("</table>\n");
}

/// One metric family: name, help, and rows of (labels, value).
pub type MetricFamily = (&'static str, &'static str, Vec<(String, String)>);

/// `spangate_dahdi_*` metric families for the spans that have a kernel block.
pub fn metric_rows<'a>(spans: impl Iterator<Item = (String, &'a KernelSnap)> + Clone) -> Vec<MetricFamily> {
    type Get = fn(&KernelSnap) -> u64;
    let counters: [(&'static str, &'static str, Get); 8] = [
        ("spangate_dahdi_irq_misses_total", "IRQ misses of the span's card, as /proc/dahdi shows them.", |k| {
            k.irq_misses
        }),
        ("spangate_dahdi_timing_slips_total", "Timing slips of the span, as /proc/dahdi shows them.", |k| {
            k.timing_slips
        }),
        ("spangate_dahdi_bpv_total", "Bipolar violations counted by the span's framer.", |k| k.bpv),
        ("spangate_dahdi_crc4_errors_total", "CRC-4 errors counted by the span's framer.", |k| k.crc4_errors),
        ("spangate_dahdi_ebit_errors_total", "E-bit errors counted by the span's framer.", |k| k.ebit_errors),
        ("spangate_dahdi_fas_errors_total", "Frame alignment errors counted by the span's framer.", |k| k.fas_errors),
        ("spangate_dahdi_channels_open", "Channels of the span some program has open.", |k| {
            u64::try_from(k.channels.iter().filter(|c| c.in_use).count()).unwrap_or(u64::MAX)
        }),
        ("spangate_dahdi_dchan_bad_fcs_total", "D-channel frames the kernel dropped for a bad FCS.", |k| {
            k.dchan.map_or(0, |d| d.bad_fcs)
        }),
    ];
    counters
        .iter()
        .map(|(name, help, get)| (*name, *help, spans.clone().map(|(l, k)| (l, get(k).to_string())).collect()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dahdi_driver::backend::procfs;

    #[test]
    fn a_proc_page_becomes_the_kernel_block_with_positions_and_echo_state() {
        let p = procfs::parse(
            "Span 2: TE2/0/2 \"T2XXP (PCI) Card 0 Span 2\" CCS/HDB3 RED \n\tIRQ misses: 3\n\tTiming slips: 9\n\n\
             \t  32 TE2/0/2/1 Clear (In use) (EC: VPMOCT064 - ACTIVE) \n\t  33 TE2/0/2/2 Clear \n",
        );
        let k = KernelSnap::from_proc(&p, None);
        assert_eq!((k.irq_misses, k.timing_slips, k.alarm_text().as_str()), (3, 9, "RED"));
        assert_eq!((k.channels[1].channo, k.channels[1].pos, k.channels[1].in_use), (33, 2, false));
        assert_eq!((k.channels[0].echo.as_deref(), k.channels[0].echo_active), (Some("VPMOCT064"), true));
        let mut h = String::new();
        html(&mut h, 2, &k);
        assert!(h.contains("<td>3 / 9</td>") && h.contains("1 of 2") && h.contains("1: VPMOCT064 on"), "{h}");
        let rows = metric_rows(std::iter::once(("span=\"2\"".to_string(), &k)));
        let slips = rows.iter().find(|r| r.0 == "spangate_dahdi_timing_slips_total").expect("slips row");
        assert_eq!(slips.2, vec![("span=\"2\"".to_string(), "9".to_string())]);
    }
}
