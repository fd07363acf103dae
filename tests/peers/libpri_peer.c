/* libpri_peer: libpri as the far end of one spangate D-channel, for the end-to-end tests.
 *
 * usage: libpri_peer net|cpe pri|bri-ptp|bri-ptmp OWN_SOCKET DAEMON_SOCKET [SECONDS]
 *
 * It binds a Unix datagram socket at OWN_SOCKET, connects it to the daemon's `dchan:` socket
 * (DAEMON_SOCKET) and runs one libpri instance on it in the given role and mode, EuroISDN. Each
 * event is printed on stdout as one line, its name without the PRI_EVENT_ prefix (DCHAN_UP,
 * DCHAN_DOWN, ...), so that tests can wait for lines. It exits after SECONDS (default 30) or
 * when its parent dies, so a failed test never leaves it behind.
 *
 * Calls are driven by a script of lines on stdin (one call at a time, "the call"):
 *   call CALLED CALLING [CHAN]  SETUP, speech, en bloc, exclusive B-channel CHAN (default 1)
 *   ocall CALLED CALLING        the same without sending complete (overlap: add digits)
 *   onring alert|answer|overlap|reject CAUSE
 *                               what RING does next (default alert: CALL PROCEEDING + ALERTING;
 *                               overlap: SETUP ACKNOWLEDGE; reject: CALL PROCEEDING + DISCONNECT
 *                               with CAUSE)
 *   overlapdial                 pri_set_overlapdial(1): report INFORMATION digits of a call
 *   alert                       CALL PROCEEDING + ALERTING for the call (after overlap)
 *   answer                      CONNECT the ringing call
 *   hangup CAUSE                clear the call (DISCONNECT, or RELEASE COMPLETE before an answer)
 *   restart CHAN                RESTART of one B-channel
 *   digit D                     INFORMATION with one more digit (overlap sending)
 *   mute / unmute               cut the line both ways / put it back (a layer 2 loss)
 * and prints, besides the plain event names:
 *   RING called=1234 calling=5678 chan=1 cref=N complete=1
 *   PROCEEDING chan=N / RINGING chan=N / ANSWER chan=N / SETUP_ACK chan=N
 *   HANGUP_REQ cause=N / HANGUP cause=N / HANGUP_ACK cause=N   (HANGUP_REQ and HANGUP are
 *                               answered with pri_hangup, as chan_dahdi does)
 *   RESTART chan=N / RESTART_ACK chan=N / INFO_RECEIVED digits=D
 *   ERROR text                  a script line that could not be carried out
 *
 * When a send is refused (the daemon restarted and bound a new socket at DAEMON_SOCKET), it
 * connects again and resends, so that a test can restart the daemon under a running peer.
 *
 * Framing: one datagram is one Q.921 frame plus 2 FCS octets. libpri itself writes those 2
 * octets and drops them on reading (q921_transmit / q921_receive), so the I/O callbacks pass
 * datagrams through whole; the daemon's side adds and strips them.
 *
 * libpri is GPL: this program runs as a separate process and is never linked into spangate.
 * Set PRI_DEBUG (e.g. 0x26) to get libpri's own Q.921/Q.931 decode on stderr.
 */
#include <errno.h>
#include <libpri.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

/* While muted the line is cut both ways: frames are read and dropped, writes vanish. */
static int muted;

/* The daemon's socket, to connect to again when the daemon restarted (a new socket at the same
 * path: the old connection refuses every datagram). */
static struct sockaddr_un daemon_addr = { .sun_family = AF_UNIX };

static int io_read(struct pri *pri, void *buf, int len)
{
	ssize_t n = recv(pri_fd(pri), buf, (size_t)len, MSG_DONTWAIT);
	if (muted)
		return 0;
	/* 0 is "no frame" to libpri; a datagram socket has no end of file. */
	return n < 0 ? 0 : (int)n;
}

static int io_write(struct pri *pri, void *buf, int len)
{
	if (muted)
		return len;
	ssize_t n = send(pri_fd(pri), buf, (size_t)len, 0);
	if (n < 0 && (errno == ECONNREFUSED || errno == ENOTCONN)
	    && connect(pri_fd(pri), (struct sockaddr *)&daemon_addr, sizeof(daemon_addr)) == 0)
		n = send(pri_fd(pri), buf, (size_t)len, 0);
	if (n < 0)
		fprintf(stderr, "libpri_peer: send: %s\n", strerror(errno));
	/* libpri wants the full length back, or it reports a short write. */
	return n < 0 ? -1 : (int)n;
}

