/* isdn_peer: libpri's side of `cargo xtask bench isdn`.
 *
 * usage: isdn_peer socketpair|memory [SECS]
 *
 * One process holds a libpri NT ("net") and a libpri CPE on a PRI (EuroISDN E1), wired to each
 * other as libpri's own testprilib does: a SOCK_DGRAM socketpair, one datagram per Q.921 frame
 * (plus libpri's 2 FCS placeholder octets). With `memory` the same frames go through an
 * in-process FIFO instead (pri_new_cb I/O callbacks, no system calls), which measures libpri's
 * protocol code alone.
 *
 * The CPE places calls one after the other, the same cycle as gateway-daemon/examples/
 * isdn_bench.rs: SETUP (1234 <- 5678, speech, B-channel 1 exclusive, sending complete) ->
 * CALL PROCEEDING -> ALERTING -> CONNECT (the NT answers at once: pri_proceeding,
 * pri_acknowledge, pri_answer) -> CONNECT ACK (libpri's own) -> DISCONNECT (the CPE hangs up on
 * ANSWER) -> RELEASE (the NT's pri_hangup on HANGUP_REQ) -> RELEASE COMPLETE (the CPE's
 * pri_hangup on HANGUP), with the Q.921 RR frames libpri sends around them. Frames are handed
 * over in the order they were written; there is no poll(): the FIFO of destinations says which
 * instance has a frame to read, so the harness adds no system call of its own. libpri reads the
 * real clock for its timers; none expires during a cycle, and pri_schedule_run runs any that is due.
 *
 * After 1000 untimed cycles it cycles until SECS (default 1) seconds of process CPU time have
 * passed and prints `isdn CYCLES_PER_CPU_SECOND FRAMES_PER_CYCLE CHECKSUM` (FNV-1a over the
 * frames, FCS placeholders excluded, of the untimed cycles). libpri's message and error callbacks
 * are silenced.
 *
 * libpri is GPL: this program runs as a separate process and is never linked into spangate.
 */
#include <errno.h>
#include <libpri.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define NET 0
#define CPE 1
#define SLOTS 256
#define FRAME_MAX 1024

static struct pri *pris[2];
static int fds[2];
static int memory_mode;

/* Frames in flight, in order: the destination, and in memory mode the frame itself. */
static int dest[SLOTS];
static unsigned char frame[SLOTS][FRAME_MAX];
static int frame_len[SLOTS];
static unsigned head, tail;

static uint64_t frames;
static uint64_t checksum = 0xcbf29ce484222325ULL;
static int summing = 1;

static int up[2], released[2];

static void quiet(struct pri *pri, char *s)
{
	(void)pri;
	(void)s;
}

static int side_of(struct pri *pri)
{
	/* By fd: the instances send SABME from inside pri_new_cb, before pris[] names them. */
	return pri_fd(pri) == fds[NET] ? NET : CPE;
}

static int io_write(struct pri *pri, void *buf, int len)
{
	int from = side_of(pri);
	if (tail - head >= SLOTS || len > FRAME_MAX) {
		fprintf(stderr, "isdn_peer: FIFO overflow\n");
		exit(1);
	}
	frames++;
	if (summing) {
		const unsigned char *b = buf;
		for (int i = 0; i < len - 2; i++)
			checksum = (checksum ^ b[i]) * 0x100000001b3ULL;
	}
	unsigned slot = tail % SLOTS;
	dest[slot] = 1 - from;
	if (memory_mode) {
		memcpy(frame[slot], buf, (size_t)len);
		frame_len[slot] = len;
	} else {
		ssize_t n = send(fds[from], buf, (size_t)len, 0);
		if (n != len) {
			fprintf(stderr, "isdn_peer: send: %s\n", strerror(errno));
			exit(1);
		}
	}
	tail++;
	return len;
}

/* Called by pri_check_event on the instance at the FIFO's head: that frame. */
static int io_read(struct pri *pri, void *buf, int len)
{
	unsigned slot = head % SLOTS;
	head++;
	if (memory_mode) {
		int n = frame_len[slot] < len ? frame_len[slot] : len;
		memcpy(buf, frame[slot], (size_t)n);
		return n;
	}
	ssize_t n = recv(fds[side_of(pri)], buf, (size_t)len, MSG_DONTWAIT);
	return n < 0 ? 0 : (int)n;
}

