/*
 * Transactions, blocks, merkle roots and merkle proofs. The genesis coinbase,
 * block and proof come from tests/data/gapcoin/genesis.json (a copy of the
 * shared vectors); witness transactions and multi-transaction proofs are
 * built here.
 */
#include "gapcoin_test.h"

#include "gapcoin/gapcoin_internal.h"

/* A growable byte buffer for building serializations. */
typedef struct buf {
    uint8_t b[4096];
    size_t n;
} buf;

static void put(buf *o, const void *p, size_t n)
{
    assert_true(o->n + n <= sizeof o->b);
    if (n)
        memcpy(o->b + o->n, p, n);
    o->n += n;
}
static void put8(buf *o, uint8_t v)
{
    put(o, &v, 1);
}
static void put32(buf *o, uint32_t v)
{
    uint8_t p[4];
    icms__put_le32(p, v);
    put(o, p, 4);
}
static void put64(buf *o, uint64_t v)
{
    uint8_t p[8];
    icms__put_le64(p, v);
    put(o, p, 8);
}
static void put_var(buf *o, const void *p, size_t n)
{
    uint8_t c[9];
    put(o, c, icms__write_compact(c, n));
    put(o, p, n);
}

/* A 1-input, 2-output transaction, with or without a 2-item witness. */
static void build_tx(buf *o, bool witness, bool stripped, int64_t value0)
{
    uint8_t prev[32], script[22] = {0x00, 20}, sig[71], key[33];
    for (int i = 0; i < 32; i++)
        prev[i] = (uint8_t)(i + 1);
    memset(script + 2, 0x42, 20);
    memset(sig, 0x30, sizeof sig);
    memset(key, 0x02, sizeof key);
    o->n = 0;
    put32(o, 2);
    if (witness && !stripped) {
        put8(o, 0);
        put8(o, 1);
    }
    put8(o, 1);
    put(o, prev, 32);
    put32(o, 1);
    put_var(o, NULL, 0);
    put32(o, 0xfffffffd);
    put8(o, 2);
    put64(o, (uint64_t)value0);
    put_var(o, script, sizeof script);
    put64(o, 0);
    put_var(o,
            "\x6a\x03"
            "abc",
            5);
    if (witness && !stripped) {
        put8(o, 2);
        put_var(o, sig, sizeof sig);
        put_var(o, key, sizeof key);
    }
    put32(o, 100);
}

static void test_genesis_coinbase(void **state)
{
    (void)state;
    cJSON *g = gap_load("genesis.json");
    const cJSON *cb = cJSON_GetObjectItem(g, "coinbase_tx");
    size_t n;
    uint8_t *bytes = icms_test_unhex(gap_str(cb, "hex"), &n);
    icms_gapcoin_tx *tx;
    assert_icms_ok(icms_gapcoin_tx_decode(bytes, n, &tx));
    gap_assert_hash(tx->txid, gap_str(cb, "txid"));
    gap_assert_hash(tx->wtxid, gap_str(cb, "txid"));
    assert_int_equal(tx->size, gap_u64(cb, "size"));
    assert_int_equal(tx->base_size, tx->size);
    assert_int_equal(tx->has_witness, 0);
    assert_int_equal(tx->version, 1);
    assert_int_equal(tx->locktime, 0);
    assert_int_equal(tx->input_count, 1);
    const uint8_t zero[32] = {0};
    assert_memory_equal(tx->inputs[0].prev_txid, zero, 32);
    assert_int_equal(tx->inputs[0].vout, 0xffffffff);
    assert_int_equal(tx->inputs[0].sequence, 0xffffffff);
    assert_int_equal(tx->inputs[0].witness_count, 0);
    const char *msg = gap_str(cb, "scriptsig_message");
    assert_int_equal(tx->inputs[0].script_sig_len, 72);
    assert_memory_equal(tx->inputs[0].script_sig + 8, msg, strlen(msg));
    assert_int_equal(icms_gapcoin_tx_is_coinbase(tx), 1);
    assert_int_equal(icms_gapcoin_tx_is_coinbase(NULL), 0);
    {
        /* The null prev txid with another vout, or vout 0xffffffff with another txid: not one. */
        icms_gapcoin_tx *other;
        bytes[37] = 0xfe;
        assert_icms_ok(icms_gapcoin_tx_decode(bytes, n, &other));
        assert_int_equal(icms_gapcoin_tx_is_coinbase(other), 0);
        icms_gapcoin_tx_free(other);
        bytes[37] = 0xff;
        bytes[5] = 1;
        assert_icms_ok(icms_gapcoin_tx_decode(bytes, n, &other));
        assert_int_equal(icms_gapcoin_tx_is_coinbase(other), 0);
        icms_gapcoin_tx_free(other);
        bytes[5] = 0;
    }
    assert_int_equal(tx->output_count, 1);
    assert_int_equal(tx->outputs[0].value, 0);
    assert_int_equal(tx->total_out, 0);
    assert_int_equal(icms_gapcoin_script_classify(tx->outputs[0].script, tx->outputs[0].script_len),
                     ICMS_GAPCOIN_SCRIPT_P2PK);
    const cJSON *out0 = cJSON_GetArrayItem(cJSON_GetObjectItem(cb, "outputs"), 0);
    char *addr;
    assert_icms_ok(icms_gapcoin_script_to_address(tx->outputs[0].script, tx->outputs[0].script_len,
                                                  ICMS_GAPCOIN_MAIN, ICMS_GAPCOIN_NODE_0_9, &addr));
    assert_string_equal(addr, gap_str(out0, "address_mainnet"));
    icms_free(addr);
    /* The struct owns a copy: the input may go away. */
    memset(bytes, 0xee, n);
    gap_assert_hash(tx->txid, gap_str(cb, "txid"));
    assert_memory_equal(tx->inputs[0].script_sig + 8, msg, strlen(msg));
    icms_gapcoin_tx_free(tx);
    icms_gapcoin_tx_free(NULL);
    free(bytes);
    cJSON_Delete(g);
}

