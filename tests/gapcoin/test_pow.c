/*
 * Headers, proof of work, retarget and header chains against real Gapcoin
 * mainnet data (tests/data/gapcoin, copied from the shared vectors).
 */
#include "gapcoin_test.h"

#include "core/core.h"

typedef struct vec {
    uint8_t *bytes;
    size_t len;
    char hash[65];
    uint64_t n_difficulty, gap, merit, achieved;
} vec;

/* Genesis (index 0) and mainnet headers 1-9. */
static vec vecs[10];

static void load_vectors(void)
{
    if (vecs[0].bytes)
        return;
    cJSON *g = gap_load("genesis.json");
    const cJSON *m = cJSON_GetObjectItem(g, "mainnet");
    vecs[0].bytes = icms_test_unhex(gap_str(m, "header_hex"), &vecs[0].len);
    strcpy(vecs[0].hash, gap_str(m, "hash"));
    vecs[0].n_difficulty = gap_u64(m, "n_difficulty");
    const cJSON *pow = cJSON_GetObjectItem(m, "pow");
    vecs[0].gap = gap_u64(pow, "gap");
    vecs[0].merit = gap_u64(pow, "merit_u64");
    vecs[0].achieved = gap_u64(pow, "achieved_u64");
    cJSON_Delete(g);
    cJSON *h = gap_load("mainnet_headers_1_9.json");
    const cJSON *item;
    int i = 1;
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(h, "headers"))
    {
        assert_int_equal(gap_u64(item, "height"), i);
        vecs[i].bytes = icms_test_unhex(gap_str(item, "header_hex"), &vecs[i].len);
        strcpy(vecs[i].hash, gap_str(item, "hash"));
        vecs[i].n_difficulty = gap_u64(item, "n_difficulty");
        pow = cJSON_GetObjectItem(item, "pow");
        vecs[i].gap = gap_u64(pow, "gap");
        vecs[i].merit = gap_u64(pow, "merit_u64");
        vecs[i].achieved = gap_u64(pow, "achieved_u64");
        i++;
    }
    assert_int_equal(i, 10);
    cJSON_Delete(h);
}

static void test_genesis_header_fields(void **state)
{
    (void)state;
    load_vectors();
    icms_gapcoin_header h;
    assert_icms_ok(icms_gapcoin_header_decode(vecs[0].bytes, vecs[0].len, &h));
    assert_int_equal(h.version, 1);
    assert_int_equal(h.time, 1413914400);
    assert_int_equal(h.nonce, 13370);
    assert_int_equal(h.shift, 20);
    assert_int_equal(h.n_difficulty, UINT64_C(4503599627370496));
    assert_int_equal(h.adder_len, 3);
    assert_memory_equal(h.adder, "\xe9\x9c\x0f", 3);
    assert_int_equal(h.size, 90);
    gap_assert_hash(h.hash, vecs[0].hash);
    gap_assert_hash(h.merkle_root,
                    "261010cfad2ae26a355e56c2551ea2cc05549df11db7f40db7c2b9e3b40e1194");
    const icms_gapcoin_params *p = icms_gapcoin_params_get(ICMS_GAPCOIN_MAIN);
    assert_memory_equal(h.hash, p->genesis_hash, 32);

    /* Encoding gives back the same bytes. */
    uint8_t *enc;
    size_t enc_len;
    assert_icms_ok(icms_gapcoin_header_encode(&h, &enc, &enc_len));
    assert_int_equal(enc_len, vecs[0].len);
    assert_memory_equal(enc, vecs[0].bytes, enc_len);
    icms_free(enc);
}

