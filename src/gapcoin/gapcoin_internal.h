/*
 * Internal helpers shared by the files of the gapcoin module: a bounds-checked
 * byte reader, hashing, and the pieces that more than one decoder uses.
 */
#ifndef ICMS_SRC_GAPCOIN_INTERNAL_H
#define ICMS_SRC_GAPCOIN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "icms/gapcoin.h"

/*
 * A cursor over input bytes. Every read checks what remains and fails with
 * ICMS_EINVALID naming the field ("what") and the offset.
 */
typedef struct icms__reader {
    const uint8_t *bytes;
    size_t len;
    size_t pos;
} icms__reader;

static inline size_t icms__reader_left(const icms__reader *r)
{
    return r->len - r->pos;
}

int icms__read_bytes(icms__reader *r, size_t n, const uint8_t **out, const char *what);
int icms__read_u16(icms__reader *r, uint16_t *out, const char *what);
int icms__read_u32(icms__reader *r, uint32_t *out, const char *what);
int icms__read_u64(icms__reader *r, uint64_t *out, const char *what);
/* A canonical compact size no larger than max. */
int icms__read_compact(icms__reader *r, uint64_t max, uint64_t *out, const char *what);

/* A compact-size length, then that many bytes: "needs N bytes at offset ..., only M left". */
int icms__read_var_bytes(icms__reader *r, const uint8_t **out, size_t *out_len, const char *what);

/* Bytes a compact size of value n takes. */
size_t icms__compact_len(uint64_t n);
/* Write a compact size at p (room for 9 bytes); returns the bytes written. */
size_t icms__write_compact(uint8_t *p, uint64_t n);

static inline uint32_t icms__le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t icms__le64(const uint8_t *p)
{
    return (uint64_t)icms__le32(p) | (uint64_t)icms__le32(p + 4) << 32;
}
static inline void icms__put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static inline void icms__put_le64(uint8_t *p, uint64_t v)
{
    icms__put_le32(p, (uint32_t)v);
    icms__put_le32(p + 4, (uint32_t)(v >> 32));
}

/* SHA-256d of two concatenated parts (a merkle node, or le(start) || le(end)). */
void icms__sha256d2(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
                    uint8_t out[32]);

/* SHA-256d of three concatenated parts (a witness transaction's txid). */
void icms__sha256d3(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
                    const uint8_t *c, size_t c_len, uint8_t out[32]);

/* RIPEMD-160 (for HASH160 only). */
void icms__ripemd160(const uint8_t *bytes, size_t len, uint8_t out[20]);

/* Raw base58 (no checksum); *out is icms__malloc'd. */
int icms__base58_encode(const uint8_t *bytes, size_t len, char **out);
int icms__base58_decode(const char *text, uint8_t **out, size_t *out_len);

/* Regroup bits (BIP173 convertbits); returns false on bad padding or a value too wide. */
bool icms__convert_bits(uint8_t *out, size_t *out_len, int to_bits, const uint8_t *in,
                        size_t in_len, int from_bits, bool pad);

/* SHA-256d of a header's first 84 serialized bytes, from its fields. */
void icms__header_hash(const icms_gapcoin_header *h, uint8_t out[32]);

/* Parse one header from the reader (the prefix of a block or of a CMerkleBlock). */
int icms__header_parse(icms__reader *r, icms_gapcoin_header *out);

/* Parse one transaction from the reader (one of a block's). */
int icms__tx_parse(icms__reader *r, icms_gapcoin_tx **out);

#endif