static void say(struct pri *pri, char *s)
{
	(void)pri;
	fprintf(stderr, "libpri: %s", s);
}

static const char *event_name(int e)
{
	switch (e) {
	case PRI_EVENT_DCHAN_UP: return "DCHAN_UP";
	case PRI_EVENT_DCHAN_DOWN: return "DCHAN_DOWN";
	case PRI_EVENT_RESTART: return "RESTART";
	case PRI_EVENT_CONFIG_ERR: return "CONFIG_ERR";
	case PRI_EVENT_RING: return "RING";
	case PRI_EVENT_HANGUP: return "HANGUP";
	case PRI_EVENT_RINGING: return "RINGING";
	case PRI_EVENT_ANSWER: return "ANSWER";
	case PRI_EVENT_HANGUP_ACK: return "HANGUP_ACK";
	case PRI_EVENT_RESTART_ACK: return "RESTART_ACK";
	case PRI_EVENT_FACILITY: return "FACILITY";
	case PRI_EVENT_INFO_RECEIVED: return "INFO_RECEIVED";
	case PRI_EVENT_PROCEEDING: return "PROCEEDING";
	case PRI_EVENT_SETUP_ACK: return "SETUP_ACK";
	case PRI_EVENT_HANGUP_REQ: return "HANGUP_REQ";
	case PRI_EVENT_NOTIFY: return "NOTIFY";
	case PRI_EVENT_PROGRESS: return "PROGRESS";
	default: return NULL;
	}
}

/* The one call the script talks about, and what to do when a call rings. */
static q931_call *call;
static int call_chan;
static enum { ON_RING_ALERT, ON_RING_ANSWER, ON_RING_OVERLAP, ON_RING_REJECT } on_ring = ON_RING_ALERT;
static int reject_cause;

/* The B-channel number of libpri's channel word (bchan | span << 8 | explicit << 16). */
static int bchan(int channel)
{
	return channel < 0 ? channel : channel & 0xff;
}

static void handle_event(struct pri *pri, pri_event *e)
{
	const char *name = event_name(e->e);
	switch (e->e) {
	case PRI_EVENT_RING:
		printf("RING called=%s calling=%s chan=%d cref=%d complete=%d\n", e->ring.callednum,
		       e->ring.callingnum, bchan(e->ring.channel), e->ring.cref, e->ring.complete);
		call = e->ring.call;
		call_chan = e->ring.channel;
		if (on_ring == ON_RING_REJECT) {
			/* libpri sends nothing for a hangup straight after RING (the call is still in
			 * CALL_INITIATED there); a first answer makes it clear with DISCONNECT. */
			pri_proceeding(pri, call, call_chan, 0);
			pri_hangup(pri, call, reject_cause);
			break;
		}
		if (on_ring == ON_RING_OVERLAP) {
			pri_need_more_info(pri, call, call_chan, 0);
			break;
		}
		pri_proceeding(pri, call, call_chan, 0);
		pri_acknowledge(pri, call, call_chan, 0);
		if (on_ring == ON_RING_ANSWER)
			pri_answer(pri, call, call_chan, 0);
		break;
	case PRI_EVENT_PROCEEDING:
	case PRI_EVENT_RINGING:
	case PRI_EVENT_ANSWER:
	case PRI_EVENT_SETUP_ACK: {
		int ch = e->e == PRI_EVENT_PROCEEDING ? e->proceeding.channel
			: e->e == PRI_EVENT_RINGING ? e->ringing.channel
			: e->e == PRI_EVENT_ANSWER ? e->answer.channel
			: e->setup_ack.channel;
		/* The answer names the channel the network picked; later requests use it. */
		if (ch > 0)
			call_chan = ch;
		printf("%s chan=%d\n", name, bchan(ch));
		break;
	}
	case PRI_EVENT_HANGUP_REQ:
		printf("%s cause=%d\n", name, e->hangup.cause);
		pri_hangup(pri, e->hangup.call, e->hangup.cause);
		break;
	case PRI_EVENT_HANGUP:
		printf("%s cause=%d\n", name, e->hangup.cause);
		/* The second pri_hangup sends RELEASE COMPLETE and frees the call (libpri's rule). */
		pri_hangup(pri, e->hangup.call, e->hangup.cause);
		if (e->hangup.call == call)
			call = NULL;
		break;
	case PRI_EVENT_HANGUP_ACK:
		printf("%s cause=%d\n", name, e->hangup.cause);
		if (e->hangup.call == call)
			call = NULL;
		break;
	case PRI_EVENT_RESTART:
		printf("RESTART chan=%d\n", bchan(e->restart.channel));
		break;
	case PRI_EVENT_RESTART_ACK:
		printf("RESTART_ACK chan=%d\n", bchan(e->restartack.channel));
		break;
	case PRI_EVENT_INFO_RECEIVED:
		printf("INFO_RECEIVED digits=%s\n", e->ring.callednum);
		break;
	default:
		if (name)
			printf("%s\n", name);
		else
			printf("EVENT %d %s\n", e->e, pri_event2str(e->e));
	}
	fflush(stdout);
}

