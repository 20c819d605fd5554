/* SHA-256: the choice of path, and the block buffering and padding of the SHA-NI path (the
 * portable path is libsodium's, whole). */
#include "core/sha256.h"

#include <stdatomic.h>
#include <string.h>

#include "core/core.h"

enum { CPU_UNKNOWN, CPU_PORTABLE, CPU_SHANI };

/* CPUID asked once; racing first callers both ask and store the same answer. */
static atomic_int cpu = CPU_UNKNOWN;
static atomic_bool forced_portable;

/* FIPS 180-4 section 5.3.3: the first 32 bits of the fractional parts of the square roots of
 * the first eight primes. */
static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

/* Big-endian stores, written so the compiler makes each one a byte swap and a store. */
static inline void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void store_be64(uint8_t *p, uint64_t v)
{
    store_be32(p, (uint32_t)(v >> 32));
    store_be32(p + 4, (uint32_t)v);
}

bool icms__sha256_accelerated(void)
{
    if (atomic_load_explicit(&forced_portable, memory_order_relaxed))
        return false;
    int c = atomic_load_explicit(&cpu, memory_order_relaxed);
    if (c == CPU_UNKNOWN) {
        c = icms__sha256_shani_supported() ? CPU_SHANI : CPU_PORTABLE;
        atomic_store_explicit(&cpu, c, memory_order_relaxed);
    }
    return c == CPU_SHANI;
}

void icms__sha256_force_portable(bool on)
{
    atomic_store_explicit(&forced_portable, on, memory_order_relaxed);
}

void icms__sha256_init(icms__sha256_ctx *st)
{
    st->accel = icms__sha256_accelerated();
    if (st->accel) {
        memcpy(st->h, iv, sizeof iv);
        st->len = 0;
    } else {
        crypto_hash_sha256_init(&st->sodium);
    }
}

void icms__sha256_update(icms__sha256_ctx *st, const void *bytes, size_t bytes_len)
{
    if (bytes_len == 0)
        return; /* bytes may be NULL */
    const uint8_t *p = bytes;
    if (!st->accel) {
        crypto_hash_sha256_update(&st->sodium, p, (unsigned long long)bytes_len);
        return;
    }
    size_t fill = (size_t)(st->len & 63);
    st->len += (uint64_t)bytes_len;
    if (fill) {
        size_t take = 64 - fill;
        if (bytes_len < take) {
            memcpy(st->buf + fill, p, bytes_len);
            return;
        }
        memcpy(st->buf + fill, p, take);
        icms__sha256_shani_blocks(st->h, st->buf, 1);
        p += take;
        bytes_len -= take;
    }
    /* Whole blocks straight from the caller's buffer. */
    if (bytes_len >= 64) {
        icms__sha256_shani_blocks(st->h, p, bytes_len / 64);
        p += bytes_len & ~(size_t)63;
        bytes_len &= 63;
    }
    if (bytes_len)
        memcpy(st->buf, p, bytes_len);
}

void icms__sha256_final(icms__sha256_ctx *st, uint8_t out[ICMS__SHA256_LEN])
{
    if (!st->accel) {
        crypto_hash_sha256_final(&st->sodium, out); /* wipes its state */
        return;
    }
    /* Padding: 0x80, zeros up to 56 mod 64, the length in bits as 64 bits big-endian. */
    size_t fill = (size_t)(st->len & 63);
    st->buf[fill++] = 0x80;
    if (fill > 56) {
        memset(st->buf + fill, 0, 64 - fill);
        icms__sha256_shani_blocks(st->h, st->buf, 1);
        fill = 0;
    }
    memset(st->buf + fill, 0, 56 - fill);
    store_be64(st->buf + 56, st->len << 3);
    icms__sha256_shani_blocks(st->h, st->buf, 1);
    for (int i = 0; i < 8; i++)
        store_be32(out + 4 * i, st->h[i]);
    /* Some callers hash secrets (sealed keys, PKCE verifiers). */
    icms__wipe(st->h, sizeof st->h);
    icms__wipe(st->buf, sizeof st->buf);
}

void icms__sha256(const void *bytes, size_t bytes_len, uint8_t out[ICMS__SHA256_LEN])
{
    icms__sha256_ctx st;
    icms__sha256_init(&st);
    icms__sha256_update(&st, bytes, bytes_len);
    icms__sha256_final(&st, out);
}
