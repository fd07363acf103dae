//! Spangate configs beyond the shipped boards, shared by the round-trip and dahdi_cfg tests.

/// Configs beyond the shipped boards: T1 with LBO and mu-law, E1 with CRC-4, CAS, clear channels,
/// each echo mode, BRI NT point-to-multipoint and every analog start; Q.931 timers on one span
/// only (so the export must undo them for the next) and a span with its own tone zone.
pub const SYNTHETIC: &[&str] = &[
    r#"
[board]
model = "dahdi-generic"
backend = "dahdi"
kernel_module = "wcte43x"
tonezone = "de"

[[board.span]]
span = 1
kind = "t1"
lbo = 3
timing = 1
signalling = "pri_cpe"
switchtype = "national"
group = [1]
context = "from-t1"
echo = { mode = "software", taps = 256 }
timers = { t309_ms = 6000, t303_ms = 2500 }
tonezone = "us"

[[board.span]]
span = 2
kind = "e1"
crc4 = true
timing = 2
signalling = "pri_net"
overlapdial = "both"
layer2_persistence = "keep_up"
group = [2, 20]
context = "from-net"
echo = { mode = "hardware", taps = 64 }

[[board.span]]
span = 3
kind = "e1"
framing = "cas"
signalling = "cas"
group = [3]
context = "from-cas"
echo = { mode = "off", taps = 128 }

[[board.span]]
span = 4
kind = "e1"
signalling = "none"
bchan = "1-10"
group = [4]
echo = { mode = "off", taps = 128 }
"#,
    r#"
[board]
model = "b410p"
backend = "dahdi"
kernel_module = "wcb4xxp"

[[board.span]]
span = 1
kind = "bri"
signalling = "bri_net_ptmp"
layer1_presence = "ignore"
group = [7]
context = "from-phones"
echo = { mode = "software", taps = 128 }

[[board.span]]
span = 2
kind = "bri"
timing = 1
signalling = "bri_cpe"
switchtype = "qsig"
group = [8]
context = "from-bri"
echo = { mode = "hardware", taps = 128 }
"#,
    r#"
[board]
model = "tdm410p"
backend = "dahdi"
kernel_module = "wctdm24xxp"

[[board.span]]
span = 1
kind = "fxs"
signalling = "fxo_ls"
law = "mulaw"
group = [1]
echo = { mode = "software", taps = 128 }

[[board.span]]
span = 2
kind = "fxs"
signalling = "fxo_gs"
group = [1]
echo = { mode = "off", taps = 128 }

[[board.span]]
span = 3
kind = "fxo"
signalling = "fxs_ls"
group = [2]
echo = { mode = "hardware", taps = 128 }

[[board.span]]
span = 4
kind = "fxo"
signalling = "fxs_gs"
group = [2]
context = "from-pstn"
echo = { mode = "software", taps = 512 }
"#,
];
