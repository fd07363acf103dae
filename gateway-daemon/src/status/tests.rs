//! The status page, JSON and metrics rendered from a sample snapshot.

use super::*;

fn sample() -> Snapshot {
    Snapshot {
        version: "0.1.0",
        board: BoardSnap {
            name: "lab <1>".into(),
            model: "sim-e1x2".into(),
            backend: "sim".into(),
            ..BoardSnap::default()
        },
        clock_source: "span 1".into(),
        clock_source_span: Some(1),
        spans: vec![
            SpanSnap {
                span: 1,
                name: "provider".into(),
                alarm_text: "OK".into(),
                up: true,
                clock_master: true,
                channels: vec![
                    ChannelSnap {
                        ts: 1,
                        role: "B",
                        state: "busy",
                        echo: Some(EchoSnap {
                            erl_db: 6.2,
                            erle_db: 31.5,
                            double_talk: false,
                            nlp_active: true,
                            converged: true,
                            bypassed: false,
                            fax_mode: false,
                        }),
                    },
                    ChannelSnap { ts: 16, role: "D", state: "idle", echo: None },
                ],
                isdn: Some(IsdnSnap {
                    role: "TE",
                    mode: "PTP",
                    layer1: "ACTIVATED",
                    layer2_up: true,
                    links: vec![Layer2Snap {
                        tei: Some(0),
                        state: "MULTIPLE_FRAME_ESTABLISHED".into(),
                        established: true,
                        ..Layer2Snap::default()
                    }],
                    counters: DchanCounterSnap { i_frames_sent: 4, retransmissions: 1, ..Default::default() },
                    calls: vec![CallSnap {
                        id: 3,
                        call_reference: 1,
                        state: "ACTIVE",
                        state_number: 10,
                        channel: Some(1),
                        called: "1234".into(),
                        calling: "5678".into(),
                        direction: "outgoing",
                        tei: 0,
                    }],
                    cleared: Vec::new(),
                    far_end: Some(Box::default()),
                }),
                ..SpanSnap::default()
            },
            SpanSnap {
                span: 2,
                name: "pbx".into(),
                alarm_text: "RED".into(),
                alarms: AlarmSnap { red: true, ..AlarmSnap::default() },
                counters: CounterSnap { slips: 3, ..CounterSnap::default() },
                isdn: Some(IsdnSnap {
                    role: "NT",
                    mode: "PTMP",
                    layer1: "DEACTIVATED",
                    links: vec![Layer2Snap { tei: Some(64), state: "TEI_ASSIGNED".into(), ..Layer2Snap::default() }],
                    ..IsdnSnap::default()
                }),
                ..SpanSnap::default()
            },
        ],
        ..Snapshot::default()
    }
}

