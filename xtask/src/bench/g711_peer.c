/* g711_peer: spandsp's inline G.711 functions timed exactly as media-dsp/examples/g711_bench.rs
 * times ours, for `cargo xtask bench dsp` (built with gcc -O2 into target/peers/).
 *
 * Usage: g711_peer LINEAR.raw (s16le). Prints `KERNEL MSAMPLES_PER_S CHECKSUM` lines: the samples
 * are encoded with each law, the codes decoded, each pass repeated in 5 ms windows, and the
 * fastest of 20 windows reported (bench_harness.h). The checksum lets xtask confirm both sides
 * produced the same output from the same input.
 *
 * spandsp is LGPL and runs only here, in its own process.
 */
#include <spandsp.h>

#include "bench_harness.h"

/* Each pass copies the job's fields to locals first: a uint8_t store may alias the struct, and
 * gcc would otherwise reload the pointers for every sample. */
struct job {
    const int16_t *linear;
    uint8_t *codes;
    int16_t *out;
    size_t n;
};

static void alaw_encode(void *ctx)
{
    const struct job *j = ctx;
    const int16_t *in = j->linear;
    uint8_t *out = j->codes;
    size_t n = j->n;
    for (size_t i = 0; i < n; i++)
        out[i] = linear_to_alaw(in[i]);
}

static void ulaw_encode(void *ctx)
{
    const struct job *j = ctx;
    const int16_t *in = j->linear;
    uint8_t *out = j->codes;
    size_t n = j->n;
    for (size_t i = 0; i < n; i++)
        out[i] = linear_to_ulaw(in[i]);
}

static void alaw_decode(void *ctx)
{
    const struct job *j = ctx;
    const uint8_t *in = j->codes;
    int16_t *out = j->out;
    size_t n = j->n;
    for (size_t i = 0; i < n; i++)
        out[i] = alaw_to_linear(in[i]);
}

static void ulaw_decode(void *ctx)
{
    const struct job *j = ctx;
    const uint8_t *in = j->codes;
    int16_t *out = j->out;
    size_t n = j->n;
    for (size_t i = 0; i < n; i++)
        out[i] = ulaw_to_linear(in[i]);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: g711_peer LINEAR.raw\n");
        return 2;
    }
    struct job j;
    j.linear = read_input(argv[1], 1, &j.n);
    j.codes = malloc(j.n + 1);
    j.out = malloc(j.n * 2 + 1);
    if (!j.codes || !j.out)
        return 1;
    struct { const char *name; void (*enc)(void *); void (*dec)(void *); } laws[] = {
        { "alaw", alaw_encode, alaw_decode },
        { "ulaw", ulaw_encode, ulaw_decode },
    };
    for (int l = 0; l < 2; l++) {
        double rate = best_rate(laws[l].enc, &j, (double) j.n);
        printf("%s_encode %.1f %llu\n", laws[l].name, rate, (unsigned long long) checksum8(j.codes, j.n));
        rate = best_rate(laws[l].dec, &j, (double) j.n);
        printf("%s_decode %.1f %llu\n", laws[l].name, rate, (unsigned long long) checksum16(j.out, j.n));
    }
    return 0;
}