static void test_vector_pow_is_bit_exact(void **state)
{
    (void)state;
    load_vectors();
    for (int i = 0; i < 10; i++) {
        icms_gapcoin_header h;
        icms_gapcoin_pow pow;
        assert_icms_ok(icms_gapcoin_header_verify(vecs[i].bytes, vecs[i].len, &h, &pow));
        gap_assert_hash(h.hash, vecs[i].hash);
        assert_int_equal(pow.computed, 1);
        assert_int_equal(h.n_difficulty, vecs[i].n_difficulty);
        assert_int_equal(pow.n_difficulty, vecs[i].n_difficulty);
        assert_int_equal(pow.gap, vecs[i].gap);
        assert_int_equal(pow.merit, vecs[i].merit);
        assert_int_equal(pow.achieved, vecs[i].achieved);
        /* Round trip of every vector header. */
        uint8_t *enc;
        size_t enc_len;
        assert_icms_ok(icms_gapcoin_header_encode(&h, &enc, &enc_len));
        assert_int_equal(enc_len, vecs[i].len);
        assert_memory_equal(enc, vecs[i].bytes, enc_len);
        icms_free(enc);
    }
}

static void test_testnet_genesis(void **state)
{
    (void)state;
    cJSON *g = gap_load("genesis.json");
    const cJSON *t = cJSON_GetObjectItem(g, "testnet");
    size_t len;
    uint8_t *bytes = icms_test_unhex(gap_str(t, "header_hex"), &len);
    icms_gapcoin_header h;
    icms_gapcoin_pow pow;
    assert_icms_ok(icms_gapcoin_header_verify(bytes, len, &h, &pow));
    assert_int_equal(h.size, gap_u64(t, "header_size"));
    gap_assert_hash(h.hash, gap_str(t, "hash"));
    assert_int_equal(pow.gap, gap_u64(cJSON_GetObjectItem(t, "pow"), "gap"));
    assert_memory_equal(h.hash, icms_gapcoin_params_get(ICMS_GAPCOIN_TEST)->genesis_hash, 32);
    icms_gapcoin_chain_options opt = ICMS_GAPCOIN_CHAIN_OPTIONS_INIT;
    opt.network = ICMS_GAPCOIN_TEST;
    assert_icms_ok(icms_gapcoin_chain_verify(bytes, len, &opt, NULL));
    /* The testnet genesis is not the mainnet one. */
    assert_icms(ICMS_EINVALID, icms_gapcoin_chain_verify(bytes, len, NULL, NULL));
    assert_non_null(strstr(icms_error_last()->message, "genesis"));
    free(bytes);
    cJSON_Delete(g);
}

/* A changed header must fail to decode or fail its proof of work. */
static void assert_mutant_fails(const uint8_t *bytes, size_t len, size_t at, uint8_t value)
{
    uint8_t buf[ICMS_GAPCOIN_HEADER_MAX_SIZE];
    memcpy(buf, bytes, len);
    buf[at] = value;
    icms_gapcoin_pow pow;
    int rc = icms_gapcoin_header_verify(buf, len, NULL, &pow);
    if (rc == 0)
        fail_msg("header with byte %zu set to 0x%02x still verifies", at, value);
    assert_int_equal(rc, ICMS_EINVALID);
}

/* Under valgrind (ICMS_VALGRIND=1) the exhaustive loops take a stride; every byte is still hit. */
static unsigned slow_stride(unsigned normal, unsigned under_valgrind)
{
    const char *v = getenv("ICMS_VALGRIND");
    return v && *v == '1' ? under_valgrind : normal;
}

static void test_every_single_byte_change_fails(void **state)
{
    (void)state;
    load_vectors();
    /* Genesis: every byte, every other value (every 17th value under valgrind). */
    unsigned step = slow_stride(1, 17);
    for (size_t at = 0; at < vecs[0].len; at++)
        for (unsigned v = (unsigned)(at % step); v < 256; v += step)
            if (v != vecs[0].bytes[at])
                assert_mutant_fails(vecs[0].bytes, vecs[0].len, at, (uint8_t)v);
    /* Headers 1-9: every byte, a spread of changes (single bits, complements, zero). */
    static const uint8_t flips[] = {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff};
    for (int i = 1; i < 10; i++) {
        for (size_t at = 0; at < vecs[i].len; at++) {
            for (size_t f = 0; f < ICMS__ARRAY_LEN(flips); f++)
                assert_mutant_fails(vecs[i].bytes, vecs[i].len, at,
                                    (uint8_t)(vecs[i].bytes[at] ^ flips[f]));
            if (vecs[i].bytes[at] != 0)
                assert_mutant_fails(vecs[i].bytes, vecs[i].len, at, 0);
        }
    }
}