static void place_call(void)
{
	struct pri *p = pris[CPE];
	q931_call *c = pri_new_call(p);
	struct pri_sr *sr = pri_sr_new();
	if (!c || !sr) {
		fprintf(stderr, "isdn_peer: cannot allocate a call\n");
		exit(1);
	}
	pri_sr_set_channel(sr, 1, 1, 0);
	pri_sr_set_bearer(sr, PRI_TRANS_CAP_SPEECH, PRI_LAYER_1_ALAW);
	pri_sr_set_called(sr, "1234", PRI_UNKNOWN, 1);
	pri_sr_set_caller(sr, "5678", NULL, PRI_UNKNOWN, PRES_ALLOWED_USER_NUMBER_NOT_SCREENED);
	if (pri_setup(p, c, sr)) {
		fprintf(stderr, "isdn_peer: pri_setup failed\n");
		exit(1);
	}
	pri_sr_free(sr);
}

static void handle(int side, pri_event *e)
{
	struct pri *p = pris[side];
	switch (e->e) {
	case PRI_EVENT_DCHAN_UP:
		up[side] = 1;
		break;
	case PRI_EVENT_RING:
		pri_proceeding(p, e->ring.call, e->ring.channel, 0);
		pri_acknowledge(p, e->ring.call, e->ring.channel, 0);
		pri_answer(p, e->ring.call, e->ring.channel, 0);
		break;
	case PRI_EVENT_ANSWER:
		pri_hangup(p, e->answer.call, PRI_CAUSE_NORMAL_CLEARING);
		break;
	case PRI_EVENT_HANGUP_REQ:
		pri_hangup(p, e->hangup.call, e->hangup.cause);
		break;
	case PRI_EVENT_HANGUP:
		pri_hangup(p, e->hangup.call, e->hangup.cause);
		released[side] = 1;
		break;
	case PRI_EVENT_HANGUP_ACK:
		released[side] = 1;
		break;
	default:
		break;
	}
}

static void run_timers(void)
{
	for (int side = 0; side < 2; side++) {
		struct timeval *next = pri_schedule_next(pris[side]);
		if (!next)
			continue;
		struct timeval now;
		gettimeofday(&now, NULL);
		if (timercmp(next, &now, <=)) {
			pri_event *e;
			while ((e = pri_schedule_run(pris[side])))
				handle(side, e);
		}
	}
}

/* Hands every frame in flight to its instance until the line is quiet. */
static void settle(void)
{
	while (head != tail) {
		int side = dest[head % SLOTS];
		pri_event *e = pri_check_event(pris[side]);
		if (e)
			handle(side, e);
	}
	run_timers();
}

static void cycle(void)
{
	released[NET] = released[CPE] = 0;
	place_call();
	settle();
	if (!released[NET] || !released[CPE]) {
		fprintf(stderr, "isdn_peer: a cycle did not finish (net %d, cpe %d)\n", released[NET],
			released[CPE]);
		exit(1);
	}
}

static double cpu_seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	if (argc < 2 || (strcmp(argv[1], "socketpair") && strcmp(argv[1], "memory"))) {
		fprintf(stderr, "usage: isdn_peer socketpair|memory [SECS]\n");
		return 2;
	}
	memory_mode = !strcmp(argv[1], "memory");
	double secs = argc > 2 ? atof(argv[2]) : 1.0;
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, fds)) {
		perror("isdn_peer: socketpair");
		return 1;
	}
	pri_set_message(quiet);
	pri_set_error(quiet);
	pris[NET] = pri_new_cb(fds[NET], PRI_NETWORK, PRI_SWITCH_EUROISDN_E1, io_read, io_write, NULL);
	pris[CPE] = pri_new_cb(fds[CPE], PRI_CPE, PRI_SWITCH_EUROISDN_E1, io_read, io_write, NULL);
	if (!pris[NET] || !pris[CPE]) {
		fprintf(stderr, "isdn_peer: pri_new_cb failed\n");
		return 1;
	}
	for (int i = 0; i < 1000 && !(up[NET] && up[CPE]); i++) {
		settle();
		usleep(1000);
	}
	if (!up[NET] || !up[CPE]) {
		fprintf(stderr, "isdn_peer: layer 2 did not come up\n");
		return 1;
	}
	const int warm_up = 1000;
	uint64_t before = frames;
	for (int i = 0; i < warm_up; i++)
		cycle();
	double frames_per_cycle = (double)(frames - before) / warm_up;
	summing = 0;
	double t0 = cpu_seconds(), elapsed;
	uint64_t cycles = 0;
	for (;;) {
		for (int i = 0; i < 1000; i++)
			cycle();
		cycles += 1000;
		elapsed = cpu_seconds() - t0;
		if (elapsed >= secs)
			break;
	}
	printf("isdn %.1f %.3f %llu\n", (double)cycles / elapsed, frames_per_cycle, (unsigned long long)checksum);
	return 0;
}
