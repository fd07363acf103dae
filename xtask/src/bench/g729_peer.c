/* g729_peer: bcg729's G.729A encoder (VAD off) and decoder timed exactly as
 * media-dsp/examples/g729_bench.rs times ours, for `cargo xtask bench dsp` (this file built with
 * gcc -O2 into target/peers/, linked against Debian's libbcg729, itself built by Debian at -O2).
 *
 * Usage: g729_peer LINEAR8K.raw (s16le at 8 kHz). Prints `g729_encode MSAMPLES_PER_S CHECKSUM`:
 * one pass encodes the whole file (whole 10 ms frames) from a freshly created encoder; then
 * `g729_decode MSAMPLES_PER_S CHECKSUM`: one pass decodes that bitstream from a freshly created
 * decoder. Passes repeat in 5 ms windows and the fastest of 20 windows is reported
 * (bench_harness.h). The checksums are over the frames' bytes and over the decoded samples, so
 * xtask can check both sides produced the same bitstream and the same speech.
 *
 * bcg729 is GPLv3 and runs only here, in its own process.
 */
#include <bcg729/decoder.h>
#include <bcg729/encoder.h>

#include "bench_harness.h"

struct job {
    const int16_t *linear;
    uint8_t *frames;
    int16_t *speech;
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

static void decode_pass(void *ctx)
{
    const struct job *j = ctx;
    bcg729DecoderChannelContextStruct *dec = initBcg729DecoderChannel();
    for (size_t f = 0; f < j->n / 80; f++) {
        bcg729Decoder(dec, j->frames + 10 * f, 10, 0, 0, 0, j->speech + 80 * f);
    }
    closeBcg729DecoderChannel(dec);
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
    int16_t *speech = calloc(n + 1, sizeof(int16_t));
    if (!frames || !speech || n == 0) {
        fprintf(stderr, "g729_peer: no whole frame in %s\n", argv[1]);
        return 1;
    }
    struct job j = { linear, frames, speech, n };
    double rate = best_rate(encode_pass, &j, (double) n);
    printf("g729_encode %.4f %llu\n", rate, (unsigned long long) checksum8(frames, n / 80 * 10));
    /* The last encode pass left the whole bitstream in frames: the decoder's input. */
    rate = best_rate(decode_pass, &j, (double) n);
    printf("g729_decode %.4f %llu\n", rate, (unsigned long long) checksum16(speech, n / 80 * 80));
    free(speech);
    free(frames);
    free(linear);
    return 0;
}