static void test_witness_tx(void **state)
{
    (void)state;
    buf full, bare;
    build_tx(&full, true, false, 150000000);
    build_tx(&bare, true, true, 150000000);
    icms_gapcoin_tx *w, *l;
    assert_icms_ok(icms_gapcoin_tx_decode(full.b, full.n, &w));
    assert_icms_ok(icms_gapcoin_tx_decode(bare.b, bare.n, &l));
    assert_int_equal(w->has_witness, 1);
    assert_int_equal(l->has_witness, 0);
    assert_int_equal(icms_gapcoin_tx_is_coinbase(w), 0);
    /* txid ignores the witness; wtxid covers it. */
    assert_memory_equal(w->txid, l->txid, 32);
    assert_memory_not_equal(w->wtxid, w->txid, 32);
    uint8_t h[32];
    icms_gapcoin_sha256d(full.b, full.n, h);
    assert_memory_equal(w->wtxid, h, 32);
    icms_gapcoin_sha256d(bare.b, bare.n, h);
    assert_memory_equal(w->txid, h, 32);
    assert_int_equal(w->size, full.n);
    assert_int_equal(w->base_size, bare.n);
    assert_int_equal(w->locktime, 100);
    assert_int_equal(w->version, 2);
    assert_int_equal(w->inputs[0].vout, 1);
    assert_int_equal(w->inputs[0].sequence, 0xfffffffd);
    assert_int_equal(w->inputs[0].script_sig_len, 0);
    assert_int_equal(w->inputs[0].witness_count, 2);
    assert_int_equal(w->inputs[0].witness[0].bytes_len, 71);
    assert_int_equal(w->inputs[0].witness[1].bytes_len, 33);
    assert_int_equal(w->inputs[0].witness[1].bytes[0], 0x02);
    assert_int_equal(w->output_count, 2);
    assert_int_equal(w->outputs[0].value, 150000000);
    assert_int_equal(w->total_out, 150000000);
    assert_int_equal(icms_gapcoin_script_classify(w->outputs[0].script, w->outputs[0].script_len),
                     ICMS_GAPCOIN_SCRIPT_P2WPKH);
    assert_int_equal(icms_gapcoin_script_classify(w->outputs[1].script, w->outputs[1].script_len),
                     ICMS_GAPCOIN_SCRIPT_OP_RETURN);
    icms_gapcoin_tx_free(w);
    icms_gapcoin_tx_free(l);
}

/* Every prefix shorter than the whole is refused, and so is one more byte. */
static void assert_truncations_fail(const uint8_t *b, size_t n)
{
    icms_gapcoin_tx *tx;
    for (size_t k = 0; k < n; k++) {
        int rc = icms_gapcoin_tx_decode(b, k, &tx);
        if (rc != ICMS_EINVALID)
            fail_msg("prefix of %zu bytes gave %d", k, rc);
        assert_null(tx);
    }
    uint8_t more[4096];
    memcpy(more, b, n);
    more[n] = 0;
    assert_icms(ICMS_EINVALID, icms_gapcoin_tx_decode(more, n + 1, &tx));
    assert_non_null(strstr(icms_error_last()->message, "trailing"));
}

