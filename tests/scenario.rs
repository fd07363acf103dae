//! sipp scenarios the e2e tests write at run time (when the SDP must name a port chosen by the test):
//! a caller that sends an INVITE with SDP, ACKs the 200, runs the test's own middle part and hangs
//! up, an answerer that answers with SDP and waits for the BYE, and the in-dialog requests a middle
//! part is made of. The fixed scenarios live as files in `tests/peers/`.
//!
//! The text uses sipp's keywords (`[service]`, `[last_Via:]`, ...); the caller is `a`, the answerer
//! `b`, tagged with sipp's call number, so a test reading a capture can tell the sides apart.

/// A caller scenario named `name`: INVITE with `sdp` (CSeq 1), the 200 ACKed (its `o=` line logged
/// as `ANSWER o=...` when sipp runs with `-trace_logs`), then `middle` (in-dialog requests, pauses),
/// then BYE with CSeq `bye_cseq` and its 200.
pub fn caller(name: &str, sdp: &str, middle: &str, bye_cseq: usize) -> String {
    format!(
        r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="{name}">
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:a@[local_ip]:[local_port]>;tag=a[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:a@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

{sdp}]]></send>
  <recv response="100" optional="true" />
  <recv response="180" optional="true" />
  <recv response="183" optional="true" />
  <recv response="200" rrs="true">
    <action>
      <ereg regexp="o=[^\r\n]*" search_in="body" assign_to="origin" />
      <log message="ANSWER [$origin]" />
    </action>
  </recv>
{ack}{middle}{bye}  <recv response="200" />
</scenario>
"#,
        ack = ack(1),
        bye = in_dialog("BYE", bye_cseq, None, "")
    )
}

/// The ACK of the INVITE with CSeq `cseq`.
pub fn ack(cseq: usize) -> String {
    format!(
        r#"  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:a@[local_ip]:[local_port]>;tag=a[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: {cseq} ACK
Contact: <sip:a@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0
]]></send>
"#
    )
}

/// A request `method` of the caller inside the dialog, CSeq `cseq`, with a body of `content_type`
/// when one is given (retransmitted every 500 ms until answered; the caller of this function adds
/// the `<recv>` of the answer it expects, except for BYE, whose 200 `caller` waits for).
pub fn in_dialog(method: &str, cseq: usize, content_type: Option<&str>, body: &str) -> String {
    // Without a body the headers end the message (sipp adds the blank line), as in the fixed files.
    let tail = match content_type {
        Some(t) => format!("Content-Type: {t}\nContent-Length: [len]\n\n{body}"),
        None => "Content-Length: 0\n".to_string(),
    };
    format!(
        r#"  <send retrans="500"><![CDATA[
{method} [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:a@[local_ip]:[local_port]>;tag=a[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: {cseq} {method}
Contact: <sip:a@[local_ip]:[local_port]>
Max-Forwards: 70
{tail}]]></send>
"#
    )
}

/// An answerer scenario named `name`: takes the INVITE, rings first when `ring` (a 180), answers 200
/// with `sdp`, takes the ACK and then `middle` (what the test expects inside the call), and answers
/// the caller's BYE.
pub fn answerer(name: &str, sdp: &str, ring: bool, middle: &str) -> String {
    let ringing = if ring {
        r#"  <send><![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=b[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:b@[local_ip]:[local_port]>
Content-Length: 0
]]></send>
"#
    } else {
        ""
    };
    format!(
        r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="{name}">
  <recv request="INVITE" crlf="true" />
{ringing}  <send retrans="500"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=b[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:b@[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

{sdp}]]></send>
  <recv request="ACK" />
{middle}  <recv request="BYE" />
{ok}</scenario>
"#,
        ok = ok_to_last()
    )
}

/// A 200 OK to the request just received.
pub fn ok_to_last() -> &'static str {
    r#"  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
]]></send>
"#
}
