/*
 * Merkle roots and partial merkle trees (Bitcoin's CPartialMerkleTree as
 * serialized inside a CMerkleBlock), with the CVE-2012-2459 checks: in a
 * block, a level whose last hash is paired with itself makes a second list
 * with the same root; a proof must never show a node with equal children.
 */
#include <string.h>

#include "gapcoin_internal.h"

int icms_gapcoin_merkle_root(const uint8_t *bytes, size_t bytes_len, uint8_t out[32],
                             int *mutated_out)
{
    if (mutated_out)
        *mutated_out = 0;
    if (!out || !bytes)
        return icms__error(ICMS_EINVALID, "merkle: NULL argument");
    if (bytes_len == 0 || bytes_len % 32)
        return icms__error(ICMS_EINVALID,
                           "merkle: %zu bytes is not a non-empty list of 32-byte "
                           "hashes",
                           bytes_len);
    size_t n = bytes_len / 32;
    if (n == 1) {
        memcpy(out, bytes, 32);
        return 0;
    }
    uint8_t *level = icms__memdup(bytes, bytes_len);
    if (!level)
        return ICMS_ENOMEM;
    bool mutated = false;
    while (n > 1) {
        for (size_t i = 0; i + 1 < n; i += 2)
            mutated |= memcmp(level + 32 * i, level + 32 * (i + 1), 32) == 0;
        size_t next = 0;
        for (size_t i = 0; i < n; i += 2) {
            /* An odd level pairs its last hash with itself. */
            const uint8_t *right = level + 32 * (i + 1 < n ? i + 1 : i);
            icms__sha256d2(level + 32 * i, 32, right, 32, level + 32 * next++);
        }
        n = next;
    }
    memcpy(out, level, 32);
    icms__free(level);
    if (mutated_out)
        *mutated_out = mutated;
    return 0;
}

typedef struct tree {
    uint32_t tx_count;
    const uint8_t *hashes;
    size_t n_hashes, hashes_used;
    const uint8_t *flags;
    size_t n_bits, bits_used;
    uint8_t *matches;
    uint32_t *positions;
    size_t n_matches;
    const char *bad; /* why the tree is malformed, or NULL */
} tree;

static size_t width(const tree *t, unsigned height)
{
    return ((size_t)t->tx_count + ((size_t)1 << height) - 1) >> height;
}

static void traverse(tree *t, unsigned height, size_t pos, uint8_t out[32])
{
    if (t->bad)
        return;
    if (t->bits_used >= t->n_bits) {
        t->bad = "ran out of flag bits";
        return;
    }
    size_t bit = t->bits_used++;
    bool parent_of_match = (t->flags[bit / 8] >> (bit % 8)) & 1;
    if (height == 0 || !parent_of_match) {
        if (t->hashes_used >= t->n_hashes) {
            t->bad = "ran out of hashes";
            return;
        }
        memcpy(out, t->hashes + 32 * t->hashes_used++, 32);
        if (height == 0 && parent_of_match) {
            memcpy(t->matches + 32 * t->n_matches, out, 32);
            t->positions[t->n_matches++] = (uint32_t)pos;
        }
        return;
    }
    uint8_t left[32], right[32];
    traverse(t, height - 1, pos * 2, left);
    if (pos * 2 + 1 < width(t, height - 1)) {
        traverse(t, height - 1, pos * 2 + 1, right);
        if (!t->bad && memcmp(left, right, 32) == 0) {
            t->bad = "a node has two equal children (CVE-2012-2459)";
            return;
        }
    } else {
        memcpy(right, left, 32);
    }
    if (!t->bad)
        icms__sha256d2(left, 32, right, 32, out);
}

