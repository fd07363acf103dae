/* g729_oracle: bcg729's G.729A as an oracle for media-dsp/tests/g729_bcg729.rs.
 *
 *   g729_oracle encode < pcm > frames   8 kHz s16le in, 10-byte frames out (VAD off, one frame per 80 samples)
 *   g729_oracle decode < frames > pcm   10-byte frames in, 80 s16le samples out per frame
 *   g729_oracle decode-lossy < records > pcm
 *                                       11-byte records in: a flag byte (non-zero: the frame was
 *                                       lost, bcg729 conceals it) then the 10-byte frame
 *
 * bcg729 (GPLv3) only runs here, in its own process; nothing of it is linked into our crates.
 */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <bcg729/encoder.h>
#include <bcg729/decoder.h>

static int encode(void)
{
    bcg729EncoderChannelContextStruct *enc = initBcg729EncoderChannel(0);
    uint8_t in[160];
    while (fread(in, 1, sizeof in, stdin) == sizeof in) {
        int16_t pcm[80];
        for (int i = 0; i < 80; i++)
            pcm[i] = (int16_t) (uint16_t) (in[2 * i] | (in[2 * i + 1] << 8));
        uint8_t bits[10];
        uint8_t len = 0;
        bcg729Encoder(enc, pcm, bits, &len);
        if (len != 10)
            return 2;
        fwrite(bits, 1, 10, stdout);
    }
    closeBcg729EncoderChannel(enc);
    return 0;
}

static int decode(int lossy)
{
    bcg729DecoderChannelContextStruct *dec = initBcg729DecoderChannel();
    uint8_t rec[11];
    size_t len = lossy ? 11 : 10;
    while (fread(rec, 1, len, stdin) == len) {
        int16_t pcm[80];
        if (lossy && rec[0] != 0)
            bcg729Decoder(dec, NULL, 0, 1, 0, 0, pcm);
        else
            bcg729Decoder(dec, lossy ? rec + 1 : rec, 10, 0, 0, 0, pcm);
        uint8_t out[160];
        for (int i = 0; i < 80; i++) {
            uint16_t u = (uint16_t) pcm[i];
            out[2 * i] = u & 0xFF;
            out[2 * i + 1] = u >> 8;
        }
        fwrite(out, 1, sizeof out, stdout);
    }
    closeBcg729DecoderChannel(dec);
    return 0;
}

int main(int argc, char **argv)
{
    int rc;
    if (argc == 2 && strcmp(argv[1], "encode") == 0)
        rc = encode();
    else if (argc == 2 && strcmp(argv[1], "decode") == 0)
        rc = decode(0);
    else if (argc == 2 && strcmp(argv[1], "decode-lossy") == 0)
        rc = decode(1);
    else {
        fprintf(stderr, "usage: g729_oracle encode|decode|decode-lossy < in > out\n");
        return 1;
    }
    return (fflush(stdout) == 0 && rc == 0) ? rc : (rc ? rc : 1);
}
