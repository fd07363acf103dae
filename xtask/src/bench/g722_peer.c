/* g722_peer: spandsp's G.722 (64 kbit/s, 16 kHz audio) timed exactly as
 * media-dsp/examples/g722_bench.rs times ours, for `cargo xtask bench dsp` (gcc -O2, target/peers/).
 *
 * Usage: g722_peer LINEAR16K.raw (s16le at 16 kHz). Prints `KERNEL MSAMPLES_PER_S CHECKSUM` lines
 * (16 kHz samples per second, all channels together):
 * - g722_encode, g722_decode: one channel, the whole file in one call;
 * - g722_encode_16ch, g722_decode_16ch: 16 channels of 100 ms one after another, channel c
 *   hearing the file from sample c * 1000 on, wrapping round (ours codes the same 16 channels a
 *   millisecond at a time, eight per call; the output is the same, checksummed channel by
 *   channel). 100 ms keeps a window near 5 ms on both sides, so preemption hits both alike.
 * Each pass starts from freshly initialised codec states, so every pass gives the same output;
 * passes repeat in 5 ms windows and the fastest of 20 windows is reported (bench_harness.h).
 *
 * spandsp is LGPL and runs only here, in its own process.
 */
#include <spandsp.h>

#include "bench_harness.h"

#define CHANNELS 16
#define ROTATION 1000
#define SAMPLES_PER_CHANNEL 1600

/* One measurement: `channels` channels of n samples each, laid out one after another. The
 * states are allocated once; each pass re-initialises them in place (the types are opaque). */
struct job {
    int channels;
    g722_encode_state_t *enc[CHANNELS];
    g722_decode_state_t *dec[CHANNELS];
    const int16_t *linear;
    uint8_t *codes;
    int16_t *out;
    size_t n;
};

static void encode_pass(void *ctx)
{
    const struct job *j = ctx;
    for (int c = 0; c < j->channels; c++) {
        g722_encode_init(j->enc[c], 64000, 0);
        g722_encode(j->enc[c], j->codes + c * j->n / 2, j->linear + c * j->n, (int) j->n);
    }
}

static void decode_pass(void *ctx)
{
    const struct job *j = ctx;
    for (int c = 0; c < j->channels; c++) {
        g722_decode_init(j->dec[c], 64000, 0);
        g722_decode(j->dec[c], j->out + c * j->n, j->codes + c * j->n / 2, (int) (j->n / 2));
    }
}

static void measure(struct job *j, const char *suffix)
{
    double samples = (double) j->channels * j->n;
    double rate = best_rate(encode_pass, j, samples);
    printf("g722_encode%s %.1f %llu\n", suffix, rate, (unsigned long long) checksum8(j->codes, j->channels * j->n / 2));
    rate = best_rate(decode_pass, j, samples);
    printf("g722_decode%s %.1f %llu\n", suffix, rate, (unsigned long long) checksum16(j->out, j->channels * j->n));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: g722_peer LINEAR16K.raw\n");
        return 2;
    }
    size_t n;
    /* Whole milliseconds (16 samples), as ours codes them. */
    int16_t *linear = read_input(argv[1], 16, &n);
    if (n < SAMPLES_PER_CHANNEL) {
        fprintf(stderr, "g722_peer: %s holds fewer than %d samples\n", argv[1], SAMPLES_PER_CHANNEL);
        return 1;
    }
    int16_t *rotated = malloc(CHANNELS * n * 2);
    uint8_t *codes = malloc(CHANNELS * n / 2);
    int16_t *out = malloc(CHANNELS * n * 2);
    if (!rotated || !codes || !out)
        return 1;
    for (size_t c = 0; c < CHANNELS; c++)
        for (size_t i = 0; i < SAMPLES_PER_CHANNEL; i++)
            rotated[c * SAMPLES_PER_CHANNEL + i] = linear[(i + c * ROTATION) % n];
    struct job j = { .linear = linear, .codes = codes, .out = out, .n = n };
    for (int c = 0; c < CHANNELS; c++) {
        j.enc[c] = g722_encode_init(NULL, 64000, 0);
        j.dec[c] = g722_decode_init(NULL, 64000, 0);
        if (!j.enc[c] || !j.dec[c])
            return 1;
    }
    j.channels = 1;
    measure(&j, "");
    j.channels = CHANNELS;
    j.linear = rotated;
    j.n = SAMPLES_PER_CHANNEL;
    measure(&j, "_16ch");
    return 0;
}