static void test_tx_malformed(void **state)
{
    (void)state;
    buf t;
    build_tx(&t, true, false, 1000);
    assert_truncations_fail(t.b, t.n);
    build_tx(&t, false, false, 1000);
    assert_truncations_fail(t.b, t.n);

    icms_gapcoin_tx *tx;
    /* Values: negative, above the sanity bound, and a sum above it. */
    build_tx(&t, false, false, -1);
    assert_icms(ICMS_EINVALID, icms_gapcoin_tx_decode(t.b, t.n, &tx));
    assert_non_null(strstr(icms_error_last()->message, "value -1 is out of range"));
    build_tx(&t, false, false, ICMS_GAPCOIN_MAX_MONEY + 1);
    assert_icms(ICMS_EINVALID, icms_gapcoin_tx_decode(t.b, t.n, &tx));
    build_tx(&t, false, false, ICMS_GAPCOIN_MAX_MONEY);
    assert_icms_ok(icms_gapcoin_tx_decode(t.b, t.n, &tx));
    icms_gapcoin_tx_free(tx);
    /* The second output (value 0 at offset) raised to 1: the sum exceeds the bound. */
    size_t second = 4 + 1 + 41 + 1 + 8 + 1 + 22;
    t.b[second] = 1;
    assert_icms(ICMS_EINVALID, icms_gapcoin_tx_decode(t.b, t.n, &tx));
    assert_non_null(strstr(icms_error_last()->message, "total"));

    /* The witness flag must be 1; zero inputs are refused. */
    build_tx(&t, true, false, 5);
    t.b[5] = 2;
    assert_icms(ICMS_EINVALID, icms_gapcoin_tx_decode(t.b, t.n, &tx));
    assert_non_null(strstr(icms_error_last()->message, "flag"));
    /* A witness form whose witness is empty is a second encoding: refused. */
    buf e;
    build_tx(&t, true, true, 5);
    e.n = 0;
    put(&e, t.b, 4);
    put8(&e, 0);
    put8(&e, 1);
    put(&e, t.b + 4, t.n - 8);
    put8(&e, 0);
    put(&e, t.b + t.n - 4, 4);
    assert_icms(ICMS_EINVALID, icms_gapcoin_tx_decode(e.b, e.n, &tx));
    assert_non_null(strstr(icms_error_last()->message, "empty witness"));
    /* No outputs. */
    e.n = 0;
    put32(&e, 1);
    put8(&e, 1);
    put(&e, t.b + 5, 40);
    put8(&e, 0);
    put32(&e, 0);
    assert_icms(ICMS_EINVALID, icms_gapcoin_tx_decode(e.b, e.n, &tx));
    assert_non_null(strstr(icms_error_last()->message, "no outputs"));
    /* An input count that cannot fit. */
    e.n = 0;
    put32(&e, 1);
    put8(&e, 0xfd);
    put8(&e, 0xff);
    put8(&e, 0x00);
    put(&e, t.b + 5, 41);
    assert_icms(ICMS_EINVALID, icms_gapcoin_tx_decode(e.b, e.n, &tx));
    assert_non_null(strstr(icms_error_last()->message, "cannot fit"));
    /* A non-canonical compact size (0xfd 0x01 0x00 for 1 input). */
    e.n = 0;
    put32(&e, 1);
    put8(&e, 0xfd);
    put8(&e, 1);
    put8(&e, 0);
    put(&e, t.b + 5, t.n - 5);
    assert_icms(ICMS_EINVALID, icms_gapcoin_tx_decode(e.b, e.n, &tx));
    assert_non_null(strstr(icms_error_last()->message, "non-canonical"));
    /* A script length running past the end. */
    build_tx(&t, false, false, 5);
    t.b[4 + 1 + 36] = 0xfc;
    assert_icms(ICMS_EINVALID, icms_gapcoin_tx_decode(t.b, t.n, &tx));
    assert_non_null(strstr(icms_error_last()->message, "tx input 0: script_sig: needs 252 bytes"));
    /* Limits and arguments. */
    assert_icms(ICMS_ELIMIT, icms_gapcoin_tx_decode(t.b, ICMS_GAPCOIN_TX_MAX_SIZE + 1, &tx));
    assert_icms(ICMS_EINVALID, icms_gapcoin_tx_decode(NULL, 5, &tx));
    assert_icms(ICMS_EINVALID, icms_gapcoin_tx_decode(t.b, t.n, NULL));
    assert_icms(ICMS_EINVALID, icms_gapcoin_tx_decode(NULL, 0, &tx));
}

