/* bench_harness.h: the timed-window harness the C peers of `cargo xtask bench dsp` share
 * (g711_peer.c, g722_peer.c), the same as media-dsp/examples/common/bench.rs times ours.
 *
 * A pass runs over and over in 5 ms windows, 20 of them, and the fastest window's rate is
 * reported: preemption by other jobs only makes a window slower, never faster. Header-only, so
 * each peer stays one gcc command.
 */
#ifndef BENCH_HARNESS_H
#define BENCH_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>

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

/* Runs pass(ctx), one pass over `samples` samples, in timed windows; returns the best Msample/s. */
static double best_rate(void (*pass)(void *ctx), void *ctx, double samples)
{
    double t = now_ns();
    long calib = 0;
    while (now_ns() - t < WINDOW_NS / 4) {
        pass(ctx);
        OPAQUE(ctx);
        calib++;
    }
    long passes = calib * 4;
    double best = 0;
    for (int w = 0; w < WINDOWS; w++) {
        t = now_ns();
        for (long p = 0; p < passes; p++) {
            pass(ctx);
            OPAQUE(ctx);
        }
        double rate = (double) passes * samples / ((now_ns() - t) / 1e9) / 1e6;
        if (rate > best)
            best = rate;
    }
    return best;
}

/* Position-weighted sums, so a reordered or shifted output changes them. */
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

/* Reads a raw s16le file (every machine this bench runs on is little-endian) into a new buffer;
 * *n is the number of samples, rounded down to a multiple of `multiple`. Exits on failure. */
static int16_t *read_input(const char *path, size_t multiple, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    *n = (size_t) ftell(f) / 2 / multiple * multiple;
    rewind(f);
    int16_t *v = malloc(*n * 2 + 1);
    if (!v || fread(v, 2, *n, f) != *n) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    return v;
}

#endif