int icms_gapcoin_merkle_proof_verify(const uint8_t *bytes, size_t bytes_len,
                                     icms_gapcoin_merkle_proof **out)
{
    if (!out)
        return icms__error(ICMS_EINVALID, "merkle proof: out is NULL");
    *out = NULL;
    if (!bytes && bytes_len)
        return icms__error(ICMS_EINVALID, "merkle proof: bytes is NULL");
    icms__reader r = {bytes, bytes_len, 0};
    icms_gapcoin_header header;
    uint32_t tx_count;
    uint64_t n_hashes;
    size_t n_flag_bytes;
    const uint8_t *hashes, *flags;
    int rc;
    if ((rc = icms__header_parse(&r, &header)) != 0 ||
        (rc = icms__read_u32(&r, &tx_count, "transaction count")) != 0)
        return icms__error_wrap(rc, "merkle proof");
    if (tx_count == 0)
        return icms__error(ICMS_EINVALID, "merkle proof: block with no transactions");
    if (tx_count > ICMS_GAPCOIN_PROOF_MAX_TX)
        return icms__error(ICMS_EINVALID, "merkle proof: %u transactions exceeds %u", tx_count,
                           ICMS_GAPCOIN_PROOF_MAX_TX);
    if ((rc = icms__read_compact(&r, tx_count, &n_hashes, "hash count")) != 0 ||
        (rc = icms__read_bytes(&r, (size_t)n_hashes * 32, &hashes, "hashes")) != 0 ||
        (rc = icms__read_var_bytes(&r, &flags, &n_flag_bytes, "flag bytes")) != 0)
        return icms__error_wrap(rc, "merkle proof");
    if (r.pos != bytes_len)
        return icms__error(ICMS_EINVALID, "merkle proof: %zu trailing bytes", bytes_len - r.pos);
    if (n_hashes == 0)
        return icms__error(ICMS_EINVALID, "merkle proof: no hashes");
    if (n_flag_bytes * 8 < n_hashes)
        return icms__error(ICMS_EINVALID, "merkle proof: fewer flag bits than hashes");

    size_t at_matches = sizeof(icms_gapcoin_merkle_proof);
    size_t at_positions = at_matches + (size_t)n_hashes * 32;
    uint8_t *block = icms__malloc(at_positions + (size_t)n_hashes * sizeof(uint32_t));
    if (!block)
        return ICMS_ENOMEM;
    tree t = {tx_count,
              hashes,
              (size_t)n_hashes,
              0,
              flags,
              n_flag_bytes * 8,
              0,
              block + at_matches,
              (uint32_t *)(block + at_positions),
              0,
              NULL};
    unsigned height = 0;
    while (width(&t, height) > 1)
        height++;
    uint8_t root[32];
    traverse(&t, height, 0, root);
    if (!t.bad && t.hashes_used != t.n_hashes)
        t.bad = "not every hash was used";
    if (!t.bad && (t.bits_used + 7) / 8 != n_flag_bytes)
        t.bad = "not every flag byte was used";
    for (size_t b = t.bits_used; !t.bad && b < t.n_bits; b++)
        if ((flags[b / 8] >> (b % 8)) & 1)
            t.bad = "padding flag bits are not zero";
    if (!t.bad && memcmp(root, header.merkle_root, 32) != 0)
        t.bad = "the tree does not reach the header's merkle root";
    if (!t.bad && t.n_matches == 0)
        t.bad = "the proof matches no transaction";
    if (t.bad) {
        icms__free(block);
        return icms__error(ICMS_EINVALID, "merkle proof: %s", t.bad);
    }
    icms_gapcoin_merkle_proof *proof = (icms_gapcoin_merkle_proof *)block;
    proof->header = header;
    proof->tx_count = tx_count;
    proof->match_count = t.n_matches;
    proof->matches = t.n_matches ? t.matches : NULL;
    proof->match_positions = t.n_matches ? t.positions : NULL;
    *out = proof;
    return 0;
}

int icms_gapcoin_merkle_proof_contains(const icms_gapcoin_merkle_proof *proof,
                                       const uint8_t txid[32])
{
    if (!proof || !txid)
        return 0;
    for (size_t i = 0; i < proof->match_count; i++)
        if (memcmp(proof->matches + 32 * i, txid, 32) == 0)
            return 1;
    return 0;
}

void icms_gapcoin_merkle_proof_free(icms_gapcoin_merkle_proof *proof)
{
    icms__free(proof);
}