static void test_tx_mutations(void **state)
{
    (void)state;
    /* Every single-byte change either fails to decode or changes the wtxid. */
    buf t;
    build_tx(&t, true, false, 123456);
    icms_gapcoin_tx *orig;
    assert_icms_ok(icms_gapcoin_tx_decode(t.b, t.n, &orig));
    for (size_t k = 0; k < t.n; k++) {
        for (unsigned flip = 1; flip < 256; flip <<= 1) {
            t.b[k] ^= (uint8_t)flip;
            icms_gapcoin_tx *tx;
            if (icms_gapcoin_tx_decode(t.b, t.n, &tx) == 0) {
                assert_memory_not_equal(tx->wtxid, orig->wtxid, 32);
                icms_gapcoin_tx_free(tx);
            }
            t.b[k] ^= (uint8_t)flip;
        }
    }
    icms_gapcoin_tx_free(orig);
}

static void test_tx_allocation_failure(void **state)
{
    (void)state;
    buf t;
    build_tx(&t, true, false, 7);
    icms_gapcoin_tx *tx;
    icms__alloc_fail_after(1);
    assert_icms(ICMS_ENOMEM, icms_gapcoin_tx_decode(t.b, t.n, &tx));
    assert_null(tx);
    icms__alloc_fail_after(0);
    assert_icms_ok(icms_gapcoin_tx_decode(t.b, t.n, &tx));
    icms_gapcoin_tx_free(tx);
}

/* Fail each allocation of a call in turn: ENOMEM with nothing leaked, until it succeeds. */
#define ALLOC_LOOP(call, cleanup)                                                                  \
    do {                                                                                           \
        for (long nth = 1;; nth++) {                                                               \
            icms__alloc_fail_after(nth);                                                           \
            int rc_ = (call);                                                                      \
            icms__alloc_fail_after(0);                                                             \
            if (rc_ == 0) {                                                                        \
                cleanup;                                                                           \
                break;                                                                             \
            }                                                                                      \
            assert_int_equal(rc_, ICMS_ENOMEM);                                                    \
            assert_true(nth < 100);                                                                \
        }                                                                                          \
    } while (0)

static void test_every_allocation_failure(void **state)
{
    (void)state;
    cJSON *g = gap_load("genesis.json");
    const cJSON *m = cJSON_GetObjectItem(g, "mainnet");
    size_t n, pn;
    uint8_t *block = icms_test_unhex(gap_str(m, "block_hex"), &n);
    uint8_t *proof = icms_test_unhex(gap_str(m, "merkle_proof_hex"), &pn);
    icms_gapcoin_block *b;
    ALLOC_LOOP(icms_gapcoin_block_decode(block, n, &b), icms_gapcoin_block_free(b));
    icms_gapcoin_merkle_proof *p;
    ALLOC_LOOP(icms_gapcoin_merkle_proof_verify(proof, pn, &p), icms_gapcoin_merkle_proof_free(p));
    uint8_t ids[96] = {1, 2, 3}, root[32];
    ALLOC_LOOP(icms_gapcoin_merkle_root(ids, 96, root, NULL), (void)0);
    char *s;
    uint8_t *bytes, version;
    size_t len;
    ALLOC_LOOP(icms_gapcoin_hex_encode(block, 20, &s), icms_free(s));
    ALLOC_LOOP(icms_gapcoin_hex_decode("00ff", &bytes, &len), icms_free(bytes));
    ALLOC_LOOP(icms_gapcoin_base58check_encode(38, ids, 20, &s), icms_free(s));
    ALLOC_LOOP(icms_gapcoin_base58check_decode("GZiiRe1CLf2eLnhtSKG6rrbaKpJBMY37kA", &version,
                                               &bytes, &len),
               icms_free(bytes));
    ALLOC_LOOP(icms_gapcoin_address_to_script("gp1q6xype4d7cvltvu92r3ujv7j229kh0my6t6cxpy",
                                              ICMS_GAPCOIN_MAIN, &bytes, &len),
               icms_free(bytes));
    ALLOC_LOOP(icms_gapcoin_address_to_script("GZiiRe1CLf2eLnhtSKG6rrbaKpJBMY37kA",
                                              ICMS_GAPCOIN_MAIN, &bytes, &len),
               icms_free(bytes));
    uint8_t script[22] = {0, 20};
    ALLOC_LOOP(
        icms_gapcoin_script_to_address(script, 22, ICMS_GAPCOIN_MAIN, ICMS_GAPCOIN_NODE_2606, &s),
        icms_free(s));
    icms_gapcoin_header h;
    assert_icms_ok(icms_gapcoin_header_decode(block, 90, &h));
    ALLOC_LOOP(icms_gapcoin_header_encode(&h, &bytes, &len), icms_free(bytes));
    free(block);
    free(proof);
    cJSON_Delete(g);
}

