/* SHA-256 (FIPS 180-4) for the library's own hashing: the audit chain's links, Gapcoin's
 * SHA-256d, the other digests. On x86 CPUs with the SHA extensions it runs the SHA-NI
 * instructions; elsewhere, and under valgrind (whose emulated CPUID does not report SHA and
 * which cannot execute the instructions), it is libsodium's portable crypto_hash_sha256.
 * Both paths give the same bytes; the choice is made once per process, from CPUID. */
#ifndef ICMS_CORE_SHA256_H
#define ICMS_CORE_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ICMS__SHA256_LEN 32

/* A hash in progress. A hash keeps the path it started on (init), so a test that switches
 * paths never mixes the two states. Plain data: copy it to fork a running hash. */
typedef struct icms__sha256_ctx {
    uint32_t h[8];                   /* SHA-NI path: the chaining value, a..h */
    uint64_t len;                    /* SHA-NI path: bytes hashed so far */
    uint8_t buf[64];                 /* SHA-NI path: the partial block, len % 64 bytes */
    crypto_hash_sha256_state sodium; /* portable path: libsodium's state */
    bool accel;                      /* which path this hash is on */
} icms__sha256_ctx;

/* Start a hash. Thread-safe: a hash state belongs to one thread at a time. */
void icms__sha256_init(icms__sha256_ctx *st);

/* Add bytes_len bytes; bytes may be NULL when bytes_len is 0. */
void icms__sha256_update(icms__sha256_ctx *st, const void *bytes, size_t bytes_len);

/* Write the digest and wipe the state (init it again to reuse it). */
void icms__sha256_final(icms__sha256_ctx *st, uint8_t out[ICMS__SHA256_LEN]);

/* The digest of one buffer; bytes may be NULL when bytes_len is 0. */
void icms__sha256(const void *bytes, size_t bytes_len, uint8_t out[ICMS__SHA256_LEN]);

/* True when a hash started now takes the SHA-NI path. */
bool icms__sha256_accelerated(void);

/* For tests and benchmarks: on = every hash started afterwards takes the portable path even
 * where SHA-NI is available; off = back to what the CPU offers. Process-wide, atomic. */
void icms__sha256_force_portable(bool on);

/* Between sha256.c and sha256_shani.c: whether this CPU can run the SHA-NI path (CPUID,
 * false on other architectures), and its compression of nblocks 64-byte blocks into h. */
bool icms__sha256_shani_supported(void);
void icms__sha256_shani_blocks(uint32_t h[8], const uint8_t *blocks, size_t nblocks);

#ifdef __cplusplus
}
#endif

#endif
