/* dtmf_peer: spandsp's dtmf_rx timed exactly as media-dsp/examples/dtmf_bench.rs times ours, for
 * `cargo xtask bench dsp` (built with gcc -O2 into target/peers/).
 *
 * Usage: dtmf_peer IN.raw (s16le, 8 kHz). Feeds the file to a default dtmf_rx in 8-sample blocks
 * (the media thread's 1 ms chunk, so both sides pay the same per-call cost), PASSES times with a
 * fresh receiver each pass, and prints `dtmf CHANNELS_PER_CORE DIGITS`: the real-time channels one
 * core sustains from the fastest pass (a preempted pass only reads slower, never faster) and the
 * digits the receiver reported ("-" for none), which xtask compares with ours. spandsp is LGPL and
 * runs only here, in its own process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <spandsp.h>

#define BLOCK 8
#define PASSES 3
#define MAX_DIGITS 4096

static char digits[MAX_DIGITS + 1];
static size_t ndigits;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Collected through the callback, as a gateway would use it, rather than the internal buffer
 * (which holds only 128 digits). */
static void on_digits(void *user, const char *d, int len)
{
    (void) user;
    for (int i = 0; i < len && ndigits < MAX_DIGITS; i++)
        digits[ndigits++] = d[i];
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: dtmf_peer IN.raw\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    int16_t *x = malloc(bytes);
    if (fread(x, 1, bytes, f) != (size_t) bytes) {
        perror(argv[1]);
        return 1;
    }
    fclose(f);
    size_t n = (size_t) bytes / 2 / BLOCK * BLOCK;

    double best = 1e9;
    for (int pass = 0; pass < PASSES; pass++) {
        ndigits = 0;
        dtmf_rx_state_t *rx = dtmf_rx_init(NULL, on_digits, NULL);
        double t = now_s();
        for (size_t i = 0; i < n; i += BLOCK)
            dtmf_rx(rx, x + i, BLOCK);
        double dt = now_s() - t;
        if (dt < best)
            best = dt;
        dtmf_rx_free(rx);
    }
    digits[ndigits] = '\0';
    printf("dtmf %.1f %s\n", (double) n / best / 8000.0, ndigits ? digits : "-");
    return 0;
}