static void test_genesis_block(void **state)
{
    (void)state;
    cJSON *g = gap_load("genesis.json");
    const cJSON *m = cJSON_GetObjectItem(g, "mainnet");
    size_t n;
    uint8_t *bytes = icms_test_unhex(gap_str(m, "block_hex"), &n);
    icms_gapcoin_block *b;
    assert_icms_ok(icms_gapcoin_block_decode(bytes, n, &b));
    assert_int_equal(b->tx_count, 1);
    assert_int_equal(b->size, n);
    gap_assert_hash(b->header.hash, gap_str(m, "hash"));
    gap_assert_hash(b->txs[0]->txid, gap_str(cJSON_GetObjectItem(g, "coinbase_tx"), "txid"));
    icms_gapcoin_block_free(b);
    icms_gapcoin_block_free(NULL);

    /* Every truncation, a trailing byte, a changed transaction byte. */
    for (size_t k = 0; k < n; k++) {
        assert_int_equal(icms_gapcoin_block_decode(bytes, k, &b), ICMS_EINVALID);
        assert_null(b);
    }
    uint8_t *more = malloc(n + 1);
    memcpy(more, bytes, n);
    more[n] = 0;
    assert_icms(ICMS_EINVALID, icms_gapcoin_block_decode(more, n + 1, &b));
    assert_non_null(strstr(icms_error_last()->message, "trailing"));
    more[n - 10] ^= 1;
    assert_icms(ICMS_EINVALID, icms_gapcoin_block_decode(more, n, &b));
    assert_non_null(strstr(icms_error_last()->message, "merkle root"));
    free(more);

    /* The same coinbase twice: CVE-2012-2459's duplicate is refused, however the root reads. */
    const cJSON *cb = cJSON_GetObjectItem(g, "coinbase_tx");
    size_t tx_len;
    uint8_t *tx = icms_test_unhex(gap_str(cb, "hex"), &tx_len);
    uint8_t ids[64];
    icms_gapcoin_tx *t;
    assert_icms_ok(icms_gapcoin_tx_decode(tx, tx_len, &t));
    memcpy(ids, t->txid, 32);
    memcpy(ids + 32, t->txid, 32);
    icms_gapcoin_tx_free(t);
    icms_gapcoin_header h;
    assert_icms_ok(icms_gapcoin_header_decode(bytes, 90, &h));
    int mutated;
    assert_icms_ok(icms_gapcoin_merkle_root(ids, 64, h.merkle_root, &mutated));
    assert_int_equal(mutated, 1);
    uint8_t *hb;
    size_t hb_len;
    assert_icms_ok(icms_gapcoin_header_encode(&h, &hb, &hb_len));
    buf d;
    d.n = 0;
    put(&d, hb, hb_len);
    put8(&d, 2);
    put(&d, tx, tx_len);
    put(&d, tx, tx_len);
    assert_icms(ICMS_EINVALID, icms_gapcoin_block_decode(d.b, d.n, &b));
    assert_non_null(strstr(icms_error_last()->message, "CVE-2012-2459"));
    /* A block whose count promises more than its bytes hold. */
    d.n = 0;
    put(&d, hb, hb_len);
    put8(&d, 0xfd);
    put8(&d, 0xff);
    put8(&d, 0xff);
    put(&d, tx, tx_len);
    assert_icms(ICMS_EINVALID, icms_gapcoin_block_decode(d.b, d.n, &b));
    d.n = 0;
    put(&d, hb, hb_len);
    put8(&d, 0);
    assert_icms(ICMS_EINVALID, icms_gapcoin_block_decode(d.b, d.n, &b));
    assert_non_null(strstr(icms_error_last()->message, "no transactions"));
    assert_icms(ICMS_ELIMIT, icms_gapcoin_block_decode(d.b, ICMS_GAPCOIN_BLOCK_MAX_SIZE + 1, &b));
    icms_free(hb);
    free(tx);
    free(bytes);
    cJSON_Delete(g);
}

