/* echo_peer: spandsp's echo_can_update timed exactly as media-dsp/examples/echo_bench.rs times
 * ours, for `cargo xtask bench dsp` (built with gcc -O2 into target/peers/).
 *
 * Usage: echo_peer RIN.raw SIN.raw [TAPS] (s16le, 8 kHz). Runs a TAPS-tap canceller (default 1024)
 * with all six feature flags (adaption, NLP, CNG, clipping, both high-pass filters) over the files
 * sample by sample, timing 2000-sample stretches, and prints `echo CHANNELS_PER_CORE ERLE_DB
 * CONVERGING_CHANNELS` (the fastest stretch; the ERLE over the last second from a second,
 * adaption-only instance; the first stretch alone).
 *
 * spandsp 0.0.6 prints two lines per sample from echo_can_update, so stdout is sent to /dev/null
 * while it runs and the result goes to the saved original stdout. spandsp is LGPL and runs only
 * here, in its own process.
 */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <spandsp.h>

#define STRETCH 2000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int16_t *read_raw(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    int16_t *buf = malloc(bytes);
    if (fread(buf, 1, bytes, f) != (size_t) bytes) {
        perror(path);
        exit(1);
    }
    fclose(f);
    *n = bytes / 2;
    return buf;
}

static double mean_power(const int16_t *x, size_t n)
{
    double p = 0;
    for (size_t i = 0; i < n; i++)
        p += (double) x[i] * x[i];
    return p / (n ? n : 1);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: echo_peer RIN.raw SIN.raw [TAPS]\n");
        return 2;
    }
    size_t n, m;
    int16_t *rin = read_raw(argv[1], &n);
    int16_t *sin = read_raw(argv[2], &m);
    if (n != m) {
        fprintf(stderr, "RIN and SIN differ in length\n");
        return 2;
    }
    int taps = argc > 3 ? atoi(argv[3]) : 1024;
    int16_t *out = malloc(n * sizeof(int16_t));

    /* Silence the library's per-sample printf, keeping our own stdout for the result. */
    fflush(stdout);
    int saved = dup(1);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);

    int all = ECHO_CAN_USE_ADAPTION | ECHO_CAN_USE_NLP | ECHO_CAN_USE_CNG | ECHO_CAN_USE_CLIP
              | ECHO_CAN_USE_TX_HPF | ECHO_CAN_USE_RX_HPF;
    echo_can_state_t *ec = echo_can_init(taps, all);
    double best = 1e9, first = 0;
    for (size_t s = 0; s + STRETCH <= n; s += STRETCH) {
        double t = now_s();
        for (size_t i = s; i < s + STRETCH; i++)
            out[i] = echo_can_update(ec, rin[i], sin[i]);
        double dt = now_s() - t;
        if (dt < best)
            best = dt;
        if (s == 0)
            first = dt;
    }
    echo_can_free(ec);

    echo_can_state_t *plain = echo_can_init(taps, ECHO_CAN_USE_ADAPTION);
    for (size_t i = 0; i < n; i++)
        out[i] = echo_can_update(plain, rin[i], sin[i]);
    echo_can_free(plain);
    size_t last = n > 8000 ? n - 8000 : 0;
    double erle = 10.0 * log10(mean_power(sin + last, n - last) / fmax(mean_power(out + last, n - last), 1e-9));

    fflush(stdout);
    dup2(saved, 1);
    printf("echo %.1f %.1f %.1f\n", STRETCH / best / 8000.0, erle, STRETCH / first / 8000.0);
    return 0;
}