/* Re-hash a header after editing its fields. */
static void rehash(icms_gapcoin_header *h)
{
    uint8_t *enc;
    size_t enc_len;
    assert_icms_ok(icms_gapcoin_header_encode(h, &enc, &enc_len));
    assert_icms_ok(icms_gapcoin_header_decode(enc, enc_len, h));
    icms_free(enc);
}

/* A tiny miner: a nonce giving H >= 2^255, then the first adder making start prime. */
static void mine(icms_gapcoin_header *h)
{
    h->shift = 20;
    rehash(h);
    while (!(h->hash[31] & 0x80)) {
        h->nonce++;
        rehash(h);
    }
    icms_gapcoin_pow pow;
    for (uint32_t adder = 1; adder < (1u << 20); adder += 2) {
        h->adder_len = 3;
        h->adder[0] = (uint8_t)adder;
        h->adder[1] = (uint8_t)(adder >> 8);
        h->adder[2] = (uint8_t)(adder >> 16);
        if (icms_gapcoin_pow_check(h, &pow) == 0 || pow.computed)
            return;
    }
    fail_msg("no prime start found");
}

static void test_pow_rules(void **state)
{
    (void)state;
    load_vectors();
    icms_gapcoin_header g;
    icms_gapcoin_pow pow;
    assert_icms_ok(icms_gapcoin_header_decode(vecs[0].bytes, vecs[0].len, &g));

    /* Achieved below the target: mine a header whose only fault is that; figures reported. */
    icms_gapcoin_header h = g;
    h.n_difficulty = UINT64_C(1) << 62;
    mine(&h);
    assert_icms(ICMS_EINVALID, icms_gapcoin_pow_check(&h, &pow));
    assert_non_null(strstr(icms_error_last()->message, "below the difficulty"));
    assert_int_equal(pow.computed, 1);
    assert_true(pow.gap > 0 && pow.merit > 0 && pow.achieved >= pow.merit);
    assert_int_equal(pow.n_difficulty, UINT64_C(1) << 62);
    /* The same search at a target it meets verifies. */
    h = g;
    h.n_difficulty = UINT64_C(1) << 40;
    mine(&h);
    assert_icms_ok(icms_gapcoin_pow_check(&h, &pow));
    assert_true(pow.achieved >= h.n_difficulty);

    h = g;
    h.shift = 13;
    assert_icms(ICMS_EINVALID, icms_gapcoin_pow_check(&h, &pow));
    assert_non_null(strstr(icms_error_last()->message, "shift"));
    assert_int_equal(pow.computed, 0);
    h.shift = 1025;
    assert_icms(ICMS_EINVALID, icms_gapcoin_pow_check(&h, &pow));

    /* nAdd must stay below 2^shift: 2^20 with shift 20 is refused. */
    h = g;
    h.adder_len = 3;
    memcpy(h.adder, "\x00\x00\x10", 3);
    assert_icms(ICMS_EINVALID, icms_gapcoin_pow_check(&h, &pow));
    assert_non_null(strstr(icms_error_last()->message, "nAdd"));

    /* A non-minimal nAdd (a high zero byte) is the same number: still valid. */
    h = g;
    h.adder[3] = 0;
    h.adder_len = 4;
    assert_icms_ok(icms_gapcoin_pow_check(&h, &pow));
    assert_int_equal(pow.achieved, vecs[0].achieved);

    /* A hash field that does not match the fields is refused. */
    h = g;
    h.hash[0] ^= 1;
    assert_icms(ICMS_EINVALID, icms_gapcoin_pow_check(&h, &pow));
    assert_non_null(strstr(icms_error_last()->message, "hash field"));

    /* A hash below 2^255 is refused before any prime test: find a nonce that gives one. */
    h = g;
    do {
        h.nonce++;
        rehash(&h);
    } while (h.hash[31] & 0x80);
    assert_icms(ICMS_EINVALID, icms_gapcoin_pow_check(&h, &pow));
    assert_non_null(strstr(icms_error_last()->message, "2^255"));

    /* A composite start. */
    h = g;
    h.adder[0] ^= 1;
    assert_icms(ICMS_EINVALID, icms_gapcoin_pow_check(&h, &pow));
    assert_non_null(strstr(icms_error_last()->message, "not prime"));
    assert_icms(ICMS_EINVALID, icms_gapcoin_pow_check(NULL, &pow));
}