static void script_error(const char *line, const char *why)
{
	printf("ERROR %s: %s\n", why, line);
	fflush(stdout);
}

/* One script line from stdin. */
static void run_line(struct pri *pri, char *line, int bri)
{
	char a[64] = "", b[64] = "";
	int n = 0;
	line[strcspn(line, "\r\n")] = 0;
	int overlap = sscanf(line, "ocall %63s %63s", a, b) == 2;
	if (overlap || sscanf(line, "call %63s %63s %d", a, b, &n) >= 2) {
		int chan = n > 0 ? n : 1;
		struct pri_sr *sr = pri_sr_new();
		call = pri_new_call(pri);
		/* On a PRI the channel is named explicitly, as chan_dahdi does (the explicit bit). */
		call_chan = bri ? chan : (chan | 1 << 16);
		pri_sr_set_channel(sr, call_chan, 1, 0);
		pri_sr_set_bearer(sr, PRI_TRANS_CAP_SPEECH, PRI_LAYER_1_ALAW);
		pri_sr_set_called(sr, a, PRI_UNKNOWN, !overlap);
		pri_sr_set_caller(sr, b, NULL, PRI_UNKNOWN, PRES_ALLOWED_USER_NUMBER_NOT_SCREENED);
		if (pri_setup(pri, call, sr))
			script_error(line, "pri_setup failed");
		pri_sr_free(sr);
	} else if (!strcmp(line, "onring alert")) {
		on_ring = ON_RING_ALERT;
	} else if (!strcmp(line, "onring answer")) {
		on_ring = ON_RING_ANSWER;
	} else if (!strcmp(line, "onring overlap")) {
		on_ring = ON_RING_OVERLAP;
	} else if (!strcmp(line, "mute")) {
		muted = 1;
	} else if (!strcmp(line, "unmute")) {
		muted = 0;
	} else if (!strcmp(line, "overlapdial")) {
		pri_set_overlapdial(pri, 1);
	} else if (!strcmp(line, "alert")) {
		if (!call || pri_proceeding(pri, call, call_chan, 0) || pri_acknowledge(pri, call, call_chan, 0))
			script_error(line, "no call to alert");
	} else if (sscanf(line, "onring reject %d", &n) == 1) {
		on_ring = ON_RING_REJECT;
		reject_cause = n;
	} else if (!strcmp(line, "answer")) {
		if (!call || pri_answer(pri, call, call_chan, 0))
			script_error(line, "no call to answer");
	} else if (sscanf(line, "hangup %d", &n) == 1) {
		if (!call || pri_hangup(pri, call, n))
			script_error(line, "no call to hang up");
	} else if (sscanf(line, "restart %d", &n) == 1) {
		if (pri_reset(pri, bri ? n : (n | 1 << 16)))
			script_error(line, "pri_reset failed");
	} else if (sscanf(line, "digit %1s", a) == 1) {
		if (!call || pri_information(pri, call, a[0]))
			script_error(line, "no call for the digit");
	} else if (line[0]) {
		script_error(line, "unknown command");
	}
	fflush(stdout);
}

