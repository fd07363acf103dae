/* g729_peer: bcg729's G.729A encoder (VAD off) timed exactly as media-dsp/examples/g729_bench.rs
 * times ours, for `cargo xtask bench dsp` (built with gcc at the same -O level, into target/peers/).
 *
 * Usage: g729_peer LINEAR8K.raw (s16le at 8 kHz). Prints `g729_encode MSAMPLES_PER_S CHECKSUM`:
 * one pass encodes the whole file (whole 10 ms frames) from a freshly created encoder; passes
 * repeat in 5 ms windows and the fastest of 20 windows is reported (bench_harness.h). The
 * checksum is over the frames' bytes, so xtask can check both sides produced the same bitstream.
 *
 * bcg729 is GPLv3 and runs only here, in its own process.
 */
#include <bcg729/encoder.h>

#include "bench_harness.h"

struct job {
    const int16_t *linear;
    uint8_t *frames;
    size_t n;
};

static void encode_pass(void *ctx)
{
    const struct job *j = ctx;
    bcg729EncoderChannelContextStruct *enc = initBcg729EncoderChannel(0);
    for (size_t f = 0; f < j->n / 80; f++) {
        uint8_t len = 0;
        bcg729Encoder(enc, j->linear + 80 * f, j->frames + 10 * f, &len);
    }
    closeBcg729EncoderChannel(enc);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: g729_peer LINEAR8K.raw\n");
        return 1;
    }
    size_t n;
    int16_t *linear = read_input(argv[1], 80, &n);
    uint8_t *frames = calloc(n / 80 * 10 + 1, 1);
    if (!frames || n == 0) {
        fprintf(stderr, "g729_peer: no whole frame in %s\n", argv[1]);
        return 1;
    }
    struct job j = { linear, frames, n };
    double rate = best_rate(encode_pass, &j, (double) n);
    printf("g729_encode %.4f %llu\n", rate, (unsigned long long) checksum8(frames, n / 80 * 10));
    free(frames);
    free(linear);
    return 0;
}