static void test_header_decode_rejects_malformed(void **state)
{
    (void)state;
    load_vectors();
    icms_gapcoin_header h;
    const uint8_t *b = vecs[0].bytes;
    size_t len = vecs[0].len;
    /* Every truncation. */
    for (size_t n = 0; n < len; n++)
        assert_icms(ICMS_EINVALID, icms_gapcoin_header_decode(b, n, &h));
    /* A trailing byte. */
    uint8_t buf[ICMS_GAPCOIN_HEADER_MAX_SIZE + 16];
    memcpy(buf, b, len);
    buf[len] = 0;
    assert_icms(ICMS_EINVALID, icms_gapcoin_header_decode(buf, len + 1, &h));
    assert_non_null(strstr(icms_error_last()->message, "trailing"));
    /* A non-canonical nAdd length (0xfd 0x03 0x00 for 3). */
    memcpy(buf, b, 86);
    buf[86] = 0xfd;
    buf[87] = 3;
    buf[88] = 0;
    memcpy(buf + 89, b + 87, 3);
    assert_icms(ICMS_EINVALID, icms_gapcoin_header_decode(buf, 92, &h));
    assert_non_null(strstr(icms_error_last()->message, "non-canonical"));
    /* nAdd longer than 128 bytes. */
    memset(buf + 86, 0, sizeof buf - 86);
    buf[86] = 129;
    assert_icms(ICMS_EINVALID, icms_gapcoin_header_decode(buf, 87 + 129, &h));
    assert_non_null(strstr(icms_error_last()->message, "nAdd"));
    /* The largest nAdd decodes. */
    buf[86] = 128;
    assert_icms_ok(icms_gapcoin_header_decode(buf, 87 + 128, &h));
    assert_int_equal(h.adder_len, 128);
    assert_icms(ICMS_EINVALID, icms_gapcoin_header_decode(NULL, 5, &h));
    assert_icms(ICMS_EINVALID, icms_gapcoin_header_decode(b, len, NULL));
}