static int usage(void)
{
	fprintf(stderr, "usage: libpri_peer net|cpe pri|bri-ptp|bri-ptmp OWN_SOCKET DAEMON_SOCKET [SECONDS]\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 5 || argc > 6)
		return usage();
	int node;
	if (!strcmp(argv[1], "net"))
		node = PRI_NETWORK;
	else if (!strcmp(argv[1], "cpe"))
		node = PRI_CPE;
	else
		return usage();
	const char *mode = argv[2];
	if (strcmp(mode, "pri") && strcmp(mode, "bri-ptp") && strcmp(mode, "bri-ptmp"))
		return usage();
	int seconds = argc == 6 ? atoi(argv[5]) : 30;

	prctl(PR_SET_PDEATHSIG, SIGKILL);

	struct sockaddr_un own = { .sun_family = AF_UNIX };
	if (strlen(argv[3]) >= sizeof(own.sun_path) || strlen(argv[4]) >= sizeof(daemon_addr.sun_path)) {
		fprintf(stderr, "libpri_peer: socket path too long\n");
		return 2;
	}
	strcpy(own.sun_path, argv[3]);
	strcpy(daemon_addr.sun_path, argv[4]);
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	unlink(own.sun_path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&own, sizeof(own)) < 0
	    || connect(fd, (struct sockaddr *)&daemon_addr, sizeof(daemon_addr)) < 0) {
		fprintf(stderr, "libpri_peer: socket %s -> %s: %s\n", argv[3], argv[4], strerror(errno));
		return 1;
	}
	/* The daemon replies to the last sender: a datagram too short to be a frame tells it where
	 * we are before libpri has anything to say (an NT in point-to-multipoint waits for the TE). */
	if (send(fd, "", 1, 0) < 0) {
		fprintf(stderr, "libpri_peer: hello: %s\n", strerror(errno));
		return 1;
	}

	pri_set_message(say);
	pri_set_error(say);
	struct pri *pri;
	if (!strcmp(mode, "pri"))
		pri = pri_new_cb(fd, node, PRI_SWITCH_EUROISDN_E1, io_read, io_write, NULL);
	else
		pri = pri_new_bri_cb(fd, !strcmp(mode, "bri-ptp"), node, PRI_SWITCH_EUROISDN_E1, io_read, io_write, NULL);
	if (!pri) {
		fprintf(stderr, "libpri_peer: pri_new failed\n");
		return 1;
	}
	const char *debug = getenv("PRI_DEBUG");
	if (debug)
		pri_set_debug(pri, (int)strtol(debug, NULL, 0));
	/* A TE in point-to-multipoint brings layer 2 up only on demand unless told to keep it up. */
	if (node == PRI_CPE && !strcmp(mode, "bri-ptmp"))
		pri_persistent_layer2_option(pri, PRI_L2_PERSISTENCE_KEEP_UP);
	printf("READY %s %s\n", argv[1], mode);
	fflush(stdout);

	/* Unbuffered line reads, so that poll on fd 0 and fgets agree on what is pending. */
	FILE *script = stdin;
	setvbuf(script, NULL, _IONBF, 0);
	int bri = strcmp(mode, "pri") != 0;
	struct timeval start, now;
	gettimeofday(&start, NULL);
	for (;;) {
		gettimeofday(&now, NULL);
		if (now.tv_sec - start.tv_sec >= seconds)
			break;
		int timeout = 200;
		struct timeval *next = pri_schedule_next(pri);
		if (next) {
			long ms = (next->tv_sec - now.tv_sec) * 1000 + (next->tv_usec - now.tv_usec) / 1000;
			timeout = ms < 0 ? 0 : ms < timeout ? (int)ms : timeout;
		}
		/* stdin is dropped from the poll at end of file (-1 makes poll skip it). */
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = script ? 0 : -1, .events = POLLIN } };
		int r = poll(p, 2, timeout);
		if (r < 0 && errno != EINTR) {
			fprintf(stderr, "libpri_peer: poll: %s\n", strerror(errno));
			return 1;
		}
		/* The script first: a test writes a line ("onring reject 1") before it makes the daemon
		 * send the frame the line is about, so when both are pending the line comes first. */
		if (r > 0 && (p[1].revents & (POLLIN | POLLHUP))) {
			char line[256];
			if (fgets(line, sizeof(line), script))
				run_line(pri, line, bri);
			else
				script = NULL;
		}
		pri_event *e;
		if (r > 0 && (p[0].revents & POLLIN)) {
			if ((e = pri_check_event(pri)))
				handle_event(pri, e);
		}
		while ((e = pri_schedule_run(pri)))
			handle_event(pri, e);
	}
	printf("DONE\n");
	return 0;
}