static void test_merkle_root(void **state)
{
    (void)state;
    uint8_t ids[5 * 32], root[32], a[32], b[32], c[32], ab[64];
    for (int i = 0; i < 5 * 32; i++)
        ids[i] = (uint8_t)(i * 13 + 1);
    int mutated;
    /* One hash: the root is the hash. */
    assert_icms_ok(icms_gapcoin_merkle_root(ids, 32, root, &mutated));
    assert_memory_equal(root, ids, 32);
    /* Three: H(H(0,1), H(2,2)). */
    assert_icms_ok(icms_gapcoin_merkle_root(ids, 96, root, &mutated));
    assert_int_equal(mutated, 0);
    icms__sha256d2(ids, 32, ids + 32, 32, a);
    icms__sha256d2(ids + 64, 32, ids + 64, 32, b);
    memcpy(ab, a, 32);
    memcpy(ab + 32, b, 32);
    icms_gapcoin_sha256d(ab, 64, c);
    assert_memory_equal(root, c, 32);
    /* [0,1,2,2] has the same root and is reported as mutated. */
    uint8_t four[128];
    memcpy(four, ids, 96);
    memcpy(four + 96, ids + 64, 32);
    assert_icms_ok(icms_gapcoin_merkle_root(four, 128, a, &mutated));
    assert_memory_equal(a, root, 32);
    assert_int_equal(mutated, 1);
    assert_icms(ICMS_EINVALID, icms_gapcoin_merkle_root(ids, 0, root, NULL));
    assert_icms(ICMS_EINVALID, icms_gapcoin_merkle_root(ids, 33, root, NULL));
    assert_icms(ICMS_EINVALID, icms_gapcoin_merkle_root(NULL, 32, root, NULL));
}

/* ---- partial merkle trees, built the way nodes build them ---- */

typedef struct pmt {
    const uint8_t *ids;
    size_t n;
    const bool *match;
    uint8_t hashes[64 * 32];
    size_t n_hashes;
    bool bits[512];
    size_t n_bits;
} pmt;

static size_t pmt_width(const pmt *t, unsigned h)
{
    return (t->n + ((size_t)1 << h) - 1) >> h;
}

static void pmt_hash(const pmt *t, unsigned h, size_t pos, uint8_t out[32])
{
    if (h == 0) {
        memcpy(out, t->ids + 32 * pos, 32);
        return;
    }
    uint8_t l[32], r[32];
    pmt_hash(t, h - 1, pos * 2, l);
    if (pos * 2 + 1 < pmt_width(t, h - 1))
        pmt_hash(t, h - 1, pos * 2 + 1, r);
    else
        memcpy(r, l, 32);
    icms__sha256d2(l, 32, r, 32, out);
}

static void pmt_build(pmt *t, unsigned h, size_t pos)
{
    bool parent = false;
    for (size_t p = pos << h; p < ((pos + 1) << h) && p < t->n; p++)
        parent |= t->match[p];
    t->bits[t->n_bits++] = parent;
    if (h == 0 || !parent) {
        pmt_hash(t, h, pos, t->hashes + 32 * t->n_hashes++);
    } else {
        pmt_build(t, h - 1, pos * 2);
        if (pos * 2 + 1 < pmt_width(t, h - 1))
            pmt_build(t, h - 1, pos * 2 + 1);
    }
}

/* A CMerkleBlock for ids with the given matches, over a synthetic header. */
static void proof_bytes(buf *o, const uint8_t *ids, size_t n, const bool *match, uint32_t claim)
{
    pmt *t = calloc(1, sizeof *t);
    t->ids = ids;
    t->n = n;
    t->match = match;
    unsigned h = 0;
    while (pmt_width(t, h) > 1)
        h++;
    pmt_build(t, h, 0);
    icms_gapcoin_header hd;
    memset(&hd, 0, sizeof hd);
    hd.version = 2;
    hd.shift = 20;
    pmt_hash(t, h, 0, hd.merkle_root);
    uint8_t *hb;
    size_t hb_len;
    assert_icms_ok(icms_gapcoin_header_encode(&hd, &hb, &hb_len));
    o->n = 0;
    put(o, hb, hb_len);
    icms_free(hb);
    put32(o, claim ? claim : (uint32_t)n);
    uint8_t c[9];
    put(o, c, icms__write_compact(c, t->n_hashes));
    put(o, t->hashes, 32 * t->n_hashes);
    uint8_t flags[64] = {0};
    for (size_t i = 0; i < t->n_bits; i++)
        flags[i / 8] |= (uint8_t)(t->bits[i] << (i % 8));
    put_var(o, flags, (t->n_bits + 7) / 8);
    free(t);
}

