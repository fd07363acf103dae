/* g711_peer: spandsp's inline G.711 functions timed exactly as media-dsp/examples/g711_bench.rs
 * times ours, for `cargo xtask bench dsp` (built with gcc -O2 into target/peers/).
 *
 * Usage: g711_peer LINEAR.raw (s16le). Prints `KERNEL MSAMPLES_PER_S CHECKSUM` lines: the samples
 * are encoded with each law, the codes decoded, each pass repeated in 5 ms windows, and the
 * fastest of 20 windows reported (preemption by other jobs only makes a window slower). The
 * checksum lets xtask confirm both sides produced the same output from the same input.
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

static uint64_t checksum8(const uint8_t *v, size_t n)
{
    uint64_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc += (uint64_t) (i + 1) * v[i];
    return acc;
}

static uint64_t checksum16(const int16_t *v, size_t n)
{
    uint64_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc += (uint64_t) (i + 1) * (uint16_t) v[i];
    return acc;
}

static void alaw_encode(const int16_t *in, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = linear_to_alaw(in[i]);
}

static void ulaw_encode(const int16_t *in, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = linear_to_ulaw(in[i]);
}

static void alaw_decode(const uint8_t *in, int16_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = alaw_to_linear(in[i]);
}

static void ulaw_decode(const uint8_t *in, int16_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = ulaw_to_linear(in[i]);
}

typedef void (*pass_fn)(const void *in, void *out, size_t n);

static double best_rate(pass_fn pass, const void *in, void *out, size_t n)
{
    double t = now_ns();
    long calib = 0;
    while (now_ns() - t < WINDOW_NS / 4) {
        pass(in, out, n);
        OPAQUE(out);
        calib++;
    }
    long passes = calib * 4;
    double best = 0;
    for (int w = 0; w < WINDOWS; w++) {
        t = now_ns();
        for (long p = 0; p < passes; p++) {
            pass(in, out, n);
            OPAQUE(out);
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
        fprintf(stderr, "usage: g711_peer LINEAR.raw\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    size_t n = (size_t) ftell(f) / 2;
    rewind(f);
    int16_t *linear = malloc(n * 2);
    uint8_t *codes = malloc(n);
    int16_t *out = malloc(n * 2);
    if (!linear || !codes || !out || fread(linear, 2, n, f) != n) {
        fprintf(stderr, "g711_peer: cannot read %s\n", argv[1]);
        return 1;
    }
    fclose(f);
    /* The input file is little-endian, as is every machine this bench runs on. */
    struct { const char *name; pass_fn enc; pass_fn dec; } laws[] = {
        { "alaw", (pass_fn) alaw_encode, (pass_fn) alaw_decode },
        { "ulaw", (pass_fn) ulaw_encode, (pass_fn) ulaw_decode },
    };
    for (int l = 0; l < 2; l++) {
        double rate = best_rate(laws[l].enc, linear, codes, n);
        printf("%s_encode %.1f %llu\n", laws[l].name, rate, (unsigned long long) checksum8(codes, n));
        rate = best_rate(laws[l].dec, codes, out, n);
        printf("%s_decode %.1f %llu\n", laws[l].name, rate, (unsigned long long) checksum16(out, n));
    }
    return 0;
}