static void test_retarget(void **state)
{
    (void)state;
    load_vectors();
    uint64_t next;
    const uint64_t min = UINT64_C(0x0010000000000000);
    /* The target spacing keeps the difficulty. */
    assert_icms_ok(icms_gapcoin_next_difficulty(ICMS_GAPCOIN_MAIN, min, 150, &next));
    assert_int_equal(next, min);
    /* Real blocks 3..9 from their predecessors' times. */
    for (int i = 3; i < 10; i++) {
        icms_gapcoin_header a, b;
        assert_icms_ok(icms_gapcoin_header_decode(vecs[i - 2].bytes, vecs[i - 2].len, &a));
        assert_icms_ok(icms_gapcoin_header_decode(vecs[i - 1].bytes, vecs[i - 1].len, &b));
        assert_icms_ok(icms_gapcoin_next_difficulty(ICMS_GAPCOIN_MAIN, b.n_difficulty,
                                                    (int64_t)b.time - a.time, &next));
        assert_int_equal(next, vecs[i].n_difficulty);
    }
    /* Faster blocks raise it, slower ones lower it (by the steeper 1/64 step). */
    uint64_t d = 20 * (UINT64_C(1) << 48), fast, slow, slower;
    assert_icms_ok(icms_gapcoin_next_difficulty(ICMS_GAPCOIN_MAIN, d, 10, &fast));
    assert_icms_ok(icms_gapcoin_next_difficulty(ICMS_GAPCOIN_MAIN, d, 300, &slow));
    assert_icms_ok(icms_gapcoin_next_difficulty(ICMS_GAPCOIN_MAIN, d, 3000, &slower));
    assert_true(fast > d);
    assert_true(slow < d);
    assert_true(slower < slow);
    /* 300 s: ln(300) - ln(150) = ln 2; (ln 2 x 2^48) / 64, to within rounding. */
    uint64_t step = d - slow;
    uint64_t expect = (uint64_t)(0.6931471805599453 * 281474976710656.0 / 64.0);
    assert_true(step + 2 >= expect && step <= expect + 2);
    /* Timespans below 1 count as 1. */
    uint64_t one, neg;
    assert_icms_ok(icms_gapcoin_next_difficulty(ICMS_GAPCOIN_MAIN, d, 1, &one));
    assert_icms_ok(icms_gapcoin_next_difficulty(ICMS_GAPCOIN_MAIN, d, -500, &neg));
    assert_int_equal(one, neg);
    /* The floor per network, and saturation at the top. */
    assert_icms_ok(icms_gapcoin_next_difficulty(ICMS_GAPCOIN_MAIN, min, 100000, &next));
    assert_int_equal(next, min);
    assert_icms_ok(icms_gapcoin_next_difficulty(ICMS_GAPCOIN_TEST, 0, 100000, &next));
    assert_int_equal(next, UINT64_C(1) << 48);
    assert_icms_ok(icms_gapcoin_next_difficulty(ICMS_GAPCOIN_MAIN, UINT64_MAX, 1, &next));
    assert_int_equal(next, UINT64_MAX);
    assert_icms(ICMS_EINVALID,
                icms_gapcoin_next_difficulty((icms_gapcoin_network_t)7, d, 150, &next));
    assert_icms(ICMS_EINVALID, icms_gapcoin_next_difficulty(ICMS_GAPCOIN_MAIN, d, 150, NULL));
}

/* Genesis and headers 1-9 laid end to end, optionally from index `from`. */
static uint8_t *chain_bytes(int from, int to, size_t *len)
{
    size_t n = 0;
    for (int i = from; i < to; i++)
        n += vecs[i].len;
    uint8_t *buf = malloc(n);
    n = 0;
    for (int i = from; i < to; i++) {
        memcpy(buf + n, vecs[i].bytes, vecs[i].len);
        n += vecs[i].len;
    }
    *len = n;
    return buf;
}