static void test_genesis_proof(void **state)
{
    (void)state;
    cJSON *g = gap_load("genesis.json");
    const cJSON *m = cJSON_GetObjectItem(g, "mainnet");
    size_t n;
    uint8_t *bytes = icms_test_unhex(gap_str(m, "merkle_proof_hex"), &n);
    icms_gapcoin_merkle_proof *p;
    assert_icms_ok(icms_gapcoin_merkle_proof_verify(bytes, n, &p));
    gap_assert_hash(p->header.hash, gap_str(m, "hash"));
    assert_int_equal(p->tx_count, 1);
    assert_int_equal(p->match_count, 1);
    assert_int_equal(p->match_positions[0], 0);
    gap_assert_hash(p->matches, gap_str(cJSON_GetObjectItem(g, "coinbase_tx"), "txid"));
    assert_int_equal(icms_gapcoin_merkle_proof_contains(p, p->matches), 1);
    uint8_t other[32] = {1};
    assert_int_equal(icms_gapcoin_merkle_proof_contains(p, other), 0);
    assert_icms_ok(icms_gapcoin_pow_check(&p->header, NULL));
    icms_gapcoin_merkle_proof_free(p);
    icms_gapcoin_merkle_proof_free(NULL);
    /* Every truncation and every single-byte change after the header fails. */
    for (size_t k = 0; k < n; k++) {
        assert_int_equal(icms_gapcoin_merkle_proof_verify(bytes, k, &p), ICMS_EINVALID);
        assert_null(p);
    }
    for (size_t k = 90; k < n; k++) {
        for (unsigned flip = 1; flip < 256; flip <<= 1) {
            bytes[k] ^= (uint8_t)flip;
            assert_int_equal(icms_gapcoin_merkle_proof_verify(bytes, n, &p), ICMS_EINVALID);
            bytes[k] ^= (uint8_t)flip;
        }
    }
    free(bytes);
    cJSON_Delete(g);
}

static void test_built_proofs(void **state)
{
    (void)state;
    uint8_t ids[40 * 32];
    for (size_t i = 0; i < sizeof ids; i++)
        ids[i] = (uint8_t)(i * 31 + i / 32);
    unsigned seed = 12345;
    buf o;
    for (size_t n = 1; n <= 40; n++) {
        for (int round = 0; round < 4; round++) {
            bool match[40] = {false};
            size_t want = 0;
            for (size_t i = 0; i < n; i++) {
                seed = seed * 1103515245u + 12345u;
                match[i] = round == 3 ? true : ((seed >> 16) % 4) == 0;
                want += match[i];
            }
            if (want == 0) {
                match[n / 2] = true;
                want = 1;
            }
            proof_bytes(&o, ids, n, match, 0);
            icms_gapcoin_merkle_proof *p;
            assert_icms_ok(icms_gapcoin_merkle_proof_verify(o.b, o.n, &p));
            assert_int_equal(p->tx_count, n);
            assert_int_equal(p->match_count, want);
            size_t k = 0;
            for (size_t i = 0; i < n; i++) {
                if (!match[i])
                    continue;
                assert_int_equal(p->match_positions[k], i);
                assert_memory_equal(p->matches + 32 * k, ids + 32 * i, 32);
                k++;
            }
            icms_gapcoin_merkle_proof_free(p);
            /*
             * Every changed byte after the header breaks it, except a flag bit
             * turning a matched leaf into an unmatched one: that proves less.
             */
            if (n == 7 || n == 16) {
                for (size_t b = 87; b < o.n; b++) {
                    o.b[b] ^= 0x04;
                    int rc = icms_gapcoin_merkle_proof_verify(o.b, o.n, &p);
                    if (rc == 0) {
                        assert_true(p->match_count < want);
                        for (size_t i = 0; i < p->match_count; i++)
                            assert_true(match[p->match_positions[i]]);
                        icms_gapcoin_merkle_proof_free(p);
                    } else {
                        assert_int_equal(rc, ICMS_EINVALID);
                    }
                    o.b[b] ^= 0x04;
                }
            }
        }
    }
}

