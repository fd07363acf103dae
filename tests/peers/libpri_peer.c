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

static int io_read(struct pri *pri, void *buf, int len)
{
	ssize_t n = recv(pri_fd(pri), buf, (size_t)len, MSG_DONTWAIT);
	/* 0 is "no frame" to libpri; a datagram socket has no end of file. */
	return n < 0 ? 0 : (int)n;
}

static int io_write(struct pri *pri, void *buf, int len)
{
	ssize_t n = send(pri_fd(pri), buf, (size_t)len, 0);
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

static void print_event(pri_event *e)
{
	const char *name = event_name(e->e);
	if (name)
		printf("%s\n", name);
	else
		printf("EVENT %d %s\n", e->e, pri_event2str(e->e));
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

	struct sockaddr_un own = { .sun_family = AF_UNIX }, daemon = { .sun_family = AF_UNIX };
	if (strlen(argv[3]) >= sizeof(own.sun_path) || strlen(argv[4]) >= sizeof(daemon.sun_path)) {
		fprintf(stderr, "libpri_peer: socket path too long\n");
		return 2;
	}
	strcpy(own.sun_path, argv[3]);
	strcpy(daemon.sun_path, argv[4]);
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	unlink(own.sun_path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&own, sizeof(own)) < 0
	    || connect(fd, (struct sockaddr *)&daemon, sizeof(daemon)) < 0) {
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
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, timeout);
		if (r < 0 && errno != EINTR) {
			fprintf(stderr, "libpri_peer: poll: %s\n", strerror(errno));
			return 1;
		}
		pri_event *e;
		if (r > 0 && (p.revents & POLLIN)) {
			if ((e = pri_check_event(pri)))
				print_event(e);
		}
		while ((e = pri_schedule_run(pri)))
			print_event(e);
	}
	printf("DONE\n");
	return 0;
}