static void test_chain_of_real_headers(void **state)
{
    (void)state;
    load_vectors();
    size_t len;
    uint8_t *buf = chain_bytes(0, 10, &len);
    icms_gapcoin_chain_result res;
    assert_icms_ok(icms_gapcoin_chain_verify(buf, len, NULL, &res));
    assert_int_equal(res.count, 10);
    gap_assert_hash(res.tip, vecs[9].hash);
    uint64_t work = 0;
    for (int i = 0; i < 10; i++)
        work += vecs[i].achieved;
    assert_int_equal(res.total_work, work);
    free(buf);

    /* From block 1 at an unknown height: header 2's retarget cannot be checked, 3+ are. */
    buf = chain_bytes(1, 10, &len);
    assert_icms_ok(icms_gapcoin_chain_verify(buf, len, NULL, &res));
    assert_int_equal(res.count, 9);
    icms_gapcoin_chain_options opt = ICMS_GAPCOIN_CHAIN_OPTIONS_INIT;
    opt.first_height = 1;
    assert_icms_ok(icms_gapcoin_chain_verify(buf, len, &opt, &res));
    /* Height 0 is the genesis only. */
    opt.first_height = 0;
    assert_icms(ICMS_EINVALID, icms_gapcoin_chain_verify(buf, len, &opt, &res));
    assert_int_equal(res.failed_index, 0);
    assert_non_null(strstr(icms_error_last()->message, "genesis"));
    free(buf);

    /* The same through decoded structs. */
    icms_gapcoin_header hs[10];
    for (int i = 0; i < 10; i++)
        assert_icms_ok(icms_gapcoin_header_decode(vecs[i].bytes, vecs[i].len, &hs[i]));
    assert_icms_ok(icms_gapcoin_chain_verify_headers(hs, 10, NULL, &res));
    gap_assert_hash(res.tip, vecs[9].hash);

    /* Out of order: header 5 does not link. */
    icms_gapcoin_header tmp = hs[5];
    hs[5] = hs[6];
    hs[6] = tmp;
    assert_icms(ICMS_EINVALID, icms_gapcoin_chain_verify_headers(hs, 10, NULL, &res));
    assert_int_equal(res.failed_index, 5);
    assert_int_equal(res.count, 5);
    gap_assert_hash(res.tip, vecs[4].hash);
    assert_non_null(strstr(icms_error_last()->message, "header 5"));
    assert_non_null(strstr(icms_error_last()->message, "link"));
    hs[6] = hs[5];
    hs[5] = tmp;

    /* Fields edited without updating the hash are caught. */
    hs[7].time++;
    assert_icms(ICMS_EINVALID, icms_gapcoin_chain_verify_headers(hs, 10, NULL, &res));
    assert_int_equal(res.failed_index, 7);
    assert_non_null(strstr(icms_error_last()->message, "hash field"));

    /* A header with a time at the median of its predecessors. */
    hs[7].time = hs[3].time;
    assert_icms(ICMS_EINVALID, icms_gapcoin_chain_verify_headers(hs, 10, NULL, &res));
    assert_int_equal(res.failed_index, 7);
    assert_non_null(strstr(icms_error_last()->message, "median"));
    hs[7].time = (uint32_t)(hs[6].time + 1);
    /* With a later time and a recomputed hash, header 8 no longer links to it. */
    uint8_t *enc;
    size_t enc_len;
    assert_icms_ok(icms_gapcoin_header_encode(&hs[7], &enc, &enc_len));
    assert_icms_ok(icms_gapcoin_header_decode(enc, enc_len, &hs[7]));
    icms_free(enc);
    assert_icms(ICMS_EINVALID, icms_gapcoin_chain_verify_headers(hs, 10, NULL, &res));
    assert_true(res.failed_index == 7 || res.failed_index == 8);
    if (res.failed_index == 8)
        assert_non_null(strstr(icms_error_last()->message, "link"));

    /* Bad options and inputs. */
    icms_gapcoin_chain_options bad = ICMS_GAPCOIN_CHAIN_OPTIONS_INIT;
    bad.version = 2;
    assert_icms(ICMS_EVERSION, icms_gapcoin_chain_verify_headers(hs, 10, &bad, &res));
    bad.version = ICMS_GAPCOIN_CHAIN_OPTIONS_VERSION;
    bad.network = (icms_gapcoin_network_t)9;
    assert_icms(ICMS_EINVALID, icms_gapcoin_chain_verify_headers(hs, 10, &bad, &res));
    assert_icms(ICMS_EINVALID, icms_gapcoin_chain_verify_headers(hs, 0, NULL, &res));
    assert_icms(ICMS_EINVALID, icms_gapcoin_chain_verify(NULL, 0, NULL, &res));
    /* A genesis cannot sit at a later height. */
    opt.first_height = 3;
    assert_icms(ICMS_EINVALID, icms_gapcoin_chain_verify(vecs[0].bytes, vecs[0].len, &opt, &res));
}