#[test]
fn html_shows_every_span_with_its_alarm_and_escapes_names() {
    let h = to_html(&sample());
    assert!(h.contains(r#"id="span-1" data-alarm="OK""#));
    assert!(h.contains(r#"id="span-2" data-alarm="RED""#));
    assert!(h.contains("span red"));
    assert!(h.contains("lab &lt;1&gt;"));
    assert!(!h.contains("lab <1>"));
    assert!(h.contains(r#"<span class="clock">CLOCK</span>"#));
    assert!(h.contains("timeslot 1: B busy; echo canceller: ERLE 31.5 dB, ERL 6.2 dB, converged"), "{h}");
}

#[test]
fn metrics_are_valid_exposition_lines() {
    let m = to_metrics(&sample());
    assert!(m.contains("spangate_span_up{span=\"1\",name=\"provider\"} 1\n"));
    assert!(m.contains("spangate_span_alarm{span=\"2\",name=\"pbx\",alarm=\"red\"} 1\n"));
    assert!(m.contains("spangate_span_slips_total{span=\"2\",name=\"pbx\"} 3\n"));
    assert!(m.contains("spangate_span_channels_in_use{span=\"1\",name=\"provider\"} 1\n"));
    assert!(m.contains("spangate_clock_source_span 1\n"));
    assert!(m.contains("spangate_echo_erle_db{span=\"1\",ts=\"1\"} 31.5\n"), "{m}");
    for line in m.lines().filter(|l| !l.starts_with('#')) {
        let (_, value) = line.rsplit_once(' ').expect("name and value");
        assert!(value.parse::<f64>().is_ok(), "{line}");
    }
}

#[test]
fn isdn_state_shows_on_the_page_and_in_the_metrics() {
    let h = to_html(&sample());
    assert!(h.contains(r#"id="isdn-1" data-layer2="up""#), "{h}");
    assert!(h.contains(r#"TEI 0: <span class="l2 up">MULTIPLE_FRAME_ESTABLISHED</span>"#), "{h}");
    assert!(h.contains(r#"id="isdn-2" data-layer2="down""#), "{h}");
    assert!(h.contains(r#"TEI 64: <span class="l2 down">TEI_ASSIGNED</span>"#), "{h}");
    let m = to_metrics(&sample());
    assert!(m.contains("spangate_isdn_layer2_up{span=\"1\",name=\"provider\",tei=\"0\"} 1\n"), "{m}");
    assert!(m.contains("spangate_isdn_layer2_up{span=\"2\",name=\"pbx\",tei=\"64\"} 0\n"), "{m}");
    assert!(m.contains("spangate_isdn_layer1_up{span=\"2\",name=\"pbx\"} 0\n"), "{m}");
    assert!(m.contains("spangate_isdn_retransmissions_total{span=\"1\",name=\"provider\"} 1\n"), "{m}");
    assert!(m.contains("# TYPE spangate_isdn_i_frames_sent_total counter\n"), "{m}");
    assert!(m.contains("spangate_isdn_calls{span=\"1\",name=\"provider\"} 1\n"), "{m}");
    assert!(h.contains(r#"data-call="3">call 3 outgoing 5678 &rarr; 1234 · B 1 · ACTIVE"#), "{h}");
}

#[test]
fn a_calls_legs_show_their_media_and_rtcp_counters_are_aggregate_metrics() {
    use crate::sipnet_rtcp::{LegMedia, RtcpCounters, SipLegMedia};
    let mut s = sample();
    let sip = SipLegMedia {
        codec: "PCMA",
        ptime: 20,
        remote: Some("192.0.2.7:40000".into()),
        rtcp_port: 10001,
        packets_received: 500,
        packets_sent: 498,
        lost: 5,
        loss_percent: 1.0,
        jitter_ms: 2.25,
        far_lost: Some(0),
        far_loss_percent: Some(0.0),
        far_jitter_ms: Some(1.5),
        rtt_ms: Some(42.0),
        fax: None,
    };
    s.switch.calls.push(crate::switch::BridgeSnap {
        id: 9,
        state: "ACTIVE",
        from: "trunk:pbx".into(),
        to: "span:1".into(),
        called: "1234".into(),
        calling: "5678".into(),
        seconds: 10,
        answered: true,
        leg_refs: [None, None],
        legs: vec![
            LegMedia::Sip(sip),
            LegMedia::Isdn { span: 1, channel: Some(3), erle_db: Some(28.25) },
            LegMedia::Isdn { span: 2, channel: None, erle_db: None },
        ],
    });
    s.sip = Some(SipSnap {
        rtcp: RtcpCounters { rtcp_sent: 7, rtcp_received: 6, rtcp_malformed: 1, rtp_lost: 5 },
        ..SipSnap::default()
    });
    let h = to_html(&s);
    assert!(h.contains("SIP PCMA 20 ms to 192.0.2.7:40000 · rx 500 tx 498 · loss 1.0 % (5) · jitter 2.2 ms · far end: loss 0.0 % jitter 1.5 ms · RTT 42 ms<br>span 1 B3 · ERLE 28.2 dB<br>span 2 B- · no echo canceller"), "{h}");
    let v: serde_json::Value = serde_json::from_str(&to_json(&s)).unwrap();
    let legs = &v["switch"]["calls"][0]["legs"];
    assert_eq!(legs[0]["kind"], "sip");
    assert_eq!(legs[0]["far_jitter_ms"], 1.5);
    assert_eq!(legs[1]["kind"], "isdn");
    assert_eq!(legs[1]["channel"], 3);
    assert!(v["switch"]["calls"][0].get("leg_refs").is_none(), "not serialised");
    let m = to_metrics(&s);
    assert!(m.contains("spangate_rtcp_sent_total 7\n"), "{m}");
    assert!(m.contains("spangate_rtcp_malformed_total 1\n"), "{m}");
    assert!(m.contains("spangate_rtp_lost_total 5\n"), "{m}");
    assert!(m.contains("\nspangate_g729_tc400b_fallbacks_total "), "{m}");
    assert!(m.contains("\nspangate_g729_tc400b_errors_total "), "{m}");
    assert!(!m.contains("192.0.2.7"), "no per-call series: {m}");
}

#[test]
fn json_round_trips_through_a_parser() {
    let v: serde_json::Value = serde_json::from_str(&to_json(&sample())).unwrap();
    assert_eq!(v["spans"][1]["alarms"]["red"], true);
    assert_eq!(v["clock_source_span"], 1);
    let isdn = &v["spans"][0]["isdn"];
    assert_eq!(isdn["links"][0]["state"], "MULTIPLE_FRAME_ESTABLISHED");
    assert_eq!(isdn["links"][0]["tei"], 0);
    assert_eq!(isdn["counters"]["i_frames_sent"], 4);
    assert_eq!(isdn["far_end"]["layer2_up"], false);
    assert_eq!(isdn["calls"][0]["state"], "ACTIVE");
    assert_eq!(isdn["calls"][0]["call_reference"], 1);
    assert_eq!(isdn["calls"][0]["direction"], "outgoing");
    assert_eq!(v["spans"][1]["isdn"]["mode"], "PTMP");
}
