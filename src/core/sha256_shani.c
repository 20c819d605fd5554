/* The SHA-256 compression function on the x86 SHA extensions, and the CPUID test for them.
 * Only the functions marked SHANI are compiled for those instructions, so the rest of the
 * build stays portable; nothing here runs unless icms__sha256_shani_supported() said yes.
 *
 * How the instructions hold SHA-256's state (Intel SDM, SHA256RNDS2): one register has
 * a, b, e, f (a in the top lane, f in the bottom), another c, d, g, h. SHA256RNDS2 does two
 * rounds, taking W[t] + K[t] and W[t+1] + K[t+1] from the two low lanes of its third
 * operand, and returns the new a, b, e, f; the new c, d, g, h are the old a, b, e, f. */
#include "core/sha256.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))

#include <cpuid.h>
#include <immintrin.h>

#define SHANI __attribute__((target("sha,sse4.1")))

/* FIPS 180-4 section 4.2.2: the first 32 bits of the fractional parts of the cube roots of
 * the first 64 primes. */
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

bool icms__sha256_shani_supported(void)
{
    unsigned int eax, ebx, ecx, edx;
    if (__get_cpuid_max(0, NULL) < 7 || !__get_cpuid(1, &eax, &ebx, &ecx, &edx))
        return false;
    bool sse41 = (ecx >> 19) & 1; /* SSSE3 (bit 9) comes with it on every SHA CPU */
    bool ssse3 = (ecx >> 9) & 1;
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    bool sha = (ebx >> 29) & 1;
    return sha && sse41 && ssse3;
}

/* Four rounds, t = 4 * group: w holds W[t..t+3], lowest lane first. */
SHANI static inline void rounds4(__m128i *abef, __m128i *cdgh, __m128i w, int group)
{
    __m128i wk = _mm_add_epi32(w, _mm_loadu_si128((const __m128i *)&K[4 * group]));
    /* After the first call *cdgh holds the new a, b, e, f and *abef the new c, d, g, h; the
     * second call, fed the upper two W + K, swaps them back. */
    *cdgh = _mm_sha256rnds2_epu32(*cdgh, *abef, wk);
    *abef = _mm_sha256rnds2_epu32(*abef, *cdgh, _mm_shuffle_epi32(wk, 0x0E));
}

/* W[t..t+3] for t >= 16 from the four groups before: W[t] = s1(W[t-2]) + W[t-7] +
 * s0(W[t-15]) + W[t-16]. SHA256MSG1 gives W[t-16] + s0(W[t-15]) for the four lanes, the
 * byte shift brings W[t-7..t-4] from two groups, SHA256MSG2 adds s1(W[t-2]), using in its
 * upper lanes the W[t], W[t+1] it has just made. */
SHANI static inline __m128i schedule(__m128i w16, __m128i w12, __m128i w8, __m128i w4)
{
    __m128i t = _mm_add_epi32(_mm_sha256msg1_epu32(w16, w12), _mm_alignr_epi8(w4, w8, 4));
    return _mm_sha256msg2_epu32(t, w4);
}

/* A 16-byte message chunk as four big-endian words, W[i] in the lowest lane. */
SHANI static inline __m128i load_words(const uint8_t *p)
{
    const __m128i bswap32 = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
    return _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)p), bswap32);
}

SHANI void icms__sha256_shani_blocks(uint32_t h[8], const uint8_t *blocks, size_t nblocks)
{
    /* h[] is a..h, a lowest; the instructions want {a,b,e,f} and {c,d,g,h}, a and c highest. */
    __m128i dcba = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0x1B);
    __m128i hgfe = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1B);
    __m128i abef = _mm_unpackhi_epi64(hgfe, dcba);
    __m128i cdgh = _mm_unpacklo_epi64(hgfe, dcba);

    for (; nblocks; nblocks--, blocks += 64) {
        const __m128i abef0 = abef, cdgh0 = cdgh;
        __m128i w0 = load_words(blocks);
        __m128i w1 = load_words(blocks + 16);
        __m128i w2 = load_words(blocks + 32);
        __m128i w3 = load_words(blocks + 48);
        rounds4(&abef, &cdgh, w0, 0);
        rounds4(&abef, &cdgh, w1, 1);
        rounds4(&abef, &cdgh, w2, 2);
        rounds4(&abef, &cdgh, w3, 3);
        /* w0..w3 hold the last sixteen W; each new group replaces the oldest. */
        for (int group = 4; group < 16; group += 4) {
            w0 = schedule(w0, w1, w2, w3);
            rounds4(&abef, &cdgh, w0, group);
            w1 = schedule(w1, w2, w3, w0);
            rounds4(&abef, &cdgh, w1, group + 1);
            w2 = schedule(w2, w3, w0, w1);
            rounds4(&abef, &cdgh, w2, group + 2);
            w3 = schedule(w3, w0, w1, w2);
            rounds4(&abef, &cdgh, w3, group + 3);
        }
        abef = _mm_add_epi32(abef, abef0);
        cdgh = _mm_add_epi32(cdgh, cdgh0);
    }

    dcba = _mm_unpackhi_epi64(cdgh, abef);
    hgfe = _mm_unpacklo_epi64(cdgh, abef);
    _mm_storeu_si128((__m128i *)&h[0], _mm_shuffle_epi32(dcba, 0x1B));
    _mm_storeu_si128((__m128i *)&h[4], _mm_shuffle_epi32(hgfe, 0x1B));
}

#else /* not x86, or a compiler without target attributes: the portable path only */

#include <stdlib.h>

bool icms__sha256_shani_supported(void)
{
    return false;
}

void icms__sha256_shani_blocks(uint32_t h[8], const uint8_t *blocks, size_t nblocks)
{
    (void)h;
    (void)blocks;
    (void)nblocks;
    abort(); /* unreachable: supported() is false */
}

#endif
