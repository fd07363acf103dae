//! Tests of the backend's kernel-free parts: settings to ABI structures, ABI structures to status.

use super::channel::EventLog;
use super::*;
use crate::sys::event;
use hal::{Capabilities, SpanKind};

#[test]
fn e1_ccs_hdb3_crc4_gives_the_bits_dahdi_cfg_sets() {
    let c = SpanConfig::defaults(SpanKind::E1);
    assert_eq!(lineconfig_bits(&c), config::CCS | config::HDB3 | config::CRC4);
    let mut cas = c.clone();
    cas.framing = Framing::Cas;
    cas.crc4 = false;
    assert_eq!(lineconfig_bits(&cas), config::HDB3);
    let t1 = SpanConfig::defaults(SpanKind::T1);
    assert_eq!(lineconfig_bits(&t1), config::ESF | config::B8ZS);
    let lc = lineconfig(3, &SpanConfig { timing: 2, ..c });
    assert_eq!((lc.span, lc.sync, lc.lbo), (3, 2, 0));
}

#[test]
fn only_bri_nt_sets_the_ntte_bit() {
    let mut bri = SpanConfig::defaults(SpanKind::Bri);
    assert_eq!(lineconfig_bits(&bri) & config::NTTE, 0);
    bri.termination = Termination::Nt;
    assert_eq!(lineconfig_bits(&bri) & config::NTTE, config::NTTE);
    let mut e1 = SpanConfig::defaults(SpanKind::E1);
    e1.termination = Termination::Nt;
    assert_eq!(lineconfig_bits(&e1) & config::NTTE, 0, "E1 NT is a protocol role, not a line setting");
}

#[test]
fn channel_roles_map_to_dahdi_signalling() {
    let d = chanconfig(16, ChanRole::DChannel, Law::Alaw);
    assert_eq!((d.chan, d.sigtype, d.deflaw, d.master), (16, sig::HDLCFCS, sys::law::ALAW, 16));
    assert_eq!(chanconfig(1, ChanRole::Bearer, Law::Mulaw).sigtype, sig::CLEAR);
    assert_eq!(chanconfig(1, ChanRole::Bearer, Law::Mulaw).deflaw, sys::law::MULAW);
    assert_eq!(chanconfig(3, ChanRole::HardHdlc, Law::Alaw).sigtype, sig::HARDHDLC);
    assert_eq!(chanconfig(5, ChanRole::Unused, Law::Alaw).sigtype, sig::NONE);
}

fn raw_span(spanno: i32, alarms: i32) -> DahdiSpaninfo {
    let mut s = <DahdiSpaninfo as ioctl::Abi>::zeroed();
    s.spanno = spanno;
    s.alarms = alarms;
    s
}

#[test]
fn alarms_and_counters_come_from_spanstat() {
    let mut s = raw_span(2, alarm::RED | alarm::YELLOW);
    s.crc4count = 7;
    s.irqmisses = -1;
    s.syncsrc = 2;
    s.numchans = 31;
    ioctl::put_str(&mut s.name, "DYN/loc/1:0");
    let st = span_status(&s);
    assert!(st.alarms.red && st.alarms.yellow && !st.alarms.blue && !st.alarms.loopback);
    assert_eq!(st.counters.crc_errors, 7);
    assert_eq!(st.counters.late_ticks, 0, "a negative kernel counter is not a huge one");
    assert!(st.clock_master && st.running);
    let info = SpanInfo::from_raw(&s);
    assert_eq!(info.name, "DYN/loc/1:0");
    // Loss of frame alignment alone is a red alarm too.
    assert!(span_status(&raw_span(1, alarm::LFA)).alarms.red);
    assert!(span_status(&raw_span(1, 0)).alarms.is_clear());
    assert!(!span_status(&raw_span(1, 0)).clock_master);
}

#[test]
fn events_are_counted_and_the_queue_is_bounded() {
    let mut log = EventLog::default();
    for _ in 0..100 {
        log.record(event::BADFCS);
    }
    log.record(event::ABORT);
    assert_eq!((log.bad_fcs, log.aborts), (100, 1));
    let kept = log.take();
    assert_eq!(kept.len(), 64);
    assert_eq!(kept.last(), Some(&event::ABORT));
    assert!(log.take().is_empty());
}

#[test]
fn capabilities_follow_what_the_kernel_reports() {
    let mut raw = raw_span(1, 0);
    ioctl::put_str(&mut raw.spantype, "TE");
    raw.linecompat = config::AMI | config::CCS;
    let bri = SpanInfo::from_raw(&raw);
    let c = capabilities(&bri, "\t   1 B4/0/1/1 Clear ");
    assert!(c.hardware_hdlc && c.nt_mode && c.loopback && !c.hardware_echo_canceller);
    let mut raw = raw_span(2, 0);
    ioctl::put_str(&mut raw.spantype, "E1");
    raw.linecompat = config::CCS | config::HDB3 | config::CRC4;
    let e1 = SpanInfo::from_raw(&raw);
    let c = capabilities(&e1, "\t   1 TE2/0/1/1 Clear (In use) (EC: VPMOCT064 - INACTIVE) ");
    assert!(c.hardware_echo_canceller && !c.hardware_hdlc && !c.nt_mode && c.loopback);
    let dynamic = SpanInfo::from_raw(&raw_span(3, 0));
    assert_eq!(capabilities(&dynamic, "(EC: MG2 - INACTIVE)"), Capabilities::default());
}