static void test_proof_refusals(void **state)
{
    (void)state;
    uint8_t ids[4 * 32];
    for (size_t i = 0; i < sizeof ids; i++)
        ids[i] = (uint8_t)(i + 7);
    /* CVE-2012-2459: three transactions presented as four, the last duplicated. */
    memcpy(ids + 96, ids + 64, 32);
    bool match[4] = {false, false, false, true};
    buf o;
    proof_bytes(&o, ids, 4, match, 0);
    icms_gapcoin_merkle_proof *p;
    assert_icms(ICMS_EINVALID, icms_gapcoin_merkle_proof_verify(o.b, o.n, &p));
    assert_non_null(strstr(icms_error_last()->message, "CVE-2012-2459"));

    /* A good 3-transaction proof, then broken in each way. */
    bool m3[3] = {false, true, false};
    proof_bytes(&o, ids, 3, m3, 0);
    assert_icms_ok(icms_gapcoin_merkle_proof_verify(o.b, o.n, &p));
    icms_gapcoin_merkle_proof_free(p);
    size_t at_count = 87;
    buf bad = o;
    icms__put_le32(bad.b + at_count, 0);
    assert_icms(ICMS_EINVALID, icms_gapcoin_merkle_proof_verify(bad.b, bad.n, &p));
    assert_non_null(strstr(icms_error_last()->message, "no transactions"));
    icms__put_le32(bad.b + at_count, ICMS_GAPCOIN_PROOF_MAX_TX + 1);
    assert_icms(ICMS_EINVALID, icms_gapcoin_merkle_proof_verify(bad.b, bad.n, &p));
    /* Claiming 2 transactions: 3 hashes is more than 2. */
    icms__put_le32(bad.b + at_count, 2);
    assert_icms(ICMS_EINVALID, icms_gapcoin_merkle_proof_verify(bad.b, bad.n, &p));
    /* Claiming 5: the tree is one level deeper and the root is not reached. */
    icms__put_le32(bad.b + at_count, 5);
    assert_icms(ICMS_EINVALID, icms_gapcoin_merkle_proof_verify(bad.b, bad.n, &p));
    /* A proof that matches nothing proves nothing: refused. */
    bool none[3] = {false, false, false};
    proof_bytes(&bad, ids, 3, none, 0);
    assert_icms(ICMS_EINVALID, icms_gapcoin_merkle_proof_verify(bad.b, bad.n, &p));
    assert_non_null(strstr(icms_error_last()->message, "matches no transaction"));
    /* An extra flag byte (unused). */
    bad = o;
    bad.b[bad.n - 2] = 2;
    put8(&bad, 0);
    assert_icms(ICMS_EINVALID, icms_gapcoin_merkle_proof_verify(bad.b, bad.n, &p));
    assert_non_null(strstr(icms_error_last()->message, "flag byte"));
    /* A set padding bit. */
    bad = o;
    bad.b[bad.n - 1] |= 0x80;
    assert_icms(ICMS_EINVALID, icms_gapcoin_merkle_proof_verify(bad.b, bad.n, &p));
    assert_non_null(strstr(icms_error_last()->message, "padding"));
    /* A trailing byte. */
    bad = o;
    put8(&bad, 0);
    assert_icms(ICMS_EINVALID, icms_gapcoin_merkle_proof_verify(bad.b, bad.n, &p));
    assert_non_null(strstr(icms_error_last()->message, "trailing"));
    /* An unused extra hash: count + 1 and a hash inserted before the flags. */
    bad.n = 0;
    put(&bad, o.b, at_count + 4);
    size_t nh = o.b[at_count + 4];
    put8(&bad, (uint8_t)(nh + 1));
    put(&bad, o.b + at_count + 5, 32 * nh);
    put(&bad, ids, 32);
    put(&bad, o.b + at_count + 5 + 32 * nh, o.n - (at_count + 5 + 32 * nh));
    assert_icms(ICMS_EINVALID, icms_gapcoin_merkle_proof_verify(bad.b, bad.n, &p));
    /* A different header merkle root. */
    bad = o;
    bad.b[40] ^= 1;
    assert_icms(ICMS_EINVALID, icms_gapcoin_merkle_proof_verify(bad.b, bad.n, &p));
    assert_non_null(strstr(icms_error_last()->message, "merkle root"));
    assert_icms(ICMS_EINVALID, icms_gapcoin_merkle_proof_verify(NULL, 4, &p));
    assert_icms(ICMS_EINVALID, icms_gapcoin_merkle_proof_verify(o.b, o.n, NULL));
    /* Allocation failure leaves nothing behind. */
    icms__alloc_fail_after(1);
    assert_icms(ICMS_ENOMEM, icms_gapcoin_merkle_proof_verify(o.b, o.n, &p));
    assert_null(p);
    icms__alloc_fail_after(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_genesis_coinbase),
        cmocka_unit_test(test_witness_tx),
        cmocka_unit_test(test_tx_malformed),
        cmocka_unit_test(test_tx_mutations),
        cmocka_unit_test(test_tx_allocation_failure),
        cmocka_unit_test(test_genesis_block),
        cmocka_unit_test(test_every_allocation_failure),
        cmocka_unit_test(test_merkle_root),
        cmocka_unit_test(test_genesis_proof),
        cmocka_unit_test(test_built_proofs),
        cmocka_unit_test(test_proof_refusals),
    };
    return cmocka_run_group_tests(tests, gap_init, gap_shutdown);
}