static void test_chain_difficulty_and_truncation(void **state)
{
    (void)state;
    load_vectors();
    size_t len;
    uint8_t *buf = chain_bytes(0, 10, &len);
    /* Raise n_difficulty of header 6 by one: the retarget check names it. */
    size_t at = 0;
    for (int i = 0; i < 6; i++)
        at += vecs[i].len;
    buf[at + 72] ^= 1;
    icms_gapcoin_chain_result res;
    assert_icms(ICMS_EINVALID, icms_gapcoin_chain_verify(buf, len, NULL, &res));
    assert_int_equal(res.failed_index, 6);
    assert_non_null(strstr(icms_error_last()->message, "retarget"));
    buf[at + 72] ^= 1;
    /* Truncated in the last header. */
    assert_icms(ICMS_EINVALID, icms_gapcoin_chain_verify(buf, len - 1, NULL, &res));
    assert_int_equal(res.failed_index, 9);
    assert_int_equal(res.count, 9);
    /*
     * Changed bytes anywhere in the stream make the chain fail. Every byte of
     * the first two headers (the first only, under valgrind), then every 13th
     * (61st): each try re-verifies the PoW of the headers before it.
     */
    size_t dense = vecs[0].len + slow_stride(1, 0) * vecs[1].len;
    size_t sparse = slow_stride(13, 61);
    for (size_t k = 0; k < len; k += k < dense ? 1 : sparse) {
        buf[k] ^= 0x20;
        assert_icms(ICMS_EINVALID, icms_gapcoin_chain_verify(buf, len, NULL, &res));
        buf[k] ^= 0x20;
    }
    free(buf);
}

/* The real node's getblock JSON for blocks 1-9 agrees with the decoded headers and their PoW. */
static void test_agrees_with_node_getblock(void **state)
{
    (void)state;
    load_vectors();
    size_t len;
    char *text = icms_test_read_file(
        icms_test_data_path("gapcoin/getblock_mainnet_blocks_1_to_9.txt"), &len);
    const char *at = text;
    for (int height = 1; height <= 9; height++) {
        const char *end = NULL;
        cJSON *b = cJSON_ParseWithOpts(at, &end, 0);
        assert_non_null(b);
        at = end;
        assert_int_equal(gap_u64(b, "height"), height);
        icms_gapcoin_header h;
        icms_gapcoin_pow pow;
        assert_icms_ok(icms_gapcoin_header_verify(vecs[height].bytes, vecs[height].len, &h, &pow));
        gap_assert_hash(h.hash, gap_str(b, "hash"));
        gap_assert_hash(h.merkle_root, gap_str(b, "merkleroot"));
        gap_assert_hash(h.prev_hash, gap_str(b, "previousblockhash"));
        assert_int_equal(h.time, gap_u64(b, "time"));
        assert_int_equal(h.nonce, gap_u64(b, "nonce"));
        assert_int_equal(h.version, gap_u64(b, "version"));
        assert_int_equal(h.shift, gap_u64(b, "shift"));
        assert_int_equal(pow.gap, gap_u64(b, "gaplen"));
        /* The node prints nAdd as a decimal integer: the little-endian bytes' value. */
        uint64_t adder = 0;
        for (size_t i = h.adder_len; i-- > 0;)
            adder = adder << 8 | h.adder[i];
        assert_int_equal(adder, strtoull(gap_str(b, "adder"), NULL, 10));
        cJSON_Delete(b);
    }
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_genesis_header_fields),
        cmocka_unit_test(test_vector_pow_is_bit_exact),
        cmocka_unit_test(test_testnet_genesis),
        cmocka_unit_test(test_every_single_byte_change_fails),
        cmocka_unit_test(test_pow_rules),
        cmocka_unit_test(test_header_decode_rejects_malformed),
        cmocka_unit_test(test_retarget),
        cmocka_unit_test(test_chain_of_real_headers),
        cmocka_unit_test(test_chain_difficulty_and_truncation),
        cmocka_unit_test(test_agrees_with_node_getblock),
    };
    int rc = cmocka_run_group_tests(tests, gap_init, gap_shutdown);
    for (int i = 0; i < 10; i++)
        free(vecs[i].bytes);
    return rc;
}
