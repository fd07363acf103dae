/* g722_peer: spandsp's G.722 (64 kbit/s, 16 kHz audio) timed exactly as
 * media-dsp/examples/g722_bench.rs times ours, for `cargo xtask bench dsp` (gcc -O2, target/peers/).
 *
 * Usage: g722_peer LINEAR16K.raw (s16le at 16 kHz). Prints `KERNEL MSAMPLES_PER_S CHECKSUM` lines
 * for g722_encode (16 kHz samples in) and g722_decode (16 kHz samples out). Each pass starts from
 * a freshly initialised codec state, so every pass gives the same output; passes repeat in 5 ms
 * windows and the fastest of 20 windows is reported (preemption only makes a window slower). The
 * checksums let xtask confirm both sides produced the same codes and samples from the same input.
 *
 * spandsp is LGPL and runs only here, in its own process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>
#include <spandsp.h>

#define WINDOW_NS 5000000.0
#define WINDOWS 20

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Keeps the compiler from dropping or merging passes whose results nobody reads. */
#define OPAQUE(p) __asm__ volatile("" : : "r"(p) : "memory")

/* Allocated once; each pass re-initialises the same state in place (the types are opaque). */
static g722_encode_state_t *enc;
static g722_decode_state_t *dec;
static int16_t *linear;
static uint8_t *codes;
static int16_t *out;
static size_t n;

static void encode_pass(void)
{
    g722_encode_init(enc, 64000, 0);
    g722_encode(enc, codes, linear, (int) n);
}

static void decode_pass(void)
{
    g722_decode_init(dec, 64000, 0);
    g722_decode(dec, out, codes, (int) (n / 2));
}

static double best_rate(void (*pass)(void))
{
    double t = now_ns();
    long calib = 0;
    while (now_ns() - t < WINDOW_NS / 4) {
        pass();
        OPAQUE(out);
        OPAQUE(codes);
        calib++;
    }
    long passes = calib * 4;
    double best = 0;
    for (int w = 0; w < WINDOWS; w++) {
        t = now_ns();
        for (long p = 0; p < passes; p++) {
            pass();
            OPAQUE(out);
            OPAQUE(codes);
        }
        double rate = (double) passes * n / ((now_ns() - t) / 1e9) / 1e6;
        if (rate > best)
            best = rate;
    }
    return best;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: g722_peer LINEAR16K.raw\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    n = (size_t) ftell(f) / 4 * 2; /* whole sample pairs */
    rewind(f);
    linear = malloc(n * 2);
    codes = malloc(n / 2);
    out = malloc(n * 2);
    if (!linear || !codes || !out || fread(linear, 2, n, f) != n) {
        fprintf(stderr, "g722_peer: cannot read %s\n", argv[1]);
        return 1;
    }
    fclose(f);
    enc = g722_encode_init(NULL, 64000, 0);
    dec = g722_decode_init(NULL, 64000, 0);
    if (!enc || !dec)
        return 1;
    double rate = best_rate(encode_pass);
    uint64_t acc = 0;
    for (size_t i = 0; i < n / 2; i++)
        acc += (uint64_t) (i + 1) * codes[i];
    printf("g722_encode %.1f %llu\n", rate, (unsigned long long) acc);
    rate = best_rate(decode_pass);
    acc = 0;
    for (size_t i = 0; i < n; i++)
        acc += (uint64_t) (i + 1) * (uint16_t) out[i];
    printf("g722_decode %.1f %llu\n", rate, (unsigned long long) acc);
    return 0;
}
