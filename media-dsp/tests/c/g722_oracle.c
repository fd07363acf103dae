/* g722_oracle: spandsp's G.722 as an oracle for media-dsp/tests/g722_spandsp.rs.
 *
 * Usage: g722_oracle encode|decode RATE [8k]
 *   encode: s16le samples on stdin -> one G.722 code per byte on stdout
 *   decode: one G.722 code per byte on stdin -> s16le samples on stdout
 * RATE is 64000, 56000 or 48000. The codes are unpacked (spandsp without G722_PACKED): each byte
 * holds one 8-, 7- or 6-bit code, right-aligned. "8k" sets G722_SAMPLE_RATE_8000 (linear audio at
 * 8000 samples/s); without it the linear audio is 16000 samples/s.
 *
 * spandsp (LGPL) only runs here, in its own process; nothing of it is linked into our crates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <spandsp.h>

#define BLOCK 320

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "encode") != 0 && strcmp(argv[1], "decode") != 0)) {
        fprintf(stderr, "usage: g722_oracle encode|decode 64000|56000|48000 [8k]\n");
        return 2;
    }
    int rate = atoi(argv[2]);
    int options = (argc > 3 && strcmp(argv[3], "8k") == 0) ? G722_SAMPLE_RATE_8000 : 0;
    if (strcmp(argv[1], "encode") == 0) {
        g722_encode_state_t *s = g722_encode_init(NULL, rate, options);
        if (s == NULL)
            return 2;
        int16_t amp[BLOCK];
        uint8_t codes[BLOCK];
        size_t n;
        while ((n = fread(amp, sizeof(int16_t), BLOCK, stdin)) > 0) {
            int bytes = g722_encode(s, codes, amp, (int) n);
            fwrite(codes, 1, (size_t) bytes, stdout);
        }
        g722_encode_free(s);
    } else {
        g722_decode_state_t *s = g722_decode_init(NULL, rate, options);
        if (s == NULL)
            return 2;
        uint8_t codes[BLOCK];
        int16_t amp[2 * BLOCK];
        size_t n;
        while ((n = fread(codes, 1, BLOCK, stdin)) > 0) {
            int samples = g722_decode(s, amp, codes, (int) n);
            fwrite(amp, sizeof(int16_t), (size_t) samples, stdout);
        }
        g722_decode_free(s);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
