/* g711_oracle: spandsp's G.711 as an oracle for media-dsp/tests/g711_spandsp.rs.
 *
 * Writes to stdout, little-endian, in this order:
 *   256 x int16   alaw_to_linear(code) for code 0..255
 *   256 x int16   ulaw_to_linear(code) for code 0..255
 * 65536 x uint8   linear_to_alaw(x) for x = -32768..32767
 * 65536 x uint8   linear_to_ulaw(x) for x = -32768..32767
 *
 * spandsp (LGPL) only runs here, in its own process; nothing of it is linked into our crates.
 */
#include <stdio.h>
#include <stdint.h>
#include <spandsp.h>

static void put16(int16_t v)
{
    uint16_t u = (uint16_t) v;
    putchar(u & 0xFF);
    putchar(u >> 8);
}

int main(void)
{
    for (int c = 0; c < 256; c++)
        put16(alaw_to_linear((uint8_t) c));
    for (int c = 0; c < 256; c++)
        put16(ulaw_to_linear((uint8_t) c));
    for (int x = -32768; x <= 32767; x++)
        putchar(linear_to_alaw(x));
    for (int x = -32768; x <= 32767; x++)
        putchar(linear_to_ulaw(x));
    return fflush(stdout) == 0 ? 0 : 1;
}
